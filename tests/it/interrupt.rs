//! Ctrl-C during `upgrade`, with a real signal to the real binary: the run stops before
//! the next statement, rolls back what the backend can, records the step, releases the
//! lock, says where the database is, and exits 130. The signal is sent while the
//! revision's first statement waits on a lock this test holds (seen in the server's
//! own lock/process tables), so nothing depends on timing.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use sqlx::Connection;

use super::support::{project, Server, TestDb};

/// Runs `sql` on `url` and returns the first column of each row as text.
pub(super) fn query(server: Server, url: &str, sql: &str) -> Vec<String> {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    super::support::block_on(async move {
        let q = sqlx::AssertSqlSafe(sql);
        match server {
            Server::Postgres => {
                let mut c = sqlx::PgConnection::connect(&url).await.expect("connect");
                sqlx::query_scalar::<_, String>(q)
                    .fetch_all(&mut c)
                    .await
                    .expect("query")
            }
            Server::Mysql => {
                let mut c = sqlx::MySqlConnection::connect(&url).await.expect("connect");
                sqlx::query_scalar::<_, String>(q)
                    .fetch_all(&mut c)
                    .await
                    .expect("query")
            }
        }
    })
}

/// Holds a lock on its own session until told to let go; returns once it is held.
pub(super) fn hold_gate(server: Server, url: &str) -> mpsc::Sender<()> {
    let (release, released) = mpsc::channel::<()>();
    let (held, is_held) = mpsc::channel::<()>();
    let url = url.to_owned();
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(async move {
                let (take, give) = match server {
                    Server::Postgres => (
                        "SELECT pg_advisory_lock(424242)",
                        "SELECT pg_advisory_unlock(424242)",
                    ),
                    Server::Mysql => (
                        "SELECT GET_LOCK('migrate_gate', 60)",
                        "SELECT RELEASE_LOCK('migrate_gate')",
                    ),
                };
                macro_rules! session {
                    ($conn:ty) => {{
                        let mut c = <$conn>::connect(&url).await.expect("gate session");
                        sqlx::raw_sql(take)
                            .execute(&mut c)
                            .await
                            .expect("gate taken");
                        held.send(()).expect("test waits");
                        let _ = released.recv();
                        sqlx::raw_sql(give)
                            .execute(&mut c)
                            .await
                            .expect("gate released");
                    }};
                }
                match server {
                    Server::Postgres => session!(sqlx::PgConnection),
                    Server::Mysql => session!(sqlx::MySqlConnection),
                }
            })
    });
    is_held.recv().expect("the gate is held");
    release
}

pub(super) fn waits_at_gate(server: Server, url: &str) -> bool {
    let sql = match server {
        Server::Postgres => "SELECT CAST(count(*) AS TEXT) FROM pg_locks WHERE locktype = 'advisory' AND objid = 424242 AND NOT granted",
        Server::Mysql => "SELECT CAST(COUNT(*) AS CHAR) FROM information_schema.processlist WHERE info LIKE 'SELECT GET_LOCK(%migrate_gate%' AND id <> CONNECTION_ID()",
    };
    query(server, url, sql) == ["1"]
}

fn ctrl_c_mid_revision(server: Server) {
    let Some(t) = TestDb::new(server) else {
        return;
    };
    let gate = match server {
        Server::Postgres => "SELECT pg_advisory_lock(424242)",
        Server::Mysql => "SELECT GET_LOCK('migrate_gate', 60)",
    };
    let dir = project(&[
        ("i1.yaml", "revision: i1\nmessage: one\nupgrade: CREATE TABLE one (x INTEGER);\ndowngrade: DROP TABLE one;\n"),
        ("i2.yaml", &format!("revision: i2\ndown_revision: i1\nmessage: two\nupgrade: |\n  {gate};\n  CREATE TABLE two (x INTEGER);\ndowngrade: DROP TABLE two;\n")),
        ("i3.yaml", "revision: i3\ndown_revision: i2\nmessage: three\nupgrade: CREATE TABLE three (x INTEGER);\ndowngrade: DROP TABLE three;\n"),
    ]);
    let d = dir.path();
    let release = hold_gate(server, &t.url);
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("migrate"))
        .current_dir(d)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("NO_COLOR", "1")
        .args(["--database-url", &t.url, "upgrade", "head"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawned");
    let stderr = child.stderr.take().expect("piped");
    let (line_tx, lines) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = line_tx.send(line);
        }
    });

    let deadline = Instant::now() + Duration::from_secs(30);
    while !waits_at_gate(server, &t.url) {
        assert!(
            Instant::now() < deadline,
            "i2 never reached its first statement"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill runs")
        .success());
    let mut seen = Vec::new();
    while !seen.iter().any(|l: &String| l.contains("SIGINT received")) {
        let line = lines
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("no notice of the signal; stderr so far: {seen:?}"));
        seen.push(line);
    }
    release.send(()).expect("the gate thread waits");
    let status = child.wait().expect("migrate ends");
    seen.extend(lines.iter());
    let err = seen.join("\n");
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(
        err.contains("interrupted by SIGINT: stopped revision i2 before statement 2 of 2"),
        "{err}"
    );
    let versions = query(server, &t.url, "SELECT version_num FROM migrate_version");
    assert_eq!(versions, ["i1"], "{err}");
    let log = query(
        server,
        &t.url,
        "SELECT error FROM migrate_log WHERE revision = 'i2'",
    );
    assert_eq!(log, ["interrupted by SIGINT before statement 2 of 2"]);
    let tables_named = |name: &str| {
        query(
            server,
            &t.url,
            &format!(
                "SELECT CAST(COUNT(*) AS {}) FROM information_schema.tables WHERE table_name = '{name}'",
                if server == Server::Postgres { "TEXT" } else { "CHAR" }
            ),
        )
    };
    assert_eq!(tables_named("three"), ["0"], "i3 never started");

    // The lock was released: the next run starts at once (a short lock timeout).
    let out = super::support::migrate(d)
        .args([
            "--database-url",
            &t.url,
            "upgrade",
            "head",
            "--lock-timeout",
            "5",
        ])
        .output()
        .expect("runs");
    let again = String::from_utf8_lossy(&out.stderr).into_owned();
    match server {
        Server::Postgres => {
            assert!(
                err.contains("rolled it back; the database is at i1"),
                "{err}"
            );
            assert!(out.status.success(), "{again}");
            assert_eq!(tables_named("three"), ["1"]);
        }
        Server::Mysql => {
            // MariaDB's DDL can't roll back in general, but the log says statement 1
            // completed and statement 2 never started: the next run continues with it.
            assert!(err.contains("may be half-changed"), "{err}");
            assert!(
                err.contains("continues revision i2 with statement 2"),
                "{err}"
            );
            assert!(out.status.success(), "{again}");
            assert_eq!(tables_named("two"), ["1"]);
            assert_eq!(tables_named("three"), ["1"]);
        }
    }
}

#[test]
fn ctrl_c_mid_revision_on_postgres_rolls_it_back_and_exits_130() {
    ctrl_c_mid_revision(Server::Postgres);
}

#[test]
fn ctrl_c_mid_revision_on_mariadb_records_the_step_in_doubt_and_exits_130() {
    ctrl_c_mid_revision(Server::Mysql);
}
