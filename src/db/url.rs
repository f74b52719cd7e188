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
    #[error(
        "database URL '{url}' can't be parsed: an '@' follows the host part, so the user name or password holds an unencoded '/', '?' or '#'; percent-encode them ('/' as %2F, '?' as %3F, '#' as %23, '@' as %40)"
    )]
    UnencodedUserinfo { url: String },
}

/// A parsed, backend-tagged database URL whose `Display` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    raw: String,
    dialect: Dialect,
    /// Every form in which a secret of the URL (its password, a `sslpassword=` value...)
    /// could appear in a driver's message, longest first.
    secrets: Vec<String>,
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
        if dialect != Dialect::Sqlite && !rest.starts_with("//") {
            return Err(UrlError::NoScheme { url: shown });
        }
        if dialect != Dialect::Sqlite && split(url).ambiguous {
            // The driver would read part of the password as the host, port or database
            // (and might echo it): refuse before it sees the URL.
            return Err(UrlError::UnencodedUserinfo { url: shown });
        }
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
            secrets: secrets_of(url),
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

    /// The SQLite file this URL names (`None` for `:memory:` or another backend), read
    /// as the driver reads it: `sqlite://` or `sqlite:` off, the query off, percent-decoded;
    /// a `file:` URI in its place is read the way SQLite reads it (query off, decoded).
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        if self.dialect != Dialect::Sqlite {
            return None;
        }
        let rest = self.raw.split_once(':').map(|(_, r)| r).unwrap_or("");
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        if query.split('&').any(|kv| kv == "mode=memory") {
            return None;
        }
        let mut path = percent_decode(path);
        if let Some(uri) = path.strip_prefix("file:") {
            let uri = uri
                .strip_prefix("//localhost")
                .or_else(|| uri.strip_prefix("//"))
                .unwrap_or(uri);
            let (file, query) = uri.split_once('?').unwrap_or((uri, ""));
            if query.split('&').any(|kv| kv == "mode=memory") {
                return None;
            }
            path = percent_decode(file.split('#').next().unwrap_or(""));
        }
        if path.is_empty() || path == ":memory:" {
            None
        } else {
            Some(PathBuf::from(path))
        }
    }

    /// Replaces every secret of the URL (password, secret parameters), wherever and in
    /// whichever encoding it occurs in `text`, with `***`.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        if !self.secrets.is_empty() {
            let shown = self.to_string();
            out = out.replace(self.raw.as_str(), &shown);
        }
        for secret in &self.secrets {
            out = out.replace(secret.as_str(), "***");
        }
        out
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.dialect == Dialect::Sqlite {
            // A file path may hold an '@'; only secret parameters are masked.
            f.write_str(&mask_query(&self.raw))
        } else {
            f.write_str(&redact(&self.raw))
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// A URL cut where redaction needs it: `scheme://` (or nothing), the user info, the
/// rest (host, path, query).
struct Split<'a> {
    prefix: &'a str,
    /// The user info, when it ends at an '@' inside the authority.
    userinfo: Option<&'a str>,
    rest: &'a str,
    /// An '@' follows the authority (a password with an unencoded '/', '?' or '#'): the
    /// URL can't be read reliably.
    ambiguous: bool,
}

fn split(url: &str) -> Split<'_> {
    let (prefix, body) = match url.find("://") {
        Some(i) => url.split_at(i + 3),
        None => ("", url),
    };
    let authority_end = body.find(['/', '?', '#']).unwrap_or(body.len());
    match body[..authority_end].rfind('@') {
        Some(at) => Split {
            prefix,
            userinfo: Some(&body[..at]),
            rest: &body[at..],
            ambiguous: false,
        },
        None => match body.rfind('@') {
            Some(at) => Split {
                prefix,
                userinfo: Some(&body[..at]),
                rest: &body[at..],
                ambiguous: true,
            },
            None => Split {
                prefix,
                userinfo: None,
                rest: body,
                ambiguous: false,
            },
        },
    }
}

/// Whether a query parameter's value is a secret, or a path to one: `password`,
/// `sslpassword`, `passfile`, `sslkey`, `ssl-key`, tokens... in any case.
fn is_secret_param(name: &str) -> bool {
    let name: String = percent_decode(name)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    [
        "pass",
        "pwd",
        "secret",
        "token",
        "key",
        "auth",
        "credential",
    ]
    .iter()
    .any(|word| name.contains(word))
}

/// The forms in which a secret may be shown: as written, percent-decoded (`+` as a
/// space or not), and as the `url` crate (which the drivers use) serialises it.
fn secret_forms(value: &str, out: &mut Vec<String>) {
    let decoded = percent_decode(value);
    let plus = percent_decode(&value.replace('+', " "));
    let encoded: String = url::form_urlencoded::byte_serialize(decoded.as_bytes()).collect();
    for form in [value.to_owned(), decoded, plus, encoded] {
        if !form.is_empty() && !out.contains(&form) {
            out.push(form);
        }
    }
}

