//! SQLite rules: `ALTER TABLE` forms SQLite refuses (errors before the revision runs),
//! `ADD COLUMN` restrictions, and table rebuilds.

use sqlparser::ast::{
    AlterTableOperation, ColumnOption, Expr, GeneratedExpressionMode, ObjectType,
    RenameTableNameKind, Statement, UnaryOperator,
};

use super::schema::table_key;
use super::{Hit, StatementCtx};
use crate::sql::{ident, object_name};

/// The SQLite rules on one parsed statement.
pub fn check(ctx: &StatementCtx) -> Vec<Hit> {
    let mut hits = Vec::new();
    let Statement::AlterTable(alter) = ctx.statement else {
        return hits;
    };
    let table = object_name(&alter.name);
    if alter.operations.len() > 1 {
        hits.push(Hit::new(
            "sqlite-unsupported-alter",
            format!(
                "ALTER TABLE {table} makes {} changes in one statement; SQLite takes one",
                alter.operations.len()
            ),
        ));
    }
    for op in &alter.operations {
        match op {
            AlterTableOperation::AddColumn { column_def, .. } => {
                let column = ident(&column_def.name);
                let mut not_null = false;
                let mut default = None;
                for option in &column_def.options {
                    match &option.option {
                        ColumnOption::PrimaryKey(_) => {
                            hits.push(restriction(&table, &column, "is added as a PRIMARY KEY"))
                        }
                        ColumnOption::Unique(_) => {
                            hits.push(restriction(&table, &column, "is added UNIQUE"))
                        }
                        ColumnOption::NotNull => not_null = true,
                        ColumnOption::Default(expr) => default = Some(expr),
                        ColumnOption::Generated {
                            generation_expr_mode: Some(GeneratedExpressionMode::Stored),
                            ..
                        } => hits.push(restriction(
                            &table,
                            &column,
                            "is added as a STORED generated column",
                        )),
                        _ => {}
                    }
                }
                match default {
                    Some(expr) if !is_constant(expr) => hits.push(restriction(
                        &table,
                        &column,
                        &format!("has the non-constant default {expr}"),
                    )),
                    Some(Expr::Value(v))
                        if not_null && v.to_string().eq_ignore_ascii_case("null") =>
                    {
                        hits.push(restriction(
                            &table,
                            &column,
                            "is NOT NULL with a NULL default",
                        ))
                    }
                    None if not_null => hits.push(restriction(
                        &table,
                        &column,
                        "is added NOT NULL without a default",
                    )),
                    _ => {}
                }
            }
            AlterTableOperation::DropColumn { .. }
            | AlterTableOperation::RenameColumn { .. }
            | AlterTableOperation::RenameTable { .. } => {}
            other => {
                let shown = other.to_string();
                let shown = crate::sql::analyse::excerpt(&shown);
                hits.push(Hit::new(
                    "sqlite-unsupported-alter",
                    format!("SQLite can't ALTER TABLE {table} {shown}"),
                ));
            }
        }
    }
    // A rebuild: the table renamed into the place of one this revision dropped.
    for op in &alter.operations {
        if let AlterTableOperation::RenameTable { table_name } = op {
            let (RenameTableNameKind::As(to) | RenameTableNameKind::To(to)) = table_name;
            let to = object_name(to);
            if ctx.state.dropped_here.contains(&table_key(&to)) {
                hits.push(Hit::new(
                    "sqlite-table-rebuild",
                    format!("{table} replaces {to}, which this revision dropped: a table rebuild"),
                ));
            }
        }
    }
    hits
}

/// Whether a statement is a `DROP TABLE`, for the rebuild rule's bookkeeping.
pub fn dropped_tables(statement: &Statement) -> Vec<String> {
    match statement {
        Statement::Drop {
            object_type: ObjectType::Table,
            names,
            ..
        } => names.iter().map(|n| table_key(&object_name(n))).collect(),
        _ => Vec::new(),
    }
}

fn restriction(table: &str, column: &str, what: &str) -> Hit {
    Hit::new(
        "sqlite-add-column-restriction",
        format!("{table}.{column} {what}"),
    )
}

/// Whether a default is a constant SQLite accepts in ADD COLUMN: a literal, or a signed
/// number. `CURRENT_TIMESTAMP` and parenthesised expressions are refused.
fn is_constant(expr: &Expr) -> bool {
    match expr {
        Expr::Value(_) => true,
        Expr::UnaryOp {
            op: UnaryOperator::Minus | UnaryOperator::Plus,
            expr,
        } => matches!(expr.as_ref(), Expr::Value(_)),
        Expr::Identifier(id) => {
            // TRUE/FALSE may come through as identifiers.
            matches!(id.value.to_ascii_lowercase().as_str(), "true" | "false")
        }
        _ => false,
    }
}
