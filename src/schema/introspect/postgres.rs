//! PostgreSQL: `pg_catalog`, four set-wide queries for the current schema.

use std::collections::{BTreeMap, HashMap};

use sqlx::{PgConnection, Row};

use super::{check_body, err, finish, portable_type, IntrospectError, IntrospectOptions};
use crate::core::Dialect;
use crate::schema::model::{
    CheckConstraint, Column, DefaultValue, FkAction, ForeignKey, Index, Schema, Table,
    UniqueConstraint,
};

const D: Dialect = Dialect::Postgres;

fn action(code: &str) -> FkAction {
    match code {
        "r" => FkAction::Restrict,
        "c" => FkAction::Cascade,
        "n" => FkAction::SetNull,
        "d" => FkAction::SetDefault,
        _ => FkAction::NoAction,
    }
}

/// Reads every ordinary or partitioned table of `current_schema()` except the tool's own.
pub async fn introspect(
    conn: &mut PgConnection,
    opts: &IntrospectOptions,
) -> Result<Schema, IntrospectError> {
    let cols = sqlx::query(
        "SELECT c.oid::int8, c.relname::text, a.attname::text, a.attnum, \
                format_type(a.atttypid, a.atttypmod), a.attnotnull, \
                pg_get_expr(d.adbin, d.adrelid), a.attidentity::text \
         FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') \
         ORDER BY c.oid, a.attnum",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(err(D, "columns"))?;
    // Table oid → name, and (oid, attnum) → column name.
    let mut names: HashMap<i64, String> = HashMap::new();
    let mut attnames: HashMap<(i64, i16), String> = HashMap::new();
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    for r in cols {
        let e = err(D, "columns");
        let oid: i64 = r.try_get(0).map_err(e)?;
        let tname: String = r.try_get(1).map_err(err(D, "columns"))?;
        if opts.ignored(&tname) {
            continue;
        }
        let cname: String = r.try_get(2).map_err(err(D, "columns"))?;
        let attnum: i16 = r.try_get(3).map_err(err(D, "columns"))?;
        let ty: String = r.try_get(4).map_err(err(D, "columns"))?;
        let notnull: bool = r.try_get(5).map_err(err(D, "columns"))?;
        let default: Option<String> = r.try_get(6).map_err(err(D, "columns"))?;
        let identity: String = r.try_get(7).map_err(err(D, "columns"))?;
        let serial = default
            .as_deref()
            .is_some_and(|d| d.starts_with("nextval("));
        let autoincrement = !identity.is_empty() || serial;
        names.insert(oid, tname.clone());
        attnames.insert((oid, attnum), cname.clone());
        let table = tables.entry(tname.clone()).or_insert_with(|| Table {
            name: tname,
            ..Table::default()
        });
        table.columns.push(Column {
            name: cname,
            ty: portable_type(D, &ty),
            nullable: !notnull,
            default: if autoincrement {
                None
            } else {
                default.map(DefaultValue::Expr)
            },
            autoincrement,
        });
    }
    let cols_of = |oid: i64, nums: &[i16]| -> Option<Vec<String>> {
        nums.iter()
            .map(|n| attnames.get(&(oid, *n)).cloned())
            .collect()
    };
    let cons = sqlx::query(
        "SELECT con.conrelid::int8, con.conname::text, con.contype::text, con.conkey, \
                con.confrelid::int8, con.confkey, con.confdeltype::text, con.confupdtype::text, \
                pg_get_constraintdef(con.oid) \
         FROM pg_constraint con \
         JOIN pg_namespace n ON n.oid = con.connamespace \
         WHERE n.nspname = current_schema() AND con.contype IN ('p', 'u', 'f', 'c') \
           AND con.conrelid <> 0 \
         ORDER BY con.conrelid, con.conname",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(err(D, "constraints"))?;
    for r in cons {
        let e = || err(D, "constraints");
        let oid: i64 = r.try_get(0).map_err(e())?;
        let Some(tname) = names.get(&oid) else {
            continue;
        };
        let Some(table) = tables.get_mut(tname) else {
            continue;
        };
        let name: String = r.try_get(1).map_err(e())?;
        let kind: String = r.try_get(2).map_err(e())?;
        let key: Option<Vec<i16>> = r.try_get(3).map_err(e())?;
        let Some(columns) = cols_of(oid, &key.unwrap_or_default()) else {
            continue;
        };
        match kind.as_str() {
            "p" => {
                table.primary_key = columns;
                table.primary_key_name = Some(name);
            }
            "u" => table.uniques.push(UniqueConstraint { name, columns }),
            "c" => {
                let def: String = r.try_get(8).map_err(e())?;
                table.checks.push(CheckConstraint {
                    name,
                    expr: check_body(&def),
                });
            }
            _ => {
                let ref_oid: i64 = r.try_get(4).map_err(e())?;
                let ref_key: Option<Vec<i16>> = r.try_get(5).map_err(e())?;
                let on_delete: String = r.try_get(6).map_err(e())?;
                let on_update: String = r.try_get(7).map_err(e())?;
                let (Some(ref_table), Some(ref_columns)) = (
                    names.get(&ref_oid).cloned(),
                    cols_of(ref_oid, &ref_key.unwrap_or_default()),
                ) else {
                    continue; // references a table outside the schema
                };
                table.foreign_keys.push(ForeignKey {
                    name,
                    columns,
                    ref_table,
                    ref_columns,
                    on_delete: action(&on_delete),
                    on_update: action(&on_update),
                });
            }
        }
    }
    let indexes = sqlx::query(
        "SELECT i.indrelid::int8, ic.relname::text, i.indisunique, string_to_array(i.indkey::text, ' ')::int2[], \
                (i.indexprs IS NOT NULL OR i.indpred IS NOT NULL) \
         FROM pg_index i \
         JOIN pg_class ic ON ic.oid = i.indexrelid \
         JOIN pg_namespace n ON n.oid = ic.relnamespace \
         WHERE n.nspname = current_schema() AND NOT i.indisprimary \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint con \
                           WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid \
                             AND con.contype IN ('p', 'u', 'x')) \
         ORDER BY ic.relname",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(err(D, "indexes"))?;
    for r in indexes {
        let e = || err(D, "indexes");
        let oid: i64 = r.try_get(0).map_err(e())?;
        let Some(tname) = names.get(&oid) else {
            continue;
        };
        let Some(table) = tables.get_mut(tname) else {
            continue;
        };
        let name: String = r.try_get(1).map_err(e())?;
        let unique: bool = r.try_get(2).map_err(e())?;
        let key: Vec<i16> = r.try_get(3).map_err(e())?;
        let special: bool = r.try_get(4).map_err(e())?;
        if special || key.contains(&0) {
            continue; // expression or partial index: not expressible in the model
        }
        let Some(columns) = cols_of(oid, &key) else {
            continue;
        };
        table.indexes.push(Index {
            name,
            columns,
            unique,
        });
    }
    Ok(finish(Schema { tables }))
}
