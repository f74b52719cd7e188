//! One index of a table in `models.yaml`: its key (columns or expressions), condition
//! and options.

use serde_yaml_ng::Value;

use super::load::{at, check_identifier, key, OwnedSeg, Parser};
use super::table::check_columns;
use super::{conventional_name, Index, KeyPart, NullsOrder, Table};

/// Reads one entry of a table's `indexes`; `None` after reporting what is wrong.
pub(super) fn parse_index(
    p: &mut Parser<'_>,
    table: &Table,
    item: &Value,
    here: &[OwnedSeg],
) -> Option<Index> {
    // The bare name (a table of another schema is `schema.table`), for names.
    let tname = table.name.rsplit('.').next().unwrap_or(&table.name);
    let props = p.mapping(
        item,
        here,
        "an index",
        &[
            "name",
            "columns",
            "unique",
            "expressions",
            "where",
            "using",
            "include",
        ],
    )?;
    let prop = |k: &str| props.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
    let columns_at = at(here, &[key("columns")]);
    let expressions = match prop("expressions") {
        None => Vec::new(),
        Some(v) => sql_list(p, v, &at(here, &[key("expressions")]), tname)?,
    };
    let (cols, parts) = if !expressions.is_empty() {
        if prop("columns").is_some() {
            p.error(
                &columns_at,
                format!(
                    "an index of table '{tname}' has both columns and expressions (list the columns among the expressions)"
                ),
            );
            return None;
        }
        (Vec::new(), Vec::new())
    } else {
        let Some(value) = prop("columns") else {
            p.error(here, format!("an index of table '{tname}' has no columns"));
            return None;
        };
        let (cols, parts) = key_columns(p, value, &columns_at, tname)?;
        if !check_columns(p, table, &cols, here, "an index") {
            return None;
        }
        (cols, parts)
    };
    let using = match prop("using") {
        None | Some(Value::Null) => None,
        Some(Value::String(u)) if METHODS.contains(&u.to_ascii_lowercase().as_str()) => {
            Some(u.to_ascii_lowercase())
        }
        Some(_) => {
            p.error(
                &at(here, &[key("using")]),
                format!(
                    "the using of an index of table '{tname}' must be one of: {}",
                    METHODS.join(", ")
                ),
            );
            return None;
        }
    };
    let include = match prop("include") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => {
            let include_at = at(here, &[key("include")]);
            let list = p.names(v, &include_at, "index include")?;
            if !check_columns(p, table, &list, &include_at, "the include of an index") {
                return None;
            }
            if let Some(c) = list.iter().find(|c| cols.contains(c)) {
                p.error(
                    &include_at,
                    format!("an index of table '{tname}' includes its key column '{c}'"),
                );
                return None;
            }
            list
        }
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
    let index = Index {
        name,
        columns: cols,
        unique,
        expressions,
        predicate,
        parts,
        using,
        include,
    };
    if !option_rules(p, table, &index, here) {
        return None;
    }
    Some(index)
}

/// The access methods `using:` takes (PostgreSQL's).
const METHODS: &[&str] = &["btree", "hash", "gin", "gist", "brin", "spgist"];

/// The longest prefix MariaDB indexes (bytes of a key part, InnoDB).
const MAX_PREFIX: u64 = 3072;

