//! A cache of parsed revision files, so that a warm `heads` at 100,000 revisions only
//! lists and stats files instead of parsing YAML.
//!
//! One file per revisions directory under the user's cache directory
//! (`$XDG_CACHE_HOME/migrate`, else `~/.cache/migrate`), keyed by the file's name
//! relative to the revisions directory, size, modification and change times and inode.
//! An entry is trusted only if the file was last changed more than two seconds before
//! the cache was written (git's "racy" rule), so an edit in the same instant is never
//! missed. Any problem with the cache only means a cold load: it is never an error.
//! `MIGRATE_NO_CACHE=1` turns it off.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::blob::BlobId;
use crate::core::{Body, Dialect, Origin, Problem, ProblemKind, Revision, RevisionId, Sql};

const FORMAT: u32 = 4;

/// What identifies one version of a file's contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileKey {
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
    inode: u64,
}

impl FileKey {
    pub fn of(path: &Path) -> Option<Self> {
        std::fs::metadata(path)
            .ok()
            .map(|m| Self::from_metadata(&m))
    }

    /// The key of a file whose metadata was read already.
    pub fn from_metadata(m: &std::fs::Metadata) -> Self {
        Self {
            size: m.size(),
            mtime_ns: m.mtime() as i128 * 1_000_000_000 + m.mtime_nsec() as i128,
            ctime_ns: m.ctime() as i128 * 1_000_000_000 + m.ctime_nsec() as i128,
            inode: m.ino(),
        }
    }

    fn changed_ns(&self) -> i128 {
        self.mtime_ns.max(self.ctime_ns)
    }
}

#[derive(Serialize, Deserialize)]
enum CachedSql {
    All(String),
    PerDialect(Vec<(u8, String)>),
}

#[derive(Serialize, Deserialize)]
struct CachedRevision {
    id: String,
    down_revisions: Vec<String>,
    depends_on: Vec<String>,
    branch_labels: Vec<String>,
    message: String,
    create_date: Option<i64>,
    /// [`Transactional::bits`](crate::core::Transactional::bits).
    transactional: u8,
    upgrade: Option<CachedSql>,
    downgrade: Option<CachedSql>,
    lines: [Option<u32>; 4],
    /// An Alembic module (Python body, Alembic's id rules).
    python: bool,
    /// The warning reading the file gave (message, line), kept so a warm load reports it.
    warning: Option<(String, Option<u32>)>,
    /// Git's blob id of the file's contents.
    blob: Option<BlobId>,
}

/// One parsed file to remember.
pub struct CacheItem<'a> {
    pub name: String,
    pub key: FileKey,
    pub revision: &'a Revision,
    pub warning: Option<&'a Problem>,
    pub blob: Option<BlobId>,
}

fn dialect_code(d: Dialect) -> u8 {
    match d {
        Dialect::Sqlite => 0,
        Dialect::Postgres => 1,
        Dialect::Mysql => 2,
    }
}

fn dialect_of(code: u8) -> Option<Dialect> {
    Dialect::ALL.get(code as usize).copied()
}

impl CachedSql {
    fn from(sql: &Sql) -> Self {
        match sql {
            Sql::All(s) => CachedSql::All(s.clone()),
            Sql::PerDialect(m) => CachedSql::PerDialect(
                m.iter()
                    .map(|(d, s)| (dialect_code(*d), s.clone()))
                    .collect(),
            ),
        }
    }

    fn into_sql(self) -> Option<Sql> {
        Some(match self {
            CachedSql::All(s) => Sql::All(s),
            CachedSql::PerDialect(v) => Sql::PerDialect(
                v.into_iter()
                    .map(|(c, s)| dialect_of(c).map(|d| (d, s)))
                    .collect::<Option<_>>()?,
            ),
        })
    }
}

impl CachedRevision {
    fn from(rev: &Revision, warning: Option<&Problem>, blob: Option<BlobId>) -> Self {
        Self {
            id: rev.id.to_string(),
            down_revisions: rev.down_revisions.iter().map(|d| d.to_string()).collect(),
            depends_on: rev.depends_on.clone(),
            branch_labels: rev.branch_labels.clone(),
            message: rev.message.clone(),
            create_date: rev.create_date.map(|d| d.timestamp()),
            transactional: rev.transactional.bits(),
            upgrade: rev.upgrade.as_ref().map(CachedSql::from),
            downgrade: rev.downgrade.as_ref().map(CachedSql::from),
            lines: [
                rev.origin.revision_line,
                rev.origin.down_revision_line,
                rev.origin.depends_on_line,
                rev.origin.branch_labels_line,
            ],
            python: rev.body == Body::Python,
            warning: warning.map(|w| (w.message.clone(), w.line)),
            blob,
        }
    }

