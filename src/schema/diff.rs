//! The difference between two schemas, as a list of changes.
//!
//! Pure: both sides are brought to one dialect's form first
//! ([`Schema::normalized_for`]), then compared object by object. Tables and columns
//! match by name, indexes and check constraints by name, unique constraints by their
//! columns and foreign keys by everything but their name (SQLite does not keep those
//! names, and a rename of a constraint changes nothing a query can see).

use std::fmt;

use serde::Serialize;

use super::model::{
    same_sql, squash, CheckConstraint, Column, DefaultValue, ForeignKey, Index, Schema, Sequence,
    Table, UniqueConstraint, View,
};
use crate::core::Dialect;

/// One change that turns the old schema into the new one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    AddTable {
        table: String,
    },
    DropTable {
        table: String,
    },
    AddColumn {
        table: String,
        column: Column,
    },
    DropColumn {
        table: String,
        column: Column,
    },
    AlterColumn {
        table: String,
        from: Column,
        to: Column,
    },
    AlterPrimaryKey {
        table: String,
        from: Vec<String>,
        to: Vec<String>,
    },
    AddIndex {
        table: String,
        index: Index,
    },
    DropIndex {
        table: String,
        index: Index,
    },
    AddUnique {
        table: String,
        unique: UniqueConstraint,
    },
    DropUnique {
        table: String,
        unique: UniqueConstraint,
    },
    AddForeignKey {
        table: String,
        foreign_key: ForeignKey,
    },
    DropForeignKey {
        table: String,
        foreign_key: ForeignKey,
    },
    AddCheck {
        table: String,
        check: CheckConstraint,
    },
    DropCheck {
        table: String,
        check: CheckConstraint,
    },
    AlterTableComment {
        table: String,
        from: Option<String>,
        to: Option<String>,
    },
    AddView {
        view: View,
    },
    DropView {
        view: View,
    },
    AddSequence {
        sequence: Sequence,
    },
    DropSequence {
        sequence: Sequence,
    },
    AlterSequence {
        from: Sequence,
        to: Sequence,
    },
}

impl Change {
    /// The table the change is about.
    pub fn table(&self) -> &str {
        match self {
            Change::AddTable { table }
            | Change::DropTable { table }
            | Change::AddColumn { table, .. }
            | Change::DropColumn { table, .. }
            | Change::AlterColumn { table, .. }
            | Change::AlterPrimaryKey { table, .. }
            | Change::AddIndex { table, .. }
            | Change::DropIndex { table, .. }
            | Change::AddUnique { table, .. }
            | Change::DropUnique { table, .. }
            | Change::AddForeignKey { table, .. }
            | Change::DropForeignKey { table, .. }
            | Change::AddCheck { table, .. }
            | Change::DropCheck { table, .. }
            | Change::AlterTableComment { table, .. } => table,
            Change::AddView { view } | Change::DropView { view } => &view.name,
            Change::AddSequence { sequence }
            | Change::DropSequence { sequence }
            | Change::AlterSequence { to: sequence, .. } => &sequence.name,
        }
    }
}

