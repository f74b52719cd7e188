//! What a parsed statement touches: the objects it creates, alters, drops, renames,
//! writes, references or reads, as [`Touch`]es with normalised names.

use sqlparser::ast::{
    AlterColumnOperation, AlterIndexOperation, AlterTableOperation, AlterTypeOperation, ColumnDef,
    ColumnOption, CreateIndex, CreateTable, CreateTableLikeKind, FromTable, Ident, IndexColumn,
    ObjectName, ObjectNamePart, ObjectType, Query, RenameTableNameKind, SchemaName, SetExpr,
    Statement, TableConstraint, TableFactor, TableObject, TableWithJoins, UpdateTableFromKind,
};

use super::analyse::{Action, ObjectKind, ObjectRef, Touch};

/// An identifier as the database folds it: unquoted lower-cased, quoted kept.
pub fn ident(id: &Ident) -> String {
    if id.quote_style.is_some() {
        id.value.clone()
    } else {
        id.value.to_lowercase()
    }
}

/// A (possibly qualified) name, each part normalised by [`ident`], joined with `.`.
pub fn object_name(name: &ObjectName) -> String {
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|part| match part {
            ObjectNamePart::Identifier(id) => ident(id),
            ObjectNamePart::Function(f) => f.to_string(),
        })
        .collect();
    parts.join(".")
}

/// Collects the touches of one statement, in statement order, without duplicates.
pub fn touches(statement: &Statement) -> Vec<Touch> {
    let mut out = Touches(Vec::new());
    out.statement(statement);
    out.0
}

struct Touches(Vec<Touch>);

impl Touches {
    fn push(&mut self, kind: ObjectKind, name: String, table: Option<&str>, action: Action) {
        let touch = Touch {
            object: ObjectRef {
                kind,
                name,
                table: table.map(str::to_owned),
            },
            action,
        };
        if !self.0.contains(&touch) {
            self.0.push(touch);
        }
    }

    fn table(&mut self, name: &ObjectName, action: Action) {
        self.push(ObjectKind::Table, object_name(name), None, action);
    }

