//! Database URLs: which one applies, which backend it names, and how to show it without
//! its password.
//!
//! The password never leaves this module in clear text except towards the driver:
//! [`DatabaseUrl`]'s `Display` and `Debug` redact it, and [`DatabaseUrl::scrub`] removes
//! it from any text (driver errors included) before that text is shown.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::core::Dialect;

/// The URL used when nothing else names a database.
pub const DEFAULT_URL: &str = "sqlite://app.db";

/// Where the URL in effect came from, for `--verbose` and error hints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlSource {
    Flag,
    Environment,
    Config,
    Default,
}

impl UrlSource {
    pub fn describe(self) -> &'static str {
        match self {
            UrlSource::Flag => "--database-url",
            UrlSource::Environment => "DATABASE_URL",
            UrlSource::Config => "database_url in the config",
            UrlSource::Default => "the default sqlite://app.db",
        }
    }
}

/// The inputs of URL precedence, gathered by the caller (the CLI reads the flag, the
/// environment and the config; this stays a pure function).
#[derive(Debug, Clone, Default)]
pub struct UrlInputs<'a> {
    pub flag: Option<&'a str>,
    pub env: Option<&'a str>,
    pub config: Option<&'a str>,
    /// The directory of the config file, if there is one: the default SQLite file lives
    /// next to it.
    pub config_dir: Option<&'a Path>,
}

/// Picks the URL by precedence: `--database-url` > `DATABASE_URL` > config > default.
/// Empty values count as absent.
pub fn choose_url(inputs: &UrlInputs<'_>) -> Result<DatabaseUrl, UrlError> {
    let given = |v: Option<&str>| {
        v.map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    if let Some(url) = given(inputs.flag) {
        return DatabaseUrl::parse_from(&url, UrlSource::Flag);
    }
    if let Some(url) = given(inputs.env) {
        return DatabaseUrl::parse_from(&url, UrlSource::Environment);
    }
    if let Some(url) = given(inputs.config) {
        return DatabaseUrl::parse_from(&url, UrlSource::Config);
    }
    let url = match inputs.config_dir {
        Some(dir) if dir != Path::new("") => {
            format!("sqlite://{}", dir.join("app.db").display())
        }
        _ => DEFAULT_URL.to_owned(),
    };
    DatabaseUrl::parse_from(&url, UrlSource::Default)
}

/// A URL that can't be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("database URL '{url}' has no scheme; use sqlite://, postgres:// or mysql://")]
    NoScheme { url: String },
    #[error(
        "database URL '{url}' has unknown scheme '{scheme}'; use sqlite://, postgres://, postgresql://, mysql:// or mariadb://"
    )]
    UnknownScheme { url: String, scheme: String },
    #[error("database URL '{url}' names no SQLite file")]
    NoSqlitePath { url: String },
}

/// A parsed, backend-tagged database URL whose `Display` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    raw: String,
    dialect: Dialect,
    password: Option<String>,
    source: UrlSource,
}

impl DatabaseUrl {
    /// Parses a URL given on the command line or in a library call.
    pub fn parse(url: &str) -> Result<Self, UrlError> {
        Self::parse_from(url, UrlSource::Flag)
    }

    fn parse_from(url: &str, source: UrlSource) -> Result<Self, UrlError> {
        let shown = redact(url);
        let Some((scheme, rest)) = url.split_once(':') else {
            return Err(UrlError::NoScheme { url: shown });
        };
        let dialect = match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => Dialect::Sqlite,
            "postgres" | "postgresql" => Dialect::Postgres,
            "mysql" | "mariadb" => Dialect::Mysql,
            _ if !rest.starts_with("//") => return Err(UrlError::NoScheme { url: shown }),
            other => {
                return Err(UrlError::UnknownScheme {
                    url: shown,
                    scheme: other.to_owned(),
                })
            }
        };
        let mut raw = url.to_owned();
        if dialect == Dialect::Mysql && scheme.eq_ignore_ascii_case("mariadb") {
            // sqlx's driver knows the scheme as mysql://; MariaDB speaks the same protocol.
            raw = format!("mysql{}", &url[scheme.len()..]);
        }
        if dialect == Dialect::Postgres && scheme != "postgres" && scheme != "postgresql" {
            raw = format!("postgres{}", &url[scheme.len()..]);
        }
        if dialect == Dialect::Sqlite {
            let path = rest.trim_start_matches("//");
            let path = path.split('?').next().unwrap_or("");
            if path.is_empty() {
                return Err(UrlError::NoSqlitePath { url: shown });
            }
        }
        Ok(Self {
            password: password_of(url),
            raw,
            dialect,
            source,
        })
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub fn source(&self) -> UrlSource {
        self.source
    }

    /// The URL with its password, for the driver only. Never print it.
    pub fn expose(&self) -> &str {
        &self.raw
    }

    /// The SQLite file this URL names (`None` for `:memory:` or another backend).
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        if self.dialect != Dialect::Sqlite {
            return None;
        }
        let rest = self.raw.split_once(':').map(|(_, r)| r).unwrap_or("");
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let path = rest.split('?').next().unwrap_or("");
        if path.is_empty() || path == ":memory:" {
            None
        } else {
            Some(PathBuf::from(path))
        }
    }

    /// Replaces the password, wherever it occurs in `text`, with `***`.
    pub fn scrub(&self, text: &str) -> String {
        match &self.password {
            Some(p) if !p.is_empty() => {
                let mut out = text.replace(self.raw.as_str(), &redact(&self.raw));
                out = out.replace(p.as_str(), "***");
                let decoded = percent_decode(p);
                if decoded != *p && !decoded.is_empty() {
                    out = out.replace(decoded.as_str(), "***");
                }
                out
            }
            _ => text.to_owned(),
        }
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(&self.raw))
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", redact(&self.raw))
    }
}

