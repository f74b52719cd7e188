//! Database adapter: one [`Database`] value in front of SQLite, PostgreSQL and
//! MySQL/MariaDB connections (sqlx), offering exactly what the executor needs: the version
//! rows, the audit log, the run lock, running SQL statement by statement, and transactions.
//!
//! Backend differences live in one module each ([`sqlite`], [`postgres`], [`mysql`]):
//! connection options, table DDL, placeholders and the lock. Everything else here is
//! written once and dispatched over the [`Conn`] enum.

pub mod admin;
mod audit_log;
pub mod book;
pub mod mysql;
pub mod postgres;
pub mod split;
pub mod sqlalchemy;
pub mod sqlite;
pub mod url;

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::pool::PoolConnection;
use sqlx::{AssertSqlSafe, Row};

use crate::core::{Dialect, Direction, VersionOp};
pub use book::{
    bool_literal, comment, literal, log_finish_sql, log_insert_sql, version_op_sql, BookDialect,
    BookSql, LogWrite, StartedAt,
};
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

/// Binds a [`LogEntry`]'s fields in the column order of `insert_log`.
macro_rules! bind_log {
    ($q:expr, $e:expr) => {
        $q.bind($e.revision)
            .bind($e.direction.name())
            .bind($e.started_at)
            .bind($e.duration_ms)
            .bind($e.success)
            .bind($e.checksum)
            .bind($e.applied_by)
            .bind($e.tool_version)
            .bind($e.git_commit)
            .bind($e.error)
    };
}

/// Runs `$body` with `$c` bound to the concrete connection, whatever the backend.
macro_rules! on_conn {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            Conn::Sqlite(h) => {
                let $c = h.get();
                $body
            }
            Conn::Postgres(h) => {
                let $c = h.get();
                $body
            }
            Conn::Mysql(h) => {
                let $c = h.get();
                $body
            }
        }
    };
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
    pub direction: String,
    pub success: Option<bool>,
    pub checksum: Option<String>,
    pub error: Option<String>,
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

/// An open database with `migrate`'s bookkeeping.
pub struct Database {
    conn: Conn,
    url: String,
    scrub: Option<DatabaseUrl>,
    dialect: Dialect,
    tables: Tables,
    sql: BookSql,
    lock_timeout: Duration,
    locked: Option<String>,
}

impl Database {
    /// Connects to `url`. Returns `Ok(None)` for a SQLite file that doesn't exist when
    /// `options.create` is false.
    pub async fn connect(
        url: &DatabaseUrl,
        options: ConnectOptions,
    ) -> Result<Option<Self>, DbError> {
        let fail = |e: sqlx::Error| DbError::Connect {
            url: url.to_string(),
            message: url.scrub(&driver_message(&e)),
        };
        let conn = match url.dialect() {
            Dialect::Sqlite => {
                if !options.create {
                    if let Some(path) = url.sqlite_path() {
                        if !Path::new(&path).exists() {
                            return Ok(None);
                        }
                    }
                }
                let c = sqlite::connect(url, options.create, options.lock_timeout)
                    .await
                    .map_err(fail)?;
                Conn::Sqlite(Handle::Owned(c))
            }
            Dialect::Postgres => {
                Conn::Postgres(Handle::Owned(postgres::connect(url).await.map_err(fail)?))
            }
            Dialect::Mysql => Conn::Mysql(Handle::Owned(mysql::connect(url).await.map_err(fail)?)),
        };
        let mut db = Self::from_conn(conn, &options.tables, url.to_string());
        db.scrub = Some(url.clone());
        db.lock_timeout = options.lock_timeout;
        Ok(Some(db))
    }

    /// Wraps a connection the caller already has (a service's own pool, for example).
    pub fn from_conn(conn: Conn, tables: &Tables, shown_url: String) -> Self {
        let dialect = match &conn {
            Conn::Sqlite(_) => Dialect::Sqlite,
            Conn::Postgres(_) => Dialect::Postgres,
            Conn::Mysql(_) => Dialect::Mysql,
        };
        let sql = match dialect {
            Dialect::Sqlite => sqlite::book_sql(tables),
            Dialect::Postgres => postgres::book_sql(tables),
            Dialect::Mysql => mysql::book_sql(tables),
        };
        Self {
            conn,
            url: shown_url,
            scrub: None,
            dialect,
            tables: tables.clone(),
            sql,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            locked: None,
        }
    }

