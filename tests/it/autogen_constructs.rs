//! The constructs Alembic's autogenerate misses (check expressions, partial and
//! expression indexes, comments), each added, changed and removed on every backend
//! that has it: rendered, applied, read back and compared with the model, undone and
//! redone; then drift made by hand is found and removed.

use std::path::Path;

use migrate::core::Dialect;
use migrate::schema::model::parse_models;
use migrate::schema::{diff, render_migration, Schema};

use super::autogen_support::{Fresh, Live};

/// One model edit; `skip` lists the backends that don't have the construct.
pub(super) struct Step {
    pub what: &'static str,
    pub skip: &'static [Dialect],
    /// What the diff reports, one line per change (on backends that keep it all).
    pub expect: &'static [&'static str],
    pub model: &'static str,
}

const NO_MARIADB: &[Dialect] = &[Dialect::Mysql];

const STEPS: &[Step] = &[
    Step {
        what: "a table with a check",
        skip: &[],
        expect: &["added table 't'"],
        model: "tables:
  t:
    columns:
      id: {type: integer, primary_key: true}
      email: {type: string(100), nullable: false}
      score: integer
      status: string(10)
      deleted_at: timestamp
    checks:
      - {name: ck_t_score, expr: score >= 0}
      - {name: ck_t_status, expr: \"status IN ('new', 'done')\"}
",
    },
    Step {
        what: "check expressions changed under the same names",
        skip: &[],
        expect: &[
            "removed check constraint 'ck_t_score' on 't'",
            "removed check constraint 'ck_t_status' on 't'",
            "added check constraint 'ck_t_score' on 't'",
            "added check constraint 'ck_t_status' on 't'",
        ],
        model: "tables:
  t:
    columns:
      id: {type: integer, primary_key: true}
      email: {type: string(100), nullable: false}
      score: integer
      status: string(10)
      deleted_at: timestamp
    checks:
      - {name: ck_t_score, expr: score BETWEEN 0 AND 100}
      - {name: ck_t_status, expr: \"status IN ('new', 'done', 'gone')\"}
",
    },
    Step {
        what: "a partial index",
        skip: NO_MARIADB,
        expect: &["added index 'ix_t_live' on t(email) where deleted_at IS NULL"],
        model: "tables:
  t:
    columns:
      id: {type: integer, primary_key: true}
      email: {type: string(100), nullable: false}
      score: integer
      status: string(10)
      deleted_at: timestamp
    indexes:
      - {name: ix_t_live, columns: [email], where: deleted_at IS NULL}
    checks:
      - {name: ck_t_score, expr: score BETWEEN 0 AND 100}
      - {name: ck_t_status, expr: \"status IN ('new', 'done', 'gone')\"}
",
    },
    Step {
        what: "the partial index's condition changed",
        skip: NO_MARIADB,
        expect: &[
            "removed index 'ix_t_live' on 't'",
            "added index 'ix_t_live' on t(email) where deleted_at IS NULL AND score > 0",
        ],
        model: "tables:
  t:
    columns:
      id: {type: integer, primary_key: true}
      email: {type: string(100), nullable: false}
      score: integer
      status: string(10)
      deleted_at: timestamp
    indexes:
      - {name: ix_t_live, columns: [email], where: deleted_at IS NULL AND score > 0}
    checks:
      - {name: ck_t_score, expr: score BETWEEN 0 AND 100}
      - {name: ck_t_status, expr: \"status IN ('new', 'done', 'gone')\"}
",
    },
    Step {
        what: "an expression index",
        skip: NO_MARIADB,
        expect: &["added unique index 'ux_t_lower_email' on t(lower(email))"],
        model: "tables:
  t:
    columns:
      id: {type: integer, primary_key: true}
      email: {type: string(100), nullable: false}
      score: integer
      status: string(10)
      deleted_at: timestamp
    indexes:
      - {name: ix_t_live, columns: [email], where: deleted_at IS NULL AND score > 0}
      - {name: ux_t_lower_email, expressions: [lower(email)], unique: true}
    checks:
      - {name: ck_t_score, expr: score BETWEEN 0 AND 100}
      - {name: ck_t_status, expr: \"status IN ('new', 'done', 'gone')\"}
",
    },
    Step {
        what: "the expression index's key changed",
        skip: NO_MARIADB,
        expect: &[
            "removed index 'ux_t_lower_email' on 't'",
            "added unique index 'ux_t_lower_email' on t(lower(email), id)",
        ],
        model: "tables:
  t:
    columns:
      id: {type: integer, primary_key: true}
      email: {type: string(100), nullable: false}
      score: integer
      status: string(10)
      deleted_at: timestamp
    indexes:
      - {name: ix_t_live, columns: [email], where: deleted_at IS NULL AND score > 0}
      - {name: ux_t_lower_email, expressions: [lower(email), id], unique: true}
    checks:
      - {name: ck_t_score, expr: score BETWEEN 0 AND 100}
      - {name: ck_t_status, expr: \"status IN ('new', 'done', 'gone')\"}
",
    },
    Step {
        what: "both indexes removed",
        skip: NO_MARIADB,
        expect: &[
            "removed index 'ix_t_live' on 't'",
            "removed index 'ux_t_lower_email' on 't'",
        ],
        model: "tables:
  t:
    columns:
      id: {type: integer, primary_key: true}
      email: {type: string(100), nullable: false}
      score: integer
      status: string(10)
      deleted_at: timestamp
    checks:
      - {name: ck_t_score, expr: score BETWEEN 0 AND 100}
      - {name: ck_t_status, expr: \"status IN ('new', 'done', 'gone')\"}
",
    },
    Step {
        what: "comments on the table and a column",
        skip: &[Dialect::Sqlite],
        expect: &[
            "altered column 't.email': comment -> \"where we write\"",
            "changed comment of table 't' to \"Things, one a row\"",
        ],
        model: "tables:
  t:
    comment: Things, one a row
    columns:
      id: {type: integer, primary_key: true}
      email: {type: string(100), nullable: false, comment: where we write}
      score: integer
      status: string(10)
      deleted_at: timestamp
    checks:
      - {name: ck_t_score, expr: score BETWEEN 0 AND 100}
      - {name: ck_t_status, expr: \"status IN ('new', 'done', 'gone')\"}
",
    },
    Step {
        what: "a comment changed, one removed",
        skip: &[Dialect::Sqlite],
        expect: &[
            "altered column 't.email': comment -> \"it's where we write\"",
            "removed comment of table 't'",
        ],
        model: "tables:
  t:
    columns:
      id: {type: integer, primary_key: true}
      email: {type: string(100), nullable: false, comment: it's where we write}
      score: integer
      status: string(10)
      deleted_at: timestamp
    checks:
      - {name: ck_t_score, expr: score BETWEEN 0 AND 100}
      - {name: ck_t_status, expr: \"status IN ('new', 'done', 'gone')\"}
",
    },
];

const ENUM_STEPS: &[Step] = &[
    Step {
        what: "an enum column",
        skip: &[],
        expect: &["added table 'e'"],
        model: "tables:
  e:
    columns:
      id: {type: integer, primary_key: true}
      status: {type: \"enum(new, done)\", nullable: false, default: new}
",
    },
    Step {
        what: "a value added in the middle",
        skip: &[],
        expect: &["altered column 'e.status': type enum(new, done) -> enum(new, doing, done)"],
        model: "tables:
  e:
    columns:
      id: {type: integer, primary_key: true}
      status: {type: \"enum(new, doing, done)\", nullable: false, default: new}
",
    },
    Step {
        what: "a value removed",
        skip: &[],
        expect: &["altered column 'e.status': type enum(new, doing, done) -> enum(new, doing)"],
        model: "tables:
  e:
    columns:
      id: {type: integer, primary_key: true}
      status: {type: \"enum(new, doing)\", nullable: false, default: new}
",
    },
    Step {
        what: "an enum column added, the first made text",
        skip: &[],
        expect: &[
            "altered column 'e.status': type enum(new, doing) -> string(10)",
            "added column 'e.kind' (enum(a, 'b c'))",
        ],
        model: "tables:
  e:
    columns:
      id: {type: integer, primary_key: true}
      status: {type: string(10), nullable: false, default: new}
      kind: {type: \"enum(a, 'b c')\"}
",
    },
];

const VIEW_STEPS: &[Step] = &[
    Step {
        what: "a table and two views, one reading the other",
        skip: &[],
        expect: &[
            "added table 'u'",
            "added view 'active_count'",
            "added view 'active_users'",
        ],
        model: "tables:
  u:
    columns:
      id: {type: integer, primary_key: true}
      email: string(100)
      active: {type: boolean, nullable: false, default: true}
views:
  active_users: {sql: \"SELECT id, email FROM u WHERE active = TRUE\"}
  active_count: {sql: \"SELECT count(*) AS n FROM active_users\"}
",
    },
    Step {
        what: "a view's query changed",
        skip: &[],
        expect: &["removed view 'active_users'", "added view 'active_users'"],
        model: "tables:
  u:
    columns:
      id: {type: integer, primary_key: true}
      email: string(100)
      active: {type: boolean, nullable: false, default: true}
views:
  active_users: {sql: \"SELECT id, email FROM u WHERE active = TRUE AND email IS NOT NULL\"}
  active_count: {sql: \"SELECT count(*) AS n FROM active_users\"}
",
    },
    Step {
        what: "a column the views read changes type",
        skip: &[],
        expect: &["altered column 'u.email': type string(100) -> string(200)"],
        model: "tables:
  u:
    columns:
      id: {type: integer, primary_key: true}
      email: string(200)
      active: {type: boolean, nullable: false, default: true}
views:
  active_users: {sql: \"SELECT id, email FROM u WHERE active = TRUE AND email IS NOT NULL\"}
  active_count: {sql: \"SELECT count(*) AS n FROM active_users\"}
",
    },
    Step {
        what: "the views removed",
        skip: &[],
        expect: &["removed view 'active_count'", "removed view 'active_users'"],
        model: "tables:
  u:
    columns:
      id: {type: integer, primary_key: true}
      email: string(200)
      active: {type: boolean, nullable: false, default: true}
",
    },
];

pub(super) fn model(text: &str) -> Schema {
    parse_models(text, Path::new("models.yaml")).expect("the step's model is valid")
}

pub(super) fn changes(from: &Schema, to: &Schema, dialect: Dialect) -> Vec<String> {
    diff(&from.normalized_for(dialect), &to.normalized_for(dialect))
        .changes
        .iter()
        .map(ToString::to_string)
        .collect()
}

pub(super) async fn assert_matches(
    live: &mut Live,
    dialect: Dialect,
    expected: &Schema,
    when: &str,
) {
    let got = live.introspect().await;
    let found = changes(&got, expected, dialect);
    assert!(
        found.is_empty(),
        "{dialect}, {when}: database differs from the model: {found:#?}"
    );
}

/// Applies each step, checks what was found, undoes and redoes it; the last model
/// applied is returned.
pub(super) async fn steps(live: &mut Live, dialect: Dialect, steps: &[Step]) -> &'static str {
    steps_after(live, dialect, "", steps).await
}

/// [`steps`] on a database that has the model `previous_text` (empty: nothing).
pub(super) async fn steps_after(
    live: &mut Live,
    dialect: Dialect,
    previous_text: &'static str,
    steps: &[Step],
) -> &'static str {
    let mut previous = if previous_text.is_empty() {
        Schema::default()
    } else {
        model(previous_text)
    };
    let mut last_text = previous_text;
    for step in steps {
        if step.skip.contains(&dialect) {
            continue;
        }
        let what = step.what;
        let target = model(step.model);
        let db = live.introspect().await;
        let m = render_migration(dialect, &db, &target);
        let found: Vec<String> = m.changes.iter().map(ToString::to_string).collect();
        assert_eq!(found, step.expect, "{dialect}, {what}");
        live.exec(&m.upgrade).await;
        assert_matches(live, dialect, &target, &format!("after '{what}'")).await;

        let again = render_migration(dialect, &live.introspect().await, &target);
        assert!(
            again.is_empty(),
            "{dialect}, {what}: again {:?}",
            again.changes
        );
        live.exec(&m.downgrade).await;
        assert_matches(live, dialect, &previous, &format!("after undoing '{what}'")).await;
        live.exec(&m.upgrade).await;
        assert_matches(live, dialect, &target, &format!("after redoing '{what}'")).await;
        if step.what == "an enum column" {
            live.exec("INSERT INTO e (id) VALUES (1)").await;
        }
        previous = target;
        last_text = step.model;
    }
    last_text
}

async fn run(dialect: Dialect) {
    let Some(fresh) = Fresh::new(dialect) else {
        return;
    };
    let mut live = fresh.connect().await;
    let last_text = steps(&mut live, dialect, STEPS).await;
    // The check's new expression is enforced: the database has it, not the old one.
    live.exec("INSERT INTO t (id, email, score, status) VALUES (1, 'a', 100, 'gone')")
        .await;
    // Drift made by hand: a check's expression edited under its name.
    let target = model(last_text);
    let hand = match dialect {
        Dialect::Sqlite => None,
        Dialect::Postgres => Some(
            "ALTER TABLE t DROP CONSTRAINT ck_t_score; \
             ALTER TABLE t ADD CONSTRAINT ck_t_score CHECK (score BETWEEN 0 AND 1000)",
        ),
        Dialect::Mysql => Some(
            "ALTER TABLE t DROP CONSTRAINT ck_t_score; \
             ALTER TABLE t ADD CONSTRAINT ck_t_score CHECK (score BETWEEN 0 AND 1000)",
        ),
    };
    if let Some(sql) = hand {
        live.exec(sql).await;
        let found = changes(&live.introspect().await, &target, dialect);
        assert_eq!(
            found,
            [
                "removed check constraint 'ck_t_score' on 't'",
                "added check constraint 'ck_t_score' on 't'"
            ],
            "{dialect}: drift"
        );
        let m = render_migration(dialect, &live.introspect().await, &target);
        live.exec(&m.upgrade).await;
        assert_matches(&mut live, dialect, &target, "after removing drift").await;
    }
}

#[tokio::test]
async fn constructs_round_trip_on_sqlite() {
    run(Dialect::Sqlite).await;
}

#[tokio::test]
async fn constructs_round_trip_on_postgres() {
    run(Dialect::Postgres).await;
}

#[tokio::test]
async fn constructs_round_trip_on_mariadb() {
    run(Dialect::Mysql).await;
}

async fn run_enums(dialect: Dialect) {
    let Some(fresh) = Fresh::new(dialect) else {
        return;
    };
    let mut live = fresh.connect().await;
    steps(&mut live, dialect, ENUM_STEPS).await;
    // The row written with the default kept its value through every change.
    assert_eq!(live.strings("SELECT status FROM e").await, ["new"]);
}

#[tokio::test]
async fn enums_round_trip_on_sqlite() {
    run_enums(Dialect::Sqlite).await;
}

#[tokio::test]
async fn enums_round_trip_on_postgres() {
    run_enums(Dialect::Postgres).await;
}

#[tokio::test]
async fn enums_round_trip_on_mariadb() {
    run_enums(Dialect::Mysql).await;
}

async fn run_views(dialect: Dialect) {
    let Some(fresh) = Fresh::new(dialect) else {
        return;
    };
    let mut live = fresh.connect().await;
    steps(&mut live, dialect, &VIEW_STEPS[..3]).await;
    live.exec("INSERT INTO u (id, email) VALUES (1, 'a@x'), (2, NULL)")
        .await;
    assert_eq!(
        live.count("SELECT n FROM active_count").await,
        1,
        "{dialect}"
    );
    // Drift made by hand: a view redefined is found, and put back.
    let target = model(VIEW_STEPS[2].model);
    live.exec("DROP VIEW active_count; CREATE VIEW active_count AS SELECT count(*) AS n FROM u")
        .await;
    let found = changes(&live.introspect().await, &target, dialect);
    assert_eq!(
        found,
        ["removed view 'active_count'", "added view 'active_count'"],
        "{dialect}"
    );
    let m = render_migration(dialect, &live.introspect().await, &target);
    live.exec(&m.upgrade).await;
    assert_matches(&mut live, dialect, &target, "after removing drift").await;
    assert_eq!(
        live.count("SELECT n FROM active_count").await,
        1,
        "{dialect}"
    );
}

#[tokio::test]
async fn views_round_trip_on_sqlite() {
    run_views(Dialect::Sqlite).await;
}

#[tokio::test]
async fn views_round_trip_on_postgres() {
    run_views(Dialect::Postgres).await;
}

#[tokio::test]
async fn views_round_trip_on_mariadb() {
    run_views(Dialect::Mysql).await;
}