    /// Back to a revision; ids are re-checked, so a damaged cache can't smuggle bad data.
    fn into_revision(self, path: PathBuf) -> Option<Hit> {
        let python = self.python;
        let blob = self.blob;
        let id_of = |s: String| {
            if python {
                RevisionId::alembic(&s).ok()
            } else {
                RevisionId::from_string(s).ok()
            }
        };
        let id = id_of(self.id)?;
        let warning = self.warning.map(|(message, line)| {
            Problem::new(ProblemKind::RevisesMismatch, message)
                .at(Some(path.clone()), line)
                .revisions([id.to_string()])
        });
        let rev = Revision {
            id,
            down_revisions: self
                .down_revisions
                .into_iter()
                .map(id_of)
                .collect::<Option<_>>()?,
            depends_on: self.depends_on,
            branch_labels: self.branch_labels,
            message: self.message,
            create_date: match self.create_date {
                Some(t) => Some(DateTime::<Utc>::from_timestamp(t, 0)?),
                None => None,
            },
            transactional: crate::core::Transactional::from_bits(self.transactional),
            upgrade: match self.upgrade {
                Some(s) => Some(s.into_sql()?),
                None => None,
            },
            downgrade: match self.downgrade {
                Some(s) => Some(s.into_sql()?),
                None => None,
            },
            body: if python { Body::Python } else { Body::Sql },
            origin: Origin {
                path: Some(path),
                revision_line: self.lines[0],
                down_revision_line: self.lines[1],
                depends_on_line: self.lines[2],
                branch_labels_line: self.lines[3],
            },
        };
        Some(Hit {
            revision: rev,
            warning,
            blob,
        })
    }
}

#[derive(Serialize, Deserialize)]
struct CacheFile {
    format: u32,
    tool_version: String,
    written_ns: i128,
    entries: Vec<(String, FileKey, CachedRevision)>,
}

/// A file found unchanged in the cache: its revision, the warning reading it gave,
/// and its blob id.
#[derive(Debug, PartialEq)]
pub struct Hit {
    pub revision: Revision,
    pub warning: Option<Problem>,
    pub blob: Option<BlobId>,
}

/// Parsed revisions remembered from the last load of one revisions directory.
pub struct ParseCache {
    file: Option<PathBuf>,
    trusted_before_ns: i128,
    /// Entries in the load order they were stored in; taken ones become `None`.
    entries: Vec<Option<(String, FileKey, CachedRevision)>>,
    /// Where the next lookup expects its entry (files usually come in the same order).
    cursor: usize,
    /// Name -> entry index, built only if a lookup misses the cursor.
    index: Option<HashMap<String, usize>>,
    left: usize,
}

fn cache_root() -> Option<PathBuf> {
    if std::env::var_os("MIGRATE_NO_CACHE").is_some_and(|v| !v.is_empty() && v != "0") {
        return None;
    }
    match std::env::var_os("XDG_CACHE_HOME") {
        Some(d) if !d.is_empty() => Some(PathBuf::from(d).join("migrate")),
        _ => std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(".cache").join("migrate")),
    }
}

fn now_ns() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0)
}

impl ParseCache {
    /// Opens the cache of `dir` (empty when there is none or it can't be read).
    pub fn open(dir: &Path) -> Self {
        let file = cache_root().and_then(|root| {
            let abs = std::fs::canonicalize(dir).ok()?;
            let digest = Sha256::digest(abs.as_os_str().as_encoded_bytes());
            let name: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
            Some(root.join(format!("revisions-{name}.bin")))
        });
        Self::at(file)
    }

    /// Opens the cache stored in `file` (`None`: caching off).
    pub fn at(file: Option<PathBuf>) -> Self {
        let mut cache = Self {
            file,
            trusted_before_ns: 0,
            entries: Vec::new(),
            cursor: 0,
            index: None,
            left: 0,
        };
        let Some(bytes) = cache.file.as_ref().and_then(|f| std::fs::read(f).ok()) else {
            return cache;
        };
        if let Ok(stored) = postcard::from_bytes::<CacheFile>(&bytes) {
            if stored.format == FORMAT && stored.tool_version == env!("CARGO_PKG_VERSION") {
                cache.trusted_before_ns = stored.written_ns - 2_000_000_000;
                cache.left = stored.entries.len();
                cache.entries = stored.entries.into_iter().map(Some).collect();
            }
        }
        cache
    }

