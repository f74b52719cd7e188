//! One index of a table in `models.yaml`: its key (columns or expressions), condition
//! and options.

use serde_yaml_ng::Value;

use super::load::{at, check_identifier, key, OwnedSeg, Parser};
use super::table::check_columns;
use super::{conventional_name, Index, Table};

/// Reads one entry of a table's `indexes`; `None` after reporting what is wrong.
pub(super) fn parse_index(
    p: &mut Parser<'_>,
    table: &Table,
    item: &Value,
    here: &[OwnedSeg],
) -> Option<Index> {
    let tname = table.name.as_str();
    let Some(props) = p.mapping(
        item,
        here,
        "an index",
        &["name", "columns", "unique", "expressions", "where"],
    ) else {
        return None;
    };
    let prop = |k: &str| props.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
    let columns_at = at(here, &[key("columns")]);
    let expressions = match prop("expressions") {
        None => Vec::new(),
        Some(v) => match sql_list(p, v, &at(here, &[key("expressions")]), tname) {
            Some(list) => list,
            None => return None,
        },
    };
    let cols = if !expressions.is_empty() {
        if prop("columns").is_some() {
            p.error(
                &columns_at,
                format!(
                    "an index of table '{tname}' has both columns and expressions (list the columns among the expressions)"
                ),
            );
            return None;
        }
        Vec::new()
    } else {
        let Some(value) = prop("columns") else {
            p.error(here, format!("an index of table '{tname}' has no columns"));
            return None;
        };
        let cols = p.names(value, &columns_at, "index columns")?;
        if !check_columns(p, table, &cols, here, "an index") {
            return None;
        }
        cols
    };
    let predicate = match prop("where") {
        None | Some(Value::Null) => None,
        Some(Value::String(w)) => match crate::sql::normalize::check_expr(w) {
            Ok(()) => Some(w.clone()),
            Err(e) => {
                p.error(
                    &at(here, &[key("where")]),
                    format!("the where of an index of table '{tname}' {e}"),
                );
                return None;
            }
        },
        Some(_) => {
            p.error(
                &at(here, &[key("where")]),
                format!("the where of an index of table '{tname}' must be an SQL condition"),
            );
            return None;
        }
    };
    let unique = match prop("unique") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            p.error(
                &at(here, &[key("unique")]),
                "unique of an index must be true or false".into(),
            );
            false
        }
    };
    let name = match prop("name") {
        Some(Value::String(s)) => s.clone(),
        None if !expressions.is_empty() => {
            p.error(
                here,
                format!("an expression index of table '{tname}' needs a name"),
            );
            return None;
        }
        None => conventional_name(if unique { "ux" } else { "ix" }, tname, &cols),
        Some(_) => {
            p.error(
                &at(here, &[key("name")]),
                "an index name must be a string".into(),
            );
            return None;
        }
    };
    if let Err(why) = check_identifier(&name) {
        p.error(here, format!("index name {why}"));
        return None;
    }
    Some(Index {
        name,
        columns: cols,
        unique,
        expressions,
        predicate,
    })
}

/// A non-empty list of SQL expressions (an index's `expressions`), each checked.
fn sql_list(p: &mut Parser<'_>, v: &Value, here: &[OwnedSeg], tname: &str) -> Option<Vec<String>> {
    let Value::Sequence(items) = v else {
        p.error(
            here,
            format!(
                "the expressions of an index of table '{tname}' must be a list of SQL expressions"
            ),
        );
        return None;
    };
    if items.is_empty() {
        p.error(
            here,
            format!("the expressions of an index of table '{tname}' are empty"),
        );
        return None;
    }
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let item_at = at(here, &[OwnedSeg::Index(i)]);
        let Some(text) = item.as_str() else {
            p.error(
                &item_at,
                format!("an expression of an index of table '{tname}' must be SQL text"),
            );
            return None;
        };
        if let Err(e) = crate::sql::normalize::check_expr(text) {
            p.error(
                &item_at,
                format!("an expression of an index of table '{tname}' {e}"),
            );
            return None;
        }
        out.push(text.to_owned());
    }
    Some(out)
}

