//! Git authorship: who added each revision file, who last changed it, and where a
//! revision missing from this checkout can still be found.
//!
//! Read through libgit2 (git2) only, never by running the `git` program, so it works
//! without git installed and behaves the same everywhere. A revisions directory outside
//! any repository is not an error: authorship is simply unknown and every command goes
//! on as before.
//!
//! History is read in one pass over the commits reachable from HEAD (each commit diffed
//! against its first parent, restricted to the revisions directory, renames detected),
//! never one walk per file. The result is cached under the repository's git directory,
//! keyed by the commit it was computed at, so the next run only reads the new commits.

mod at_ref;
mod cache;
mod history;
mod locate;
mod rawtree;
mod report;

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use chrono::{DateTime, FixedOffset, TimeZone};
use serde::{Deserialize, Serialize};

pub use at_ref::{RefFile, RefOptions, RefRevisions};
pub use locate::{BranchRef, FoundRevision};
pub use report::{
    author_matches, head_origin, join_applied, merge_message, AppliedRow, AppliedStep, AuditFilter,
    BlameEntry, HeadOrigin, PatternError,
};

/// One commit as authorship reports it (name and email already mapped through `.mailmap`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitInfo {
    /// Full hexadecimal commit id.
    pub id: String,
    pub author_name: String,
    pub author_email: String,
    /// Author time with the author's own UTC offset, as git records it.
    #[serde(with = "rfc3339")]
    pub authored_at: DateTime<FixedOffset>,
    /// First line of the commit message.
    pub summary: String,
}

impl CommitInfo {
    /// The first 12 hex digits of the commit id, for text output.
    pub fn short_id(&self) -> &str {
        self.id.get(..12).unwrap_or(&self.id)
    }

    fn from_commit(commit: &git2::Commit<'_>) -> Self {
        let author = commit.author();
        Self {
            id: commit.id().to_string(),
            author_name: String::from_utf8_lossy(author.name_bytes()).into_owned(),
            author_email: String::from_utf8_lossy(author.email_bytes()).into_owned(),
            authored_at: git_time(author.when()),
            summary: commit
                .summary_bytes()
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .unwrap_or_default(),
        }
    }
}

/// Converts a git time (seconds + offset in minutes) to a chrono time; out-of-range
/// offsets fall back to UTC rather than fail.
fn git_time(t: git2::Time) -> DateTime<FixedOffset> {
    let offset = FixedOffset::east_opt(t.offset_minutes() * 60)
        .unwrap_or_else(|| FixedOffset::east_opt(0).expect("0 is a valid offset"));
    offset
        .timestamp_opt(t.seconds(), 0)
        .single()
        .unwrap_or_default()
}

mod rfc3339 {
    use chrono::{DateTime, FixedOffset};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<FixedOffset>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_rfc3339())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<FixedOffset>, D::Error> {
        let text = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&text).map_err(serde::de::Error::custom)
    }
}

/// Whether a revision file is in git.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileStatus {
    /// In HEAD, with no uncommitted changes.
    Committed,
    /// In HEAD, with uncommitted changes (staged or not).
    Modified,
    /// Never committed on this branch (new, untracked or only staged).
    Uncommitted,
    /// No repository holds the revisions directory.
    Unknown,
}

impl FileStatus {
    pub fn name(self) -> &'static str {
        match self {
            FileStatus::Committed => "committed",
            FileStatus::Modified => "modified",
            FileStatus::Uncommitted => "uncommitted",
            FileStatus::Unknown => "unknown",
        }
    }
}

/// What git says about one revision file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileAuthorship {
    /// Path relative to the repository root, `/`-separated; `None` without a repository.
    pub path: Option<String>,
    pub status: FileStatus,
    /// The commit that added the file (following renames), if it was ever committed.
    pub added: Option<CommitInfo>,
    /// The last commit that changed (or moved) the file.
    pub last_changed: Option<CommitInfo>,
    /// The add was found at a shallow clone's boundary: the real author may be older.
    pub history_incomplete: bool,
}

impl FileAuthorship {
    fn unknown() -> Self {
        Self {
            path: None,
            status: FileStatus::Unknown,
            added: None,
            last_changed: None,
            history_incomplete: false,
        }
    }
}

/// Errors of the git adapter. Authorship itself never fails (it degrades to unknown,
/// with warnings); these come from explicit look-ups such as [`GitRepo::find_revision`].
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("no git repository holds {}", dir.display())]
    NoRepository { dir: PathBuf },
    #[error("unknown git revision '{name}': {message}")]
    UnknownRef { name: String, message: String },
    #[error("git repository {}: {message}", repo.display())]
    Git { repo: PathBuf, message: String },
}

