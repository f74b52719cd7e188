//! `check --base REF [--head REF2]`: the graph this side and `REF` make once merged,
//! read from git objects (no checkout), and the problems only the merge shows: more
//! than one head (which side added each, its author and commit), a branch started from
//! an old head, a revision added on both sides, a shared revision edited or deleted, a
//! branch label defined on both sides.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use migrate::core::premerge::{self, MergedSides, PathState, Side};
use migrate::core::{Problem, ProblemKind, Revision, RevisionGraph};
use migrate::files::blob::BlobId;
use migrate::git::{Authorship, CommitInfo, FileStatus, GitRepo, RefOptions, RefRevisions};
use serde::Serialize;

use super::context::Context;
use super::output::Failure;

/// This side of the merge: its revisions, the problems reading them, and where they came from.
pub struct OurSide {
    pub revisions: Vec<Revision>,
    pub problems: Vec<Problem>,
    pub warnings: Vec<Problem>,
    /// Git's blob id of each revision's file, beside `revisions` (working tree only).
    pub blobs: Vec<Option<BlobId>>,
    /// `--head REF2`: read from git (else the working tree).
    pub at_ref: Option<RefRevisions>,
}

/// What `check --base` found.
pub struct Premerge {
    /// Problems of the merge, each with file and line where there is one.
    problems: Vec<Problem>,
    /// Why the merged graph does not build (see [`Premerge::problems`]).
    graph_problems: Vec<Problem>,
    /// How to fix them, for stderr (text) or the JSON `hints`.
    pub hints: Vec<String>,
    /// The merged graph (this side's files, then those only the base has), when it
    /// builds.
    pub merged: Option<RevisionGraph>,
    /// The other side brings no revision of its own: the merged revisions are this
    /// side's (moved out of [`OurSide::revisions`]), so [`Premerge::merged`] is this
    /// side's graph too (see [`Premerge::take_ours`]).
    merged_is_ours: bool,
    merged_built: bool,
    pub base: BaseJson,
}

/// The other side, as `check --format json` shows it.
#[derive(Debug, Serialize)]
pub struct BaseJson {
    #[serde(rename = "ref")]
    pub refname: String,
    pub commit: String,
    /// Its heads on its own.
    pub heads: Vec<String>,
    /// The heads of the merged graph (empty when it does not build).
    pub merged_heads: Vec<MergedHead>,
}

#[derive(Debug, Serialize)]
pub struct MergedHead {
    pub revision: String,
    pub side: Side,
    pub path: Option<PathBuf>,
    pub author_name: Option<String>,
    pub author_email: Option<String>,
    pub commit: Option<String>,
}

/// Opens the repository holding the project's revisions; `check --base` needs one.
pub fn repo(ctx: &Context) -> Result<GitRepo, Failure> {
    GitRepo::discover(ctx.source.primary_dir()).ok_or_else(|| {
        Failure::new(format!(
            "--base compares with a git ref, but no git repository holds {}",
            ctx.source.primary_dir().display()
        ))
    })
}

/// Reads this side: the working tree, or `head` from git.
pub fn our_side(ctx: &Context, repo: &GitRepo, head: Option<&str>) -> Result<OurSide, Failure> {
    match head {
        None => {
            let loaded = ctx.source.load()?;
            Ok(OurSide {
                revisions: loaded.revisions,
                problems: loaded.problems,
                warnings: loaded.warnings,
                blobs: loaded.blobs,
                at_ref: None,
            })
        }
        Some(h) => {
            let mut r = repo
                .revisions_at(h, &ctx.source, RefOptions::default())
                .map_err(|e| Failure::new(e.to_string()))?;
            Ok(OurSide {
                revisions: std::mem::take(&mut r.revisions),
                problems: std::mem::take(&mut r.problems),
                warnings: std::mem::take(&mut r.warnings),
                blobs: Vec::new(),
                at_ref: Some(r),
            })
        }
    }
}

