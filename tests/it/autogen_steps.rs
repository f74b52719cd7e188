//! A series of model edits, each diffed against the live database, rendered, applied
//! and undone, on SQLite, PostgreSQL and MariaDB.

use std::path::Path;

use migrate::core::Dialect;
use migrate::schema::model::parse_models;
use migrate::schema::{diff, render_migration, Schema};

use super::autogen_support::{Fresh, Live};

/// The models after each step; each differs from the one before by one kind of edit.
pub const STEPS: &[(&str, &str)] = &[
    (
        "add tables",
        "tables:
  users:
    columns:
      id: {type: bigint, primary_key: true, autoincrement: true}
      email: {type: string(255), nullable: false}
      name: {type: string(100), nullable: false, default: anonymous}
      age: {type: integer}
      score: {type: numeric(10,2), default: 0}
    unique_constraints:
      - {columns: [email]}
    checks:
      - {name: ck_users_score, expr: score >= 0}
  posts:
    columns:
      id: {type: integer, primary_key: true}
      user_id: {type: bigint, nullable: false}
      title: {type: string(200)}
",
    ),
    (
        "add columns with defaults",
        "tables:
  users:
    columns:
      id: {type: bigint, primary_key: true, autoincrement: true}
      email: {type: string(255), nullable: false}
      name: {type: string(100), nullable: false, default: anonymous}
      age: {type: integer}
      score: {type: numeric(10,2), default: 0}
      is_active: {type: boolean, nullable: false, default: true}
      created_at: {type: timestamp, default: now}
    unique_constraints:
      - {columns: [email]}
    checks:
      - {name: ck_users_score, expr: score >= 0}
  posts:
    columns:
      id: {type: integer, primary_key: true}
      user_id: {type: bigint, nullable: false}
      title: {type: string(200)}
",
    ),
    (
        "make a column nullable",
        "tables:
  users:
    columns:
      id: {type: bigint, primary_key: true, autoincrement: true}
      email: {type: string(255), nullable: false}
      name: {type: string(100), default: anonymous}
      age: {type: integer}
      score: {type: numeric(10,2), default: 0}
      is_active: {type: boolean, nullable: false, default: true}
      created_at: {type: timestamp, default: now}
    unique_constraints:
      - {columns: [email]}
    checks:
      - {name: ck_users_score, expr: score >= 0}
  posts:
    columns:
      id: {type: integer, primary_key: true}
      user_id: {type: bigint, nullable: false}
      title: {type: string(200)}
",
    ),
    (
        "change types",
        "tables:
  users:
    columns:
      id: {type: bigint, primary_key: true, autoincrement: true}
      email: {type: string(255), nullable: false}
      name: {type: string(100), default: anonymous}
      age: {type: bigint}
      score: {type: numeric(10,2), default: 0}
      is_active: {type: boolean, nullable: false, default: true}
      created_at: {type: timestamp, default: now}
    unique_constraints:
      - {columns: [email]}
    checks:
      - {name: ck_users_score, expr: score >= 0}
  posts:
    columns:
      id: {type: integer, primary_key: true}
      user_id: {type: bigint, nullable: false}
      title: {type: text}
",
    ),
    (
        "add a composite index",
        "tables:
  users:
    columns:
      id: {type: bigint, primary_key: true, autoincrement: true}
      email: {type: string(255), nullable: false}
      name: {type: string(100), default: anonymous}
      age: {type: bigint}
      score: {type: numeric(10,2), default: 0}
      is_active: {type: boolean, nullable: false, default: true}
      created_at: {type: timestamp, default: now}
    indexes:
      - {name: ix_users_name_age, columns: [name, age]}
    unique_constraints:
      - {columns: [email]}
    checks:
      - {name: ck_users_score, expr: score >= 0}
  posts:
    columns:
      id: {type: integer, primary_key: true}
      user_id: {type: bigint, nullable: false}
      title: {type: text}
",
    ),
    (
        "add a foreign key",
        "tables:
  users:
    columns:
      id: {type: bigint, primary_key: true, autoincrement: true}
      email: {type: string(255), nullable: false}
      name: {type: string(100), default: anonymous}
      age: {type: bigint}
      score: {type: numeric(10,2), default: 0}
      is_active: {type: boolean, nullable: false, default: true}
      created_at: {type: timestamp, default: now}
    indexes:
      - {name: ix_users_name_age, columns: [name, age]}
    unique_constraints:
      - {columns: [email]}
    checks:
      - {name: ck_users_score, expr: score >= 0}
  posts:
    columns:
      id: {type: integer, primary_key: true}
      user_id: {type: bigint, nullable: false}
      title: {type: text}
    foreign_keys:
      - {columns: [user_id], references: users(id), on_delete: cascade}
",
    ),
    (
        "drop a column",
        "tables:
  users:
    columns:
      id: {type: bigint, primary_key: true, autoincrement: true}
      email: {type: string(255), nullable: false}
      name: {type: string(100), default: anonymous}
      score: {type: numeric(10,2), default: 0}
      is_active: {type: boolean, nullable: false, default: true}
      created_at: {type: timestamp, default: now}
    indexes:
      - {name: ix_users_name, columns: [name]}
    unique_constraints:
      - {columns: [email]}
    checks:
      - {name: ck_users_score, expr: score >= 0}
  posts:
    columns:
      id: {type: integer, primary_key: true}
      user_id: {type: bigint, nullable: false}
      title: {type: text}
    foreign_keys:
      - {columns: [user_id], references: users(id), on_delete: cascade}
",
    ),
    (
        "drop a table",
        "tables:
  users:
    columns:
      id: {type: bigint, primary_key: true, autoincrement: true}
      email: {type: string(255), nullable: false}
      name: {type: string(100), default: anonymous}
      score: {type: numeric(10,2), default: 0}
      is_active: {type: boolean, nullable: false, default: true}
      created_at: {type: timestamp, default: now}
    indexes:
      - {name: ix_users_name, columns: [name]}
    unique_constraints:
      - {columns: [email]}
    checks:
      - {name: ck_users_score, expr: score >= 0}
",
    ),
];

