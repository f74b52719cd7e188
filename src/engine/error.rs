//! Why a run stopped: the executor's errors, each naming the revision, its file and the
//! statement.

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