/// Compares this side with `base`. When `base` brings no revision of its own, this
/// side's revisions are moved into the merged graph (take it with
/// [`Premerge::take_ours`]): the graph is built once.
pub fn check(
    ctx: &Context,
    repo: &GitRepo,
    base: &str,
    ours: &mut OurSide,
) -> Result<Premerge, Failure> {
    let git = |e: migrate::git::GitError| Failure::new(e.to_string());
    let reuse = ours.at_ref.is_none().then_some(ours.revisions.as_slice());
    let theirs = repo
        .revisions_at(
            base,
            &ctx.source,
            RefOptions {
                reuse,
                blobs: &ours.blobs,
            },
        )
        .map_err(git)?;
    let head_ref = ours
        .at_ref
        .as_ref()
        .map_or("HEAD".to_owned(), |r| r.commit.id.clone());
    let ancestor = if repo.head_commit().is_some() || ours.at_ref.is_some() {
        repo.merge_base_of(base, &head_ref).map_err(git)?
    } else {
        None
    };
    let states = path_states(repo, ours, &theirs, ancestor.as_deref())?;
    let mut merged = premerge::merge_sides(
        &ours.revisions,
        &theirs.revisions,
        |p: &Path| {
            states
                .get(p.as_os_str())
                .copied()
                .unwrap_or(PathState::Same)
        },
        base,
    );
    let mut problems = merged.problems.clone();
    // Files the other side added that can't be read are the merge's problems too.
    let our_paths: HashSet<&OsStr> = ours_paths(ours).map(Path::as_os_str).collect();
    problems.extend(
        theirs
            .problems
            .iter()
            .filter(|p| {
                p.path
                    .as_deref()
                    .is_none_or(|path| !our_paths.contains(path.as_os_str()))
            })
            .cloned(),
    );

    let mut graph_problems = Vec::new();
    let mut base_json = BaseJson {
        refname: base.to_owned(),
        commit: theirs.commit.id.clone(),
        heads: merged.theirs_heads.clone(),
        merged_heads: Vec::new(),
    };
    let merged_is_ours = merged.theirs_only.is_empty();
    let merged_revisions = if merged_is_ours {
        std::mem::take(&mut ours.revisions)
    } else {
        merged.revisions(ours.revisions.clone())
    };
    let mut merged_graph = None;
    match RevisionGraph::build(merged_revisions) {
        Ok(graph) => {
            let heads = premerge::merged_heads(&graph, &merged);
            if !heads.is_empty() {
                let described = describe_heads(ctx, repo, base, ours, &theirs, &graph, &heads);
                let all: Vec<&str> = heads.iter().map(|&(h, _)| graph.id(h)).collect();
                for (h, d) in described {
                    let rev = graph.revision(h);
                    let others: Vec<&str> = all
                        .iter()
                        .copied()
                        .filter(|&o| o != rev.id.as_str())
                        .collect();
                    problems.push(
                        Problem::new(
                            ProblemKind::HeadsAfterMerge,
                            format!(
                                "merged with {base} the graph has {} heads: {} (added {}) and {}",
                                heads.len(),
                                rev.id,
                                d.describe(base),
                                others.join(", ")
                            ),
                        )
                        .at(rev.origin.path.clone(), rev.origin.revision_line)
                        .revisions([rev.id.to_string()]),
                    );
                    base_json.merged_heads.push(d.json(rev));
                }
            }
            merged_graph = Some(graph);
        }
        Err(e) => graph_problems = e.0,
    }
    let hints = hints(base, &merged, &problems);
    Ok(Premerge {
        problems,
        graph_problems,
        hints,
        merged_is_ours,
        merged_built: merged_graph.is_some(),
        merged: merged_graph,
        base: base_json,
    })
}

impl Premerge {
    /// Whether the merged revisions make a valid graph.
    pub fn merged_builds(&self) -> bool {
        self.merged_built
    }

    /// This side's own graph (or why it does not build) when the merged revisions are
    /// this side's: taken, so it is built once. `None`: build it from
    /// [`OurSide::revisions`].
    pub fn take_ours(&mut self) -> Option<Result<RevisionGraph, Vec<Problem>>> {
        if !self.merged_is_ours {
            return None;
        }
        Some(match self.merged.take() {
            Some(graph) => Ok(graph),
            None => Err(self.graph_problems.clone()),
        })
    }

    /// The merged graph, or every problem that kept it from building.
    pub fn into_graph(self) -> Result<RevisionGraph, Failure> {
        self.merged.ok_or(Failure::Problems(self.graph_problems))
    }

    /// Every problem of the merge; those the merged graph shares with this side's own
    /// graph (`ordinary`, already reported) are left out.
    pub fn problems(&self, ordinary: &[Problem]) -> Vec<Problem> {
        let covered = |p: &Problem| {
            matches!(
                p.kind,
                ProblemKind::DuplicateRevision | ProblemKind::DuplicateBranchLabel
            ) || ordinary.iter().any(|o| {
                o.kind == p.kind && o.path == p.path && o.line == p.line && o.message == p.message
            })
        };
        let mut out = self.problems.clone();
        for p in self.graph_problems.iter().filter(|p| !covered(p)) {
            let mut p = p.clone();
            p.message = format!("merged with {}: {}", self.base.refname, p.message);
            out.push(p);
        }
        out
    }
}