fn model(text: &str) -> Schema {
    parse_models(text, Path::new("models.yaml")).expect("the step's model is valid")
}

/// The database equals `expected`: no difference either way.
async fn assert_matches(live: &mut Live, dialect: Dialect, expected: &Schema, when: &str) {
    let got = live.introspect().await;
    let d = diff(
        &got.normalized_for(dialect),
        &expected.normalized_for(dialect),
    );
    assert!(
        d.is_empty(),
        "{dialect}, {when}: database differs from the model:\n{}",
        d.changes
            .iter()
            .map(|c| format!("  {c}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

async fn emails(live: &mut Live) -> Vec<String> {
    live.strings("SELECT email FROM users ORDER BY id").await
}

async fn run_series(dialect: Dialect) {
    let Some(fresh) = Fresh::new(dialect) else {
        return;
    };
    let mut live = fresh.connect().await;
    let mut previous = Schema::default();
    let users = vec!["a@x.org".to_owned(), "b@x.org".to_owned()];
    for (i, (what, text)) in STEPS.iter().enumerate() {
        let target = model(text);
        let db = live.introspect().await;
        let m = render_migration(dialect, &db, &target);
        assert!(!m.is_empty(), "{dialect}, {what}: no change found");
        live.exec(&m.upgrade).await;
        assert_matches(
            &mut live,
            dialect,
            &target,
            &format!("after upgrade '{what}'"),
        )
        .await;
        // Nothing left to generate.
        let again = render_migration(dialect, &live.introspect().await, &target);
        assert!(
            again.is_empty(),
            "{dialect}, {what}: second autogenerate found {:?}",
            again.changes
        );
        if i == 0 {
            live.exec(
                "INSERT INTO users (email, name, age) VALUES ('a@x.org', 'Ann', 30);
                 INSERT INTO users (email, name, age) VALUES ('b@x.org', 'Bob', 40);
                 INSERT INTO posts (id, user_id, title) VALUES (1, 1, 'hello');
                 INSERT INTO posts (id, user_id, title) VALUES (2, 2, 'world');",
            )
            .await;
            previous = target;
            continue;
        }
        // Downgrade returns to the previous schema with the rows intact ...
        live.exec(&m.downgrade).await;
        assert_matches(
            &mut live,
            dialect,
            &previous,
            &format!("after downgrade of '{what}'"),
        )
        .await;
        assert_eq!(
            emails(&mut live).await,
            users,
            "{dialect}: rows after downgrade of '{what}'"
        );
        // ... and the upgrade applies again on top of it.
        live.exec(&m.upgrade).await;
        assert_matches(
            &mut live,
            dialect,
            &target,
            &format!("after re-upgrade '{what}'"),
        )
        .await;
        assert_eq!(
            emails(&mut live).await,
            users,
            "{dialect}: rows after '{what}'"
        );
        if target.tables.contains_key("posts") {
            assert_eq!(
                live.count("SELECT COUNT(*) FROM posts").await,
                2,
                "{dialect}: posts rows survive '{what}'"
            );
        }
        previous = target;
    }
    // Untouched columns kept their data through every rebuild and type change.
    assert_eq!(
        live.strings("SELECT name FROM users ORDER BY id").await,
        ["Ann", "Bob"]
    );
    // Drift made by hand is found, and the next autogenerate removes it.
    let target = model(STEPS[STEPS.len() - 1].1);
    live.exec(
        "ALTER TABLE users ADD COLUMN hand_made INTEGER; CREATE INDEX ix_hand ON users (score);",
    )
    .await;
    let found = diff(
        &target.normalized_for(dialect),
        &live.introspect().await.normalized_for(dialect),
    );
    let listed: Vec<String> = found.changes.iter().map(ToString::to_string).collect();
    assert_eq!(
        listed,
        [
            "added column 'users.hand_made' (integer)",
            "added index 'ix_hand' on users(score)"
        ],
        "{dialect}"
    );
    let m = render_migration(dialect, &live.introspect().await, &target);
    live.exec(&m.upgrade).await;
    assert_matches(&mut live, dialect, &target, "after removing drift").await;
}

#[tokio::test]
async fn model_edits_round_trip_on_sqlite() {
    run_series(Dialect::Sqlite).await;
}

#[tokio::test]
async fn model_edits_round_trip_on_postgres() {
    run_series(Dialect::Postgres).await;
}

#[tokio::test]
async fn model_edits_round_trip_on_mariadb() {
    run_series(Dialect::Mysql).await;
}

/// Constraints and the less common types: primary key, unique, check and default
/// changes, a foreign key dropped again (MariaDB's own index for it goes too).
const CONSTRAINT_STEPS: &[&str] = &[
    "tables:
  a:
    columns:
      id: {type: integer, primary_key: true}
      x: integer
      y: string(10)
  b:
    columns:
      id: {type: integer, nullable: false}
      k: {type: integer, nullable: false}
",
    "tables:
  a:
    columns:
      id: {type: integer, primary_key: true}
      x: {type: integer, default: 5}
      y: string(10)
      u: uuid
      j: json
      bin: bytes
      d: {type: date}
      t: time
      f: float
      g: {type: double, default: 1.5}
      tz: {type: timestamptz, default: now}
      s: {type: smallint, default: -3}
      label: {type: string(20), default: \"it's\"}
    unique_constraints:
      - {columns: [x, y]}
    checks:
      - {name: ck_a_x, expr: x > 0}
  b:
    columns:
      id: {type: integer, nullable: false}
      k: {type: integer, nullable: false}
    primary_key: [id, k]
",
    "tables:
  a:
    columns:
      id: {type: integer, primary_key: true}
      x: {type: integer, default: 5}
      y: string(10)
      u: uuid
      j: json
      bin: bytes
      d: {type: date}
      t: time
      f: float
      g: {type: double, default: 1.5}
      tz: {type: timestamptz, default: now}
      s: {type: smallint, default: -3}
      label: {type: string(20), default: \"it's\"}
    unique_constraints:
      - {columns: [x, y]}
    checks:
      - {name: ck_a_x, expr: x > 0}
  b:
    columns:
      id: {type: integer, nullable: false}
      k: {type: integer, nullable: false}
    primary_key: [id, k]
    foreign_keys:
      - {columns: [k], references: a(id), on_delete: cascade, on_update: restrict}
",
    "tables:
  a:
    columns:
      id: {type: integer, primary_key: true}
      x: {type: integer, default: 5}
      y: string(10)
      u: uuid
      j: json
      bin: bytes
      d: {type: date}
      t: time
      f: float
      g: {type: double, default: 1.5}
      tz: {type: timestamptz, default: now}
      s: {type: smallint, default: -3}
      label: {type: string(20), default: \"it's\"}
    unique_constraints:
      - {columns: [x, y]}
    checks:
      - {name: ck_a_x, expr: x > 0}
  b:
    columns:
      id: {type: integer, nullable: false}
      k: {type: integer, nullable: false}
    primary_key: [id, k]
    indexes:
      - {name: ix_b_k, columns: [k]}
    foreign_keys:
      - {columns: [k], references: a(id), on_delete: cascade, on_update: restrict}
",
    "tables:
  a:
    columns:
      id: {type: integer, primary_key: true}
      x: {type: integer}
      y: string(10)
      u: uuid
      j: json
      bin: bytes
      d: {type: date}
      t: time
      f: float
      g: {type: double, default: 2}
      tz: {type: timestamptz, default: now}
      s: {type: smallint, default: -3}
      label: {type: string(20), default: \"it's\"}
  b:
    columns:
      id: {type: integer, nullable: false}
      k: {type: integer, nullable: false}
    primary_key: [id]
",
];

async fn run_constraints(dialect: Dialect) {
    let Some(fresh) = Fresh::new(dialect) else {
        return;
    };
    let mut live = fresh.connect().await;
    let mut previous = Schema::default();
    for (i, text) in CONSTRAINT_STEPS.iter().enumerate() {
        let target = model(text);
        let m = render_migration(dialect, &live.introspect().await, &target);
        assert!(!m.is_empty(), "{dialect}, step {i}: no change found");
        live.exec(&m.upgrade).await;
        assert_matches(&mut live, dialect, &target, &format!("after step {i}")).await;
        live.exec(&m.downgrade).await;
        assert_matches(
            &mut live,
            dialect,
            &previous,
            &format!("after undoing step {i}"),
        )
        .await;
        live.exec(&m.upgrade).await;
        assert_matches(
            &mut live,
            dialect,
            &target,
            &format!("after redoing step {i}"),
        )
        .await;
        previous = target;
    }
}

#[tokio::test]
async fn constraint_edits_round_trip_on_sqlite() {
    run_constraints(Dialect::Sqlite).await;
}

#[tokio::test]
async fn constraint_edits_round_trip_on_postgres() {
    run_constraints(Dialect::Postgres).await;
}

#[tokio::test]
async fn constraint_edits_round_trip_on_mariadb() {
    run_constraints(Dialect::Mysql).await;
}
