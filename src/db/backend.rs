//! The [`Backend`] trait: what the executor needs from a database, and nothing else.
//!
//! The apply algorithm (locking, per-step transactions, recording, the dirty-state and
//! re-plan rules) is written once in `crate::engine` against this trait, the way sqlx's
//! `Migrator` runs over each driver's `Migrate`. Where the backends differ in a way the
//! algorithm must know, they say so through [`Capabilities`] instead of the executor
//! asking which database it is. [`super::Database`] is the real implementation (each
//! backend's SQL, locks and capabilities in its own module); the engine's unit tests
//! use an in-memory one.

use std::future::Future;
use std::time::Instant;

use super::split::Statement;
use super::{DbError, LogEntry, LogRow, LogWrite};
use crate::core::{Dialect, VersionOp};

/// What a backend can do, as the executor's rules need to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// DDL runs inside a transaction and rolls back with it. Without it (MySQL/MariaDB,
    /// where DDL commits implicitly) a failed step may be half-applied: the step is
    /// recorded before it runs, a failure leaves the database dirty, and
    /// `--transaction all` is refused.
    pub transactional_ddl: bool,
    /// Runs are serialised by the write transaction itself rather than a session lock
    /// (SQLite): the bookkeeping tables are created under it, and the version rows are
    /// read again once a step's transaction holds it.
    pub lock_is_write_transaction: bool,
    /// `BEGIN` may travel with a step's first statement, saving a round trip (PostgreSQL).
    pub begin_with_first_statement: bool,
    /// Transactional steps can run as batches on a held connection ([`Backend::batch`]).
    pub batches: bool,
}

/// A statement the database refused: its own message, with the password scrubbed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct StatementError {
    pub message: String,
}

/// How far a step outside a transaction got, kept on its pending log row after each
/// statement, so a later run knows which statements took effect and which one is in
/// doubt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepProgress {
    /// The step's first `done` statements completed.
    pub done: usize,
    /// The statement (1-based) that was running when the process stopped: it may or may
    /// not have taken effect. `None`: no statement is in doubt (the step stopped between
    /// statements, or someone settled the doubt with `migrate resolve`).
    pub in_doubt: Option<usize>,
    /// SHA-256 (hex) of the first `done` statements' text, so a run that continues the
    /// step can tell they are still the statements that ran.
    pub checksum: String,
}

/// How a step run by [`StepBatch::step`] ended.
#[derive(Debug)]
pub enum StepEnd {
    /// The step's `BEGIN` failed (the lock wait ran out, say); no transaction is open.
    BeginFailed(DbError),
    /// Under the write lock the version rows are not the ones the step was planned for:
    /// another process moved them. These are the rows; the step's transaction is open.
    Moved(Vec<String>),
    /// A statement or the bookkeeping failed, or a version-row change hit other than one
    /// row; the step's transaction is open. (Run statement by statement, the step fails
    /// the same way and says where.)
    Failed,
    /// Everything ran; the step's transaction is open, to be committed. `log_id` is the
    /// step's log row.
    Ran { log_id: i64 },
}

/// A committed step's log row and its duration through its commit, written with the
/// next step (the row was written before the commit, so it could not know it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Booked {
    pub log_id: i64,
    pub duration_ms: i64,
}

/// A run of transactional steps on one held connection, each step one batch, committed
/// on its own so its duration can include its commit.
pub trait StepBatch {
    /// Runs one step: its `BEGIN`, the duration of the `previous` step (committed), a
    /// check that the version rows are `expected_rows`, its `statements`, its
    /// version-row changes `ops` and its log row `entry`. Nothing of the step is
    /// committed.
    fn step(
        &mut self,
        previous: Option<Booked>,
        expected_rows: &[String],
        statements: &[Statement],
        ops: &[VersionOp],
        entry: &LogEntry,
    ) -> Result<StepEnd, DbError>;
    /// Commits the open step.
    fn commit(&mut self) -> Result<(), DbError>;
    /// Rolls back the open step (best effort: the caller is already failing).
    fn rollback(&mut self);
    /// Writes the duration of the last committed step, outside any transaction.
    fn book(&mut self, booked: Booked) -> Result<(), DbError>;
    /// The clock steps are timed with ([`Backend::now`]).
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A database the executor can run a plan on.
pub trait Backend: Send {
    /// The held-connection batch of [`Backend::batch`].
    type Batch<'a>: StepBatch
    where
        Self: 'a;

