//! `migrate status`, `migrate database create|drop|reset` and the `.gitignore` lines of
//! `migrate init`, through the real binary: every state on SQLite, database names full
//! of quotes on PostgreSQL and MariaDB, and what happens without a terminal.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;
use sqlx::Connection;

use super::git_fixture::{day, revision_yaml, GitFixture, ADA};
use super::support::{block_on, json, run, Server, TestDb};

/// `revisions/<id>.yaml` with an upgrade that fails (no such table).
fn failing_revision(id: &str, down: &str) -> String {
    format!(
        "revision: {id}\ndown_revision: {down}\nmessage: breaks\nupgrade: INSERT INTO no_such_table VALUES (1);\ndowngrade: SELECT 1;\n"
    )
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let (code, out, err) = run(dir, args);
    assert_eq!(
        code, 0,
        "migrate {args:?} failed\nstdout: {out}\nstderr: {err}"
    );
    out
}

/// `status --format json` as revision -> row, and the revisions in the order shown.
fn status_json(dir: &Path, url: &str) -> (Vec<String>, HashMap<String, Value>) {
    let (code, value) = json(dir, &["--database-url", url, "status"]);
    assert_eq!(code, 0, "{value}");
    let rows = value.as_array().expect("an array").clone();
    let order = rows
        .iter()
        .map(|r| r["revision"].as_str().expect("a revision").to_owned())
        .collect();
    let by_id = rows
        .into_iter()
        .map(|r| (r["revision"].as_str().expect("id").to_owned(), r))
        .collect();
    (order, by_id)
}

/// ```text
///   r1 -- r2 -- r3 (fails) -- r4       b1 (applied, then its file deleted)
/// ```
/// r1 applied, r2 applied then edited, r3 failed, r4 pending, b1 a row with no file.
#[test]
fn status_shows_every_state_on_sqlite() {
    let fx = GitFixture::new();
    fx.add_revision("r1", None, "one");
    let r2 = fx.add_revision("r2", Some("r1"), "two");
    fx.write("revisions/r3_breaks.yaml", &failing_revision("r3", "r2"));
    fx.add_revision("r4", Some("r3"), "four");
    let b1 = fx.add_revision("b1", None, "side");
    fx.commit(ADA, day(0, 0), "revisions");
    let dir = fx.path();
    let url = format!("sqlite://{}", dir.join("status.db").display());
    ok(dir, &["--database-url", &url, "upgrade", "b1"]);
    ok(dir, &["--database-url", &url, "upgrade", "r2"]);
    let (code, _, err) = run(dir, &["--database-url", &url, "upgrade", "r4"]);
    assert_eq!(code, 1, "{err}");
    fx.write(
        &r2,
        &revision_yaml("r2", Some("r1"), "two").replace("PRIMARY KEY", "PRIMARY KEY, x TEXT"),
    );
    std::fs::remove_file(fx.file(&b1)).expect("b1 removed");

    let (order, rows) = status_json(dir, &url);
    let states: Vec<(&str, &str)> = order
        .iter()
        .map(|id| (id.as_str(), rows[id]["state"].as_str().expect("a state")))
        .collect();
    assert_eq!(
        states,
        [
            ("r1", "applied"),
            ("r2", "checksum_changed"),
            ("r3", "failed"),
            ("r4", "pending"),
            ("b1", "file_missing"),
        ],
        "{rows:#?}"
    );
    for id in &order {
        let mut keys: Vec<&str> = rows[id]
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "applied_at",
                "applied_by",
                "author_email",
                "author_name",
                "current",
                "message",
                "path",
                "revision",
                "state",
            ],
            "{id}"
        );
    }
    for id in ["r1", "r2", "b1"] {
        let at = rows[id]["applied_at"].as_str().expect("applied_at");
        assert!(
            chrono::DateTime::parse_from_rfc3339(at).is_ok(),
            "{id}: {at}"
        );
        assert!(
            rows[id]["applied_by"]
                .as_str()
                .expect("applied_by")
                .contains('@'),
            "{id}"
        );
    }
    for id in ["r3", "r4"] {
        assert!(rows[id]["applied_at"].is_null(), "{id}: {}", rows[id]);
        assert!(rows[id]["applied_by"].is_null(), "{id}");
    }
    assert_eq!(rows["r1"]["author_name"], "Ada Lovelace");
    assert_eq!(rows["r1"]["author_email"], "ada@example.com");
    assert_eq!(rows["r1"]["message"], "one");
    assert_eq!(rows["r1"]["path"], "revisions/r1_one.yaml");
    assert_eq!(rows["r2"]["current"], true);
    assert_eq!(rows["r1"]["current"], false);
    assert_eq!(rows["b1"]["current"], true);
    assert!(rows["b1"]["message"].is_null());
    assert!(rows["b1"]["author_name"].is_null());

    // The text table: a header, the same states, every column aligned.
    let (code, out, err) = run(dir, &["--database-url", &url, "status"]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 6, "{out}");
    let header = lines[0];
    assert!(header.starts_with("REVISION  STATE"), "{out}");
    let column = |name: &str| header.find(name).expect("a column");
    for (line, (id, state)) in lines[1..].iter().zip([
        ("r1", "applied "),
        ("r2", "checksum changed"),
        ("r3", "failed "),
        ("r4", "pending "),
        ("b1", "file missing"),
    ]) {
        assert!(line.starts_with(&format!("{id} ")), "{out}");
        assert_eq!(line.find(state), Some(column("STATE")), "{out}");
    }
    assert_eq!(
        lines[1].find("Ada Lovelace"),
        Some(column("AUTHOR")),
        "{out}"
    );
    assert!(lines[1].ends_with("  one"), "{out}");
    assert_eq!(lines[4].find("-"), Some(column("APPLIED AT")), "{out}");
    assert!(lines[5].ends_with("(no revision file)"), "{out}");
}

