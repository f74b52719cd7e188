//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::path::Path;

/// Runs the built `migrate` binary in `dir`, with a hermetic git configuration.
pub fn migrate(dir: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("migrate").expect("the migrate binary is built");
    cmd.current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("NO_COLOR", "1")
        .env("XDG_CACHE_HOME", dir.join(".test-cache"))
        .env_remove("DATABASE_URL");
    cmd
}

/// A temporary project with the given revision files (name, YAML) in `revisions/`.
pub fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temp dir");
    let revs = dir.path().join("revisions");
    std::fs::create_dir_all(&revs).expect("revisions dir");
    for (name, text) in files {
        let path = revs.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("subdir");
        }
        std::fs::write(path, text).expect("write revision");
    }
    dir
}

/// A minimal revision file.
pub fn rev(id: &str, down: &str, message: &str) -> String {
    format!("revision: {id}\ndown_revision: {down}\nmessage: {message}\nupgrade: SELECT 1;\ndowngrade: SELECT 1;\n")
}

/// Runs and returns (exit code, stdout, stderr).
pub fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = migrate(dir).args(args).output().expect("migrate runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs with `--format json` and parses stdout.
pub fn json(dir: &Path, args: &[&str]) -> (i32, serde_json::Value) {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let (code, out, err) = run(dir, &all);
    let value = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {out}\nstderr: {err}"));
    (code, value)
}

/// Which database server a test needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    Postgres,
    Mysql,
}

impl Server {
    fn admin_url(self) -> String {
        match self {
            Server::Postgres => std::env::var("MIGRATE_TEST_POSTGRES")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into()),
            Server::Mysql => std::env::var("MIGRATE_TEST_MYSQL")
                .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/mysql".into()),
        }
    }

    fn base_url(self) -> String {
        let admin = self.admin_url();
        let cut = admin.rfind('/').expect("a server URL ends in /database");
        admin[..cut].to_owned()
    }
}

/// A database created for one test and dropped when the value goes out of scope.
///
/// When the server can't be reached the test fails, unless the run opted out with
/// `MIGRATE_SKIP_SERVERS=1` (and neither `CI` nor `MIGRATE_REQUIRE_SERVERS=1` is set).
/// An opted-out test returns early after appending one line to the skip log
/// ([`skip_log`]); `make test` prints how many tests that log names, so a run that left
/// server tests out says so on stdout.
pub struct TestDb {
    pub server: Server,
    pub name: String,
    pub url: String,
}

/// Runs a future to completion on a fresh runtime on its own thread (works inside
/// `#[tokio::test]` too).
pub fn block_on<F>(f: F) -> F::Output
where
    F: std::future::Future + Send,
    F::Output: Send,
{
    // A fresh runtime on its own thread, so this works inside #[tokio::test] too.
    std::thread::scope(|s| {
        s.spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime")
                .block_on(f)
        })
        .join()
        .expect("the runtime thread finished")
    })
}

/// Whether an environment variable is set to something other than empty, `0`, `false`
/// or `no`.
fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| {
        let v = v.trim().to_ascii_lowercase();
        !(v.is_empty() || v == "0" || v == "false" || v == "no")
    })
}

/// Whether a test whose server is unreachable may skip: only when the run asked for it
/// with `MIGRATE_SKIP_SERVERS`, and never in CI or under `MIGRATE_REQUIRE_SERVERS`.
pub fn skipping_allowed() -> bool {
    env_flag("MIGRATE_SKIP_SERVERS") && !env_flag("CI") && !env_flag("MIGRATE_REQUIRE_SERVERS")
}

/// The file a skipped server test appends its line to: `$MIGRATE_SKIP_LOG`, else
/// `skipped-server-tests.txt` in cargo's temp dir for integration tests.
pub fn skip_log() -> std::path::PathBuf {
    std::env::var_os("MIGRATE_SKIP_LOG")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("skipped-server-tests.txt"))
}

/// Records that the current test did not run its `server` part.
fn record_skip(server: Server, reason: &str) {
    use std::io::Write;
    let test = std::thread::current()
        .name()
        .unwrap_or("unnamed test")
        .to_owned();
    let line = format!(
        "{test}\t{server:?}\t{}\n",
        reason.replace(['\n', '\r'], " ")
    );
    let path = skip_log();
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(line.as_bytes()));
    if let Err(e) = written {
        panic!(
            "could not record a skipped server test in {}: {e}",
            path.display()
        );
    }
}

async fn admin_exec(server: Server, sql: String) -> Result<(), sqlx::Error> {
    use sqlx::Connection;
    match server {
        Server::Postgres => {
            let mut c = sqlx::PgConnection::connect(&server.admin_url()).await?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone()))
                .execute(&mut c)
                .await?;
        }
        Server::Mysql => {
            let mut c = sqlx::MySqlConnection::connect(&server.admin_url()).await?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone()))
                .execute(&mut c)
                .await?;
        }
    }
    Ok(())
}

impl TestDb {
    /// Creates a uniquely named database on `server`. `None` only when the server is
    /// unreachable and the run opted out of server tests (the skip is recorded);
    /// otherwise an unreachable server fails the test.
    pub fn new(server: Server) -> Option<TestDb> {
        let name = format!(
            "migrate_test_{}",
            uuid::Uuid::new_v4()
                .simple()
                .to_string()
                .get(..16)
                .unwrap_or("x")
        );
        let create = match server {
            Server::Postgres => format!("CREATE DATABASE \"{name}\""),
            Server::Mysql => format!("CREATE DATABASE `{name}`"),
        };
        match block_on(admin_exec(server, create)) {
            Ok(()) => Some(TestDb {
                server,
                url: format!("{}/{name}", server.base_url()),
                name,
            }),
            Err(e) if skipping_allowed() => {
                eprintln!(
                    "SKIPPED: {server:?} server unreachable ({e}); this test did not run \
                     (MIGRATE_SKIP_SERVERS is set)."
                );
                record_skip(server, &e.to_string());
                None
            }
            Err(e) => panic!(
                "{server:?} test server unreachable at {}: {e}\n\
                 hint: run `make servers`, or set MIGRATE_SKIP_SERVERS=1 to leave server tests out (the run then says how many)",
                server.base_url()
            ),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let drop_sql = match self.server {
            Server::Postgres => format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name),
            Server::Mysql => format!("DROP DATABASE IF EXISTS `{}`", self.name),
        };
        if let Err(e) = block_on(admin_exec(self.server, drop_sql)) {
            eprintln!("warning: could not drop test database {}: {e}", self.name);
        }
    }
}

/// The path of a tool (`alembic`, `python`, `squawk`) in the test virtualenv that
/// `tests/tools.sh` (run by `make test`) installs: `$MIGRATE_PYENV`, else
/// `target/pyenv`. A test that needs it fails, loudly, when it is not there: a
/// comparison with the oracle that did not run never counts as passed.
pub fn pyenv_tool(tool: &str) -> std::path::PathBuf {
    let root = std::env::var_os("MIGRATE_PYENV")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/pyenv"));
    let path = root.join("bin").join(tool);
    assert!(
        path.exists(),
        "{} is missing: run `bash tests/tools.sh` (make test does) or set MIGRATE_PYENV",
        path.display()
    );
    path
}
