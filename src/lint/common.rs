//! Rules for every backend: data loss (`DROP TABLE`, `DROP COLUMN`), renames that break
//! the running application, an empty downgrade, statements the parser can't read.

use sqlparser::ast::{AlterTableOperation, ObjectType, Statement};

use super::{Direction, Hit, StatementCtx};
use crate::sql::{ident, object_name};

/// The rules for all backends on one parsed statement.
pub fn check(ctx: &StatementCtx) -> Vec<Hit> {
    let mut hits = Vec::new();
    if ctx.direction == Direction::Downgrade {
        // A downgrade drops what its upgrade created: that is its job.
        return hits;
    }
    match ctx.statement {
        Statement::Drop {
            object_type: ObjectType::Table,
            names,
            ..
        } => {
            for n in names {
                let table = object_name(n);
                if ctx.existing(&table) {
                    hits.push(Hit::new(
                        "drop-table",
                        format!("DROP TABLE {table}, which existed before this revision"),
                    ));
                }
            }
        }
        Statement::RenameTable(renames) => {
            for r in renames {
                let table = object_name(&r.old_name);
                if ctx.existing(&table) {
                    hits.push(rename_table(&table, &object_name(&r.new_name)));
                }
            }
        }
        Statement::AlterTable(alter) => {
            let table = object_name(&alter.name);
            if !ctx.existing(&table) {
                return hits;
            }
            for op in &alter.operations {
                match op {
                    AlterTableOperation::DropColumn { column_names, .. } => {
                        for c in column_names {
                            hits.push(Hit::new(
                                "drop-column",
                                format!("DROP COLUMN {}.{}", table, ident(c)),
                            ));
                        }
                    }
                    AlterTableOperation::RenameColumn {
                        old_column_name,
                        new_column_name,
                    } => hits.push(rename_column(
                        &table,
                        &ident(old_column_name),
                        &ident(new_column_name),
                    )),
                    AlterTableOperation::ChangeColumn {
                        old_name, new_name, ..
                    } if ident(old_name) != ident(new_name) => {
                        hits.push(rename_column(&table, &ident(old_name), &ident(new_name)));
                    }
                    AlterTableOperation::RenameTable { table_name } => {
                        let (sqlparser::ast::RenameTableNameKind::As(to)
                        | sqlparser::ast::RenameTableNameKind::To(to)) = table_name;
                        hits.push(rename_table(&table, &object_name(to)));
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
    hits
}

fn rename_table(from: &str, to: &str) -> Hit {
    Hit::new("rename-table", format!("table {from} is renamed to {to}"))
}

fn rename_column(table: &str, from: &str, to: &str) -> Hit {
    Hit::new(
        "rename-column",
        format!("column {table}.{from} is renamed to {to}"),
    )
}
