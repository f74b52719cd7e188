//! PostgreSQL: transactional DDL; the run lock is a session-level advisory lock, tried
//! every 50 ms until the lock timeout (so no session setting changes), released on
//! unlock or when the session ends.

use std::time::{Duration, Instant};

use sqlx::postgres::PgConnection;
use sqlx::Connection;

use super::url::DatabaseUrl;
use super::{BookSql, Tables, LOG_COLUMNS};

pub async fn connect(url: &DatabaseUrl) -> Result<PgConnection, sqlx::Error> {
    PgConnection::connect(url.expose()).await
}

fn short(table: &str) -> &str {
    table.rsplit('.').next().unwrap_or(table)
}

pub fn book_sql(t: &Tables) -> BookSql {
    let (v, l) = (&t.version, &t.log);
    BookSql {
        create_version: format!(
            "CREATE TABLE IF NOT EXISTS {v} (version_num VARCHAR(32) NOT NULL, \
             CONSTRAINT {}_pkc PRIMARY KEY (version_num))",
            short(v)
        ),
        create_log: format!(
            "CREATE TABLE IF NOT EXISTS {l} (id BIGSERIAL PRIMARY KEY, \
             revision VARCHAR(255) NOT NULL, direction VARCHAR(16) NOT NULL, \
             started_at TIMESTAMPTZ NOT NULL, duration_ms BIGINT NOT NULL, success BOOLEAN, \
             checksum VARCHAR(64), applied_by VARCHAR(255) NOT NULL, \
             tool_version VARCHAR(32) NOT NULL, git_commit VARCHAR(64), error TEXT)"
        ),
        table_exists: "SELECT COUNT(*) FROM pg_catalog.pg_class WHERE oid = to_regclass($1)",
        select_versions: format!("SELECT version_num FROM {v}"),
        insert_version: format!("INSERT INTO {v} (version_num) VALUES ($1)"),
        delete_version: format!("DELETE FROM {v} WHERE version_num = $1"),
        update_version: format!("UPDATE {v} SET version_num = $1 WHERE version_num = $2"),
        insert_log: format!(
            "INSERT INTO {l} ({LOG_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             RETURNING id"
        ),
        finish_log: format!(
            "UPDATE {l} SET success = $1, duration_ms = $2, error = $3 WHERE id = $4"
        ),
        last_log: format!(
            "SELECT id, revision, direction, success, checksum, error FROM {l} \
             ORDER BY id DESC LIMIT 1"
        ),
        begin: "BEGIN",
        begin_locking: "BEGIN",
    }
}

fn key_number(key: &str) -> i64 {
    u64::from_str_radix(key, 16).unwrap_or(0x6d69_6772_6174_6500) as i64
}

/// Tries the advisory lock until `timeout`; `Ok(false)` when it stayed taken.
pub async fn lock(c: &mut PgConnection, key: &str, timeout: Duration) -> Result<bool, sqlx::Error> {
    // Have the server notice a vanished client even in the middle of a long statement,
    // so a killed process's session (and lock) ends at once (PostgreSQL 14+; a session
    // setting, ignored where unknown).
    let _ = sqlx::raw_sql("SET client_connection_check_interval = 1000")
        .execute(&mut *c)
        .await;
    let deadline = Instant::now() + timeout;
    let key = key_number(key);
    loop {
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(key)
            .fetch_one(&mut *c)
            .await?;
        if got {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn unlock(c: &mut PgConnection, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query_scalar::<_, bool>("SELECT pg_advisory_unlock($1)")
        .bind(key_number(key))
        .fetch_one(c)
        .await
        .map(|_| ())
}