fn hints(base: &str, merged: &MergedSides, problems: &[Problem]) -> Vec<String> {
    let mut out = Vec::new();
    let heads = problems.iter().any(|p| {
        matches!(
            p.kind,
            ProblemKind::HeadsAfterMerge | ProblemKind::BranchedFromOldHead
        )
    });
    if heads {
        let onto = merged
            .theirs_heads
            .first()
            .cloned()
            .unwrap_or_else(|| "<head>".to_owned());
        out.push(format!(
            "run `migrate rebase --onto {onto} --base {base}` to put this branch's revisions after {base}'s head (`migrate conflicts --base {base}` says whether the two sides touch the same objects)"
        ));
        out.push(
            "or, after merging, run `migrate merge` to join the heads with a merge revision"
                .to_owned(),
        );
    }
    if problems.iter().any(|p| {
        matches!(
            p.kind,
            ProblemKind::EditedSharedRevision | ProblemKind::DeletedSharedRevision
        )
    }) {
        out.push(format!(
            "restore revisions {base} has with `git checkout {base} -- <file>` and write a new revision for the change"
        ));
    }
    out
}

fn ours_paths(ours: &OurSide) -> impl Iterator<Item = &Path> {
    ours.revisions
        .iter()
        .filter_map(|r| r.origin.path.as_deref())
        .chain(ours.problems.iter().filter_map(|p| p.path.as_deref()))
}

/// What happened to each file on each side since they parted (`ancestor`), by path
/// (its bytes: both sides' paths are the loader's).
fn path_states<'a>(
    repo: &GitRepo,
    ours: &'a OurSide,
    theirs: &'a RefRevisions,
    ancestor: Option<&str>,
) -> Result<HashMap<&'a OsStr, PathState>, Failure> {
    let git = |e: migrate::git::GitError| Failure::new(e.to_string());
    let theirs_files: HashMap<&OsStr, (&str, &str)> = theirs
        .files
        .iter()
        .map(|f| (f.path.as_os_str(), (f.repo_path.as_str(), f.blob.as_str())))
        .collect();
    // Each of our files: its repository path and its blob (`None`: the same as theirs).
    let mut our_files: HashMap<&OsStr, (Cow<'_, str>, Option<String>)> = HashMap::new();
    match &ours.at_ref {
        Some(r) => {
            for f in &r.files {
                our_files.insert(
                    f.path.as_os_str(),
                    (Cow::Borrowed(f.repo_path.as_str()), Some(f.blob.clone())),
                );
            }
        }
        None => {
            let changed = theirs.worktree_changed.as_ref();
            let known: HashMap<&OsStr, BlobId> = ours
                .revisions
                .iter()
                .zip(&ours.blobs)
                .filter_map(|(r, b)| Some((r.origin.path.as_deref()?.as_os_str(), (*b)?)))
                .collect();
            for p in ours_paths(ours) {
                let key = p.as_os_str();
                // Unchanged files have the same repository path as theirs.
                let rel = match (changed, theirs_files.get(key)) {
                    (Some(c), Some(&(rel, _))) if !c.contains(rel) => {
                        our_files.insert(key, (Cow::Borrowed(rel), None));
                        continue;
                    }
                    _ => match repo.relative_path(p) {
                        Some(rel) => rel,
                        None => continue,
                    },
                };
                let blob = match known.get(key) {
                    Some(b) => b.to_hex(),
                    None => repo.worktree_blob(p).unwrap_or_default(),
                };
                our_files.insert(key, (Cow::Owned(rel), Some(blob)));
            }
        }
    }
    // The ancestor's blobs, only for the files that differ.
    let mut wanted: Vec<&str> = Vec::new();
    for (p, (rel, blob)) in &our_files {
        let same = theirs_files
            .get(p)
            .is_some_and(|(_, tb)| blob.as_deref().is_none_or(|b| b == *tb));
        if !same {
            wanted.push(rel);
        }
    }
    for (p, (rel, _)) in &theirs_files {
        if !our_files.contains_key(p) {
            wanted.push(rel);
        }
    }
    let anc = match ancestor {
        Some(a) if !wanted.is_empty() => repo.blobs_at(a, &wanted).map_err(git)?,
        _ => HashMap::new(),
    };
    let mut out = HashMap::with_capacity(our_files.len() + theirs_files.len());
    for (p, (rel, blob)) in &our_files {
        let t = theirs_files.get(p).map(|(_, b)| *b);
        let o = blob.as_deref().or(t).unwrap_or("");
        out.insert(
            *p,
            from_blobs(Some(o), t, anc.get(rel.as_ref()).map(String::as_str)),
        );
    }
    for (p, (rel, b)) in &theirs_files {
        if !our_files.contains_key(p) {
            out.insert(
                *p,
                from_blobs(None, Some(b), anc.get(*rel).map(String::as_str)),
            );
        }
    }
    Ok(out)
}

