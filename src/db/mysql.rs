//! MySQL and MariaDB: DDL commits implicitly, so a step can't be rolled back as a whole;
//! the executor records each step before it runs and refuses to continue past a failed
//! one. The run lock is `GET_LOCK`, named per database (the lock namespace is the whole
//! server), released on unlock or when the session ends.

use std::time::Duration;

use std::str::FromStr;

use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};
use sqlx::Connection;

use super::url::DatabaseUrl;
use super::{BookDialect, BookSql, Tables};

/// MySQL/MariaDB: DDL commits implicitly, so a failed step may be half-applied; `GET_LOCK` is the run lock.
pub const CAPABILITIES: super::Capabilities = super::Capabilities {
    transactional_ddl: false,
    lock_is_write_transaction: false,
    begin_with_first_statement: false,
    batches: false,
};

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

/// MySQL/MariaDB's differences in the bookkeeping SQL.
pub const BOOK: BookDialect = BookDialect {
    placeholder: |_| "?".to_owned(),
    log_id: "id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY",
    timestamp: "DATETIME(6)",
    insert_log_suffix: "",
    table_exists: "SELECT COUNT(*) FROM information_schema.tables \
                   WHERE table_schema = DATABASE() AND table_name = ?",
    log_columns: "SELECT CAST(column_name AS CHAR) FROM information_schema.columns \
                  WHERE table_schema = DATABASE() AND table_name = ?",
    begin: "START TRANSACTION",
    begin_locking: "START TRANSACTION",
};

pub fn book_sql(t: &Tables) -> BookSql {
    BookSql::new(t, &BOOK)
}

/// The lock name: at most 64 characters, unique per database and version table.
const LOCK_NAME: &str = "CONCAT('migrate_', LEFT(SHA2(CONCAT(DATABASE(), ':', ?), 256), 40))";

/// Takes `GET_LOCK`, waiting up to `timeout` when another session holds it:
/// `Some(waited)`, or `None` when it stayed taken.
pub async fn lock(
    c: &mut MySqlConnection,
    key: &str,
    timeout: Duration,
) -> Result<Option<bool>, sqlx::Error> {
    let sql = format!("SELECT GET_LOCK({LOCK_NAME}, ?)");
    for (wait, seconds) in [(false, 0), (true, timeout.as_secs() as i64)] {
        let got: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
            .bind(key)
            .bind(seconds)
            .fetch_one(&mut *c)
            .await?;
        if got == Some(1) {
            return Ok(Some(wait));
        }
    }
    Ok(None)
}

pub async fn unlock(c: &mut MySqlConnection, key: &str) -> Result<(), sqlx::Error> {
    let sql = format!("SELECT RELEASE_LOCK({LOCK_NAME})");
    sqlx::query_scalar::<_, Option<i64>>(sqlx::AssertSqlSafe(sql))
        .bind(key)
        .fetch_one(c)
        .await
        .map(|_| ())
}
