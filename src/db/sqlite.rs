//! SQLite: a file (or `:memory:`) opened without changing any persistent setting (sqlx
//! leaves `journal_mode` alone unless asked). There is no session lock: every step runs
//! in `BEGIN IMMEDIATE`, which takes SQLite's write lock, waiting up to the lock timeout
//! (the busy timeout); the OS drops it when the process dies.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::Connection;

use super::url::DatabaseUrl;
use super::{BookDialect, BookSql, Tables};

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
    begin: "BEGIN",
    begin_locking: "BEGIN IMMEDIATE",
};

pub fn book_sql(t: &Tables) -> BookSql {
    BookSql::new(t, &BOOK)
}
