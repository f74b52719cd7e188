//! SQLAlchemy URLs (an Alembic project's `sqlalchemy.url`) translated to the sqlx URLs
//! the rest of `migrate` takes.
//!
//! The URL is cut with SQLAlchemy's own pattern (`make_url`): `dialect[+driver]://`,
//! then `user[:password]@` (the password runs to the *first* `@` after the colon, the
//! user name to the last `@` when there is no password; both percent-decoded), a host
//! or `[ipv6]`, `:port`, `/database` (taken literally, not decoded) and `?query`. The
//! parts are then encoded again the way sqlx decodes them, so a password holding
//! `/ # ? @ %` reaches the driver unchanged. The Python driver (`+psycopg2`,
//! `+asyncpg`, `+pymysql`, ...) does not matter: the wire protocol is the dialect's.
//!
//! Query options sqlx also has are kept (renamed where its name differs); the others
//! are Python-driver settings with no sqlx equivalent and are dropped.
//!
//! Messages show the URL only through [`redact`]: never a password.

use std::path::Path;

use super::url::{percent_decode, redact};

/// One URL cut the way SQLAlchemy's `make_url` cuts it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SaUrl<'a> {
    dialect: &'a str,
    username: Option<String>,
    password: Option<String>,
    /// As written; an IPv6 address without its brackets.
    host: Option<&'a str>,
    ipv6: bool,
    port: Option<&'a str>,
    database: Option<&'a str>,
    query: Vec<(String, String)>,
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn parse(url: &str) -> Option<SaUrl<'_>> {
    let name_end = url.find("://")?;
    let name = &url[..name_end];
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '+')
    {
        return None;
    }
    let dialect = name.split('+').next().unwrap_or(name);
    let mut rest = &url[name_end + 3..];

    // user[:password]@, tried as SQLAlchemy's regex tries it.
    let run = rest.find([':', '/']).unwrap_or(rest.len());
    let (mut username, mut password) = (None, None);
    let with_password = rest[run..]
        .strip_prefix(':')
        .and_then(|after| after.find('@').map(|at| (after, at)));
    if let Some((after, at)) = with_password {
        username = Some(percent_decode(&rest[..run]));
        password = Some(percent_decode(&after[..at]));
        rest = &after[at + 1..];
    } else if let Some(at) = rest[..run].rfind('@') {
        username = Some(percent_decode(&rest[..at]));
        rest = &rest[at + 1..];
    }

    // host or [ipv6], then :port.
    let (mut host, mut ipv6) = (None, false);
    let stop = rest.find(['/', '?']).unwrap_or(rest.len());
    if let Some(close) = rest[..stop].strip_prefix('[').and_then(|r| r.rfind(']')) {
        if close > 0 {
            host = Some(&rest[1..=close]);
            ipv6 = true;
            rest = &rest[close + 2..];
        }
    }
    if !ipv6 {
        let end = rest.find(['/', ':', '?']).unwrap_or(rest.len());
        if end > 0 {
            host = Some(&rest[..end]);
        }
        rest = &rest[end..];
    }
    let mut port = None;
    if let Some(after) = rest.strip_prefix(':') {
        let end = after.find(['/', '?']).unwrap_or(after.len());
        port = Some(&after[..end]);
        rest = &after[end..];
    }
    let mut database = None;
    if let Some(after) = rest.strip_prefix('/') {
        let end = after.find('?').unwrap_or(after.len());
        database = Some(&after[..end]);
        rest = &after[end..];
    }
    let query = rest
        .strip_prefix('?')
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default();
    Some(SaUrl {
        dialect,
        username,
        password,
        host: host.filter(|h| !h.is_empty()),
        ipv6,
        port: port.filter(|p| !p.is_empty()),
        database,
        query,
    })
}

/// Translates an SQLAlchemy URL into a sqlx URL.
///
/// `sqlite:///relative.db` is taken relative to `base_dir` (pass the config file's
/// directory). SQLAlchemy takes it relative to the process's working directory, which
/// is the config's directory whenever Alembic finds its `alembic.ini` itself; anchoring
/// it to the config means `migrate` run from a subdirectory opens the same file
/// instead of creating an empty one. `sqlite://` and `sqlite:///:memory:` are
/// in-memory databases.
pub fn from_sqlalchemy(url: &str, base_dir: &Path) -> Result<String, String> {
    let url = url.trim();
    let shown = || redact(url);
    let Some(sa) = parse(url) else {
        return Err(format!(
            "sqlalchemy.url '{}' is not an SQLAlchemy URL (dialect[+driver]://...)",
            shown()
        ));
    };
    let dialect = sa.dialect.to_ascii_lowercase();
    match dialect.as_str() {
        "postgresql" | "postgres" => Ok(server_url("postgres", &sa, url, postgres_option)?),
        "mysql" | "mariadb" => Ok(server_url("mysql", &sa, url, mysql_option)?),
        "sqlite" => sqlite_url(&sa, url, base_dir),
        "driver" => Err(format!(
            "sqlalchemy.url '{}' is still the placeholder of Alembic's template; set the database's URL",
            shown()
        )),
        _ => Err(format!(
            "sqlalchemy.url '{}' uses the {} dialect; migrate supports postgresql, mysql, mariadb and sqlite",
            shown(),
            sa.dialect.chars().take(40).collect::<String>()
        )),
    }
}