/// The state of a file from its blob on each side and at the merge base.
fn from_blobs(ours: Option<&str>, theirs: Option<&str>, ancestor: Option<&str>) -> PathState {
    match (ours, theirs) {
        (Some(o), Some(t)) if o == t => PathState::Same,
        (Some(o), Some(t)) => match ancestor {
            None => PathState::BothAdded,
            Some(a) if a == t => PathState::OursEdited,
            Some(a) if a == o => PathState::TheirsEdited,
            Some(_) => PathState::BothEdited,
        },
        (Some(_), None) if ancestor.is_some() => PathState::TheirsDeleted,
        (Some(_), None) => PathState::OursAdded,
        (None, Some(_)) if ancestor.is_some() => PathState::OursDeleted,
        (None, Some(_)) => PathState::TheirsAdded,
        (None, None) => PathState::Same,
    }
}

/// Who added one merged head, and on which side.
struct HeadAuthor {
    side: Side,
    commit: Option<CommitInfo>,
    uncommitted: bool,
}

impl HeadAuthor {
    fn describe(&self, base: &str) -> String {
        let side = match self.side {
            Side::Ours => "on this side".to_owned(),
            Side::Theirs => format!("on {base}"),
            Side::Both => "on both sides".to_owned(),
        };
        match &self.commit {
            Some(c) => format!(
                "{side} by {} <{}> on {}, commit {}",
                c.author_name,
                c.author_email,
                c.authored_at.format("%Y-%m-%d"),
                c.short_id()
            ),
            None if self.uncommitted => format!("{side}, not committed yet"),
            None => format!("{side}, author unknown"),
        }
    }

    fn json(&self, rev: &Revision) -> MergedHead {
        MergedHead {
            revision: rev.id.to_string(),
            side: self.side,
            path: rev.origin.path.clone(),
            author_name: self.commit.as_ref().map(|c| c.author_name.clone()),
            author_email: self.commit.as_ref().map(|c| c.author_email.clone()),
            commit: self.commit.as_ref().map(|c| c.id.clone()),
        }
    }
}

fn describe_heads(
    ctx: &Context,
    repo: &GitRepo,
    base: &str,
    ours: &OurSide,
    theirs: &RefRevisions,
    graph: &RevisionGraph,
    heads: &[(migrate::core::Ix, Side)],
) -> Vec<(migrate::core::Ix, HeadAuthor)> {
    let needs_worktree = ours.at_ref.is_none() && heads.iter().any(|(_, s)| *s != Side::Theirs);
    let authorship = if needs_worktree {
        super::authorship::load(ctx)
    } else {
        Authorship::unknown()
    };
    heads
        .iter()
        .map(|&(h, side)| {
            let rev = graph.revision(h);
            let path = rev.origin.path.as_deref();
            let rel = path.and_then(|p| repo.relative_path(p));
            let (commit, uncommitted) = match (side, &ours.at_ref, path) {
                (Side::Theirs, _, Some(p)) => {
                    let rel = theirs.file(p).map(|f| f.repo_path.clone()).or(rel);
                    (rel.and_then(|r| repo.added_at_ref(base, &r)), false)
                }
                (_, Some(head), Some(_)) => (
                    rel.and_then(|r| repo.added_at_ref(&head.commit.id, &r)),
                    false,
                ),
                (_, None, Some(p)) => {
                    let a = authorship.for_file(p);
                    (a.added, a.status == FileStatus::Uncommitted)
                }
                _ => (None, false),
            };
            (
                h,
                HeadAuthor {
                    side,
                    commit,
                    uncommitted,
                },
            )
        })
        .collect()
}