/// Splits `scheme://authority/rest` into (prefix up to authority, authority, rest).
fn authority(url: &str) -> Option<(&str, &str, &str)> {
    let start = url.find("://")? + 3;
    let after = &url[start..];
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    Some((&url[..start], &after[..end], &after[end..]))
}

fn password_of(url: &str) -> Option<String> {
    let (_, auth, rest) = authority(url)?;
    let from_userinfo = auth
        .rsplit_once('@')
        .and_then(|(userinfo, _)| userinfo.split_once(':'))
        .map(|(_, p)| p.to_owned());
    from_userinfo.or_else(|| {
        let query = rest.split_once('?')?.1;
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix("password="))
            .map(str::to_owned)
    })
}

/// `url` with any password (in the user info or a `password=` parameter) replaced by `***`.
pub fn redact(url: &str) -> String {
    let Some((prefix, auth, rest)) = authority(url) else {
        return url.to_owned();
    };
    let auth = match auth.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => auth.to_owned(),
        },
        None => auth.to_owned(),
    };
    let rest = match rest.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|kv| {
                    if kv.starts_with("password=") {
                        "password=***".to_owned()
                    } else {
                        kv.to_owned()
                    }
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => rest.to_owned(),
    };
    format!("{prefix}{auth}{rest}")
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs<'a>(
        flag: Option<&'a str>,
        env: Option<&'a str>,
        config: Option<&'a str>,
    ) -> UrlInputs<'a> {
        UrlInputs {
            flag,
            env,
            config,
            config_dir: None,
        }
    }

    #[test]
    fn precedence_is_flag_then_env_then_config_then_default() {
        let all = choose_url(&inputs(
            Some("sqlite://flag.db"),
            Some("sqlite://env.db"),
            Some("sqlite://config.db"),
        ))
        .unwrap();
        assert_eq!(all.expose(), "sqlite://flag.db");
        assert_eq!(all.source(), UrlSource::Flag);
        let env = choose_url(&inputs(None, Some("postgres://e/db"), Some("mysql://c/db"))).unwrap();
        assert_eq!(env.source(), UrlSource::Environment);
        assert_eq!(env.dialect(), Dialect::Postgres);
        let config = choose_url(&inputs(None, Some(""), Some("mariadb://c/db"))).unwrap();
        assert_eq!(config.source(), UrlSource::Config);
        assert_eq!(config.dialect(), Dialect::Mysql);
        assert_eq!(config.expose(), "mysql://c/db");
        let default = choose_url(&inputs(None, None, None)).unwrap();
        assert_eq!(default.expose(), DEFAULT_URL);
        assert_eq!(default.source(), UrlSource::Default);
    }

    #[test]
    fn default_sqlite_file_sits_next_to_the_config() {
        let url = choose_url(&UrlInputs {
            config_dir: Some(Path::new("/srv/app")),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(url.sqlite_path(), Some(PathBuf::from("/srv/app/app.db")));
    }

    #[test]
    fn schemes_map_to_dialects_and_bad_ones_are_named() {
        for (url, d) in [
            ("sqlite://a.db", Dialect::Sqlite),
            ("sqlite:///tmp/a.db", Dialect::Sqlite),
            ("postgresql://u@h/db", Dialect::Postgres),
            ("mysql://root@h/db", Dialect::Mysql),
        ] {
            assert_eq!(DatabaseUrl::parse(url).unwrap().dialect(), d, "{url}");
        }
        let err = DatabaseUrl::parse("oracle://u:secret@h/db").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("unknown scheme 'oracle'"), "{text}");
        assert!(!text.contains("secret"), "{text}");
        assert!(matches!(
            DatabaseUrl::parse("app.db"),
            Err(UrlError::NoScheme { .. })
        ));
        assert!(matches!(
            DatabaseUrl::parse("sqlite://"),
            Err(UrlError::NoSqlitePath { .. })
        ));
    }

    #[test]
    fn passwords_never_show() {
        let url = DatabaseUrl::parse("postgres://alice:s3cr%21t@db.example:5432/app").unwrap();
        assert_eq!(url.to_string(), "postgres://alice:***@db.example:5432/app");
        assert!(!format!("{url:?}").contains("s3cr"));
        assert_eq!(
            url.scrub("connect to postgres://alice:s3cr%21t@db.example:5432/app failed: s3cr!t"),
            "connect to postgres://alice:***@db.example:5432/app failed: ***"
        );
        assert_eq!(
            redact("mysql://root@h/db?password=hunter2&ssl-mode=disabled"),
            "mysql://root@h/db?password=***&ssl-mode=disabled"
        );
        assert_eq!(redact("sqlite://app.db"), "sqlite://app.db");
        assert_eq!(
            sqlite_path("sqlite:///tmp/x.db"),
            Some(PathBuf::from("/tmp/x.db"))
        );
    }

    fn sqlite_path(url: &str) -> Option<PathBuf> {
        DatabaseUrl::parse(url).unwrap().sqlite_path()
    }
}