/// A repository opened for the revisions directory it holds.
pub struct GitRepo {
    repo: git2::Repository,
    /// Absolute working-tree root (canonical).
    workdir: PathBuf,
    /// The revisions directory relative to `workdir`, `/`-separated, "" for the root.
    dir_prefix: String,
    /// The revisions directory as given, made absolute (not canonicalised).
    dir_given: PathBuf,
    /// The working directory when the repository was opened, for relative paths.
    cwd: PathBuf,
}

/// The commit checked out in the git repository holding `dir`, if there is one.
pub fn head_of(dir: &Path) -> Option<String> {
    let repo = git2::Repository::discover(dir).ok()?;
    let commit = repo.head().ok()?.peel_to_commit().ok()?;
    Some(commit.id().to_string())
}

impl GitRepo {
    /// Opens the repository holding `revisions_dir`, searching upward; `None` when there
    /// is none (or it is bare).
    pub fn discover(revisions_dir: &Path) -> Option<GitRepo> {
        let cwd = std::env::current_dir().unwrap_or_default();
        let dir_given = absolute(&cwd, revisions_dir);
        // The directory may not exist yet: search from its nearest existing ancestor.
        let mut start = dir_given.clone();
        while !start.is_dir() {
            if !start.pop() {
                return None;
            }
        }
        let repo = git2::Repository::discover(&start).ok()?;
        let workdir = repo.workdir()?.canonicalize().ok()?;
        let dir_canon = match dir_given.canonicalize() {
            Ok(p) => p,
            Err(_) => start
                .canonicalize()
                .ok()?
                .join(dir_given.strip_prefix(&start).ok()?),
        };
        let rel = dir_canon.strip_prefix(&workdir).ok()?;
        let dir_prefix = git_path(rel);
        Some(GitRepo {
            repo,
            workdir,
            dir_prefix,
            dir_given,
            cwd,
        })
    }

    /// The working-tree root.
    pub fn workdir(&self) -> &Path {
        &self.workdir
    }

    /// The revisions directory relative to the repository root (`""` for the root).
    pub fn revisions_prefix(&self) -> &str {
        &self.dir_prefix
    }

    /// The full id of HEAD's commit, if HEAD points at one.
    pub fn head_commit(&self) -> Option<String> {
        self.repo
            .head()
            .ok()?
            .peel_to_commit()
            .ok()
            .map(|c| c.id().to_string())
    }

    /// Repository-relative `/`-separated path of a file in the working tree, if inside it.
    pub fn relative_path(&self, file: &Path) -> Option<String> {
        let abs = absolute(&self.cwd, file);
        if let Ok(rel) = abs.strip_prefix(&self.dir_given) {
            return Some(join_git(&self.dir_prefix, &git_path(rel)));
        }
        if let Ok(rel) = abs.strip_prefix(&self.workdir) {
            return Some(git_path(rel));
        }
        let canon = abs.canonicalize().ok()?;
        canon.strip_prefix(&self.workdir).ok().map(git_path)
    }

    fn error(&self, e: git2::Error) -> GitError {
        GitError::Git {
            repo: self.workdir.clone(),
            message: e.message().to_owned(),
        }
    }

    fn mailmap(&self) -> Option<git2::Mailmap> {
        self.repo.mailmap().ok()
    }
}

/// The revisions directory's tree at `commit`, if it exists there.
fn history_dir_tree<'r>(
    repo: &'r git2::Repository,
    commit: &git2::Commit<'r>,
    prefix: &str,
) -> Option<git2::Tree<'r>> {
    history::dir_tree(repo, commit.tree().ok()?, prefix)
}

/// Maps a commit's author through `.mailmap` (a no-op without one).
fn apply_mailmap(mailmap: Option<&git2::Mailmap>, info: &CommitInfo) -> CommitInfo {
    let mut out = info.clone();
    let Some(map) = mailmap else { return out };
    let Ok(sig) = git2::Signature::now(&info.author_name, &info.author_email) else {
        return out;
    };
    if let Ok(real) = map.resolve_signature(&sig) {
        out.author_name = String::from_utf8_lossy(real.name_bytes()).into_owned();
        out.author_email = String::from_utf8_lossy(real.email_bytes()).into_owned();
    }
    out
}

/// Authorship of every revision file in a checkout, computed once per command.
pub struct Authorship {
    repo: Option<GitRepo>,
    /// Repository-relative path → (added, last changed) commit indices into `commits`.
    files: HashMap<String, (u32, u32)>,
    /// Commits referenced by `files`, authors already mapped through `.mailmap`.
    commits: Vec<CommitInfo>,
    /// Working-tree status of paths that differ from HEAD.
    dirty: HashMap<String, FileStatus>,
    shallow: Vec<String>,
    /// Problems met on the way (cache not writable, unreadable history), for stderr.
    pub warnings: Vec<String>,
}

/// How [`Authorship::load_with`] reads history.
#[derive(Debug, Clone, Copy)]
pub struct LoadOptions {
    /// Read and write the cache under the git directory.
    pub use_cache: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self { use_cache: true }
    }
}