/// A PostgreSQL or MySQL URL for sqlx.
fn server_url(
    scheme: &str,
    sa: &SaUrl<'_>,
    original: &str,
    option: fn(&str, &str) -> Option<(&'static str, String)>,
) -> Result<String, String> {
    let mut out = format!("{scheme}://");
    if let Some(user) = &sa.username {
        out.push_str(&encode(user));
        if let Some(password) = &sa.password {
            out.push(':');
            out.push_str(&encode(password));
        }
        out.push('@');
    }
    match (sa.host, sa.ipv6) {
        (Some(h), true) => out.push_str(&format!("[{h}]")),
        (Some(h), false) => out.push_str(h),
        // A socket given as `?host=/path` (or the driver's default).
        (None, _) => out.push_str("localhost"),
    }
    if let Some(port) = sa.port {
        if port.parse::<u16>().is_err() {
            return Err(format!(
                "sqlalchemy.url '{}' has a port that is not a number",
                redact(original)
            ));
        }
        out.push(':');
        out.push_str(port);
    }
    if let Some(db) = sa.database.filter(|d| !d.is_empty()) {
        out.push('/');
        out.push_str(&encode(db));
    }
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    let mut any = false;
    for (k, v) in &sa.query {
        if let Some((key, value)) = option(k, v) {
            query.append_pair(key, &value);
            any = true;
        }
    }
    if any {
        out.push('?');
        out.push_str(&query.finish());
    }
    Ok(out)
}

/// libpq options (psycopg2/psycopg pass them through) that sqlx-postgres knows, and
/// asyncpg's `ssl=`.
fn postgres_option(key: &str, value: &str) -> Option<(&'static str, String)> {
    let same = [
        "sslmode",
        "sslrootcert",
        "sslcert",
        "sslkey",
        "application_name",
        "options",
        "host",
        "hostaddr",
        "port",
        "dbname",
        "user",
        "password",
    ];
    if let Some(k) = same.iter().find(|k| **k == key) {
        return Some((k, value.to_owned()));
    }
    if key == "ssl" {
        let mode = match value.to_ascii_lowercase().as_str() {
            "true" => "require".to_owned(),
            m @ ("disable" | "allow" | "prefer" | "require" | "verify-ca" | "verify-full") => {
                m.to_owned()
            }
            _ => return None,
        };
        return Some(("sslmode", mode));
    }
    None
}

/// PyMySQL / mysqlclient options that sqlx-mysql knows, under sqlx's names.
fn mysql_option(key: &str, value: &str) -> Option<(&'static str, String)> {
    let key = match key {
        "charset" => "charset",
        "collation" => "collation",
        "unix_socket" => "socket",
        "ssl_ca" => "ssl-ca",
        "ssl_cert" => "ssl-cert",
        "ssl_key" => "ssl-key",
        "ssl_mode" => "ssl-mode",
        _ => return None,
    };
    Some((key, value.to_owned()))
}

fn sqlite_url(sa: &SaUrl<'_>, original: &str, base_dir: &Path) -> Result<String, String> {
    if sa.host.is_some() || sa.username.is_some() || sa.port.is_some() {
        return Err(format!(
            "sqlalchemy.url '{}' is not a SQLite URL SQLAlchemy accepts: write sqlite:///relative.db or sqlite:////absolute.db",
            redact(original)
        ));
    }
    let mode = sa
        .query
        .iter()
        .find(|(k, v)| k == "mode" && matches!(v.as_str(), "ro" | "rw" | "rwc" | "memory"))
        .map(|(_, v)| v.as_str());
    if sa.query.iter().any(|(k, v)| k == "uri" && v == "true") {
        return Err(format!(
            "sqlalchemy.url '{}' is a SQLite URI filename (uri=true), which migrate does not read; name the file instead",
            redact(original)
        ));
    }
    let db = sa.database.unwrap_or("");
    if db.is_empty() || db == ":memory:" || mode == Some("memory") {
        return Ok("sqlite::memory:".to_owned());
    }
    let path = base_dir.join(db);
    let path = path.to_string_lossy();
    // sqlx percent-decodes the file name and ends it at a '?'.
    let mut out = format!("sqlite://{}", path.replace('%', "%25").replace('?', "%3F"));
    if let Some(mode) = mode {
        out.push_str("?mode=");
        out.push_str(mode);
    }
    Ok(out)
}

#[cfg(test)]
#[path = "sqlalchemy_tests.rs"]
mod tests;