fn show_default(d: &Option<DefaultValue>) -> String {
    match d {
        Some(d) => d.to_string(),
        None => "none".into(),
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::AddTable { table } => write!(f, "added table '{table}'"),
            Change::DropTable { table } => write!(f, "removed table '{table}'"),
            Change::AddColumn { table, column } => {
                write!(f, "added column '{table}.{}' ({})", column.name, column.ty)
            }
            Change::DropColumn { table, column } => {
                write!(f, "removed column '{table}.{}'", column.name)
            }
            Change::AlterColumn { table, from, to } => {
                let mut parts = Vec::new();
                if from.ty != to.ty {
                    parts.push(format!("type {} -> {}", from.ty, to.ty));
                }
                if from.nullable != to.nullable {
                    let word = |n: bool| if n { "NULL" } else { "NOT NULL" };
                    parts.push(format!("{} -> {}", word(from.nullable), word(to.nullable)));
                }
                if !same_default(&from.default, &to.default) {
                    parts.push(format!(
                        "default {} -> {}",
                        show_default(&from.default),
                        show_default(&to.default)
                    ));
                }
                if from.comment != to.comment {
                    parts.push(match &to.comment {
                        Some(c) => format!("comment -> {c:?}"),
                        None => "comment removed".into(),
                    });
                }
                if from.on_update_now != to.on_update_now {
                    parts.push(format!(
                        "on update now {} -> {}",
                        from.on_update_now, to.on_update_now
                    ));
                }
                if from.identity != to.identity {
                    let show = |i: &Option<crate::schema::model::Identity>| {
                        let i = i.unwrap_or(crate::schema::model::Identity::PLAIN);
                        format!(
                            "{} start {} increment {}",
                            if i.always { "always" } else { "by default" },
                            i.start,
                            i.increment
                        )
                    };
                    parts.push(format!(
                        "identity {} -> {}",
                        show(&from.identity),
                        show(&to.identity)
                    ));
                }
                if from.autoincrement != to.autoincrement {
                    parts.push(format!(
                        "autoincrement {} -> {}",
                        from.autoincrement, to.autoincrement
                    ));
                }
                write!(
                    f,
                    "altered column '{table}.{}': {}",
                    to.name,
                    parts.join(", ")
                )
            }
            Change::AlterPrimaryKey { table, from, to } => write!(
                f,
                "changed primary key of '{table}': ({}) -> ({})",
                from.join(", "),
                to.join(", ")
            ),
            Change::AddIndex { table, index } => {
                write!(
                    f,
                    "added {}index '{}' on {table}({}){}",
                    if index.unique { "unique " } else { "" },
                    index.name,
                    index.describe_key(),
                    index.describe_options(),
                )?;
                match &index.predicate {
                    Some(w) => write!(f, " where {w}"),
                    None => Ok(()),
                }
            }
            Change::DropIndex { table, index } => {
                write!(f, "removed index '{}' on '{table}'", index.name)
            }
            Change::AddUnique { table, unique } => write!(
                f,
                "added unique constraint on {table}({})",
                unique.columns.join(", ")
            ),
            Change::DropUnique { table, unique } => write!(
                f,
                "removed unique constraint on {table}({})",
                unique.columns.join(", ")
            ),
            Change::AddForeignKey {
                table,
                foreign_key: k,
            } => write!(
                f,
                "added foreign key {table}({}) -> {}({})",
                k.columns.join(", "),
                k.ref_table,
                k.ref_columns.join(", ")
            ),
            Change::DropForeignKey {
                table,
                foreign_key: k,
            } => write!(
                f,
                "removed foreign key {table}({}) -> {}({})",
                k.columns.join(", "),
                k.ref_table,
                k.ref_columns.join(", ")
            ),
            Change::AddCheck { table, check } => {
                write!(f, "added check constraint '{}' on '{table}'", check.name)
            }
            Change::DropCheck { table, check } => {
                write!(f, "removed check constraint '{}' on '{table}'", check.name)
            }
            Change::AddView { view } => write!(f, "added view '{}'", view.name),
            Change::DropView { view } => write!(f, "removed view '{}'", view.name),
            Change::AddSequence { sequence: q } => write!(
                f,
                "added sequence '{}' (start {}, increment {})",
                q.name, q.start, q.increment
            ),
            Change::DropSequence { sequence } => {
                write!(f, "removed sequence '{}'", sequence.name)
            }
            Change::AlterSequence { from, to } => write!(
                f,
                "altered sequence '{}': start {} -> {}, increment {} -> {}",
                to.name, from.start, to.start, from.increment, to.increment
            ),
            Change::AlterTableComment { table, to, .. } => match to {
                Some(c) => write!(f, "changed comment of table '{table}' to {c:?}"),
                None => write!(f, "removed comment of table '{table}'"),
            },
        }
    }
}

/// A dropped and an added column of one type in one table: maybe a rename.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SuspectedRename {
    pub table: String,
    pub from: String,
    pub to: String,
}

/// Everything that differs, in a stable order (by table, then by kind).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SchemaDiff {
    pub changes: Vec<Change>,
    pub suspected_renames: Vec<SuspectedRename>,
}