impl Authorship {
    /// Authorship of the revision files under `revisions_dir`; unknown without a repository.
    pub fn load(revisions_dir: &Path) -> Authorship {
        Self::load_with(revisions_dir, LoadOptions::default())
    }

    pub fn load_with(revisions_dir: &Path, options: LoadOptions) -> Authorship {
        match GitRepo::discover(revisions_dir) {
            None => Authorship::unknown(),
            Some(repo) => history::compute(repo, options),
        }
    }

    /// Authorship with no repository: every file is `unknown`.
    pub fn unknown() -> Authorship {
        Authorship {
            repo: None,
            files: HashMap::new(),
            commits: Vec::new(),
            dirty: HashMap::new(),
            shallow: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Whether a repository was found.
    pub fn is_available(&self) -> bool {
        self.repo.is_some()
    }

    /// The repository, for branch and missing-revision look-ups.
    pub fn repo(&self) -> Option<&GitRepo> {
        self.repo.as_ref()
    }

    /// The commit authorship was computed at (HEAD), if any.
    pub fn head_commit(&self) -> Option<String> {
        self.repo.as_ref().and_then(GitRepo::head_commit)
    }

    /// Commits where a shallow clone's history stops (empty for a full clone).
    pub fn shallow_boundary(&self) -> &[String] {
        &self.shallow
    }

    /// A line saying where history stops, for a shallow clone.
    pub fn shallow_note(&self) -> Option<String> {
        if self.shallow.is_empty() {
            return None;
        }
        let short: Vec<&str> = self
            .shallow
            .iter()
            .map(|c| c.get(..12).unwrap_or(c))
            .collect();
        Some(format!(
            "shallow clone: history stops at commit {}; authors of revisions added there may be older",
            short.join(", ")
        ))
    }

    /// Authorship of one revision file, given its path as the loader found it.
    pub fn for_file(&self, file: &Path) -> FileAuthorship {
        let Some(repo) = &self.repo else {
            return FileAuthorship::unknown();
        };
        let Some(rel) = repo.relative_path(file) else {
            return FileAuthorship::unknown();
        };
        self.for_repo_path(&rel)
    }

    /// Authorship of one file by its repository-relative path.
    pub fn for_repo_path(&self, rel: &str) -> FileAuthorship {
        if self.repo.is_none() {
            return FileAuthorship::unknown();
        }
        let (added, last) = match self.files.get(rel) {
            Some(&(a, l)) => (
                self.commits.get(a as usize).cloned(),
                self.commits.get(l as usize).cloned(),
            ),
            None => (None, None),
        };
        let status = match (self.dirty.get(rel), &added) {
            (Some(s), Some(_)) => *s,
            (Some(_), None) | (None, None) => FileStatus::Uncommitted,
            (None, Some(_)) => FileStatus::Committed,
        };
        let history_incomplete = added.as_ref().is_some_and(|c| self.shallow.contains(&c.id));
        FileAuthorship {
            path: Some(rel.to_owned()),
            status,
            added,
            last_changed: last,
            history_incomplete,
        }
    }

    /// Repository-relative paths of every file known to have been committed, sorted.
    pub fn committed_paths(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.files.keys().map(String::as_str).collect();
        v.sort_unstable();
        v
    }
}

/// `path` made absolute against `cwd`, `.` and `..` removed lexically.
fn absolute(cwd: &Path, path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// A relative path as git writes it: components joined with `/`.
fn git_path(rel: &Path) -> String {
    let parts: Vec<String> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    parts.join("/")
}

fn join_git(prefix: &str, rest: &str) -> String {
    match (prefix.is_empty(), rest.is_empty()) {
        (true, _) => rest.to_owned(),
        (false, true) => prefix.to_owned(),
        (false, false) => format!("{prefix}/{rest}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_paths_use_slashes_and_drop_dots() {
        assert_eq!(git_path(Path::new("a/./b/c.yaml")), "a/b/c.yaml");
        assert_eq!(join_git("", "x.yaml"), "x.yaml");
        assert_eq!(join_git("db/revisions", ""), "db/revisions");
        assert_eq!(join_git("db", "x.yaml"), "db/x.yaml");
    }

    #[test]
    fn absolute_removes_dot_components() {
        assert_eq!(
            absolute(Path::new("/x"), Path::new("/a/b/../c/./d")),
            PathBuf::from("/a/c/d")
        );
    }

    #[test]
    fn git_time_keeps_the_author_offset() {
        let t = git_time(git2::Time::new(1_767_225_600, 120));
        assert_eq!(t.to_rfc3339(), "2026-01-01T02:00:00+02:00");
    }

    #[test]
    fn without_a_repository_every_file_is_unknown() {
        let a = Authorship::unknown();
        let f = a.for_file(Path::new("revisions/x.yaml"));
        assert_eq!(f.status, FileStatus::Unknown);
        assert!(f.added.is_none() && f.path.is_none());
    }
}
