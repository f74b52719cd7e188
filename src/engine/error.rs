//! Why a run stopped: the executor's errors, each naming the revision, its file and the
//! statement.

use super::in_doubt::InDoubtStep;
use super::interrupt::Signal;
use super::{alembic, PlanFailure};
use crate::core::{Dialect, Direction};
use crate::db::DbError;

/// Why a run stopped. Messages name the revision, its file and the statement.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{0}")]
    Plan(PlanFailure),
    /// Running the plan through Alembic failed.
    #[error(transparent)]
    Alembic(#[from] alembic::AlembicError),
    /// A step that can't run on this backend, refused before anything runs.
    #[error(transparent)]
    NotRunnable(#[from] crate::core::PlanError),
    #[error(transparent)]
    Statement(Box<StatementFailure>),
    #[error("revision {revision} ({file}): {source}")]
    Bookkeeping {
        revision: String,
        file: String,
        #[source]
        source: DbError,
    },
    #[error("revision {revision} ({file}) has transactional: false and can't run inside --transaction all")]
    NonTransactionalInAll { revision: String, file: String },
    #[error("--transaction all needs transactional DDL, which {dialect} does not have; use the default per-revision transactions")]
    TransactionAllUnsupported { dialect: Dialect },
    #[error(
        "the last {direction} of revision {revision} did not complete ({what}); the database may be half-changed. Fix it by hand, then run `migrate stamp <revision>` to record where it is"
    )]
    Dirty {
        revision: String,
        direction: Direction,
        what: String,
    },
    /// A step stopped part-way outside a transaction and one of its statements may or
    /// may not have taken effect; `migrate resolve` settles it.
    #[error("{0}")]
    InDoubt(Box<InDoubtStep>),
    /// A step stopped between statements (its doubt settled, or interrupted) and this
    /// run can't continue it.
    #[error("the last {direction} of revision {revision} stopped after statement {done} of its SQL (recorded in the log); {reason}")]
    Unfinished {
        revision: String,
        direction: Direction,
        done: usize,
        reason: String,
    },
    /// `migrate resolve REV` where REV's step is not the one in doubt.
    #[error("revision {revision} has no statement in doubt: {state}")]
    NotInDoubt { revision: String, state: String },
    /// A step of a `--transaction all` run failed: the one transaction rolled back.
    #[error("{source}; with --transaction all nothing was committed: every revision of this run was rolled back, and the database is still at {}", rows_text(.rows))]
    AllRolledBack {
        source: Box<EngineError>,
        /// The version rows after the rollback.
        rows: Vec<String>,
    },
    /// A signal asked the run to stop; it stopped at the next safe point.
    #[error("interrupted by {signal}: {}; the database is at {}{}", stopped_text(.stopped), rows_text(.rows), next_text(.stopped))]
    Interrupted {
        signal: Signal,
        /// The step cut short, if the signal came while one ran.
        stopped: Option<StoppedStep>,
        /// The version rows when the run stopped.
        rows: Vec<String>,
    },
}

/// A step an interrupt cut short, before statement `next` of `total`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoppedStep {
    pub revision: String,
    pub next: usize,
    pub total: usize,
    /// Whether what the step had done was rolled back (else it may be half-applied).
    pub rolled_back: bool,
    /// Whether the log says how far it got, so the next run continues it.
    pub resumes: bool,
}

fn stopped_text(stopped: &Option<StoppedStep>) -> String {
    match stopped {
        None => "stopped between revisions".to_owned(),
        Some(s) if s.rolled_back => format!(
            "stopped revision {} before statement {} of {}, and rolled it back",
            s.revision, s.next, s.total
        ),
        Some(s) => format!(
            "stopped revision {} before statement {} of {}; the statements before it are committed, so the database may be half-changed",
            s.revision, s.next, s.total
        ),
    }
}

fn rows_text(rows: &[String]) -> String {
    if rows.is_empty() {
        "base".to_owned()
    } else {
        rows.join(", ")
    }
}

fn next_text(stopped: &Option<StoppedStep>) -> String {
    match stopped {
        Some(s) if !s.rolled_back && s.resumes => format!(
            " (the log says so: the same command continues revision {} with statement {})",
            s.revision, s.next
        ),
        Some(s) if !s.rolled_back => {
            " (check it by hand, then run `migrate stamp <revision>` to record where it is)"
                .to_owned()
        }
        _ => " (run the same command again to go on)".to_owned(),
    }
}

/// A statement of a revision that failed: which revision, file and statement, and the
/// database's message.
#[derive(Debug, thiserror::Error)]
#[error(
    "revision {revision} ({file}) failed at {direction} statement {number} of {total} (line {line} of the script): {excerpt}: {message}"
)]
pub struct StatementFailure {
    pub revision: String,
    pub file: String,
    pub direction: &'static str,
    pub number: usize,
    pub total: usize,
    pub line: usize,
    pub excerpt: String,
    pub message: String,
}