/// A step left unfinished (success NULL) shows as interrupted; a stamp afterwards (the
/// documented repair) clears it, as it clears `upgrade`'s refusal.
#[test]
fn an_unfinished_step_is_interrupted_until_a_stamp() {
    let dir = super::support::project(&[
        ("r1_one.yaml", &revision_yaml("r1", None, "one")),
        ("r2_two.yaml", &revision_yaml("r2", Some("r1"), "two")),
    ]);
    let db = dir.path().join("status.db");
    let url = format!("sqlite://{}", db.display());
    ok(dir.path(), &["--database-url", &url, "upgrade", "r1"]);
    let out = std::process::Command::new("sqlite3")
        .arg(&db)
        .arg(
            "INSERT INTO migrate_log (revision, direction, started_at, duration_ms, success, applied_by, tool_version) \
             VALUES ('r2', 'upgrade', '2026-01-01 00:00:00', 0, NULL, 'test@host', 'test')",
        )
        .output()
        .expect("sqlite3 runs");
    assert!(out.status.success(), "{out:?}");
    let (_, rows) = status_json(dir.path(), &url);
    assert_eq!(rows["r1"]["state"], "applied");
    assert_eq!(rows["r2"]["state"], "interrupted");
    ok(dir.path(), &["--database-url", &url, "stamp", "r1"]);
    let (_, rows) = status_json(dir.path(), &url);
    assert_eq!(rows["r2"]["state"], "pending");
}

#[test]
fn status_without_a_database_shows_every_revision_pending_and_creates_nothing() {
    let dir = super::support::project(&[
        ("r1_one.yaml", &revision_yaml("r1", None, "one")),
        ("r2_two.yaml", &revision_yaml("r2", Some("r1"), "two")),
    ]);
    let db = dir.path().join("none.db");
    let url = format!("sqlite://{}", db.display());
    let (order, rows) = status_json(dir.path(), &url);
    assert_eq!(order, ["r1", "r2"]);
    for id in &order {
        assert_eq!(rows[id]["state"], "pending", "{id}");
        assert!(rows[id]["applied_at"].is_null());
    }
    assert!(!db.exists(), "status created the SQLite file");
}

fn companions(db: &Path) -> Vec<std::path::PathBuf> {
    ["-wal", "-shm", "-journal"]
        .iter()
        .map(|s| {
            let mut p = db.as_os_str().to_owned();
            p.push(s);
            p.into()
        })
        .collect()
}

