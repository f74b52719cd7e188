use super::*;

fn tr(url: &str) -> String {
    from_sqlalchemy(url, Path::new("/proj")).unwrap()
}

fn err(url: &str) -> String {
    from_sqlalchemy(url, Path::new("/proj")).unwrap_err()
}

#[test]
fn postgresql_with_any_driver() {
    for scheme in [
        "postgresql",
        "postgres",
        "postgresql+psycopg2",
        "postgresql+psycopg",
        "postgresql+asyncpg",
        "postgresql+pg8000",
    ] {
        assert_eq!(
            tr(&format!("{scheme}://u:pw@db.example:5433/app")),
            "postgres://u:pw@db.example:5433/app",
            "{scheme}"
        );
    }
    assert_eq!(tr("postgresql://localhost/app"), "postgres://localhost/app");
    assert_eq!(
        tr("postgresql://[::1]:5432/app"),
        "postgres://[::1]:5432/app"
    );
}

#[test]
fn mysql_and_mariadb_with_any_driver() {
    for scheme in [
        "mysql",
        "mysql+pymysql",
        "mysql+mysqldb",
        "mysql+aiomysql",
        "mysql+asyncmy",
        "mariadb+mysqldb",
        "mariadb+pymysql",
    ] {
        assert_eq!(
            tr(&format!("{scheme}://u:pw@h/db")),
            "mysql://u:pw@h/db",
            "{scheme}"
        );
    }
}

#[test]
fn encoded_passwords_reach_sqlx_unchanged() {
    // SQLAlchemy decodes us%40er / p%2Fa%23s%3F%40%25; sqlx decodes what we encode.
    let out = tr("postgresql+psycopg2://us%40er:p%2Fa%23s%3F%40%25@h/db");
    assert_eq!(out, "postgres://us%40er:p%2Fa%23s%3F%40%25@h/db");
    let parsed = url::Url::parse(&out).unwrap();
    assert_eq!(percent_decode(parsed.password().unwrap()), "p/a#s?@%");
    assert_eq!(percent_decode(parsed.username()), "us@er");
    // SQLAlchemy also takes '/', '#' and '?' unencoded in a password (up to the first
    // '@'); they are encoded for sqlx.
    assert_eq!(
        tr("mysql+pymysql://u:p/a#s?@h:3306/db"),
        "mysql://u:p%2Fa%23s%3F@h:3306/db"
    );
    // A database name is taken literally by SQLAlchemy.
    assert_eq!(tr("postgresql://h/my%20db"), "postgres://h/my%2520db");
}

#[test]
fn query_options_are_mapped_or_dropped() {
    assert_eq!(
        tr("postgresql://u@h/db?sslmode=require&application_name=app&connect_timeout=5"),
        "postgres://u@h/db?sslmode=require&application_name=app"
    );
    assert_eq!(
        tr("postgresql+asyncpg://h/db?ssl=true"),
        "postgres://h/db?sslmode=require"
    );
    assert_eq!(
        tr("postgresql+psycopg2://user@/db?host=/var/run/postgresql"),
        "postgres://user@localhost/db?host=%2Fvar%2Frun%2Fpostgresql"
    );
    assert_eq!(
        tr("mysql+pymysql://u@h/db?charset=utf8mb4&unix_socket=/tmp/s&ssl_ca=/ca.pem&local_infile=1"),
        "mysql://u@h/db?charset=utf8mb4&socket=%2Ftmp%2Fs&ssl-ca=%2Fca.pem"
    );
}

