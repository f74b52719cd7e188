//! Revision files as they are at a git ref (a branch, tag or commit), read straight
//! from git objects: no checkout, no temporary files, the working tree untouched.
//!
//! The files are the ones the loader would list in a checkout of that ref (the same
//! walk rules: which names are revision files, hidden entries and `__pycache__`
//! skipped, subdirectories only where the format lists them, the models file left out),
//! and each is parsed by the same per-format reader the loader uses, from the blob's
//! bytes, under the same size limit. A git tree can hold what a working tree would
//! follow: symbolic links and submodules named like revision files are refused with a
//! problem naming them and never followed. Revisions get the paths the loader gives
//! the same files in the working tree, so the two sides can be matched by path.
//!
//! Alembic modules that import a value from another module resolve it in the working
//! tree (as the reader does), not at the ref.

use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use git2::{ObjectType, Oid, Repository};
use rayon::prelude::*;

use super::{join_git, CommitInfo, GitError, GitRepo};
use crate::core::{Problem, ProblemKind, Revision};
use crate::files::alembic::revisions as alembic_revisions;
use crate::files::blob::BlobId;
use crate::files::load::{self, MAX_FILE_BYTES, MODELS_FILE};
use crate::files::source::Source;
use crate::files::walk::Rules;

/// One revision file at a ref.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefFile {
    /// The path the loader gives the same file in the working tree.
    pub path: PathBuf,
    /// Repository-relative, `/`-separated.
    pub repo_path: String,
    /// The blob's id (full hex): equal ids mean byte-identical contents.
    pub blob: String,
}

/// The revision files of a project at one ref, parsed.
#[derive(Debug)]
pub struct RefRevisions {
    /// The ref as given.
    pub refname: String,
    /// The commit it names.
    pub commit: CommitInfo,
    /// Every revision file at the ref, in load order (parsed or not).
    pub files: Vec<RefFile>,
    /// The revisions read, in load order (origin paths as in [`RefFile::path`]).
    pub revisions: Vec<Revision>,
    /// Files that could not be read (each names the file, the ref and the line).
    pub problems: Vec<Problem>,
    /// Findings that don't stop a graph (an Alembic `Revises:` that disagrees).
    pub warnings: Vec<Problem>,
    /// With [`RefOptions::reuse`]: repository paths of the revision files whose
    /// working-tree contents differ from the ref (added, deleted or edited on either
    /// side, staged or not; by blob id). `None` when not computed.
    pub worktree_changed: Option<HashSet<String>>,
}

impl RefRevisions {
    /// The file at `path` (a loader path), if the ref has one there.
    pub fn file(&self, path: &Path) -> Option<&RefFile> {
        self.files.iter().find(|f| f.path == path)
    }
}

/// How [`GitRepo::revisions_at`] reads.
#[derive(Debug, Default, Clone, Copy)]
pub struct RefOptions<'a> {
    /// The revisions the loader read from the working tree: a file whose contents at
    /// the ref equal the working tree's (the same blob id) is taken from here instead
    /// of being parsed again, and [`RefRevisions::worktree_changed`] is filled in.
    pub reuse: Option<&'a [Revision]>,
    /// Beside `reuse`: the blob id of each revision's file as the loader read it
    /// ([`crate::files::source::Loaded::blobs`]); a revision without one has its file
    /// hashed when the ref has a file at its path.
    pub blobs: &'a [Option<BlobId>],
}

/// One directory to list at the ref: where it is, how the loader names its files.
struct DirSpec {
    /// The directory as the loader has it (relative to the working directory).
    dir: PathBuf,
    /// Repository-relative prefix, `/`-separated ("" for the root).
    prefix: String,
    rules: Rules,
    /// The YAML models file at the top is not a revision.
    skip_models: bool,
}

/// A file found by the tree walk, before reading.
struct Found {
    path: PathBuf,
    repo_path: String,
    oid: Oid,
}