fn secrets_of(url: &str) -> Vec<String> {
    let parts = split(url);
    let mut out = Vec::new();
    if let Some(userinfo) = parts.userinfo {
        match userinfo.split_once(':') {
            Some((_, password)) if !parts.ambiguous => secret_forms(password, &mut out),
            _ if parts.ambiguous => secret_forms(userinfo, &mut out),
            _ => {}
        }
    }
    if let Ok(parsed) = url::Url::parse(url) {
        if let Some(p) = parsed.password() {
            secret_forms(p, &mut out);
        }
    }
    if let Some((_, query)) = parts.rest.split_once('?') {
        let query = query.split('#').next().unwrap_or("");
        for kv in query.split('&') {
            if let Some((name, value)) = kv.split_once('=') {
                if is_secret_param(name) {
                    secret_forms(value, &mut out);
                }
            }
        }
    }
    out.sort_by_key(|s| std::cmp::Reverse(s.len()));
    out
}

/// `url` with secret query parameters' values replaced by `***`.
fn mask_query(url: &str) -> String {
    let Some((head, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let (query, fragment) = match query.split_once('#') {
        Some((q, f)) => (q, Some(f)),
        None => (query, None),
    };
    let query: Vec<String> = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((name, _)) if is_secret_param(name) => format!("{name}=***"),
            _ => kv.to_owned(),
        })
        .collect();
    let mut out = format!("{head}?{}", query.join("&"));
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// `url` as it may be shown: the password in the user info and the values of secret
/// query parameters (`password=`, `sslpassword=`, any case) replaced by `***`. A URL
/// that can't be parsed (an '@' after the host part, or no scheme) has everything
/// between `//` (or its start) and the last '@' masked.
pub fn redact(url: &str) -> String {
    let parts = split(url);
    let userinfo = match parts.userinfo {
        None => String::new(),
        Some(_) if parts.ambiguous => "***".to_owned(),
        Some(info) => match info.split_once(':') {
            Some((user, _)) => format!("{user}:***"),
            None => info.to_owned(),
        },
    };
    format!("{}{userinfo}{}", parts.prefix, mask_query(parts.rest))
}

/// `%XX` decoded (Python's `urllib.parse.unquote`), anything else kept, invalid UTF-8
/// replaced.
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 3 <= bytes.len() {
            if let Some(b) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
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

    #[test]
    fn every_form_of_a_password_is_masked() {
        // Unencoded '/', '#', '?' in the password: refused, shown masked up to the last '@'.
        for url in [
            "postgres://postgres:Pw5ecr3t/x@127.0.0.1:5432/db",
            "postgres://postgres:Pw5ecr3t#x@127.0.0.1:5432/db",
            "mysql://root:Pw5ecr3t?x@127.0.0.1:3306/db",
        ] {
            let err = DatabaseUrl::parse(url).unwrap_err();
            assert!(matches!(err, UrlError::UnencodedUserinfo { .. }), "{err}");
            let text = err.to_string();
            assert!(!text.contains("Pw5ecr3t"), "{text}");
            assert!(text.contains("://***@127.0.0.1"), "{text}");
        }
        // No scheme: still masked.
        let err = DatabaseUrl::parse("u:Pw5ecr3t@127.0.0.1/x").unwrap_err();
        assert_eq!(
            err.to_string(),
            "database URL 'u:***@127.0.0.1/x' has no scheme; use sqlite://, postgres:// or mysql://"
        );
        // Secret-bearing parameters, in any case.
        for (url, shown) in [
            (
                "postgres://u@h/db?sslpassword=Pw5ecr3t&sslmode=require",
                "postgres://u@h/db?sslpassword=***&sslmode=require",
            ),
            (
                "postgres://u@h/db?Password=Pw5ecr3t",
                "postgres://u@h/db?Password=***",
            ),
            (
                "postgres://u@h/db?PASSFILE=/p/Pw5ecr3t",
                "postgres://u@h/db?PASSFILE=***",
            ),
            (
                "mysql://u@h/db?ssl-key=/k/Pw5ecr3t",
                "mysql://u@h/db?ssl-key=***",
            ),
            (
                "sqlite://a@b.db?password=Pw5ecr3t",
                "sqlite://a@b.db?password=***",
            ),
        ] {
            let parsed = DatabaseUrl::parse(url).unwrap();
            assert_eq!(parsed.to_string(), shown);
            assert_eq!(parsed.scrub(&format!("bad {url}")), format!("bad {shown}"));
        }
        // Every encoding of the password is scrubbed from driver text.
        let url = DatabaseUrl::parse("postgres://u:p%40ss%20w@h/db").unwrap();
        for text in ["p%40ss%20w", "p@ss w", "p%40ss+w"] {
            assert_eq!(url.scrub(text), "***", "{text}");
        }
        // Unparseable text is masked between // and the last '@'.
        assert_eq!(
            redact("postgres://a:b/c@d/e@h:1/db"),
            "postgres://***@h:1/db"
        );
    }

    #[test]
    fn sqlite_paths_are_read_as_the_driver_reads_them() {
        for (url, path) in [
            ("sqlite://pct%20x.db", Some("pct x.db")),
            ("sqlite:app.db?mode=rwc", Some("app.db")),
            ("sqlite://file:dir/a%20b.db?mode=ro", Some("dir/a b.db")),
            ("sqlite://file:///tmp/x.db", Some("/tmp/x.db")),
            ("sqlite://:memory:", None),
            ("sqlite://x.db?mode=memory", None),
        ] {
            assert_eq!(sqlite_path(url), path.map(PathBuf::from), "{url}");
        }
    }

    fn sqlite_path(url: &str) -> Option<PathBuf> {
        DatabaseUrl::parse(url).unwrap().sqlite_path()
    }
}