    fn statement(&mut self, statement: &Statement) {
        match statement {
            Statement::CreateTable(create) => self.create_table(create),
            Statement::AlterTable(alter) => {
                let table = object_name(&alter.name);
                self.push(ObjectKind::Table, table.clone(), None, Action::Alter);
                for op in &alter.operations {
                    self.alter_table_op(&table, op);
                }
            }
            Statement::CreateIndex(index) => self.create_index(index),
            Statement::Drop {
                object_type,
                names,
                table,
                ..
            } => {
                let kind = match object_type {
                    ObjectType::Table | ObjectType::ForeignTable => ObjectKind::Table,
                    ObjectType::View | ObjectType::MaterializedView => ObjectKind::View,
                    ObjectType::Index => ObjectKind::Index,
                    ObjectType::Schema => ObjectKind::Schema,
                    ObjectType::Sequence => ObjectKind::Sequence,
                    ObjectType::Type => ObjectKind::Type,
                    _ => ObjectKind::Other,
                };
                let owner = table.as_ref().map(object_name);
                for name in names {
                    self.push(kind, object_name(name), owner.as_deref(), Action::Drop);
                }
                if let Some(owner) = owner {
                    self.push(ObjectKind::Table, owner, None, Action::Alter);
                }
            }
            Statement::CreateView(view) => {
                self.push(
                    ObjectKind::View,
                    object_name(&view.name),
                    None,
                    Action::Create,
                );
                self.query(&view.query);
            }
            Statement::AlterView(view) => {
                self.push(
                    ObjectKind::View,
                    object_name(&view.name),
                    None,
                    Action::Alter,
                );
            }
            Statement::CreateSequence { name, .. } => {
                self.push(
                    ObjectKind::Sequence,
                    object_name(name),
                    None,
                    Action::Create,
                );
            }
            Statement::CreateType { name, .. } => {
                self.push(ObjectKind::Type, object_name(name), None, Action::Create);
            }
            Statement::CreateDomain(domain) => {
                self.push(
                    ObjectKind::Type,
                    object_name(&domain.name),
                    None,
                    Action::Create,
                );
            }
            Statement::DropDomain(domain) => {
                self.push(
                    ObjectKind::Type,
                    object_name(&domain.name),
                    None,
                    Action::Drop,
                );
            }
            Statement::AlterType(alter) => {
                let name = object_name(&alter.name);
                let action = match &alter.operation {
                    AlterTypeOperation::Rename(rename) => Action::Rename {
                        to: ident(&rename.new_name),
                    },
                    _ => Action::Alter,
                };
                self.push(ObjectKind::Type, name, None, action);
            }
            Statement::CreateSchema { schema_name, .. } => {
                let name = match schema_name {
                    SchemaName::Simple(n) | SchemaName::NamedAuthorization(n, _) => object_name(n),
                    SchemaName::UnnamedAuthorization(id) => ident(id),
                };
                self.push(ObjectKind::Schema, name, None, Action::Create);
            }
            Statement::AlterIndex { name, operation } => {
                let AlterIndexOperation::RenameIndex { index_name } = operation;
                self.push(
                    ObjectKind::Index,
                    object_name(name),
                    None,
                    Action::Rename {
                        to: object_name(index_name),
                    },
                );
            }
            Statement::RenameTable(renames) => {
                for r in renames {
                    self.table(
                        &r.old_name,
                        Action::Rename {
                            to: object_name(&r.new_name),
                        },
                    );
                }
            }
            Statement::CreateFunction(f) => {
                self.push(
                    ObjectKind::Function,
                    object_name(&f.name),
                    None,
                    Action::Create,
                );
            }
            Statement::DropFunction(f) => {
                for desc in &f.func_desc {
                    self.push(
                        ObjectKind::Function,
                        object_name(&desc.name),
                        None,
                        Action::Drop,
                    );
                }
            }
            Statement::CreateTrigger(t) => {
                let table = object_name(&t.table_name);
                self.push(
                    ObjectKind::Trigger,
                    object_name(&t.name),
                    Some(&table),
                    Action::Create,
                );
            }
            Statement::DropTrigger(t) => {
                let table = t.table_name.as_ref().map(object_name);
                self.push(
                    ObjectKind::Trigger,
                    object_name(&t.trigger_name),
                    table.as_deref(),
                    Action::Drop,
                );
            }
            Statement::Insert(insert) => {
                if let TableObject::TableName(name) = &insert.table {
                    self.table(name, Action::Insert);
                }
                if let Some(source) = &insert.source {
                    self.query(source);
                }
            }
            Statement::Update(update) => {
                self.table_with_joins(&update.table, Action::Update, true);
                if let Some(
                    UpdateTableFromKind::BeforeSet(from) | UpdateTableFromKind::AfterSet(from),
                ) = &update.from
                {
                    for t in from {
                        self.table_with_joins(t, Action::Reads, false);
                    }
                }
            }
            Statement::Delete(delete) => {
                for name in &delete.tables {
                    self.table(name, Action::Delete);
                }
                let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) =
                    &delete.from;
                for t in from {
                    // Without an explicit target list, the FROM table is the target.
                    let action = if delete.tables.is_empty() {
                        Action::Delete
                    } else {
                        Action::Reads
                    };
                    self.table_with_joins(t, action, true);
                }
                for t in delete.using.iter().flatten() {
                    self.table_with_joins(t, Action::Reads, false);
                }
            }
            Statement::Truncate(truncate) => {
                for target in &truncate.table_names {
                    self.table(&target.name, Action::Delete);
                }
            }
            Statement::Query(query) => self.query(query),
            _ => {}
        }
    }

    fn create_table(&mut self, create: &CreateTable) {
        let table = object_name(&create.name);
        self.push(ObjectKind::Table, table.clone(), None, Action::Create);
        for column in &create.columns {
            self.column_def(&table, column, Action::Create);
        }
        for constraint in &create.constraints {
            self.constraint(&table, constraint, Action::Create);
        }
        if let Some(like) = &create.like {
            let (CreateTableLikeKind::Parenthesized(like) | CreateTableLikeKind::Plain(like)) =
                like;
            self.table(&like.name, Action::Reads);
        }
        if let Some(query) = &create.query {
            self.query(query);
        }
    }

    fn column_def(&mut self, table: &str, column: &ColumnDef, action: Action) {
        let name = ident(&column.name);
        self.push(
            ObjectKind::Column,
            name.clone(),
            Some(table),
            action.clone(),
        );
        for option in &column.options {
            let label = |kind: &str| match &option.name {
                Some(n) => ident(n),
                None => format!("{kind}({name})"),
            };
            match &option.option {
                ColumnOption::ForeignKey(fk) => {
                    let cname = fk
                        .name
                        .as_ref()
                        .map(ident)
                        .unwrap_or_else(|| label("foreign key"));
                    self.push(ObjectKind::Constraint, cname, Some(table), action.clone());
                    self.table(&fk.foreign_table, Action::References);
                }
                ColumnOption::PrimaryKey(_) => {
                    let cname = label("primary key");
                    self.push(ObjectKind::Constraint, cname, Some(table), action.clone());
                }
                ColumnOption::Unique(_) => {
                    let cname = label("unique");
                    self.push(ObjectKind::Constraint, cname, Some(table), action.clone());
                }
                ColumnOption::Check(_) => {
                    let cname = label("check");
                    self.push(ObjectKind::Constraint, cname, Some(table), action.clone());
                }
                _ => {}
            }
        }
    }

    fn constraint(&mut self, table: &str, constraint: &TableConstraint, action: Action) {
        let named = |name: &Option<Ident>, kind: &str, columns: Vec<String>| match name {
            Some(n) => ident(n),
            None => format!("{kind}({})", columns.join(", ")),
        };
        let (name, references) = match constraint {
            TableConstraint::Unique(c) => {
                (named(&c.name, "unique", index_columns(&c.columns)), None)
            }
            TableConstraint::PrimaryKey(c) => (
                named(&c.name, "primary key", index_columns(&c.columns)),
                None,
            ),
            TableConstraint::ForeignKey(c) => (
                named(
                    &c.name,
                    "foreign key",
                    c.columns.iter().map(ident).collect(),
                ),
                Some(&c.foreign_table),
            ),
            TableConstraint::Check(c) => (named(&c.name, "check", Vec::new()), None),
            TableConstraint::Index(c) => {
                let name = named(&c.name, "index", index_columns(&c.columns));
                self.push(ObjectKind::Index, name, Some(table), action);
                return;
            }
            TableConstraint::FulltextOrSpatial(c) => {
                let name = named(&c.opt_index_name, "index", index_columns(&c.columns));
                self.push(ObjectKind::Index, name, Some(table), action);
                return;
            }
            TableConstraint::PrimaryKeyUsingIndex(c) => (
                named(&c.name, "primary key", vec![ident(&c.index_name)]),
                None,
            ),
            TableConstraint::UniqueUsingIndex(c) => {
                (named(&c.name, "unique", vec![ident(&c.index_name)]), None)
            }
            TableConstraint::Exclude(c) => (named(&c.name, "exclude", Vec::new()), None),
        };
        self.push(ObjectKind::Constraint, name, Some(table), action);
        if let Some(target) = references {
            self.table(target, Action::References);
        }
    }

    fn alter_table_op(&mut self, table: &str, op: &AlterTableOperation) {
        let column = |this: &mut Self, id: &Ident, action: Action| {
            this.push(ObjectKind::Column, ident(id), Some(table), action);
        };
        match op {
            AlterTableOperation::AddColumn { column_def, .. } => {
                self.column_def(table, column_def, Action::Create);
            }
            AlterTableOperation::DropColumn { column_names, .. } => {
                for c in column_names {
                    column(self, c, Action::Drop);
                }
            }
            AlterTableOperation::RenameColumn {
                old_column_name,
                new_column_name,
            } => column(
                self,
                old_column_name,
                Action::Rename {
                    to: ident(new_column_name),
                },
            ),
            AlterTableOperation::ChangeColumn {
                old_name, new_name, ..
            } => {
                if ident(old_name) == ident(new_name) {
                    column(self, old_name, Action::Alter);
                } else {
                    column(
                        self,
                        old_name,
                        Action::Rename {
                            to: ident(new_name),
                        },
                    );
                }
            }
            AlterTableOperation::ModifyColumn { col_name, .. } => {
                column(self, col_name, Action::Alter);
            }
            AlterTableOperation::AlterColumn { column_name, op } => {
                let _: &AlterColumnOperation = op;
                column(self, column_name, Action::Alter);
            }
            AlterTableOperation::RenameTable { table_name } => {
                let (RenameTableNameKind::As(to) | RenameTableNameKind::To(to)) = table_name;
                self.push(
                    ObjectKind::Table,
                    table.to_owned(),
                    None,
                    Action::Rename {
                        to: object_name(to),
                    },
                );
            }
            AlterTableOperation::AddConstraint { constraint, .. } => {
                self.constraint(table, constraint, Action::Create);
            }
            AlterTableOperation::DropConstraint { name, .. }
            | AlterTableOperation::DropForeignKey { name, .. } => {
                self.push(
                    ObjectKind::Constraint,
                    ident(name),
                    Some(table),
                    Action::Drop,
                );
            }
            AlterTableOperation::DropPrimaryKey { .. } => {
                self.push(
                    ObjectKind::Constraint,
                    "primary key".to_owned(),
                    Some(table),
                    Action::Drop,
                );
            }
            AlterTableOperation::DropIndex { name } => {
                self.push(ObjectKind::Index, ident(name), Some(table), Action::Drop);
            }
            AlterTableOperation::RenameConstraint { old_name, new_name } => {
                self.push(
                    ObjectKind::Constraint,
                    ident(old_name),
                    Some(table),
                    Action::Rename {
                        to: ident(new_name),
                    },
                );
            }
            AlterTableOperation::ValidateConstraint { name } => {
                self.push(
                    ObjectKind::Constraint,
                    ident(name),
                    Some(table),
                    Action::Alter,
                );
            }
            _ => {}
        }
    }

    fn create_index(&mut self, index: &CreateIndex) {
        let table = object_name(&index.table_name);
        let name = match &index.name {
            Some(n) => object_name(n),
            None => format!("index({})", index_columns(&index.columns).join(", ")),
        };
        self.push(ObjectKind::Index, name, Some(&table), Action::Create);
        self.push(ObjectKind::Table, table, None, Action::Alter);
    }

    fn table_with_joins(&mut self, t: &TableWithJoins, action: Action, first_only: bool) {
        self.table_factor(&t.relation, action.clone());
        for join in &t.joins {
            let a = if first_only {
                Action::Reads
            } else {
                action.clone()
            };
            self.table_factor(&join.relation, a);
        }
    }

    fn table_factor(&mut self, factor: &TableFactor, action: Action) {
        match factor {
            TableFactor::Table { name, .. } => self.table(name, action),
            TableFactor::Derived { subquery, .. } => self.query(subquery),
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => self.table_with_joins(table_with_joins, Action::Reads, false),
            _ => {}
        }
    }

    /// Tables a query reads from its `FROM`/`JOIN` clauses and common table
    /// expressions (not tables named only inside expressions).
    fn query(&mut self, query: &Query) {
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                self.query(&cte.query);
            }
        }
        self.set_expr(&query.body);
    }

    fn set_expr(&mut self, body: &SetExpr) {
        match body {
            SetExpr::Select(select) => {
                for t in &select.from {
                    self.table_with_joins(t, Action::Reads, false);
                }
            }
            SetExpr::Query(q) => self.query(q),
            SetExpr::SetOperation { left, right, .. } => {
                self.set_expr(left);
                self.set_expr(right);
            }
            SetExpr::Insert(s) | SetExpr::Update(s) | SetExpr::Delete(s) => self.statement(s),
            SetExpr::Table(t) => {
                if let Some(name) = &t.table_name {
                    let name = match &t.schema_name {
                        Some(schema) => format!("{}.{}", ident(schema), ident(name)),
                        None => ident(name),
                    };
                    self.push(ObjectKind::Table, name, None, Action::Reads);
                }
            }
            _ => {}
        }
    }
}

/// The columns of an index as written: plain column names normalised, expressions as
/// their SQL text.
pub fn index_columns(columns: &[IndexColumn]) -> Vec<String> {
    columns
        .iter()
        .map(|c| match &c.column.expr {
            sqlparser::ast::Expr::Identifier(id) => ident(id),
            other => other.to_string(),
        })
        .collect()
}