/// Checks options that contradict each other and records those only some backends
/// have ([`super::Schema::check_for`]); `false` after reporting.
fn option_rules(p: &mut Parser<'_>, table: &Table, ix: &Index, here: &[OwnedSeg]) -> bool {
    use crate::core::Dialect::{Postgres, Sqlite};
    let what = format!("index '{}' of table '{}'", ix.name, table.name);
    let sorted = ix.parts.iter().any(|k| k.desc || k.nulls.is_some());
    if let Some(u) = ix.using.as_deref().filter(|u| *u != "btree") {
        if sorted {
            p.error(
                &at(here, &[key("using")]),
                format!("{what} is sorted (order or nulls), which needs a btree index, not {u}"),
            );
            return false;
        }
        if ix.unique {
            p.error(
                &at(here, &[key("using")]),
                format!("{what} is unique, which needs a btree index, not {u}"),
            );
            return false;
        }
        p.rule(
            &at(here, &[key("using")]),
            &[Postgres],
            format!("{what} has using: {u}, which only PostgreSQL has"),
        );
    }
    if !ix.include.is_empty() {
        p.rule(
            &at(here, &[key("include")]),
            &[Postgres],
            format!("{what} has include columns, which only PostgreSQL has"),
        );
    }
    if ix.parts.iter().any(|k| k.nulls.is_some()) {
        p.rule(
            &at(here, &[key("columns")]),
            &[Postgres],
            format!("{what} sets nulls first/last, which only PostgreSQL has"),
        );
    }
    for (i, c) in ix.columns.iter().enumerate() {
        let Some(col) = table.column(c) else { continue };
        let long = matches!(
            col.ty,
            super::ColumnType::Text | super::ColumnType::Bytes | super::ColumnType::Json
        );
        let col_at = at(here, &[key("columns"), OwnedSeg::Index(i)]);
        match ix.part(i).length {
            None if long => p.rule(
                &col_at,
                &[Postgres, Sqlite],
                format!(
                    "{what} indexes {} column '{c}' without a prefix length, which MariaDB \
                     needs: write {{name: {c}, length: 191}}",
                    col.ty
                ),
            ),
            Some(_) if !long && !matches!(col.ty, super::ColumnType::String(_)) => {
                p.error(
                    &col_at,
                    format!(
                        "{what} gives column '{c}' a prefix length, but its type {} is not text",
                        col.ty
                    ),
                );
                return false;
            }
            _ => {}
        }
    }
    true
}

/// An index's `columns`: each a name or `{name, order: asc|desc, nulls: first|last,
/// length: N}`; the names and the key parts (empty when all are plain).
fn key_columns(
    p: &mut Parser<'_>,
    value: &Value,
    here: &[OwnedSeg],
    tname: &str,
) -> Option<(Vec<String>, Vec<KeyPart>)> {
    let items: Vec<&Value> = match value {
        Value::Sequence(items) if !items.is_empty() => items.iter().collect(),
        Value::String(_) => vec![value],
        _ => {
            p.error(
                here,
                "index columns must be a non-empty list of column names".into(),
            );
            return None;
        }
    };
    let mut names = Vec::new();
    let mut parts = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let item_at = at(here, &[OwnedSeg::Index(i)]);
        if let Some(n) = item.as_str() {
            names.push(n.to_owned());
            parts.push(KeyPart::default());
            continue;
        }
        let what = format!("a column of an index of table '{tname}'");
        let props = p.mapping(item, &item_at, &what, &["name", "order", "nulls", "length"])?;
        let prop = |k: &str| props.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
        let Some(name) = prop("name").and_then(Value::as_str) else {
            p.error(&item_at, format!("{what} needs name: COLUMN"));
            return None;
        };
        let mut part = KeyPart::default();
        match prop("order").map(|v| v.as_str().map(str::to_ascii_lowercase)) {
            None => {}
            Some(Some(o)) if o == "asc" => {}
            Some(Some(o)) if o == "desc" => part.desc = true,
            Some(_) => {
                p.error(
                    &at(&item_at, &[key("order")]),
                    format!("the order of {what} must be asc or desc"),
                );
                return None;
            }
        }
        match prop("nulls").map(|v| v.as_str().map(str::to_ascii_lowercase)) {
            None => {}
            Some(Some(o)) if o == "first" => part.nulls = Some(NullsOrder::First),
            Some(Some(o)) if o == "last" => part.nulls = Some(NullsOrder::Last),
            Some(_) => {
                p.error(
                    &at(&item_at, &[key("nulls")]),
                    format!("the nulls of {what} must be first or last"),
                );
                return None;
            }
        }
        match prop("length") {
            None => {}
            Some(Value::Number(n)) if n.as_u64().is_some_and(|l| (1..=MAX_PREFIX).contains(&l)) => {
                part.length = n.as_u64().and_then(|l| u32::try_from(l).ok());
            }
            Some(_) => {
                p.error(
                    &at(&item_at, &[key("length")]),
                    format!("the length of {what} must be a number from 1 to {MAX_PREFIX}"),
                );
                return None;
            }
        }
        names.push(name.to_owned());
        parts.push(part);
    }
    if parts.iter().all(|k| *k == KeyPart::default()) {
        parts.clear();
    }
    Some((names, parts))
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::core::Dialect;
    use crate::schema::model::{parse_models, KeyPart, NullsOrder, Schema};

    fn parse(text: &str) -> Result<Schema, crate::schema::model::ModelErrors> {
        parse_models(text, Path::new("models.yaml"))
    }

    const DOCS: &str = "tables:
  d:
    columns:
      id: {type: integer, primary_key: true}
      name: string(100)
      bio: text
    indexes:
