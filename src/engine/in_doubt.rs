//! A step that stopped part-way outside a transaction: which statement is in doubt, how
//! a person can tell whether it took effect, and how `migrate resolve` settles it.
//!
//! Why: on MariaDB (DDL commits implicitly) and in `transactional: false` steps, a
//! killed process leaves statements that took effect behind. The pending log row keeps
//! how many statements completed ([`StepProgress`]), so only the one that was running is
//! in doubt, and the next run can say exactly which one and how to look at it instead of
//! asking for a hand-written stamp.

use crate::core::{Dialect, Direction};
use crate::db::split::Statement;
use crate::db::StepProgress;
use crate::sql::{Action, ObjectKind};

/// Checksum of the first statements of a step that took effect, as progress keeps it.
pub(super) fn statements_checksum(statements: &[Statement]) -> String {
    let mut text = String::new();
    for st in statements {
        text.push_str(&st.text);
        text.push_str("\n;\n");
    }
    crate::db::checksum(&text)
}

/// The progress of a step whose first `done` of `statements` took effect and whose
/// statement `done + 1` runs next (in doubt until it completes; none past the last).
pub(super) fn progress(statements: &[Statement], done: usize, running: bool) -> StepProgress {
    StepProgress {
        done,
        in_doubt: (running && done < statements.len()).then_some(done + 1),
        checksum: statements_checksum(&statements[..done.min(statements.len())]),
    }
}

/// `text` on one line, at most `max` characters, control characters escaped.
pub fn shown(text: &str, max: usize) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = String::new();
    for (n, c) in one_line.chars().enumerate() {
        if n == max {
            out.push_str("...");
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// How a person can tell whether `statement` took effect, from what it changes.
pub fn how_to_check(dialect: Dialect, statement: &str) -> String {
    let script = crate::sql::analyse(dialect, statement);
    let touches = script
        .statements
        .first()
        .map(|st| st.touches.clone())
        .unwrap_or_default();
    let changed = touches.iter().find(|t| {
        !matches!(t.action, Action::Reads | Action::References)
            && t.object.kind != ObjectKind::Other
    });
    let Some(t) = changed else {
        return "look at what the statement changes".to_owned();
    };
    let kind = kind_name(t.object.kind);
    let name = shown(&t.object.name, 60);
    let on = t
        .object
        .table
        .as_deref()
        .map(|table| format!(" on table {}", shown(table, 60)))
        .unwrap_or_default();
    let invalid_index = if dialect == Dialect::Postgres && t.object.kind == ObjectKind::Index {
        " (an index a killed CREATE INDEX CONCURRENTLY left INVALID did not complete: drop it, it did not take effect)"
    } else {
        ""
    };
    match &t.action {
        Action::Create if t.object.kind == ObjectKind::Column => {
            format!("see whether table {} has column {name}", t.object.table.as_deref().map_or_else(|| "?".to_owned(), |x| shown(x, 60)))
        }
        Action::Create => format!("see whether {kind} {name}{on} exists: it does if the statement took effect{invalid_index}"),
        Action::Drop => format!("see whether {kind} {name}{on} is gone: it is if the statement took effect"),
        Action::Rename { to } => format!(
            "see whether {kind} {name}{on} is now named {}",
            shown(to, 60)
        ),
        Action::Alter => format!("look at the definition of {kind} {name}{on}"),
        Action::Insert | Action::Update | Action::Delete => {
            format!("look at the rows of {kind} {name} it writes")
        }
        Action::Reads | Action::References => "look at what the statement changes".to_owned(),
    }
}

fn kind_name(kind: ObjectKind) -> &'static str {
    kind.name()
}

/// A step found in doubt when a run starts: everything its refusal says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InDoubtStep {
    pub revision: String,
    pub file: String,
    pub direction: Direction,
    /// Statements that took effect.
    pub done: usize,
    /// The statement in doubt (1-based) and the step's statement count.
    pub statement: usize,
    pub total: usize,
    /// Line of the script where the statement starts (0: not in the SQL any more).
    pub line: usize,
    /// The statement's first line, escaped and short.
    pub excerpt: String,
    /// How to tell whether it took effect.
    pub check: String,
    /// Why it stopped (`the process stopped while it ran`, `it failed: ...`).
    pub what: String,
    /// This run had to wait for the lock: the process that held it is the one that
    /// stopped (killed, or its connection was lost).
    pub holder_died: bool,
}

impl std::fmt::Display for InDoubtStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (rev, n) = (&self.revision, self.statement);
        if self.holder_died {
            write!(
                f,
                "the previous holder of the migrate lock died during revision {rev} ({}), {} statement {n} of {}",
                self.file, self.direction, self.total
            )?;
        } else {
            write!(
                f,
                "the last {} of revision {rev} ({}) stopped in statement {n} of {} ({})",
                self.direction, self.file, self.total, self.what
            )?;
        }
        if self.line > 0 {
            write!(f, ", line {}: {}", self.line, self.excerpt)?;
        }
        match self.done {
            0 => write!(f, "; in doubt: statement {n} may or may not have taken effect")?,
            d => write!(
                f,
                "; statements 1 to {d} took effect, and statement {n} is in doubt: it may or may not have"
            )?,
        }
        write!(
            f,
            ". To check: {}. Then run `migrate resolve {rev} --applied` if it took effect, or `migrate resolve {rev} --rolled-back` if it did not",
            self.check
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_check_names_what_the_statement_changes() {
        let c = how_to_check(Dialect::Mysql, "CREATE TABLE two (x INTEGER)");
        assert!(c.contains("table two exists"), "{c}");
        let c = how_to_check(Dialect::Postgres, "DROP TABLE old_one");
        assert!(c.contains("table old_one is gone"), "{c}");
        let c = how_to_check(Dialect::Postgres, "CREATE INDEX CONCURRENTLY ix ON t (a)");
        assert!(c.contains("index ix") && c.contains("INVALID"), "{c}");
        let c = how_to_check(Dialect::Mysql, "ALTER TABLE t ADD COLUMN c INT");
        assert!(c.contains("t"), "{c}");
        let c = how_to_check(Dialect::Sqlite, "this is not SQL \u{1b}[31m");
        assert_eq!(c, "look at what the statement changes");
    }

    #[test]
    fn excerpts_are_short_one_line_and_escaped() {
        assert_eq!(shown("a\n  b\0c", 10), "a b\\u{0}c");
        assert_eq!(shown(&"x".repeat(100), 5), "xxxxx...");
    }

    #[test]
    fn progress_puts_the_next_statement_in_doubt_while_it_runs() {
        let sts = crate::db::split::split_statements("A; B; C", Dialect::Postgres);
        let p = progress(&sts, 1, true);
        assert_eq!((p.done, p.in_doubt), (1, Some(2)));
        assert_eq!(p.checksum, statements_checksum(&sts[..1]));
        assert_ne!(p.checksum, statements_checksum(&sts[..2]));
        assert_eq!(progress(&sts, 3, true).in_doubt, None);
        assert_eq!(progress(&sts, 1, false).in_doubt, None);
    }
}
