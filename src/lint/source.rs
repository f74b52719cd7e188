//! What lint reads from the files besides the revisions' SQL: the line each script
//! starts on (so a finding names the file line), a revision's `lint: {allow: [...]}`
//! and the project's in `migrate.yaml`, with the line of each entry.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::rules::rule;
use crate::core::Dialect;
use crate::files::format::LintSection;
use crate::schema::yaml_lines::{LineIndex, Seg};

/// Where one direction's SQL starts in a revision file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SqlLines {
    /// The line of the `upgrade:`/`downgrade:` key.
    pub key: Option<u32>,
    /// The file line of the script's first line, for SQL shared by every backend.
    pub all: Option<u32>,
    /// The same, per dialect key.
    pub per: BTreeMap<Dialect, u32>,
}

impl SqlLines {
    /// The file line of the first line of `dialect`'s script.
    pub fn base(&self, dialect: Dialect) -> Option<u32> {
        self.per.get(&dialect).copied().or(self.all)
    }
}

/// What lint reads from one revision file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileInfo {
    /// `lint: {allow: [...]}`: rule ids with their lines.
    pub allow: Vec<(String, Option<u32>)>,
    pub upgrade: SqlLines,
    pub downgrade: SqlLines,
}

#[derive(Deserialize)]
struct LintOnly {
    #[serde(default)]
    lint: Option<LintSection>,
}

/// Reads `text`, a revision file the loader has already accepted.
pub fn file_info(text: &str) -> Result<FileInfo, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let parsed: LintOnly = serde_yaml_ng::from_str(text).map_err(|e| e.to_string())?;
    let index = LineIndex::new(text);
    let allow = parsed
        .lint
        .map(|l| l.allow)
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, id)| {
            let line = index.locate(&[Seg::Key("lint"), Seg::Key("allow"), Seg::Index(i)]);
            (id, line)
        })
        .collect();
    Ok(FileInfo {
        allow,
        upgrade: sql_lines(text, &index, "upgrade"),
        downgrade: sql_lines(text, &index, "downgrade"),
    })
}

/// The names a dialect's key may be written as.
fn dialect_keys(dialect: Dialect) -> &'static [&'static str] {
    match dialect {
        Dialect::Postgres => &["postgres", "postgresql"],
        Dialect::Mysql => &["mysql", "mariadb"],
        Dialect::Sqlite => &["sqlite"],
    }
}

fn sql_lines(text: &str, index: &LineIndex, key: &str) -> SqlLines {
    let lines: Vec<&str> = text.lines().collect();
    let Some(key_line) = index.locate(&[Seg::Key(key)]) else {
        return SqlLines::default();
    };
    let mut out = SqlLines {
        key: Some(key_line),
        ..SqlLines::default()
    };
    let value = |line: u32| -> &str {
        lines
            .get(line as usize - 1)
            .and_then(|l| l.split_once(':'))
            .map_or("", |(_, v)| v.trim())
    };
    let start = |line: u32| -> u32 {
        // A block scalar (`|`, `>`) starts on the next line; a one-line scalar on the key's.
        if value(line).starts_with(['|', '>']) {
            line + 1
        } else {
            line
        }
    };
    let v = value(key_line);
    if v.is_empty() || v.starts_with('#') {
        for dialect in Dialect::ALL {
            for name in dialect_keys(dialect) {
                if let Some(l) = index.locate(&[Seg::Key(key), Seg::Key(name)]) {
                    if l != key_line {
                        out.per.insert(dialect, start(l));
                    }
                }
            }
        }
    } else {
        out.all = Some(start(key_line));
    }
    out
}

/// Checks allow-list ids against the catalogue: one message per unknown id, naming
/// the file and line.
pub fn unknown_ids(path: &Path, allow: &[(String, Option<u32>)]) -> Vec<String> {
    allow
        .iter()
        .filter(|(id, _)| rule(id).is_none())
        .map(|(id, line)| {
            let at = match line {
                Some(l) => format!("{}:{l}", path.display()),
                None => path.display().to_string(),
            };
            format!(
                "{at}: unknown lint rule '{}' in lint.allow",
                crate::files::load::excerpt(id)
            )
        })
        .collect()
}

/// The project's `lint: {allow: [...]}` from the config file's text, with lines.
pub fn config_allow(text: &str, allow: &[String]) -> Vec<(String, Option<u32>)> {
    let index = LineIndex::new(text);
    allow
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let line = index.locate(&[Seg::Key("lint"), Seg::Key("allow"), Seg::Index(i)]);
            (id.clone(), line)
        })
        .collect()
}
