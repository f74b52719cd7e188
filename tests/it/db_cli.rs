//! The database commands through the real binary, on SQLite, PostgreSQL and MariaDB:
//! the example project's round trip, Alembic's branch/merge row transitions, a failure
//! mid-plan, `--sql` fed to each database's own client, concurrent runs, a killed run,
//! and bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use sqlx::Connection;

use super::support::{block_on, migrate, Server, TestDb};

/// A database for one test: a temp SQLite file, or a server database.
pub struct Target {
    pub url: String,
    pub kind: Kind,
    _db: Option<TestDb>,
    _dir: Option<tempfile::TempDir>,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
    Mysql,
}

impl Kind {
    /// The `--dialect` value of this backend.
    pub fn dialect(self) -> &'static str {
        match self {
            Kind::Sqlite => "sqlite",
            Kind::Postgres => "postgres",
            Kind::Mysql => "mysql",
        }
    }
}

impl Target {
    pub fn new(kind: Kind) -> Option<Target> {
        match kind {
            Kind::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join("test.db");
                Some(Target {
                    url: format!("sqlite://{}", path.display()),
                    kind,
                    name: path.display().to_string(),
                    _db: None,
                    _dir: Some(dir),
                })
            }
            Kind::Postgres | Kind::Mysql => {
                let server = if kind == Kind::Postgres {
                    Server::Postgres
                } else {
                    Server::Mysql
                };
                let db = TestDb::new(server)?;
                Some(Target {
                    url: db.url.clone(),
                    name: db.name.clone(),
                    kind,
                    _db: Some(db),
                    _dir: None,
                })
            }
        }
    }

    /// Runs SQL with the database's own command-line client.
    pub fn client(&self, script: &str) -> std::process::Output {
        let mut cmd = match self.kind {
            Kind::Sqlite => {
                let mut c = Command::new("sqlite3");
                c.arg("-bail").arg(&self.name);
                c
            }
            Kind::Postgres => {
                let mut c = Command::new("psql");
                c.args(["-q", "-v", "ON_ERROR_STOP=1", &self.url]);
                c
            }
            Kind::Mysql => {
                let mut c = Command::new("mariadb");
                c.args(["-h", "127.0.0.1", "-P", "3306", "-u", "root", &self.name]);
                c
            }
        };
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the database client runs");
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().expect("stdin");
            stdin.write_all(script.as_bytes()).expect("script written");
        }
        child.wait_with_output().expect("client finished")
    }

    /// Columns (`table.column`) and index names of the user schema, sorted, without the
    /// bookkeeping tables.
    pub fn schema(&self) -> Vec<String> {
        let sql = match self.kind {
            Kind::Sqlite => {
                "SELECT m.name || '.' || p.name || ' ' || lower(p.type) FROM sqlite_master m \
                 JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
                 UNION ALL SELECT 'index ' || tbl_name || '.' || name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex%'"
            }
            Kind::Postgres => {
                "SELECT table_name || '.' || column_name || ' ' || data_type FROM information_schema.columns \
                 WHERE table_schema = 'public' UNION ALL SELECT 'index ' || tablename || '.' || indexname FROM pg_indexes WHERE schemaname = 'public'"
            }
            Kind::Mysql => {
                "SELECT CONCAT(table_name, '.', column_name, ' ', data_type) FROM information_schema.columns \
                 WHERE table_schema = DATABASE() UNION ALL SELECT DISTINCT CONCAT('index ', table_name, '.', index_name) \
                 FROM information_schema.statistics WHERE table_schema = DATABASE()"
            }
        };
        let mut rows = self.query_strings(sql);
        rows.retain(|r| !r.contains("migrate_log") && !r.contains("migrate_version"));
        rows.sort();
        rows
    }

    /// Runs a query whose one column is text.
    pub fn query_strings(&self, sql: &'static str) -> Vec<String> {
        let url = self.url.clone();
        let kind = self.kind;
        block_on(async move {
            match kind {
                Kind::Sqlite => {
                    let mut c = sqlx::SqliteConnection::connect(&url)
                        .await
                        .expect("connect");
                    sqlx::query_scalar::<_, String>(sql).fetch_all(&mut c).await
                }
                Kind::Postgres => {
                    let mut c = sqlx::PgConnection::connect(&url).await.expect("connect");
                    sqlx::query_scalar::<_, String>(sql).fetch_all(&mut c).await
                }
                Kind::Mysql => {
                    let mut c = sqlx::MySqlConnection::connect(&url).await.expect("connect");
                    sqlx::query_scalar::<_, String>(sql).fetch_all(&mut c).await
                }
            }
        })
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    pub fn versions(&self) -> Vec<String> {
        let mut v = self.query_strings("SELECT version_num FROM migrate_version");
        v.sort();
        v
    }

    /// `revision direction` of every successful log row, in order.
    pub fn log(&self) -> Vec<String> {
        let sql = match self.kind {
            Kind::Mysql => "SELECT CONCAT(revision, ' ', direction) FROM migrate_log WHERE success = 1 ORDER BY id",
            Kind::Sqlite => "SELECT revision || ' ' || direction FROM migrate_log WHERE success = 1 ORDER BY id",
            Kind::Postgres => "SELECT revision || ' ' || direction FROM migrate_log WHERE success ORDER BY id",
        };
        self.query_strings(sql)
    }
}

/// The example project's revisions directory.
pub fn example_revisions() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("revisions")
}

/// A project directory with the given revision files.
pub fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("revisions")).expect("revisions dir");
    for (name, text) in files {
        std::fs::write(dir.path().join("revisions").join(name), text).expect("file written");
    }
    dir
}

