//! One table of `models.yaml`: columns, keys, indexes, constraints.

use std::collections::{BTreeMap, BTreeSet};

use serde_yaml_ng::Value;

use crate::core::Dialect;

use super::column::{parse_default, parse_identity};
use super::index::parse_index;
use super::load::{at, check_identifier, key, Located, OwnedSeg, Parser, PathBufSegs};
use super::{
    conventional_name, CheckConstraint, Column, ColumnType, FkAction, ForeignKey, Table,
    UniqueConstraint,
};

const TABLE_KEYS: &[&str] = &[
    "schema",
    "comment",
    "columns",
    "primary_key",
    "indexes",
    "unique_constraints",
    "foreign_keys",
    "checks",
];
const COLUMN_KEYS: &[&str] = &[
    "comment",
    "type",
    "nullable",
    "default",
    "primary_key",
    "autoincrement",
    "unique",
    "on_update",
    "identity",
];

pub(super) fn parse_table(
    p: &mut Parser<'_>,
    tname: &str,
    value: &Value,
    t_at: &[OwnedSeg],
    fks: &mut Vec<Located>,
    index_names: &mut BTreeMap<String, String>,
) -> Option<Table> {
    let entries = p.mapping(value, t_at, &format!("table '{tname}'"), TABLE_KEYS)?;
    let get = |k: &str| entries.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
    // `schema: billing` (PostgreSQL): the table is `billing.<name>` everywhere after.
    let qualified = match get("schema") {
        None | Some(Value::Null) => tname.to_owned(),
        Some(Value::String(sch)) if sch == "public" => tname.to_owned(),
        Some(Value::String(sch)) => {
            let here = at(t_at, &[key("schema")]);
            if let Err(why) = check_identifier(sch) {
                p.error(&here, format!("the schema of table '{tname}' {why}"));
                return None;
            }
            p.rule(
                &here,
                &[Dialect::Postgres],
                format!("table '{tname}' is in schema '{sch}', which only PostgreSQL has here"),
            );
            format!("{sch}.{tname}")
        }
        Some(_) => {
            let here = at(t_at, &[key("schema")]);
            p.error(
                &here,
                format!("the schema of table '{tname}' must be a name"),
            );
            return None;
        }
    };
    let mut table = Table {
        name: qualified.clone(),
        ..Table::default()
    };
    let mut names_used: BTreeSet<String> = BTreeSet::new();
    let mut claim = |p: &mut Parser<'_>, name: &str, here: &[OwnedSeg], global: bool| {
        let dup_table = !names_used.insert(name.to_owned());
        let dup_global = global
            && index_names
                .insert(name.to_owned(), tname.to_owned())
                .is_some_and(|other| other != tname);
        if dup_table || dup_global {
            p.error(here, format!("duplicate constraint or index name '{name}'"));
            return false;
        }
        true
    };
    table.comment = text_prop(
        p,
        get("comment"),
        &at(t_at, &[key("comment")]),
        &format!("table '{tname}'"),
    );
    // Columns first: everything else refers to them.
    let cols_at = at(t_at, &[key("columns")]);
    let mut col_unique: Vec<(String, PathBufSegs)> = Vec::new();
    match get("columns") {
        None => p.error(t_at, format!("table '{tname}' has no columns")),
        Some(cols) => {
            let list = p.mapping(cols, &cols_at, &format!("columns of '{tname}'"), &[])?;
            for (cname, cvalue) in list {
                let c_at = at(&cols_at, &[key(&cname)]);
                if let Err(why) = check_identifier(&cname) {
                    p.error(&c_at, format!("column name {why}"));
                    continue;
                }
                let what = format!("column {tname}.{cname}");
                let repaired = repair_flow_type(cvalue);
                let cvalue = &repaired;
                let props = match cvalue {
                    // `email: string(255)` is short for `email: {type: string(255)}`.
                    Value::String(_) => vec![("type".to_owned(), cvalue)],
                    _ => match p.mapping(cvalue, &c_at, &what, COLUMN_KEYS) {
                        Some(v) => v,
                        None => continue,
                    },
                };
                let prop = |k: &str| props.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
                let ty = match prop("type") {
                    None => {
                        p.error(&c_at, format!("{what} has no type"));
                        continue;
                    }
                    Some(t) => match t.as_str().and_then(ColumnType::parse) {
                        Some(ty) => ty,
                        None => {
                            let shown = match t {
                                Value::String(s) => s.clone(),
                                other => serde_yaml_ng::to_string(other)
                                    .unwrap_or_default()
                                    .trim()
                                    .to_owned(),
                            };
                            let msg = if shown.trim().to_ascii_lowercase().starts_with("enum(") {
                                format!(
                                    "bad enum type '{shown}' for {what}: values must be \
                                     non-empty, distinct, at most 63 characters, \
                                     comma-separated (quote one with a comma: 'a, b')"
                                )
                            } else {
                                format!(
                                    "unknown type '{shown}' for {what} (known: smallint, integer, \
                                     bigint, boolean, text, string(n), numeric(p,s), float, double, \
                                     date, time, timestamp, timestamptz, uuid, json, bytes, \
                                     enum(a, b, ...))"
                                )
                            };
                            p.error(&at(&c_at, &[key("type")]), msg);
                            continue;
                        }
                    },
                };
                let flag = |p: &mut Parser<'_>, k: &str, dflt: bool| match prop(k) {
                    None => dflt,
                    Some(Value::Bool(b)) => *b,
                    Some(_) => {
                        p.error(
                            &at(&c_at, &[key(k)]),
                            format!("{k} of {what} must be true or false"),
                        );
                        dflt
                    }
                };
                let is_pk = flag(p, "primary_key", false);
                let identity = prop("identity")
                    .and_then(|v| parse_identity(p, v, &at(&c_at, &[key("identity")]), &what));
                if identity.is_some() && prop("autoincrement") == Some(&Value::Bool(false)) {
                    p.error(
                        &at(&c_at, &[key("autoincrement")]),
                        format!("{what} has an identity, which is autoincrement"),
                    );
                }
                let autoincrement = identity.is_some() || flag(p, "autoincrement", false);
                let on_update_now = match prop("on_update") {
                    None | Some(Value::Null) => false,
                    Some(Value::String(s))
                        if matches!(
                            s.trim().to_ascii_lowercase().as_str(),
                            "now" | "now()" | "current_timestamp"
                        ) && matches!(ty, ColumnType::Timestamp | ColumnType::TimestampTz) =>
                    {
                        p.rule(
                            &at(&c_at, &[key("on_update")]),
                            &[Dialect::Mysql],
                            format!(
                                "{what} has on_update: now, which only MariaDB has \
                                 (ON UPDATE CURRENT_TIMESTAMP; elsewhere use a trigger)"
                            ),
                        );
                        true
                    }
                    Some(_) => {
                        p.error(
                            &at(&c_at, &[key("on_update")]),
                            format!(
                                "on_update of {what} must be now, on a timestamp or \
                                 timestamptz column"
                            ),
                        );
                        false
                    }
                };
                let unique = flag(p, "unique", false);
                let nullable = flag(p, "nullable", !is_pk);
                if is_pk && nullable {
                    p.error(
                        &at(&c_at, &[key("nullable")]),
                        format!("{what} is part of the primary key and can't be nullable"),
                    );
                }
                let default = match prop("default") {
                    None | Some(Value::Null) => None,
                    Some(v) => match parse_default(v, &ty) {
                        Ok(d) => Some(d),
                        Err(why) => {
                            p.error(
                                &at(&c_at, &[key("default")]),
                                format!("default of {what} {why}"),
                            );
                            None
                        }
                    },
                };
                if autoincrement && !ty.is_integer() {
                    p.error(
                        &at(&c_at, &[key("autoincrement")]),
                        format!("{what} is autoincrement but its type {ty} is not an integer type"),
                    );
                }
                if autoincrement && default.is_some() {
                    p.error(
                        &at(&c_at, &[key("default")]),
                        format!("{what} is autoincrement and can't have a default"),
                    );
                }
                let comment = text_prop(p, prop("comment"), &at(&c_at, &[key("comment")]), &what);
                if is_pk {
                    table.primary_key.push(cname.clone());
                }
                if unique {
                    col_unique.push((cname.clone(), at(&c_at, &[key("unique")])));
                }
                table.columns.push(Column {
                    name: cname,
                    ty,
                    nullable,
                    default,
                    autoincrement,
                    comment,
                    on_update_now,
                    identity,
                });
            }
        }
    }
    // The `columns` of an index, unique constraint or foreign key: present, a list of
    // names (read at `names_at`), each a column of the table once; `None` after reporting.
    let item_cols = |p: &mut Parser<'_>,
                     t: &Table,
                     columns: Option<&Value>,
                     names_at: &[OwnedSeg],
                     here: &[OwnedSeg],
                     what: &str,
                     list: &str|
     -> Option<Vec<String>> {
        let Some(value) = columns else {
            p.error(here, format!("{what} of table '{}' has no columns", t.name));
            return None;
        };
        let cols = p.names(value, names_at, list)?;
        check_columns(p, t, &cols, here, what).then_some(cols)
    };
    if let Some(pk) = get("primary_key") {
        let here = at(t_at, &[key("primary_key")]);
        if !table.primary_key.is_empty() {
            p.error(
                &here,
                format!(
                    "table '{tname}' declares its primary key both on columns and as primary_key"
                ),
            );
        } else if let Some(cols) = p.names(pk, &here, "primary_key") {
            if check_columns(p, &table, &cols, &here, "primary_key") {
                for c in &mut table.columns {
                    if cols.contains(&c.name) {
                        c.nullable = false;
                    }
                }
                table.primary_key = cols;
            }
        }
    }
    let autos: Vec<&Column> = table.columns.iter().filter(|c| c.autoincrement).collect();
    if let Some(auto) = autos.first() {
        if autos.len() > 1 || table.primary_key != [auto.name.clone()] {
            let here = at(&cols_at, &[key(&auto.name)]);
            let msg = format!(
                "column {tname}.{} is autoincrement, which needs it to be the table's only \
                 primary-key column",
                auto.name
            );
            p.error(&here, msg);
        }
    }
    for (cname, here) in col_unique {
        let name = conventional_name("uq", tname, std::slice::from_ref(&cname));
        if claim(p, &name, &here, false) {
            table.uniques.push(UniqueConstraint {
                name,
                columns: vec![cname],
            });
        }
    }
    let list_items = |p: &mut Parser<'_>, k: &str| -> Vec<(PathBufSegs, Value)> {
        let Some(v) = get(k) else { return Vec::new() };
        let here = at(t_at, &[key(k)]);
        match v {
            Value::Sequence(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| (at(&here, &[OwnedSeg::Index(i)]), item.clone()))
                .collect(),
            Value::Null => Vec::new(),
            _ => {
                p.error(&here, format!("{k} of table '{tname}' must be a list"));
                Vec::new()
            }
        }
    };
    for (here, item) in list_items(p, "indexes") {
        let Some(index) = parse_index(p, &table, &item, &here) else {
            continue;
        };
        if claim(p, &index.name, &here, true) {
            table.indexes.push(index);
        }
    }
    for (here, item) in list_items(p, "unique_constraints") {
        let Some(props) = p.mapping(&item, &here, "a unique constraint", &["name", "columns"])
        else {
            continue;
        };
        let prop = |k: &str| props.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
        let Some(cols) = item_cols(
            p,
            &table,
            prop("columns"),
            &here,
            &here,
            "a unique constraint",
            "unique columns",
        ) else {
            continue;
        };
        let name = match prop("name").and_then(Value::as_str) {
            Some(s) => s.to_owned(),
            None => conventional_name("uq", tname, &cols),
        };
        if claim(p, &name, &here, true) {
            table.uniques.push(UniqueConstraint {
                name,
                columns: cols,
            });
        }
    }
    for (here, item) in list_items(p, "foreign_keys") {
        let Some(props) = p.mapping(
            &item,
            &here,
            "a foreign key",
            &["name", "columns", "references", "on_delete", "on_update"],
        ) else {
            continue;
        };
        let prop = |k: &str| props.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
        let Some(cols) = item_cols(
            p,
            &table,
            prop("columns"),
            &here,
            &here,
            "a foreign key",
            "foreign key columns",
        ) else {
            continue;
        };
        let Some((ref_table, ref_columns)) = prop("references")
            .and_then(Value::as_str)
            .and_then(parse_reference)
        else {
            p.error(
                &here,
                format!("a foreign key of table '{tname}' needs references: table(column, ...)"),
            );
            continue;
        };
        let mut actions = [FkAction::NoAction; 2];
        for (slot, k) in actions.iter_mut().zip(["on_delete", "on_update"]) {
            if let Some(v) = prop(k) {
                match v.as_str().and_then(FkAction::parse) {
                    Some(a) => *slot = a,
                    None => p.error(
                        &at(&here, &[key(k)]),
                        format!("{k} must be one of: cascade, restrict, set null, set default, no action"),
                    ),
                }
            }
        }
        if actions.contains(&FkAction::SetNull) {
            if let Some(c) = cols
                .iter()
                .find(|c| table.column(c).is_some_and(|c| !c.nullable))
            {
                p.error(
                    &here,
                    format!("a foreign key of table '{tname}' sets column '{c}' to NULL, but the column is not nullable"),
                );
                continue;
            }
        }
        let name = match prop("name").and_then(Value::as_str) {
            Some(s) => s.to_owned(),
            None => conventional_name("fk", tname, &[cols.join("_"), ref_table.replace('.', "_")]),
        };
        if !claim(p, &name, &here, true) {
            continue;
        }
        let given = !ref_columns.is_empty();
        fks.push(Located {
            table: qualified.clone(),
            path: here,
            ref_columns_given: given,
            fk: ForeignKey {
                name,
                columns: cols,
                ref_table,
                ref_columns,
                on_delete: actions[0],
                on_update: actions[1],
            },
        });
    }
    for (i, (here, item)) in list_items(p, "checks").into_iter().enumerate() {
        let Some(props) = p.mapping(&item, &here, "a check constraint", &["name", "expr"]) else {
            continue;
        };
        let prop = |k: &str| props.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
        let Some(expr) = prop("expr").and_then(Value::as_str) else {
            p.error(
                &here,
                format!("a check constraint of table '{tname}' needs expr: SQL"),
            );
            continue;
        };
        if let Err(e) = crate::sql::normalize::check_expr(expr) {
            p.error(
                &at(&here, &[key("expr")]),
                format!("the expr of a check constraint of table '{tname}' {e}"),
            );
            continue;
        }
        let name = match prop("name").and_then(Value::as_str) {
            Some(s) => s.to_owned(),
            None => format!("ck_{tname}_{}", i + 1),
        };
        if claim(p, &name, &here, true) {
            table.checks.push(CheckConstraint {
                name,
                expr: expr.to_owned(),
            });
        }
    }
    Some(table)
}

