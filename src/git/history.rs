//! The one pass over history that finds, for every revision file, the commit that
//! added it and the last commit that changed it.
//!
//! Commits are read oldest first (topological order), each diffed against its first
//! parent inside the revisions directory only, with rename detection. A merge that is
//! identical to one of its other parents there, or whose change to a file is exactly
//! what another parent already had, brings nothing new: the change is credited to the
//! branch commit that made it, as `git log` does. The diffs are independent of each
//! other, so they run in parallel; applying them to the path map is sequential.

use std::collections::HashMap;
use std::path::Path;

use git2::{Delta, DiffFindOptions, DiffOptions, Oid, Repository, Sort, Tree};
use rayon::prelude::*;

use super::cache::{self, State};
use super::rawtree::{self, RawChange, TreeCache};
use super::{join_git, Authorship, CommitInfo, FileStatus, GitRepo, LoadOptions};

/// One file-level change a commit made inside the revisions directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Change {
    Added(String),
    Modified(String),
    Deleted(String),
    Renamed { from: String, to: String },
}

/// What one commit did inside the revisions directory, if anything.
type CommitChanges = Option<(CommitInfo, Vec<Change>)>;

/// Below this many new commits the diffs run on this thread: no pool, no reopening.
const PARALLEL_FROM: usize = 64;

pub(super) fn compute(repo: GitRepo, options: LoadOptions) -> Authorship {
    // libgit2 re-hashes every object it reads (SHA-1 with collision detection): three
    // quarters of the history pass on a large directory, and much of `status`. `git`
    // doesn't verify on read either; objects are checked when they enter the
    // repository (fetch, fsck). Authorship only reads.
    git2::opts::strict_hash_verification(false);
    let mut warnings = Vec::new();
    let shallow = read_shallow(repo.repo.path(), repo.repo.commondir());
    let head = repo
        .repo
        .head()
        .ok()
        .and_then(|h| h.peel_to_commit().ok())
        .map(|c| c.id());

    let mut state = State::default();
    if let Some(head) = head {
        let cached = if options.use_cache {
            match cache::load(&repo, &shallow) {
                Ok(c) => c,
                Err(w) => {
                    warnings.push(w);
                    None
                }
            }
        } else {
            None
        };
        let mut hide = None;
        if let Some((at, cached_state)) = cached {
            let usable = at == head || repo.repo.graph_descendant_of(head, at).unwrap_or(false);
            if usable {
                state = cached_state;
                hide = Some(at);
            }
        }
        if hide != Some(head) {
            match walk(&repo, head, hide, &mut state) {
                Ok(()) => {
                    if options.use_cache {
                        if let Err(w) = cache::save(&repo, head, &shallow, &state) {
                            warnings.push(w);
                        }
                    }
                }
                Err(e) => warnings.push(format!(
                    "warning: could not read git history in {}: {}; authorship may be incomplete",
                    repo.workdir.display(),
                    e.message()
                )),
            }
        }
    }

    let dirty = match working_tree_status(&repo, &mut state) {
        Ok(d) => d,
        Err(e) => {
            warnings.push(format!(
                "warning: could not read git status in {}: {}",
                repo.workdir.display(),
                e.message()
            ));
            HashMap::new()
        }
    };

    let commits = map_authors(&repo, state.commits);
    Authorship {
        repo: Some(repo),
        files: state.files,
        commits,
        dirty,
        shallow,
        warnings,
    }
}

/// Maps every commit's author through `.mailmap`, resolving each identity once.
fn map_authors(repo: &GitRepo, mut commits: Vec<CommitInfo>) -> Vec<CommitInfo> {
    let Some(mailmap) = repo.mailmap() else {
        return commits;
    };
    let mut seen: HashMap<(String, String), (String, String)> = HashMap::new();
    for c in &mut commits {
        let key = (
            std::mem::take(&mut c.author_name),
            std::mem::take(&mut c.author_email),
        );
        let (name, email) = seen
            .entry(key)
            .or_insert_with_key(|(name, email)| {
                let raw = CommitInfo {
                    author_name: name.clone(),
                    author_email: email.clone(),
                    ..CommitInfo::default()
                };
                let mapped = super::apply_mailmap(Some(&mailmap), &raw);
                (mapped.author_name, mapped.author_email)
            })
            .clone();
        c.author_name = name;
        c.author_email = email;
    }
    commits
}

