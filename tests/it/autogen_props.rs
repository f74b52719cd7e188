//! Property: for random schemas A and B on SQLite, rendering empty → A, A → B and back
//! leaves a database that introspects to exactly the schema wanted each time.

use migrate::core::Dialect;
use migrate::schema::model::{
    conventional_name, Column, ColumnType, DefaultValue, FkAction, ForeignKey, Index, Schema,
    Table, UniqueConstraint,
};
use migrate::schema::{diff, render_migration};
use proptest::prelude::*;
use sqlx::Connection;

fn column_type() -> impl Strategy<Value = ColumnType> {
    prop_oneof![
        Just(ColumnType::Integer),
        Just(ColumnType::BigInt),
        Just(ColumnType::Boolean),
        Just(ColumnType::Text),
        (1u32..50).prop_map(ColumnType::String),
        Just(ColumnType::Numeric(10, 2)),
        Just(ColumnType::Double),
        Just(ColumnType::Timestamp),
    ]
}

fn default_for(ty: &ColumnType, pick: u8) -> Option<DefaultValue> {
    if !pick.is_multiple_of(3) {
        return None;
    }
    Some(match ty {
        ColumnType::Integer | ColumnType::BigInt => DefaultValue::Int(i64::from(pick) - 100),
        ColumnType::Boolean => DefaultValue::Bool(pick.is_multiple_of(2)),
        ColumnType::Numeric(..) | ColumnType::Double => DefaultValue::Decimal("2.5".into()),
        ColumnType::Timestamp => DefaultValue::Now,
        _ => DefaultValue::Text(format!("v'{pick}")),
    })
}

/// Up to 3 tables t0..t2, each with an integer key, 1-4 more columns, maybe an index,
/// a unique constraint and a foreign key to an earlier table.
fn schema() -> impl Strategy<Value = Schema> {
    let table = (
        prop::collection::vec((column_type(), any::<bool>(), any::<u8>()), 1..5),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    );
    prop::collection::vec(table, 1..4).prop_map(|tables| {
        let mut s = Schema::default();
        for (i, (cols, with_index, with_unique, with_fk, keep)) in tables.into_iter().enumerate() {
            if !keep && i > 0 {
                continue;
            }
            let name = format!("t{i}");
            let mut t = Table {
                name: name.clone(),
                ..Table::default()
            };
            t.columns.push(Column {
                name: "id".into(),
                ty: ColumnType::Integer,
                nullable: false,
                default: None,
                autoincrement: false,
                comment: None,
                on_update_now: false,
                identity: None,
            });
            t.primary_key = vec!["id".into()];
            for (j, (ty, nullable, pick)) in cols.into_iter().enumerate() {
                t.columns.push(Column {
                    name: format!("c{j}"),
                    default: default_for(&ty, pick),
                    ty,
                    nullable,
                    autoincrement: false,
                    comment: None,
                    on_update_now: false,
                    identity: None,
                });
            }
            let c0 = vec!["c0".to_owned()];
            if with_index {
                t.indexes.push(Index {
                    name: conventional_name("ix", &name, &c0),
                    columns: c0.clone(),
                    unique: false,
                    ..Index::default()
                });
            }
            if with_unique {
                t.uniques.push(UniqueConstraint {
                    name: conventional_name("uq", &name, &c0),
                    columns: c0.clone(),
                });
            }
            if with_fk && i > 0 && s.tables.contains_key("t0") {
                t.columns.push(Column {
                    name: "parent".into(),
                    ty: ColumnType::Integer,
                    nullable: true,
                    default: None,
                    autoincrement: false,
                    comment: None,
                    on_update_now: false,
                    identity: None,
                });
                t.foreign_keys.push(ForeignKey {
                    name: conventional_name("fk", &name, &["parent".into(), "t0".into()]),
                    columns: vec!["parent".into()],
                    ref_table: "t0".into(),
                    ref_columns: vec!["id".into()],
                    on_delete: FkAction::Cascade,
                    on_update: FkAction::NoAction,
                });
            }
            s.tables.insert(name, t);
        }
        s
    })
}

async fn apply_and_read(conn: &mut sqlx::SqliteConnection, sql: &str) -> Schema {
    if !sql.is_empty() {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&mut *conn)
            .await
            .unwrap_or_else(|e| panic!("{e}\n---\n{sql}"));
    }
    migrate::schema::introspect::sqlite::introspect(conn, &Default::default())
        .await
        .expect("introspects")
}

fn same(a: &Schema, b: &Schema) -> Result<(), String> {
    let d = diff(
        &a.normalized_for(Dialect::Sqlite),
        &b.normalized_for(Dialect::Sqlite),
    );
    if d.is_empty() {
        Ok(())
    } else {
        Err(d
            .changes
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join("; "))
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn sqlite_reaches_each_schema_and_back(a in schema(), b in schema()) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let result: Result<(), String> = rt.block_on(async {
            let mut conn = sqlx::SqliteConnection::connect("sqlite::memory:").await.expect("opens");
            let up_a = render_migration(Dialect::Sqlite, &Schema::default(), &a);
            let got = apply_and_read(&mut conn, &up_a.upgrade).await;
            same(&got, &a).map_err(|e| format!("empty -> A: {e}"))?;
            let m = render_migration(Dialect::Sqlite, &got, &b);
            let got_b = apply_and_read(&mut conn, &m.upgrade).await;
            same(&got_b, &b).map_err(|e| format!("A -> B: {e}\n{}", m.upgrade))?;
            let back = apply_and_read(&mut conn, &m.downgrade).await;
            same(&back, &a).map_err(|e| format!("B -> A: {e}\n{}", m.downgrade))?;
            Ok(())
        });
        prop_assert!(result.is_ok(), "{}", result.err().unwrap_or_default());
    }
}
