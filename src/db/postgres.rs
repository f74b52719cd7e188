//! PostgreSQL: transactional DDL; the run lock is a session-level advisory lock, tried
//! every 50 ms until the lock timeout (so no session setting changes), released on
//! unlock or when the session ends.

use std::time::{Duration, Instant};

use sqlx::postgres::PgConnection;
use sqlx::Connection;

use super::url::DatabaseUrl;
use super::{BookDialect, BookSql, Tables};

/// PostgreSQL: transactional DDL, a session advisory lock, `BEGIN` sent with the first statement.
pub const CAPABILITIES: super::Capabilities = super::Capabilities {
    transactional_ddl: true,
    lock_is_write_transaction: false,
    begin_with_first_statement: true,
    batches: false,
};

pub async fn connect(url: &DatabaseUrl) -> Result<PgConnection, sqlx::Error> {
    PgConnection::connect(url.expose()).await
}

/// PostgreSQL's differences in the bookkeeping SQL.
pub const BOOK: BookDialect = BookDialect {
    placeholder: |n| format!("${n}"),
    log_id: "id BIGSERIAL PRIMARY KEY",
    timestamp: "TIMESTAMPTZ",
    insert_log_suffix: " RETURNING id",
    table_exists: "SELECT COUNT(*) FROM pg_catalog.pg_class WHERE oid = to_regclass($1)",
    log_columns: "SELECT CAST(attname AS TEXT) FROM pg_catalog.pg_attribute \
                  WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped",
    begin: "BEGIN",
    begin_locking: "BEGIN",
};

pub fn book_sql(t: &Tables) -> BookSql {
    BookSql::new(t, &BOOK)
}

fn key_number(key: &str) -> i64 {
    u64::from_str_radix(key, 16).unwrap_or(0x6d69_6772_6174_6500) as i64
}

/// The version table as the server knows it, for the lock key: unquoted names fold to
/// lower case, and a schema that is the session's current one is dropped, so
/// `migrate_version`, `MIGRATE_VERSION` and `public.migrate_version` (under the default
/// search path) are one table and take one lock, with the key earlier releases used for
/// the bare name.
pub async fn canonical_table(c: &mut PgConnection, name: &str) -> Result<String, sqlx::Error> {
    let lower = name.to_ascii_lowercase();
    let Some((schema, table)) = lower.split_once('.') else {
        return Ok(lower);
    };
    let current: Option<String> = sqlx::query_scalar("SELECT CAST(current_schema() AS TEXT)")
        .fetch_one(&mut *c)
        .await?;
    Ok(if current.as_deref() == Some(schema) {
        table.to_owned()
    } else {
        lower
    })
}

/// Tries the advisory lock until `timeout`: `Some(waited)` (whether another session held
/// it first), or `None` when it stayed taken.
pub async fn lock(
    c: &mut PgConnection,
    key: &str,
    timeout: Duration,
) -> Result<Option<bool>, sqlx::Error> {
    // Have the server notice a vanished client even in the middle of a long statement,
    // so a killed process's session (and lock) ends at once (PostgreSQL 14+; a session
    // setting, ignored where unknown).
    let _ = sqlx::raw_sql("SET client_connection_check_interval = 1000")
        .execute(&mut *c)
        .await;
    let deadline = Instant::now() + timeout;
    let key = key_number(key);
    let mut waited = false;
    loop {
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(key)
            .fetch_one(&mut *c)
            .await?;
        if got {
            return Ok(Some(waited));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        waited = true;
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
