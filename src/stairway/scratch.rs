//! The stairway's scratch database: a SQLite file in a new temporary directory, or a
//! uniquely named database created beside the one a server URL names (which is never
//! opened). It is dropped afterwards by [`Scratch::drop`], which the caller runs on
//! success, on error and after an interrupt.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{AssertSqlSafe, Connection};

use crate::core::{Dialect, RevisionGraph};
use crate::db::admin::{self, AdminError};
use crate::db::{self, Conn, Database, DatabaseUrl, Handle, Tables};
use crate::engine::{self, EngineError, Planner, RunOptions, Silent};

/// Why the scratch database could not be made, opened or dropped.
#[derive(Debug, thiserror::Error)]
pub enum ScratchError {
    #[error("can't make a temporary directory for the scratch database in {}: {message}", dir.display())]
    TempDir { dir: PathBuf, message: String },
    #[error("can't name a scratch database beside {url}: {message}")]
    Name { url: String, message: String },
    #[error("can't create the scratch database {url}: {source}")]
    Create {
        url: String,
        #[source]
        source: AdminError,
    },
    #[error("can't open the scratch database {url}: {message}")]
    Open { url: String, message: String },
    #[error("can't drop the scratch database {url}: {message}")]
    Drop { url: String, message: String },
}

/// What was made, so it can be removed.
#[derive(Debug)]
enum Made {
    /// The temporary directory holding the SQLite file.
    SqliteDir(PathBuf),
    /// A database on the server.
    Server,
}

/// The scratch database of one `migrate test` run.
#[derive(Debug)]
pub struct Scratch {
    /// The scratch database's URL (never the one the user named).
    pub url: DatabaseUrl,
    made: Made,
    /// MySQL/MariaDB session ids of the connections opened on it, ended before the drop.
    sessions: Vec<u64>,
}

/// What a walk runs on: the executor's [`Database`], and a reader for the schema and the
/// `--data` rows.
///
/// On a server these are two connections. On SQLite they are one connection, held in a
/// pool of one and handed to the executor for each plan (as a service hands its pool's
/// connection to `engine::run`) and to the reader in between: a second SQLite connection
/// would re-read the whole schema after every step, which over 1,000 tables is most of
/// the walk.
pub struct Connections {
    inner: Inner,
    tables: Tables,
}

enum Inner {
    Shared(sqlx::SqlitePool),
    Pair { db: Box<Database>, reader: Reader },
}

/// The reader, borrowed (a server's own connection) or taken from the SQLite pool for
/// a while.
pub enum ReaderRef<'a> {
    Borrowed(&'a mut Reader),
    Taken(Reader),
}

impl std::ops::Deref for ReaderRef<'_> {
    type Target = Reader;
    fn deref(&self) -> &Reader {
        match self {
            ReaderRef::Borrowed(r) => r,
            ReaderRef::Taken(r) => r,
        }
    }
}

impl std::ops::DerefMut for ReaderRef<'_> {
    fn deref_mut(&mut self) -> &mut Reader {
        match self {
            ReaderRef::Borrowed(r) => r,
            ReaderRef::Taken(r) => r,
        }
    }
}

/// The reading connection.
pub enum Reader {
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>),
    Postgres(sqlx::PgConnection),
    Mysql(sqlx::MySqlConnection),
}

impl Reader {
    pub fn dialect(&self) -> Dialect {
        match self {
            Reader::Sqlite(_) => Dialect::Sqlite,
            Reader::Postgres(_) => Dialect::Postgres,
            Reader::Mysql(_) => Dialect::Mysql,
        }
    }

    /// Runs SQL text as is.
    pub async fn execute(&mut self, sql: &str) -> Result<u64, sqlx::Error> {
        let q = sqlx::raw_sql(AssertSqlSafe(sql.to_owned()));
        Ok(match self {
            Reader::Sqlite(c) => q.execute(&mut **c).await?.rows_affected(),
            Reader::Postgres(c) => q.execute(c).await?.rows_affected(),
            Reader::Mysql(c) => q.execute(c).await?.rows_affected(),
        })
    }