    pub fn is_enabled(&self) -> bool {
        self.file.is_some()
    }

    /// The cached revision for `name` if the file is unchanged since it was cached.
    pub fn take(&mut self, name: &str, key: FileKey, path: &Path) -> Option<Hit> {
        let at = match self.entries.get(self.cursor) {
            Some(Some((n, _, _))) if n == name => self.cursor,
            _ => {
                let entries = &self.entries;
                let index = self.index.get_or_insert_with(|| {
                    entries
                        .iter()
                        .enumerate()
                        .filter_map(|(i, e)| Some((e.as_ref()?.0.clone(), i)))
                        .collect()
                });
                *index.get(name)?
            }
        };
        self.cursor = at + 1;
        let (_, cached_key, _) = self.entries[at].as_ref()?;
        if *cached_key != key || key.changed_ns() >= self.trusted_before_ns {
            return None;
        }
        let (_, _, rev) = self.entries[at].take()?;
        self.left -= 1;
        rev.into_revision(path.to_path_buf())
    }

    /// Whether entries for files that no longer exist (or changed) remain.
    pub fn has_leftovers(&self) -> bool {
        self.left > 0
    }

    /// Writes the cache for the revisions just loaded; failures are ignored.
    pub fn store(&self, items: &[CacheItem<'_>]) {
        let Some(file) = &self.file else { return };
        let stored = CacheFile {
            format: FORMAT,
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            written_ns: now_ns(),
            entries: items
                .iter()
                .map(|i| {
                    let rev = CachedRevision::from(i.revision, i.warning, i.blob);
                    (i.name.clone(), i.key, rev)
                })
                .collect(),
        };
        let Ok(bytes) = postcard::to_stdvec(&stored) else {
            return;
        };
        let Some(parent) = file.parent() else { return };
        if std::fs::create_dir_all(parent).is_err() {
            return;
        }
        let tmp = file.with_extension(format!("tmp{}", std::process::id()));
        if std::fs::write(&tmp, bytes).is_ok() && std::fs::rename(&tmp, file).is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::load::parse_revision;

    fn write_rev(path: &Path, id: &str) -> Revision {
        let text = format!("revision: {id}\nmessage: m\nupgrade: SELECT 1;\n");
        std::fs::write(path, &text).unwrap();
        parse_revision(path, &text).unwrap()
    }

    #[test]
    fn unchanged_files_come_back_and_edited_ones_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("cache.bin");
        let a = dir.path().join("a.yaml");
        let b = dir.path().join("b.yaml");
        let rev_a = write_rev(&a, "aaaa0001");
        let rev_b = write_rev(&b, "bbbb0001");
        // Entries are trusted only for files changed more than 2 s before the cache.
        std::thread::sleep(std::time::Duration::from_millis(2100));
        let key_a = FileKey::of(&a).unwrap();
        let key_b = FileKey::of(&b).unwrap();
        let item = |name: &str, key, revision| CacheItem {
            name: name.into(),
            key,
            revision,
            warning: None,
            blob: Some(BlobId::of(name.as_bytes())),
        };
        ParseCache::at(Some(store.clone()))
            .store(&[item("a.yaml", key_a, &rev_a), item("b.yaml", key_b, &rev_b)]);

        let mut cache = ParseCache::at(Some(store.clone()));
        let hit = |revision, name: &str| {
            Some(Hit {
                revision,
                warning: None,
                blob: Some(BlobId::of(name.as_bytes())),
            })
        };
        // Out of order on purpose: the fallback index must find it.
        assert_eq!(cache.take("b.yaml", key_b, &b), hit(rev_b, "b.yaml"));
        assert_eq!(cache.take("a.yaml", key_a, &a), hit(rev_a, "a.yaml"));
        assert!(!cache.has_leftovers());

        // Same size, new content: the key (ctime, mtime) differs, so it is a miss.
        write_rev(&a, "aaaa0002");
        let mut cache = ParseCache::at(Some(store.clone()));
        assert_eq!(cache.take("a.yaml", FileKey::of(&a).unwrap(), &a), None);
        assert!(cache.has_leftovers());

        // A damaged cache file is just an empty cache.
        std::fs::write(&store, b"garbage").unwrap();
        let mut cache = ParseCache::at(Some(store));
        assert_eq!(cache.take("b.yaml", key_b, &b), None);
    }
}
