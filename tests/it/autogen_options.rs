//! Index options (order, nulls, access method, included columns, prefix lengths),
//! `on_update: now`, identity columns and sequences: each added, changed and removed
//! on every backend that has it, rendered, applied, read back and compared with the
//! model, undone and redone (the steps of `autogen_constructs`); then drift made by
//! hand is found and removed.

use migrate::core::Dialect;
use migrate::schema::render_migration;

use super::autogen_constructs::{assert_matches, changes, model, steps, steps_after, Step};
use super::autogen_support::Fresh;

const TABLE: &str = "tables:
  d:
    columns:
      id: {type: integer, primary_key: true}
      name: {type: string(100), nullable: false}
      score: integer
      doc: json
";

const ALL_INDEX_STEPS: &[Step] = &[
    Step {
        what: "a table for index options",
        skip: &[],
        expect: &["added table 'd'"],
        model: TABLE,
    },
    Step {
        what: "a descending key part",
        skip: &[],
        expect: &["added index 'ix_d_score' on d(score DESC, name)"],
        model: "tables:
  d:
    columns:
      id: {type: integer, primary_key: true}
      name: {type: string(100), nullable: false}
      score: integer
      doc: json
    indexes:
      - {name: ix_d_score, columns: [{name: score, order: desc}, name]}
",
    },
    Step {
        what: "the order moved to the other key part",
        skip: &[],
        expect: &[
            "removed index 'ix_d_score' on 'd'",
            "added index 'ix_d_score' on d(score, name DESC)",
        ],
        model: "tables:
  d:
    columns:
      id: {type: integer, primary_key: true}
      name: {type: string(100), nullable: false}
      score: integer
      doc: json
    indexes:
      - name: ix_d_score
        columns: [score, {name: name, order: desc}]
",
    },
];

const NOT_PG: &[Dialect] = &[Dialect::Sqlite, Dialect::Mysql];
const NOT_MARIADB_ONLY: &[Dialect] = &[Dialect::Sqlite, Dialect::Postgres];

const PG_INDEX_STEPS: &[Step] = &[
    Step {
        what: "a table for index options",
        skip: NOT_PG,
        expect: &["added table 'd'"],
        model: TABLE,
    },
    Step {
        what: "nulls first on an ascending key",
        skip: NOT_PG,
        expect: &["added index 'ix_d_score' on d(score NULLS FIRST)"],
        model: "tables:
  d:
    columns:
      id: {type: integer, primary_key: true}
      name: {type: string(100), nullable: false}
      score: integer
      doc: json
    indexes:
      - {name: ix_d_score, columns: [{name: score, nulls: first}]}
",
    },
    Step {
        what: "gin, hash and covering indexes",
        skip: NOT_PG,
        expect: &[
            "added index 'ix_d_doc' on d(doc) using gin",
            "added index 'ix_d_h' on d(name) using hash",
            "added index 'ix_d_name_cover' on d(name) include (score)",
        ],
        model: "tables:
  d:
    columns:
      id: {type: integer, primary_key: true}
      name: {type: string(100), nullable: false}
      score: integer
      doc: json
    indexes:
      - {name: ix_d_score, columns: [{name: score, nulls: first}]}
      - {name: ix_d_doc, columns: [doc], using: gin}
      - {name: ix_d_h, columns: [name], using: hash}
      - {name: ix_d_name_cover, columns: [name], include: [score]}
",
    },
    Step {
        what: "the method and the included columns changed",
        skip: NOT_PG,
        expect: &[
            "removed index 'ix_d_h' on 'd'",
            "removed index 'ix_d_name_cover' on 'd'",
            "removed index 'ix_d_score' on 'd'",
            "added index 'ix_d_h' on d(name)",
            "added index 'ix_d_name_cover' on d(name) include (score, id)",
            "added index 'ix_d_score' on d(score DESC NULLS LAST)",
        ],
        model: "tables:
  d:
    columns:
      id: {type: integer, primary_key: true}
      name: {type: string(100), nullable: false}
      score: integer
      doc: json
    indexes:
      - {name: ix_d_score, columns: [{name: score, order: desc, nulls: last}]}
      - {name: ix_d_doc, columns: [doc], using: gin}
      - {name: ix_d_h, columns: [name], using: btree}
      - {name: ix_d_name_cover, columns: [name], include: [score, id]}
",
    },
];

