//! `migrate check --offline`: the models against the schema the revisions build.

use std::path::Path;

use super::support::migrate;

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

const REV1: &str = "revision: aaaa00000001
down_revision: null
message: users
upgrade: |
  CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email VARCHAR(255) NOT NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
  );
  CREATE UNIQUE INDEX ux_users_email ON users (email);
downgrade: |
  DROP TABLE users;
";

const REV2: &str = "revision: bbbb00000002
down_revision: aaaa00000001
message: posts
upgrade: |
  CREATE TABLE posts (
    id INTEGER NOT NULL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title TEXT
  );
downgrade: |
  DROP TABLE posts;
";

const MODELS: &str = "tables:
  users:
    columns:
      id: {type: integer, primary_key: true, autoincrement: true}
      email: {type: string(255), nullable: false}
      created_at: {type: timestamp, default: now}
    indexes:
      - {columns: [email], unique: true}
  posts:
    columns:
      id: {type: integer, primary_key: true}
      user_id: {type: bigint, nullable: false}
      title: text
    foreign_keys:
      - {columns: [user_id], references: users(id), on_delete: cascade}
";

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temp dir");
    write(dir.path(), "revisions/aaaa00000001_users.yaml", REV1);
    write(dir.path(), "revisions/bbbb00000002_posts.yaml", REV2);
    write(dir.path(), "models.yaml", MODELS);
    dir
}

#[test]
fn offline_check_passes_when_models_match_the_revisions() {
    let dir = project();
    let out = migrate(dir.path())
        .args(["check", "--offline"])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert_eq!(
        stdout,
        "OK: 2 revision(s); the schema the revisions build (replayed on SQLite) matches models.yaml\n"
    );
}

#[test]
fn offline_check_lists_each_difference_and_exits_1() {
    let dir = project();
    let models = MODELS
        .replace(
            "title: text",
            "title: text\n      body: {type: text, nullable: false, default: ''}",
        )
        .replace("      created_at: {type: timestamp, default: now}\n", "");
    write(dir.path(), "models.yaml", &models);
    let out = migrate(dir.path())
        .args(["check", "--offline"])
        .assert()
        .code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert_eq!(
        stdout,
        "models.yaml differs from the schema the revisions build (replayed on SQLite):
  Detected added column 'posts.body' (text)
  Detected removed column 'users.created_at'
"
    );
    let json = migrate(dir.path())
        .args(["--format", "json", "check", "--offline"])
        .assert()
        .code(1);
    let v: serde_json::Value =
        serde_json::from_slice(&json.get_output().stdout).expect("json output");
    assert_eq!(v["ok"], false);
    assert_eq!(v["model_differences"][0]["kind"], "add_column");
    assert_eq!(v["model_differences"][1]["kind"], "drop_column");
}

#[test]
fn offline_check_names_a_bad_model_and_a_failing_revision() {
    let dir = project();
    write(
        dir.path(),
        "models.yaml",
        "tables:\n  users:\n    columns:\n      id: {type: integr}\n",
    );
    let out = migrate(dir.path())
        .args(["check", "--offline"])
        .assert()
        .failure();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("models.yaml:4: unknown type 'integr'"),
        "{stderr}"
    );

    let dir = project();
    write(
        dir.path(),
        "revisions/bbbb00000002_posts.yaml",
        &REV2.replace("CREATE TABLE posts (", "CREATE TABLE posts (,"),
    );
    let out = migrate(dir.path())
        .args(["check", "--offline"])
        .assert()
        .failure();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("replaying the revisions on a scratch SQLite database: revision bbbb00000002 (revisions/bbbb00000002_posts.yaml) failed at upgrade statement 1 of 1 (line 1 of the script)"),
        "{stderr}"
    );
}

mod workflow {
    use std::path::Path;

    use super::super::autogen_support::Fresh;
    use super::super::support::migrate;
    use super::write;
    use migrate::core::Dialect;

    const V1: &str = "tables:
  users:
    columns:
      id: {type: bigint, primary_key: true, autoincrement: true}
      email: {type: string(255), nullable: false}
      created_at: {type: timestamp, default: now}
    indexes:
      - {columns: [email], unique: true}
";

    const V2: &str = "tables:
  users:
    columns:
      id: {type: bigint, primary_key: true, autoincrement: true}
      email: {type: string(255), nullable: false}
      created_at: {type: timestamp, default: now}
      is_active: {type: boolean, nullable: false, default: true}
    indexes:
      - {columns: [email], unique: true}
  posts:
    columns:
      id: {type: integer, primary_key: true}
      user_id: {type: bigint, nullable: false}
    foreign_keys:
      - {columns: [user_id], references: users(id), on_delete: cascade}
";