/// Reads the commits of HEAD not reachable from `hide`, oldest first, and applies them.
fn walk(
    repo: &GitRepo,
    head: Oid,
    hide: Option<Oid>,
    state: &mut State,
) -> Result<(), git2::Error> {
    let mut revwalk = repo.repo.revwalk()?;
    revwalk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)?;
    revwalk.push(head)?;
    if let Some(h) = hide {
        revwalk.hide(h)?;
    }
    let oids: Vec<Oid> = revwalk.collect::<Result<_, _>>()?;
    let prefix = repo.dir_prefix.as_str();

    let per_commit: Vec<Result<CommitChanges, git2::Error>> = if oids.len() < PARALLEL_FROM {
        let odb = repo.repo.odb()?;
        let mut cache = TreeCache::new();
        oids.iter()
            .map(|&oid| commit_changes(&repo.repo, &odb, &mut cache, oid, prefix))
            .collect()
    } else {
        // Contiguous chunks, so a commit's parent tree is usually still in the cache.
        let git_dir = repo.repo.path().to_path_buf();
        let chunk = oids.len().div_ceil(rayon::current_num_threads() * 4).max(1);
        let parts: Vec<Vec<Result<CommitChanges, git2::Error>>> = oids
            .par_chunks(chunk)
            .map(|part| {
                let repo = match Repository::open(&git_dir) {
                    Ok(r) => r,
                    Err(e) => return vec![Err(e)],
                };
                let odb = match repo.odb() {
                    Ok(o) => o,
                    Err(e) => return vec![Err(e)],
                };
                let mut cache = TreeCache::new();
                part.iter()
                    .map(|&oid| commit_changes(&repo, &odb, &mut cache, oid, prefix))
                    .collect()
            })
            .collect();
        parts.into_iter().flatten().collect()
    };

    for result in per_commit {
        if let Some((info, changes)) = result? {
            let ix = u32::try_from(state.commits.len()).expect("fewer than 2^32 commits");
            state.commits.push(info);
            for change in changes {
                apply(state, ix, change);
            }
        }
    }
    Ok(())
}

/// Applies one change made by commit `ix` to the path map.
pub(super) fn apply(state: &mut State, ix: u32, change: Change) {
    match change {
        Change::Added(p) | Change::Modified(p) => {
            state
                .files
                .entry(p)
                .and_modify(|e| e.1 = ix)
                .or_insert((ix, ix));
        }
        Change::Deleted(p) => {
            state.files.remove(&p);
        }
        Change::Renamed { from, to } => {
            let added = state.files.remove(&from).map_or(ix, |e| e.0);
            state.files.insert(to, (added, ix));
        }
    }
}

/// The revisions directory's tree in `tree`, if it exists there.
pub(super) fn dir_tree<'r>(repo: &'r Repository, tree: Tree<'r>, prefix: &str) -> Option<Tree<'r>> {
    if prefix.is_empty() {
        return Some(tree);
    }
    let entry = tree.get_path(Path::new(prefix)).ok()?;
    if entry.kind() != Some(git2::ObjectType::Tree) {
        return None;
    }
    repo.find_tree(entry.id()).ok()
}

