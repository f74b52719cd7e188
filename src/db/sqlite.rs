//! SQLite: a file (or `:memory:`) opened without changing any persistent setting (sqlx
//! leaves `journal_mode` alone unless asked). There is no session lock: every step runs
//! in `BEGIN IMMEDIATE`, which takes SQLite's write lock, waiting up to the lock timeout
//! (the busy timeout); the OS drops it when the process dies.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::Connection;

use super::url::DatabaseUrl;
use super::{BookSql, Tables, LOG_COLUMNS};

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
            "CREATE TABLE IF NOT EXISTS {l} (id INTEGER PRIMARY KEY, \
             revision VARCHAR(255) NOT NULL, direction VARCHAR(16) NOT NULL, \
             started_at TIMESTAMP NOT NULL, duration_ms BIGINT NOT NULL, success BOOLEAN, \
             checksum VARCHAR(64), applied_by VARCHAR(255) NOT NULL, \
             tool_version VARCHAR(32) NOT NULL, git_commit VARCHAR(64), error TEXT)"
        ),
        table_exists: "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
        select_versions: format!("SELECT version_num FROM {v}"),
        insert_version: format!("INSERT INTO {v} (version_num) VALUES (?1)"),
        delete_version: format!("DELETE FROM {v} WHERE version_num = ?1"),
        update_version: format!("UPDATE {v} SET version_num = ?1 WHERE version_num = ?2"),
        insert_log: format!(
            "INSERT INTO {l} ({LOG_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
        ),
        finish_log: format!(
            "UPDATE {l} SET success = ?1, duration_ms = ?2, error = ?3 WHERE id = ?4"
        ),
        last_log: format!(
            "SELECT id, revision, direction, success, checksum, error FROM {l} \
             ORDER BY id DESC LIMIT 1"
        ),
        begin: "BEGIN",
        begin_locking: "BEGIN IMMEDIATE",
    }
}
