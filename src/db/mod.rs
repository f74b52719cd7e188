//! Database adapter: one [`Database`] value in front of SQLite, PostgreSQL and
//! MySQL/MariaDB connections (sqlx), offering exactly what the executor needs: the version
//! rows, the audit log, the run lock, running SQL statement by statement, and transactions.
//!
//! Backend differences live in one module each ([`sqlite`], [`postgres`], [`mysql`]):
//! connection options, table DDL, placeholders and the lock. Everything else here is
//! written once and dispatched over the [`Conn`] enum.

pub mod admin;
mod audit_log;
mod backend;
pub mod book;
mod database;
pub mod mysql;
pub mod postgres;
pub mod split;
pub mod sqlalchemy;
pub mod sqlite;
pub mod url;

use std::time::Duration;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::pool::PoolConnection;

use crate::core::Direction;
pub use backend::{
    Backend, Booked, Capabilities, StatementError, StepBatch, StepEnd, StepProgress,
};
pub use book::{
    bool_literal, comment, literal, log_finish_sql, log_insert_sql, version_op_sql, BookDialect,
    BookSql, LogWrite, StartedAt,
};
pub use database::Database;
pub use url::{choose_url, DatabaseUrl, UrlError, UrlInputs, UrlSource};

/// Default name of the version table (one row per applied head).
pub const DEFAULT_VERSION_TABLE: &str = "migrate_version";
/// Default name of the append-only audit log table.
pub const DEFAULT_LOG_TABLE: &str = "migrate_log";
/// Default time to wait for another process's lock.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(60);

/// Errors of the database adapter. Every message names the (redacted) URL or the table.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot connect to {url}: {message}")]
    Connect { url: String, message: String },
    #[error("{url}: {action} failed: {message}")]
    Query {
        url: String,
        action: String,
        message: String,
    },
    #[error(
        "{url}: another migrate process holds the lock; gave up after {seconds} s (--lock-timeout)"
    )]
    LockTimeout { url: String, seconds: u64 },
    #[error(
        "expected to match one row when {action} in '{table}'; {found} found (another process changed the version table?)"
    )]
    RowCount {
        action: String,
        table: String,
        found: u64,
    },
    #[error(
        "table name '{name}' is not allowed; use letters, digits and _ (optionally schema.table)"
    )]
    BadTableName { name: String },
    #[error("table names: {reason}")]
    TableNames { reason: String },
}

/// Names of the two tables `migrate` keeps, checked to be plain identifiers so they can be
/// spliced into SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tables {
    pub version: String,
    pub log: String,
}

impl Default for Tables {
    fn default() -> Self {
        Self {
            version: DEFAULT_VERSION_TABLE.to_owned(),
            log: DEFAULT_LOG_TABLE.to_owned(),
        }
    }
}

impl Tables {
    pub fn new(version: &str, log: &str) -> Result<Self, DbError> {
        for name in [version, log] {
            let ok = !name.is_empty()
                && name.split('.').count() <= 2
                && name.split('.').all(|part| {
                    part.chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                        && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                });
            if !ok {
                return Err(DbError::BadTableName {
                    name: name.to_owned(),
                });
            }
            if let Some(word) = name
                .split('.')
                .find(|part| RESERVED.contains(&part.to_ascii_lowercase().as_str()))
            {
                return Err(DbError::TableNames {
                    reason: format!(
                        "'{word}' is a reserved word in SQL (PostgreSQL or MariaDB), so it can't name a table unquoted; pick another name, such as '{word}_version'"
                    ),
                });
            }
            if let Some(long) = name.split('.').find(|part| part.len() > MAX_NAME_BYTES) {
                return Err(DbError::TableNames {
                    reason: format!(
                        "'{long}' is {} bytes; PostgreSQL keeps only {MAX_NAME_BYTES} (MariaDB 64), so use a shorter name",
                        long.len()
                    ),
                });
            }
        }
        // `public.x` and `x` are one table under the default schema (database).
        let bare = |n: &str| n.rsplit('.').next().unwrap_or(n).to_ascii_lowercase();
        let one_unqualified = !version.contains('.') || !log.contains('.');
        if version.eq_ignore_ascii_case(log) || (one_unqualified && bare(version) == bare(log)) {
            return Err(DbError::TableNames {
                reason: format!(
                    "version_table and log_table are both '{version}'; they must be two different tables"
                ),
            });
        }
        Ok(Self {
            version: version.to_owned(),
            log: log.to_owned(),
        })
    }
}

