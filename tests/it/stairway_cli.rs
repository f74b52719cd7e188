//! `migrate test`, the stairway, through the real binary on SQLite (a scratch file),
//! PostgreSQL and MariaDB (a scratch database beside a test database, which must stay
//! untouched and must not outlive the run).

use std::io::BufRead;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use sqlx::Connection;

use super::support::{self, block_on, Server, TestDb};

/// Where a run goes: the default scratch SQLite file, or beside a server test database.
enum Target {
    Sqlite,
    Server(TestDb),
}

impl Target {
    fn name(&self) -> String {
        match self {
            Target::Sqlite => "sqlite".into(),
            Target::Server(db) => format!("{:?}", db.server),
        }
    }

    fn args(&self) -> Vec<String> {
        match self {
            Target::Sqlite => Vec::new(),
            Target::Server(db) => vec!["--database-url".into(), db.url.clone()],
        }
    }
}

/// SQLite, then each server that is up (a server that is down fails the test, see
/// `TestDb`).
fn targets() -> Vec<Target> {
    let mut out = vec![Target::Sqlite];
    for server in [Server::Postgres, Server::Mysql] {
        if let Some(db) = TestDb::new(server) {
            out.push(Target::Server(db));
        }
    }
    out
}

/// Databases on `db`'s server named like its scratch databases, and the tables in `db`.
async fn leftovers(db: &TestDb) -> (i64, i64) {
    let pattern = format!("{}\\_migrate\\_test\\_%", db.name);
    match db.server {
        Server::Postgres => {
            let mut c = sqlx::PgConnection::connect(&db.url)
                .await
                .expect("connects");
            let scratch: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM pg_database WHERE datname LIKE $1")
                    .bind(&pattern)
                    .fetch_one(&mut c)
                    .await
                    .expect("pg_database");
            let tables: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'",
            )
            .fetch_one(&mut c)
            .await
            .expect("tables");
            (scratch, tables)
        }
        Server::Mysql => {
            let mut c = sqlx::MySqlConnection::connect(&db.url)
                .await
                .expect("connects");
            let scratch: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name LIKE ?",
            )
            .bind(&pattern)
            .fetch_one(&mut c)
            .await
            .expect("schemata");
            let tables: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()",
            )
            .fetch_one(&mut c)
            .await
            .expect("tables");
            (scratch, tables)
        }
    }
}

/// The scratch database is gone and the named one untouched.
fn assert_clean(target: &Target, stderr: &str) {
    match target {
        Target::Sqlite => {
            let dir = scratch_sqlite_dir(stderr);
            assert!(!dir.exists(), "{} is still there", dir.display());
        }
        Target::Server(db) => {
            let (scratch, tables) = block_on(leftovers(db));
            assert_eq!(scratch, 0, "a scratch database beside {} is left", db.name);
            assert_eq!(tables, 0, "the named database {} was written to", db.name);
        }
    }
}

/// The directory of the scratch SQLite file, from the `scratch database:` line.
fn scratch_sqlite_dir(stderr: &str) -> std::path::PathBuf {
    let line = stderr
        .lines()
        .find_map(|l| l.strip_prefix("scratch database: sqlite://"))
        .unwrap_or_else(|| panic!("no scratch database line in: {stderr}"));
    Path::new(line.trim())
        .parent()
        .expect("the file is in a directory")
        .to_path_buf()
}

fn run_test(dir: &Path, target: &Target, extra: &[&str]) -> (i32, Value, String) {
    let mut args: Vec<String> = vec!["test".into()];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(target.args());
    args.extend(["--format".into(), "json".into()]);
    let out = support::migrate(dir).args(&args).output().expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "{}: not JSON ({e}): {stdout}\nstderr: {stderr}",
            target.name()
        )
    });
    assert_clean(target, &stderr);
    (out.status.code().unwrap_or(-1), json, stderr)
}

const ITEMS: &str = "revision: a0000001
down_revision: null
message: create items
upgrade: |
  CREATE TABLE items (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(50));
