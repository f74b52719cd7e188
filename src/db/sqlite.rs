//! SQLite: a file (or `:memory:`) opened without changing any persistent setting (sqlx
//! leaves `journal_mode` alone unless asked). There is no session lock: every step runs
//! in `BEGIN IMMEDIATE`, which takes SQLite's write lock, waiting up to the lock timeout
//! (the busy timeout); the OS drops it when the process dies.
//!
//! A run of per-revision steps ([`Steps`]) holds sqlx's connection on the calling thread
//! and sends each revision as one batch, then its `COMMIT`; the next revision's batch
//! writes the duration of the one before, through its commit.

use std::str::FromStr;
use std::time::Duration;

use rusqlite::fallible_iterator::FallibleIterator;
use sqlx::sqlite::{LockedSqliteHandle, SqliteConnectOptions, SqliteConnection};
use sqlx::Connection;

use super::split::Statement;
use super::url::DatabaseUrl;
use super::{
    literal, log_insert_sql, query_failure, version_op_sql, BookDialect, BookSql, Booked, DbError,
    LogEntry, StartedAt, StepEnd, Tables,
};
use crate::core::{Dialect, VersionOp};

/// SQLite: DDL is transactional; `BEGIN IMMEDIATE` is the lock; steps run as batches on the held connection.
pub const CAPABILITIES: super::Capabilities = super::Capabilities {
    transactional_ddl: true,
    lock_is_write_transaction: true,
    begin_with_first_statement: false,
    batches: true,
};

pub async fn connect(
    url: &DatabaseUrl,
    create: bool,
    busy_timeout: Duration,
) -> Result<SqliteConnection, sqlx::Error> {
    let options = SqliteConnectOptions::from_str(url.expose())?
        .create_if_missing(create)
        .busy_timeout(busy_timeout);
    SqliteConnection::connect_with(&options).await
}

/// SQLite's differences in the bookkeeping SQL.
pub const BOOK: BookDialect = BookDialect {
    placeholder: |n| format!("?{n}"),
    log_id: "id INTEGER PRIMARY KEY",
    timestamp: "TIMESTAMP",
    insert_log_suffix: "",
    table_exists: "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
    log_columns: "SELECT name FROM pragma_table_info(?1)",
    begin: "BEGIN",
    begin_locking: "BEGIN IMMEDIATE",
};

pub fn book_sql(t: &Tables) -> BookSql {
    BookSql::new(t, &BOOK)
}

/// sqlx's SQLite connection, held by the calling thread.
///
/// Why: sqlx runs SQLite on a worker thread and answers each finished statement through a
/// channel, so every statement costs thread wake-ups, which were most of what `migrate`
/// added to SQLite's own work per revision. Holding the connection's handle for a run of
/// steps removes them all. The connection, its settings (the busy timeout included) and
/// everything outside the run stay sqlx's; rusqlite only prepares and steps statements.
pub struct Session<'c> {
    // Field order is drop order: `db` lets go of the handle before `_locked` returns it.
    db: rusqlite::Connection,
    _locked: LockedSqliteHandle<'c>,
}

impl<'c> Session<'c> {
    pub async fn open(conn: &'c mut SqliteConnection) -> Result<Session<'c>, String> {
        let mut locked = conn.lock_handle().await.map_err(|e| e.to_string())?;
        let raw = locked.as_raw_handle();
        // SAFETY: the handle is valid while `locked` lives, and `locked` keeps sqlx's
        // worker thread off it. `from_handle` borrows the handle (it never closes it), and
        // `db` is dropped before `locked` (field order above). Nothing here changes the
        // handle's settings.
        let db = unsafe { rusqlite::Connection::from_handle(raw.as_ptr()) }
            .map_err(|e| e.to_string())?;
        Ok(Session {
            db,
            _locked: locked,
        })
    }

    /// Runs `sql` (several statements) until the first error; on a multi-threaded tokio
    /// runtime the thread is handed over to blocking work meanwhile.
    fn run(&self, sql: &str, rows_of: usize) -> BatchRun {
        let multi_thread = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        if multi_thread {
            tokio::task::block_in_place(|| self.run_here(sql, rows_of))
        } else {
            self.run_here(sql, rows_of)
        }
    }

    fn run_here(&self, sql: &str, rows_of: usize) -> BatchRun {
        let mut run = BatchRun::default();
        let mut batch = rusqlite::Batch::new(&self.db, sql);
        let result = (|| -> rusqlite::Result<()> {
            while let Some(mut stmt) = batch.next()? {
                let index = run.finished.len();
                let mut rows = stmt.raw_query();
                while let Some(row) = rows.next()? {
                    if index == rows_of {
                        run.rows.push(row.get::<_, String>(0)?);
                    }
                }
                drop(rows);
                run.finished.push(self.db.changes());
            }
            Ok(())
        })();
        if let Err(e) = result {
            run.error = Some(BatchError::from(e));
        }
        run
    }
}

/// What [`Session::run`] did: the row count of each statement that finished (SQLite's
/// `changes()`, as sqlx reports it), the first column of the rows of statement `rows_of`,
/// and the error that stopped the batch, if one did.
#[derive(Debug, Default)]
struct BatchRun {
    finished: Vec<u64>,
    rows: Vec<String>,
    error: Option<BatchError>,
}

#[derive(Debug)]
struct BatchError {
    message: String,
    /// SQLITE_BUSY or SQLITE_LOCKED: the lock wait (busy timeout) ran out.
    busy: bool,
}

impl From<rusqlite::Error> for BatchError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        let busy = matches!(
            e.sqlite_error_code(),
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
        );
        let message = match &e {
            rusqlite::Error::SqliteFailure(_, Some(m)) => m.clone(),
            other => other.to_string(),
        };
        BatchError { message, busy }
    }
}

