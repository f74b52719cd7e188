//! The revision model: what one revision file declares, before any graph exists.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Longest revision id accepted: the version column is `VARCHAR(32)`, as Alembic's.
pub const MAX_ID_LEN: usize = 32;

/// Words that name symbols in identifiers and so can't be revision ids or branch labels.
pub const RESERVED_WORDS: &[&str] = &["head", "heads", "base", "current"];

/// A validated revision id: letters, digits and `_`, at most [`MAX_ID_LEN`] characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct RevisionId(String);

impl RevisionId {
    /// Checks `text` and wraps it; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, String> {
        Self::parse_ref(text)?;
        Ok(Self(text.to_owned()))
    }

    /// Like [`RevisionId::parse`], reusing the string.
    pub fn from_string(text: String) -> Result<Self, String> {
        Self::parse_ref(&text)?;
        Ok(Self(text))
    }

    fn parse_ref(text: &str) -> Result<(), String> {
        validate_name(text, "revision id")?;
        if text.len() > MAX_ID_LEN {
            return Err(format!(
                "revision id '{text}' is {} characters long; at most {MAX_ID_LEN} are allowed",
                text.len()
            ));
        }
        Ok(())
    }

    /// An id as Alembic accepts it: any non-empty string without `@`, `-`, `+` or `:`
    /// (the characters of its identifier syntax). For revisions read from `.py` files.
    pub fn alembic(text: &str) -> Result<Self, String> {
        if text.is_empty() {
            return Err("revision id is empty".into());
        }
        let bad: Vec<char> = text.chars().filter(|c| "@-+:".contains(*c)).collect();
        if !bad.is_empty() {
            let list: Vec<String> = bad.iter().map(char::to_string).collect();
            return Err(format!(
                "Character(s) '{}' not allowed in revision identifier '{text}'",
                list.join(", ")
            ));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A fresh random id: the last 12 hex digits of a v4 UUID, as Alembic makes them.
    pub fn generate() -> Self {
        let hex = uuid::Uuid::new_v4().simple().to_string();
        Self(hex[hex.len() - 12..].to_owned())
    }
}

impl fmt::Display for RevisionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks a revision id or branch label: non-empty, `[A-Za-z0-9_]`, not a reserved word.
pub fn validate_name(text: &str, what: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err(format!("{what} is empty"));
    }
    if let Some(bad) = text
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Err(format!(
            "{what} '{text}' contains '{bad}'; only letters, digits and _ are allowed"
        ));
    }
    if RESERVED_WORDS.contains(&text) {
        return Err(format!("{what} '{text}' is a reserved word"));
    }
    Ok(())
}

/// A database dialect: which SQL a revision runs and how the version table is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    Sqlite,
    Postgres,
    Mysql,
}

impl Dialect {
    pub const ALL: [Dialect; 3] = [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql];

    pub fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
            Dialect::Mysql => "mysql",
        }
    }

    /// Parses a dialect name; `postgresql` and `mariadb` are accepted aliases.
    pub fn parse(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "sqlite" => Some(Dialect::Sqlite),
            "postgres" | "postgresql" => Some(Dialect::Postgres),
            "mysql" | "mariadb" => Some(Dialect::Mysql),
            _ => None,
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The SQL of one direction of a revision: one script for every backend, or one per dialect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Sql {
    All(String),
    PerDialect(BTreeMap<Dialect, String>),
}

impl Sql {
    /// The script for `dialect`, if this revision has one.
    pub fn for_dialect(&self, dialect: Dialect) -> Option<&str> {
        match self {
            Sql::All(sql) => Some(sql),
            Sql::PerDialect(map) => map.get(&dialect).map(String::as_str),
        }
    }
}

/// What a revision's body is written in: SQL that `migrate` runs, or Python (an Alembic
/// revision module) that only Alembic can run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Body {
    #[default]
    Sql,
    Python,
}

/// Where a revision came from: its file and the lines of the keys errors point at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    /// The file, relative to the working directory as the loader found it.
    pub path: Option<PathBuf>,
    pub revision_line: Option<u32>,
    pub down_revision_line: Option<u32>,
    pub depends_on_line: Option<u32>,
    pub branch_labels_line: Option<u32>,
}

/// One revision as declared in its file.
#[derive(Debug, Clone, PartialEq)]
pub struct Revision {
    pub id: RevisionId,
    /// Parents in file order: empty for a base, two or more for a merge.
    pub down_revisions: Vec<RevisionId>,
    /// Revision ids or branch labels this revision depends on (exact, as in Alembic).
    pub depends_on: Vec<String>,
    pub branch_labels: Vec<String>,
    pub message: String,
    pub create_date: Option<DateTime<Utc>>,
    /// Inside a transaction or not, per dialect and direction.
    pub transactional: super::Transactional,
    pub upgrade: Option<Sql>,
    /// `None` means the revision is irreversible.
    pub downgrade: Option<Sql>,
    /// SQL (`upgrade`/`downgrade` above) or Python (those are `None`).
    pub body: Body,
    pub origin: Origin,
}

impl Revision {
    /// A revision with only an id and parents: handy for tests and tools.
    pub fn new(id: &str, down_revisions: &[&str]) -> Result<Self, String> {
        Ok(Self {
            id: RevisionId::parse(id)?,
            down_revisions: down_revisions
                .iter()
                .map(|d| RevisionId::parse(d))
                .collect::<Result<_, _>>()?,
            depends_on: Vec::new(),
            branch_labels: Vec::new(),
            message: String::new(),
            create_date: None,
            transactional: super::Transactional::ALWAYS,
            upgrade: None,
            downgrade: None,
            body: Body::Sql,
            origin: Origin::default(),
        })
    }

    /// Irreversible: it has SQL to apply but no `downgrade`. A revision with no SQL at all
    /// (a merge) has nothing to undo, so it is reversible without one.
    pub fn is_irreversible(&self) -> bool {
        let has_upgrade = self.upgrade.as_ref().is_some_and(|s| match s {
            Sql::All(t) => !t.trim().is_empty(),
            Sql::PerDialect(m) => m.values().any(|t| !t.trim().is_empty()),
        });
        self.downgrade.is_none() && has_upgrade
    }

    /// The one-line description history lines show: the message, or for an Alembic
    /// revision (whose message is its whole docstring) the docstring's first paragraph,
    /// as Alembic's `Script.doc` takes it.
    pub fn summary(&self) -> &str {
        match self.body {
            Body::Sql => &self.message,
            Body::Python => self.message.split("\n\n").next().unwrap_or(""),
        }
    }

    /// `file:line` of this revision's file (and the given key's line), or its id.
    pub fn location(&self, line: Option<u32>) -> String {
        match (&self.origin.path, line) {
            (Some(p), Some(l)) => format!("{}:{l}", p.display()),
            (Some(p), None) => p.display().to_string(),
            (None, _) => format!("revision {}", self.id),
        }
    }
}
