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
        "OK: 2 revision(s); the schema they build matches models.yaml\n"
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
        stderr.contains("revision bbbb00000002 (revisions/bbbb00000002_posts.yaml:1) fails on a scratch SQLite database"),
        "{stderr}"
    );
}
