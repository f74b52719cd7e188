//! Creating and dropping whole databases (`migrate database create|drop|reset`), as
//! sqlx-cli's `sqlx database` does: a SQLite file, or `CREATE DATABASE` / `DROP DATABASE`
//! on a server, sent over a connection to the server's maintenance database (`postgres`,
//! or `template1` when the database is `postgres` itself, as `createdb` does; no database
//! at all on MySQL/MariaDB).
//!
//! Why not sqlx's `MigrateDatabase`: it splices the MySQL name into backquotes without
//! doubling an embedded backquote, and it can't tell "created" from "already there".
//! Here the name, read from the URL exactly as the driver reads it, reaches SQL only as a
//! quoted identifier ([`quote_identifier`]); a name the server can't hold unchanged is
//! refused before connecting.

use std::path::PathBuf;
use std::str::FromStr;

use sqlx::mysql::MySqlConnectOptions;
use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, Connection};

use super::url::DatabaseUrl;
use super::{driver_message, mysql, DbError};
use crate::core::Dialect;

/// Why a database can't be created or dropped.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("database URL {url} names no database")]
    NoDatabaseName { url: String },
    #[error("database URL {url} can't be read: {message}")]
    BadUrl { url: String, message: String },
    #[error("database name {name:?} can't be used on {dialect}: {reason}")]
    BadName {
        name: String,
        dialect: Dialect,
        reason: String,
    },
    #[error("{url} is an in-memory SQLite database; there is no file to create or drop")]
    InMemory { url: String },
    #[error("can't remove {}: {message}", path.display())]
    Remove { path: PathBuf, message: String },
    #[error(transparent)]
    Db(#[from] DbError),
}

/// What `create` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    Created,
    AlreadyExists,
}

/// What `drop` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    Dropped,
    DidNotExist,
}

/// The longest PostgreSQL identifier (NAMEDATALEN - 1 bytes); longer ones are cut.
const PG_MAX_BYTES: usize = 63;
/// The longest MySQL/MariaDB database name, in characters.
const MYSQL_MAX_CHARS: usize = 64;

/// `name` as a quoted identifier of `dialect`: `"..."` on PostgreSQL (and SQLite),
/// `` `...` `` on MySQL/MariaDB, the quote character doubled inside. A name the server
/// would not keep exactly as given (empty, a NUL, too long, a trailing space or a
/// character outside the Basic Multilingual Plane on MySQL) is an error.
pub fn quote_identifier(dialect: Dialect, name: &str) -> Result<String, AdminError> {
    let bad = |reason: String| AdminError::BadName {
        name: name.to_owned(),
        dialect,
        reason,
    };
    if name.is_empty() {
        return Err(bad("the name is empty".into()));
    }
    if name.contains('\0') {
        return Err(bad("it contains a NUL character".into()));
    }
    match dialect {
        Dialect::Postgres | Dialect::Sqlite => {
            if dialect == Dialect::Postgres && name.len() > PG_MAX_BYTES {
                return Err(bad(format!(
                    "it is {} bytes and PostgreSQL keeps only {PG_MAX_BYTES}",
                    name.len()
                )));
            }
            Ok(format!("\"{}\"", name.replace('"', "\"\"")))
        }
        Dialect::Mysql => {
            let chars = name.chars().count();
            if chars > MYSQL_MAX_CHARS {
                return Err(bad(format!(
                    "it is {chars} characters and MySQL/MariaDB keep at most {MYSQL_MAX_CHARS}"
                )));
            }
            if name.ends_with(' ') {
                return Err(bad("MySQL/MariaDB names can't end with a space".into()));
            }
            if let Some(c) = name.chars().find(|c| u32::from(*c) > 0xFFFF) {
                return Err(bad(format!(
                    "MySQL/MariaDB names can't hold {c:?} (outside the Basic Multilingual Plane)"
                )));
            }
            Ok(format!("`{}`", name.replace('`', "``")))
        }
    }
}

