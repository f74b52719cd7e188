//! `migrate upgrade` on an Alembic project runs Alembic itself under migrate's lock:
//! eight processes deploying at once apply each revision once and log it once.

use std::path::Path;
use std::process::{Command, Stdio};

use super::alembic_cli::{alembic, init};
use super::support::{block_on, pyenv_tool, run, Server, TestDb};

/// A project with `n` revisions that each create a table (and drop it on downgrade),
/// its `sqlalchemy.url` set to `url`.
fn project(n: usize, url: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let (tmp, root) = init("generic");
    let ini = root.join("alembic.ini");
    let text = std::fs::read_to_string(&ini).unwrap();
    let text: String = text
        .lines()
        .map(|l| {
            if l.starts_with("sqlalchemy.url") {
                format!("sqlalchemy.url = {url}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(&ini, text).unwrap();
    for i in 1..=n {
        let id = format!("r{i:03}");
        alembic(
            &root,
            &["revision", "-m", &format!("table {i}"), "--rev-id", &id],
        );
        let file = std::fs::read_dir(root.join("migrations/versions"))
            .unwrap()
            .flatten()
            .find(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(&format!("{id}_"))
            })
            .expect("the new revision file")
            .path();
        let src = std::fs::read_to_string(&file).unwrap();
        let src = src.replacen(
            "    pass",
            &format!(
                "    op.create_table('t_{id}', sa.Column('id', sa.Integer, primary_key=True))"
            ),
            1,
        );
        let src = src.replacen("    pass", &format!("    op.drop_table('t_{id}')"), 1);
        std::fs::write(&file, src).unwrap();
    }
    (tmp, root)
}

/// Starts `count` `migrate upgrade head` at once; returns each one's (code, stderr).
fn deploy_at_once(root: &Path, count: usize) -> Vec<(i32, String)> {
    let alembic = pyenv_tool("alembic");
    let children: Vec<_> = (0..count)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_migrate"))
                .current_dir(root)
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .env("XDG_CACHE_HOME", root.join(".test-cache"))
                .env_remove("DATABASE_URL")
                .args(["upgrade", "head", "--alembic"])
                .arg(&alembic)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("migrate starts")
        })
        .collect();
    children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().expect("migrate ends");
            (
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        })
        .collect()
}

const ROWS: &str = "SELECT version_num FROM alembic_version";
const LOG: &str = "SELECT revision, CAST(COUNT(*) AS BIGINT) FROM migrate_log \
     WHERE direction = 'upgrade' AND success = TRUE GROUP BY revision ORDER BY revision";

/// (version rows, successful upgrade log rows per revision) of a SQLite file.
async fn read_back_sqlite(path: &Path) -> (Vec<String>, Vec<(String, i64)>) {
    use sqlx::Connection;
    let url = format!("sqlite://{}", path.display());
    let mut c = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("connects");
    let rows: Vec<(String,)> = sqlx::query_as(ROWS).fetch_all(&mut c).await.expect("rows");
    let log = sqlx::query_as(LOG).fetch_all(&mut c).await.expect("log");
    (rows.into_iter().map(|r| r.0).collect(), log)
}

/// The same of a PostgreSQL database.
async fn read_back_postgres(url: &str) -> (Vec<String>, Vec<(String, i64)>) {
    use sqlx::Connection;
    let mut c = sqlx::PgConnection::connect(url).await.expect("connects");
    let rows: Vec<(String,)> = sqlx::query_as(ROWS).fetch_all(&mut c).await.expect("rows");
    let log = sqlx::query_as(LOG).fetch_all(&mut c).await.expect("log");
    (rows.into_iter().map(|r| r.0).collect(), log)
}

fn assert_once_each(results: &[(i32, String)], rows: &[String], log: &[(String, i64)], n: usize) {
    for (code, err) in results {
        assert_eq!(*code, 0, "{err}");
    }
    assert_eq!(rows, [format!("r{n:03}")]);
    let want: Vec<(String, i64)> = (1..=n).map(|i| (format!("r{i:03}"), 1)).collect();
    assert_eq!(log, want.as_slice(), "one log row per revision");
    // Exactly one process ran Alembic; the others found nothing to do.
    let ran = results
        .iter()
        .filter(|(_, err)| err.contains("Running upgrade"))
        .count();
    assert_eq!(ran, 1, "{results:?}");
}

#[test]
fn eight_deploys_at_once_on_sqlite_apply_each_revision_once() {
    let (_tmp, root) = project(5, "sqlite:///app.db");
    let results = deploy_at_once(&root, 8);
    let (rows, log) = block_on(read_back_sqlite(&root.join("app.db")));
    assert_once_each(&results, &rows, &log, 5);
}

#[test]
fn eight_deploys_at_once_on_postgres_apply_each_revision_once() {
    let Some(db) = TestDb::new(Server::Postgres) else {
        return;
    };
    let sqla = db.url.replacen("postgres://", "postgresql+psycopg2://", 1);
    let (_tmp, root) = project(5, &sqla);
    let results = deploy_at_once(&root, 8);
    let (rows, log) = block_on(read_back_postgres(&db.url));
    assert_once_each(&results, &rows, &log, 5);
}

#[test]
fn without_alembic_the_error_names_what_to_install() {
    let (_tmp, root) = project(1, "sqlite:///app.db");
    let missing = ["--alembic", "/nonexistent/alembic"];
    let (code, _, err) = run(&root, &[&["upgrade", "head"][..], &missing].concat());
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("pip install alembic"), "{err}");
    // --dry-run plans without Alembic.
    let (code, out, err) = run(
        &root,
        &[&["upgrade", "head", "--dry-run"][..], &missing].concat(),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "upgrade r001, table 1\n");
}