const MARIADB_STEPS: &[Step] = &[
    Step {
        what: "a table with a text column",
        skip: NOT_MARIADB_ONLY,
        expect: &["added table 'd'"],
        model: "tables:
  d:
    columns:
      id: {type: integer, primary_key: true}
      name: {type: string(100), nullable: false}
      bio: text
",
    },
    Step {
        what: "a prefix index",
        skip: NOT_MARIADB_ONLY,
        expect: &["added index 'ix_d_bio' on d(bio(50), name)"],
        model: "tables:
  d:
    columns:
      id: {type: integer, primary_key: true}
      name: {type: string(100), nullable: false}
      bio: text
    indexes:
      - {name: ix_d_bio, columns: [{name: bio, length: 50}, name]}
",
    },
    Step {
        what: "the prefix length changed",
        skip: NOT_MARIADB_ONLY,
        expect: &[
            "removed index 'ix_d_bio' on 'd'",
            "added index 'ix_d_bio' on d(bio(100), name(20))",
        ],
        model: "tables:
  d:
    columns:
      id: {type: integer, primary_key: true}
      name: {type: string(100), nullable: false}
      bio: text
    indexes:
      - {name: ix_d_bio, columns: [{name: bio, length: 100}, {name: name, length: 20}]}
",
    },
    Step {
        what: "a column set on update",
        skip: NOT_MARIADB_ONLY,
        expect: &["added column 'd.updated_at' (timestamp)"],
        model: "tables:
  d:
    columns:
      id: {type: integer, primary_key: true}
      name: {type: string(100), nullable: false}
      bio: text
      updated_at: {type: timestamp, default: now, on_update: now}
    indexes:
      - {name: ix_d_bio, columns: [{name: bio, length: 100}, {name: name, length: 20}]}
",
    },
    Step {
        what: "on update removed",
        skip: NOT_MARIADB_ONLY,
        expect: &["altered column 'd.updated_at': on update now true -> false"],
        model: "tables:
  d:
    columns:
      id: {type: integer, primary_key: true}
      name: {type: string(100), nullable: false}
      bio: text
      updated_at: {type: timestamp, default: now}
    indexes:
      - {name: ix_d_bio, columns: [{name: bio, length: 100}, {name: name, length: 20}]}
",
    },
];

const IDENTITY_STEPS: &[Step] = &[
    Step {
        what: "an identity column generated always",
        skip: NOT_PG,
        expect: &["added table 's'"],
        model: "tables:
  s:
    columns:
      id: {type: bigint, primary_key: true, identity: always}
      note: text
",
    },
    Step {
        what: "the identity's options changed",
        skip: NOT_PG,
        expect: &["altered column 's.id': identity always start 1 increment 1 -> by default start 100 increment 5"],
        model: "tables:
  s:
    columns:
      id: {type: bigint, primary_key: true, identity: {generated: by_default, start: 100, increment: 5}}
      note: text
",
    },
    Step {
        what: "a sequence",
        skip: NOT_PG,
        expect: &["added sequence 'invoice_no' (start 1000, increment 1)"],
        model: "tables:
  s:
    columns:
      id: {type: bigint, primary_key: true, identity: {generated: by_default, start: 100, increment: 5}}
      note: text
sequences:
  invoice_no: {start: 1000}
",
    },
    Step {
        what: "the sequence's step changed",
        skip: NOT_PG,
        expect: &["altered sequence 'invoice_no': start 1000 -> 1000, increment 1 -> 10"],
        model: "tables:
  s:
    columns:
      id: {type: bigint, primary_key: true, identity: {generated: by_default, start: 100, increment: 5}}
      note: text
sequences:
  invoice_no: {start: 1000, increment: 10}
",
    },
    Step {
        what: "back to a plain autoincrement, the sequence removed",
        skip: NOT_PG,
        expect: &[
            "altered column 's.id': identity by default start 100 increment 5 -> by default start 1 increment 1",
            "removed sequence 'invoice_no'",
        ],
        model: "tables:
  s:
    columns:
      id: {type: bigint, primary_key: true, autoincrement: true}
      note: text
",
    },
];