impl GitRepo {
    /// The commit `refname` names (`origin/main`, a tag, `HEAD~2`, a commit id).
    pub fn commit_of(&self, refname: &str) -> Result<CommitInfo, GitError> {
        let commit = self.peel(refname)?;
        Ok(super::apply_mailmap(
            self.mailmap().as_ref(),
            &CommitInfo::from_commit(&commit),
        ))
    }

    fn peel(&self, refname: &str) -> Result<git2::Commit<'_>, GitError> {
        let unknown = |e: git2::Error| GitError::UnknownRef {
            name: load::excerpt(refname),
            message: e.message().to_owned(),
        };
        self.repo
            .revparse_single(refname)
            .and_then(|o| o.peel_to_commit())
            .map_err(unknown)
    }

    /// The revision files of `source` at `refname`, read from git objects and parsed
    /// with the loader's readers. A revision directory that does not exist at the ref
    /// gives no files (the project may be younger than the ref).
    pub fn revisions_at(
        &self,
        refname: &str,
        source: &Source,
        options: RefOptions<'_>,
    ) -> Result<RefRevisions, GitError> {
        let commit = self.peel(refname)?;
        let info = super::apply_mailmap(self.mailmap().as_ref(), &CommitInfo::from_commit(&commit));
        let tree = commit.tree().map_err(|e| self.error(e))?;
        let specs = self.dir_specs(source);
        let mut found = Vec::new();
        let mut problems = Vec::new();
        for spec in &specs {
            let sub = if spec.prefix.is_empty() {
                Some(tree.clone())
            } else {
                match tree.get_path(Path::new(&spec.prefix)) {
                    Ok(entry) if entry.kind() == Some(ObjectType::Tree) => Some(
                        entry
                            .to_object(&self.repo)
                            .and_then(|o| o.peel_to_tree())
                            .map_err(|e| self.error(e))?,
                    ),
                    Ok(_) => {
                        problems.push(refused(
                            &spec.dir,
                            refname,
                            "is not a directory at this ref; its files were not read",
                        ));
                        None
                    }
                    Err(_) => None,
                }
            };
            if let Some(sub) = sub {
                walk_tree(
                    &self.repo,
                    &sub,
                    spec,
                    "",
                    &spec.dir,
                    refname,
                    &mut found,
                    &mut problems,
                )
                .map_err(|e| self.error(e))?;
            }
        }

        let (worktree_changed, reusable) = match options.reuse {
            Some(revs) => {
                let (changed, reusable) = self.compare_worktree(&found, revs, options.blobs);
                (Some(changed), reusable)
            }
            None => (None, HashMap::new()),
        };

        // Read the blobs one by one (a repository is not shared between threads), then
        // parse in parallel.
        let odb = self.repo.odb().map_err(|e| self.error(e))?;
        let mut texts: Vec<Option<Result<String, String>>> = Vec::with_capacity(found.len());
        for f in &found {
            if reusable.contains_key(f.path.as_os_str()) {
                texts.push(None);
                continue;
            }
            texts.push(Some(read_blob(&odb, f.oid)));
        }
        let alembic = source.is_alembic();
        let parsed: Vec<Parsed> = found
            .par_iter()
            .zip(texts.into_par_iter())
            .map(|(f, text)| match text {
                None => {
                    let r = reusable
                        .get(f.path.as_os_str())
                        .expect("reusable files have no text");
                    Ok(((*r).clone(), None))
                }
                Some(Err(message)) => Err(vec![at_ref(
                    Problem::new(ProblemKind::InvalidFile, message).at(Some(f.path.clone()), None),
                    refname,
                )]),
                Some(Ok(text)) => parse(alembic, &f.path, &text)
                    .map_err(|ps| ps.into_iter().map(|p| at_ref(p, refname)).collect()),
            })
            .collect();

        let mut out = RefRevisions {
            refname: refname.to_owned(),
            commit: info,
            files: found
                .iter()
                .map(|f| RefFile {
                    path: f.path.clone(),
                    repo_path: f.repo_path.clone(),
                    blob: f.oid.to_string(),
                })
                .collect(),
            revisions: Vec::with_capacity(parsed.len()),
            problems,
            warnings: Vec::new(),
            worktree_changed,
        };
        for r in parsed {
            match r {
                Ok((rev, warning)) => {
                    out.revisions.push(rev);
                    out.warnings.extend(warning.map(|w| at_ref(w, refname)));
                }
                Err(ps) => out.problems.extend(ps),
            }
        }
        Ok(out)
    }

    /// The commit that added `repo_path` (with the blob it has at `refname`) in the
    /// history of `refname`, looking first at the commits `refname` has and HEAD does
    /// not; `None` if it can't be found.
    pub fn added_at_ref(&self, refname: &str, repo_path: &str) -> Option<CommitInfo> {
        let tip = self.peel(refname).ok()?;
        let path = Path::new(repo_path);
        let has =
            |c: &git2::Commit<'_>| c.tree().ok().and_then(|t| t.get_path(path).ok()).is_some();
        let head = self.repo.head().ok().and_then(|h| h.target());
        let mut passes = vec![true];
        if head.is_some() {
            passes.insert(0, false);
        }
        for everything in passes {
            let mut walk = self.repo.revwalk().ok()?;
            walk.push(tip.id()).ok()?;
            if let (false, Some(h)) = (everything, head) {
                let _ = walk.hide(h);
            }
            let _ = walk.set_sorting(git2::Sort::TOPOLOGICAL);
            for oid in walk.flatten() {
                let Ok(c) = self.repo.find_commit(oid) else {
                    continue;
                };
                if has(&c) && !c.parents().any(|p| has(&p)) {
                    return Some(super::apply_mailmap(
                        self.mailmap().as_ref(),
                        &CommitInfo::from_commit(&c),
                    ));
                }
            }
        }
        None
    }

    /// Remote-tracking branches (`refs/remotes/*`, not their `HEAD` aliases) whose tip
    /// has a file at `repo_path`, by short name (`origin/main`).
    pub fn remote_branches_with(&self, repo_path: &str) -> Result<Vec<String>, GitError> {
        let mut out = Vec::new();
        let refs = self
            .repo
            .references_glob("refs/remotes/*")
            .map_err(|e| self.error(e))?;
        for r in refs.flatten() {
            let Ok(name) = r.shorthand().map(str::to_owned) else {
                continue;
            };
            if name.ends_with("/HEAD") {
                continue;
            }
            let Ok(tree) = r.peel_to_tree() else { continue };
            if tree.get_path(Path::new(repo_path)).is_ok() {
                out.push(name);
            }
        }
        out.sort();
        Ok(out)
    }

    /// Whether `refname`'s tree has a file at `repo_path`.
    pub fn has_file_at(&self, refname: &str, repo_path: &str) -> Result<bool, GitError> {
        let tree = self.peel(refname)?.tree().map_err(|e| self.error(e))?;
        Ok(tree.get_path(Path::new(repo_path)).is_ok())
    }

    /// The commit where `a` and `b` (refs or commit ids) parted, if they share history.
    pub fn merge_base_of(&self, a: &str, b: &str) -> Result<Option<String>, GitError> {
        let (a, b) = (self.peel(a)?.id(), self.peel(b)?.id());
        match self.repo.merge_base(a, b) {
            Ok(oid) => Ok(Some(oid.to_string())),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(self.error(e)),
        }
    }

    /// The blob id of each of `repo_paths` that is a file in `refname`'s tree. Each
    /// directory's tree is looked up once (libgit2 does not cache a large tree, so a
    /// lookup per path would read a 10,000-entry directory again for every file).
    pub fn blobs_at(
        &self,
        refname: &str,
        repo_paths: &[&str],
    ) -> Result<HashMap<String, String>, GitError> {
        let tree = self.peel(refname)?.tree().map_err(|e| self.error(e))?;
        let mut dirs: HashMap<&str, Option<git2::Tree<'_>>> = HashMap::new();
        let mut out = HashMap::new();
        for &p in repo_paths {
            let (dir, name) = p.rsplit_once('/').unwrap_or(("", p));
            let sub = dirs.entry(dir).or_insert_with(|| {
                if dir.is_empty() {
                    return Some(tree.clone());
                }
                let entry = tree.get_path(Path::new(dir)).ok()?;
                entry.to_object(&self.repo).ok()?.into_tree().ok()
            });
            let Some(sub) = sub else { continue };
            if let Some(e) = sub.get_name(name) {
                if e.kind() == Some(ObjectType::Blob) {
                    out.insert(p.to_owned(), e.id().to_string());
                }
            }
        }
        Ok(out)
    }

    /// The blob id git would give the working-tree file `path` (its contents hashed).
    pub fn worktree_blob(&self, path: &Path) -> Option<String> {
        Oid::hash_file(ObjectType::Blob, path)
            .ok()
            .map(|o| o.to_string())
    }

    /// What to list for `source`: each revision directory with its rules.
    fn dir_specs(&self, source: &Source) -> Vec<DirSpec> {
        match source {
            Source::Yaml(dir) => vec![DirSpec {
                dir: dir.clone(),
                prefix: self.dir_prefix_of(dir),
                rules: load::YAML_RULES,
                skip_models: true,
            }],
            Source::Alembic(l) => l
                .dirs
                .iter()
                .map(|dir| DirSpec {
                    dir: dir.clone(),
                    prefix: self.dir_prefix_of(dir),
                    rules: alembic_revisions::rules(l.recursive),
                    skip_models: false,
                })
                .collect(),
        }
    }

    fn dir_prefix_of(&self, dir: &Path) -> String {
        self.relative_path(dir)
            .unwrap_or_else(|| self.dir_prefix.clone())
    }

    /// Compares the files found at the ref with the working tree's revisions by blob id:
    /// the repository paths whose contents differ (or that one side lacks), and the
    /// working-tree revision of each file the ref has unchanged.
    fn compare_worktree<'f, 'r>(
        &self,
        found: &'f [Found],
        revs: &'r [Revision],
        blobs: &[Option<BlobId>],
    ) -> (HashSet<String>, HashMap<&'f OsStr, &'r Revision>) {
        // Paths are matched by their bytes: both sides' are built the loader's way.
        let mut ours: HashMap<&OsStr, usize> = HashMap::with_capacity(revs.len());
        for (i, r) in revs.iter().enumerate() {
            if let Some(p) = r.origin.path.as_deref() {
                ours.insert(p.as_os_str(), i);
            }
        }
        let mut changed = HashSet::new();
        let mut reusable = HashMap::with_capacity(found.len());
        let mut at_ref: HashSet<&OsStr> = HashSet::with_capacity(found.len());
        for f in found {
            at_ref.insert(f.path.as_os_str());
            let same = ours.get(f.path.as_os_str()).is_some_and(|&i| {
                let known = blobs.get(i).copied().flatten();
                match known {
                    Some(b) => b.as_bytes() == f.oid.as_bytes(),
                    None => Oid::hash_file(ObjectType::Blob, &f.path).is_ok_and(|o| o == f.oid),
                }
            });
            if same {
                let i = ours[f.path.as_os_str()];
                reusable.insert(f.path.as_os_str(), &revs[i]);
            } else {
                changed.insert(f.repo_path.clone());
            }
        }
        for p in ours.keys() {
            if !at_ref.contains(p) {
                if let Some(rel) = self.relative_path(Path::new(p)) {
                    changed.insert(rel);
                }
            }
        }
        (changed, reusable)
    }
}

