//! Reading the audit log back: who applied what, where and when (`audit --applied`).

use chrono::{DateTime, NaiveDateTime, Utc};
use sqlx::{AssertSqlSafe, Row};

use super::{Conn, Database, DbError};

/// One audit-log step as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedStep {
    pub revision: String,
    /// `upgrade`, `downgrade` or `stamp`.
    pub direction: String,
    pub started_at: DateTime<Utc>,
    /// `None` for a step still running (or killed) outside a transaction.
    pub success: Option<bool>,
    pub applied_by: String,
    pub git_commit: Option<String>,
}

fn step<R: Row>(row: &R, started_at: DateTime<Utc>) -> Result<LoggedStep, sqlx::Error>
where
    for<'c> &'c str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database>,
    for<'r> Option<bool>: sqlx::Decode<'r, R::Database>,
    bool: sqlx::Type<R::Database>,
{
    Ok(LoggedStep {
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
    pub async fn read_log(&mut self) -> Result<Vec<LoggedStep>, DbError> {
        let log = self.tables.log.clone();
        if !self.table_exists(&log).await? {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT revision, direction, started_at, success, applied_by, git_commit \
             FROM {log} ORDER BY id DESC"
        );
        let q = AssertSqlSafe(sql);
        let r: Result<Vec<LoggedStep>, sqlx::Error> = match &mut self.conn {
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