/// The changes `oid` made inside the revisions directory, with its author; `None`
/// when it changed nothing there (or only brought in what a merged parent had).
fn commit_changes<'o>(
    repo: &Repository,
    odb: &'o git2::Odb<'_>,
    cache: &mut TreeCache<'o>,
    oid: Oid,
    prefix: &str,
) -> Result<CommitChanges, git2::Error> {
    let commit = repo.find_commit(oid)?;
    let new_id = dir_tree_id(repo, commit.tree_id(), prefix)?;
    let mut parent_ids = Vec::with_capacity(commit.parent_count());
    for parent in commit.parents() {
        parent_ids.push(dir_tree_id(repo, parent.tree_id(), prefix)?);
    }
    match parent_ids.split_first() {
        Some((first, _)) if *first == new_id => return Ok(None),
        Some((_, others)) if others.contains(&new_id) => return Ok(None),
        None if new_id.is_none() => return Ok(None),
        _ => {}
    }
    // The common case, one parent (or none): the raw tree diff, exact renames paired.
    if parent_ids.len() <= 1 {
        let base = if prefix.is_empty() {
            String::new()
        } else {
            format!("{prefix}/")
        };
        let mut raw = Vec::new();
        rawtree::diff(
            odb,
            cache,
            parent_ids.first().copied().flatten(),
            new_id,
            &base,
            &mut raw,
        )?;
        if let Some(changes) = pair_exact_renames(raw) {
            if changes.is_empty() {
                return Ok(None);
            }
            return Ok(Some((CommitInfo::from_commit(&commit), changes)));
        }
    }
    // Merges, and adds with deletes that may be edited renames: libgit2's diff.
    let new = dir_tree(repo, commit.tree()?, prefix);
    let mut parent_trees = Vec::with_capacity(commit.parent_count());
    for parent in commit.parents() {
        parent_trees.push(dir_tree(repo, parent.tree()?, prefix));
    }
    let new_id = new.as_ref().map(Tree::id);
    let same = |t: &Option<Tree<'_>>| t.as_ref().map(Tree::id) == new_id;
    // Unchanged against the first parent, or identical to a merged parent: nothing new.
    match parent_trees.split_first() {
        Some((first, _)) if same(first) => return Ok(None),
        Some((_, others)) if others.iter().any(same) => return Ok(None),
        None if new.is_none() => return Ok(None),
        _ => {}
    }
    let first = parent_trees.first().and_then(Option::as_ref);
    let mut opts = DiffOptions::new();
    opts.skip_binary_check(true);
    let mut diff = repo.diff_tree_to_tree(first, new.as_ref(), Some(&mut opts))?;
    let mut find = DiffFindOptions::new();
    find.renames(true);
    diff.find_similar(Some(&mut find))?;

    let others: Vec<&Tree<'_>> = parent_trees.iter().skip(1).flatten().collect();
    let mut changes = Vec::new();
    for delta in diff.deltas() {
        let old_path = delta.old_file().path().map(super::git_path);
        let new_path = delta.new_file().path().map(super::git_path);
        let new_oid = delta.new_file().id();
        // In a merge, a file exactly as another parent had it came from that parent.
        let from_other = |rel: &str| {
            others
                .iter()
                .any(|t| t.get_path(Path::new(rel)).is_ok_and(|e| e.id() == new_oid))
        };
        let change = match (delta.status(), old_path, new_path) {
            (Delta::Added | Delta::Copied, _, Some(n)) => {
                if from_other(&n) {
                    continue;
                }
                Change::Added(join_git(prefix, &n))
            }
            (Delta::Modified | Delta::Typechange, _, Some(n)) => {
                if from_other(&n) {
                    continue;
                }
                Change::Modified(join_git(prefix, &n))
            }
            (Delta::Renamed, Some(o), Some(n)) => {
                if from_other(&n) {
                    continue;
                }
                Change::Renamed {
                    from: join_git(prefix, &o),
                    to: join_git(prefix, &n),
                }
            }
            (Delta::Deleted, Some(o), _) => {
                if !others.is_empty() && others.iter().any(|t| t.get_path(Path::new(&o)).is_err()) {
                    continue;
                }
                Change::Deleted(join_git(prefix, &o))
            }
            _ => continue,
        };
        changes.push(change);
    }
    if changes.is_empty() {
        return Ok(None);
    }
    Ok(Some((CommitInfo::from_commit(&commit), changes)))
}

/// The revisions directory's tree id under root tree `root`, if it exists there.
fn dir_tree_id(repo: &Repository, root: Oid, prefix: &str) -> Result<Option<Oid>, git2::Error> {
    if prefix.is_empty() {
        return Ok(Some(root));
    }
    let tree = repo.find_tree(root)?;
    Ok(match tree.get_path(Path::new(prefix)) {
        Ok(e) if e.kind() == Some(git2::ObjectType::Tree) => Some(e.id()),
        _ => None,
    })
}

/// Turns raw changes into path changes, pairing a delete and an add of the same blob
/// as a rename. `None` when adds and deletes remain unpaired: they may be renames with
/// edits, which need similarity detection.
fn pair_exact_renames(raw: Vec<RawChange>) -> Option<Vec<Change>> {
    let mut deleted: HashMap<Oid, Vec<String>> = HashMap::new();
    let mut out = Vec::new();
    let mut adds = Vec::new();
    for c in raw {
        match c {
            RawChange::Deleted { path, oid } => deleted.entry(oid).or_default().push(path),
            RawChange::Added { path, oid } => adds.push((path, oid)),
            RawChange::Modified { path } => out.push(Change::Modified(path)),
        }
    }
    let mut unpaired_adds = false;
    for (path, oid) in adds {
        match deleted.get_mut(&oid).and_then(Vec::pop) {
            Some(from) => out.push(Change::Renamed { from, to: path }),
            None => {
                unpaired_adds = true;
                out.push(Change::Added(path));
            }
        }
    }
    let rest: Vec<String> = deleted.into_values().flatten().collect();
    if unpaired_adds && !rest.is_empty() {
        return None;
    }
    out.extend(rest.into_iter().map(Change::Deleted));
    Some(out)
}