/// A run of per-revision steps on one held SQLite connection ([`super::Database::sqlite_steps`]):
/// each step is ONE batch of SQL and a `COMMIT`.
pub struct Steps<'a> {
    pub(super) session: Session<'a>,
    pub(super) url: &'a str,
    pub(super) scrub: Option<&'a DatabaseUrl>,
    pub(super) tables: &'a Tables,
    pub(super) sql: &'a BookSql,
    pub(super) lock_timeout: Duration,
}

impl Steps<'_> {
    fn failure(&self, action: &str, message: &str) -> DbError {
        query_failure(self.url, self.scrub, action, message)
    }

    /// Runs one step in one batch: `BEGIN IMMEDIATE`, the duration of the `previous`
    /// step (committed by now, so the duration includes its commit), the version rows,
    /// the step's `statements`, its version-row changes `ops` and its log row `entry`
    /// (whose `duration_ms` SQLite computes from `started_at` as the row is written; the
    /// next step, or [`Steps::book`], writes the duration through the commit). Nothing of
    /// the step is committed here.
    pub fn step(
        &mut self,
        previous: Option<Booked>,
        expected_rows: &[String],
        statements: &[Statement],
        ops: &[VersionOp],
        entry: &LogEntry,
    ) -> Result<StepEnd, DbError> {
        let d = Dialect::Sqlite;
        let mut sql = String::new();
        sql.push_str(self.sql.begin_locking);
        sql.push_str(";\n");
        if let Some(b) = previous {
            sql.push_str(&booked_sql(&self.tables.log, b));
            sql.push_str(";\n");
        }
        let rows_at = 1 + usize::from(previous.is_some());
        sql.push_str(&self.sql.select_versions);
        sql.push_str(";\n");
        for st in statements {
            // On its own line, so a trailing line comment can't swallow the `;`.
            sql.push_str(&st.text);
            sql.push_str("\n;\n");
        }
        for op in ops {
            sql.push_str(&version_op_sql(op, &self.tables.version, d));
            sql.push_str(";\n");
        }
        let started = literal(&entry.started_at.to_rfc3339(), d);
        let elapsed = format!(
            "MAX(0, CAST(ROUND((julianday('now') - julianday({started})) * 86400000.0) AS INTEGER))"
        );
        sql.push_str(&log_insert_sql(
            &self.tables.log,
            d,
            entry,
            StartedAt::Entry,
            &elapsed,
        ));

        // BEGIN, the previous step's duration, SELECT: the statements before the step's own.
        let prefix = rows_at + 1;
        let run = self.session.run(&sql, rows_at);
        let finished = run.finished.len();
        let failed = run.error.is_some();
        if let Some(e) = run.error {
            if finished == 0 {
                return Ok(StepEnd::BeginFailed(if e.busy {
                    DbError::LockTimeout {
                        url: self.url.to_owned(),
                        seconds: self.lock_timeout.as_secs(),
                    }
                } else {
                    self.failure("starting a transaction", &e.message)
                }));
            }
            if finished < prefix {
                return Ok(StepEnd::Failed);
            }
        }
        let mut rows = run.rows;
        rows.sort();
        if rows != expected_rows {
            return Ok(StepEnd::Moved(rows));
        }
        // One row each: the version-row changes, then the log row.
        let counts = run.finished.get(prefix..).unwrap_or_default();
        let book = ops.len() + 1;
        let bookkeeping_ok =
            counts.len() >= book && counts[counts.len() - book..].iter().all(|&n| n == 1);
        if failed || !bookkeeping_ok {
            return Ok(StepEnd::Failed);
        }
        Ok(StepEnd::Ran {
            log_id: self.session.db.last_insert_rowid(),
        })
    }

    /// Writes the duration of the last committed step (its own small transaction).
    pub fn book(&mut self, booked: Booked) -> Result<(), DbError> {
        match self
            .session
            .run(&booked_sql(&self.tables.log, booked), usize::MAX)
            .error
        {
            None => Ok(()),
            Some(e) => Err(self.failure("recording the step's duration", &e.message)),
        }
    }

    /// Commits the open step.
    pub fn commit(&mut self) -> Result<(), DbError> {
        match self.session.run("COMMIT", usize::MAX).error {
            None => Ok(()),
            Some(e) => Err(self.failure("committing", &e.message)),
        }
    }

    /// Rolls back the open step (best effort: the caller is already failing or
    /// planning again).
    pub fn rollback(&mut self) {
        let _ = self.session.run("ROLLBACK", usize::MAX);
    }
}

/// The UPDATE that writes a committed step's duration.
fn booked_sql(log: &str, b: Booked) -> String {
    format!(
        "UPDATE {log} SET duration_ms = {} WHERE id = {}",
        b.duration_ms, b.log_id
    )
}

impl super::StepBatch for Steps<'_> {
    fn step(
        &mut self,
        previous: Option<Booked>,
        expected_rows: &[String],
        statements: &[Statement],
        ops: &[VersionOp],
        entry: &LogEntry,
    ) -> Result<StepEnd, DbError> {
        Steps::step(self, previous, expected_rows, statements, ops, entry)
    }
    fn book(&mut self, booked: Booked) -> Result<(), DbError> {
        Steps::book(self, booked)
    }
    fn commit(&mut self) -> Result<(), DbError> {
        Steps::commit(self)
    }
    fn rollback(&mut self) {
        Steps::rollback(self)
    }
}
