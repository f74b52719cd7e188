//! One comparable form for a view's query.
//!
//! PostgreSQL's `pg_get_viewdef` qualifies every column with its table
//! (`users.email`), names computed columns (`count(*) AS count`) and adds casts;
//! MariaDB's `VIEW_DEFINITION` qualifies with the database too, backquotes
//! everything, aliases every column to itself and prints `TRUE` as `1`; SQLite keeps
//! the text as written. The form here reads the query with the backend's dialect and
//! prints it with expressions in their comparable form ([`super::canon`]), table
//! names without their schema, aliases that repeat a column's or function's own name
//! dropped, and, over a single table, columns without qualifiers.

use sqlparser::ast::{
    Expr, GroupByExpr, Join, JoinConstraint, JoinOperator, ObjectName, ObjectNamePart, OrderByKind,
    Query, Select, SelectItem, SetExpr, Statement, TableFactor, TableWithJoins,
};
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer};

use super::{canon, ident, sql_dialect, ExprError, KEEP_PARTS, MAX_LEN};
use crate::core::Dialect;

fn parse_query(dialect: Option<Dialect>, sql: &str) -> Result<Query, ExprError> {
    let bad = |m: String| ExprError {
        message: format!(
            "does not parse ({})",
            m.chars().take(160).collect::<String>()
        ),
    };
    if sql.trim().is_empty() {
        return Err(ExprError {
            message: "is empty".into(),
        });
    }
    if sql.len() > MAX_LEN {
        return Err(ExprError {
            message: format!("is longer than {MAX_LEN} bytes"),
        });
    }
    let d = sql_dialect(dialect);
    let stmts = Parser::parse_sql(d.as_ref(), sql).map_err(|e| bad(e.to_string()))?;
    match stmts.into_iter().collect::<Vec<_>>().as_mut_slice() {
        [Statement::Query(q)] => Ok((**q).clone()),
        _ => Err(bad("expected one SELECT query".into())),
    }
}

/// Checks that `sql` is one query (a `SELECT`, maybe with `WITH` or `UNION`).
pub fn check_query(sql: &str) -> Result<(), ExprError> {
    parse_query(None, sql).map(|_| ())
}

/// The query of a `CREATE VIEW` statement (SQLite keeps a view only as that).
pub fn view_query(dialect: Dialect, sql: &str) -> Option<String> {
    if sql.len() > MAX_LEN {
        return None;
    }
    let d = sql_dialect(Some(dialect));
    match Parser::parse_sql(d.as_ref(), sql).ok()?.as_slice() {
        [Statement::CreateView(v)] => Some(v.query.to_string()),
        _ => None,
    }
}

/// The comparable form of a view's query as `dialect` reads it; `None` when it does
/// not parse.
pub fn normalize_query(dialect: Dialect, sql: &str) -> Option<String> {
    let mut q = parse_query(Some(dialect), sql).ok()?;
    super::BOOL_AS_INT.with(|b| b.set(dialect == Dialect::Mysql));
    canon_query(&mut q);
    super::BOOL_AS_INT.with(|b| b.set(false));
    Some(q.to_string())
}

/// The lower-case words of `sql` (identifiers and keywords), for finding which
/// tables and views a view reads.
pub fn query_words(dialect: Dialect, sql: &str) -> Vec<String> {
    let d = sql_dialect(Some(dialect));
    let Ok(tokens) = Tokenizer::new(d.as_ref(), sql).tokenize() else {
        return Vec::new();
    };
    tokens
        .into_iter()
        .filter_map(|t| match t {
            Token::Word(w) => Some(w.value.to_lowercase()),
            _ => None,
        })
        .collect()
}

/// Runs `f` with qualified names cut to their last `keep` parts.
fn keeping<T>(keep: usize, f: impl FnOnce() -> T) -> T {
    let before = KEEP_PARTS.with(|k| k.replace(keep));
    let out = f();
    KEEP_PARTS.with(|k| k.set(before));
    out
}

fn canon_query(q: &mut Query) {
    canon_set(&mut q.body);
    if let Some(ob) = &mut q.order_by {
        if let OrderByKind::Expressions(list) = &mut ob.kind {
            // ORDER BY names the output columns or the single table's.
            for o in list {
                o.expr = keeping(2, || canon(o.expr.clone()));
            }
        }
    }
}

fn canon_set(body: &mut SetExpr) {
    match body {
        SetExpr::Select(s) => canon_select(s),
        SetExpr::Query(q) => canon_query(q),
        SetExpr::SetOperation { left, right, .. } => {
            canon_set(left);
            canon_set(right);
        }
        _ => {}
    }
}

/// The last part of a name, lower case and unquoted.
fn last_part(name: &mut ObjectName) {
    if let Some(ObjectNamePart::Identifier(i)) = name.0.pop() {
        name.0 = vec![ObjectNamePart::Identifier(ident(i))];
    }
}

fn canon_relation(t: &mut TableFactor) {
    match t {
        TableFactor::Table { name, alias, .. } => {
            last_part(name);
            if let Some(a) = alias {
                a.name = ident(a.name.clone());
                let same = name.0.first().is_some_and(|p| match p {
                    ObjectNamePart::Identifier(i) => i.value == a.name.value,
                    _ => false,
                });
                if same && a.columns.is_empty() {
                    *alias = None;
                }
            }
        }
        TableFactor::Derived { subquery, .. } => canon_query(subquery),
        _ => {}
    }
}

