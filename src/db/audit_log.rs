//! The audit log beyond writing a step's row: reading it back (who applied what, where
//! and when, for `audit --applied`; the newest row, for the dirty-state rules), the
//! per-statement progress of a step outside a transaction, and bringing a log table of
//! an older release up to date.

use chrono::{DateTime, NaiveDateTime, Utc};
use sqlx::{AssertSqlSafe, Row};

use super::book::{progress_sql, PROGRESS_COLUMNS};
use super::{Conn, Database, DbError, LogRow, StepProgress};
use crate::core::{AppliedStep, Direction};

fn step<R: Row>(row: &R, started_at: DateTime<Utc>) -> Result<AppliedStep, sqlx::Error>
where
    for<'c> &'c str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database>,
    for<'r> Option<bool>: sqlx::Decode<'r, R::Database>,
    bool: sqlx::Type<R::Database>,
{
    Ok(AppliedStep {
        revision: row.try_get("revision")?,
        direction: row.try_get("direction")?,
        started_at,
        success: row.try_get("success")?,
        applied_by: row.try_get("applied_by")?,
        git_commit: row.try_get("git_commit")?,
    })
}

impl Database {
    /// Every audit-log row, newest first; empty when there is no log table yet.
    pub async fn read_log(&mut self) -> Result<Vec<AppliedStep>, DbError> {
        let log = self.tables.log.clone();
        if !self.table_exists(&log).await? {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT revision, direction, started_at, success, applied_by, git_commit \
             FROM {log} ORDER BY id DESC"
        );
        let q = AssertSqlSafe(sql);
        let r: Result<Vec<AppliedStep>, sqlx::Error> = match &mut self.conn {
            Conn::Sqlite(h) => {
                let rows = sqlx::query(q).fetch_all(h.get()).await;
                rows.and_then(|rows| {
                    rows.iter()
                        .map(|r| step(r, r.try_get::<DateTime<Utc>, _>("started_at")?))
                        .collect()
                })
            }
            Conn::Postgres(h) => {
                let rows = sqlx::query(q).fetch_all(h.get()).await;
                rows.and_then(|rows| {
                    rows.iter()
                        .map(|r| step(r, r.try_get::<DateTime<Utc>, _>("started_at")?))
                        .collect()
                })
            }
            Conn::Mysql(h) => {
                // DATETIME(6) holds UTC without a zone.
                let rows = sqlx::query(q).fetch_all(h.get()).await;
                rows.and_then(|rows| {
                    rows.iter()
                        .map(|r| step(r, r.try_get::<NaiveDateTime, _>("started_at")?.and_utc()))
                        .collect()
                })
            }
        };
        r.map_err(|e| self.query_error(&format!("reading {log}"), e))
    }
}

/// A column of `row` that a log table of an older release may not have: `None` then.
fn optional<'r, R: Row, T>(row: &'r R, column: &str) -> Result<Option<T>, sqlx::Error>
where
    for<'c> &'c str: sqlx::ColumnIndex<R>,
    T: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    match row.try_get::<Option<T>, _>(column) {
        Ok(v) => Ok(v),
        Err(sqlx::Error::ColumnNotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The newest log row as [`LogRow`], whatever the backend.
fn log_row<R: Row>(row: &R) -> Result<LogRow, sqlx::Error>
where
    for<'c> &'c str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let name: String = row.try_get("direction")?;
    let direction = Direction::parse(&name).ok_or_else(|| {
        let shown: String = name.chars().take(40).collect();
        sqlx::Error::Decode(format!("unknown direction {shown:?}").into())
    })?;
    let done: Option<i64> = optional(row, "statements_done")?;
    let in_doubt: Option<i64> = optional(row, "statement_in_doubt")?;
    let checksum: Option<String> = optional(row, "statements_checksum")?;
    let count = |n: i64| usize::try_from(n).unwrap_or(0);
    Ok(LogRow {
        id: row.try_get("id")?,
        revision: row.try_get("revision")?,
        direction,
        success: row.try_get("success")?,
        checksum: row.try_get("checksum")?,
        error: row.try_get("error")?,
        progress: done.map(|done| StepProgress {
            done: count(done),
            in_doubt: in_doubt.map(count).filter(|&n| n > 0),
            checksum: checksum.unwrap_or_default(),
        }),
    })
}

impl Database {
    /// The newest log row, if the log table exists and has one.
    pub async fn last_log(&mut self) -> Result<Option<LogRow>, DbError> {
        let log = self.tables.log.clone();
        if !self.table_exists(&log).await? {
            return Ok(None);
        }
        let q = AssertSqlSafe(self.sql.last_log.clone());
        let r: Result<Option<LogRow>, sqlx::Error> = match &mut self.conn {
            Conn::Sqlite(h) => match sqlx::query(q).fetch_optional(h.get()).await {
                Ok(row) => row.as_ref().map(log_row).transpose(),
                Err(e) => Err(e),
            },
            Conn::Postgres(h) => match sqlx::query(q).fetch_optional(h.get()).await {
                Ok(row) => row.as_ref().map(log_row).transpose(),
                Err(e) => Err(e),
            },
            Conn::Mysql(h) => match sqlx::query(q).fetch_optional(h.get()).await {
                Ok(row) => row.as_ref().map(log_row).transpose(),
                Err(e) => Err(e),
            },
        };
        r.map_err(|e| self.query_error(&format!("reading {log}"), e))
    }

    /// Adds the progress columns to a log table made by an older release (idempotent:
    /// only the missing ones; the run lock keeps two processes from racing).
    pub(super) async fn upgrade_log_table(&mut self) -> Result<(), DbError> {
        let log = self.tables.log.clone();
        let q = self.sql.log_columns;
        let name = log.clone();
        let r: Result<Vec<String>, sqlx::Error> = match &mut self.conn {
            Conn::Sqlite(h) => {
                sqlx::query_scalar::<_, String>(q)
                    .bind(name)
                    .fetch_all(h.get())
                    .await
            }
            Conn::Postgres(h) => {
                sqlx::query_scalar::<_, String>(q)
                    .bind(name)
                    .fetch_all(h.get())
                    .await
            }
            Conn::Mysql(h) => {
                sqlx::query_scalar::<_, String>(q)
                    .bind(name)
                    .fetch_all(h.get())
                    .await
            }
        };
        let have = r.map_err(|e| self.query_error(&format!("reading the columns of {log}"), e))?;
        for (column, kind) in PROGRESS_COLUMNS {
            if have.iter().any(|c| c.eq_ignore_ascii_case(column)) {
                continue;
            }
            let ddl = format!("ALTER TABLE {log} ADD COLUMN {column} {kind}");
            if let Err(e) = self.execute_raw(&ddl).await {
                return Err(self.query_error(&format!("adding column {column} to {log}"), e));
            }
        }
        Ok(())
    }

    /// Records how far the step of pending log row `id` got; with `recommit`, also
    /// commits the open transaction and starts another, in the same round trip.
    pub async fn set_progress(
        &mut self,
        id: i64,
        progress: &StepProgress,
        recommit: bool,
    ) -> Result<(), DbError> {
        let mut sql = progress_sql(&self.tables.log, id, progress);
        if recommit {
            sql.push_str(";\nCOMMIT;\n");
            sql.push_str(self.sql.begin_locking);
        }
        if let Err(e) = self.execute_raw(&sql).await {
            let log = self.tables.log.clone();
            return Err(self.query_error(&format!("writing to {log}"), e));
        }
        Ok(())
    }
}
