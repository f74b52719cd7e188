//! Issue 13, item 1: nothing taken from a revision file reaches an offline `--sql`
//! script except as a quoted literal or a comment that can't be ended. Each script is
//! piped into the database's own client (sqlite3, psql, mariadb), stopping at the first
//! error, and the table the hostile messages try to drop must survive.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use super::support::{project, run, Server, TestDb};

/// Every line break a client might honour, and comment terminators, each in a message
/// that tries to end the comment and drop `users`.
const BREAKS: &[&str] = &[
    "\\n", "\\r", "\\r\\n", "\\x0b", "\\f", "\\N", "\\L", "\\P", "*/", "\\n#", "\\n--\\n",
];

fn hostile_project() -> tempfile::TempDir {
    let mut files = vec![(
        "r0.yaml".to_owned(),
        "revision: r0\nmessage: users\nupgrade: CREATE TABLE users (id INTEGER PRIMARY KEY);\ndowngrade: DROP TABLE users;\n".to_owned(),
    )];
    let mut down = "r0".to_owned();
    for (i, brk) in BREAKS.iter().enumerate() {
        let id = format!("r{}", i + 1);
        files.push((
            format!("{id}.yaml"),
            format!(
                "revision: {id}\ndown_revision: {down}\nmessage: \"ok{brk}DROP TABLE users; -- {brk} injected\"\nupgrade: SELECT 1;\ndowngrade: SELECT 1;\n"
            ),
        ));
        down = id;
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    project(&refs)
}

/// The script migrate prints for `args`.
fn script(dir: &Path, args: &[&str]) -> String {
    let (code, out, err) = run(dir, args);
    assert_eq!(code, 0, "{args:?}: {err}");
    assert!(
        out.contains("injected"),
        "the messages are in the script: {out}"
    );
    out
}

/// Pipes `sql` into `client`; panics with the client's stderr when it stops on an error.
fn pipe(mut client: Command, sql: &str) {
    let mut child = client
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the database client starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(sql.as_bytes())
        .expect("the script is written");
    let out = child.wait_with_output().expect("the client ends");
    assert!(
        out.status.success(),
        "the client stopped on an error: {}\n{sql}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs up, down to r0, and a stamp script through `client()`, then `count()` must
/// still find `users`.
fn survive(dialect: &str, client: impl Fn() -> Command, users_exists: impl Fn() -> bool) {
    let dir = hostile_project();
    let d = dir.path();
    let last = format!("r{}", BREAKS.len());
    pipe(
        client(),
        &script(d, &["upgrade", "--sql", "--dialect", dialect, "head"]),
    );
    assert!(
        users_exists(),
        "{dialect}: users survives the upgrade script"
    );
    let range = format!("{last}:r0");
    pipe(
        client(),
        &script(d, &["downgrade", "--sql", "--dialect", dialect, &range]),
    );
    assert!(
        users_exists(),
        "{dialect}: users survives the downgrade script"
    );
    let from = format!("r0:{last}");
    pipe(
        client(),
        &script(d, &["stamp", "--sql", "--dialect", dialect, &from]),
    );
    assert!(users_exists(), "{dialect}: users survives the stamp script");
}

#[test]
fn hostile_messages_never_run_in_sqlite3() {
    let db_dir = tempfile::tempdir().unwrap();
    let db = db_dir.path().join("s.db");
    let client = || {
        let mut c = Command::new("sqlite3");
        c.arg("-bail").arg(&db);
        c
    };
    let exists = || {
        let out = Command::new("sqlite3")
            .arg(&db)
            .arg("SELECT count(*) FROM sqlite_master WHERE name = 'users';")
            .output()
            .expect("sqlite3 runs");
        String::from_utf8_lossy(&out.stdout).trim() == "1"
    };
    survive("sqlite", client, exists);
}

#[test]
fn hostile_messages_never_run_in_psql() {
    let Some(db) = TestDb::new(Server::Postgres) else {
        return;
    };
    let client = || {
        let mut c = Command::new("psql");
        c.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &db.url]);
        c
    };
    let exists = || {
        let out = Command::new("psql")
            .args(["-X", "-At", "-d", &db.url, "-c"])
            .arg("SELECT count(*) FROM pg_tables WHERE tablename = 'users'")
            .output()
            .expect("psql runs");
        String::from_utf8_lossy(&out.stdout).trim() == "1"
    };
    survive("postgres", client, exists);
}

#[test]
fn hostile_messages_never_run_in_mariadb() {
    let Some(db) = TestDb::new(Server::Mysql) else {
        return;
    };
    let client = || {
        let mut c = Command::new("mariadb");
        c.args(["-h", "127.0.0.1", "-P", "3306", "-u", "root", &db.name]);
        c
    };
    let exists = || {
        let out = Command::new("mariadb")
            .args(["-h", "127.0.0.1", "-P", "3306", "-u", "root", "-N", &db.name, "-e"])
            .arg("SELECT count(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'users'")
            .output()
            .expect("mariadb runs");
        String::from_utf8_lossy(&out.stdout).trim() == "1"
    };
    survive("mysql", client, exists);
}
