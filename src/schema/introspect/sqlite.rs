//! SQLite: `sqlite_master` and the table-valued pragmas.
//!
//! SQLite keeps the declared type text as written, so types map back exactly; it
//! keeps no names for foreign keys and check constraints are only in the table's
//! SQL, from which their names are read.

use std::collections::BTreeMap;

use sqlx::{Row, SqliteConnection};

use super::{err, finish, portable_type, IntrospectError, IntrospectOptions};
use crate::core::Dialect;
use crate::schema::model::{
    conventional_name, CheckConstraint, Column, ColumnType, DefaultValue, FkAction, ForeignKey,
    Index, KeyPart, Schema, Table, UniqueConstraint, View,
};
use crate::sql::normalize::{column_value_lists, index_parts, view_query};

const D: Dialect = Dialect::Sqlite;

/// Reads every table of the main database except the tool's own.
pub async fn introspect(
    conn: &mut SqliteConnection,
    opts: &IntrospectOptions,
) -> Result<Schema, IntrospectError> {
    let tables = sqlx::query(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(err(D, "tables"))?;
    let mut schema = Schema::default();
    let mut raw_fks: Vec<(String, Vec<FkRow>)> = Vec::new();
    for row in tables {
        let name: String = row.try_get(0).map_err(err(D, "tables"))?;
        let sql: Option<String> = row.try_get(1).map_err(err(D, "tables"))?;
        if opts.ignored(&name) {
            continue;
        }
        let sql = sql.unwrap_or_default();
        let mut table = Table {
            name: name.clone(),
            ..Table::default()
        };
        let cols = sqlx::query(
            "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid",
        )
        .bind(&name)
        .fetch_all(&mut *conn)
        .await
        .map_err(err(D, "columns"))?;
        let mut pk: Vec<(i64, String)> = Vec::new();
        for c in cols {
            let cname: String = c.try_get(0).map_err(err(D, "columns"))?;
            let ty: String = c.try_get(1).map_err(err(D, "columns"))?;
            let notnull: i64 = c.try_get(2).map_err(err(D, "columns"))?;
            let dflt: Option<String> = c.try_get(3).map_err(err(D, "columns"))?;
            let pk_pos: i64 = c.try_get(4).map_err(err(D, "columns"))?;
            if pk_pos > 0 {
                pk.push((pk_pos, cname.clone()));
            }
            table.columns.push(Column {
                name: cname,
                ty: portable_type(D, &ty),
                nullable: notnull == 0,
                default: dflt.map(DefaultValue::Expr),
                autoincrement: false,
                comment: None,
                on_update_now: false,
                identity: None,
            });
        }
        pk.sort();
        table.primary_key = pk.into_iter().map(|(_, n)| n).collect();
        // A lone `INTEGER PRIMARY KEY` is the rowid, which is never NULL, whether or
        // not NOT NULL is written (the renderer doesn't write it).
        if let [key] = table.primary_key.as_slice() {
            if let Some(c) = table.columns.iter_mut().find(|c| &c.name == key) {
                if c.ty == ColumnType::Integer {
                    c.nullable = false;
                }
            }
        }
        if table.primary_key.len() == 1 && sql.to_ascii_uppercase().contains("AUTOINCREMENT") {
            let key = table.primary_key[0].clone();
            for c in &mut table.columns {
                if c.name == key {
                    c.autoincrement = true;
                }
            }
        }
        let indexes = sqlx::query(
            "SELECT name, \"unique\", origin, partial FROM pragma_index_list(?) ORDER BY name",
        )
        .bind(&name)
        .fetch_all(&mut *conn)
        .await
        .map_err(err(D, "indexes"))?;
        for ix in indexes {
            let iname: String = ix.try_get(0).map_err(err(D, "indexes"))?;
            let unique: i64 = ix.try_get(1).map_err(err(D, "indexes"))?;
            let origin: String = ix.try_get(2).map_err(err(D, "indexes"))?;
            let partial: i64 = ix.try_get(3).map_err(err(D, "indexes"))?;
            if origin == "pk" {
                continue;
            }
            let cols = sqlx::query(
                "SELECT name, \"desc\" FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno",
            )
            .bind(&iname)
            .fetch_all(&mut *conn)
            .await
            .map_err(err(D, "index columns"))?;
            let mut columns = Vec::new();
            let mut parts = Vec::new();
            let mut has_expression = false;
            for c in cols {
                let n: Option<String> = c.try_get(0).map_err(err(D, "index columns"))?;
                let desc: i64 = c.try_get(1).map_err(err(D, "index columns"))?;
                parts.push(KeyPart {
                    desc: desc != 0,
                    ..KeyPart::default()
                });
                match n {
                    Some(n) => columns.push(n),
                    None => has_expression = true,
                }
            }
            // Expression and partial indexes: key and condition from the statement.
            let mut expressions = Vec::new();
            let mut predicate = None;
            if has_expression || partial != 0 {
                let sql: Option<String> = sqlx::query_scalar(
                    "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?",
                )
                .bind(&iname)
                .fetch_optional(&mut *conn)
                .await
                .map_err(err(D, "index definitions"))?
                .flatten();
                let Some((key, pred)) = sql.and_then(|s| index_parts(D, &s)) else {
                    continue; // unreadable: left out, as before
                };
                predicate = pred;
                if has_expression {
                    columns.clear();
                    expressions = key;
                }
            }
            if columns.is_empty() && expressions.is_empty() {
                continue;
            }
            if origin == "u" {
                table.uniques.push(UniqueConstraint {
                    name: iname,
                    columns,
                });
            } else {
                if parts.iter().all(|p| *p == KeyPart::default()) {
                    parts.clear();
                }
                table.indexes.push(Index {
                    name: iname,
                    columns,
                    unique: unique != 0,
                    expressions,
                    predicate,
                    parts,
                    ..Index::default()
                });
            }
        }
        let fks = sqlx::query(
            "SELECT id, seq, \"table\", \"from\", \"to\", on_update, on_delete \
             FROM pragma_foreign_key_list(?) ORDER BY id, seq",
        )
        .bind(&name)
        .fetch_all(&mut *conn)
        .await
        .map_err(err(D, "foreign keys"))?;
        let mut rows = Vec::new();
        for f in fks {
            rows.push(FkRow {
                id: f.try_get(0).map_err(err(D, "foreign keys"))?,
                ref_table: f.try_get(2).map_err(err(D, "foreign keys"))?,
                from: f.try_get(3).map_err(err(D, "foreign keys"))?,
                to: f.try_get(4).map_err(err(D, "foreign keys"))?,
                on_update: f.try_get(5).map_err(err(D, "foreign keys"))?,
                on_delete: f.try_get(6).map_err(err(D, "foreign keys"))?,
            });
        }
        raw_fks.push((name.clone(), rows));
        table.checks = named_checks(&sql);
        // An enum is text with a column check listing its values.
        for (col, values) in column_value_lists(D, &sql) {
            if let Some(c) = table.columns.iter_mut().find(|c| c.name == col) {
                if c.ty == ColumnType::Text {
                    c.ty = ColumnType::Enum(values);
                }
            }
        }
        schema.tables.insert(name, table);
    }
    // Foreign keys last: a key naming no columns references the other table's key.
    for (name, rows) in raw_fks {
        let mut by_id: BTreeMap<i64, Vec<FkRow>> = BTreeMap::new();
        for r in rows {
            by_id.entry(r.id).or_default().push(r);
        }
        let mut keys = Vec::new();
        for (_, parts) in by_id {
            let Some(first) = parts.first() else { continue };
            let columns: Vec<String> = parts.iter().map(|p| p.from.clone()).collect();
            let ref_columns: Vec<String> = if parts.iter().all(|p| p.to.is_some()) {
                parts.iter().filter_map(|p| p.to.clone()).collect()
            } else {
                schema
                    .tables
                    .get(&first.ref_table)
                    .map(|t| t.primary_key.clone())
                    .unwrap_or_default()
            };
            keys.push(ForeignKey {
                name: conventional_name("fk", &name, &[columns.join("_"), first.ref_table.clone()]),
                columns,
                ref_table: first.ref_table.clone(),
                ref_columns,
                on_delete: FkAction::parse(&first.on_delete).unwrap_or_default(),
                on_update: FkAction::parse(&first.on_update).unwrap_or_default(),
            });
        }
        if let Some(t) = schema.tables.get_mut(&name) {
            t.foreign_keys = keys;
        }
    }
    let view_rows =
        sqlx::query("SELECT name, sql FROM sqlite_master WHERE type = 'view' ORDER BY name")
            .fetch_all(&mut *conn)
            .await
            .map_err(err(D, "views"))?;
    for r in view_rows {
        let name: String = r.try_get(0).map_err(err(D, "views"))?;
        let sql: Option<String> = r.try_get(1).map_err(err(D, "views"))?;
        let sql = sql.and_then(|s| view_query(D, &s)).unwrap_or_default();
        schema.views.insert(name.clone(), View { name, sql });
    }
    Ok(finish(schema))
}

struct FkRow {
    id: i64,
    ref_table: String,
    from: String,
    to: Option<String>,
    on_update: String,
    on_delete: String,
}

/// `CONSTRAINT name CHECK (expr)` clauses of a `CREATE TABLE` statement.
fn named_checks(sql: &str) -> Vec<CheckConstraint> {
    let mut out = Vec::new();
    let upper = sql.to_ascii_uppercase();
    let mut from = 0;
    while let Some(pos) = upper[from..].find("CONSTRAINT") {
        let start = from + pos + "CONSTRAINT".len();
        from = start;
        let rest = sql[start..].trim_start();
        let (name, after) = match rest.chars().next() {
            Some(q @ ('"' | '`' | '[')) => {
                let close = if q == '[' { ']' } else { q };
                let Some(end) = rest[1..].find(close) else {
                    break;
                };
                (rest[1..1 + end].to_owned(), &rest[end + 2..])
            }
            _ => {
                let end = rest
                    .find(|c: char| c.is_whitespace() || c == '(')
                    .unwrap_or(rest.len());
                (rest[..end].to_owned(), &rest[end..])
            }
        };
        let after = after.trim_start();
        if !after.to_ascii_uppercase().starts_with("CHECK") {
            continue;
        }
        let body = after[5..].trim_start();
        if !body.starts_with('(') {
            continue;
        }
        let mut depth = 0;
        let mut end = None;
        let mut in_str = false;
        for (i, c) in body.char_indices() {
            match c {
                '\'' => in_str = !in_str,
                '(' if !in_str => depth += 1,
                ')' if !in_str => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(i);
                        break;
                    }
                }
                _ => {}
            }
        }
        if let Some(end) = end {
            out.push(CheckConstraint {
                name,
                expr: body[1..end].trim().to_owned(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_names_come_from_the_table_sql() {
        let sql = "CREATE TABLE \"t\" (\n    \"a\" INTEGER,\n    CONSTRAINT \"uq\" UNIQUE (\"a\"),\n    CONSTRAINT \"ck_a\" CHECK (a > (0) AND a < ')'),\n    CONSTRAINT ck2 CHECK(a <> 5)\n)";
        let checks = named_checks(sql);
        assert_eq!(checks.len(), 2);
        assert_eq!(checks[0].name, "ck_a");
        assert_eq!(checks[0].expr, "a > (0) AND a < ')'");
        assert_eq!(checks[1].name, "ck2");
    }
}
