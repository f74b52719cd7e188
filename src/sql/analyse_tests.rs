use proptest::prelude::*;

use super::analyse::{analyse, Action, ObjectKind, Touch};
use crate::core::Dialect;

/// The touches of a one-statement script, as `(kind, name, table, action)` strings.
fn touched(dialect: Dialect, sql: &str) -> Vec<String> {
    let script = analyse(dialect, sql);
    assert_eq!(script.statements.len(), 1, "{sql}");
    let st = &script.statements[0];
    assert!(st.parsed.is_ok(), "{sql}: {:?}", st.parsed);
    st.touches.iter().map(show).collect()
}

fn show(t: &Touch) -> String {
    let action = match &t.action {
        Action::Rename { to } => format!("rename->{to}"),
        other => format!("{other:?}").to_lowercase(),
    };
    let kind = format!("{:?}", t.object.kind).to_lowercase();
    match &t.object.table {
        Some(table) => format!("{action} {kind} {table}.{}", t.object.name),
        None => format!("{action} {kind} {}", t.object.name),
    }
}

#[test]
fn create_table_lists_columns_constraints_and_references() {
    let got = touched(
        Dialect::Postgres,
        "CREATE TABLE App.\"Orders\" (id serial PRIMARY KEY, user_id int REFERENCES users(id), \
         Total numeric CHECK (total > 0), CONSTRAINT uq UNIQUE (user_id, total), \
         FOREIGN KEY (id) REFERENCES public.other (id))",
    );
    assert_eq!(
        got,
        [
            "create table app.Orders",
            "create column app.Orders.id",
            "create constraint app.Orders.primary key(id)",
            "create column app.Orders.user_id",
            "create constraint app.Orders.foreign key(user_id)",
            "references table users",
            "create column app.Orders.total",
            "create constraint app.Orders.check(total)",
            "create constraint app.Orders.uq",
            "create constraint app.Orders.foreign key(id)",
            "references table public.other",
        ]
    );
}

#[test]
fn alter_table_operations() {
    let got = touched(
        Dialect::Postgres,
        "ALTER TABLE t ADD COLUMN c int NOT NULL, DROP COLUMN d, ALTER COLUMN e TYPE bigint, \
         ADD CONSTRAINT fk FOREIGN KEY (c) REFERENCES u (id) NOT VALID, DROP CONSTRAINT old",
    );
    assert_eq!(
        got,
        [
            "alter table t",
            "create column t.c",
            "drop column t.d",
            "alter column t.e",
            "create constraint t.fk",
            "references table u",
            "drop constraint t.old",
        ]
    );
}

#[test]
fn renames_of_tables_columns_and_indexes() {
    assert_eq!(
        touched(Dialect::Postgres, "ALTER TABLE t RENAME COLUMN a TO \"B\""),
        ["alter table t", "rename->B column t.a"]
    );
    assert_eq!(
        touched(Dialect::Postgres, "ALTER TABLE t RENAME TO u"),
        ["alter table t", "rename->u table t"]
    );
    assert_eq!(
        touched(Dialect::Mysql, "RENAME TABLE a TO b, c TO d"),
        ["rename->b table a", "rename->d table c"]
    );
    assert_eq!(
        touched(Dialect::Postgres, "ALTER INDEX i RENAME TO j"),
        ["rename->j index i"]
    );
    assert_eq!(
        touched(Dialect::Mysql, "ALTER TABLE t CHANGE COLUMN a b INT"),
        ["alter table t", "rename->b column t.a"]
    );
    assert_eq!(
        touched(Dialect::Sqlite, "ALTER TABLE t RENAME COLUMN a TO b"),
        ["alter table t", "rename->b column t.a"]
    );
}

#[test]
fn indexes_name_their_table() {
    assert_eq!(
        touched(
            Dialect::Postgres,
            "CREATE UNIQUE INDEX CONCURRENTLY ix ON s.t (a, lower(b))"
        ),
        ["create index s.t.ix", "alter table s.t"]
    );
    assert_eq!(
        touched(Dialect::Sqlite, "CREATE INDEX ix ON t (a)"),
        ["create index t.ix", "alter table t"]
    );
    assert_eq!(
        touched(Dialect::Postgres, "DROP INDEX ix"),
        ["drop index ix"]
    );
    assert_eq!(
        touched(Dialect::Mysql, "DROP INDEX ix ON t"),
        ["drop index t.ix", "alter table t"]
    );
    assert_eq!(
        touched(Dialect::Mysql, "ALTER TABLE t ADD INDEX ix (a(10))"),
        ["alter table t", "create index t.ix"]
    );
}

#[test]
fn views_sequences_types_schemas() {
    assert_eq!(
        touched(
            Dialect::Postgres,
            "CREATE VIEW v AS SELECT * FROM a JOIN b ON a.id = b.id"
        ),
        ["create view v", "reads table a", "reads table b"]
    );
    assert_eq!(
        touched(Dialect::Postgres, "DROP VIEW v, w"),
        ["drop view v", "drop view w"]
    );
    assert_eq!(
        touched(Dialect::Postgres, "CREATE SEQUENCE s START 1"),
        ["create sequence s"]
    );
    assert_eq!(
        touched(Dialect::Postgres, "DROP SEQUENCE s"),
        ["drop sequence s"]
    );
    assert_eq!(
        touched(Dialect::Postgres, "CREATE TYPE mood AS ENUM ('a', 'b')"),
        ["create type mood"]
    );
    assert_eq!(
        touched(Dialect::Postgres, "ALTER TYPE mood ADD VALUE 'c'"),
        ["alter type mood"]
    );
    assert_eq!(
        touched(Dialect::Postgres, "DROP TYPE mood"),
        ["drop type mood"]
    );
    assert_eq!(
        touched(Dialect::Postgres, "CREATE SCHEMA s"),
        ["create schema s"]
    );
}

