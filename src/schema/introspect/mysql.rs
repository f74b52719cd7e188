//! MariaDB/MySQL: `information_schema`, five set-wide queries for `DATABASE()`.
//!
//! MariaDB stores `JSON` as `LONGTEXT` with a column check `json_valid(col)`; that pair
//! reads back as `json`. An index MariaDB made by itself for a foreign key carries the
//! key's name and is left out, as the model never declares it.

use std::collections::BTreeMap;

use sqlx::{MySqlConnection, Row};

use super::{err, finish, portable_type, IntrospectError, IntrospectOptions};
use crate::core::Dialect;
use crate::schema::model::{
    CheckConstraint, Column, ColumnType, DefaultValue, FkAction, ForeignKey, Index, KeyPart,
    Schema, Table, View,
};

const D: Dialect = Dialect::Mysql;

/// Reads every base table of the connection's database except the tool's own.
pub async fn introspect(
    conn: &mut MySqlConnection,
    opts: &IntrospectOptions,
) -> Result<Schema, IntrospectError> {
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    let rows = sqlx::query(
        "SELECT CAST(c.TABLE_NAME AS CHAR), CAST(c.COLUMN_NAME AS CHAR), \
                CAST(c.COLUMN_TYPE AS CHAR), CAST(c.IS_NULLABLE AS CHAR), \
                CAST(c.COLUMN_DEFAULT AS CHAR), CAST(c.EXTRA AS CHAR), \
                CAST(c.COLUMN_COMMENT AS CHAR), CAST(t.TABLE_COMMENT AS CHAR) \
         FROM information_schema.COLUMNS c \
         JOIN information_schema.TABLES t \
           ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME \
         WHERE c.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE' \
         ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(err(D, "columns"))?;
    for r in rows {
        let e = || err(D, "columns");
        let tname: String = r.try_get(0).map_err(e())?;
        if opts.ignored(&tname) {
            continue;
        }
        let cname: String = r.try_get(1).map_err(e())?;
        let ty: String = r.try_get(2).map_err(e())?;
        let nullable: String = r.try_get(3).map_err(e())?;
        let default: Option<String> = r.try_get(4).map_err(e())?;
        let extra: String = r.try_get(5).map_err(e())?;
        let comment: Option<String> = r.try_get(6).map_err(e())?;
        let table_comment: Option<String> = r.try_get(7).map_err(e())?;
        let some = |c: Option<String>| c.filter(|c| !c.is_empty());
        let autoincrement = extra.to_ascii_lowercase().contains("auto_increment");
        let table = tables.entry(tname.clone()).or_insert_with(|| Table {
            name: tname,
            comment: some(table_comment),
            ..Table::default()
        });
        table.columns.push(Column {
            name: cname,
            ty: portable_type(D, &ty),
            nullable: nullable.eq_ignore_ascii_case("YES"),
            default: if autoincrement {
                None
            } else {
                default.map(DefaultValue::Expr)
            },
            autoincrement,
            comment: some(comment),
            on_update_now: extra
                .to_ascii_lowercase()
                .contains("on update current_timestamp"),
            identity: None,
        });
    }
    let fk_rows = sqlx::query(
        "SELECT CAST(k.TABLE_NAME AS CHAR), CAST(k.CONSTRAINT_NAME AS CHAR), \
                CAST(k.COLUMN_NAME AS CHAR), CAST(k.REFERENCED_TABLE_NAME AS CHAR), \
                CAST(k.REFERENCED_COLUMN_NAME AS CHAR), CAST(r.DELETE_RULE AS CHAR), \
                CAST(r.UPDATE_RULE AS CHAR) \
         FROM information_schema.KEY_COLUMN_USAGE k \
         JOIN information_schema.REFERENTIAL_CONSTRAINTS r \
           ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME \
          AND r.TABLE_NAME = k.TABLE_NAME \
         WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL \
         ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(err(D, "foreign keys"))?;
    let mut fks: BTreeMap<(String, String), ForeignKey> = BTreeMap::new();
    for r in fk_rows {
        let e = || err(D, "foreign keys");
        let tname: String = r.try_get(0).map_err(e())?;
        let name: String = r.try_get(1).map_err(e())?;
        let col: String = r.try_get(2).map_err(e())?;
        let ref_table: String = r.try_get(3).map_err(e())?;
        let ref_col: String = r.try_get(4).map_err(e())?;
        let on_delete: String = r.try_get(5).map_err(e())?;
        let on_update: String = r.try_get(6).map_err(e())?;
        let k = fks
            .entry((tname, name.clone()))
            .or_insert_with(|| ForeignKey {
                name,
                columns: Vec::new(),
                ref_table,
                ref_columns: Vec::new(),
                on_delete: FkAction::parse(&on_delete).unwrap_or_default(),
                on_update: FkAction::parse(&on_update).unwrap_or_default(),
            });
        k.columns.push(col);
        k.ref_columns.push(ref_col);
    }
    let stats = sqlx::query(
        "SELECT CAST(TABLE_NAME AS CHAR), CAST(INDEX_NAME AS CHAR), CAST(NON_UNIQUE AS SIGNED), \
                CAST(COLUMN_NAME AS CHAR), CAST(SUB_PART AS SIGNED), CAST(COLLATION AS CHAR) \
         FROM information_schema.STATISTICS \
         WHERE TABLE_SCHEMA = DATABASE() \
         ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(err(D, "indexes"))?;
    // (table, index) → (unique, columns with their key parts; None for an expression index)
    type IndexRows = BTreeMap<(String, String), (bool, Option<Vec<(String, KeyPart)>>)>;
    let mut indexes: IndexRows = BTreeMap::new();
    for r in stats {
        let e = || err(D, "indexes");
        let tname: String = r.try_get(0).map_err(e())?;
        let name: String = r.try_get(1).map_err(e())?;
        let non_unique: i64 = r.try_get(2).map_err(e())?;
        let col: Option<String> = r.try_get(3).map_err(e())?;
        let sub_part: Option<i64> = r.try_get(4).map_err(e())?;
        let collation: Option<String> = r.try_get(5).map_err(e())?;
        let part = KeyPart {
            desc: collation.as_deref() == Some("D"),
            nulls: None,
            length: sub_part.and_then(|l| u32::try_from(l).ok()),
        };
        let entry = indexes
            .entry((tname, name))
            .or_insert_with(|| (non_unique == 0, Some(Vec::new())));
        match (col, &mut entry.1) {
            (Some(c), Some(cols)) => cols.push((c, part)),
            _ => entry.1 = None, // an expression: not expressible in the model
        }
    }
    for ((tname, name), (unique, cols)) in indexes {
        let Some(table) = tables.get_mut(&tname) else {
            continue;
        };
        let Some(cols) = cols else { continue };
        let (columns, mut parts): (Vec<String>, Vec<KeyPart>) = cols.into_iter().unzip();
        if parts.iter().all(|p| *p == KeyPart::default()) {
            parts.clear();
        }
        if name == "PRIMARY" {
            table.primary_key = columns;
            continue;
        }
        if fks.contains_key(&(tname.clone(), name.clone())) {
            continue;
        }
        table.indexes.push(Index {
            name,
            columns,
            unique,
            parts,
            ..Index::default()
        });
    }
    for ((tname, _), k) in fks {
        if let Some(table) = tables.get_mut(&tname) {
            table.foreign_keys.push(k);
        }
    }
    let checks = sqlx::query(
        "SELECT CAST(TABLE_NAME AS CHAR), CAST(CONSTRAINT_NAME AS CHAR), \
                CAST(CHECK_CLAUSE AS CHAR), CAST(LEVEL AS CHAR) \
         FROM information_schema.CHECK_CONSTRAINTS \
         WHERE CONSTRAINT_SCHEMA = DATABASE() ORDER BY TABLE_NAME, CONSTRAINT_NAME",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(err(D, "check constraints"))?;
    for r in checks {
        let e = || err(D, "check constraints");
        let tname: String = r.try_get(0).map_err(e())?;
        let name: String = r.try_get(1).map_err(e())?;
        let clause: String = r.try_get(2).map_err(e())?;
        let level: String = r.try_get(3).map_err(e())?;
        let Some(table) = tables.get_mut(&tname) else {
            continue;
        };
        if level.eq_ignore_ascii_case("column") {
            let json_check = format!("json_valid(`{name}`)");
            if clause.trim().eq_ignore_ascii_case(&json_check) {
                if let Some(col) = table.columns.iter_mut().find(|c| c.name == name) {
                    if matches!(col.ty, ColumnType::Text) {
                        col.ty = ColumnType::Json;
                        continue;
                    }
                }
            }
        }
        table.checks.push(CheckConstraint { name, expr: clause });
    }
    let view_rows = sqlx::query(
        "SELECT CAST(TABLE_NAME AS CHAR), CAST(VIEW_DEFINITION AS CHAR) \
         FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(err(D, "views"))?;
    let mut views = BTreeMap::new();
    for r in view_rows {
        let name: String = r.try_get(0).map_err(err(D, "views"))?;
        let sql: Option<String> = r.try_get(1).map_err(err(D, "views"))?;
        let sql = sql.unwrap_or_default().trim().to_owned();
        views.insert(name.clone(), View { name, sql });
    }
    Ok(finish(Schema {
        tables,
        views,
        ..Schema::default()
    }))
}