";

    #[test]
    fn key_columns_take_order_nulls_and_length() {
        let s = parse(&format!(
            "{DOCS}      - name: ix_d\n        columns: [{{name: name, order: desc, nulls: last}}, id, {{name: bio, length: 50}}]\n        include: []\n"
        ));
        // An empty include list is no list.
        assert!(s.is_err());
        let s = parse(&format!(
            "{DOCS}      - name: ix_d\n        columns: [{{name: name, order: desc, nulls: last}}, id, {{name: bio, length: 50}}]\n"
        ))
        .expect("valid");
        let ix = &s.tables["d"].indexes[0];
        assert_eq!(ix.columns, ["name", "id", "bio"]);
        assert_eq!(
            ix.part(0),
            KeyPart {
                desc: true,
                nulls: Some(NullsOrder::Last),
                length: None
            }
        );
        assert_eq!(ix.part(1), KeyPart::default());
        assert_eq!(ix.part(2).length, Some(50));
        // Nulls are PostgreSQL's: an error on the others, naming the line.
        s.check_for(Dialect::Postgres)
            .expect("PostgreSQL has all of it");
        let e = s
            .check_for(Dialect::Mysql)
            .expect_err("MariaDB has no NULLS LAST");
        assert_eq!(e.0.len(), 1, "{e}");
        assert_eq!(e.0[0].line, Some(9), "{e}");
        assert!(e.0[0].message.contains("nulls first/last"), "{e}");
        // Normalised: PostgreSQL drops the length and keeps DESC NULLS LAST (not the
        // default for DESC); MariaDB keeps DESC and the length; SQLite only DESC.
        let pg = s.normalized_for(Dialect::Postgres);
        assert_eq!(
            pg.tables["d"].indexes[0].describe_key(),
            "name DESC NULLS LAST, id, bio"
        );
        let my = s.normalized_for(Dialect::Mysql);
        assert_eq!(
            my.tables["d"].indexes[0].describe_key(),
            "name DESC, id, bio(50)"
        );
        let lite = s.normalized_for(Dialect::Sqlite);
        assert_eq!(
            lite.tables["d"].indexes[0].describe_key(),
            "name DESC, id, bio"
        );
    }

    #[test]
    fn default_nulls_order_is_no_option() {
        let s = parse(&format!(
            "{DOCS}      - {{name: ix_d, columns: [{{name: name, order: desc, nulls: first}}, {{name: id, nulls: last}}]}}\n"
        ))
        .expect("valid");
        let pg = s.normalized_for(Dialect::Postgres);
        let ix = &pg.tables["d"].indexes[0];
        assert_eq!(ix.describe_key(), "name DESC, id");
    }

    #[test]
    fn using_and_include_are_postgres_only() {
        let s = parse(&format!(
            "{DOCS}      - {{name: ix_h, columns: [name], using: HASH}}\n      - {{name: ix_i, columns: [name], include: [id]}}\n"
        ))
        .expect("valid");
        let ixs = &s.tables["d"].indexes;
        assert_eq!(ixs[0].using.as_deref(), Some("hash"));
        assert_eq!(ixs[1].include, ["id"]);
        s.check_for(Dialect::Postgres).expect("PostgreSQL has both");
        for d in [Dialect::Mysql, Dialect::Sqlite] {
            let e = s.check_for(d).expect_err("only PostgreSQL");
            let lines: Vec<Option<u32>> = e.0.iter().map(|e| e.line).collect();
            assert_eq!(lines, [Some(8), Some(9)], "{e}");
            assert!(e.0[0].message.contains("using: hash"), "{e}");
            assert!(e.0[1].message.contains("include"), "{e}");
        }
        // A btree is the default: no option at all.
        let s = parse(&format!(
            "{DOCS}      - {{name: ix_b, columns: [name], using: btree}}\n"
        ))
        .expect("valid");
        assert!(s.check_for(Dialect::Mysql).is_ok());
        assert_eq!(
            s.normalized_for(Dialect::Postgres).tables["d"].indexes[0].using,
            None
        );
    }

    #[test]
    fn bad_options_name_their_line() {
        let cases = [
            (
                "      - {name: ix, columns: [name], using: fulltext}\n",
                "must be one of",
            ),
            (
                "      - {name: ix, columns: [{name: name, order: up}]}\n",
                "asc or desc",
            ),
            (
                "      - {name: ix, columns: [{name: name, nulls: middle}]}\n",
                "first or last",
            ),
            (
                "      - {name: ix, columns: [{name: bio, length: 0}]}\n",
                "from 1 to 3072",
            ),
            (
                "      - {name: ix, columns: [{name: id, length: 5}]}\n",
                "is not text",
            ),
            (
                "      - {name: ix, columns: [{order: desc}]}\n",
                "needs name",
            ),
            (
                "      - {name: ix, columns: [name], include: [nope]}\n",
                "'nope'",
            ),
            (
                "      - {name: ix, columns: [name], include: [name]}\n",
                "key column 'name'",
            ),
            (
                "      - {name: ix, columns: [{name: name, order: desc}], using: gin}\n",
                "needs a btree",
            ),
            (
                "      - {name: ix, columns: [name], unique: true, using: hash}\n",
                "needs a btree",
            ),
        ];
        for (entry, needle) in cases {
            let e = parse(&format!("{DOCS}{entry}")).expect_err(entry);
            assert_eq!(e.0[0].line, Some(8), "{entry}: {e}");
            assert!(e.0[0].message.contains(needle), "{entry}: {e}");
        }
    }

    #[test]
    fn a_text_column_needs_a_prefix_on_mariadb() {
        let s = parse(&format!(
            "{DOCS}      - {{name: ix_bio, columns: [name, bio]}}\n"
        ))
        .expect("valid");
        assert!(s.check_for(Dialect::Postgres).is_ok());
        assert!(s.check_for(Dialect::Sqlite).is_ok());
        let e = s
            .check_for(Dialect::Mysql)
            .expect_err("TEXT needs a prefix");
        assert_eq!(e.0.len(), 1, "{e}");
        assert_eq!(
            e.0[0].to_string(),
            "models.yaml:8: index 'ix_bio' of table 'd' indexes text column 'bio' without a \
             prefix length, which MariaDB needs: write {name: bio, length: 191} (the database \
             is mysql)"
        );
        let s = parse(&format!(
            "{DOCS}      - {{name: ix_bio, columns: [name, {{name: bio, length: 191}}]}}\n"
        ))
        .expect("valid");
        assert!(s.check_for(Dialect::Mysql).is_ok());
    }
}