    /// The first column of the first row, as a count.
    pub async fn count(&mut self, sql: &str) -> Result<i64, sqlx::Error> {
        let sql = || AssertSqlSafe(sql.to_owned());
        match self {
            Reader::Sqlite(c) => sqlx::query_scalar(sql()).fetch_one(&mut **c).await,
            Reader::Postgres(c) => sqlx::query_scalar(sql()).fetch_one(c).await,
            Reader::Mysql(c) => sqlx::query_scalar(sql()).fetch_one(c).await,
        }
    }

    async fn close(self) {
        let _ = match self {
            Reader::Sqlite(_) => Ok(()),
            Reader::Postgres(c) => c.close().await,
            Reader::Mysql(c) => c.close().await,
        };
    }
}

impl Connections {
    pub fn dialect(&self) -> Dialect {
        match &self.inner {
            Inner::Shared(_) => Dialect::Sqlite,
            Inner::Pair { db, .. } => db.dialect(),
        }
    }

    /// Runs the plan `planner` makes through the executor ([`engine::run`]).
    pub async fn run(
        &mut self,
        graph: &RevisionGraph,
        planner: &(dyn Planner + Sync),
        options: &RunOptions,
    ) -> Result<(), EngineError> {
        match &mut self.inner {
            Inner::Pair { db, .. } => engine::run(&mut **db, graph, planner, options, &mut Silent)
                .await
                .map(drop),
            Inner::Shared(pool) => {
                let conn = pool.acquire().await.map_err(|e| {
                    EngineError::Db(db::DbError::Connect {
                        url: "the scratch database".into(),
                        message: db::driver_message(&e),
                    })
                })?;
                let mut db = Database::from_sqlite_pool(conn, &self.tables);
                db.set_lock_timeout(db::DEFAULT_LOCK_TIMEOUT);
                let r = engine::run(&mut db, graph, planner, options, &mut Silent).await;
                db.close().await;
                r.map(drop)
            }
        }
    }

    /// The reader.
    pub async fn reader(&mut self) -> Result<ReaderRef<'_>, sqlx::Error> {
        match &mut self.inner {
            Inner::Pair { reader, .. } => Ok(ReaderRef::Borrowed(reader)),
            Inner::Shared(pool) => Ok(ReaderRef::Taken(Reader::Sqlite(pool.acquire().await?))),
        }
    }

    /// Closes the connections cleanly (after a finished walk; after an interrupt they
    /// are dropped instead, and the drop ends their sessions).
    pub async fn close(self) {
        match self.inner {
            Inner::Shared(pool) => pool.close().await,
            Inner::Pair { db, reader } => {
                db.close().await;
                reader.close().await;
            }
        }
    }
}

/// A random suffix for names: 8 hex digits of a v4 UUID.
fn random_suffix() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    id.get(..8).unwrap_or("00000000").to_owned()
}

/// The scratch database's name: `<name>_migrate_test_<random>`, the named database's
/// name cut (at a character boundary) so the whole fits every server's limit.
pub fn scratch_name(named: &str, dialect: Dialect) -> String {
    let suffix = format!("_migrate_test_{}", random_suffix());
    // PostgreSQL keeps 63 bytes, MySQL/MariaDB 64 characters: 63 bytes fits both.
    let room = 63 - suffix.len();
    let mut base = String::new();
    for c in named.chars() {
        if base.len() + c.len_utf8() > room {
            break;
        }
        base.push(c);
    }
    if dialect == Dialect::Mysql {
        // A MySQL name can't end with a space; nor, cut here, may the base.
        base = base.trim_end().to_owned();
    }
    format!("{base}{suffix}")
}