/// Hand-made SQL that loses the index's order, per backend.
fn hand_drift(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Mysql => "DROP INDEX ix_d_score ON d; CREATE INDEX ix_d_score ON d (score, name)",
        _ => "DROP INDEX ix_d_score; CREATE INDEX ix_d_score ON d (score, name)",
    }
}

async fn run_index_options(dialect: Dialect) {
    let Some(fresh) = Fresh::new(dialect) else {
        return;
    };
    let mut live = fresh.connect().await;
    let last = steps(&mut live, dialect, ALL_INDEX_STEPS).await;
    let target = model(last);
    live.exec(hand_drift(dialect)).await;
    let found = changes(&live.introspect().await, &target, dialect);
    assert_eq!(
        found,
        [
            "removed index 'ix_d_score' on 'd'",
            "added index 'ix_d_score' on d(score, name DESC)"
        ],
        "{dialect}: drift"
    );
    let m = render_migration(dialect, &live.introspect().await, &target);
    live.exec(&m.upgrade).await;
    assert_matches(&mut live, dialect, &target, "after removing drift").await;
}

#[tokio::test]
async fn index_order_round_trips_on_sqlite() {
    run_index_options(Dialect::Sqlite).await;
}

#[tokio::test]
async fn index_order_round_trips_on_postgres() {
    run_index_options(Dialect::Postgres).await;
}

#[tokio::test]
async fn index_order_round_trips_on_mariadb() {
    run_index_options(Dialect::Mysql).await;
}

#[tokio::test]
async fn postgres_index_options_round_trip() {
    let Some(fresh) = Fresh::new(Dialect::Postgres) else {
        return;
    };
    let mut live = fresh.connect().await;
    let last = steps(&mut live, Dialect::Postgres, PG_INDEX_STEPS).await;
    // Drift: the covering index made by hand without its included columns.
    live.exec("DROP INDEX ix_d_name_cover; CREATE INDEX ix_d_name_cover ON d (name)")
        .await;
    let target = model(last);
    let found = changes(&live.introspect().await, &target, Dialect::Postgres);
    assert_eq!(
        found,
        [
            "removed index 'ix_d_name_cover' on 'd'",
            "added index 'ix_d_name_cover' on d(name) include (score, id)"
        ]
    );
}

#[tokio::test]
async fn mariadb_prefix_lengths_and_on_update_round_trip() {
    let Some(fresh) = Fresh::new(Dialect::Mysql) else {
        return;
    };
    let mut live = fresh.connect().await;
    let last = steps(&mut live, Dialect::Mysql, &MARIADB_STEPS[..4]).await;
    // The column is set on update: the database does it.
    live.exec(
        "INSERT INTO d (id, name, updated_at) VALUES (1, 'a', '2000-01-01 00:00:00'); \
         UPDATE d SET name = 'b' WHERE id = 1",
    )
    .await;
    assert_eq!(
        live.count("SELECT COUNT(*) FROM d WHERE updated_at > '2001-01-01'")
            .await,
        1
    );
    // Drift: ON UPDATE dropped by hand.
    live.exec("ALTER TABLE d MODIFY COLUMN updated_at DATETIME NULL DEFAULT CURRENT_TIMESTAMP")
        .await;
    let target = model(last);
    let found = changes(&live.introspect().await, &target, Dialect::Mysql);
    assert_eq!(
        found,
        ["altered column 'd.updated_at': on update now false -> true"]
    );
    let m = render_migration(Dialect::Mysql, &live.introspect().await, &target);
    live.exec(&m.upgrade).await;
    assert_matches(&mut live, Dialect::Mysql, &target, "after removing drift").await;
    steps_after(&mut live, Dialect::Mysql, last, &MARIADB_STEPS[4..]).await;
}