fn run_ok(dir: &Path, url: &str, args: &[&str]) -> String {
    let out = migrate(dir)
        .arg("--database-url")
        .arg(url)
        .args(args)
        .output()
        .expect("migrate runs");
    assert!(
        out.status.success(),
        "migrate {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn run_fail(dir: &Path, url: &str, args: &[&str]) -> (i32, String) {
    let out = migrate(dir)
        .arg("--database-url")
        .arg(url)
        .args(args)
        .output()
        .expect("migrate runs");
    assert!(!out.status.success(), "migrate {args:?} should fail");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn current(dir: &Path, url: &str) -> Vec<String> {
    let out = run_ok(dir, url, &["--format", "json", "current"]);
    let v: Value = serde_json::from_str(&out).expect("json");
    let mut ids: Vec<String> = v
        .as_array()
        .expect("array")
        .iter()
        .map(|r| r["revision"].as_str().expect("revision").to_owned())
        .collect();
    ids.sort();
    ids
}

macro_rules! on_all_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[test] fn $name() { if let Some(t) = super::Target::new(super::Kind::Sqlite) { super::$name(t) } } )* }
        mod postgres { $( #[test] fn $name() { if let Some(t) = super::Target::new(super::Kind::Postgres) { super::$name(t) } } )* }
        mod mysql { $( #[test] fn $name() { if let Some(t) = super::Target::new(super::Kind::Mysql) { super::$name(t) } } )* }
    };
}

on_all_backends!(
    example_round_trip,
    branch_and_merge_rows_follow_alembic,
    failure_mid_plan_keeps_earlier_revisions,
    offline_sql_gives_the_online_schema,
    offline_stamp_sets_the_rows_and_nothing_else,
    concurrent_upgrades_apply_each_revision_once,
    a_held_lock_times_out_with_a_clear_error,
    killed_run_leaves_no_stale_lock,
    bad_input_is_refused_before_anything_runs,
);

const EXAMPLE_TABLES: &[&str] = &[
    "users.email",
    "roles.name",
    "permissions.code",
    "user_roles.role_id",
    "role_permissions.permission_id",
    "refresh_tokens.token_hash",
    "audit_events.action",
    "api_keys.key_hash",
    "users.display_name",
];

fn example_round_trip(t: Target) {
    let dir = tempfile::tempdir().expect("dir");
    let revs = example_revisions();
    let revs = revs.to_str().expect("utf-8 path");
    let up = ["--revisions", revs, "upgrade", "head"];
    run_ok(dir.path(), &t.url, &up);
    let first = t.schema();
    for col in EXAMPLE_TABLES {
        assert!(
            first.iter().any(|c| c.starts_with(col)),
            "{col} missing in {first:?}"
        );
    }
    assert_eq!(t.versions(), ["88e431a4e788"]);
    let seeded = t.query_strings("SELECT name FROM roles ORDER BY id");
    assert_eq!(seeded, ["admin", "editor", "viewer"]);

    run_ok(
        dir.path(),
        &t.url,
        &["--revisions", revs, "downgrade", "base"],
    );
    assert_eq!(
        t.schema(),
        Vec::<String>::new(),
        "downgrade base leaves only bookkeeping"
    );
    assert!(t.versions().is_empty());

    run_ok(dir.path(), &t.url, &up);
    assert_eq!(
        t.schema(),
        first,
        "the second upgrade builds the same schema"
    );
    // 11 up, 11 down, 11 up: one log row each.
    assert_eq!(t.log().len(), 33);
}

/// ```text
///        a
///        |
///        b
///       / \
///  c1 (c1b)  c2 (c2b)
///      |     |
///     d1     d2
///       \   /
///         e
///         |
///         f
/// ```
fn branch_and_merge_rows_follow_alembic(t: Target) {
    let rev = |id: &str, down: &str, extra: &str| {
        format!(
            "revision: {id}\ndown_revision: {down}\nmessage: {id}\n{extra}upgrade: |\n  CREATE TABLE t_{id} (x INTEGER);\ndowngrade: |\n  DROP TABLE t_{id};\n"
        )
    };
    let files = [
        ("a.yaml", rev("a", "null", "")),
        ("b.yaml", rev("b", "a", "")),
        ("c1.yaml", rev("c1", "b", "branch_labels: [c1b]\n")),
        ("c2.yaml", rev("c2", "b", "branch_labels: [c2b]\n")),
        ("d1.yaml", rev("d1", "c1", "")),
        ("d2.yaml", rev("d2", "c2", "")),
        ("e.yaml", rev("e", "[d1, d2]", "")),
        ("f.yaml", rev("f", "e", "")),
    ];
    let refs: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let dir = project(&refs);
    let d = dir.path();
    let steps: &[(&str, &str, &[&str])] = &[
        ("upgrade", "c1", &["c1"]),
        ("upgrade", "c2", &["c1", "c2"]),
        ("upgrade", "d2", &["c1", "d2"]),
        ("upgrade", "e", &["e"]),
        ("upgrade", "f", &["f"]),
        ("downgrade", "d1", &["d1", "d2"]),
        ("downgrade", "c2", &["c2", "d1"]),
        ("upgrade", "heads", &["f"]),
        ("downgrade", "b", &["b"]),
        ("downgrade", "base", &[]),
    ];
    for (cmd, target, rows) in steps {
        run_ok(d, &t.url, &[cmd, target]);
        assert_eq!(current(d, &t.url), *rows, "after {cmd} {target}");
        assert_eq!(t.versions(), *rows, "version table after {cmd} {target}");
    }
}

fn failure_mid_plan_keeps_earlier_revisions(t: Target) {
    let dir = project(&[
        (
            "r1_one.yaml",
            "revision: r1\nmessage: one\nupgrade: |\n  CREATE TABLE one (x INTEGER);\ndowngrade: DROP TABLE one;\n",
        ),
        (
            "r2_two.yaml",
            "revision: r2\ndown_revision: r1\nmessage: two\nupgrade: |\n  CREATE TABLE two (x INTEGER);\n  INSERT INTO no_such_table VALUES (1);\ndowngrade: DROP TABLE two;\n",
        ),
        (
            "r3_three.yaml",
            "revision: r3\ndown_revision: r2\nmessage: three\nupgrade: CREATE TABLE three (x INTEGER);\ndowngrade: DROP TABLE three;\n",
        ),
    ]);
    let d = dir.path();
    let (code, err) = run_fail(d, &t.url, &["upgrade", "head"]);
    assert_eq!(code, 1);
    assert!(err.contains("revision r2"), "{err}");
    assert!(err.contains("r2_two.yaml"), "{err}");
    assert!(err.contains("statement 2 of 2"), "{err}");
    assert!(err.contains("INSERT INTO no_such_table"), "{err}");
    assert_eq!(
        err.lines().filter(|l| l.starts_with("error:")).count(),
        1,
        "{err}"
    );
    assert_eq!(t.versions(), ["r1"]);
    let tables = t.schema();
    assert!(tables.iter().any(|c| c.starts_with("one.x")), "{tables:?}");
    assert!(
        !tables.iter().any(|c| c.starts_with("three.")),
        "{tables:?}"
    );
    if t.kind == Kind::Mysql {
        // DDL committed: `two` exists, and the next run refuses to go on, naming the
        // statement in doubt.
        assert!(tables.iter().any(|c| c.starts_with("two.x")), "{tables:?}");
        let (code, err) = run_fail(d, &t.url, &["upgrade", "head"]);
        assert_eq!(code, 1);
        assert!(err.contains("statement 2 is in doubt"), "{err}");
        assert!(err.contains("migrate resolve r2"), "{err}");
        // Fix by hand, stamp, fix the file, go on.
        let out = t.client("DROP TABLE two;");
        assert!(out.status.success());
        run_ok(d, &t.url, &["stamp", "r1"]);
    } else {
        assert!(!tables.iter().any(|c| c.starts_with("two.")), "{tables:?}");
    }
    std::fs::write(
        d.join("revisions/r2_two.yaml"),
        "revision: r2\ndown_revision: r1\nmessage: two\nupgrade: CREATE TABLE two (x INTEGER);\ndowngrade: DROP TABLE two;\n",
    )
    .expect("fixed");
    run_ok(d, &t.url, &["upgrade", "head"]);
    assert_eq!(t.versions(), ["r3"]);
}

fn offline_sql_gives_the_online_schema(t: Target) {
    let dir = tempfile::tempdir().expect("dir");
    let revs = example_revisions();
    let revs = revs.to_str().expect("utf-8 path");
    let dialect = t.kind.dialect();
    let script = run_ok(
        dir.path(),
        &t.url,
        &[
            "--revisions",
            revs,
            "upgrade",
            "head",
            "--sql",
            "--dialect",
            dialect,
        ],
    );
    assert!(script.contains("CREATE TABLE IF NOT EXISTS migrate_version"));
    let out = t.client(&script);
    assert!(
        out.status.success(),
        "client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let offline = t.schema();
    assert_eq!(t.versions(), ["88e431a4e788"]);
    let online = Target::new(t.kind).expect("a second database");
    run_ok(
        dir.path(),
        &online.url,
        &["--revisions", revs, "upgrade", "head"],
    );
    assert_eq!(offline, online.schema());
    assert!(!offline.is_empty());

    // The range form continues from a revision: downgrade to the branch point offline.
    let down = run_ok(
        dir.path(),
        &t.url,
        &[
            "--revisions",
            revs,
            "downgrade",
            "88e431a4e788:a7b6c8d9e0f1",
            "--sql",
            "--dialect",
            dialect,
        ],
    );
    assert!(!down.contains("CREATE TABLE IF NOT EXISTS migrate_version"));
    let out = t.client(&down);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(t.versions(), ["a7b6c8d9e0f1"]);
    run_ok(
        dir.path(),
        &online.url,
        &["--revisions", revs, "downgrade", "a7b6c8d9e0f1"],
    );
    assert_eq!(t.schema(), online.schema());
}

/// `stamp --sql` fed to the database's own client: the version rows and a stamp log row,
/// no schema; `FROM:REV` continues from rows already there.
fn offline_stamp_sets_the_rows_and_nothing_else(t: Target) {
    let dir = tempfile::tempdir().expect("dir");
    let revs = example_revisions();
    let revs = revs.to_str().expect("utf-8 path");
    let dialect = t.kind.dialect();
    let stamp = |target: &str| {
        run_ok(
            dir.path(),
            &t.url,
            &[
                "--revisions",
                revs,
                "stamp",
                target,
                "--sql",
                "--dialect",
                dialect,
            ],
        )
    };
    let script = stamp("head");
    assert!(
        script.contains("CREATE TABLE IF NOT EXISTS migrate_version"),
        "{script}"
    );
    let out = t.client(&script);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(t.versions(), ["88e431a4e788"]);
    assert!(
        t.schema().is_empty(),
        "a stamp creates no schema: {:?}",
        t.schema()
    );
    assert_eq!(
        t.query_strings("SELECT direction FROM migrate_log"),
        ["stamp"]
    );

    // From head back to the branch point: no table DDL, one row changed.
    let back = stamp("88e431a4e788:a7b6c8d9e0f1");
    assert!(!back.contains("CREATE TABLE"), "{back}");
    let out = t.client(&back);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(t.versions(), ["a7b6c8d9e0f1"]);

    // What needs a connection, or two starting points, is refused as usage.
    for args in [
        vec!["stamp", "head", "--sql", "--purge"],
        vec![
            "stamp",
            "a7b6c8d9e0f1:d0e9f1a2b3c4",
            "base:d0e9f1a2b3c4",
            "--sql",
        ],
    ] {
        let mut full = vec!["--revisions", revs];
        full.extend(args.iter().copied());
        let (code, err) = run_fail(dir.path(), &t.url, &full);
        assert_eq!(code, 2, "{args:?}: {err}");
    }
    assert_eq!(t.versions(), ["a7b6c8d9e0f1"]);
}

/// Revisions that each take a little time, so concurrent runs overlap.
fn chain(n: usize) -> Vec<(String, String)> {
    (1..=n)
        .map(|i| {
            let down = if i == 1 {
                "null".to_owned()
            } else {
                format!("c{}", i - 1)
            };
            (
                format!("c{i}.yaml"),
                format!(
                    "revision: c{i}\ndown_revision: {down}\nmessage: step {i}\nupgrade: |\n  CREATE TABLE t{i} (x INTEGER);\n  INSERT INTO t{i} VALUES ({i});\ndowngrade: DROP TABLE t{i};\n"
                ),
            )
        })
        .collect()
}

fn concurrent_upgrades_apply_each_revision_once(t: Target) {
    let files = chain(12);
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let dir = project(&refs);
    let bin = assert_cmd::cargo::cargo_bin("migrate");
    let children: Vec<_> = (0..8)
        .map(|_| {
            Command::new(&bin)
                .current_dir(dir.path())
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .env_remove("DATABASE_URL")
                .args([
                    "--database-url",
                    &t.url,
                    "upgrade",
                    "head",
                    "--lock-timeout",
                    "60",
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawned")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().expect("finished");
        assert!(
            out.status.success(),
            "a concurrent run failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(t.versions(), ["c12"]);
    let log = t.log();
    let expected: Vec<String> = (1..=12).map(|i| format!("c{i} upgrade")).collect();
    assert_eq!(
        log, expected,
        "each revision applied exactly once, in order"
    );
    for i in [1, 6, 12] {
        let sql: &'static str = match i {
            1 => "SELECT CAST(COUNT(*) AS CHAR(10)) FROM t1",
            6 => "SELECT CAST(COUNT(*) AS CHAR(10)) FROM t6",
            _ => "SELECT CAST(COUNT(*) AS CHAR(10)) FROM t12",
        };
        let sql = if t.kind == Kind::Postgres {
            match i {
                1 => "SELECT COUNT(*)::text FROM t1",
                6 => "SELECT COUNT(*)::text FROM t6",
                _ => "SELECT COUNT(*)::text FROM t12",
            }
        } else {
            sql
        };
        assert_eq!(t.query_strings(sql), ["1"], "t{i} seeded once");
    }
}

fn killed_run_leaves_no_stale_lock(t: Target) {
    let slow = match t.kind {
        Kind::Sqlite => "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 300000000) SELECT COUNT(*) FROM n",
        Kind::Postgres => "SELECT pg_sleep(30)",
        Kind::Mysql => "SELECT SLEEP(30)",
    };
    let r2 = |body: &str| {
        format!("revision: k2\ndown_revision: k1\nmessage: slow\nupgrade: |\n  CREATE TABLE k2 (x INTEGER);\n  {body};\ndowngrade: DROP TABLE k2;\n")
    };
    let dir = project(&[
        ("k1.yaml", "revision: k1\nmessage: first\nupgrade: CREATE TABLE k1 (x INTEGER);\ndowngrade: DROP TABLE k1;\n"),
        ("k2.yaml", &r2(slow)),
    ]);
    let d = dir.path();
    let bin = assert_cmd::cargo::cargo_bin("migrate");
    let mut child = Command::new(&bin)
        .current_dir(d)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args(["--database-url", &t.url, "upgrade", "head"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawned");
    // Wait until k1 is committed and k2's slow statement runs: on the servers it shows in
    // the process list; on SQLite the write lock passes from k1 to k2 without a gap, so a
    // held write lock after k1's row is k2 running.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !(log_has_k1(&t) && k2_is_running(&t)) {
        assert!(std::time::Instant::now() < deadline, "k2 never ran");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().expect("killed");
    let _ = child.wait();

    std::fs::write(d.join("revisions/k2.yaml"), r2("SELECT 1")).expect("rewritten");
    assert_eq!(t.versions(), ["k1"], "k2 was not recorded");
    if t.kind == Kind::Mysql {
        // The step was recorded as started: the next run refuses, it does not hang on a lock.
        let (code, err) = run_fail(d, &t.url, &["upgrade", "head", "--lock-timeout", "5"]);
        assert_eq!(code, 1);
        assert!(err.contains("statement 2 is in doubt"), "{err}");
        assert!(!err.contains("gave up after"), "{err}");
        t.client("DROP TABLE IF EXISTS k2;");
        run_ok(d, &t.url, &["stamp", "k1"]);
    } else {
        assert!(
            !t.schema().iter().any(|c| c.starts_with("k2.")),
            "k2 rolled back"
        );
    }
    run_ok(d, &t.url, &["upgrade", "head", "--lock-timeout", "5"]);
    assert_eq!(t.versions(), ["k2"]);
}

/// While another holder has the lock, `upgrade --lock-timeout 1` gives up after a second
/// with a one-line error and changes nothing; once the lock is free it runs. The holder is
/// a `sqlite3` session in `BEGIN IMMEDIATE` on SQLite, and another `migrate` inside a slow
/// revision on the servers.
fn a_held_lock_times_out_with_a_clear_error(t: Target) {
    use std::io::{BufRead, Write};
    let slow = match t.kind {
        Kind::Sqlite => "SELECT 1",
        Kind::Postgres => "SELECT pg_sleep(4)",
        Kind::Mysql => "SELECT SLEEP(4)",
    };
    let dir = project(&[(
        "l1.yaml",
        &format!("revision: l1\nmessage: one\nupgrade: \"CREATE TABLE l1 (x INTEGER); {slow};\"\ndowngrade: DROP TABLE l1;\n"),
    )]);
    let d = dir.path();
    let mut holder = match t.kind {
        Kind::Sqlite => {
            let mut c = Command::new("sqlite3")
                .arg(&t.name)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("sqlite3 runs");
            let mut stdin = c.stdin.take().expect("stdin");
            stdin
                .write_all(b"BEGIN IMMEDIATE;\n.print held\n")
                .expect("written");
            let mut line = String::new();
            std::io::BufReader::new(c.stdout.take().expect("stdout"))
                .read_line(&mut line)
                .expect("read");
            assert_eq!(line.trim(), "held");
            (c, Some(stdin))
        }
        _ => {
            let c = Command::new(assert_cmd::cargo::cargo_bin("migrate"))
                .current_dir(d)
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .args(["--database-url", &t.url, "upgrade", "head"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("migrate runs");
            let running = match t.kind {
                Kind::Postgres => "SELECT CAST(count(*) AS TEXT) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(4)%' AND pid <> pg_backend_pid() AND datname = current_database()",
                _ => "SELECT CAST(COUNT(*) AS CHAR) FROM information_schema.processlist WHERE info LIKE '%SLEEP(4)%' AND id <> CONNECTION_ID() AND db = DATABASE()",
            };
            let deadline = std::time::Instant::now() + Duration::from_secs(20);
            while t.query_strings(running) != ["1"] {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the holder never ran l1"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
            (c, None)
        }
    };
    let started = std::time::Instant::now();
    let (code, err) = run_fail(d, &t.url, &["upgrade", "head", "--lock-timeout", "1"]);
    let waited = started.elapsed();
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("another migrate process holds the lock; gave up after 1 s (--lock-timeout)"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(
        waited >= Duration::from_millis(900),
        "gave up after {waited:?}"
    );

    // Release: the sqlite3 session ends (its transaction rolls back), or the holder
    // finishes l1. Then the lock is free and the run has nothing or everything to do.
    drop(holder.1.take());
    assert!(holder.0.wait().expect("holder ended").success());
    run_ok(d, &t.url, &["upgrade", "head", "--lock-timeout", "5"]);
    assert_eq!(t.versions(), ["l1"]);
    assert_eq!(t.log(), ["l1 upgrade"], "l1 applied once");
}

/// Whether the slow statement of `killed_run_leaves_no_stale_lock` is running: listed
/// by the server, or (SQLite) someone holds the write lock.
fn k2_is_running(t: &Target) -> bool {
    match t.kind {
        Kind::Sqlite => {
            let Ok(c) = rusqlite::Connection::open(&t.name) else {
                return false;
            };
            // No busy timeout: BEGIN IMMEDIATE fails at once while another writer holds it.
            match c.execute_batch("BEGIN IMMEDIATE; ROLLBACK;") {
                Ok(()) => false,
                Err(e) => {
                    assert!(e.to_string().contains("locked"), "{e}");
                    true
                }
            }
        }
        Kind::Postgres => t.query_strings(
            "SELECT CAST(count(*) AS TEXT) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid() AND datname = current_database()",
        ) == ["1"],
        Kind::Mysql => t.query_strings(
            "SELECT CAST(COUNT(*) AS CHAR) FROM information_schema.processlist WHERE info LIKE '%SLEEP(30)%' AND id <> CONNECTION_ID() AND db = DATABASE()",
        ) == ["1"],
    }
}

fn log_has_k1(t: &Target) -> bool {
    let url = t.url.clone();
    let kind = t.kind;
    block_on(async move {
        let sql = "SELECT version_num FROM migrate_version";
        let r: Result<Vec<String>, sqlx::Error> = async {
            match kind {
                Kind::Sqlite => {
                    let mut c = sqlx::SqliteConnection::connect(&url).await?;
                    sqlx::query_scalar(sql).fetch_all(&mut c).await
                }
                Kind::Postgres => {
                    let mut c = sqlx::PgConnection::connect(&url).await?;
                    sqlx::query_scalar(sql).fetch_all(&mut c).await
                }
                Kind::Mysql => {
                    let mut c = sqlx::MySqlConnection::connect(&url).await?;
                    sqlx::query_scalar(sql).fetch_all(&mut c).await
                }
            }
        }
        .await;
        r.map(|v| v == ["k1"]).unwrap_or(false)
    })
}

fn bad_input_is_refused_before_anything_runs(t: Target) {
    let dir = project(&[
        (
            "i1.yaml",
            "revision: i1\nmessage: one\nupgrade: CREATE TABLE i1 (x INTEGER);\n",
        ),
        (
            "i2.yaml",
            "revision: i2\ndown_revision: i1\nmessage: two\nupgrade: CREATE TABLE i2 (x INTEGER);\ndowngrade: DROP TABLE i2;\n",
        ),
        (
            "i3.yaml",
            "revision: i3\ndown_revision: i2\nmessage: three\nupgrade:\n  oracle_only_sqlite_missing: x\n",
        ),
    ]);
    let d = dir.path();
    // The loader rejects an unknown dialect key with file and line.
    let (code, err) = run_fail(d, &t.url, &["upgrade", "head"]);
    assert_eq!(code, 1);
    assert!(err.contains("i3.yaml"), "{err}");
    let other = match t.kind {
        Kind::Sqlite => "postgres",
        _ => "sqlite",
    };
    std::fs::write(
        d.join("revisions/i3.yaml"),
        format!("revision: i3\ndown_revision: i2\nmessage: three\nupgrade:\n  {other}: CREATE TABLE i3 (x INTEGER);\n"),
    )
    .expect("written");
    // No SQL for this backend: refused before i1 and i2 run.
    let (code, err) = run_fail(d, &t.url, &["upgrade", "head"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("revision i3") && err.contains("no upgrade SQL"),
        "{err}"
    );
    run_ok(d, &t.url, &["upgrade", "i2"]);
    assert_eq!(t.versions(), ["i2"]);
    // Irreversible i1: a downgrade through it is refused before i2 is reverted.
    let (code, err) = run_fail(d, &t.url, &["downgrade", "base"]);
    assert_eq!(code, 1);
    assert!(err.contains("i1") && err.contains("irreversible"), "{err}");
    assert_eq!(t.versions(), ["i2"]);
    // Unknown target.
    let (code, err) = run_fail(d, &t.url, &["upgrade", "nope"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("Can't locate revision identified by 'nope'"),
        "{err}"
    );
    // A range needs --sql; downgrade --sql needs a range.
    let (code, _) = run_fail(d, &t.url, &["upgrade", "i1:i2"]);
    assert_eq!(code, 2);
    let (code, err) = run_fail(d, &t.url, &["downgrade", "base", "--sql"]);
    assert_eq!(code, 2, "{err}");
    if t.kind == Kind::Mysql {
        let (code, err) = run_fail(d, &t.url, &["upgrade", "head", "--transaction", "all"]);
        assert_eq!(code, 1);
        assert!(err.contains("transactional DDL"), "{err}");
    }
    // The dry run shows what would run and changes nothing.
    let out = run_ok(
        d,
        &t.url,
        &["--format", "json", "downgrade", "i1", "--dry-run"],
    );
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v[0]["revision"], "i2");
    assert_eq!(v[0]["direction"], "downgrade");
    assert_eq!(t.versions(), ["i2"]);
}

#[test]
fn unreachable_servers_are_one_line_errors_without_passwords() {
    let dir = project(&[("a.yaml", "revision: a\nmessage: a\nupgrade: SELECT 1;\n")]);
    for url in [
        "postgres://alice:sekr3t@127.0.0.1:1/app",
        "mysql://bob:sekr3t@127.0.0.1:1/app",
    ] {
        for args in [&["upgrade", "head"][..], &["current", "--verbose"][..]] {
            let (code, err) = run_fail(dir.path(), url, args);
            assert_eq!(code, 1, "{err}");
            assert!(!err.contains("sekr3t"), "{err}");
            assert!(err.contains(":***@127.0.0.1:1/app"), "{err}");
            assert_eq!(err.lines().count(), 1, "{err}");
        }
    }
    let (code, err) = run_fail(dir.path(), "oracle://u:sekr3t@h/db", &["upgrade", "head"]);
    assert_eq!(code, 2);
    assert!(
        !err.contains("sekr3t") && err.contains("unknown scheme"),
        "{err}"
    );
}

#[test]
fn dry_run_creates_no_sqlite_file_and_default_url_is_app_db() {
    let dir = tempfile::tempdir().expect("dir");
    let revs = example_revisions();
    let out = migrate(dir.path())
        .args([
            "--revisions",
            revs.to_str().expect("utf-8"),
            "--format",
            "json",
        ])
        .args(["upgrade", "head", "--dry-run"])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v.as_array().map(Vec::len), Some(11));
    assert_eq!(v[0]["revision"], "a1f0c2d3e4b5");
    assert_eq!(v[10]["revision"], "88e431a4e788");
    assert!(!dir.path().join("app.db").exists());
    // Without --dry-run the default URL makes app.db in the working directory.
    let out = migrate(dir.path())
        .args(["--revisions", revs.to_str().expect("utf-8"), "upgrade"])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("app.db").exists());
    // DATABASE_URL beats the default; --database-url beats DATABASE_URL.
    let other = dir.path().join("env.db");
    let out = migrate(dir.path())
        .env("DATABASE_URL", format!("sqlite://{}", other.display()))
        .args(["--revisions", revs.to_str().expect("utf-8"), "upgrade"])
        .output()
        .expect("runs");
    assert!(out.status.success());
    assert!(other.exists());
}

#[test]
fn sqlite_journal_mode_is_left_alone() {
    let t = Target::new(Kind::Sqlite).expect("sqlite");
    let dir = tempfile::tempdir().expect("dir");
    let revs = example_revisions();
    let out = t.client("PRAGMA journal_mode=DELETE; CREATE TABLE pre (x INTEGER);");
    assert!(out.status.success());
    run_ok(
        dir.path(),
        &t.url,
        &[
            "--revisions",
            revs.to_str().expect("utf-8"),
            "upgrade",
            "head",
        ],
    );
    let mode = t.query_strings("SELECT journal_mode FROM pragma_journal_mode");
    assert_eq!(mode, ["delete"]);
}

#[test]
fn check_current_and_history_see_the_database() {
    let t = Target::new(Kind::Sqlite).expect("sqlite");
    let dir = project(&[
        ("h1.yaml", "revision: h1\nmessage: one\nupgrade: CREATE TABLE h1 (x INTEGER);\ndowngrade: DROP TABLE h1;\n"),
        ("h2.yaml", "revision: h2\ndown_revision: h1\nmessage: two\nupgrade: CREATE TABLE h2 (x INTEGER);\ndowngrade: DROP TABLE h2;\n"),
    ]);
    let d = dir.path();
    run_ok(d, &t.url, &["upgrade", "h1"]);
    let hist = run_ok(d, &t.url, &["history", "--indicate-current"]);
    assert!(hist.contains("-> h1 (current), one"), "{hist}");
    assert!(!hist.contains("h2 (head) (current)"), "{hist}");
    let json = run_ok(d, &t.url, &["--format", "json", "history", "-i"]);
    let v: Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v[1]["revision"], "h1");
    assert_eq!(v[1]["is_current"], true);
    assert_eq!(v[0]["is_current"], false);
    run_ok(d, &t.url, &["check"]);
    // Not at every head yet: --check-heads says so with exit 1.
    let (code, err) = run_fail(d, &t.url, &["current", "--check-heads"]);
    assert_eq!(code, 1);
    assert!(err.contains("not on all head revisions"), "{err}");

    // The applied file changes, and a row's file disappears: both reported, exit 1.
    std::fs::write(
        d.join("revisions/h1.yaml"),
        "revision: h1\nmessage: one\nupgrade: CREATE TABLE h1 (x INTEGER, y TEXT);\ndowngrade: DROP TABLE h1;\n",
    )
    .expect("edited");
    let out = t.client("INSERT INTO migrate_version VALUES ('gone');");
    assert!(out.status.success());
    let out = migrate(d)
        .args(["--database-url", &t.url, "--format", "json", "check"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let kinds: Vec<&str> = v["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| p["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(kinds, ["missing_file", "checksum_mismatch"]);
    assert_eq!(v["problems"][1]["path"], "revisions/h1.yaml");

    // `current` shows the row with no file, flagged, with the others.
    let json = run_ok(d, &t.url, &["--format", "json", "current"]);
    let v: Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v[0]["revision"], "gone");
    assert_eq!(v[0]["missing_file"], true);
    assert_eq!(v[1]["revision"], "h1");
    assert_eq!(v[1]["message"], "one");
    // Upgrading from a row with no file is refused with the fix.
    let (code, err) = run_fail(d, &t.url, &["upgrade", "head"]);
    assert_eq!(code, 1);
    assert!(err.contains("revision gone, which has no file"), "{err}");
    // stamp --purge clears it.
    run_ok(d, &t.url, &["stamp", "--purge", "h1"]);
    assert_eq!(t.versions(), ["h1"]);
    assert!(t
        .query_strings("SELECT direction FROM migrate_log ORDER BY id")
        .contains(&"stamp".to_owned()));
}

fn transaction_all_rolls_back_the_whole_plan(t: Target) {
    let dir = project(&[
        ("a1.yaml", "revision: a1\nmessage: one\nupgrade: CREATE TABLE a1 (x INTEGER);\ndowngrade: DROP TABLE a1;\n"),
        ("a2.yaml", "revision: a2\ndown_revision: a1\nmessage: two\nupgrade: |\n  CREATE TABLE a2 (x INTEGER);\n  SELECT * FROM missing_table;\ndowngrade: DROP TABLE a2;\n"),
    ]);
    let (code, err) = run_fail(
        dir.path(),
        &t.url,
        &["upgrade", "head", "--transaction", "all"],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("revision a2") && err.contains("statement 2"),
        "{err}"
    );
    assert_eq!(
        t.schema(),
        Vec::<String>::new(),
        "nothing of a1 or a2 stays"
    );
}

#[test]
fn transaction_all_rolls_back_the_whole_plan_sqlite() {
    transaction_all_rolls_back_the_whole_plan(Target::new(Kind::Sqlite).expect("sqlite"));
}

#[test]
fn transaction_all_rolls_back_the_whole_plan_postgres() {
    if let Some(t) = Target::new(Kind::Postgres) {
        transaction_all_rolls_back_the_whole_plan(t);
    }
}

#[test]
fn non_transactional_revision_runs_create_index_concurrently_on_postgres() {
    let Some(t) = Target::new(Kind::Postgres) else {
        return;
    };
    let dir = project(&[
        ("n1.yaml", "revision: n1\nmessage: table\nupgrade: CREATE TABLE n1 (x INTEGER);\ndowngrade: DROP TABLE n1;\n"),
        ("n2.yaml", "revision: n2\ndown_revision: n1\nmessage: index\ntransactional: false\nupgrade: CREATE INDEX CONCURRENTLY ix_n1_x ON n1 (x);\ndowngrade: DROP INDEX CONCURRENTLY ix_n1_x;\n"),
    ]);
    run_ok(dir.path(), &t.url, &["upgrade", "head"]);
    assert!(t.schema().contains(&"index n1.ix_n1_x".to_owned()));
    assert_eq!(t.versions(), ["n2"]);
    let (code, err) = run_fail(
        dir.path(),
        &t.url,
        &["downgrade", "base", "--transaction", "all"],
    );
    assert_eq!(code, 1);
    assert!(err.contains("transactional: false"), "{err}");
    run_ok(dir.path(), &t.url, &["downgrade", "base"]);
    assert!(t.versions().is_empty());
}

/// `transactional: {postgres: {downgrade: false}}` takes only PostgreSQL's downgrade out
/// of its transaction: the upgrade still runs under `--transaction all` there, and SQLite
/// keeps both directions inside.
fn per_dialect_transactional(t: Target, downgrade_outside: bool) {
    let dir = project(&[
        ("p1.yaml", "revision: p1\nmessage: table\nupgrade: CREATE TABLE p1 (x INTEGER);\ndowngrade: DROP TABLE p1;\n"),
        ("p2.yaml", "revision: p2\ndown_revision: p1\nmessage: index\ntransactional: {postgres: {downgrade: false}}\nupgrade: CREATE INDEX ix_p1_x ON p1 (x);\ndowngrade:\n  postgres: DROP INDEX CONCURRENTLY ix_p1_x;\n  sqlite: DROP INDEX ix_p1_x;\n"),
    ]);
    run_ok(
        dir.path(),
        &t.url,
        &["upgrade", "head", "--transaction", "all"],
    );
    assert_eq!(t.versions(), ["p2"]);
    let args = ["downgrade", "base", "--transaction", "all"];
    if downgrade_outside {
        let (code, err) = run_fail(dir.path(), &t.url, &args);
        assert_eq!(code, 1);
        assert!(err.contains("revision p2"), "{err}");
        assert_eq!(t.versions(), ["p2"], "refused before anything ran");
        run_ok(dir.path(), &t.url, &["downgrade", "base"]);
    } else {
        run_ok(dir.path(), &t.url, &args);
    }
    assert!(t.versions().is_empty());
    assert_eq!(t.schema(), Vec::<String>::new());
}

/// `stamp` resolves its targets as `upgrade` does: the same error, with "did you mean".
#[test]
fn stamp_with_a_mistyped_id_gets_the_resolution_error_of_upgrade() {
    let t = Target::new(Kind::Sqlite).expect("sqlite");
    let dir = project(&[(
        "a1.yaml",
        "revision: a1b2c3d4e5f6\nmessage: one\nupgrade: CREATE TABLE a1 (x INTEGER);\ndowngrade: DROP TABLE a1;\n",
    )]);
    for command in ["stamp", "upgrade"] {
        let (code, err) = run_fail(dir.path(), &t.url, &[command, "a1b2c3x"]);
        assert_eq!(code, 1, "{command}: {err}");
        assert!(
            err.contains("Can't locate revision identified by 'a1b2c3x'")
                && err.contains("did you mean a1b2c3d4e5f6?")
                && !err.contains("No such branch"),
            "{command}: {err}"
        );
    }
    assert!(t.versions().is_empty());
}

#[test]
fn per_dialect_transactional_sqlite() {
    per_dialect_transactional(Target::new(Kind::Sqlite).expect("sqlite"), false);
}

#[test]
fn per_dialect_transactional_postgres() {
    if let Some(t) = Target::new(Kind::Postgres) {
        per_dialect_transactional(t, true);
    }
}

#[test]
fn version_table_alembic_version_takes_over_an_alembic_database() {
    let t = Target::new(Kind::Sqlite).expect("sqlite");
    let dir = project(&[
        ("a1.yaml", "revision: a1\nmessage: one\nupgrade: CREATE TABLE a1 (x INTEGER);\ndowngrade: DROP TABLE a1;\n"),
        ("a2.yaml", "revision: a2\ndown_revision: a1\nmessage: two\nupgrade: CREATE TABLE a2 (x INTEGER);\ndowngrade: DROP TABLE a2;\n"),
    ]);
    std::fs::write(
        dir.path().join("migrate.yaml"),
        "version_table: alembic_version\n",
    )
    .expect("config");
    // What Alembic leaves behind after applying a1.
    let out = t.client(
        "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));\
         INSERT INTO alembic_version VALUES ('a1'); CREATE TABLE a1 (x INTEGER);",
    );
    assert!(out.status.success());
    run_ok(dir.path(), &t.url, &["upgrade", "head"]);
    assert_eq!(
        t.query_strings("SELECT version_num FROM alembic_version"),
        ["a2"]
    );
    assert_eq!(t.log(), ["a2 upgrade"], "only a2 ran");
    assert!(t
        .query_strings("SELECT name FROM sqlite_master WHERE name = 'migrate_version'")
        .is_empty());
}

/// Two revisions: `{p}1` (quick), then `{p}2` (slow one), whose one statement counts to
/// `n` on SQLite (a few hundred milliseconds for millions).
fn quick_then_slow(p: &str, n: u32) -> tempfile::TempDir {
    let slow = format!(
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {n}) SELECT count(*) FROM c"
    );
    project(&[
        (
            &format!("{p}1.yaml"),
            &format!("revision: {p}1\nmessage: quick\nupgrade: CREATE TABLE {p}1 (x INTEGER);\ndowngrade: DROP TABLE {p}1;\n"),
        ),
        (
            &format!("{p}2.yaml"),
            &format!("revision: {p}2\ndown_revision: {p}1\nmessage: slow one\nupgrade: \"{slow};\"\ndowngrade: SELECT 1;\n"),
        ),
    ])
}

/// On SQLite a revision's log row is written in the same batch as its statements, with
/// `duration_ms` computed by SQLite as the row is written: it must cover the statements.
#[test]
fn sqlite_log_duration_covers_the_revision_statements() {
    let t = Target::new(Kind::Sqlite).expect("sqlite");
    let dir = quick_then_slow("d", 1_500_000);
    let started = std::time::Instant::now();
    run_ok(dir.path(), &t.url, &["upgrade", "head"]);
    let wall = started.elapsed().as_millis() as i64;
    let rows =
        t.query_strings("SELECT revision || '|' || duration_ms FROM migrate_log ORDER BY id");
    let ms: Vec<(String, i64)> = rows
        .iter()
        .map(|r| {
            let (rev, ms) = r.split_once('|').expect("two fields");
            (rev.to_owned(), ms.parse().expect("a number"))
        })
        .collect();
    assert_eq!(
        ms.iter().map(|(r, _)| r.as_str()).collect::<Vec<_>>(),
        ["d1", "d2"]
    );
    let slow_ms = ms[1].1;
    // The slow statement alone runs for well over 50 ms; the whole process bounds it.
    assert!(
        slow_ms >= 50 && slow_ms <= wall,
        "d2 took {slow_ms} ms of a {wall} ms run"
    );
    assert!(ms[0].1 < slow_ms, "{ms:?}");
}

/// On a terminal (`script` runs migrate on a pseudo-terminal) progress is a bar: revision
/// n of m, the current revision and the elapsed time, with one line per finished
/// revision kept above it.
#[test]
fn progress_is_a_bar_on_a_terminal() {
    let t = Target::new(Kind::Sqlite).expect("sqlite");
    let dir = quick_then_slow("p", 3_000_000);
    let command = format!(
        "{} --database-url {} upgrade head",
        env!("CARGO_BIN_EXE_migrate"),
        t.url
    );
    let out = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(dir.path())
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("script (util-linux) runs migrate on a pseudo-terminal");
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{screen}");
    // The bar is redrawn at most every so often, so only what stays on screen for a
    // while is certain to be drawn: the first revision and the slow second one.
    for part in [
        "0/2 <base> -> p1, quick",
        "/2 p1 -> p2, slow one",
        "[00:00:0",
    ] {
        assert!(screen.contains(part), "missing {part:?} in {screen:?}");
    }
    // Each finished revision keeps its line above the bar (issue 13, item 18).
    for line in ["[1/2] <base> -> p1, quick (", "[2/2] p1 -> p2, slow one ("] {
        assert!(
            screen.contains(line),
            "missing {line:?} above the bar: {screen:?}"
        );
    }
    assert!(
        screen.contains("applied 2 revision(s); now at p2"),
        "{screen:?}"
    );
    assert_eq!(t.versions(), ["p2"]);
}

#[test]
fn log_rows_record_checksum_user_tool_and_git_commit() {
    let t = Target::new(Kind::Sqlite).expect("sqlite");
    let sql = "CREATE TABLE g1 (x INTEGER);\r\nCREATE TABLE g2 (x INTEGER);\r\n";
    let dir = project(&[(
        "g1.yaml",
        "revision: g1\nmessage: one\nupgrade: |\n  CREATE TABLE g1 (x INTEGER);\n  CREATE TABLE g2 (x INTEGER);\ndowngrade: DROP TABLE g1;\n",
    )]);
    // A repository holding the revisions, with one fixed commit.
    let repo = git2::Repository::init(dir.path()).expect("git init");
    let mut index = repo.index().expect("index");
    index
        .add_path(Path::new("revisions/g1.yaml"))
        .expect("added");
    let tree = repo
        .find_tree(index.write_tree().expect("tree"))
        .expect("tree");
    let sig = git2::Signature::new(
        "Test",
        "test@example.com",
        &git2::Time::new(1_700_000_000, 0),
    )
    .expect("signature");
    let head = repo
        .commit(Some("HEAD"), &sig, &sig, "revisions", &tree, &[])
        .expect("commit");
    run_ok(dir.path(), &t.url, &["upgrade", "head"]);
    let row = t.query_strings(
        "SELECT revision || '|' || direction || '|' || success || '|' || checksum || '|' || applied_by || '|' || tool_version || '|' || git_commit || '|' || duration_ms FROM migrate_log",
    );
    assert_eq!(row.len(), 1);
    let f: Vec<&str> = row[0].split('|').collect();
    assert_eq!(&f[..3], ["g1", "upgrade", "1"]);
    // SHA-256 of the SQL that ran, with CRLF normalised (the file's LF text hashes the same).
    use sha2::Digest;
    let expected: String = sha2::Sha256::digest(sql.replace("\r\n", "\n").as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(f[3], expected);
    assert!(f[4].contains('@'), "applied_by is user@host: {}", f[4]);
    assert_eq!(f[5], env!("CARGO_PKG_VERSION"));
    assert_eq!(f[6], head.to_string());
    assert!(f[7].parse::<i64>().is_ok());
}

#[test]
fn downgrade_past_a_missing_file_names_both_ways_out() {
    let t = Target::new(Kind::Sqlite).expect("sqlite");
    let dir = project(&[
        ("m1.yaml", "revision: m1\nmessage: one\nupgrade: CREATE TABLE m1 (x INTEGER);\ndowngrade: DROP TABLE m1;\n"),
        ("m2.yaml", "revision: m2\ndown_revision: m1\nmessage: two\nupgrade: CREATE TABLE m2 (x INTEGER);\ndowngrade: DROP TABLE m2;\n"),
    ]);
    let d = dir.path();
    run_ok(d, &t.url, &["upgrade", "head"]);
    std::fs::remove_file(d.join("revisions/m2.yaml")).expect("remove m2");
    let (code, err) = run_fail(d, &t.url, &["downgrade", "base"]);
    assert_eq!(code, 1);
    assert!(err.contains("revision m2, which has no file"), "{err}");
    assert!(
        err.contains("migrate downgrade <target> --from-git"),
        "{err}"
    );
    assert!(err.contains("migrate stamp --purge"), "{err}");
}
