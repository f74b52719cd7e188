//! MySQL/MariaDB rules: ALTERs that copy the table, TEXT/BLOB indexes without a prefix
//! length, and several DDL statements in one revision (DDL commits implicitly).

use sqlparser::ast::{
    AlterColumnOperation, AlterTableAlgorithm, AlterTableOperation, ColumnDef, Expr, IndexColumn,
    Statement, TableConstraint,
};

use super::{Direction, Hit, StatementCtx};
use crate::sql::{ident, object_name};

const TEXT_TYPES: &[&str] = &[
    "text",
    "tinytext",
    "mediumtext",
    "longtext",
    "blob",
    "tinyblob",
    "mediumblob",
    "longblob",
];

/// Whether a statement is DDL (MySQL commits implicitly before and after it).
pub fn is_ddl(statement: &Statement) -> bool {
    matches!(
        statement,
        Statement::CreateTable(_)
            | Statement::AlterTable(_)
            | Statement::CreateIndex(_)
            | Statement::Drop { .. }
            | Statement::RenameTable(_)
            | Statement::CreateView(_)
            | Statement::AlterView(_)
            | Statement::Truncate(_)
            | Statement::CreateTrigger(_)
            | Statement::DropTrigger(_)
            | Statement::CreateFunction(_)
            | Statement::CreateProcedure { .. }
            | Statement::DropFunction(_)
            | Statement::DropProcedure { .. }
    )
}

/// The MySQL rules on one parsed statement.
pub fn check(ctx: &StatementCtx) -> Vec<Hit> {
    let mut hits = Vec::new();
    if is_ddl(ctx.statement) && ctx.direction == Direction::Upgrade && ctx.state.ddl_count == 1 {
        // The second DDL statement: the first one has already committed when it runs.
        hits.push(Hit::new(
            "mysql-several-ddl",
            "this is the second DDL statement of the revision; the first has committed by the time it runs",
        ));
    }
    match ctx.statement {
        Statement::CreateTable(create) => {
            let table = object_name(&create.name);
            for constraint in &create.constraints {
                if let Some(columns) = index_columns(constraint) {
                    text_without_prefix(ctx, &table, columns, Some(&create.columns), &mut hits);
                }
            }
        }
        Statement::CreateIndex(index) => {
            let table = object_name(&index.table_name);
            let fulltext = index
                .using
                .as_ref()
                .is_some_and(|u| u.to_string().eq_ignore_ascii_case("fulltext"));
            if !fulltext {
                text_without_prefix(ctx, &table, &index.columns, None, &mut hits);
            }
        }
        Statement::AlterTable(alter) => {
            let table = object_name(&alter.name);
            for op in &alter.operations {
                if let AlterTableOperation::AddConstraint { constraint, .. } = op {
                    if let Some(columns) = index_columns(constraint) {
                        text_without_prefix(ctx, &table, columns, None, &mut hits);
                    }
                }
            }
            if ctx.direction == Direction::Upgrade && ctx.existing(&table) {
                if let Some(what) = copies_table(ctx, &table, &alter.operations) {
                    hits.push(Hit::new(
                        "mysql-table-copy",
                        format!("{what}: ALTER TABLE {table} copies the table"),
                    ));
                }
            }
        }
        _ => {}
    }
    hits
}

/// The columns of a constraint that builds a B-tree index (not FULLTEXT/SPATIAL).
fn index_columns(constraint: &TableConstraint) -> Option<&[IndexColumn]> {
    match constraint {
        TableConstraint::Unique(c) => Some(&c.columns),
        TableConstraint::PrimaryKey(c) => Some(&c.columns),
        TableConstraint::Index(c) => Some(&c.columns),
        _ => None,
    }
}

/// `mysql-text-index-no-prefix` for each plain column of a TEXT/BLOB type.
fn text_without_prefix(
    ctx: &StatementCtx,
    table: &str,
    columns: &[IndexColumn],
    declared: Option<&[ColumnDef]>,
    hits: &mut Vec<Hit>,
) {
    for c in columns {
        let Expr::Identifier(id) = &c.column.expr else {
            // `body(191)` (a prefix) or an expression.
            continue;
        };
        let name = ident(id);
        let ty = declared
            .and_then(|cols| cols.iter().find(|d| ident(&d.name) == name))
            .map(|d| d.data_type.to_string().to_lowercase())
            .or_else(|| ctx.known.column_type(table, &name).map(str::to_owned));
        if let Some(ty) = ty {
            if TEXT_TYPES.contains(&ty.as_str()) {
                hits.push(Hit::new(
                    "mysql-text-index-no-prefix",
                    format!("{table}.{name} is {ty} and is indexed without a prefix length"),
                ));
            }
        }
    }
}

/// Why an ALTER TABLE copies the table, if it does: `None` when it says
/// `ALGORITHM=INSTANT`/`INPLACE` (MySQL then refuses rather than copies) or when every
/// operation can run in place.
fn copies_table(ctx: &StatementCtx, table: &str, ops: &[AlterTableOperation]) -> Option<String> {
    let mut reason = None;
    for op in ops {
        match op {
            AlterTableOperation::Algorithm { algorithm, .. } => match algorithm {
                AlterTableAlgorithm::Copy => return Some("ALGORITHM=COPY".to_owned()),
                AlterTableAlgorithm::Instant | AlterTableAlgorithm::Inplace => return None,
                AlterTableAlgorithm::Default => {}
            },
            AlterTableOperation::ModifyColumn {
                col_name,
                data_type,
                ..
            } => {
                let column = ident(col_name);
                if type_changes(ctx, table, &column, &data_type.to_string()) {
                    reason.get_or_insert(format!("the type of {table}.{column} changes"));
                }
            }
            AlterTableOperation::ChangeColumn {
                old_name,
                data_type,
                ..
            } => {
                let column = ident(old_name);
                if type_changes(ctx, table, &column, &data_type.to_string()) {
                    reason.get_or_insert(format!("the type of {table}.{column} changes"));
                }
            }
            AlterTableOperation::AlterColumn {
                column_name,
                op: AlterColumnOperation::SetDataType { .. },
            } => {
                reason.get_or_insert(format!(
                    "the type of {table}.{} changes",
                    ident(column_name)
                ));
            }
            AlterTableOperation::DropPrimaryKey { .. } => {
                reason.get_or_insert("the primary key is dropped".to_owned());
            }
            AlterTableOperation::AddConstraint {
                constraint: TableConstraint::PrimaryKey(_),
                ..
            } => {
                reason.get_or_insert("a primary key is added".to_owned());
            }
            _ => {}
        }
    }
    reason
}

/// Whether `table.column` gets a type other than the one earlier revisions gave it
/// (unknown: assume it changes).
fn type_changes(ctx: &StatementCtx, table: &str, column: &str, new_type: &str) -> bool {
    ctx.known
        .column_type(table, column)
        .is_none_or(|old| !old.eq_ignore_ascii_case(new_type))
}