fn canon_join(j: &mut Join) {
    canon_relation(&mut j.relation);
    // `INNER JOIN` is `JOIN`, `LEFT OUTER JOIN` is `LEFT JOIN`.
    let op = std::mem::replace(&mut j.join_operator, JoinOperator::CrossApply);
    j.join_operator = match op {
        JoinOperator::Inner(c) => JoinOperator::Join(c),
        JoinOperator::LeftOuter(c) => JoinOperator::Left(c),
        JoinOperator::RightOuter(c) => JoinOperator::Right(c),
        other => other,
    };
    if let JoinOperator::Join(JoinConstraint::On(e))
    | JoinOperator::Left(JoinConstraint::On(e))
    | JoinOperator::Right(JoinConstraint::On(e))
    | JoinOperator::FullOuter(JoinConstraint::On(e)) = &mut j.join_operator
    {
        *e = keeping(2, || canon(e.clone()));
    }
}

/// A select item's own name: a column's or a function's.
fn own_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Identifier(i) => Some(i.value.clone()),
        Expr::CompoundIdentifier(p) => p.last().map(|i| i.value.clone()),
        Expr::Function(f) => f.name.0.last().and_then(|p| match p {
            ObjectNamePart::Identifier(i) => Some(i.value.clone()),
            _ => None,
        }),
        _ => None,
    }
}

fn canon_select(s: &mut Select) {
    for t in &mut s.from {
        let TableWithJoins { relation, joins } = t;
        canon_relation(relation);
        for j in joins {
            canon_join(j);
        }
    }
    // Over one table, `t.col` is `col`; over several, `schema.t.col` is `t.col`.
    let single = s.from.len() == 1 && s.from[0].joins.is_empty();
    let keep = if single { 1 } else { 2 };
    keeping(keep, || {
        for item in &mut s.projection {
            let (expr, alias) = match std::mem::replace(
                item,
                SelectItem::UnnamedExpr(Expr::Identifier(sqlparser::ast::Ident::new(""))),
            ) {
                SelectItem::UnnamedExpr(e) => (canon(e), None),
                SelectItem::ExprWithAlias { expr, alias } => (canon(expr), Some(ident(alias))),
                other => {
                    *item = other;
                    continue;
                }
            };
            *item = match alias {
                Some(a) if own_name(&expr).as_deref() != Some(a.value.as_str()) => {
                    SelectItem::ExprWithAlias { expr, alias: a }
                }
                _ => SelectItem::UnnamedExpr(expr),
            };
        }
        if let Some(w) = s.selection.take() {
            s.selection = Some(canon(w));
        }
        if let Some(h) = s.having.take() {
            s.having = Some(canon(h));
        }
        if let GroupByExpr::Expressions(list, _) = &mut s.group_by {
            for e in list {
                *e = canon(e.clone());
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(d: Dialect, s: &str) -> String {
        normalize_query(d, s).unwrap_or_else(|| panic!("{s:?} parses"))
    }

    #[test]
    fn backend_printouts_equal_what_was_written() {
        let written = "SELECT id, email FROM users WHERE is_active = TRUE AND deleted_at IS NULL";
        assert_eq!(
            n(Dialect::Postgres, written),
            n(
                Dialect::Postgres,
                " SELECT users.id,\n    users.email\n   FROM users\n  WHERE users.is_active = true AND users.deleted_at IS NULL;"
            )
        );
        assert_eq!(
            n(Dialect::Mysql, written),
            n(
                Dialect::Mysql,
                "select `db`.`users`.`id` AS `id`,`db`.`users`.`email` AS `email` from `db`.`users` where `db`.`users`.`is_active` = 1 and `db`.`users`.`deleted_at` is null"
            )
        );
        let joined = "SELECT u.email, count(*) AS n FROM users u INNER JOIN posts p ON p.user_id = u.id GROUP BY u.email";
        assert_eq!(
            n(Dialect::Postgres, joined),
            n(
                Dialect::Postgres,
                " SELECT u.email,\n    count(*) AS n\n   FROM users u\n     JOIN posts p ON p.user_id = u.id\n  GROUP BY u.email;"
            )
        );
        assert_ne!(
            n(Dialect::Postgres, written),
            n(
                Dialect::Postgres,
                "SELECT id FROM users WHERE is_active = TRUE"
            )
        );
    }

    #[test]
    fn views_are_read_back_and_checked() {
        assert_eq!(
            view_query(Dialect::Sqlite, "CREATE VIEW \"v\" AS SELECT a FROM t").as_deref(),
            Some("SELECT a FROM t")
        );
        assert!(check_query("SELECT a FROM t").is_ok());
        assert!(check_query("DELETE FROM t").is_err());
        assert!(check_query("SELECT 1; DROP TABLE t").is_err());
        assert!(
            query_words(Dialect::Postgres, "SELECT a FROM \"Tbl\" JOIN v2 ON 1=1")
                .contains(&"v2".to_owned())
        );
    }
}
