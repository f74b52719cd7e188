//! Listing a revisions tree safely, for every revision format.
//!
//! Within a directory: files sorted by name, then subdirectories sorted by name, depth
//! first (Alembic's recursive order). Entries named like revision files that can't be
//! one (a symbolic link out of the tree or to nothing, a FIFO, a device, a directory)
//! are problems naming the entry; none of them is opened, so a hostile pull request
//! can't make a load error quote `~/.ssh/id_ed25519` through a link.

use std::path::{Path, PathBuf};

use super::cache::FileKey;
use super::load::LoadError;
use crate::core::{Problem, ProblemKind};

/// One file to load.
#[derive(Debug, Clone)]
pub struct Listed {
    pub path: PathBuf,
    /// Relative to the listed directory (`sub/a.yaml`).
    pub name: String,
    /// Its parse-cache key, when asked for and the entry is a regular file (a stat
    /// relative to the open directory: no second walk down the whole path).
    pub key: Option<FileKey>,
}

/// Files to load and the entries refused.
pub type Listing = (Vec<Listed>, Vec<Problem>);

/// What a format counts as a revision file, and which entries it never looks at.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// Whether a file name is a revision file.
    pub is_revision: fn(&[u8]) -> bool,
    /// Whether an entry is skipped without a look (hidden files, `__pycache__`).
    pub skip: fn(name: &[u8], is_dir: bool) -> bool,
    /// Whether subdirectories are listed.
    pub recursive: bool,
}

/// Revision files under `dir` in load order, with their names relative to `dir`; with
/// `keys`, each regular file's parse-cache key too.
pub fn list(dir: &Path, rules: Rules, keys: bool) -> Result<Listing, LoadError> {
    if !dir.is_dir() {
        return Err(LoadError::Missing(dir.to_path_buf()));
    }
    let root = std::fs::canonicalize(dir).map_err(|source| LoadError::Unreadable {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut walk = Walk {
        rules,
        keys,
        root: root.clone(),
        visited: [root].into_iter().collect(),
        files: Vec::new(),
        problems: Vec::new(),
    };
    walk.list_dir(dir, "")?;
    Ok((walk.files, walk.problems))
}

/// The state of one walk of the revisions tree.
struct Walk {
    rules: Rules,
    /// Whether to take each file's cache key from its directory entry.
    keys: bool,
    /// The revisions directory, canonical: no entry may lead outside it.
    root: PathBuf,
    /// Directories already listed (canonical), so a link back up is listed once.
    visited: std::collections::HashSet<PathBuf>,
    files: Vec<Listed>,
    problems: Vec<Problem>,
}

/// What a non-regular entry is, for messages.
fn kind_of(file_type: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_fifo() {
        "a FIFO (named pipe)"
    } else if file_type.is_socket() {
        "a socket"
    } else if file_type.is_char_device() {
        "a character device"
    } else if file_type.is_block_device() {
        "a block device"
    } else {
        "not a regular file"
    }
}

impl Walk {
    fn refuse(&mut self, path: PathBuf, message: String) {
        self.problems
            .push(Problem::new(ProblemKind::InvalidFile, message).at(Some(path), None));
    }

    fn list_dir(&mut self, dir: &Path, prefix: &str) -> Result<(), LoadError> {
        let unreadable = |source| LoadError::Unreadable {
            path: dir.to_path_buf(),
            source,
        };
        let mut files = Vec::new();
        let mut subdirs = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(unreadable)? {
            let entry = entry.map_err(unreadable)?;
            let name = entry.file_name();
            let bytes = name.as_encoded_bytes();
            let path = entry.path();
            let revision_name = (self.rules.is_revision)(bytes);
            let mut file_type = entry.file_type().map_err(unreadable)?;
            // A regular file's key from its entry (not a link's: that is its target's).
            let key = (self.keys && file_type.is_file() && revision_name)
                .then(|| entry.metadata().ok().map(|m| FileKey::from_metadata(&m)))
                .flatten();
            if (self.rules.skip)(bytes, file_type.is_dir()) {
                continue;
            }
            if file_type.is_symlink() {
                let target = match std::fs::canonicalize(&path) {
                    Ok(target) => target,
                    Err(_) if !revision_name => continue,
                    Err(e) => {
                        self.refuse(
                            path,
                            format!(
                                "a symbolic link to nothing ({e}); refused: fix or remove the link"
                            ),
                        );
                        continue;
                    }
                };
                let Ok(meta) = std::fs::metadata(&target) else {
                    continue;
                };
                file_type = meta.file_type();
                if (self.rules.skip)(bytes, file_type.is_dir()) {
                    continue;
                }
                if !target.starts_with(&self.root) {
                    if revision_name || (file_type.is_dir() && self.rules.recursive) {
                        self.refuse(
                            path,
                            "a symbolic link leading outside the revisions directory; refused: revision files must lie inside it (copy the file in instead)".to_owned(),
                        );
                    }
                    continue;
                }
            }
            if file_type.is_dir() {
                if revision_name {
                    self.refuse(
                        path,
                        "a directory named like a revision file; refused: rename it".to_owned(),
                    );
                } else {
                    subdirs.push(name);
                }
            } else if revision_name {
                if file_type.is_file() {
                    files.push((name, key));
                } else {
                    self.refuse(
                        path,
                        format!(
                            "{}, not a revision file; refused without reading it",
                            kind_of(&file_type)
                        ),
                    );
                }
            }
        }
        files.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        subdirs.sort_unstable();
        self.files.extend(files.into_iter().map(|(f, key)| {
            let name = format!("{prefix}{}", f.to_string_lossy());
            Listed {
                path: dir.join(f),
                name,
                key,
            }
        }));
        if !self.rules.recursive {
            return Ok(());
        }
        for sub in subdirs {
            let path = dir.join(&sub);
            let Ok(canonical) = std::fs::canonicalize(&path) else {
                continue;
            };
            if !self.visited.insert(canonical) {
                continue;
            }
            let prefix = format!("{prefix}{}/", sub.to_string_lossy());
            self.list_dir(&path, &prefix)?;
        }
        Ok(())
    }
}