/// Lists the revision files under `tree` (the directory `dir` at the ref) in the
/// loader's order: files sorted by name, then subdirectories, depth first.
#[allow(clippy::too_many_arguments)]
fn walk_tree(
    repo: &Repository,
    tree: &git2::Tree<'_>,
    spec: &DirSpec,
    rel: &str,
    dir: &Path,
    refname: &str,
    found: &mut Vec<Found>,
    problems: &mut Vec<Problem>,
) -> Result<(), git2::Error> {
    let mut files: Vec<(Vec<u8>, Oid)> = Vec::new();
    let mut subdirs: Vec<(Vec<u8>, Oid)> = Vec::new();
    for entry in tree.iter() {
        let name = entry.name_bytes();
        let is_tree = entry.kind() == Some(ObjectType::Tree);
        if (spec.rules.skip)(name, is_tree) {
            continue;
        }
        let revision_name = (spec.rules.is_revision)(name);
        let shown = || dir.join(String::from_utf8_lossy(name).as_ref());
        match entry.filemode() {
            0o040000 => {
                if revision_name {
                    problems.push(refused(
                        &shown(),
                        refname,
                        "is a directory named like a revision file; refused: rename it",
                    ));
                } else if spec.rules.recursive {
                    subdirs.push((name.to_vec(), entry.id()));
                }
            }
            0o100644 | 0o100755 if revision_name => files.push((name.to_vec(), entry.id())),
            0o120000 if revision_name => problems.push(refused(
                &shown(),
                refname,
                "is a symbolic link; refused: revision files read from git are never followed through links (copy the file in instead)",
            )),
            0o160000 if revision_name => problems.push(refused(
                &shown(),
                refname,
                "is a submodule, not a revision file; refused",
            )),
            _ => {}
        }
    }
    files.sort_unstable();
    subdirs.sort_unstable();
    for (name, oid) in files {
        let name = String::from_utf8_lossy(&name).into_owned();
        if spec.skip_models && rel.is_empty() && name == MODELS_FILE {
            continue;
        }
        let sub_rel = format!("{rel}{name}");
        found.push(Found {
            path: dir.join(&name),
            repo_path: join_git(&spec.prefix, &sub_rel),
            oid,
        });
    }
    for (name, oid) in subdirs {
        let name = String::from_utf8_lossy(&name).into_owned();
        let sub = repo.find_tree(oid)?;
        walk_tree(
            repo,
            &sub,
            spec,
            &format!("{rel}{name}/"),
            &dir.join(&name),
            refname,
            found,
            problems,
        )?;
    }
    Ok(())
}

