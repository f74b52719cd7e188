//! PostgreSQL: `pg_catalog`, four set-wide queries for the current schema.

use std::collections::{BTreeMap, HashMap};

use sqlx::{PgConnection, Row};

use super::{check_body, err, finish, portable_type, IntrospectError, IntrospectOptions};
use crate::core::Dialect;
use crate::schema::model::{
    enum_type_name, CheckConstraint, Column, ColumnType, DefaultValue, FkAction, ForeignKey,
    Identity, Index, KeyPart, NullsOrder, Schema, Sequence, Table, UniqueConstraint, View,
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

/// Reads every ordinary or partitioned table of `current_schema()` and of the schemas
/// `opts` names (as `schema.table`), except the tool's own.
pub async fn introspect(
    conn: &mut PgConnection,
    opts: &IntrospectOptions,
) -> Result<Schema, IntrospectError> {
    // Enum types of the schema, by name, values in order.
    let enum_rows = sqlx::query(
        "SELECT CASE WHEN n.nspname = current_schema() THEN t.typname::text \
                ELSE n.nspname::text || '.' || t.typname::text END, \
                array_agg(e.enumlabel::text ORDER BY e.enumsortorder) \
         FROM pg_type t \
         JOIN pg_namespace n ON n.oid = t.typnamespace \
         JOIN pg_enum e ON e.enumtypid = t.oid \
         WHERE (n.nspname = current_schema() OR n.nspname = ANY($1)) \
         GROUP BY n.nspname, t.typname",
    )
    .bind(&opts.schemas)
    .fetch_all(&mut *conn)
    .await
    .map_err(err(D, "enum types"))?;
    let mut enums: HashMap<String, Vec<String>> = HashMap::new();
    for r in enum_rows {
        let name: String = r.try_get(0).map_err(err(D, "enum types"))?;
        let values: Vec<String> = r.try_get(1).map_err(err(D, "enum types"))?;
        enums.insert(name, values);
    }
    let cols = sqlx::query(
        "SELECT c.oid::int8, CASE WHEN n.nspname = current_schema() THEN c.relname::text \
                ELSE n.nspname::text || '.' || c.relname::text END, a.attname::text, a.attnum, \
                format_type(a.atttypid, a.atttypmod), a.attnotnull, \
                pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, \
                col_description(c.oid, a.attnum), obj_description(c.oid, 'pg_class'), \
                sq.seqstart, sq.seqincrement \
         FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         LEFT JOIN (SELECT dep.refobjid, dep.refobjsubid, s.seqstart, s.seqincrement \
                    FROM pg_depend dep JOIN pg_sequence s ON s.seqrelid = dep.objid \
                    WHERE dep.deptype = 'i' AND dep.classid = 'pg_class'::regclass) sq \
                ON sq.refobjid = c.oid AND sq.refobjsubid = a.attnum \
         WHERE (n.nspname = current_schema() OR n.nspname = ANY($1)) AND c.relkind IN ('r', 'p') \
         ORDER BY c.oid, a.attnum",
    )
    .bind(&opts.schemas)
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
        let comment: Option<String> = r.try_get(8).map_err(err(D, "columns"))?;
        let table_comment: Option<String> = r.try_get(9).map_err(err(D, "columns"))?;
        let seq_start: Option<i64> = r.try_get(10).map_err(err(D, "columns"))?;
        let seq_increment: Option<i64> = r.try_get(11).map_err(err(D, "columns"))?;
        let identity_opts = (!identity.is_empty()).then(|| Identity {
            always: identity == "a",
            start: seq_start.unwrap_or(1),
            increment: seq_increment.unwrap_or(1),
        });
        let serial = default
            .as_deref()
            .is_some_and(|d| d.starts_with("nextval("));
        let autoincrement = !identity.is_empty() || serial;
        names.insert(oid, tname.clone());
        let tname_for_enum = tname.clone();
        attnames.insert((oid, attnum), cname.clone());
        let table = tables.entry(tname.clone()).or_insert_with(|| Table {
            name: tname,
            comment: table_comment,
            ..Table::default()
        });
        // Only the type named after its column reads as the column's enum.
        let bare = ty.trim_matches('"');
        let col_ty = match enums.get(bare) {
            Some(values) if bare == enum_type_name(&tname_for_enum, &cname) => {
                ColumnType::Enum(values.clone())
            }
            _ => portable_type(D, &ty),
        };
        table.columns.push(Column {
            name: cname,
            ty: col_ty,
            nullable: !notnull,
            default: if autoincrement {
                None
            } else {
                default.map(DefaultValue::Expr)
            },
            autoincrement,
            comment,
            on_update_now: false,
            identity: identity_opts,
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
         WHERE (n.nspname = current_schema() OR n.nspname = ANY($1)) AND con.contype IN ('p', 'u', 'f', 'c') \
           AND con.conrelid <> 0 \
         ORDER BY con.conrelid, con.conname",
    )
    .bind(&opts.schemas)
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
    // Key parts and the predicate of expression and partial indexes as PostgreSQL
    // prints them; plain indexes by column number.
    let indexes = sqlx::query(
        "SELECT i.indrelid::int8, ic.relname::text, i.indisunique, \
                string_to_array(i.indkey::text, ' ')::int2[], i.indnkeyatts, \
                pg_get_expr(i.indpred, i.indrelid), \
                CASE WHEN i.indexprs IS NOT NULL THEN \
                  ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true) \
                        FROM generate_series(1, i.indnkeyatts) k ORDER BY k) END, \
                string_to_array(i.indoption::text, ' ')::int2[], am.amname::text \
         FROM pg_index i \
         JOIN pg_class ic ON ic.oid = i.indexrelid \
         JOIN pg_am am ON am.oid = ic.relam \
         JOIN pg_namespace n ON n.oid = ic.relnamespace \
         WHERE (n.nspname = current_schema() OR n.nspname = ANY($1)) AND NOT i.indisprimary \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint con \
                           WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid \
                             AND con.contype IN ('p', 'u', 'x')) \
         ORDER BY ic.relname",
    )
    .bind(&opts.schemas)
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
        let mut key: Vec<i16> = r.try_get(3).map_err(e())?;
        let key_atts: i16 = r.try_get(4).map_err(e())?;
        let predicate: Option<String> = r.try_get(5).map_err(e())?;
        let expressions: Option<Vec<String>> = r.try_get(6).map_err(e())?;
        let options: Vec<i16> = r.try_get(7).map_err(e())?;
        let method: String = r.try_get(8).map_err(e())?;
        let key_atts = usize::try_from(key_atts).unwrap_or(0);
        // Past the key: the INCLUDE columns.
        let Some(include) = cols_of(oid, key.get(key_atts..).unwrap_or_default()) else {
            continue;
        };
        key.truncate(key_atts);
        // indoption: bit 0 DESC, bit 1 NULLS FIRST.
        let parts: Vec<KeyPart> = options
            .iter()
            .take(key_atts)
            .map(|o| KeyPart {
                desc: o & 1 != 0,
                nulls: Some(if o & 2 != 0 {
                    NullsOrder::First
                } else {
                    NullsOrder::Last
                }),
                length: None,
            })
            .collect();
        let (columns, expressions) = match expressions {
            Some(list) => (Vec::new(), list),
            None => match cols_of(oid, &key) {
                Some(c) => (c, Vec::new()),
                None => continue,
            },
        };
        table.indexes.push(Index {
            name,
            columns,
            unique,
            expressions,
            predicate,
            parts,
            using: Some(method),
            include,
        });
    }
    let view_rows = sqlx::query(
        "SELECT c.relname::text, pg_get_viewdef(c.oid, true) \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND c.relkind = 'v' ORDER BY c.relname",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(err(D, "views"))?;
    let mut views = BTreeMap::new();
    for r in view_rows {
        let name: String = r.try_get(0).map_err(err(D, "views"))?;
        let sql: Option<String> = r.try_get(1).map_err(err(D, "views"))?;
        let sql = sql.unwrap_or_default();
        let sql = sql.trim().trim_end_matches(';').trim().to_owned();
        views.insert(name.clone(), View { name, sql });
    }
    // Standalone sequences: not those of serial or identity columns.
    let seq_rows = sqlx::query(
        "SELECT c.relname::text, s.seqstart, s.seqincrement \
         FROM pg_sequence s \
         JOIN pg_class c ON c.oid = s.seqrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() \
           AND NOT EXISTS (SELECT 1 FROM pg_depend d \
                           WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid \
                             AND d.deptype IN ('a', 'i')) \
         ORDER BY c.relname",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(err(D, "sequences"))?;
    let mut sequences = BTreeMap::new();
    for r in seq_rows {
        let e = || err(D, "sequences");
        let name: String = r.try_get(0).map_err(e())?;
        if opts.ignored(&name) {
            continue;
        }
        let start: i64 = r.try_get(1).map_err(e())?;
        let increment: i64 = r.try_get(2).map_err(e())?;
        sequences.insert(
            name.clone(),
            Sequence {
                name,
                start,
                increment,
            },
        );
    }
    Ok(finish(Schema {
        tables,
        views,
        sequences,
        ..Schema::default()
    }))
}
