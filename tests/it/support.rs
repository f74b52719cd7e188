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
/// When the server can't be reached the test fails if `CI` or `MIGRATE_REQUIRE_SERVERS`
/// is set; otherwise it prints a loud `SKIPPED` line and `TestDb::new` returns `None`,
/// and the caller returns early (the runner still counts it as run, so the line is
/// what tells a person; CI never takes this path).
pub struct TestDb {
    pub server: Server,
    pub name: String,
    pub url: String,
}

fn block_on<F>(f: F) -> F::Output
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

fn servers_required() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false")
        || std::env::var_os("MIGRATE_REQUIRE_SERVERS").is_some()
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
    /// Creates a uniquely named database on `server`.
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
            Err(e) if servers_required() => {
                panic!(
                    "{server:?} test server unreachable at {}: {e}",
                    server.base_url()
                )
            }
            Err(e) => {
                eprintln!(
                    "SKIPPED: {server:?} server unreachable ({e}); this test did not run. \
                     Set MIGRATE_REQUIRE_SERVERS=1 to make that a failure."
                );
                None
            }
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