/// Working-tree differences from HEAD inside the revisions directory: new files are
/// `uncommitted`, changed ones `modified`; a file renamed but not yet committed keeps
/// the authorship of its old path (and is `modified`).
fn working_tree_status(
    repo: &GitRepo,
    state: &mut State,
) -> Result<HashMap<String, FileStatus>, git2::Error> {
    use git2::Status;
    let mut opts = git2::StatusOptions::new();
    opts.include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false)
        .renames_head_to_index(true)
        .renames_index_to_workdir(true);
    if !repo.dir_prefix.is_empty() {
        opts.pathspec(&repo.dir_prefix);
    }
    let statuses = repo.repo.statuses(Some(&mut opts))?;
    let mut dirty = HashMap::new();
    for entry in statuses.iter() {
        let s = entry.status();
        // Where the file is now, and where HEAD had it.
        let h2i = entry.head_to_index();
        let i2w = entry.index_to_workdir();
        let now = i2w
            .as_ref()
            .and_then(|d| d.new_file().path())
            .or_else(|| h2i.as_ref().and_then(|d| d.new_file().path()))
            .map(super::git_path);
        let in_head = h2i
            .as_ref()
            .and_then(|d| d.old_file().path())
            .or_else(|| i2w.as_ref().and_then(|d| d.old_file().path()))
            .map(super::git_path);
        let Some(now) = now else { continue };
        if s.intersects(Status::WT_DELETED | Status::INDEX_DELETED)
            && !s.intersects(Status::WT_RENAMED | Status::INDEX_RENAMED)
        {
            continue;
        }
        let status = if s.intersects(Status::INDEX_RENAMED | Status::WT_RENAMED) {
            if let Some(old) = in_head.filter(|o| *o != now) {
                if let Some(&e) = state.files.get(&old) {
                    state.files.insert(now.clone(), e);
                }
            }
            FileStatus::Modified
        } else if s.intersects(Status::WT_NEW | Status::INDEX_NEW) {
            FileStatus::Uncommitted
        } else if s.intersects(
            Status::WT_MODIFIED
                | Status::INDEX_MODIFIED
                | Status::WT_TYPECHANGE
                | Status::INDEX_TYPECHANGE,
        ) {
            FileStatus::Modified
        } else {
            continue;
        };
        dirty.insert(now, status);
    }
    Ok(dirty)
}

/// The commits listed in a shallow clone's `shallow` file: where history stops.
pub(super) fn read_shallow(git_dir: &Path, common_dir: &Path) -> Vec<String> {
    for dir in [git_dir, common_dir] {
        if let Ok(text) = std::fs::read_to_string(dir.join("shallow")) {
            let mut v: Vec<String> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect();
            v.sort();
            return v;
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(n: u32) -> CommitInfo {
        CommitInfo {
            id: format!("{n:040}"),
            author_name: format!("a{n}"),
            author_email: String::new(),
            authored_at: Default::default(),
            summary: String::new(),
        }
    }

    #[test]
    fn a_rename_keeps_the_adding_commit_and_moves_last_changed() {
        let mut s = State {
            commits: vec![info(0), info(1), info(2)],
            ..State::default()
        };
        apply(&mut s, 0, Change::Added("r/a.yaml".into()));
        apply(&mut s, 1, Change::Modified("r/a.yaml".into()));
        apply(
            &mut s,
            2,
            Change::Renamed {
                from: "r/a.yaml".into(),
                to: "r/old/a.yaml".into(),
            },
        );
        assert_eq!(s.files.get("r/old/a.yaml"), Some(&(0, 2)));
        assert!(!s.files.contains_key("r/a.yaml"));
    }

    #[test]
    fn a_second_add_of_the_same_path_keeps_the_first_author() {
        let mut s = State::default();
        apply(&mut s, 0, Change::Added("a".into()));
        apply(&mut s, 3, Change::Added("a".into()));
        assert_eq!(s.files.get("a"), Some(&(0, 3)));
    }

    #[test]
    fn deleting_then_adding_again_credits_the_new_add() {
        let mut s = State::default();
        apply(&mut s, 0, Change::Added("a".into()));
        apply(&mut s, 1, Change::Deleted("a".into()));
        apply(&mut s, 2, Change::Added("a".into()));
        assert_eq!(s.files.get("a"), Some(&(2, 2)));
    }

    #[test]
    fn shallow_file_lists_the_boundary_commits_sorted() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("shallow"), "bbb\naaa\n\n").expect("write");
        assert_eq!(read_shallow(dir.path(), dir.path()), vec!["aaa", "bbb"]);
        let empty = tempfile::tempdir().expect("temp dir");
        assert!(read_shallow(empty.path(), empty.path()).is_empty());
    }
}