downgrade: |
  DROP TABLE items;
";

fn second(upgrade: &str, downgrade: Option<&str>) -> String {
    let mut s = format!(
        "revision: b0000002\ndown_revision: a0000001\nmessage: the change\nupgrade: |\n  {upgrade}\n"
    );
    if let Some(d) = downgrade {
        s.push_str(&format!("downgrade: |\n  {d}\n"));
    }
    s
}

const THIRD: &str = "revision: c0000003
down_revision: b0000002
message: create notes
upgrade: |
  CREATE TABLE notes (id INTEGER NOT NULL PRIMARY KEY);
downgrade: |
  DROP TABLE notes;
";

/// Each revision's status and finding kinds.
fn outcome(json: &Value) -> Vec<(String, String, Vec<String>)> {
    json["revisions"]
        .as_array()
        .expect("revisions")
        .iter()
        .map(|r| {
            (
                r["revision"].as_str().expect("id").to_owned(),
                r["status"].as_str().expect("status").to_owned(),
                r["findings"]
                    .as_array()
                    .expect("findings")
                    .iter()
                    .map(|f| f["kind"].as_str().expect("kind").to_owned())
                    .collect(),
            )
        })
        .collect()
}

fn s(v: &str) -> String {
    v.to_owned()
}

#[test]
fn a_correct_revision_passes_on_every_backend() {
    let dir = support::project(&[
        ("a.yaml", ITEMS),
        (
            "b.yaml",
            &second(
                "ALTER TABLE items ADD COLUMN price INTEGER;",
                Some("ALTER TABLE items DROP COLUMN price;"),
            ),
        ),
        ("c.yaml", THIRD),
    ]);
    for target in targets() {
        let (code, json, err) = run_test(dir.path(), &target, &[]);
        assert_eq!(code, 0, "{}: {json}\n{err}", target.name());
        assert_eq!(json["ok"], true);
        assert_eq!(
            outcome(&json),
            [
                (s("a0000001"), s("passed"), vec![]),
                (s("b0000002"), s("passed"), vec![]),
                (s("c0000003"), s("passed"), vec![]),
            ],
            "{}",
            target.name()
        );
        assert_eq!(json["summary"]["passed"], 3);
    }
}

#[test]
fn a_downgrade_that_forgets_a_column_is_reported_object_by_object() {
    let dir = support::project(&[
        ("a.yaml", ITEMS),
        (
            "b.yaml",
            &second("ALTER TABLE items ADD COLUMN price INTEGER;", Some("")),
        ),
        ("c.yaml", THIRD),
    ]);
    for target in targets() {
        let (code, json, err) = run_test(dir.path(), &target, &[]);
        assert_eq!(code, 1, "{}: {json}\n{err}", target.name());
        assert_eq!(json["ok"], false);
        // The column is left behind, so adding it again fails: the walk stops there.
        assert_eq!(
            outcome(&json),
            [
                (s("a0000001"), s("passed"), vec![]),
                (
                    s("b0000002"),
                    s("failed"),
                    vec![s("schema_not_restored"), s("reupgrade_failed")]
                ),
                (s("c0000003"), s("not_tested"), vec![]),
            ],
            "{}",
            target.name()
        );
        let objects = &json["revisions"][1]["findings"][0]["objects"];
        assert_eq!(objects.as_array().map(Vec::len), Some(1), "{objects}");
        assert_eq!(objects[0]["change"], "left_behind");
        assert_eq!(objects[0]["object"], "column");
        assert_eq!(objects[0]["table"], "items");
        assert_eq!(objects[0]["name"], "price");
        assert!(
            json["stopped"]
                .as_str()
                .is_some_and(|w| w.contains("b0000002")),
            "{json}"
        );
    }
}

