//! Bringing a schema into the form one dialect holds it in, so a model compares equal
//! to what the database reports after creating it; and what a dialect can't hold.

use std::collections::BTreeSet;

use super::{plain_column, ColumnType, DefaultValue, FkAction, Identity, Index, Schema};
use crate::core::Dialect;

impl Schema {
    /// The PostgreSQL schemas the tables are in besides the default one
    /// (`schema:` in the model), for introspection to read.
    pub fn schemas(&self) -> Vec<String> {
        let set: BTreeSet<&str> = self
            .tables
            .keys()
            .filter_map(|t| t.split_once('.').map(|(s, _)| s))
            .collect();
        set.into_iter().map(str::to_owned).collect()
    }

    /// What `dialect` can't hold of this schema, one line each: on MariaDB/MySQL
    /// expression indexes and unique partial indexes are left out, and a plain partial
    /// index covers the whole table.
    pub fn left_out_on(&self, dialect: Dialect) -> Vec<String> {
        let mut out = Vec::new();
        if dialect != Dialect::Mysql {
            return out;
        }
        for t in self.tables.values() {
            for ix in &t.indexes {
                if !ix.expressions.is_empty() {
                    out.push(format!(
                        "expression index '{}' on '{}' is left out: MariaDB has no expression indexes",
                        ix.name, t.name
                    ));
                } else if ix.predicate.is_some() && ix.unique {
                    out.push(format!(
                        "unique partial index '{}' on '{}' is left out: MariaDB has no partial indexes",
                        ix.name, t.name
                    ));
                } else if ix.predicate.is_some() {
                    out.push(format!(
                        "partial index '{}' on '{}' covers every row: MariaDB has no partial indexes",
                        ix.name, t.name
                    ));
                }
            }
        }
        out
    }

    /// The schema as `dialect` can hold it, so a model compares equal to what the
    /// database reports after creating it:
    /// - MariaDB/MySQL keeps unique constraints as unique indexes;
    /// - MariaDB/MySQL treats `NO ACTION` as `RESTRICT`;
    /// - SQLite's autoincrement key is always `INTEGER`;
    /// - primary-key columns are never nullable; defaults take their type's form;
    /// - SQLite keeps no comments.
    pub fn normalized_for(&self, dialect: Dialect) -> Schema {
        let mut out = self.clone();
        out.dialect = Some(dialect);
        if dialect != Dialect::Postgres {
            out.sequences.clear();
            // Only PostgreSQL has schemas: elsewhere a table is known by its bare name.
            if out.tables.keys().any(|k| k.contains('.')) {
                let bare = |n: &str| n.rsplit('.').next().unwrap_or(n).to_owned();
                out.tables = std::mem::take(&mut out.tables)
                    .into_values()
                    .map(|mut t| {
                        t.name = bare(&t.name);
                        for fk in &mut t.foreign_keys {
                            fk.ref_table = bare(&fk.ref_table);
                        }
                        (t.name.clone(), t)
                    })
                    .collect();
            }
        }
        for table in out.tables.values_mut() {
            let pk = table.primary_key.clone();
            if dialect == Dialect::Sqlite || table.comment.as_deref() == Some("") {
                table.comment = None;
            }
            for col in &mut table.columns {
                // An empty comment is no comment on both servers.
                if dialect == Dialect::Sqlite || col.comment.as_deref() == Some("") {
                    col.comment = None;
                }
                if pk.contains(&col.name) {
                    col.nullable = false;
                }
                if col.autoincrement {
                    col.default = None;
                    if dialect == Dialect::Sqlite {
                        col.ty = ColumnType::Integer;
                    }
                }
                if dialect != Dialect::Mysql {
                    col.on_update_now = false;
                }
                if dialect != Dialect::Postgres || !col.autoincrement {
                    col.identity = None;
                }
                if col.identity == Some(Identity::PLAIN) {
                    col.identity = None;
                }
                col.default = col.default.take().map(|d| d.normalized(&col.ty));
                if matches!(&col.default, Some(DefaultValue::Expr(e)) if e.is_empty()) {
                    col.default = None;
                }
            }
            for ix in &mut table.indexes {
                // An expression index whose key is only columns is a plain index.
                if !ix.expressions.is_empty() {
                    let plain: Option<Vec<String>> =
                        ix.expressions.iter().map(|e| plain_column(e)).collect();
                    if let Some(cols) = plain {
                        ix.columns = cols;
                        ix.expressions.clear();
                    }
                }
                // A prefix as long as the whole string is no prefix (MariaDB says so).
                for (i, c) in ix.columns.iter().enumerate() {
                    if let (Some(p), Some(ColumnType::String(n))) = (
                        ix.parts.get_mut(i),
                        table.columns.iter().find(|x| &x.name == c).map(|x| &x.ty),
                    ) {
                        if p.length.is_some_and(|l| l >= *n) {
                            p.length = None;
                        }
                    }
                }
                ix.normalize_options(dialect);
            }
            if dialect == Dialect::Mysql {
                // MariaDB has neither partial nor expression indexes: a plain partial
                // index is kept over its columns, the others are left out (see
                // [`Schema::left_out_on`]).
                table.indexes.retain(|ix| {
                    ix.expressions.is_empty() && !(ix.unique && ix.predicate.is_some())
                });
                for ix in &mut table.indexes {
                    ix.predicate = None;
                }
                for u in std::mem::take(&mut table.uniques) {
                    if !table
                        .indexes
                        .iter()
                        .any(|i| i.unique && i.columns == u.columns)
                    {
                        table.indexes.push(Index {
                            name: u.name,
                            columns: u.columns,
                            unique: true,
                            ..Index::default()
                        });
                    }
                }
                for fk in &mut table.foreign_keys {
                    for action in [&mut fk.on_delete, &mut fk.on_update] {
                        if *action == FkAction::NoAction {
                            *action = FkAction::Restrict;
                        }
                    }
                }
            }
            table.sort();
        }
        out
    }
}