    /// A connection taken from a SQLite pool.
    pub fn from_sqlite_pool(conn: PoolConnection<sqlx::Sqlite>, tables: &Tables) -> Self {
        Self::from_conn(
            Conn::Sqlite(Handle::Pooled(conn)),
            tables,
            "sqlite pool".into(),
        )
    }

    /// A connection taken from a PostgreSQL pool.
    pub fn from_postgres_pool(conn: PoolConnection<sqlx::Postgres>, tables: &Tables) -> Self {
        Self::from_conn(
            Conn::Postgres(Handle::Pooled(conn)),
            tables,
            "postgres pool".into(),
        )
    }

    /// A connection taken from a MySQL/MariaDB pool.
    pub fn from_mysql_pool(conn: PoolConnection<sqlx::MySql>, tables: &Tables) -> Self {
        Self::from_conn(
            Conn::Mysql(Handle::Pooled(conn)),
            tables,
            "mysql pool".into(),
        )
    }

    pub fn set_lock_timeout(&mut self, timeout: Duration) {
        self.lock_timeout = timeout;
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub fn tables(&self) -> &Tables {
        &self.tables
    }

    /// The URL as it may be shown (password redacted).
    pub fn shown_url(&self) -> &str {
        &self.url
    }

    /// Error text with any password removed.
    pub fn scrub(&self, text: &str) -> String {
        scrubbed(self.scrub.as_ref(), text)
    }

    fn query_error(&self, action: &str, e: sqlx::Error) -> DbError {
        query_failure(&self.url, self.scrub.as_ref(), action, &driver_message(&e))
    }

    /// Runs SQL text as is (one or more statements, no parameters).
    pub async fn execute_raw(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        let q = sqlx::raw_sql(AssertSqlSafe(sql.to_owned()));
        on_conn!(&mut self.conn, c => q.execute(c).await.map(|_| ()))
    }

    async fn exec_action(&mut self, sql: &str, action: &str) -> Result<(), DbError> {
        match self.execute_raw(sql).await {
            Ok(()) => Ok(()),
            Err(e) => Err(self.query_error(action, e)),
        }
    }

    /// Starts a transaction; on SQLite with `lock`, `BEGIN IMMEDIATE` takes the write lock
    /// (waiting up to the lock timeout).
    pub async fn begin(&mut self, lock: bool) -> Result<(), DbError> {
        let sql = if lock {
            self.sql.begin_locking
        } else {
            self.sql.begin
        };
        match self.execute_raw(sql).await {
            Ok(()) => Ok(()),
            Err(e) if self.dialect == Dialect::Sqlite && is_sqlite_busy(&e) => {
                Err(DbError::LockTimeout {
                    url: self.url.clone(),
                    seconds: self.lock_timeout.as_secs(),
                })
            }
            Err(e) => Err(self.query_error("starting a transaction", e)),
        }
    }

    pub async fn commit(&mut self) -> Result<(), DbError> {
        self.exec_action("COMMIT", "committing").await
    }

    /// Rolls back; errors are ignored by callers that are already failing, so this
    /// returns them for the others.
    pub async fn rollback(&mut self) -> Result<(), DbError> {
        self.exec_action("ROLLBACK", "rolling back").await
    }

    async fn table_exists(&mut self, table: &str) -> Result<bool, DbError> {
        let q = self.sql.table_exists;
        let name = table.to_owned();
        let r: Result<i64, sqlx::Error> = on_conn!(&mut self.conn, c => {
            sqlx::query_scalar::<_, i64>(q).bind(name).fetch_one(c).await
        });
        r.map(|n| n > 0)
            .map_err(|e| self.query_error(&format!("looking for table {table}"), e))
    }

    /// Creates the version and log tables if they are missing.
    pub async fn ensure_tables(&mut self) -> Result<(), DbError> {
        let version = self.tables.version.clone();
        if !self.table_exists(&version).await? {
            let ddl = self.sql.create_version.clone();
            self.exec_action(&ddl, &format!("creating table {version}"))
                .await?;
        }
        let log = self.tables.log.clone();
        if !self.table_exists(&log).await? {
            let ddl = self.sql.create_log.clone();
            self.exec_action(&ddl, &format!("creating table {log}"))
                .await?;
        }
        Ok(())
    }

    /// The version rows, sorted; empty when the table doesn't exist yet.
    pub async fn read_versions(&mut self) -> Result<Vec<String>, DbError> {
        let version = self.tables.version.clone();
        if !self.table_exists(&version).await? {
            return Ok(Vec::new());
        }
        let q = AssertSqlSafe(self.sql.select_versions.clone());
        let r: Result<Vec<String>, sqlx::Error> = on_conn!(&mut self.conn, c => {
            sqlx::query_scalar::<_, String>(q).fetch_all(c).await
        });
        let mut rows = r.map_err(|e| self.query_error(&format!("reading {version}"), e))?;
        rows.sort();
        Ok(rows)
    }

    /// `BEGIN IMMEDIATE` and the version rows in one call (SQLite, tables known to exist):
    /// the rows as they are under the write lock.
    pub async fn begin_locked_read_versions(&mut self) -> Result<Vec<String>, DbError> {
        let sql = format!("{};\n{}", self.sql.begin_locking, self.sql.select_versions);
        let q = sqlx::raw_sql(AssertSqlSafe(sql));
        let r: Result<Vec<String>, sqlx::Error> = on_conn!(&mut self.conn, c => {
            async {
                let rows = q.fetch_all(c).await?;
                rows.iter().map(|r| r.try_get::<String, _>(0)).collect()
            }
            .await
        });
        match r {
            Ok(mut rows) => {
                rows.sort();
                Ok(rows)
            }
            Err(e) if self.dialect == Dialect::Sqlite && is_sqlite_busy(&e) => {
                Err(DbError::LockTimeout {
                    url: self.url.clone(),
                    seconds: self.lock_timeout.as_secs(),
                })
            }
            Err(e) => Err(self.query_error("starting a transaction", e)),
        }
    }

    /// Makes a step's version-table changes and writes its log row in ONE round trip
    /// (after `prefix`, e.g. a `BEGIN`, when given); every change must hit exactly one row.
    /// The caller's transaction is not committed here, so a mismatch rolls everything back.
    pub async fn record_step(
        &mut self,
        ops: &[VersionOp],
        log: LogWrite<'_>,
        prefix: Option<&str>,
    ) -> Result<(), DbError> {
        let d = self.dialect;
        let mut sql = String::new();
        if let Some(p) = prefix {
            sql.push_str(p);
            sql.push_str(";\n");
        }
        for op in ops {
            sql.push_str(&version_op_sql(op, &self.tables.version, d));
            sql.push_str(";\n");
        }
        match log {
            LogWrite::Insert(e) => {
                sql.push_str(&log_insert_sql(
                    &self.tables.log,
                    d,
                    e,
                    StartedAt::Entry,
                    &e.duration_ms.to_string(),
                ));
            }
            LogWrite::Finish {
                id,
                success,
                duration_ms,
                error,
            } => {
                sql.push_str(&log_finish_sql(
                    &self.tables.log,
                    d,
                    id,
                    success,
                    duration_ms,
                    error.as_deref(),
                ));
            }
        }
        let q = sqlx::raw_sql(AssertSqlSafe(sql));
        let r: Result<u64, sqlx::Error> =
            on_conn!(&mut self.conn, c => q.execute(c).await.map(|r| r.rows_affected()));
        let found = r.map_err(|e| self.query_error("recording the step", e))?;
        let expected = ops.len() as u64 + 1;
        if found != expected {
            let action = ops
                .iter()
                .map(|op| match op {
                    VersionOp::Insert { version } => format!("inserting '{version}'"),
                    VersionOp::Delete { version } => format!("deleting '{version}'"),
                    VersionOp::Update { from, to } => format!("updating '{from}' to '{to}'"),
                })
                .collect::<Vec<_>>()
                .join(", ");
            return Err(DbError::RowCount {
                action,
                table: self.tables.version.clone(),
                found: found.saturating_sub(1),
            });
        }
        Ok(())
    }

    /// Takes sqlx's SQLite connection onto the calling thread for a run of steps
    /// ([`sqlite::Steps`]); the connection is sqlx's again when they are dropped.
    pub async fn sqlite_steps(&mut self) -> Result<sqlite::Steps<'_>, DbError> {
        let Database {
            conn,
            url,
            scrub,
            dialect,
            tables,
            sql,
            lock_timeout,
            ..
        } = self;
        let failure = |message: String| DbError::Query {
            url: url.clone(),
            action: "taking the SQLite connection".to_owned(),
            message,
        };
        let Conn::Sqlite(h) = conn else {
            return Err(failure(format!("not a SQLite database ({dialect})")));
        };
        let session = sqlite::Session::open(h.get()).await.map_err(failure)?;
        Ok(sqlite::Steps {
            session,
            url,
            scrub: scrub.as_ref(),
            tables,
            sql,
            lock_timeout: *lock_timeout,
        })
    }