/// `url` with its database replaced by `name` (the path, and PostgreSQL's `dbname=`
/// parameter when it is there).
fn url_with_database(url: &DatabaseUrl, name: &str) -> Result<DatabaseUrl, String> {
    let mut parsed = url::Url::parse(url.expose()).map_err(|e| e.to_string())?;
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if pairs.iter().any(|(k, _)| k == "dbname") {
        let mut q = parsed.query_pairs_mut();
        q.clear();
        for (k, v) in &pairs {
            q.append_pair(k, if k == "dbname" { name } else { v });
        }
    }
    // One path segment, percent-encoded as the drivers decode it.
    parsed
        .path_segments_mut()
        .map_err(|()| "the URL has no path".to_owned())?
        .clear()
        .push(name);
    DatabaseUrl::parse(parsed.as_str()).map_err(|e| e.to_string())
}

impl Scratch {
    /// Makes the scratch database: beside `named` on its server, or (`None`, or a SQLite
    /// URL) a SQLite file in a new directory under the system's temporary directory.
    pub async fn create(named: Option<&DatabaseUrl>) -> Result<Scratch, ScratchError> {
        let server = named.filter(|u| u.dialect() != Dialect::Sqlite);
        let Some(named) = server else {
            return Self::create_sqlite();
        };
        let fail = |message: String| ScratchError::Name {
            url: named.to_string(),
            message,
        };
        let base = admin::database_name(named).map_err(|e| fail(e.to_string()))?;
        let name = scratch_name(&base, named.dialect());
        let url = url_with_database(named, &name).map_err(fail)?;
        match admin::create_server_database(&url).await {
            Ok(admin::Created::Created) => Ok(Scratch {
                url,
                made: Made::Server,
                sessions: Vec::new(),
            }),
            // Random names don't collide; if one did, it is someone else's: leave it.
            Ok(admin::Created::AlreadyExists) => Err(ScratchError::Name {
                url: named.to_string(),
                message: format!("a database named {name:?} exists already"),
            }),
            Err(source) => Err(ScratchError::Create {
                url: url.to_string(),
                source,
            }),
        }
    }