#[test]
fn a_downgrade_that_drops_too_much_is_reported() {
    let dir = support::project(&[
        ("a.yaml", ITEMS),
        (
            "b.yaml",
            &second(
                "CREATE TABLE tags (id INTEGER NOT NULL PRIMARY KEY);",
                Some("DROP TABLE tags;\n  DROP TABLE items;"),
            ),
        ),
        ("c.yaml", THIRD),
    ]);
    for target in targets() {
        let (code, json, err) = run_test(dir.path(), &target, &[]);
        assert_eq!(code, 1, "{}: {json}\n{err}", target.name());
        assert_eq!(
            outcome(&json)[1],
            (
                s("b0000002"),
                s("failed"),
                vec![s("schema_not_restored"), s("reupgrade_differs")]
            ),
            "{}",
            target.name()
        );
        let objects = &json["revisions"][1]["findings"][0]["objects"];
        assert_eq!(objects.as_array().map(Vec::len), Some(1), "{objects}");
        assert_eq!(objects[0]["change"], "removed");
        assert_eq!(objects[0]["object"], "table");
        assert_eq!(objects[0]["name"], "items");
        assert_eq!(json["revisions"][2]["status"], "not_tested");
    }
}

#[test]
fn an_irreversible_revision_fails_and_the_walk_goes_on() {
    let dir = support::project(&[
        ("a.yaml", ITEMS),
        (
            "b.yaml",
            &second("ALTER TABLE items ADD COLUMN price INTEGER;", None),
        ),
        ("c.yaml", THIRD),
    ]);
    for target in targets() {
        let (code, json, err) = run_test(dir.path(), &target, &[]);
        assert_eq!(code, 1, "{}: {json}\n{err}", target.name());
        assert_eq!(
            outcome(&json),
            [
                (s("a0000001"), s("passed"), vec![]),
                (s("b0000002"), s("failed"), vec![s("irreversible")]),
                (s("c0000003"), s("passed"), vec![]),
            ],
            "{}",
            target.name()
        );
        assert!(json["stopped"].is_null());
    }
}

#[test]
fn a_failing_second_upgrade_is_reported() {
    // The downgrade forgets the seeded row: the schema is back, the second insert fails.
    let dir = support::project(&[
        ("a.yaml", ITEMS),
        (
            "b.yaml",
            &second("INSERT INTO items (id, name) VALUES (1, 'seed');", Some("")),
        ),
        ("c.yaml", THIRD),
    ]);
    for target in targets() {
        let (code, json, err) = run_test(dir.path(), &target, &[]);
        assert_eq!(code, 1, "{}: {json}\n{err}", target.name());
        assert_eq!(
            outcome(&json)[1],
            (s("b0000002"), s("failed"), vec![s("reupgrade_failed")]),
            "{}",
            target.name()
        );
        let error = json["revisions"][1]["findings"][0]["error"]
            .as_str()
            .expect("error text");
        assert!(error.contains("b0000002"), "{error}");
        assert_eq!(json["revisions"][2]["status"], "not_tested");
    }
}

#[test]
fn a_failing_downgrade_is_reported() {
    let dir = support::project(&[
        ("a.yaml", ITEMS),
        (
            "b.yaml",
            &second(
                "CREATE TABLE tags (id INTEGER NOT NULL PRIMARY KEY);",
                Some("DROP TABLE no_such_table;"),
            ),
        ),
        ("c.yaml", THIRD),
    ]);
    for target in targets() {
        let (code, json, err) = run_test(dir.path(), &target, &[]);
        assert_eq!(code, 1, "{}: {json}\n{err}", target.name());
        assert_eq!(
            outcome(&json)[1],
            (s("b0000002"), s("failed"), vec![s("downgrade_failed")]),
            "{}",
            target.name()
        );
        let error = json["revisions"][1]["findings"][0]["error"]
            .as_str()
            .expect("error text");
        assert!(error.contains("no_such_table"), "{error}");
        // The failed statement was the step's only one: nothing half-ran, so the walk goes
        // on (MySQL too: the executor records the failure, and the stairway stops there).
        let third = json["revisions"][2]["status"].as_str().expect("status");
        match &target {
            Target::Server(db) if db.server == Server::Mysql => assert_eq!(third, "not_tested"),
            _ => assert_eq!(third, "passed", "{}: {json}", target.name()),
        }
    }
}