#[test]
fn sqlite_files_and_memory() {
    assert_eq!(tr("sqlite:///app.db"), "sqlite:///proj/app.db");
    assert_eq!(tr("sqlite:///data/app.db"), "sqlite:///proj/data/app.db");
    assert_eq!(tr("sqlite:////var/db/app.db"), "sqlite:///var/db/app.db");
    assert_eq!(tr("sqlite+aiosqlite:///app.db"), "sqlite:///proj/app.db");
    assert_eq!(tr("sqlite+pysqlite:////abs.db"), "sqlite:///abs.db");
    assert_eq!(tr("sqlite://"), "sqlite::memory:");
    assert_eq!(tr("sqlite:///:memory:"), "sqlite::memory:");
    assert_eq!(
        tr("sqlite:///app.db?mode=ro&timeout=5"),
        "sqlite:///proj/app.db?mode=ro"
    );
    assert_eq!(tr("sqlite:////d/100%.db"), "sqlite:///d/100%25.db");
    // SQLAlchemy ends the database at a '?'; one in the directory is encoded.
    let odd = from_sqlalchemy("sqlite:///a.db", Path::new("/w?x")).unwrap();
    assert_eq!(odd, "sqlite:///w%3Fx/a.db");
    assert!(err("sqlite://host/app.db").contains("sqlite:///relative.db"));
    assert!(err("sqlite:///file:x.db?uri=true").contains("uri=true"));
    // Every output is one the URL layer accepts.
    for url in ["sqlite:///app.db", "sqlite://", "sqlite:////abs.db"] {
        assert!(crate::db::DatabaseUrl::parse(&tr(url)).is_ok(), "{url}");
    }
}

#[test]
fn outputs_parse_as_database_urls() {
    for url in [
        "postgresql://u:p%2F%3F%23%40@h/db",
        "mysql+pymysql://u:p/a#s?@h/db",
        "mariadb+mysqldb://u:pw@h/db",
    ] {
        let out = tr(url);
        let parsed = crate::db::DatabaseUrl::parse(&out).unwrap();
        assert!(!parsed.to_string().contains("p%2F"), "{parsed}");
    }
}

#[test]
fn errors_never_show_the_password() {
    for url in [
        "mssql+pyodbc://u:s3cret@h/db",
        "oracle://u:s3cret@h/db",
        "driver://user:s3cret@localhost/dbname",
        "postgresql://u:s3cret@h:port/db",
        "not a url u:s3cret@h",
        "mssql://u:s3/cr#et@h/db",
    ] {
        let e = err(url);
        assert!(!e.contains("s3cret") && !e.contains("s3/cr"), "{e}");
    }
    assert!(err("mssql+pyodbc://h/db").contains("mssql dialect"));
    assert!(err("driver://user:pass@localhost/dbname").contains("placeholder"));
}

#[test]
fn cuts_like_make_url() {
    // Checked against SQLAlchemy 2.0.58's make_url.
    let sa = parse("postgresql://user:p/a#s?@host/db").unwrap();
    assert_eq!(sa.username.as_deref(), Some("user"));
    assert_eq!(sa.password.as_deref(), Some("p/a#s?"));
    assert_eq!((sa.host, sa.database), (Some("host"), Some("db")));
    let sa = parse("postgresql://us@er@host:5432/db").unwrap();
    assert_eq!(
        (sa.username.as_deref(), sa.password.as_deref()),
        (Some("us@er"), None)
    );
    assert_eq!((sa.host, sa.port), (Some("host"), Some("5432")));
    let sa = parse("sqlite:///file:data.db?mode=ro&uri=true").unwrap();
    assert_eq!(sa.database, Some("file:data.db"));
    assert_eq!(sa.query.len(), 2);
    assert!(parse("sqlite:app.db").is_none());
}

proptest::proptest! {
    #[test]
    fn never_panics_and_never_leaks_the_password(
        scheme in "(postgresql|mysql\\+pymysql|sqlite|mssql|x)",
        pw in "[a-z/#?%:\\[\\]]{0,12}",
        rest in "\\PC{0,30}",
    ) {
        let url = format!("{scheme}://user:SECRET{pw}@{rest}");
        if let Err(e) = from_sqlalchemy(&url, Path::new("/p")) {
            proptest::prop_assert!(!e.contains("SECRET"), "{}", e);
        }
    }
}