    /// Appends a log row and returns its id.
    pub async fn append_log(&mut self, e: &LogEntry) -> Result<i64, DbError> {
        let sql = self.sql.insert_log.clone();
        let e = e.clone();
        let r: Result<i64, sqlx::Error> = match &mut self.conn {
            Conn::Sqlite(h) => bind_log!(sqlx::query(AssertSqlSafe(sql)), e)
                .execute(h.get())
                .await
                .map(|r| r.last_insert_rowid()),
            Conn::Postgres(h) => {
                bind_log!(sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql)), e)
                    .fetch_one(h.get())
                    .await
            }
            Conn::Mysql(h) => bind_log!(sqlx::query(AssertSqlSafe(sql)), e)
                .execute(h.get())
                .await
                .map(|r| r.last_insert_id() as i64),
        };
        let table = self.tables.log.clone();
        r.map_err(|err| self.query_error(&format!("writing to {table}"), err))
    }

    /// Completes a log row written with `success = None`.
    pub async fn finish_log(
        &mut self,
        id: i64,
        success: bool,
        duration_ms: i64,
        error: Option<String>,
    ) -> Result<(), DbError> {
        let sql = self.sql.finish_log.clone();
        let r: Result<_, sqlx::Error> = on_conn!(&mut self.conn, c => {
            sqlx::query(AssertSqlSafe(sql))
                .bind(success)
                .bind(duration_ms)
                .bind(error)
                .bind(id)
                .execute(c)
                .await
                .map(|_| ())
        });
        let table = self.tables.log.clone();
        r.map_err(|err| self.query_error(&format!("writing to {table}"), err))
    }

    /// The newest log row, if the log table exists and has one.
    pub async fn last_log(&mut self) -> Result<Option<LogRow>, DbError> {
        let log = self.tables.log.clone();
        if !self.table_exists(&log).await? {
            return Ok(None);
        }
        let q = AssertSqlSafe(self.sql.last_log.clone());
        let r: Result<Option<LogRow>, sqlx::Error> = on_conn!(&mut self.conn, c => {
            async {
                match sqlx::query(q).fetch_optional(c).await? {
                    Some(row) => Ok(Some(LogRow {
                        id: row.try_get("id")?,
                        revision: row.try_get("revision")?,
                        direction: row.try_get("direction")?,
                        success: row.try_get("success")?,
                        checksum: row.try_get("checksum")?,
                        error: row.try_get("error")?,
                    })),
                    None => Ok(None),
                }
            }
            .await
        });
        r.map_err(|e| self.query_error(&format!("reading {log}"), e))
    }

    /// Checksums of the newest successful upgrade of each revision, for `check`.
    pub async fn applied_checksums(&mut self) -> Result<Vec<(String, Option<String>)>, DbError> {
        let log = self.tables.log.clone();
        if !self.table_exists(&log).await? {
            return Ok(Vec::new());
        }
        let sql = book::applied_checksums_sql(&log, self.dialect);
        let r: Result<Vec<(String, Option<String>)>, sqlx::Error> = on_conn!(&mut self.conn, c => {
            sqlx::query_as::<_, (String, Option<String>)>(AssertSqlSafe(sql)).fetch_all(c).await
        });
        r.map_err(|e| self.query_error(&format!("reading {log}"), e))
    }

    /// The database user, for `applied_by`.
    pub async fn db_user(&mut self) -> Option<String> {
        let q = match self.dialect {
            Dialect::Sqlite => return None,
            Dialect::Postgres => "SELECT CAST(current_user AS TEXT)",
            Dialect::Mysql => "SELECT CAST(CURRENT_USER() AS CHAR)",
        };
        let r: Result<String, sqlx::Error> = on_conn!(&mut self.conn, c => {
            sqlx::query_scalar::<_, String>(q).fetch_one(c).await
        });
        r.ok()
    }

    /// Takes the run lock (PostgreSQL advisory lock, MySQL `GET_LOCK`), waiting up to the
    /// lock timeout. SQLite has no session lock: each step's `BEGIN IMMEDIATE` takes the
    /// write lock instead. The server drops the lock when the session ends, so a killed
    /// process leaves none behind.
    pub async fn lock(&mut self) -> Result<(), DbError> {
        let timeout = self.lock_timeout;
        let version = self.tables.version.clone();
        let key = match &mut self.conn {
            Conn::Postgres(h) => match postgres::canonical_table(h.get(), &version).await {
                Ok(name) => lock_key(&name),
                Err(e) => return Err(self.query_error("taking the migrate lock", e)),
            },
            _ => lock_key(&version),
        };
        let got = match &mut self.conn {
            Conn::Sqlite(_) => Ok(true),
            Conn::Postgres(h) => postgres::lock(h.get(), &key, timeout).await,
            Conn::Mysql(h) => mysql::lock(h.get(), &key, timeout).await,
        };
        match got {
            Ok(true) => {
                self.locked = Some(key);
                Ok(())
            }
            Ok(false) => Err(DbError::LockTimeout {
                url: self.url.clone(),
                seconds: timeout.as_secs(),
            }),
            Err(e) => Err(self.query_error("taking the migrate lock", e)),
        }
    }

    /// Releases the run lock taken by [`Database::lock`].
    pub async fn unlock(&mut self) -> Result<(), DbError> {
        let Some(key) = self.locked.take() else {
            return Ok(());
        };
        let r = match &mut self.conn {
            Conn::Sqlite(_) => Ok(()),
            Conn::Postgres(h) => postgres::unlock(h.get(), &key).await,
            Conn::Mysql(h) => mysql::unlock(h.get(), &key).await,
        };
        r.map_err(|e| self.query_error("releasing the migrate lock", e))
    }

    /// Closes an owned connection cleanly (a pooled one goes back to its pool).
    pub async fn close(self) {
        use sqlx::Connection;
        match self.conn {
            Conn::Sqlite(Handle::Owned(c)) => {
                let _ = c.close().await;
            }
            Conn::Postgres(Handle::Owned(c)) => {
                let _ = c.close().await;
            }
            Conn::Mysql(Handle::Owned(c)) => {
                let _ = c.close().await;
            }
            _ => {}
        }
    }
}

fn is_sqlite_busy(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            let code = d.code();
            matches!(code.as_deref(), Some("5") | Some("6") | Some("517"))
                || d.message().contains("database is locked")
        }
        _ => false,
    }
}

/// A stable lock name for a version table: the same on every host and run.
fn lock_key(version_table: &str) -> String {
    let digest = Sha256::digest(format!("migrate:{version_table}").as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
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

/// `user@host` of this process, for `applied_by`.
pub fn os_identity() -> String {
    let user = whoami::username().unwrap_or_else(|_| "unknown".into());
    let host = whoami::hostname().unwrap_or_else(|_| "unknown".into());
    format!("{user}@{host}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_ignores_line_endings() {
        assert_eq!(checksum("a;\r\nb;\r\n"), checksum("a;\nb;\n"));
        assert_ne!(checksum("a;"), checksum("b;"));
        assert_eq!(checksum("").len(), 64);
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