#[test]
fn data_changes() {
    assert_eq!(
        touched(Dialect::Postgres, "INSERT INTO t (a) SELECT x FROM u"),
        ["insert table t", "reads table u"]
    );
    assert_eq!(
        touched(
            Dialect::Postgres,
            "UPDATE t SET a = 1 FROM u WHERE t.id = u.id"
        ),
        ["update table t", "reads table u"]
    );
    assert_eq!(
        touched(Dialect::Mysql, "DELETE FROM t WHERE a = 1"),
        ["delete table t"]
    );
    assert_eq!(
        touched(Dialect::Postgres, "TRUNCATE a, b"),
        ["delete table a", "delete table b"]
    );
    assert_eq!(
        touched(Dialect::Sqlite, "DROP TABLE IF EXISTS `T`"),
        ["drop table T"]
    );
}

#[test]
fn each_dialect_reads_its_own_syntax() {
    // MySQL backticks and ALGORITHM, SQLite's AUTOINCREMENT, PostgreSQL's dollar quotes.
    assert_eq!(
        touched(
            Dialect::Mysql,
            "ALTER TABLE `Users` ADD COLUMN `Age` INT, ALGORITHM=INSTANT"
        ),
        ["alter table Users", "create column Users.Age"]
    );
    assert_eq!(
        touched(
            Dialect::Sqlite,
            "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT)"
        ),
        [
            "create table t",
            "create column t.id",
            "create constraint t.primary key(id)"
        ]
    );
    let pg = analyse(
        Dialect::Postgres,
        "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\nSELECT 1",
    );
    assert_eq!(pg.statements.len(), 2);
    assert!(
        pg.statements[0].parsed.is_ok(),
        "{:?}",
        pg.statements[0].parsed
    );
    assert_eq!(
        pg.statements[0].touches[0].object.kind,
        ObjectKind::Function
    );
    // Backticks are not PostgreSQL.
    let bad = analyse(Dialect::Postgres, "CREATE TABLE `t` (a int)");
    assert!(bad.statements[0].parsed.is_err());
}

#[test]
fn unreadable_statements_keep_the_error_and_touch_nothing() {
    let script = analyse(
        Dialect::Postgres,
        "CREATE TABLE a (x int);\nCREATE TABEL b (y int);\nDROP TABLE a",
    );
    let st = &script.statements;
    assert_eq!(st.len(), 3);
    assert!(st[0].parsed.is_ok());
    let err = st[1].parsed.as_ref().expect_err("misspelt keyword");
    assert!(err.contains("TABEL") || err.contains("Expected"), "{err}");
    assert!(st[1].touches.is_empty());
    assert_eq!((st[1].number, st[1].line), (2, 2));
    assert_eq!(st[2].touches[0].action, Action::Drop);
}

#[test]
fn lines_skip_leading_comments() {
    let script = analyse(
        Dialect::Postgres,
        "CREATE TABLE a (x int);\n\n-- why\n-- migrate:allow x\nCREATE INDEX i\n  ON a (x);",
    );
    let st = &script.statements[1];
    assert_eq!((st.first_line, st.line, st.last_line), (3, 5, 6));
    assert_eq!(st.excerpt, "CREATE INDEX i ON a (x)");
    let comments = st.comments(Dialect::Postgres);
    assert_eq!(comments, [(3, "-- why"), (4, "-- migrate:allow x")]);
}

#[test]
fn comments_inside_strings_are_not_comments() {
    let c = super::analyse::comments_in("SELECT '-- no', $$ -- no $$ -- yes", Dialect::Postgres);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].1, "-- yes");
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let sql = format!("SELECT {}1{}", "(".repeat(10_000), ")".repeat(10_000));
    for dialect in Dialect::ALL {
        let script = analyse(dialect, &sql);
        assert!(script.statements[0].parsed.is_err(), "{dialect}");
    }
    let sql = format!(
        "CREATE TABLE t (a int CHECK ({}1{}))",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    assert!(analyse(Dialect::Postgres, &sql).statements[0]
        .parsed
        .is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn analyse_never_panics(sql in "\\PC{0,200}") {
        for dialect in Dialect::ALL {
            let _ = analyse(dialect, &sql);
        }
    }

    #[test]
    fn analyse_never_panics_on_sql_like_input(
        words in proptest::collection::vec(
            prop_oneof![
                Just("CREATE"), Just("TABLE"), Just("INDEX"), Just("ALTER"), Just("DROP"),
                Just("("), Just(")"), Just(","), Just(";"), Just("'"), Just("\""), Just("`"),
                Just("$$"), Just("--"), Just("/*"), Just("*/"), Just("\n"), Just("t"),
                Just("ON"), Just("ADD"), Just("COLUMN"), Just("int"), Just("BEGIN"),
                Just("END"), Just("RENAME"), Just("TO"), Just("REFERENCES"), Just("SELECT"),
            ],
            0..40,
        )
    ) {
        let sql = words.join(" ");
        for dialect in Dialect::ALL {
            let script = analyse(dialect, &sql);
            for st in &script.statements {
                prop_assert!(st.line >= st.first_line && st.last_line >= st.line);
                if st.parsed.is_err() {
                    prop_assert!(st.touches.is_empty());
                }
            }
        }
    }
}
