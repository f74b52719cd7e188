//! One comparable form for an SQL expression, whatever a backend rewrote it into.
//!
//! Databases keep a check constraint, an index predicate or a view as their own
//! printout, not as written: PostgreSQL's `pg_get_constraintdef` adds casts and
//! parentheses (`((price > (0)::numeric))`, `(status)::text = ANY (ARRAY[...])` for an
//! `IN` list, `>= AND <=` for `BETWEEN`), MariaDB backquotes identifiers and lowers
//! keywords, SQLite keeps the text as written. [`normalize_expr`] parses the text with
//! the backend's dialect and prints one form: casts and redundant parentheses gone,
//! exactly one pair of parentheses around every compound operand, identifiers unquoted
//! and lower case, keywords upper case, single spaces. Two expressions with the same
//! form mean the same thing to the comparison; a changed expression gets a new form.
//!
//! Dropping casts means `x::int > 0` and `x > 0` compare equal: the form is for
//! comparing only, never executed.

mod query;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use sqlparser::ast::{
    BinaryOperator, CaseWhen, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Ident,
    InTarget, ObjectNamePart, Value,
};
use sqlparser::dialect::{
    Dialect as SqlDialect, GenericDialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect,
};
use sqlparser::parser::Parser;

use crate::core::Dialect;

pub use query::{check_query, normalize_query, query_words, view_query};

/// An expression that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ExprError {
    /// The parser's message, cut to a short excerpt.
    pub message: String,
}

/// Expressions longer than this are refused rather than parsed (hostile input).
pub(crate) const MAX_LEN: usize = 64 * 1024;

pub(crate) fn sql_dialect(dialect: Option<Dialect>) -> Box<dyn SqlDialect> {
    match dialect {
        Some(Dialect::Postgres) => Box::new(PostgreSqlDialect {}),
        Some(Dialect::Mysql) => Box::new(MySqlDialect {}),
        Some(Dialect::Sqlite) => Box::new(SQLiteDialect {}),
        None => Box::new(GenericDialect {}),
    }
}

/// Parses one whole expression (nothing may follow it).
fn parse(dialect: Option<Dialect>, sql: &str) -> Result<Expr, ExprError> {
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
    let short = |e: sqlparser::parser::ParserError| {
        let mut m = e.to_string();
        if m.len() > 160 {
            let mut cut = 160;
            while !m.is_char_boundary(cut) {
                cut -= 1;
            }
            m.truncate(cut);
            m.push('…');
        }
        ExprError {
            message: format!("does not parse ({m})"),
        }
    };
    let mut p = Parser::new(d.as_ref()).try_with_sql(sql).map_err(short)?;
    let e = p.parse_expr().map_err(short)?;
    let rest = p.peek_token();
    if rest.token != sqlparser::tokenizer::Token::EOF {
        return Err(ExprError {
            message: format!(
                "does not parse (unexpected '{}' after the expression)",
                rest.token.to_string().chars().take(40).collect::<String>()
            ),
        });
    }
    Ok(e)
}

/// Checks that `sql` is one expression any of the three backends could read
/// (parsed with the generic dialect, which accepts each one's operators).
pub fn check_expr(sql: &str) -> Result<(), ExprError> {
    parse(None, sql).map(|_| ())
}

thread_local! {
    /// How many trailing parts of a qualified name to keep (views read with one table
    /// drop the qualifiers backends add); `usize::MAX` keeps all.
    static KEEP_PARTS: Cell<usize> = const { Cell::new(usize::MAX) };
    /// MySQL/MariaDB print `TRUE` as `1`.
    static BOOL_AS_INT: Cell<bool> = const { Cell::new(false) };
    static CACHE: RefCell<HashMap<(Dialect, String), Option<String>>> = RefCell::new(HashMap::new());
}

/// The comparable form of `sql` as `dialect` reads it; `None` when it does not
/// parse (then callers compare the text without case or spaces).
///
/// Results are remembered per thread (a schema repeats the same expressions across
/// tables); the memory is bounded.
pub fn normalize_expr(dialect: Dialect, sql: &str) -> Option<String> {
    let key = (dialect, sql.to_owned());
    if let Some(hit) = CACHE.with(|c| c.borrow().get(&key).cloned()) {
        return hit;
    }
    let out = parse(Some(dialect), sql).ok().map(|e| canon(e).to_string());
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() > 20_000 {
            c.clear();
        }
        c.insert(key, out.clone());
    });
    out
}