/// Each of `cols` is a column of `t`, once; reports the others.
pub(super) fn check_columns(
    p: &mut Parser<'_>,
    t: &Table,
    cols: &[String],
    here: &[OwnedSeg],
    what: &str,
) -> bool {
    let mut ok = true;
    let mut seen = BTreeSet::new();
    for c in cols {
        if t.column(c).is_none() {
            p.error(
                here,
                format!(
                    "{what} names column '{c}', which is not in table '{}'",
                    t.name
                ),
            );
            ok = false;
        } else if !seen.insert(c) {
            p.error(here, format!("{what} names column '{c}' twice"));
            ok = false;
        }
    }
    ok
}

/// A text property (a comment): a string, at most 1024 characters.
fn text_prop(
    p: &mut Parser<'_>,
    v: Option<&Value>,
    here: &[OwnedSeg],
    what: &str,
) -> Option<String> {
    match v {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.chars().count() <= 1024 => Some(s.clone()),
        Some(Value::String(_)) => {
            p.error(
                here,
                format!("the comment of {what} is longer than 1024 characters"),
            );
            None
        }
        Some(_) => {
            p.error(here, format!("the comment of {what} must be text"));
            None
        }
    }
}

/// `{type: numeric(10,2)}` is split by YAML at the comma into `type: numeric(10` and a
/// key `2)` (`{type: enum(a, b, c)}` into three); put the pieces back together.
fn repair_flow_type(v: &Value) -> Value {
    let Value::Mapping(map) = v else {
        return v.clone();
    };
    let Some(Value::String(ty)) = map.get("type") else {
        return v.clone();
    };
    if !ty.contains('(') || ty.contains(')') {
        return v.clone();
    }
    // The keys after `type` with no value, up to the one that closes the parenthesis
    // (`enum(a, b, c)` leaves `b` and `c)`).
    let mut parts: Vec<String> = Vec::new();
    let mut seen_type = false;
    for (k, val) in map {
        if k.as_str() == Some("type") {
            seen_type = true;
            continue;
        }
        if !seen_type {
            continue;
        }
        match (k.as_str(), val) {
            (Some(k), Value::Null) if !k.contains('(') => {
                parts.push(k.to_owned());
                if k.ends_with(')') {
                    break;
                }
            }
            _ => return v.clone(),
        }
    }
    if !parts.last().is_some_and(|p| p.ends_with(')')) {
        return v.clone();
    }
    let mut out = map.clone();
    for p in &parts {
        out.remove(p.as_str());
    }
    out.insert(
        Value::from("type"),
        Value::from(format!("{ty},{}", parts.join(","))),
    );
    Value::Mapping(out)
}

/// `users(id)` → (`users`, [`id`]); `users` → (`users`, []) meaning its primary key;
/// a table of another schema is `billing.invoices(id)`.
fn parse_reference(text: &str) -> Option<(String, Vec<String>)> {
    let text = text.trim();
    let table_ok = |t: &str| {
        let parts: Vec<&str> = t.split('.').collect();
        parts.len() <= 2 && parts.iter().all(|p| check_identifier(p).is_ok())
    };
    match text.split_once('(') {
        None => table_ok(text).then(|| (text.to_owned(), Vec::new())),
        Some((t, rest)) => {
            let inner = rest.strip_suffix(')')?;
            let cols: Vec<String> = inner.split(',').map(|c| c.trim().to_owned()).collect();
            if cols.iter().any(|c| c.is_empty()) || !table_ok(t.trim()) {
                return None;
            }
            Some((t.trim().to_owned(), cols))
        }
    }
}