    /// Which SQL of a revision runs here.
    fn dialect(&self) -> Dialect;
    fn capabilities(&self) -> Capabilities;
    /// `text` with the connection's password removed, for messages.
    fn scrub(&self, text: &str) -> String;

    /// Takes the run lock, waiting up to the lock timeout; `Ok(true)` when another
    /// process held it first (so it had to wait for it).
    fn lock(&mut self) -> impl Future<Output = Result<bool, DbError>> + Send;
    /// Releases the run lock taken by [`Backend::lock`].
    fn unlock(&mut self) -> impl Future<Output = Result<(), DbError>> + Send;
    /// The database user, for `applied_by`.
    fn db_user(&mut self) -> impl Future<Output = Option<String>> + Send;

    /// Starts a transaction; with `lock`, one that holds the write lock at once.
    fn begin(&mut self, lock: bool) -> impl Future<Output = Result<(), DbError>> + Send;
    fn commit(&mut self) -> impl Future<Output = Result<(), DbError>> + Send;
    fn rollback(&mut self) -> impl Future<Output = Result<(), DbError>> + Send;

    /// Creates the version and log tables if they are missing.
    fn ensure_tables(&mut self) -> impl Future<Output = Result<(), DbError>> + Send;
    /// The version rows, sorted; empty when the table doesn't exist yet.
    fn read_versions(&mut self) -> impl Future<Output = Result<Vec<String>, DbError>> + Send;
    /// Starts a write-locked transaction and reads the version rows under it.
    fn begin_locked_read_versions(
        &mut self,
    ) -> impl Future<Output = Result<Vec<String>, DbError>> + Send;
    /// The newest log row, if any.
    fn last_log(&mut self) -> impl Future<Output = Result<Option<LogRow>, DbError>> + Send;
    /// Appends a log row and returns its id.
    fn append_log(&mut self, e: &LogEntry) -> impl Future<Output = Result<i64, DbError>> + Send;
    /// Completes a log row written with `success = None`.
    fn finish_log(
        &mut self,
        id: i64,
        success: bool,
        duration_ms: i64,
        error: Option<String>,
    ) -> impl Future<Output = Result<(), DbError>> + Send;
    /// Records how far the step of pending log row `id` got; with `recommit`, commits the
    /// open transaction and starts another in the same round trip (so the progress is
    /// durable at once).
    fn set_progress(
        &mut self,
        id: i64,
        progress: &StepProgress,
        recommit: bool,
    ) -> impl Future<Output = Result<(), DbError>> + Send;
    /// A step's version-row changes and its log row, after `prefix` (a `BEGIN`) when given;
    /// every change must hit exactly one row.
    fn record_step(
        &mut self,
        ops: &[VersionOp],
        log: LogWrite<'_>,
        prefix: Option<&str>,
    ) -> impl Future<Output = Result<(), DbError>> + Send;
    /// Runs one statement of a revision; the error is the database's own message, with
    /// the password scrubbed.
    fn execute(&mut self, sql: &str) -> impl Future<Output = Result<(), StatementError>> + Send;
    /// The clock steps are timed with (tests use a virtual one).
    fn now(&self) -> Instant {
        Instant::now()
    }
    /// Holds the connection for a run of batched steps (only with
    /// [`Capabilities::batches`]).
    fn batch(&mut self) -> impl Future<Output = Result<Self::Batch<'_>, DbError>> + Send;
}
