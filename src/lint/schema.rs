//! What earlier revisions built, as far as the rules need it: which tables exist (and
//! which revision created them), their columns' types, and which columns have a
//! validated `CHECK (column IS NOT NULL)`. Filled by walking revisions in upgrade order.

use std::collections::{BTreeMap, BTreeSet};

use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, BinaryOperator, Expr, RenameTableNameKind,
    Statement, TableConstraint,
};

use crate::sql::{ident, object_name};

/// The key tables are known by: normalised and unqualified (`public.Users` and `users`
/// are one table to the rules; schema-qualified twins are rare in one project).
pub fn table_key(name: &str) -> String {
    super::last_part(name).to_owned()
}

/// One known table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownTable {
    /// The revision whose SQL created it.
    pub created_by: String,
    /// Column name → type as the parser prints it, lower-cased.
    pub columns: BTreeMap<String, String>,
    /// Columns with a validated `CHECK (column IS NOT NULL)` constraint.
    pub not_null_checked: BTreeSet<String>,
    /// Check constraints `CHECK (column IS NOT NULL)` added `NOT VALID`: name → column.
    pub pending_checks: BTreeMap<String, String>,
}

/// The tables earlier revisions created, for one backend.
#[derive(Debug, Clone, Default)]
pub struct KnownSchema {
    pub tables: BTreeMap<String, KnownTable>,
}

impl KnownSchema {
    pub fn table(&self, name: &str) -> Option<&KnownTable> {
        self.tables.get(&table_key(name))
    }

    /// The type of `table.column`, when a revision declared it.
    pub fn column_type(&self, table: &str, column: &str) -> Option<&str> {
        self.table(table)?.columns.get(column).map(String::as_str)
    }

    /// Records what `statement` (of revision `revision`) does to the tables.
    pub fn apply(&mut self, revision: &str, statement: &Statement) {
        match statement {
            Statement::CreateTable(create) => {
                let mut table = KnownTable {
                    created_by: revision.to_owned(),
                    ..KnownTable::default()
                };
                for c in &create.columns {
                    table
                        .columns
                        .insert(ident(&c.name), c.data_type.to_string().to_lowercase());
                }
                for constraint in &create.constraints {
                    if let TableConstraint::Check(check) = constraint {
                        if let Some(col) = is_not_null_check(&check.expr) {
                            table.not_null_checked.insert(col);
                        }
                    }
                }
                self.tables
                    .insert(table_key(&object_name(&create.name)), table);
            }
            Statement::Drop { names, .. } => {
                for n in names {
                    self.tables.remove(&table_key(&object_name(n)));
                }
            }
            Statement::RenameTable(renames) => {
                for r in renames {
                    self.rename(&object_name(&r.old_name), &object_name(&r.new_name));
                }
            }
            Statement::AlterTable(alter) => {
                let name = object_name(&alter.name);
                for op in &alter.operations {
                    self.alter(&name, op);
                }
            }
            _ => {}
        }
    }

    fn rename(&mut self, from: &str, to: &str) {
        if let Some(t) = self.tables.remove(&table_key(from)) {
            self.tables.insert(table_key(to), t);
        }
    }

    fn alter(&mut self, name: &str, op: &AlterTableOperation) {
        if let AlterTableOperation::RenameTable { table_name } = op {
            let (RenameTableNameKind::As(to) | RenameTableNameKind::To(to)) = table_name;
            self.rename(name, &object_name(to));
            return;
        }
        // A table no revision created (it predates the revisions) is tracked from its
        // first ALTER on, so later revisions see the columns and checks it gains.
        let table = self.tables.entry(table_key(name)).or_default();
        match op {
            AlterTableOperation::AddColumn { column_def, .. } => {
                table.columns.insert(
                    ident(&column_def.name),
                    column_def.data_type.to_string().to_lowercase(),
                );
            }
            AlterTableOperation::DropColumn { column_names, .. } => {
                for c in column_names {
                    table.columns.remove(&ident(c));
                    table.not_null_checked.remove(&ident(c));
                }
            }
            AlterTableOperation::RenameColumn {
                old_column_name,
                new_column_name,
            } => {
                if let Some(ty) = table.columns.remove(&ident(old_column_name)) {
                    table.columns.insert(ident(new_column_name), ty);
                }
            }
            AlterTableOperation::ChangeColumn {
                old_name,
                new_name,
                data_type,
                ..
            } => {
                table.columns.remove(&ident(old_name));
                table
                    .columns
                    .insert(ident(new_name), data_type.to_string().to_lowercase());
            }
            AlterTableOperation::ModifyColumn {
                col_name,
                data_type,
                ..
            } => {
                table
                    .columns
                    .insert(ident(col_name), data_type.to_string().to_lowercase());
            }
            AlterTableOperation::AlterColumn {
                column_name,
                op: AlterColumnOperation::SetDataType { data_type, .. },
            } => {
                table
                    .columns
                    .insert(ident(column_name), data_type.to_string().to_lowercase());
            }
            AlterTableOperation::AddConstraint {
                constraint: TableConstraint::Check(check),
                not_valid,
            } => {
                if let Some(col) = is_not_null_check(&check.expr) {
                    if *not_valid {
                        if let Some(n) = &check.name {
                            table.pending_checks.insert(ident(n), col);
                        }
                    } else {
                        table.not_null_checked.insert(col);
                    }
                }
            }
            AlterTableOperation::ValidateConstraint { name } => {
                if let Some(col) = table.pending_checks.remove(&ident(name)) {
                    table.not_null_checked.insert(col);
                }
            }
            _ => {}
        }
    }
}

/// The column of a `column IS NOT NULL` check expression.
pub fn is_not_null_check(expr: &Expr) -> Option<String> {
    match expr {
        Expr::IsNotNull(inner) => match inner.as_ref() {
            Expr::Identifier(id) => Some(ident(id)),
            Expr::Nested(e) => is_not_null_check(&Expr::IsNotNull(e.clone())),
            _ => None,
        },
        Expr::Nested(e) => is_not_null_check(e),
        Expr::BinaryOp {
            op: BinaryOperator::And,
            left,
            ..
        } => is_not_null_check(left),
        _ => None,
    }
}