#[tokio::test]
async fn postgres_identity_and_sequences_round_trip() {
    let Some(fresh) = Fresh::new(Dialect::Postgres) else {
        return;
    };
    let mut live = fresh.connect().await;
    steps(&mut live, Dialect::Postgres, &IDENTITY_STEPS[..4]).await;
    // The identity steps by 5 (a changed start is the definition's: the counter of a
    // table that exists is not reset); the new sequence counts from 1000 by 10.
    live.exec("INSERT INTO s (note) VALUES ('a'), ('b')").await;
    assert_eq!(live.count("SELECT max(id) - min(id) FROM s").await, 5);
    assert_eq!(live.count("SELECT nextval('invoice_no')").await, 1000);
    assert_eq!(live.count("SELECT nextval('invoice_no')").await, 1010);
    // Drift: the sequence's step changed by hand.
    live.exec("ALTER SEQUENCE invoice_no INCREMENT BY 3").await;
    let target = model(IDENTITY_STEPS[3].model);
    let found = changes(&live.introspect().await, &target, Dialect::Postgres);
    assert_eq!(
        found,
        ["altered sequence 'invoice_no': start 1000 -> 1000, increment 3 -> 10"]
    );
    let m = render_migration(Dialect::Postgres, &live.introspect().await, &target);
    live.exec(&m.upgrade).await;
    assert_matches(
        &mut live,
        Dialect::Postgres,
        &target,
        "after removing drift",
    )
    .await;
    steps_after(
        &mut live,
        Dialect::Postgres,
        IDENTITY_STEPS[3].model,
        &IDENTITY_STEPS[4..],
    )
    .await;
}