/// Words reserved by PostgreSQL, MariaDB or SQLite that a bare table name can't be.
const RESERVED: &[&str] = &[
    "all",
    "alter",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "between",
    "both",
    "by",
    "case",
    "cast",
    "check",
    "collate",
    "column",
    "constraint",
    "create",
    "cross",
    "current_date",
    "current_role",
    "current_time",
    "current_timestamp",
    "current_user",
    "database",
    "default",
    "deferrable",
    "delete",
    "desc",
    "distinct",
    "do",
    "drop",
    "else",
    "end",
    "except",
    "exists",
    "false",
    "fetch",
    "for",
    "foreign",
    "from",
    "full",
    "grant",
    "group",
    "having",
    "in",
    "index",
    "initially",
    "inner",
    "insert",
    "intersect",
    "into",
    "is",
    "join",
    "key",
    "lateral",
    "leading",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "natural",
    "not",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "outer",
    "placing",
    "primary",
    "range",
    "references",
    "rename",
    "replace",
    "returning",
    "right",
    "schema",
    "select",
    "session_user",
    "set",
    "show",
    "some",
    "table",
    "then",
    "to",
    "trailing",
    "trigger",
    "true",
    "union",
    "unique",
    "update",
    "usage",
    "user",
    "using",
    "values",
    "variadic",
    "when",
    "where",
    "window",
    "with",
];

/// The longest identifier every backend keeps whole (PostgreSQL's NAMEDATALEN - 1).
const MAX_NAME_BYTES: usize = 63;

/// A connection we own or one borrowed from the caller's pool.
pub enum Handle<D: sqlx::Database> {
    Owned(D::Connection),
    Pooled(PoolConnection<D>),
}

impl<D: sqlx::Database> Handle<D> {
    fn get(&mut self) -> &mut D::Connection {
        match self {
            Handle::Owned(c) => c,
            Handle::Pooled(c) => c,
        }
    }
}

/// The backend connection.
pub enum Conn {
    Sqlite(Handle<sqlx::Sqlite>),
    Postgres(Handle<sqlx::Postgres>),
    Mysql(Handle<sqlx::MySql>),
}

/// One audit-log row.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    pub revision: String,
    pub direction: Direction,
    pub started_at: DateTime<Utc>,
    pub duration_ms: i64,
    /// `None` while a step runs outside a transaction (recorded first, finished later).
    pub success: Option<bool>,
    pub checksum: Option<String>,
    pub applied_by: String,
    pub tool_version: String,
    pub git_commit: Option<String>,
    pub error: Option<String>,
}

/// A row read back from the log.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRow {
    pub id: i64,
    pub revision: String,
    pub direction: Direction,
    pub success: Option<bool>,
    pub checksum: Option<String>,
    pub error: Option<String>,
    /// How far a step outside a transaction got (`None`: not recorded, as in rows
    /// written by older releases or by steps inside a transaction).
    pub progress: Option<StepProgress>,
}

/// How to open a database.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub tables: Tables,
    pub lock_timeout: Duration,
    /// Create the SQLite file when it is missing. `false` for read-only commands and
    /// `--dry-run`, which must not leave a file behind.
    pub create: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            tables: Tables::default(),
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            create: true,
        }
    }
}

/// What a driver error says, without the driver's internals: the server's own message
/// for a database error (not sqlx's "error returned from database:" nor the server's
/// source line, "at line 948"), and no `(sqlx_postgres::connection::tls:95)` locations.
pub fn driver_message(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => db.message().to_owned(),
        other => without_locations(&other.to_string()),
    }
}

/// `text` without ` (crate::module:line)` locations of the driver's source.
fn without_locations(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("(sqlx_") {
        let Some(len) = rest[at..].find(')') else {
            break;
        };
        out.push_str(rest[..at].trim_end_matches(' '));
        rest = &rest[at + len + 1..];
    }
    out.push_str(rest);
    out
}

#[test]
fn driver_locations_are_dropped() {
    assert_eq!(
        without_locations("tls handshake failed (sqlx_postgres::connection::tls:95): eof"),
        "tls handshake failed: eof"
    );
}

/// `text` without the password of `url`, when there is one.
fn scrubbed(url: Option<&DatabaseUrl>, text: &str) -> String {
    url.map_or_else(|| text.to_owned(), |u| u.scrub(text))
}

