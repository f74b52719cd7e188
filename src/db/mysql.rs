//! MySQL and MariaDB: DDL commits implicitly, so a step can't be rolled back as a whole;
//! the executor records each step before it runs and refuses to continue past a failed
//! one. The run lock is `GET_LOCK`, named per database (the lock namespace is the whole
//! server), released on unlock or when the session ends.

use std::time::Duration;

use std::str::FromStr;

use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};
use sqlx::Connection;

use super::url::DatabaseUrl;
use super::{BookSql, Tables, LOG_COLUMNS};

/// Connects with the server's own session defaults (sqlx would otherwise add
/// `PIPES_AS_CONCAT` to `sql_mode` and set the time zone to UTC), so a revision behaves
/// online as it does in the `mysql`/`mariadb` client and in `--sql` scripts.
pub async fn connect(url: &DatabaseUrl) -> Result<MySqlConnection, sqlx::Error> {
    let options = MySqlConnectOptions::from_str(url.expose())?
        .pipes_as_concat(false)
        .no_engine_substitution(false)
        .timezone(None);
    MySqlConnection::connect_with(&options).await
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
            "CREATE TABLE IF NOT EXISTS {l} (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, \
             revision VARCHAR(255) NOT NULL, direction VARCHAR(16) NOT NULL, \
             started_at DATETIME(6) NOT NULL, duration_ms BIGINT NOT NULL, success BOOLEAN, \
             checksum VARCHAR(64), applied_by VARCHAR(255) NOT NULL, \
             tool_version VARCHAR(32) NOT NULL, git_commit VARCHAR(64), error TEXT)"
        ),
        table_exists: "SELECT COUNT(*) FROM information_schema.tables \
                       WHERE table_schema = DATABASE() AND table_name = ?",
        select_versions: format!("SELECT version_num FROM {v}"),
        insert_version: format!("INSERT INTO {v} (version_num) VALUES (?)"),
        delete_version: format!("DELETE FROM {v} WHERE version_num = ?"),
        update_version: format!("UPDATE {v} SET version_num = ? WHERE version_num = ?"),
        insert_log: format!(
            "INSERT INTO {l} ({LOG_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ),
        finish_log: format!("UPDATE {l} SET success = ?, duration_ms = ?, error = ? WHERE id = ?"),
        last_log: format!(
            "SELECT id, revision, direction, success, checksum, error FROM {l} \
             ORDER BY id DESC LIMIT 1"
        ),
        begin: "START TRANSACTION",
        begin_locking: "START TRANSACTION",
    }
}

/// The lock name: at most 64 characters, unique per database and version table.
const LOCK_NAME: &str = "CONCAT('migrate_', LEFT(SHA2(CONCAT(DATABASE(), ':', ?), 256), 40))";

/// Waits for `GET_LOCK` up to `timeout`; `Ok(false)` when it stayed taken.
pub async fn lock(
    c: &mut MySqlConnection,
    key: &str,
    timeout: Duration,
) -> Result<bool, sqlx::Error> {
    let sql = format!("SELECT GET_LOCK({LOCK_NAME}, ?)");
    let got: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(key)
        .bind(timeout.as_secs() as i64)
        .fetch_one(c)
        .await?;
    Ok(got == Some(1))
}

pub async fn unlock(c: &mut MySqlConnection, key: &str) -> Result<(), sqlx::Error> {
    let sql = format!("SELECT RELEASE_LOCK({LOCK_NAME})");
    sqlx::query_scalar::<_, Option<i64>>(sqlx::AssertSqlSafe(sql))
        .bind(key)
        .fetch_one(c)
        .await
        .map(|_| ())
}