const SCHEMA_STEPS: &[Step] = &[
    Step {
        what: "a table in another schema, referencing one in the default schema",
        skip: NOT_PG,
        expect: &["added table 'billing.invoices'", "added table 'users'"],
        model: "tables:
  users:
    columns:
      id: {type: integer, primary_key: true}
  invoices:
    schema: billing
    comment: one per bill
    columns:
      id: {type: integer, primary_key: true, autoincrement: true}
      user_id: integer
      status: {type: \"enum(open, paid)\"}
    indexes:
      - {name: ix_invoices_user, columns: [user_id]}
    foreign_keys:
      - {columns: [user_id], references: users(id)}
",
    },
    Step {
        what: "a column, an index and an enum value changed there",
        skip: NOT_PG,
        expect: &[
            "altered column 'billing.invoices.status': type enum(open, paid) -> enum(open, paid, void)",
            "added column 'billing.invoices.total' (numeric(10,2))",
            "removed index 'ix_invoices_user' on 'billing.invoices'",
            "added index 'ix_invoices_user' on billing.invoices(user_id DESC)",
        ],
        model: "tables:
  users:
    columns:
      id: {type: integer, primary_key: true}
  invoices:
    schema: billing
    comment: one per bill
    columns:
      id: {type: integer, primary_key: true, autoincrement: true}
      user_id: integer
      status: {type: \"enum(open, paid, void)\"}
      total: \"numeric(10,2)\"
    indexes:
      - {name: ix_invoices_user, columns: [{name: user_id, order: desc}]}
    foreign_keys:
      - {columns: [user_id], references: users(id)}
",
    },
    Step {
        what: "a table of the default schema referencing one of another schema",
        skip: NOT_PG,
        expect: &["added table 'payments'"],
        model: "tables:
  users:
    columns:
      id: {type: integer, primary_key: true}
  invoices:
    schema: billing
    comment: one per bill
    columns:
      id: {type: integer, primary_key: true, autoincrement: true}
      user_id: integer
      status: {type: \"enum(open, paid, void)\"}
      total: \"numeric(10,2)\"
    indexes:
      - {name: ix_invoices_user, columns: [{name: user_id, order: desc}]}
    foreign_keys:
      - {columns: [user_id], references: users(id)}
  payments:
    columns:
      id: {type: integer, primary_key: true}
      invoice_id: integer
    foreign_keys:
      - {columns: [invoice_id], references: billing.invoices(id)}
",
    },
];

#[tokio::test]
async fn postgres_tables_in_other_schemas_round_trip() {
    let Some(fresh) = Fresh::new(Dialect::Postgres) else {
        return;
    };
    let mut live = fresh.connect().await;
    let last = steps(&mut live, Dialect::Postgres, SCHEMA_STEPS).await;
    // The model's schemas are read, and nothing else: a table in a schema the model
    // doesn't name, and the tool's own tables wherever they are, are not seen.
    live.exec(
        "CREATE SCHEMA elsewhere; CREATE TABLE elsewhere.stray (id integer); \
         CREATE TABLE billing.migrate_version (version_num varchar(32))",
    )
    .await;
    let target = model(last);
    assert_matches(
        &mut live,
        Dialect::Postgres,
        &target,
        "with unrelated schemas",
    )
    .await;
    // Drift by hand in the other schema is found.
    live.exec("ALTER TABLE billing.invoices ADD COLUMN note text")
        .await;
    let found = changes(&live.introspect().await, &target, Dialect::Postgres);
    assert_eq!(found, ["removed column 'billing.invoices.note'"]);
    // On the other backends the tables have their bare names.
    for d in [Dialect::Sqlite, Dialect::Mysql] {
        let s = target.normalized_for(d);
        assert!(s.tables.contains_key("invoices"), "{d}");
        assert_eq!(s.tables["payments"].foreign_keys[0].ref_table, "invoices");
        assert!(target.check_for(d).is_err(), "{d}: schema is PostgreSQL's");
    }
}

/// A SQLite table rebuilt by a downgrade reads back as it was, compared without
/// normalising (as the stairway compares): the autoincrement key's `INTEGER PRIMARY
/// KEY` is written and read the same way, NOT NULL or not.
#[tokio::test]
async fn a_sqlite_rebuild_restores_the_key_exactly() {
    let Some(fresh) = Fresh::new(Dialect::Sqlite) else {
        return;
    };
    let mut live = fresh.connect().await;
    live.exec(
        "CREATE TABLE u (id INTEGER PRIMARY KEY AUTOINCREMENT, email VARCHAR(50) NOT NULL); \
         CREATE TABLE k (id INTEGER NOT NULL PRIMARY KEY, note TEXT)",
    )
    .await;
    let before = live.introspect().await;
    let mut target = before.clone();
    for t in ["u", "k"] {
        let t = target.tables.get_mut(t).expect("table");
        let last = t.columns.last_mut().expect("a column");
        last.ty = migrate::schema::ColumnType::String(80);
    }
    let m = render_migration(Dialect::Sqlite, &before, &target);
    assert!(m.upgrade.contains("rebuild u"), "{}", m.upgrade);
    assert!(
        m.upgrade
            .contains("\"id\" INTEGER PRIMARY KEY AUTOINCREMENT,"),
        "{}",
        m.upgrade
    );
    live.exec(&m.upgrade).await;
    live.exec(&m.downgrade).await;
    let after = live.introspect().await;
    let d = migrate::schema::diff(&before, &after);
    assert!(
        d.is_empty(),
        "the rebuild changed the tables: {:?}",
        d.changes
    );
}