/// A copy of the example project (revisions/ at the repository root).
fn example_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("dir");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("revisions");
    let dst = dir.path().join("revisions");
    std::fs::create_dir_all(&dst).expect("revisions dir");
    for entry in std::fs::read_dir(&src).expect("the example project") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), dst.join(entry.file_name())).expect("copy");
    }
    dir
}

#[test]
fn the_example_project_passes_on_every_backend_with_and_without_data() {
    let dir = example_project();
    // Every revision file of the example (models.yaml is not one).
    let files = std::fs::read_dir(dir.path().join("revisions"))
        .expect("the copy")
        .filter_map(Result::ok)
        .filter(|e| e.file_name() != "models.yaml")
        .count();
    for target in targets() {
        for extra in [&[][..], &["--data"][..]] {
            let (code, json, err) = run_test(dir.path(), &target, extra);
            assert_eq!(code, 0, "{} {extra:?}: {json}\n{err}", target.name());
            let revs = json["revisions"].as_array().expect("revisions");
            assert_eq!(revs.len(), files, "{json}");
            assert!(revs.iter().all(|r| r["status"] == "passed"), "{json}");
        }
    }
}

#[test]
fn the_example_project_takes_under_a_second_on_sqlite() {
    let dir = example_project();
    // Warm the parse cache and the binary first, as CI's second run would be.
    let _ = support::run(dir.path(), &["heads"]);
    // The best of three, so a loaded machine's stall is not counted as ours.
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let clock = Instant::now();
        let (code, out, err) = support::run(dir.path(), &["test"]);
        best = best.min(clock.elapsed());
        assert_eq!(code, 0, "{out}\n{err}");
    }
    assert!(best < Duration::from_secs(1), "took {best:?}");
}

#[test]
fn data_lost_by_a_cascade_in_a_downgrade_is_reported() {
    let parent = "revision: a0000001
down_revision: null
message: parent and child
upgrade: |
  CREATE TABLE parent (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(20) NOT NULL);
  CREATE TABLE child (
    id INTEGER NOT NULL PRIMARY KEY,
    parent_id INTEGER NOT NULL,
    FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE
  );
downgrade: |
  DROP TABLE child;
  DROP TABLE parent;
";
    let careless = second(
        "CREATE TABLE other (id INTEGER NOT NULL PRIMARY KEY);",
        Some("DROP TABLE other;\n  DELETE FROM parent;"),
    );
    let dir = support::project(&[("a.yaml", parent), ("b.yaml", &careless)]);
    for target in targets() {
        // Without --data the schema comes back, so it passes.
        let (code, json, err) = run_test(dir.path(), &target, &[]);
        assert_eq!(code, 0, "{}: {json}\n{err}", target.name());
        let (code, json, err) = run_test(dir.path(), &target, &["--data"]);
        assert_eq!(code, 1, "{}: {json}\n{err}", target.name());
        let findings = &json["revisions"][1]["findings"];
        assert_eq!(findings.as_array().map(Vec::len), Some(1), "{json}");
        assert_eq!(findings[0]["kind"], "rows_lost");
        assert_eq!(findings[0]["table"], "child", "{json}");
        assert!(
            findings[0]["detail"]
                .as_str()
                .is_some_and(|d| d.contains("gone")),
            "{json}"
        );
    }
}

