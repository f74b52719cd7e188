//! [`Database`]: one open connection with `migrate`'s bookkeeping, whatever the backend.
//!
//! The per-backend parts (bookkeeping SQL, locks, the SQLite batch session) live in
//! `sqlite.rs`, `postgres.rs` and `mysql.rs`; this type dispatches to them. The executor
//! sees it only through the [`super::Backend`] trait.

use std::path::Path;
use std::time::Duration;

use sha2::{Digest, Sha256};
use sqlx::pool::PoolConnection;
use sqlx::{AssertSqlSafe, Row};

use super::{
    book, driver_message, log_finish_sql, log_insert_sql, mysql, postgres, query_failure, scrubbed,
    sqlite, version_op_sql, BookSql, Conn, ConnectOptions, DatabaseUrl, DbError, Handle, LogEntry,
    LogRow, LogWrite, StartedAt, Tables, DEFAULT_LOCK_TIMEOUT,
};
use crate::core::{Dialect, VersionOp};

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

/// An open database with `migrate`'s bookkeeping.
pub struct Database {
    pub(super) conn: Conn,
    pub(super) url: String,
    pub(super) scrub: Option<DatabaseUrl>,
    pub(super) dialect: Dialect,
    pub(super) tables: Tables,
    pub(super) sql: BookSql,
    pub(super) lock_timeout: Duration,
    pub(super) locked: Option<String>,
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

    pub(super) fn query_error(&self, action: &str, e: sqlx::Error) -> DbError {
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

    pub(super) async fn table_exists(&mut self, table: &str) -> Result<bool, DbError> {
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
        } else {
            self.upgrade_log_table().await?;
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
        let e = stored_entry(e);
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
                .bind(error.as_deref().map(stored))
                .bind(id)
                .execute(c)
                .await
                .map(|_| ())
        });
        let table = self.tables.log.clone();
        r.map_err(|err| self.query_error(&format!("writing to {table}"), err))
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
    pub async fn lock(&mut self) -> Result<bool, DbError> {
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
            Conn::Sqlite(_) => Ok(Some(false)),
            Conn::Postgres(h) => postgres::lock(h.get(), &key, timeout).await,
            Conn::Mysql(h) => mysql::lock(h.get(), &key, timeout).await,
        };
        match got {
            Ok(Some(waited)) => {
                self.locked = Some(key);
                Ok(waited)
            }
            Ok(None) => Err(DbError::LockTimeout {
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

    /// Reads the connected database's schema into the model (autogenerate, `check`,
    /// the offline replay), on this same connection.
    pub async fn introspect(
        &mut self,
        opts: &crate::schema::introspect::IntrospectOptions,
    ) -> Result<crate::schema::Schema, crate::schema::introspect::IntrospectError> {
        use crate::schema::introspect::{mysql, postgres, sqlite};
        match &mut self.conn {
            Conn::Sqlite(h) => sqlite::introspect(h.get(), opts).await,
            Conn::Postgres(h) => postgres::introspect(h.get(), opts).await,
            Conn::Mysql(h) => mysql::introspect(h.get(), opts).await,
        }
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

pub(super) fn is_sqlite_busy(e: &sqlx::Error) -> bool {
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
pub(super) fn lock_key(version_table: &str) -> String {
    let digest = Sha256::digest(format!("migrate:{version_table}").as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

impl super::Backend for Database {
    type Batch<'a> = sqlite::Steps<'a>;

    fn dialect(&self) -> Dialect {
        self.dialect
    }
    fn capabilities(&self) -> super::Capabilities {
        match self.dialect {
            Dialect::Sqlite => sqlite::CAPABILITIES,
            Dialect::Postgres => postgres::CAPABILITIES,
            Dialect::Mysql => mysql::CAPABILITIES,
        }
    }
    fn scrub(&self, text: &str) -> String {
        Database::scrub(self, text)
    }
    async fn lock(&mut self) -> Result<bool, DbError> {
        Database::lock(self).await
    }
    async fn unlock(&mut self) -> Result<(), DbError> {
        Database::unlock(self).await
    }
    async fn db_user(&mut self) -> Option<String> {
        Database::db_user(self).await
    }
    async fn begin(&mut self, lock: bool) -> Result<(), DbError> {
        Database::begin(self, lock).await
    }
    async fn commit(&mut self) -> Result<(), DbError> {
        Database::commit(self).await
    }
    async fn rollback(&mut self) -> Result<(), DbError> {
        Database::rollback(self).await
    }
    async fn ensure_tables(&mut self) -> Result<(), DbError> {
        Database::ensure_tables(self).await
    }
    async fn read_versions(&mut self) -> Result<Vec<String>, DbError> {
        Database::read_versions(self).await
    }
    async fn begin_locked_read_versions(&mut self) -> Result<Vec<String>, DbError> {
        Database::begin_locked_read_versions(self).await
    }
    async fn last_log(&mut self) -> Result<Option<LogRow>, DbError> {
        Database::last_log(self).await
    }
    async fn append_log(&mut self, e: &LogEntry) -> Result<i64, DbError> {
        Database::append_log(self, e).await
    }
    async fn finish_log(
        &mut self,
        id: i64,
        success: bool,
        duration_ms: i64,
        error: Option<String>,
    ) -> Result<(), DbError> {
        Database::finish_log(self, id, success, duration_ms, error).await
    }
    async fn set_progress(
        &mut self,
        id: i64,
        progress: &super::StepProgress,
        recommit: bool,
    ) -> Result<(), DbError> {
        Database::set_progress(self, id, progress, recommit).await
    }
    async fn record_step(
        &mut self,
        ops: &[VersionOp],
        log: LogWrite<'_>,
        prefix: Option<&str>,
    ) -> Result<(), DbError> {
        Database::record_step(self, ops, log, prefix).await
    }
    async fn execute(&mut self, sql: &str) -> Result<(), super::StatementError> {
        if self.dialect == Dialect::Postgres && sql.contains('\0') {
            // PostgreSQL's protocol ends the query text at a NUL, and the server takes
            // the rest as a broken message: refuse it here, with the connection intact.
            return Err(super::StatementError {
                message: "the statement contains a NUL byte (\\0), which PostgreSQL does not accept in SQL text".to_owned(),
            });
        }
        match self.execute_raw(sql).await {
            Ok(()) => Ok(()),
            Err(e) => Err(super::StatementError {
                message: self.scrub(&driver_message(&e)),
            }),
        }
    }
    async fn batch(&mut self) -> Result<sqlite::Steps<'_>, DbError> {
        self.sqlite_steps().await
    }
}

/// Text as the log stores it: a NUL, which no backend keeps in text, becomes U+FFFD.
pub(super) fn stored(text: &str) -> String {
    text.replace('\0', "\u{fffd}")
}

/// A log entry with every text field [`stored`].
fn stored_entry(e: &LogEntry) -> LogEntry {
    let opt = |t: &Option<String>| t.as_deref().map(stored);
    LogEntry {
        revision: stored(&e.revision),
        applied_by: stored(&e.applied_by),
        tool_version: stored(&e.tool_version),
        checksum: opt(&e.checksum),
        git_commit: opt(&e.git_commit),
        error: opt(&e.error),
        ..e.clone()
    }
}
