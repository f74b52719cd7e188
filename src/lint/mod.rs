//! `migrate lint`: dangerous DDL in revisions, per backend, before they ship.
//!
//! Each revision's SQL is read with the one SQL analyser ([`crate::sql`]) for each
//! dialect it targets, and every statement goes through the rules of that backend
//! ([`postgres`], [`mysql`], [`sqlite`]) and the rules for all ([`common`]). Whether a
//! table "existed before" a revision comes from walking the graph in upgrade order
//! ([`schema::KnownSchema`]): a table created earlier in the same revision is new, so
//! `CREATE INDEX` on it needs no `CONCURRENTLY`; any other table is treated as existing
//! (and possibly hot), including one no revision created.
//!
//! The rule catalogue ([`rules::RULES`]) is the one place ids, severities, reasons and
//! fixes are written; findings, allow lists and `docs/lint.md` follow it.

pub mod common;
pub mod engine;
pub mod mysql;
pub mod postgres;
pub mod rules;
pub mod schema;
pub mod source;
pub mod sqlite;

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde::Serialize;
use sqlparser::ast::Statement;

use crate::core::Dialect;
use crate::sql::Analysed;

pub use engine::{lint_revisions, LintInput, LintRevision, Options};
pub use rules::{rule, Rule, Severity, RULES};
pub use schema::KnownSchema;

/// One thing lint found in one statement (or revision).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub revision: String,
    /// The backend whose SQL was read.
    pub dialect: Dialect,
    pub path: Option<PathBuf>,
    /// The 1-based line in the file where the statement starts.
    pub line: Option<u32>,
    /// A one-line excerpt of the statement.
    pub statement: Option<String>,
    /// Why it is dangerous, about this statement.
    pub why: String,
    /// The safer way, with example SQL.
    pub fix: &'static str,
}

/// A rule's verdict on one statement: the rule and what it saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub rule: &'static str,
    /// What the statement does, e.g. "CREATE INDEX on users, which existed before this
    /// revision"; the rule's general reason follows it in the finding.
    pub detail: String,
}

impl Hit {
    pub fn new(rule: &'static str, detail: impl Into<String>) -> Self {
        Self {
            rule,
            detail: detail.into(),
        }
    }
}

/// Which SQL of a revision a script is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Upgrade,
    Downgrade,
}

impl From<Direction> for crate::core::Direction {
    fn from(d: Direction) -> Self {
        match d {
            Direction::Upgrade => crate::core::Direction::Upgrade,
            Direction::Downgrade => crate::core::Direction::Downgrade,
        }
    }
}

/// What the rules know about one script while reading it, statement by statement.
#[derive(Debug, Default)]
pub struct ScriptState {
    /// Tables created earlier in this script (normalised, unqualified).
    pub created_here: BTreeSet<String>,
    /// Tables dropped earlier in this script.
    pub dropped_here: BTreeSet<String>,
    /// Whether a `SET lock_timeout` came earlier in this script.
    pub lock_timeout: bool,
    /// Whether the lock-timeout finding was already made for this script.
    pub lock_timeout_reported: bool,
    /// DDL statements seen so far.
    pub ddl_count: usize,
}

/// Everything a rule may look at for one statement.
pub struct StatementCtx<'a> {
    pub dialect: Dialect,
    pub direction: Direction,
    /// Whether the revision runs in a transaction (`transactional`, default true).
    pub transactional: bool,
    pub analysed: &'a Analysed,
    pub statement: &'a Statement,
    pub state: &'a ScriptState,
    pub known: &'a KnownSchema,
}

impl StatementCtx<'_> {
    /// Whether `table` existed before this revision: not created earlier in it.
    pub fn existing(&self, table: &str) -> bool {
        !self.state.created_here.contains(&schema::table_key(table))
    }
}

/// The unqualified, normalised form of a name: the last part of `a.b.c`.
pub fn last_part(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}
