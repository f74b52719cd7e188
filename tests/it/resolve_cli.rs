//! A step a killed process left part-way, with real kills (SIGKILL) of the real binary
//! while a statement waits on a lock the test holds (seen in the server's own tables, so
//! nothing depends on timing): the next run names the statement in doubt and how to
//! check it, a replica that waited for the dead holder says so at once, and
//! `migrate resolve` settles it. Also: a NUL byte in SQL on PostgreSQL is logged, and
//! `--transaction all` reports nothing done before its one commit.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::interrupt::{hold_gate, query};
use super::support::{migrate, project, run, Server, TestDb};

fn spawn_upgrade(dir: &std::path::Path, url: &str) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin("migrate"))
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("NO_COLOR", "1")
        .args(["--database-url", url, "upgrade", "head"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawned")
}

/// Polls `sql` (a count) until it says `1`, for at most 30 s.
fn wait_until(server: Server, url: &str, sql: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while query(server, url, sql) != ["1"] {
        assert!(Instant::now() < deadline, "{what} never happened");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn kill9(child: &mut Child) {
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-KILL", &pid])
        .status()
        .expect("kill runs")
        .success());
    let status = child.wait().expect("reaped");
    assert_eq!(status.code(), None, "killed by a signal");
}

fn count_tables(server: Server, url: &str, name: &str) -> Vec<String> {
    let cast = if server == Server::Postgres {
        "TEXT"
    } else {
        "CHAR"
    };
    query(
        server,
        url,
        &format!("SELECT CAST(COUNT(*) AS {cast}) FROM information_schema.tables WHERE table_name = '{name}' AND table_schema = {}",
            if server == Server::Postgres { "current_schema()" } else { "DATABASE()" }),
    )
}

#[test]
fn mariadb_a_killed_holder_the_waiting_replica_reports_it_and_resolve_applied_goes_on() {
    let server = Server::Mysql;
    let Some(t) = TestDb::new(server) else {
        return;
    };
    let dir = project(&[
        ("r1.yaml", "revision: r1\nmessage: one\nupgrade: CREATE TABLE one (x INTEGER);\n"),
        ("r2.yaml", "revision: r2\ndown_revision: r1\nmessage: two\nupgrade: |\n  CREATE TABLE two AS SELECT GET_LOCK('migrate_gate', 60) AS g;\n  CREATE TABLE three (x INTEGER);\n"),
    ]);
    let d = dir.path();
    let release = hold_gate(server, &t.url);
    let mut a = spawn_upgrade(d, &t.url);
    wait_until(
        server,
        &t.url,
        "SELECT CAST(COUNT(*) AS CHAR) FROM information_schema.processlist WHERE info LIKE 'CREATE TABLE two AS SELECT GET_LOCK(%' AND id <> CONNECTION_ID()",
        "A waiting in r2's statement 1",
    );
    // Replica B starts and waits for the migrate lock A holds.
    let b = spawn_upgrade(d, &t.url);
    wait_until(
        server,
        &t.url,
        "SELECT CAST(COUNT(*) AS CHAR) FROM information_schema.processlist WHERE info LIKE 'SELECT GET_LOCK(CONCAT(%' AND id <> CONNECTION_ID()",
        "B waiting for the migrate lock",
    );
    kill9(&mut a);
    // A's statement goes on in the server once the gate opens; then its session ends,
    // and with it A's migrate lock.
    let started = Instant::now();
    release.send(()).expect("the gate thread waits");
    let out = b.wait_with_output().expect("B ends");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(50),
        "B waited out its lock timeout: {err}"
    );
    for part in [
        "the previous holder of the migrate lock died during revision r2",
        "upgrade statement 1 of 2, line 1: CREATE TABLE two AS SELECT GET_LOCK(",
        "in doubt",
        "see whether table two exists",
        "`migrate resolve r2 --applied`",
        "`migrate resolve r2 --rolled-back`",
    ] {
        assert!(err.contains(part), "{part:?} in {err}");
    }
    // MariaDB finished the statement after the kill: the table is there.
    assert_eq!(count_tables(server, &t.url, "two"), ["1"]);
    assert_eq!(count_tables(server, &t.url, "three"), ["0"]);

    let (code, _, err) = run(d, &["--database-url", &t.url, "resolve", "r1", "--applied"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("revision r1 has no statement in doubt"),
        "{err}"
    );

    let (code, _, err) = run(d, &["--database-url", &t.url, "resolve", "r2", "--applied"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("the next `migrate upgrade` continues revision r2 with statement 2 of 2"),
        "{err}"
    );
    let (code, _, err) = run(d, &["--database-url", &t.url, "upgrade", "head"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(count_tables(server, &t.url, "three"), ["1"]);
    assert_eq!(
        query(server, &t.url, "SELECT version_num FROM migrate_version"),
        ["r2"]
    );
    let resolution = query(
        server,
        &t.url,
        "SELECT CONCAT(error, ' / ', applied_by) FROM migrate_log WHERE error LIKE 'resolved%'",
    );
    assert_eq!(resolution.len(), 1, "{resolution:?}");
    assert!(
        resolution[0].starts_with("resolved with `migrate resolve`: statement 1 took effect / "),
        "{resolution:?}"
    );
}

#[test]
fn postgres_a_killed_non_transactional_step_is_in_doubt_and_resolve_rolled_back_reruns_it() {
    let server = Server::Postgres;
    let Some(t) = TestDb::new(server) else {
        return;
    };
    let dir = project(&[
        ("r1.yaml", "revision: r1\nmessage: one\nupgrade: CREATE TABLE one (x INTEGER);\n"),
        ("r2.yaml", "revision: r2\ndown_revision: r1\nmessage: two\ntransactional: false\nupgrade: |\n  CREATE TABLE two AS SELECT 1 AS x FROM (SELECT pg_advisory_lock(424242)) AS gate;\n  CREATE TABLE three (x INTEGER);\n"),
    ]);
    let d = dir.path();
    let release = hold_gate(server, &t.url);
    let mut a = spawn_upgrade(d, &t.url);
    wait_until(
        server,
        &t.url,
        "SELECT CAST(count(*) AS TEXT) FROM pg_locks WHERE locktype = 'advisory' AND objid = 424242 AND NOT granted",
        "A waiting in r2's statement 1",
    );
    kill9(&mut a);
    // PostgreSQL notices the vanished client and ends its session (and statement).
    wait_until(
        server,
        &t.url,
        "SELECT CAST(CASE WHEN count(*) = 0 THEN 1 ELSE 0 END AS TEXT) FROM pg_locks WHERE locktype = 'advisory' AND objid = 424242 AND NOT granted",
        "A's session to end",
    );
    let (code, _, err) = run(
        d,
        &[
            "--database-url",
            &t.url,
            "upgrade",
            "head",
            "--lock-timeout",
            "30",
        ],
    );
    assert_eq!(code, 1, "{err}");
    for part in [
        "revision r2",
        "stopped in statement 1 of 2",
        "line 1: CREATE TABLE two AS SELECT",
        "in doubt",
        "see whether table two exists",
        "`migrate resolve r2 --rolled-back`",
    ] {
        assert!(err.contains(part), "{part:?} in {err}");
    }
    // The server rolled the statement back with the session.
    assert_eq!(count_tables(server, &t.url, "two"), ["0"]);
    release.send(()).expect("the gate thread waits");

    let (code, _, err) = run(
        d,
        &["--database-url", &t.url, "resolve", "r2", "--rolled-back"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("continues revision r2 with statement 1 of 2"),
        "{err}"
    );
    let (code, _, err) = run(d, &["--database-url", &t.url, "upgrade", "head"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(count_tables(server, &t.url, "two"), ["1"]);
    assert_eq!(count_tables(server, &t.url, "three"), ["1"]);
}

#[test]
fn sqlite_a_failed_non_transactional_statement_is_settled_by_resolve_and_continued() {
    let dir = project(&[
        ("r1.yaml", "revision: r1\nmessage: one\ntransactional: false\nupgrade: |\n  CREATE TABLE one (x INTEGER);\n  INSERT INTO missing VALUES (1);\n"),
    ]);
    let d = dir.path();
    let url = format!("sqlite://{}", d.join("app.db").display());
    let (code, _, err) = run(d, &["--database-url", &url, "upgrade", "head"]);
    assert_eq!(code, 1, "{err}");
    let (code, _, err) = run(d, &["--database-url", &url, "upgrade", "head"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("stopped in statement 2 of 2"), "{err}");
    assert!(err.contains("statements 1 to 1 took effect"), "{err}");
    // Fix the statement in doubt (it failed, so it did not take effect).
    std::fs::write(
        d.join("revisions/r1.yaml"),
        "revision: r1\nmessage: one\ntransactional: false\nupgrade: |\n  CREATE TABLE one (x INTEGER);\n  CREATE TABLE two (x INTEGER);\n",
    )
    .expect("fixed");
    let (code, _, err) = run(
        d,
        &["--database-url", &url, "resolve", "r1", "--rolled-back"],
    );
    assert_eq!(code, 0, "{err}");
    // CREATE TABLE one would fail if it ran again.
    let (code, _, err) = run(d, &["--database-url", &url, "upgrade", "head"]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(d, &["--database-url", &url, "current"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("r1"), "{out}");
    let (code, _, err) = run(d, &["--database-url", &url, "resolve", "r1", "--applied"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("has no statement in doubt"), "{err}");
}

#[test]
fn postgres_a_nul_byte_in_sql_fails_the_step_and_its_log_row_is_written() {
    let server = Server::Postgres;
    let Some(t) = TestDb::new(server) else {
        return;
    };
    let dir = project(&[(
        "n1.yaml",
        "revision: n1\nmessage: nul\nupgrade: \"SELECT 1;\\nSELECT 'a\\0b';\\n\"\n",
    )]);
    let d = dir.path();
    let (code, _, err) = run(d, &["--database-url", &t.url, "upgrade", "head"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("NUL byte"), "{err}");
    assert!(!err.contains('\0'), "the message escapes it: {err:?}");
    assert!(err.contains("statement 2 of 2"), "{err}");
    let log = query(
        server,
        &t.url,
        "SELECT CAST(success AS TEXT) || ' ' || error FROM migrate_log WHERE revision = 'n1'",
    );
    assert_eq!(log.len(), 1, "the failed step's row: {log:?}");
    assert!(
        log[0].starts_with("false ") && log[0].contains("NUL byte"),
        "{log:?}"
    );
}

fn transaction_all_says_nothing_is_done_before_the_commit(url: &str, dir: &std::path::Path) {
    let (code, _, err) = run(
        dir,
        &[
            "--database-url",
            url,
            "upgrade",
            "head",
            "--transaction",
            "all",
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        !err.contains("[1/2]"),
        "a step reported before the commit: {err}"
    );
    assert!(err.contains("nothing was committed"), "{err}");
    assert!(err.contains("rolled back"), "{err}");
    let out = migrate(dir)
        .args(["--database-url", url, "current"])
        .output()
        .expect("runs");
    assert!(out.status.success());
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("ta1"),
        "nothing applied"
    );
}

fn all_project() -> tempfile::TempDir {
    project(&[
        ("ta1.yaml", "revision: ta1\nmessage: ok\nupgrade: CREATE TABLE ok_one (x INTEGER);\n"),
        ("ta2.yaml", "revision: ta2\ndown_revision: ta1\nmessage: fails\nupgrade: SELECT * FROM no_such_table;\n"),
    ])
}

#[test]
fn transaction_all_on_postgres_reports_steps_only_after_the_commit() {
    let Some(t) = TestDb::new(Server::Postgres) else {
        return;
    };
    let dir = all_project();
    transaction_all_says_nothing_is_done_before_the_commit(&t.url, dir.path());
}

#[test]
fn transaction_all_on_sqlite_reports_steps_only_after_the_commit() {
    let dir = all_project();
    let url = format!("sqlite://{}", dir.path().join("app.db").display());
    transaction_all_says_nothing_is_done_before_the_commit(&url, dir.path());
}