/// The database a URL names, as the driver reads it: the SQLite file's path; on
/// PostgreSQL the URL's path or `dbname=` (else the user name, PostgreSQL's default);
/// on MySQL/MariaDB the URL's path.
pub fn database_name(url: &DatabaseUrl) -> Result<String, AdminError> {
    let bad_url = |e: sqlx::Error| AdminError::BadUrl {
        url: url.to_string(),
        message: url.scrub(&driver_message(&e)),
    };
    match url.dialect() {
        Dialect::Sqlite => url
            .sqlite_path()
            .map(|p| p.display().to_string())
            .ok_or_else(|| AdminError::InMemory {
                url: url.to_string(),
            }),
        Dialect::Postgres => {
            let options = PgConnectOptions::from_str(url.expose()).map_err(bad_url)?;
            Ok(options
                .get_database()
                .unwrap_or(options.get_username())
                .to_owned())
        }
        Dialect::Mysql => {
            let options = MySqlConnectOptions::from_str(url.expose()).map_err(bad_url)?;
            options
                .get_database()
                .map(str::to_owned)
                .ok_or_else(|| AdminError::NoDatabaseName {
                    url: url.to_string(),
                })
        }
    }
}

/// Whether the database exists (the SQLite file, or the database on the server).
pub async fn database_exists(url: &DatabaseUrl) -> Result<bool, AdminError> {
    let name = database_name(url)?;
    match url.dialect() {
        Dialect::Sqlite => Ok(PathBuf::from(&name).exists()),
        Dialect::Postgres | Dialect::Mysql => {
            let mut server = Maintenance::connect(url, &name).await?;
            let exists = server.exists(&name).await;
            server.close().await;
            exists
        }
    }
}

/// `CREATE DATABASE` on the server unless the database is there already. SQLite files
/// are created by connecting (the CLI does that, with its directory check).
pub async fn create_server_database(url: &DatabaseUrl) -> Result<Created, AdminError> {
    let name = database_name(url)?;
    let quoted = quote_identifier(url.dialect(), &name)?;
    let mut server = Maintenance::connect(url, &name).await?;
    let result = async {
        if server.exists(&name).await? {
            return Ok(Created::AlreadyExists);
        }
        server
            .execute(
                &format!("CREATE DATABASE {quoted}"),
                "creating the database",
            )
            .await?;
        Ok(Created::Created)
    }
    .await;
    server.close().await;
    result
}

/// Drops the database: the SQLite file with its `-wal`, `-shm` and `-journal`
/// companions, or `DROP DATABASE` on the server (`force`: PostgreSQL 13+'s
/// `WITH (FORCE)`, which ends the other sessions first).
pub async fn drop_database(url: &DatabaseUrl, force: bool) -> Result<Dropped, AdminError> {
    let name = database_name(url)?;
    if url.dialect() == Dialect::Sqlite {
        return drop_sqlite_file(PathBuf::from(name));
    }
    let quoted = quote_identifier(url.dialect(), &name)?;
    let mut server = Maintenance::connect(url, &name).await?;
    let result = async {
        if !server.exists(&name).await? {
            return Ok(Dropped::DidNotExist);
        }
        let with_force = if force && url.dialect() == Dialect::Postgres {
            " WITH (FORCE)"
        } else {
            ""
        };
        server
            .execute(
                &format!("DROP DATABASE IF EXISTS {quoted}{with_force}"),
                "dropping the database",
            )
            .await?;
        Ok(Dropped::Dropped)
    }
    .await;
    server.close().await;
    result
}

fn drop_sqlite_file(path: PathBuf) -> Result<Dropped, AdminError> {
    if !path.exists() {
        return Ok(Dropped::DidNotExist);
    }
    let mut companions: Vec<PathBuf> = ["-wal", "-shm", "-journal"]
        .iter()
        .map(|suffix| {
            let mut p = path.clone().into_os_string();
            p.push(suffix);
            PathBuf::from(p)
        })
        .collect();
    companions.insert(0, path);
    for p in companions {
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(AdminError::Remove {
                    path: p,
                    message: e.to_string(),
                })
            }
        }
    }
    Ok(Dropped::Dropped)
}

/// A connection to the server's maintenance database.
enum Server {
    Postgres(sqlx::PgConnection),
    Mysql(sqlx::MySqlConnection),
}

struct Maintenance<'u> {
    server: Server,
    url: &'u DatabaseUrl,
}

