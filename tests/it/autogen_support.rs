//! A live connection to any of the three backends, for the autogenerate tests.

use migrate::core::Dialect;
use migrate::schema::introspect::{self, IntrospectOptions};
use migrate::schema::Schema;
use sqlx::Connection;

use super::support::{Server, TestDb};

/// One open connection, whichever backend it is.
pub enum Live {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
    Mysql(sqlx::MySqlConnection),
}

/// A fresh database for `dialect`: a temp SQLite file or a TestDb on a server.
/// `None` when the server is unreachable outside CI (TestDb prints SKIPPED).
pub struct Fresh {
    pub dialect: Dialect,
    pub url: String,
    _db: Option<TestDb>,
    _dir: Option<tempfile::TempDir>,
}

impl Fresh {
    pub fn new(dialect: Dialect) -> Option<Fresh> {
        match dialect {
            Dialect::Sqlite => {
                let dir = tempfile::tempdir().expect("a temp dir");
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("db.sqlite").display()
                );
                Some(Fresh {
                    dialect,
                    url,
                    _db: None,
                    _dir: Some(dir),
                })
            }
            Dialect::Postgres | Dialect::Mysql => {
                let server = if dialect == Dialect::Postgres {
                    Server::Postgres
                } else {
                    Server::Mysql
                };
                let db = TestDb::new(server)?;
                Some(Fresh {
                    dialect,
                    url: db.url.clone(),
                    _db: Some(db),
                    _dir: None,
                })
            }
        }
    }

    pub async fn connect(&self) -> Live {
        match self.dialect {
            Dialect::Sqlite => Live::Sqlite(
                sqlx::SqliteConnection::connect(&self.url)
                    .await
                    .expect("sqlite opens"),
            ),
            Dialect::Postgres => Live::Postgres(
                sqlx::PgConnection::connect(&self.url)
                    .await
                    .expect("postgres connects"),
            ),
            Dialect::Mysql => Live::Mysql(
                sqlx::MySqlConnection::connect(&self.url)
                    .await
                    .expect("mariadb connects"),
            ),
        }
    }
}

impl Live {
    /// Runs a multi-statement script, panicking with the script on error.
    pub async fn exec(&mut self, sql: &str) {
        let q = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()));
        let r = match self {
            Live::Sqlite(c) => q.execute(c).await.map(|_| ()),
            Live::Postgres(c) => q.execute(c).await.map(|_| ()),
            Live::Mysql(c) => q.execute(c).await.map(|_| ()),
        };
        if let Err(e) = r {
            panic!("SQL failed: {e}\n---\n{sql}");
        }
    }

    /// Reads the schema (on PostgreSQL with the `billing` schema the schema tests use).
    pub async fn introspect(&mut self) -> Schema {
        let opts = IntrospectOptions {
            schemas: vec!["billing".into()],
            ..IntrospectOptions::default()
        };
        match self {
            Live::Sqlite(c) => introspect::sqlite::introspect(c, &opts).await,
            Live::Postgres(c) => introspect::postgres::introspect(c, &opts).await,
            Live::Mysql(c) => introspect::mysql::introspect(c, &opts).await,
        }
        .expect("introspection works")
    }

    /// The values of one text column, in `order` order, as strings.
    pub async fn strings(&mut self, sql: &'static str) -> Vec<String> {
        match self {
            Live::Sqlite(c) => sqlx::query_scalar(sql).fetch_all(c).await,
            Live::Postgres(c) => sqlx::query_scalar(sql).fetch_all(c).await,
            Live::Mysql(c) => sqlx::query_scalar(sql).fetch_all(c).await,
        }
        .expect("query works")
    }

    pub async fn count(&mut self, sql: &'static str) -> i64 {
        match self {
            Live::Sqlite(c) => sqlx::query_scalar(sql).fetch_one(c).await,
            Live::Postgres(c) => sqlx::query_scalar(sql).fetch_one(c).await,
            Live::Mysql(c) => sqlx::query_scalar(sql).fetch_one(c).await,
        }
        .expect("query works")
    }
}