/// A failed query, naming the (redacted) database and what was being done.
fn query_failure(url: &str, scrub: Option<&DatabaseUrl>, action: &str, message: &str) -> DbError {
    DbError::Query {
        url: url.to_owned(),
        action: action.to_owned(),
        message: scrubbed(scrub, message),
    }
}

/// SHA-256 (hex) of SQL text with CRLF line endings normalised to LF.
pub fn checksum(sql: &str) -> String {
    let normal = sql.replace("\r\n", "\n");
    Sha256::digest(normal.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The checksum a step is logged with: none when it ran no SQL (absent, empty or only
/// whitespace, as a merge revision usually is).
pub fn sql_checksum(sql: Option<&str>) -> Option<String> {
    sql.filter(|s| !s.trim().is_empty()).map(checksum)
}

/// Whether the checksum `logged` for a step still matches its SQL `sql` now. Older
/// versions logged the checksum of empty SQL for a merge; that matches no SQL.
pub fn checksum_matches(logged: &str, sql: Option<&str>) -> bool {
    match sql_checksum(sql) {
        Some(now) => now == logged,
        None => logged == checksum(""),
    }
}

/// `user@host` of this process, for `applied_by`.
pub fn os_identity() -> String {
    let user = whoami::username().unwrap_or_else(|_| "unknown".into());
    let host = whoami::hostname().unwrap_or_else(|_| "unknown".into());
    format!("{user}@{host}")
}

#[cfg(test)]
mod tests {
    use super::database::lock_key;
    use super::*;

    #[test]
    fn checksum_ignores_line_endings() {
        assert_eq!(checksum("a;\r\nb;\r\n"), checksum("a;\nb;\n"));
        assert_ne!(checksum("a;"), checksum("b;"));
        assert_eq!(checksum("").len(), 64);
    }

    #[test]
    fn a_step_without_sql_has_no_checksum_and_old_empty_checksums_still_match() {
        assert_eq!(sql_checksum(None), None);
        assert_eq!(sql_checksum(Some(" \n")), None);
        assert_eq!(sql_checksum(Some("a;")), Some(checksum("a;")));
        assert!(checksum_matches(&checksum(""), None));
        assert!(checksum_matches(&checksum(""), Some("")));
        assert!(checksum_matches(&checksum("a;"), Some("a;")));
        assert!(!checksum_matches(&checksum("a;"), Some("b;")));
        assert!(!checksum_matches(&checksum("a;"), None));
    }

    #[test]
    fn reserved_words_and_one_table_under_two_names_are_refused() {
        for bad in ["order", "user", "public.select", "Group"] {
            let e = Tables::new(bad, "migrate_log").unwrap_err().to_string();
            assert!(e.contains("reserved word"), "{bad}: {e}");
        }
        let e = Tables::new("public.migrate_log", "migrate_log")
            .unwrap_err()
            .to_string();
        assert!(e.contains("two different tables"), "{e}");
        assert!(Tables::new("a.migrate_log", "b.migrate_log").is_ok());
        assert!(Tables::new("orders", "users_log").is_ok());
    }

    #[test]
    fn table_names_are_plain_identifiers() {
        assert!(Tables::new("alembic_version", "public.migrate_log").is_ok());
        for bad in ["", "a b", "x;drop", "a.b.c", "1abc", "a.\"b\""] {
            assert!(Tables::new(bad, "log").is_err(), "{bad}");
        }
    }

    #[test]
    fn the_two_tables_differ_and_fit_every_backend() {
        let same = Tables::new("Migrate_Version", "migrate_version").unwrap_err();
        assert!(same.to_string().contains("two different tables"), "{same}");
        let long = "t".repeat(64);
        let err = Tables::new(&long, "log").unwrap_err();
        assert!(err.to_string().contains("64 bytes"), "{err}");
        assert!(Tables::new(&"t".repeat(63), &format!("s.{}", "l".repeat(63))).is_ok());
    }

    /// Processes of different releases must agree on the key: it is pinned, not just
    /// compared with itself.
    #[test]
    fn lock_key_is_pinned_and_per_table() {
        assert_eq!(lock_key("migrate_version"), "9cb8e886f1455006");
        assert_ne!(lock_key("migrate_version"), lock_key("alembic_version"));
    }
}