impl<'u> Maintenance<'u> {
    async fn connect(url: &'u DatabaseUrl, name: &str) -> Result<Maintenance<'u>, AdminError> {
        let fail = |e: sqlx::Error| {
            AdminError::Db(DbError::Connect {
                url: url.to_string(),
                message: url.scrub(&driver_message(&e)),
            })
        };
        let bad_url = |message: String| AdminError::BadUrl {
            url: url.to_string(),
            message: url.scrub(&message),
        };
        let server = match url.dialect() {
            Dialect::Postgres => {
                let maintenance = if name == "postgres" {
                    "template1"
                } else {
                    "postgres"
                };
                let options = PgConnectOptions::from_str(url.expose())
                    .map_err(|e| bad_url(driver_message(&e)))?
                    .database(maintenance);
                Server::Postgres(
                    sqlx::PgConnection::connect_with(&options)
                        .await
                        .map_err(fail)?,
                )
            }
            Dialect::Mysql => {
                // No database: the URL with its path emptied (sqlx's options can't unset it).
                let mut parsed =
                    url::Url::parse(url.expose()).map_err(|e| bad_url(e.to_string()))?;
                parsed.set_path("");
                let without =
                    DatabaseUrl::parse(parsed.as_str()).map_err(|e| bad_url(e.to_string()))?;
                Server::Mysql(mysql::connect(&without).await.map_err(fail)?)
            }
            Dialect::Sqlite => {
                return Err(bad_url("a SQLite file has no server".into()));
            }
        };
        Ok(Maintenance { server, url })
    }

    fn query_error(&self, action: &str, e: sqlx::Error) -> AdminError {
        AdminError::Db(DbError::Query {
            url: self.url.to_string(),
            action: action.to_owned(),
            message: self.url.scrub(&driver_message(&e)),
        })
    }

    async fn exists(&mut self, name: &str) -> Result<bool, AdminError> {
        let r: Result<i64, sqlx::Error> = match &mut self.server {
            Server::Postgres(c) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM pg_catalog.pg_database WHERE datname = $1")
                    .bind(name)
                    .fetch_one(c)
                    .await
            }
            Server::Mysql(c) => {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?",
                )
                .bind(name)
                .fetch_one(c)
                .await
            }
        };
        r.map(|n| n > 0)
            .map_err(|e| self.query_error("looking for the database", e))
    }

    async fn execute(&mut self, sql: &str, action: &str) -> Result<(), AdminError> {
        let q = sqlx::raw_sql(AssertSqlSafe(sql.to_owned()));
        let r = match &mut self.server {
            Server::Postgres(c) => q.execute(c).await.map(|_| ()),
            Server::Mysql(c) => q.execute(c).await.map(|_| ()),
        };
        r.map_err(|e| self.query_error(action, e))
    }

    async fn close(self) {
        match self.server {
            Server::Postgres(c) => {
                let _ = c.close().await;
            }
            Server::Mysql(c) => {
                let _ = c.close().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_with_the_quote_doubled() {
        assert_eq!(
            quote_identifier(Dialect::Postgres, "a\"b; DROP DATABASE x; --").unwrap(),
            "\"a\"\"b; DROP DATABASE x; --\""
        );
        assert_eq!(
            quote_identifier(Dialect::Mysql, "a`b\"c").unwrap(),
            "`a``b\"c`"
        );
    }

    #[test]
    fn names_the_server_would_change_are_refused() {
        for (dialect, name) in [
            (Dialect::Postgres, String::new()),
            (Dialect::Postgres, "a\0b".to_owned()),
            (Dialect::Postgres, "é".repeat(32)),
            (Dialect::Mysql, "x".repeat(65)),
            (Dialect::Mysql, "trailing ".to_owned()),
            (Dialect::Mysql, "emoji 🦀".to_owned()),
        ] {
            assert!(
                matches!(
                    quote_identifier(dialect, &name),
                    Err(AdminError::BadName { .. })
                ),
                "{dialect} {name:?}"
            );
        }
        assert!(quote_identifier(Dialect::Postgres, &"x".repeat(63)).is_ok());
        assert!(quote_identifier(Dialect::Mysql, &"é".repeat(64)).is_ok());
    }

    #[test]
    fn the_name_is_read_as_the_driver_reads_it() {
        let name = |u: &str| database_name(&DatabaseUrl::parse(u).unwrap()).unwrap();
        assert_eq!(name("postgres://u:pw@h/we%22ird%20db"), "we\"ird db");
        assert_eq!(name("postgres://u@h/x?dbname=other"), "other");
        assert_eq!(name("postgres://alice@h"), "alice");
        assert_eq!(name("mysql://root@h:3306/a%60b"), "a`b");
        assert!(matches!(
            database_name(&DatabaseUrl::parse("mysql://root@h:3306").unwrap()),
            Err(AdminError::NoDatabaseName { .. })
        ));
        assert!(matches!(
            database_name(&DatabaseUrl::parse("sqlite::memory:").unwrap()),
            Err(AdminError::InMemory { .. })
        ));
    }
}