#[test]
fn database_create_drop_reset_on_sqlite() {
    let dir = super::support::project(&[
        ("r1_one.yaml", &revision_yaml("r1", None, "one")),
        ("r2_two.yaml", &revision_yaml("r2", Some("r1"), "two")),
    ]);
    let d = dir.path();
    let db = d.join("made.db");
    let url = format!("sqlite://{}", db.display());
    let (code, out, err) = run(d, &["--database-url", &url, "database", "create"]);
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    assert!(err.contains("created database"), "{err}");
    assert!(db.is_file());
    let (code, value) = json(d, &["--database-url", &url, "database", "create"]);
    assert_eq!(code, 0);
    assert_eq!(value["result"], "exists", "{value}");
    assert_eq!(value["action"], "create");

    // No terminal and no --yes: refused, nothing removed.
    let (code, _, err) = run(d, &["--database-url", &url, "database", "drop"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--yes"), "{err}");
    assert!(db.is_file(), "dropped without confirmation");
    let (code, _, _) = run(d, &["--database-url", &url, "database", "reset"]);
    assert_eq!(code, 2);
    assert!(db.is_file());

    for c in companions(&db) {
        std::fs::write(&c, "").expect("companion");
    }
    let (code, value) = json(d, &["--database-url", &url, "database", "drop", "-y"]);
    assert_eq!((code, value["result"].as_str()), (0, Some("dropped")));
    assert!(!db.exists());
    for c in companions(&db) {
        assert!(!c.exists(), "{} left behind", c.display());
    }
    let (code, value) = json(d, &["--database-url", &url, "database", "drop", "--yes"]);
    assert_eq!((code, value["result"].as_str()), (0, Some("absent")));

    ok(d, &["--database-url", &url, "upgrade", "r1"]);
    ok(d, &["--database-url", &url, "database", "reset", "-y"]);
    let (_, rows) = status_json(d, &url);
    assert_eq!(rows["r1"]["state"], "applied");
    assert_eq!(rows["r2"]["state"], "applied");
    // The log starts over: the reset dropped the old one.
    let log = std::process::Command::new("sqlite3")
        .arg(&db)
        .arg("SELECT COUNT(*) FROM migrate_log")
        .output()
        .expect("sqlite3 runs");
    assert_eq!(String::from_utf8_lossy(&log.stdout).trim(), "2");

    let (code, _, err) = run(
        d,
        &["--database-url", "sqlite::memory:", "database", "create"],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("in-memory"), "{err}");
}

/// A database name with every quote character in it, dropped when the test ends
/// (quoted here independently of the code under test).
struct HostileDb {
    server: Server,
    admin_url: String,
    name: String,
    url: String,
}

impl HostileDb {
    /// `_guard` proves the server is reachable (or fails the test) and gives its URL.
    fn new(guard: &TestDb) -> HostileDb {
        let base = guard
            .url
            .strip_suffix(&format!("/{}", guard.name))
            .expect("TestDb's URL ends in its name");
        let name = format!(
            "mt_{} q\"b`s'; DROP DATABASE x; --",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let encoded: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
        HostileDb {
            server: guard.server,
            admin_url: guard.url.clone(),
            url: format!("{base}/{}", encoded.replace('+', "%20")),
            name,
        }
    }

    fn exists(&self) -> bool {
        let (admin, name) = (self.admin_url.clone(), self.name.clone());
        let server = self.server;
        block_on(async move {
            let n: i64 = match server {
                Server::Postgres => {
                    let mut c = sqlx::PgConnection::connect(&admin).await?;
                    sqlx::query_scalar("SELECT COUNT(*) FROM pg_database WHERE datname = $1")
                        .bind(name)
                        .fetch_one(&mut c)
                        .await?
                }
                Server::Mysql => {
                    let mut c = sqlx::MySqlConnection::connect(&admin).await?;
                    sqlx::query_scalar(
                        "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?",
                    )
                    .bind(name)
                    .fetch_one(&mut c)
                    .await?
                }
            };
            Ok::<_, sqlx::Error>(n > 0)
        })
        .expect("the server answers")
    }
}

impl Drop for HostileDb {
    fn drop(&mut self) {
        let (admin, server) = (self.admin_url.clone(), self.server);
        let sql = match server {
            Server::Postgres => format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name.replace('"', "\"\"")
            ),
            Server::Mysql => format!("DROP DATABASE IF EXISTS `{}`", self.name.replace('`', "``")),
        };
        let r = block_on(async move {
            match server {
                Server::Postgres => {
                    let mut c = sqlx::PgConnection::connect(&admin).await?;
                    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                        .execute(&mut c)
                        .await?;
                }
                Server::Mysql => {
                    let mut c = sqlx::MySqlConnection::connect(&admin).await?;
                    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                        .execute(&mut c)
                        .await?;
                }
            }
            Ok::<_, sqlx::Error>(())
        });
        if let Err(e) = r {
            eprintln!("warning: could not drop test database {:?}: {e}", self.name);
        }
    }
}

fn create_drop_reset_on(server: Server) {
    let Some(guard) = TestDb::new(server) else {
        return;
    };
    let target = HostileDb::new(&guard);
    let dir = super::support::project(&[
        ("r1_one.yaml", &revision_yaml("r1", None, "one")),
        ("r2_two.yaml", &revision_yaml("r2", Some("r1"), "two")),
    ]);
    let d = dir.path();
    let url = target.url.as_str();
    assert!(!target.exists());
    let (code, value) = json(d, &["--database-url", url, "database", "create"]);
    assert_eq!(
        (code, value["result"].as_str()),
        (0, Some("created")),
        "{value}"
    );
    assert!(
        target.exists(),
        "{server:?}: {:?} was not created",
        target.name
    );
    let (code, value) = json(d, &["--database-url", url, "database", "create"]);
    assert_eq!(
        (code, value["result"].as_str()),
        (0, Some("exists")),
        "{value}"
    );

    let (code, _, err) = run(d, &["--database-url", url, "database", "drop"]);
    assert_eq!(code, 2, "{err}");
    assert!(target.exists(), "dropped without confirmation");

    ok(d, &["--database-url", url, "upgrade", "r1"]);
    ok(d, &["--database-url", url, "database", "reset", "-y"]);
    let (_, rows) = status_json(d, url);
    assert_eq!(rows["r1"]["state"], "applied", "{rows:?}");
    assert_eq!(rows["r2"]["state"], "applied", "{rows:?}");

    let (code, value) = json(d, &["--database-url", url, "database", "drop", "-y"]);
    assert_eq!(
        (code, value["result"].as_str()),
        (0, Some("dropped")),
        "{value}"
    );
    assert!(
        !target.exists(),
        "{server:?}: {:?} still there",
        target.name
    );
    let (code, value) = json(d, &["--database-url", url, "database", "drop", "-y"]);
    assert_eq!(
        (code, value["result"].as_str()),
        (0, Some("absent")),
        "{value}"
    );
    // The guard's own database was never touched.
    assert!(guard.url.ends_with(&guard.name));
}

#[test]
fn database_create_drop_reset_on_postgres_with_a_hostile_name() {
    create_drop_reset_on(Server::Postgres);
}

#[test]
fn database_create_drop_reset_on_mariadb_with_a_hostile_name() {
    create_drop_reset_on(Server::Mysql);
}

#[test]
fn names_a_server_cannot_hold_and_passwords_never_show() {
    let dir = super::support::project(&[]);
    let long = format!("postgres://u:s3cr3t@127.0.0.1:5432/{}", "a".repeat(64));
    let (code, _, err) = run(dir.path(), &["--database-url", &long, "database", "create"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("PostgreSQL keeps only 63"), "{err}");
    assert!(!err.contains("s3cr3t"), "{err}");
    let crab = "mysql://root:s3cr3t@127.0.0.1:3306/x%F0%9F%A6%80";
    let (code, _, err) = run(
        dir.path(),
        &["--database-url", crab, "database", "drop", "-y"],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("Basic Multilingual Plane"), "{err}");
    let refused = "postgres://u:s3cr3t@127.0.0.1:9/x";
    let (code, _, err) = run(
        dir.path(),
        &["--database-url", refused, "database", "create"],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("cannot connect to postgres://u:***@127.0.0.1:9/x"),
        "{err}"
    );
    assert!(!err.contains("s3cr3t"), "{err}");
}

const IGNORED: &str =
    "# migrate's default SQLite database\napp.db\napp.db-wal\napp.db-shm\napp.db-journal\n";

#[test]
fn init_writes_gitignore_lines_once() {
    // Created.
    let dir = tempfile::tempdir().expect("dir");
    let (code, out, err) = run(dir.path(), &["init"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Created .gitignore"), "{out}");
    let path = dir.path().join(".gitignore");
    assert_eq!(std::fs::read_to_string(&path).expect("written"), IGNORED);

    // Appended: only the missing lines, after a last line without a newline.
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join(".gitignore");
    std::fs::write(&path, "target/\napp.db").expect("write");
    let (code, out, err) = run(dir.path(), &["init"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Updated .gitignore"), "{out}");
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        "target/\napp.db\n# migrate's default SQLite database\napp.db-wal\napp.db-shm\napp.db-journal\n"
    );

    // Not duplicated: a file that has every line is left byte for byte.
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join(".gitignore");
    let mine = "node_modules/\napp.db-journal\n  app.db\napp.db-shm\napp.db-wal\n";
    std::fs::write(&path, mine).expect("write");
    let (code, value) = json(dir.path(), &["init"]);
    assert_eq!(code, 0);
    assert_eq!(value["gitignore_changed"], false, "{value}");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), mine);

    // `init sub`: the .gitignore goes next to the new config.
    let dir = tempfile::tempdir().expect("dir");
    ok(dir.path(), &["init", "sub"]);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("sub/.gitignore")).expect("written"),
        IGNORED
    );
    assert!(!dir.path().join(".gitignore").exists());
}

/// Runs `migrate ARGS` on a pseudo-terminal (util-linux `script`), answering `answer`.
fn on_terminal(dir: &Path, args: &[&str], answer: &str) -> (i32, String) {
    use std::io::Write;
    let bin = assert_cmd::cargo::cargo_bin("migrate");
    let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    let mut line = quote(&bin.display().to_string());
    for a in args {
        line.push(' ');
        line.push_str(&quote(a));
    }
    let mut child = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("util-linux `script` runs (it gives the test a terminal)");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(answer.as_bytes()).expect("answer written");
    drop(stdin);
    let out = child.wait_with_output().expect("script finished");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn drop_asks_on_a_terminal_and_only_yes_drops() {
    let dir = super::support::project(&[]);
    let db = dir.path().join("asked.db");
    let url = format!("sqlite://{}", db.display());
    ok(dir.path(), &["--database-url", &url, "database", "create"]);
    let (code, out) = on_terminal(
        dir.path(),
        &["--database-url", &url, "database", "drop"],
        "n\n",
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("Drop database {url}? [y/N]")),
        "{out}"
    );
    assert!(out.contains("was not dropped"), "{out}");
    assert!(db.is_file(), "dropped after answering n");
    let (code, out) = on_terminal(
        dir.path(),
        &["--database-url", &url, "database", "drop"],
        "y\n",
    );
    assert_eq!(code, 0, "{out}");
    assert!(!db.exists(), "not dropped after answering y: {out}");
}

/// A version row with no file hides its ancestors from the graph: the log says they are
/// applied (their newest step is a successful upgrade), so they are not shown pending.
#[test]
fn revisions_below_a_row_with_no_file_stay_applied() {
    let dir = super::support::project(&[
        ("r1_one.yaml", &revision_yaml("r1", None, "one")),
        ("r2_two.yaml", &revision_yaml("r2", Some("r1"), "two")),
        ("r3_three.yaml", &revision_yaml("r3", Some("r2"), "three")),
        ("r4_four.yaml", &revision_yaml("r4", Some("r3"), "four")),
    ]);
    let url = format!("sqlite://{}", dir.path().join("gone.db").display());
    ok(dir.path(), &["--database-url", &url, "upgrade", "r3"]);
    ok(dir.path(), &["--database-url", &url, "downgrade", "r2"]);
    ok(dir.path(), &["--database-url", &url, "upgrade", "r3"]);
    std::fs::remove_file(dir.path().join("revisions/r3_three.yaml")).expect("removed");
    std::fs::write(
        dir.path().join("revisions/r4_four.yaml"),
        revision_yaml("r4", Some("r2"), "four"),
    )
    .expect("r4 now on r2");
    let (order, rows) = status_json(dir.path(), &url);
    assert_eq!(order, ["r1", "r2", "r4", "r3"]);
    assert_eq!(rows["r1"]["state"], "applied");
    assert_eq!(rows["r2"]["state"], "applied");
    assert_eq!(rows["r4"]["state"], "pending");
    assert_eq!(rows["r3"]["state"], "file_missing");
    assert!(rows["r3"]["applied_at"].is_string(), "{}", rows["r3"]);
}

/// Issue 13 item 18: on a terminal the progress bar keeps one line per finished revision
/// above it, so the record of what ran stays on screen.
#[test]
fn upgrade_on_a_terminal_keeps_a_line_per_revision() {
    let dir = super::support::project(&[
        ("a.yaml", &super::support::rev("a1", "null", "first")),
        ("b.yaml", &super::support::rev("b1", "a1", "second")),
    ]);
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let (code, out) = on_terminal(dir.path(), &["--database-url", &url, "upgrade", "head"], "");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("[1/2] "), "{out}");
    assert!(out.contains("[2/2] "), "{out}");
}