#[test]
fn text_output_is_a_table_with_the_findings_below() {
    let dir = support::project(&[
        ("a.yaml", ITEMS),
        (
            "b.yaml",
            &second("ALTER TABLE items ADD COLUMN price INTEGER;", Some("")),
        ),
    ]);
    let (code, out, err) = support::run(dir.path(), &["test"]);
    assert_eq!(code, 1, "{out}\n{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("REVISION  RESULT"), "{out}");
    assert!(lines[1].starts_with("a0000001  passed"), "{out}");
    assert!(lines[2].starts_with("b0000002  failed"), "{out}");
    assert!(
        out.contains("    left behind: column items.price (integer)"),
        "{out}"
    );
    assert!(
        err.contains("2 revision(s) on sqlite: 1 passed, 1 failed"),
        "{err}"
    );
}

#[test]
fn a_range_tests_only_its_revisions() {
    let dir = support::project(&[
        ("a.yaml", ITEMS),
        (
            "b.yaml",
            &second("ALTER TABLE items ADD COLUMN price INTEGER;", None),
        ),
        ("c.yaml", THIRD),
    ]);
    let (code, json, err) = run_test(dir.path(), &Target::Sqlite, &["-r", "c0000003:"]);
    assert_eq!(code, 0, "{json}\n{err}");
    assert_eq!(outcome(&json), [(s("c0000003"), s("passed"), vec![])]);
}

#[test]
fn an_alembic_project_is_refused_with_a_hint() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("alembic.ini"),
        "[alembic]\nscript_location = alembic\n",
    )
    .expect("ini");
    std::fs::create_dir_all(dir.path().join("alembic/versions")).expect("versions");
    let (code, _out, err) = support::run(dir.path(), &["test"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("Alembic project"), "{err}");
    assert!(err.contains("hint: "), "{err}");
}

/// Runs `migrate test` on a revision that takes a while, sends `signal` once the walk is
/// under way, and checks the exit code and that the scratch database is gone.
fn interrupt(target: &Target, signal: &str, code: i32) {
    let slow = "revision: b0000002
down_revision: a0000001
message: slow
upgrade:
  sqlite: |
    WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 15000000) SELECT COUNT(*) FROM c;
  postgres: SELECT pg_sleep(30);
  mysql: SELECT SLEEP(30);
downgrade: ''
";
    let dir = support::project(&[("a.yaml", ITEMS), ("b.yaml", slow)]);
    let bin = assert_cmd::cargo::cargo_bin("migrate");
    let mut cmd = std::process::Command::new(bin);
    cmd.current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env("XDG_CACHE_HOME", dir.path().join(".test-cache"))
        .env_remove("DATABASE_URL")
        .arg("test")
        .args(target.args())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("migrate starts");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    // The first revision passes, then the slow one starts.
    while !seen.contains("[1/2]") {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|_| panic!("{}: no progress: {seen}", target.name()));
        seen.push_str(&line);
        seen.push('\n');
    }
    std::thread::sleep(Duration::from_millis(300));
    let status = std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let exit = child.wait().expect("migrate ends");
    // The rest of stderr, up to its end (the reader thread stops there).
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(10)) {
        seen.push_str(&line);
        seen.push('\n');
    }
    assert_eq!(exit.code(), Some(code), "{}: {seen}", target.name());
    assert!(seen.contains("interrupted by"), "{seen}");
    assert_clean(target, &seen);
}

#[test]
fn an_interrupted_run_drops_its_scratch_database() {
    for target in targets() {
        interrupt(&target, "-TERM", 143);
        interrupt(&target, "-INT", 130);
    }
}

/// On a terminal (util-linux `script` gives migrate a pseudo-terminal) progress is a bar,
/// with one line per tested revision kept above it.
#[test]
fn progress_is_a_bar_on_a_terminal() {
    let slow = "revision: b0000002
down_revision: a0000001
message: slow one
upgrade: |
  WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) SELECT COUNT(*) FROM c;
downgrade: ''
";
    let dir = support::project(&[("a.yaml", ITEMS), ("b.yaml", slow)]);
    let command = format!("{} test", env!("CARGO_BIN_EXE_migrate"));
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(dir.path())
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("NO_COLOR", "1")
        .env_remove("DATABASE_URL")
        .output()
        .expect("script (util-linux) runs migrate on a pseudo-terminal");
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{screen}");
    for part in [
        "/2 b0000002 slow one",
        "[00:00:0",
        "[1/2] a0000001 create items: ok (",
        "[2/2] b0000002 slow one: ok (",
        "REVISION  RESULT",
    ] {
        assert!(screen.contains(part), "missing {part:?} in {screen:?}");
    }
}
