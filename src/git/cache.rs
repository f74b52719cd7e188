//! The authorship cache: what the history pass found at one commit, kept under the
//! repository's git directory (`.git/migrate/authorship-<dir hash>.json`) so the next
//! run reads only the commits made since.
//!
//! It stores raw authors (before `.mailmap`, which may change) and the shallow
//! boundary it was computed with; a different boundary, format version or directory
//! means the cache is ignored and rebuilt. Failing to read or write it is a warning.

use std::collections::HashMap;
use std::path::PathBuf;

use git2::Oid;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{CommitInfo, GitRepo};

/// What authorship knows at one commit, before `.mailmap` is applied.
#[derive(Debug, Default, Clone)]
pub(super) struct State {
    pub commits: Vec<CommitInfo>,
    /// Repository-relative path → (added, last changed) indices into `commits`.
    pub files: HashMap<String, (u32, u32)>,
}

const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    /// The revisions directory, relative to the repository root.
    dir: String,
    /// The commit this was computed at.
    commit: String,
    shallow: Vec<String>,
    commits: Vec<CommitInfo>,
    /// (path, added, last changed) with indices into `commits`.
    files: Vec<(String, u32, u32)>,
}

fn cache_path(repo: &GitRepo) -> PathBuf {
    let digest = Sha256::digest(repo.dir_prefix.as_bytes());
    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    repo.repo
        .commondir()
        .join("migrate")
        .join(format!("authorship-{hex}.json"))
}

/// The cached state and the commit it was computed at; `Ok(None)` when there is no
/// usable cache, `Err` (a warning line) when one exists but can't be read.
pub(super) fn load(repo: &GitRepo, shallow: &[String]) -> Result<Option<(Oid, State)>, String> {
    let path = cache_path(repo);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(None)
        }
        Err(e) => {
            return Err(format!(
                "warning: could not read authorship cache {}: {e}; rebuilding it",
                path.display()
            ))
        }
    };
    let file: CacheFile = match serde_json::from_slice(&bytes) {
        Ok(f) => f,
        Err(e) => {
            return Err(format!(
                "warning: authorship cache {} is unreadable ({e}); rebuilding it",
                path.display()
            ))
        }
    };
    if file.version != VERSION || file.dir != repo.dir_prefix || file.shallow != shallow {
        return Ok(None);
    }
    let Ok(commit) = Oid::from_str(&file.commit) else {
        return Ok(None);
    };
    let n = file.commits.len();
    let mut state = State {
        commits: file.commits,
        files: Default::default(),
    };
    state.files.reserve(file.files.len());
    for (p, a, l) in file.files {
        if a as usize >= n || l as usize >= n {
            return Ok(None);
        }
        state.files.insert(p, (a, l));
    }
    Ok(Some((commit, state)))
}

/// Writes the state computed at `commit`, keeping only the commits still referenced.
pub(super) fn save(
    repo: &GitRepo,
    commit: Oid,
    shallow: &[String],
    state: &State,
) -> Result<(), String> {
    let path = cache_path(repo);
    let mut remap = vec![u32::MAX; state.commits.len()];
    let mut commits = Vec::new();
    let mut keep = |ix: u32| -> u32 {
        let slot = &mut remap[ix as usize];
        if *slot == u32::MAX {
            *slot = u32::try_from(commits.len()).expect("fewer than 2^32 commits");
            commits.push(state.commits[ix as usize].clone());
        }
        *slot
    };
    let mut paths: Vec<(&String, &(u32, u32))> = state.files.iter().collect();
    paths.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let files = paths
        .into_iter()
        .map(|(p, &(a, l))| (p.clone(), keep(a), keep(l)))
        .collect();
    let file = CacheFile {
        version: VERSION,
        dir: repo.dir_prefix.clone(),
        commit: commit.to_string(),
        shallow: shallow.to_vec(),
        commits,
        files,
    };
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        format!(
            "warning: could not {what} authorship cache {}: {e}",
            path.display()
        )
    };
    let json = serde_json::to_vec(&file).map_err(|e| fail("encode", &e))?;
    let dir = path.parent().expect("the cache path has a parent");
    std::fs::create_dir_all(dir).map_err(|e| fail("create the directory of", &e))?;
    // Write then rename, so a concurrent reader never sees half a file.
    let tmp = dir.join(format!(".authorship-{}.tmp", std::process::id()));
    std::fs::write(&tmp, json).map_err(|e| fail("write", &e))?;
    std::fs::rename(&tmp, &path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        fail("write", &e)
    })
}