    fn create_sqlite() -> Result<Scratch, ScratchError> {
        let tmp = std::env::temp_dir();
        let mut last = String::new();
        for _ in 0..8 {
            let dir = tmp.join(format!("migrate-test-{}", random_suffix()));
            match std::fs::create_dir(&dir) {
                Ok(()) => {
                    let file = dir.join("scratch.db");
                    let url = DatabaseUrl::parse(&format!("sqlite://{}", file.display())).map_err(
                        |e| ScratchError::TempDir {
                            dir: tmp.clone(),
                            message: e.to_string(),
                        },
                    )?;
                    return Ok(Scratch {
                        url,
                        made: Made::SqliteDir(dir),
                        sessions: Vec::new(),
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => last = e.to_string(),
            }
        }
        Err(ScratchError::TempDir {
            dir: tmp,
            message: last,
        })
    }

    /// Opens the executor's connection (as `upgrade` opens one) and the reader.
    pub async fn open(&mut self, tables: &Tables) -> Result<Connections, ScratchError> {
        let url = &self.url;
        let fail = |e: sqlx::Error| ScratchError::Open {
            url: url.to_string(),
            message: url.scrub(&db::driver_message(&e)),
        };
        let timeout = db::DEFAULT_LOCK_TIMEOUT;
        let (conn, reader) = match url.dialect() {
            Dialect::Sqlite => {
                // As `db::sqlite::connect` opens it; a scratch file is thrown away, so no
                // commit waits for the disk or creates and deletes a journal file.
                let options = SqliteConnectOptions::from_str(url.expose())
                    .map_err(fail)?
                    .create_if_missing(true)
                    .busy_timeout(timeout)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Off);
                let pool = SqlitePoolOptions::new()
                    .max_connections(1)
                    .test_before_acquire(false)
                    .connect_with(options)
                    .await
                    .map_err(fail)?;
                return Ok(Connections {
                    inner: Inner::Shared(pool),
                    tables: tables.clone(),
                });
            }
            Dialect::Postgres => {
                let main = db::postgres::connect(url).await.map_err(fail)?;
                let reader = db::postgres::connect(url).await.map_err(fail)?;
                (
                    Conn::Postgres(Handle::Owned(main)),
                    Reader::Postgres(reader),
                )
            }
            Dialect::Mysql => {
                let mut main = db::mysql::connect(url).await.map_err(fail)?;
                let mut reader = db::mysql::connect(url).await.map_err(fail)?;
                for c in [&mut main, &mut reader] {
                    let id: u64 = sqlx::query_scalar("SELECT CONNECTION_ID()")
                        .fetch_one(&mut *c)
                        .await
                        .map_err(fail)?;
                    self.sessions.push(id);
                }
                (Conn::Mysql(Handle::Owned(main)), Reader::Mysql(reader))
            }
        };
        let mut db = Database::from_conn(conn, tables, self.url.to_string());
        db.set_lock_timeout(timeout);
        Ok(Connections {
            inner: Inner::Pair {
                db: Box::new(db),
                reader,
            },
            tables: tables.clone(),
        })
    }

    /// Removes the scratch database. Sessions still open on it (a walk cut short by a
    /// signal) are ended first: `WITH (FORCE)` on PostgreSQL, `KILL` on MySQL/MariaDB.
    /// Waits at most `timeout`.
    pub async fn drop(self, timeout: Duration) -> Result<(), ScratchError> {
        let shown = self.url.to_string();
        let fail = |message: String| ScratchError::Drop {
            url: shown.clone(),
            message,
        };
        match &self.made {
            Made::SqliteDir(dir) => {
                std::fs::remove_dir_all(dir).map_err(|e| fail(format!("{}: {e}", dir.display())))
            }
            Made::Server => {
                let work = async {
                    if self.url.dialect() == Dialect::Mysql {
                        self.end_mysql_sessions().await;
                    }
                    let force = self.url.dialect() == Dialect::Postgres;
                    admin::drop_database(&self.url, force)
                        .await
                        .map(drop)
                        .map_err(|e| fail(e.to_string()))
                };
                match tokio::time::timeout(timeout, work).await {
                    Ok(r) => r,
                    Err(_) => Err(fail(format!(
                        "gave up after {} s; drop it by hand",
                        timeout.as_secs()
                    ))),
                }
            }
        }
    }

    /// Ends this run's own sessions on the scratch database (best effort: a session
    /// already gone is fine).
    async fn end_mysql_sessions(&self) {
        if self.sessions.is_empty() {
            return;
        }
        let Ok(mut c) = db::mysql::connect(&self.url).await else {
            return;
        };
        for id in &self.sessions {
            let _ = sqlx::raw_sql(AssertSqlSafe(format!("KILL {id}")))
                .execute(&mut c)
                .await;
        }
        let _ = c.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_names_fit_and_stay_beside_the_named_one() {
        let n = scratch_name("app", Dialect::Postgres);
        assert!(n.starts_with("app_migrate_test_"), "{n}");
        assert_eq!(n.len(), "app_migrate_test_".len() + 8);
        assert_ne!(n, scratch_name("app", Dialect::Postgres));
        let long = "é".repeat(60);
        let n = scratch_name(&long, Dialect::Mysql);
        assert!(n.len() <= 63, "{} bytes", n.len());
        assert!(n.starts_with('é'));
    }

    #[test]
    fn the_url_names_the_scratch_database_and_keeps_the_rest() {
        let url =
            DatabaseUrl::parse("postgres://u:p%40ss@h:5433/app?sslmode=disable").expect("url");
        let s = url_with_database(&url, "app_migrate_test_1").expect("scratch url");
        assert_eq!(
            s.expose(),
            "postgres://u:p%40ss@h:5433/app_migrate_test_1?sslmode=disable"
        );
        let url = DatabaseUrl::parse("postgres://u@h/?dbname=app").expect("url");
        let s = url_with_database(&url, "a b").expect("scratch url");
        assert_eq!(s.expose(), "postgres://u@h/a%20b?dbname=a+b");
        let url = DatabaseUrl::parse("mysql://root@h:3306").expect("url");
        let s = url_with_database(&url, "x_migrate_test_2").expect("scratch url");
        assert_eq!(s.expose(), "mysql://root@h:3306/x_migrate_test_2");
    }
}
