//! Which revision files a branch adds or changes compared with a git ref: the files
//! whose content differs from the blob at the same path in the ref's tree (or that the
//! tree does not have). Read with git2 from the object database; nothing is checked out.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use git2::{ObjectType, Oid, Repository};

/// Why the changed files could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum ChangedError {
    #[error("{} is not inside a git repository; --base needs one", dir.display())]
    NotARepository { dir: PathBuf },
    #[error("the repository at {} is bare; --base compares the working tree", dir.display())]
    Bare { dir: PathBuf },
    #[error("git ref '{reference}' not found: {message}")]
    BadRef { reference: String, message: String },
    #[error("can't read {}: {message}", path.display())]
    Unreadable { path: PathBuf, message: String },
}

/// Of `files` (paths of revision files in the working tree), those whose content
/// differs from `base`'s tree, or that it lacks. The result holds the given paths.
pub fn changed_since(
    dir: &Path,
    base: &str,
    files: &[PathBuf],
) -> Result<BTreeSet<PathBuf>, ChangedError> {
    let repo = Repository::discover(dir).map_err(|_| ChangedError::NotARepository {
        dir: dir.to_path_buf(),
    })?;
    let workdir = repo
        .workdir()
        .ok_or_else(|| ChangedError::Bare {
            dir: dir.to_path_buf(),
        })?
        .to_path_buf();
    let workdir = std::fs::canonicalize(&workdir).unwrap_or(workdir);
    let bad_ref = |e: git2::Error| ChangedError::BadRef {
        reference: crate::files::load::excerpt(base),
        message: e.message().to_owned(),
    };
    let tree = repo
        .revparse_single(base)
        .and_then(|o| o.peel_to_tree())
        .map_err(bad_ref)?;
    let mut changed = BTreeSet::new();
    for file in files {
        let absolute = std::fs::canonicalize(file).map_err(|e| ChangedError::Unreadable {
            path: file.clone(),
            message: e.to_string(),
        })?;
        let Ok(relative) = absolute.strip_prefix(&workdir) else {
            // Outside the working tree: git knows nothing of it.
            changed.insert(file.clone());
            continue;
        };
        let current =
            Oid::hash_file(ObjectType::Blob, &absolute).map_err(|e| ChangedError::Unreadable {
                path: file.clone(),
                message: e.message().to_owned(),
            })?;
        let in_base = tree.get_path(relative).ok().map(|entry| entry.id());
        if in_base != Some(current) {
            changed.insert(file.clone());
        }
    }
    Ok(changed)
}