    fn run(dir: &Path, url: &str, args: &[&str]) -> (i32, String, String) {
        let out = migrate(dir)
            .arg("--database-url")
            .arg(url)
            .args(args)
            .output()
            .expect("migrate runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn revision_files(dir: &Path) -> usize {
        std::fs::read_dir(dir.join("revisions"))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    fn workflow(dialect: Dialect) {
        let Some(fresh) = Fresh::new(dialect) else {
            return;
        };
        let tmp = tempfile::tempdir().expect("a temp dir");
        let dir = tmp.path();
        std::fs::create_dir_all(dir.join("revisions")).expect("mkdir");
        write(dir, "models.yaml", V1);
        let url = fresh.url.as_str();

        // 1. First revision from an empty database.
        let (code, _, err) = run(dir, url, &["revision", "--autogenerate", "-m", "users"]);
        assert_eq!(code, 0, "{dialect}: {err}");
        assert!(err.contains("Detected added table 'users'"), "{err}");
        assert_eq!(revision_files(dir), 1);
        let (code, _, err) = run(dir, url, &["upgrade", "head"]);
        assert_eq!(code, 0, "{dialect}: {err}");
        let (code, out, err) = run(dir, url, &["check"]);
        assert_eq!(code, 0, "{dialect}: {out}{err}");
        assert!(out.contains("matches models.yaml"), "{out}");

        // 2. Nothing changed: nothing written.
        let (code, _, err) = run(dir, url, &["revision", "--autogenerate", "-m", "noop"]);
        assert_eq!((code, err.trim()), (0, "No changes detected"), "{dialect}");
        assert_eq!(revision_files(dir), 1);
        let (code, out, _) = run(
            dir,
            url,
            &[
                "--format",
                "json",
                "revision",
                "--autogenerate",
                "-m",
                "noop",
            ],
        );
        assert_eq!(code, 0);
        let v: serde_json::Value = serde_json::from_str(&out).expect("json");
        assert_eq!(v["changes"], serde_json::json!([]), "{out}");
        assert_eq!(revision_files(dir), 1);

        // 3. The models move on: check lists each difference.
        write(dir, "models.yaml", V2);
        let (code, out, _) = run(dir, url, &["check"]);
        assert_eq!(code, 1, "{dialect}: {out}");
        assert!(out.contains("Detected added table 'posts'"), "{out}");
        assert!(
            out.contains("Detected added column 'users.is_active' (boolean)"),
            "{out}"
        );
        let (code, out, err) = run(
            dir,
            url,
            &[
                "--format",
                "json",
                "revision",
                "--autogenerate",
                "-m",
                "posts",
            ],
        );
        assert_eq!(code, 0, "{dialect}: {err}");
        let v: serde_json::Value = serde_json::from_str(&out).expect("json");
        let kinds: Vec<&str> = v["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .filter_map(|c| c["kind"].as_str())
            .collect();
        assert_eq!(kinds, ["add_table", "add_column"], "{dialect}: {out}");
        assert!(
            v["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("_posts.yaml")),
            "{out}"
        );
        assert_eq!(revision_files(dir), 2);

        // 4. Behind head: refused, nothing written.
        let (code, _, err) = run(dir, url, &["revision", "--autogenerate", "-m", "again"]);
        assert_eq!(code, 1, "{dialect}: {err}");
        assert!(
            err.contains("error: Target database is not up to date."),
            "{err}"
        );
        assert_eq!(revision_files(dir), 2);

        // 5. Upgrade, check passes, offline too (revisions carry SQLite SQL).
        let (code, _, err) = run(dir, url, &["upgrade", "head"]);
        assert_eq!(code, 0, "{dialect}: {err}");
        let (code, out, err) = run(dir, url, &["check"]);
        assert_eq!(code, 0, "{dialect}: {out}{err}");
        let (code, out, err) = run(dir, url, &["check", "--offline"]);
        assert_eq!(code, 0, "{dialect}: {out}{err}");

        // 6. Downgrade one step: the database no longer matches the head.
        let (code, _, err) = run(dir, url, &["downgrade", "-1"]);
        assert_eq!(code, 0, "{dialect}: {err}");
        let (code, _, err) = run(dir, url, &["check"]);
        assert_eq!(code, 1, "{dialect}");
        assert!(err.contains("Target database is not up to date."), "{err}");
        let (code, _, err) = run(dir, url, &["upgrade", "head"]);
        assert_eq!(code, 0, "{dialect}: {err}");

        // 7. Drift by hand is reported; the next autogenerate removes it.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let mut live = fresh.connect().await;
            live.exec("ALTER TABLE users ADD COLUMN nickname VARCHAR(20)")
                .await;
        });
        let (code, out, _) = run(dir, url, &["check"]);
        assert_eq!(code, 1, "{dialect}: {out}");
        assert!(
            out.contains("Detected removed column 'users.nickname'"),
            "{out}"
        );
        let (code, _, err) = run(dir, url, &["revision", "--autogenerate", "-m", "drift"]);
        assert_eq!(code, 0, "{dialect}: {err}");
        let (code, _, err) = run(dir, url, &["upgrade", "head"]);
        assert_eq!(code, 0, "{dialect}: {err}");
        let (code, out, err) = run(dir, url, &["check"]);
        assert_eq!(code, 0, "{dialect}: {out}{err}");
    }

    #[test]
    fn autogenerate_workflow_on_sqlite() {
        workflow(Dialect::Sqlite);
    }

    #[test]
    fn autogenerate_workflow_on_postgres() {
        workflow(Dialect::Postgres);
    }

    #[test]
    fn autogenerate_workflow_on_mariadb() {
        workflow(Dialect::Mysql);
    }
}

/// The model-edit series of `autogen_steps`, through the CLI: each edit autogenerated,
/// upgraded, checked, downgraded one step (rows of untouched columns intact) and
/// upgraded again.
mod series {
    use super::super::autogen_steps::STEPS;
    use super::super::autogen_support::Fresh;
    use super::workflow_run as run;
    use super::write;
    use migrate::core::Dialect;
    use std::path::Path;

    fn series(dialect: Dialect) {
        let Some(fresh) = Fresh::new(dialect) else {
            return;
        };
        let tmp = tempfile::tempdir().expect("a temp dir");
        let dir = tmp.path();
        std::fs::create_dir_all(dir.join("revisions")).expect("mkdir");
        let url = fresh.url.as_str();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let emails = || {
            rt.block_on(async {
                let mut live = fresh.connect().await;
                live.strings("SELECT email FROM users ORDER BY id").await
            })
        };
        for (i, (what, models)) in STEPS.iter().enumerate() {
            write(dir, "models.yaml", models);
            let msg = format!("step {i}");
            let (code, _, err) = run(dir, url, &["revision", "--autogenerate", "-m", &msg]);
            assert_eq!(code, 0, "{dialect}, {what}: {err}");
            let (code, _, err) = run(dir, url, &["upgrade", "head"]);
            assert_eq!(code, 0, "{dialect}, {what}: {err}");
            let (code, out, err) = run(dir, url, &["check"]);
            assert_eq!(code, 0, "{dialect}, {what}: {out}{err}");
            if i == 0 {
                rt.block_on(async {
                    let mut live = fresh.connect().await;
                    live.exec(
                        "INSERT INTO users (email, name, age) VALUES ('a@x.org', 'Ann', 30);
                         INSERT INTO users (email, name, age) VALUES ('b@x.org', 'Bob', 40);
                         INSERT INTO posts (id, user_id, title) VALUES (1, 1, 'hello');",
                    )
                    .await;
                });
                continue;
            }
            let (code, _, err) = run(dir, url, &["downgrade", "-1"]);
            assert_eq!(code, 0, "{dialect}, {what}: {err}");
            // The previous models match the database again.
            write(dir, "models.yaml", STEPS[i - 1].1);
            let (code, out, err) = run(dir, url, &["revision", "--autogenerate", "-m", "x"]);
            assert_eq!(code, 1, "{dialect}, {what}: behind head: {out}{err}");
            let previous = migrate::schema::model::parse_models(STEPS[i - 1].1, Path::new("m"))
                .expect("valid");
            let now = rt.block_on(async { fresh.connect().await.introspect().await });
            let d = migrate::schema::diff(
                &now.normalized_for(dialect),
                &previous.normalized_for(dialect),
            );
            assert!(
                d.is_empty(),
                "{dialect}: undoing {what} left {:?}",
                d.changes
            );
            assert_eq!(
                emails(),
                ["a@x.org", "b@x.org"],
                "{dialect}: rows after undoing {what}"
            );
            let (code, _, err) = run(dir, url, &["upgrade", "head"]);
            assert_eq!(code, 0, "{dialect}, {what}: {err}");
            write(dir, "models.yaml", models);
            let (code, out, err) = run(dir, url, &["check"]);
            assert_eq!(code, 0, "{dialect}, {what}: {out}{err}");
            assert_eq!(
                emails(),
                ["a@x.org", "b@x.org"],
                "{dialect}: rows after {what}"
            );
        }
        let (code, out, err) = run(dir, url, &["check", "--offline"]);
        assert_eq!(code, 0, "{dialect}: {out}{err}");
    }

    #[test]
    fn model_edit_series_through_the_cli_on_sqlite() {
        series(Dialect::Sqlite);
    }

    #[test]
    fn model_edit_series_through_the_cli_on_postgres() {
        series(Dialect::Postgres);
    }

    #[test]
    fn model_edit_series_through_the_cli_on_mariadb() {
        series(Dialect::Mysql);
    }
}

fn workflow_run(dir: &Path, url: &str, args: &[&str]) -> (i32, String, String) {
    let out = migrate(dir)
        .arg("--database-url")
        .arg(url)
        .args(args)
        .output()
        .expect("migrate runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The example project: after `upgrade head`, `check` (models against the database)
/// passes on every backend, and `downgrade base` still works.
mod example {
    use super::super::autogen_support::Fresh;
    use super::workflow_run as run;
    use migrate::core::Dialect;
    use std::path::Path;

    fn example(dialect: Dialect) {
        let Some(fresh) = Fresh::new(dialect) else {
            return;
        };
        let tmp = tempfile::tempdir().expect("a temp dir");
        let dir = tmp.path();
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        std::fs::create_dir_all(dir.join("revisions")).expect("mkdir");
        for entry in std::fs::read_dir(root.join("revisions")).expect("example revisions") {
            let entry = entry.expect("an entry");
            std::fs::copy(entry.path(), dir.join("revisions").join(entry.file_name()))
                .expect("copied");
        }
        // The example's models live at revisions/models.yaml (copied above), the fallback
        // location when no models.yaml sits beside the config.
        let url = fresh.url.as_str();
        let (code, _, err) = run(dir, url, &["upgrade", "head"]);
        assert_eq!(code, 0, "{dialect}: {err}");
        let (code, out, err) = run(dir, url, &["check"]);
        assert_eq!(code, 0, "{dialect}: {out}{err}");
        assert!(out.contains("matches revisions/models.yaml"), "{out}");
        let (code, _, err) = run(dir, url, &["downgrade", "base"]);
        assert_eq!(code, 0, "{dialect}: {err}");
    }

    #[test]
    fn example_project_matches_its_models_on_sqlite() {
        example(Dialect::Sqlite);
    }

    #[test]
    fn example_project_matches_its_models_on_postgres() {
        example(Dialect::Postgres);
    }

    #[test]
    fn example_project_matches_its_models_on_mariadb() {
        example(Dialect::Mysql);
    }
}

/// The tool's own tables under configured names are left out of the comparison.
#[test]
fn configured_version_and_log_tables_are_not_compared() {
    let dir = project();
    write(
        dir.path(),
        "migrate.yaml",
        "version_table: deploy_versions\nlog_table: deploy_log\nmodels: schema/models.yaml\n",
    );
    let models = std::fs::read_to_string(dir.path().join("models.yaml")).expect("models");
    write(dir.path(), "schema/models.yaml", &models);
    std::fs::remove_file(dir.path().join("models.yaml")).expect("removed");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("app.db").display());
    let (code, _, err) = workflow_run(dir.path(), &url, &["upgrade", "head"]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = workflow_run(dir.path(), &url, &["check"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        out,
        "OK: 2 revision(s); the sqlite database at head matches schema/models.yaml\n"
    );
    // The tables are really there under those names, and the default names are not.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let names: Vec<String> = rt.block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&url).await.expect("opens");
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'deploy%' ORDER BY name")
            .fetch_all(&mut c)
            .await
            .expect("query")
    });
    assert_eq!(names, ["deploy_log", "deploy_versions"]);
}

/// A construct the target backend lacks stops `revision --autogenerate` with one
/// error naming the file and line, and writes nothing.
#[test]
fn a_construct_the_backend_lacks_is_a_model_error() {
    let dir = project();
    write(
        dir.path(),
        "models.yaml",
        &MODELS.replace(
            "      - {columns: [email], unique: true}\n",
            "      - {columns: [email], unique: true}\n      - {name: ix_users_created, columns: [created_at], using: brin}\n",
        ),
    );
    migrate(dir.path())
        .args(["upgrade", "head"])
        .assert()
        .success();
    let before = std::fs::read_dir(dir.path().join("revisions"))
        .expect("revisions")
        .count();
    let out = migrate(dir.path())
        .args(["revision", "--autogenerate", "-m", "brin"])
        .assert()
        .failure();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains(
            "models.yaml:9: index 'ix_users_created' of table 'users' has using: brin, which only PostgreSQL has (the database is sqlite)"
        ),
        "{stderr}"
    );
    let after = std::fs::read_dir(dir.path().join("revisions"))
        .expect("revisions")
        .count();
    assert_eq!(before, after, "nothing written");
}