/// Two expressions mean the same to the comparison: equal text without case or
/// spaces, or one comparable form.
pub fn same_expr(dialect: Dialect, a: &str, b: &str) -> bool {
    if squash(a) == squash(b) {
        return true;
    }
    match (normalize_expr(dialect, a), normalize_expr(dialect, b)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// The key parts and the `WHERE` condition of one `CREATE INDEX` statement, as SQL
/// text (SQLite keeps an index only as the statement that made it).
pub fn index_parts(dialect: Dialect, sql: &str) -> Option<(Vec<String>, Option<String>)> {
    if sql.len() > MAX_LEN {
        return None;
    }
    let d = sql_dialect(Some(dialect));
    let stmts = Parser::parse_sql(d.as_ref(), sql).ok()?;
    match stmts.as_slice() {
        [sqlparser::ast::Statement::CreateIndex(ci)] => Some((
            ci.columns
                .iter()
                .map(|c| c.column.expr.to_string())
                .collect(),
            ci.predicate.as_ref().map(ToString::to_string),
        )),
        _ => None,
    }
}

/// The columns of a `CREATE TABLE` statement that carry a column check of the form
/// `column IN ('a', 'b', ...)` (how SQLite keeps an enum), with the listed values.
pub fn column_value_lists(dialect: Dialect, sql: &str) -> Vec<(String, Vec<String>)> {
    use sqlparser::ast::{ColumnOption, Statement};
    if sql.len() > MAX_LEN {
        return Vec::new();
    }
    let d = sql_dialect(Some(dialect));
    let Ok(stmts) = Parser::parse_sql(d.as_ref(), sql) else {
        return Vec::new();
    };
    let [Statement::CreateTable(ct)] = stmts.as_slice() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for col in &ct.columns {
        for opt in &col.options {
            let ColumnOption::Check(check) = &opt.option else {
                continue;
            };
            let mut e = check.expr.as_ref();
            while let Expr::Nested(inner) = e {
                e = inner;
            }
            let Expr::In {
                expr,
                target: InTarget::List(list),
                negated: false,
                ..
            } = e
            else {
                continue;
            };
            let Expr::Identifier(id) = expr.as_ref() else {
                continue;
            };
            if !id.value.eq_ignore_ascii_case(&col.name.value) {
                continue;
            }
            let values: Option<Vec<String>> = list
                .iter()
                .map(|v| match v {
                    Expr::Value(v) => match &v.value {
                        Value::SingleQuotedString(s) => Some(s.clone()),
                        _ => None,
                    },
                    _ => None,
                })
                .collect();
            if let Some(values) = values {
                out.push((col.name.value.clone(), values));
            }
        }
    }
    out
}

/// Text without case or whitespace.
pub fn squash(expr: &str) -> String {
    expr.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

pub(crate) fn ident(mut i: Ident) -> Ident {
    i.value = i.value.to_lowercase();
    i.quote_style = None;
    i
}

/// `1.50` → `1.5`, `007` → `7`: a plain decimal literal in one spelling.
fn canonical_number(text: &str) -> Option<String> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    if int.is_empty() && frac.is_empty()
        || !int.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    Some(if frac.is_empty() {
        int.to_owned()
    } else {
        format!("{int}.{frac}")
    })
}

/// Whether `e` needs parentheses as an operand.
fn compound(e: &Expr) -> bool {
    matches!(
        e,
        Expr::BinaryOp { .. }
            | Expr::UnaryOp { .. }
            | Expr::Like { .. }
            | Expr::ILike { .. }
            | Expr::SimilarTo { .. }
            | Expr::RLike { .. }
            | Expr::Between { .. }
            | Expr::In { .. }
            | Expr::IsNull(_)
            | Expr::IsNotNull(_)
            | Expr::IsTrue(_)
            | Expr::IsNotTrue(_)
            | Expr::IsFalse(_)
            | Expr::IsNotFalse(_)
            | Expr::IsUnknown(_)
            | Expr::IsNotUnknown(_)
            | Expr::IsDistinctFrom(..)
            | Expr::IsNotDistinctFrom(..)
            | Expr::AnyOp { .. }
            | Expr::AllOp { .. }
            | Expr::Collate { .. }
            | Expr::AtTimeZone { .. }
    )
}

fn operand(e: Expr) -> Box<Expr> {
    let e = canon(e);
    Box::new(if compound(&e) {
        Expr::Nested(Box::new(e))
    } else {
        e
    })
}

fn bin(left: Expr, op: BinaryOperator, right: Expr) -> Expr {
    Expr::BinaryOp {
        left: Box::new(left),
        op,
        right: Box::new(right),
    }
}

/// The elements of an array literal, through casts and parentheses.
fn array_elems(e: Expr) -> Result<Vec<Expr>, Box<Expr>> {
    match e {
        Expr::Nested(x) => array_elems(*x),
        Expr::Cast { expr, .. } => array_elems(*expr),
        Expr::Array(a) => Ok(a.elem),
        other => Err(Box::new(other)),
    }
}

fn in_list(expr: Expr, list: Vec<Expr>, negated: bool) -> Expr {
    Expr::In {
        expr: operand(expr),
        target: InTarget::List(list.into_iter().map(canon).collect()),
        negated,
        global: false,
    }
}

/// The expression in its comparable shape (see the module's documentation).
pub(crate) fn canon(e: Expr) -> Expr {
    match e {
        Expr::Nested(x) => canon(*x),
        Expr::Cast { expr, .. } => canon(*expr),
        Expr::Identifier(i) => Expr::Identifier(ident(i)),
        Expr::CompoundIdentifier(parts) => {
            let keep = KEEP_PARTS.with(Cell::get);
            let skip = parts.len().saturating_sub(keep);
            let mut parts: Vec<Ident> = parts.into_iter().skip(skip).map(ident).collect();
            match parts.len() {
                1 => Expr::Identifier(parts.remove(0)),
                _ => Expr::CompoundIdentifier(parts),
            }
        }
        Expr::Value(mut v) => {
            if let Value::Number(n, l) = &v.value {
                if let Some(c) = canonical_number(n) {
                    v.value = Value::Number(c, *l);
                }
            }
            if let (Value::Boolean(b), true) = (&v.value, BOOL_AS_INT.with(Cell::get)) {
                v.value = Value::Number(if *b { "1" } else { "0" }.into(), false);
            }
            if let Value::DoubleQuotedString(s) = &v.value {
                // MySQL's "text" is a string literal.
                v.value = Value::SingleQuotedString(s.clone());
            }
            Expr::Value(v)
        }
        Expr::BinaryOp { left, op, right } => match op {
            BinaryOperator::PGLikeMatch | BinaryOperator::PGNotLikeMatch => Expr::Like {
                negated: op == BinaryOperator::PGNotLikeMatch,
                any: false,
                expr: operand(*left),
                pattern: operand(*right),
                escape_char: None,
            },
            BinaryOperator::PGILikeMatch | BinaryOperator::PGNotILikeMatch => Expr::ILike {
                negated: op == BinaryOperator::PGNotILikeMatch,
                any: false,
                expr: operand(*left),
                pattern: operand(*right),
                escape_char: None,
            },
            op => Expr::BinaryOp {
                left: operand(*left),
                op,
                right: operand(*right),
            },
        },
        Expr::UnaryOp { op, expr } => Expr::UnaryOp {
            op,
            expr: operand(*expr),
        },
        Expr::Between {
            expr,
            negated,
            low,
            high,
        } => {
            // PostgreSQL keeps `x BETWEEN a AND b` as `x >= a AND x <= b`.
            let (lo_op, hi_op, join) = if negated {
                (BinaryOperator::Lt, BinaryOperator::Gt, BinaryOperator::Or)
            } else {
                (
                    BinaryOperator::GtEq,
                    BinaryOperator::LtEq,
                    BinaryOperator::And,
                )
            };
            let x = (*expr).clone();
            canon(bin(bin(*expr, lo_op, *low), join, bin(x, hi_op, *high)))
        }
        Expr::In {
            expr,
            target: InTarget::List(list),
            negated,
            ..
        } => in_list(*expr, list, negated),
        Expr::AnyOp {
            left,
            compare_op: BinaryOperator::Eq,
            right,
            ..
        } => match array_elems(*right) {
            Ok(list) => in_list(*left, list, false),
            Err(right) => Expr::AnyOp {
                left: operand(*left),
                compare_op: BinaryOperator::Eq,
                right: operand(*right),
                is_some: false,
            },
        },
        Expr::AllOp {
            left,
            compare_op: BinaryOperator::NotEq,
            right,
        } => match array_elems(*right) {
            Ok(list) => in_list(*left, list, true),
            Err(right) => Expr::AllOp {
                left: operand(*left),
                compare_op: BinaryOperator::NotEq,
                right: operand(*right),
            },
        },
        Expr::Like {
            negated,
            any,
            expr,
            pattern,
            escape_char,
        } => Expr::Like {
            negated,
            any,
            expr: operand(*expr),
            pattern: operand(*pattern),
            escape_char,
        },
        Expr::ILike {
            negated,
            any,
            expr,
            pattern,
            escape_char,
        } => Expr::ILike {
            negated,
            any,
            expr: operand(*expr),
            pattern: operand(*pattern),
            escape_char,
        },
        Expr::IsNull(x) => Expr::IsNull(operand(*x)),
        Expr::IsNotNull(x) => Expr::IsNotNull(operand(*x)),
        Expr::IsTrue(x) => Expr::IsTrue(operand(*x)),
        Expr::IsNotTrue(x) => Expr::IsNotTrue(operand(*x)),
        Expr::IsFalse(x) => Expr::IsFalse(operand(*x)),
        Expr::IsNotFalse(x) => Expr::IsNotFalse(operand(*x)),
        Expr::IsDistinctFrom(a, b) => Expr::IsDistinctFrom(operand(*a), operand(*b)),
        Expr::IsNotDistinctFrom(a, b) => Expr::IsNotDistinctFrom(operand(*a), operand(*b)),
        Expr::Tuple(items) => Expr::Tuple(items.into_iter().map(canon).collect()),
        Expr::Array(mut a) => {
            a.elem = a.elem.into_iter().map(canon).collect();
            Expr::Array(a)
        }
        Expr::Case {
            case_token,
            end_token,
            operand: op,
            conditions,
            else_result,
        } => Expr::Case {
            case_token,
            end_token,
            operand: op.map(|o| Box::new(canon(*o))),
            conditions: conditions
                .into_iter()
                .map(|w| CaseWhen {
                    condition: canon(w.condition),
                    result: canon(w.result),
                })
                .collect(),
            else_result: else_result.map(|o| Box::new(canon(*o))),
        },
        Expr::Function(mut f) => {
            for part in &mut f.name.0 {
                if let ObjectNamePart::Identifier(i) = part {
                    *i = ident(i.clone());
                }
            }
            if let FunctionArguments::List(list) = &mut f.args {
                // MariaDB prints `count(*)` as `count(0)`.
                let is_count = f.name.to_string() == "count";
                if is_count && BOOL_AS_INT.with(Cell::get) && list.args.len() == 1 {
                    if let FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(v))) =
                        &list.args[0]
                    {
                        if matches!(&v.value, Value::Number(n, _) if n == "0") {
                            list.args[0] = FunctionArg::Unnamed(FunctionArgExpr::Wildcard);
                        }
                    }
                }
                for a in &mut list.args {
                    let slot = match a {
                        FunctionArg::Named { arg, .. } => arg,
                        FunctionArg::ExprNamed { arg, .. } => arg,
                        FunctionArg::Unnamed(arg) => arg,
                    };
                    if let FunctionArgExpr::Expr(x) = slot {
                        *x = canon(x.clone());
                    }
                }
            }
            Expr::Function(f)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(d: Dialect, s: &str) -> String {
        normalize_expr(d, s).unwrap_or_else(|| panic!("{s:?} parses"))
    }

    #[test]
    fn postgres_printouts_equal_what_was_written() {
        let pg = Dialect::Postgres;
        for (written, printed) in [
            ("price > 0", "(price > (0)::numeric)"),
            ("score >= 0 AND score <= 100", "((score >= 0) AND (score <= 100))"),
            ("score BETWEEN 0 AND 100", "((score >= 0) AND (score <= 100))"),
            (
                "status IN ('a', 'b')",
                "((status)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[]))",
            ),
            (
                "status NOT IN ('a', 'b')",
                "((status)::text <> ALL ((ARRAY['a'::character varying, 'b'::character varying])::text[]))",
            ),
            ("name LIKE 'a%'", "((name)::text ~~ 'a%'::text)"),
            ("length(name) > 2", "(length((name)::text) > 2)"),
            ("a IS NOT NULL OR b IS NOT NULL", "((a IS NOT NULL) OR (b IS NOT NULL))"),
            ("amount <> 1.50", "(amount <> 1.5)"),
            ("deleted_at is null", "(deleted_at IS NULL)"),
        ] {
            assert_eq!(n(pg, written), n(pg, printed), "{written} vs {printed}");
        }
    }

    #[test]
    fn mariadb_and_sqlite_spellings_equal_what_was_written() {
        let my = Dialect::Mysql;
        assert_eq!(n(my, "score >= 0"), n(my, "`score` >= 0"));
        assert_eq!(n(my, "status IN ('a','b')"), n(my, "`status` in ('a','b')"));
        let lite = Dialect::Sqlite;
        assert_eq!(
            n(lite, "x > (0) AND y < ')'"),
            n(lite, "\"x\" > 0 and y < ')'")
        );
    }

    #[test]
    fn a_changed_expression_is_not_equal() {
        let pg = Dialect::Postgres;
        assert_ne!(n(pg, "price > 0"), n(pg, "(price > (1)::numeric)"));
        assert_ne!(n(pg, "a > 0 AND b > 0"), n(pg, "a > 0 OR b > 0"));
        // Parentheses that change the grouping are kept.
        assert_ne!(n(pg, "(a + b) * c > 0"), n(pg, "a + (b * c) > 0"));
        assert_eq!(n(pg, "a + b * c > 0"), n(pg, "a + (b * c) > 0"));
        assert!(!same_expr(pg, "x IN (1, 2)", "x IN (1, 3)"));
        assert!(same_expr(pg, "X In (1,2)", "x = ANY (ARRAY[1, 2])"));
    }

    #[test]
    fn index_statements_give_their_key_and_condition() {
        let (key, pred) = index_parts(
            Dialect::Sqlite,
            "CREATE UNIQUE INDEX \"ux\" ON \"t\" ((lower(email)), id) WHERE deleted_at IS NULL",
        )
        .expect("parses");
        assert_eq!(key, ["(lower(email))", "id"]);
        assert_eq!(pred.as_deref(), Some("deleted_at IS NULL"));
        assert!(same_expr(Dialect::Sqlite, &key[0], "lower(email)"));
    }

    #[test]
    fn sqlite_enums_are_read_from_column_checks() {
        let sql = "CREATE TABLE \"t\" (\"id\" INTEGER, \"s\" TEXT NOT NULL CHECK (\"s\" IN ('a', 'it''s')), \"n\" INTEGER CHECK (n > 0))";
        assert_eq!(
            column_value_lists(Dialect::Sqlite, sql),
            [("s".to_owned(), vec!["a".to_owned(), "it's".to_owned()])]
        );
    }

    #[test]
    fn bad_expressions_are_refused() {
        assert!(check_expr("").is_err());
        assert!(check_expr("   ").is_err());
        assert!(check_expr("a >").is_err());
        assert!(check_expr("a > 0 b").is_err());
        assert!(check_expr("a > 0); DROP TABLE t; --").is_err());
        let deep = format!("{}1{}", "(".repeat(5000), ")".repeat(5000));
        assert!(check_expr(&deep).is_err(), "deep nesting is a parse error");
        assert!(check_expr("a >= 0 AND b ~~ 'x'").is_ok());
        assert_eq!(normalize_expr(Dialect::Postgres, "a >"), None);
    }
}