impl SchemaDiff {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

/// Two defaults mean the same thing (expressions compared without case or spaces).
pub fn same_default(a: &Option<DefaultValue>, b: &Option<DefaultValue>) -> bool {
    match (a, b) {
        (Some(DefaultValue::Expr(x)), Some(DefaultValue::Expr(y))) => squash(x) == squash(y),
        _ => a == b,
    }
}

fn same_column(a: &Column, b: &Column) -> bool {
    a.ty == b.ty
        && a.nullable == b.nullable
        && a.autoincrement == b.autoincrement
        && a.comment == b.comment
        && a.on_update_now == b.on_update_now
        && a.identity == b.identity
        && same_default(&a.default, &b.default)
}

/// The changes that turn `from` into `to`. Both should be normalised for one dialect.
pub fn diff(from: &Schema, to: &Schema) -> SchemaDiff {
    let mut out = SchemaDiff::default();
    let names: std::collections::BTreeSet<&String> =
        from.tables.keys().chain(to.tables.keys()).collect();
    for name in names {
        match (from.tables.get(name), to.tables.get(name)) {
            (None, Some(_)) => out.changes.push(Change::AddTable {
                table: name.clone(),
            }),
            (Some(_), None) => out.changes.push(Change::DropTable {
                table: name.clone(),
            }),
            (Some(a), Some(b)) => diff_table(to.dialect.or(from.dialect), a, b, &mut out),
            (None, None) => {}
        }
    }
    // Views: a changed query is the old view dropped and the new one created.
    let dialect = to.dialect.or(from.dialect);
    let sequences: std::collections::BTreeSet<&String> =
        from.sequences.keys().chain(to.sequences.keys()).collect();
    for name in sequences {
        match (from.sequences.get(name), to.sequences.get(name)) {
            (Some(a), None) => out.changes.push(Change::DropSequence {
                sequence: a.clone(),
            }),
            (None, Some(b)) => out.changes.push(Change::AddSequence {
                sequence: b.clone(),
            }),
            (Some(a), Some(b)) if a != b => out.changes.push(Change::AlterSequence {
                from: a.clone(),
                to: b.clone(),
            }),
            _ => {}
        }
    }
    let views: std::collections::BTreeSet<&String> =
        from.views.keys().chain(to.views.keys()).collect();
    for name in views {
        let (a, b) = (from.views.get(name), to.views.get(name));
        if let Some(a) = a {
            if b.is_none_or(|b| !same_query(dialect, &a.sql, &b.sql)) {
                out.changes.push(Change::DropView { view: a.clone() });
            }
        }
        if let Some(b) = b {
            if a.is_none_or(|a| !same_query(dialect, &a.sql, &b.sql)) {
                out.changes.push(Change::AddView { view: b.clone() });
            }
        }
    }
    out
}

/// Two view queries mean the same for `dialect` (see [`crate::sql::normalize`]).
pub fn same_query(dialect: Option<Dialect>, a: &str, b: &str) -> bool {
    if squash(a) == squash(b) {
        return true;
    }
    let Some(d) = dialect else { return false };
    match (
        crate::sql::normalize::normalize_query(d, a),
        crate::sql::normalize::normalize_query(d, b),
    ) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

fn diff_table(dialect: Option<Dialect>, a: &Table, b: &Table, out: &mut SchemaDiff) {
    let t = &a.name;
    let mut added = Vec::new();
    let mut dropped = Vec::new();
    for col in &b.columns {
        match a.column(&col.name) {
            None => {
                added.push(col);
                out.changes.push(Change::AddColumn {
                    table: t.clone(),
                    column: col.clone(),
                });
            }
            Some(old) if !same_column(old, col) => out.changes.push(Change::AlterColumn {
                table: t.clone(),
                from: old.clone(),
                to: col.clone(),
            }),
            Some(_) => {}
        }
    }
    for col in &a.columns {
        if b.column(&col.name).is_none() {
            dropped.push(col);
            out.changes.push(Change::DropColumn {
                table: t.clone(),
                column: col.clone(),
            });
        }
    }
    for d in &dropped {
        if let Some(n) = added.iter().find(|n| n.ty == d.ty) {
            out.suspected_renames.push(SuspectedRename {
                table: t.clone(),
                from: d.name.clone(),
                to: n.name.clone(),
            });
        }
    }
    if a.comment != b.comment {
        out.changes.push(Change::AlterTableComment {
            table: t.clone(),
            from: a.comment.clone(),
            to: b.comment.clone(),
        });
    }
    if a.primary_key != b.primary_key {
        out.changes.push(Change::AlterPrimaryKey {
            table: t.clone(),
            from: a.primary_key.clone(),
            to: b.primary_key.clone(),
        });
    }
    for ix in &a.indexes {
        if !b.indexes.iter().any(|x| x.same_as(ix, dialect)) {
            out.changes.push(Change::DropIndex {
                table: t.clone(),
                index: ix.clone(),
            });
        }
    }
    for ix in &b.indexes {
        if !a.indexes.iter().any(|x| x.same_as(ix, dialect)) {
            out.changes.push(Change::AddIndex {
                table: t.clone(),
                index: ix.clone(),
            });
        }
    }
    for u in &a.uniques {
        if !b.uniques.iter().any(|x| x.columns == u.columns) {
            out.changes.push(Change::DropUnique {
                table: t.clone(),
                unique: u.clone(),
            });
        }
    }
    for u in &b.uniques {
        if !a.uniques.iter().any(|x| x.columns == u.columns) {
            out.changes.push(Change::AddUnique {
                table: t.clone(),
                unique: u.clone(),
            });
        }
    }
    for k in &a.foreign_keys {
        if !b
            .foreign_keys
            .iter()
            .any(|x| x.signature() == k.signature())
        {
            out.changes.push(Change::DropForeignKey {
                table: t.clone(),
                foreign_key: k.clone(),
            });
        }
    }
    for k in &b.foreign_keys {
        if !a
            .foreign_keys
            .iter()
            .any(|x| x.signature() == k.signature())
        {
            out.changes.push(Change::AddForeignKey {
                table: t.clone(),
                foreign_key: k.clone(),
            });
        }
    }
    let same_check = |x: &CheckConstraint, y: &CheckConstraint| {
        x.name == y.name && same_sql(dialect, &x.expr, &y.expr)
    };
    for c in &a.checks {
        if !b.checks.iter().any(|x| same_check(x, c)) {
            out.changes.push(Change::DropCheck {
                table: t.clone(),
                check: c.clone(),
            });
        }
    }
    for c in &b.checks {
        if !a.checks.iter().any(|x| same_check(x, c)) {
            out.changes.push(Change::AddCheck {
                table: t.clone(),
                check: c.clone(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::model::parse_models;
    use std::path::Path;

    fn schema(text: &str) -> Schema {
        parse_models(text, Path::new("m.yaml"))
            .expect("valid model")
            .normalized_for(Dialect::Postgres)
    }

    #[test]
    fn identical_schemas_have_no_changes() {
        let s =
            schema("tables:\n  t:\n    columns:\n      id: {type: integer, primary_key: true}\n");
        assert!(diff(&s, &s).is_empty());
    }

    #[test]
    fn every_kind_of_change_is_found() {
        let a = schema(
            "tables:
  users:
    columns:
      id: {type: bigint, primary_key: true}
      name: {type: string(50)}
      age: {type: integer}
    checks:
      - {name: ck_age, expr: age > 0}
  old: {columns: {id: integer}}
",
        );
        let b = schema(
            "tables:
  users:
    columns:
      id: {type: bigint, primary_key: true}
      full_name: {type: string(50)}
      age: {type: bigint, nullable: false, default: 1}
    indexes:
      - {columns: [age, full_name]}
    unique_constraints:
      - {columns: [full_name]}
  posts:
    columns:
      id: {type: integer, primary_key: true}
      user_id: bigint
    foreign_keys:
      - {columns: [user_id], references: users(id)}
",
        );
        let d = diff(&a, &b);
        let text: Vec<String> = d.changes.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "removed table 'old'",
                "added table 'posts'",
                "added column 'users.full_name' (string(50))",
                "altered column 'users.age': type integer -> bigint, NULL -> NOT NULL, default none -> 1",
                "removed column 'users.name'",
                "added index 'ix_users_age_full_name' on users(age, full_name)",
                "added unique constraint on users(full_name)",
                "removed check constraint 'ck_age' on 'users'",
            ]
        );
        assert_eq!(
            d.suspected_renames,
            [SuspectedRename {
                table: "users".into(),
                from: "name".into(),
                to: "full_name".into()
            }]
        );
    }

    #[test]
    fn defaults_in_other_spellings_are_equal() {
        let mut a =
            schema("tables:\n  t:\n    columns:\n      b: {type: boolean, default: true}\n");
        let b = a.clone();
        if let Some(t) = a.tables.get_mut("t") {
            t.columns[0].default = Some(DefaultValue::Int(1));
        }
        let a = a.normalized_for(Dialect::Mysql);
        assert!(diff(&a, &b.normalized_for(Dialect::Mysql)).is_empty());
    }
}