/// A blob's text, refused above the loader's size limit (checked before reading).
fn read_blob(odb: &git2::Odb<'_>, oid: Oid) -> Result<String, String> {
    let (size, _) = odb
        .read_header(oid)
        .map_err(|e| format!("can't read the file from git: {}", e.message()))?;
    if size as u64 > MAX_FILE_BYTES {
        return Err(format!(
            "the file is larger than {} MiB; refused",
            MAX_FILE_BYTES >> 20
        ));
    }
    let obj = odb
        .read(oid)
        .map_err(|e| format!("can't read the file from git: {}", e.message()))?;
    load::text_from_bytes(obj.data().to_vec(), MAX_FILE_BYTES)
}

/// A file's revision and warning, or its problems.
type Parsed = Result<(Revision, Option<Problem>), Vec<Problem>>;

/// One file's text parsed by its format's reader.
fn parse(alembic: bool, path: &Path, text: &str) -> Parsed {
    if alembic {
        alembic_revisions::parse_module(path, text).map(|m| (m.revision, m.warning))
    } else {
        load::parse_revision(path, text)
            .map(|r| (r, None))
            .map_err(|p| vec![p])
    }
}

/// A problem found reading the ref: its message says which ref.
fn at_ref(mut p: Problem, refname: &str) -> Problem {
    p.message = format!("(at {}) {}", load::excerpt(refname), p.message);
    p
}

fn refused(path: &Path, refname: &str, what: &str) -> Problem {
    at_ref(
        Problem::new(ProblemKind::InvalidFile, what.to_owned()).at(Some(path.to_path_buf()), None),
        refname,
    )
}
