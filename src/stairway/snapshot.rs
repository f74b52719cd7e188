//! The schema at one point of the walk, and the difference between two points, object by
//! object.
//!
//! PostgreSQL and MySQL/MariaDB are read with the autogenerate introspection (a handful of
//! set-wide catalog queries, whatever the number of tables). On SQLite that
//! introspection costs a few queries per table, which over a walk of 1,000 revisions
//! that each add a table is quadratic; so a point of the walk is SQLite's own record of
//! its schema, the rows of `sqlite_master` (one query). Equal rows are an equal schema.
//! Only when they differ are both sides read with the introspection, from in-memory
//! databases rebuilt from those rows, so the difference is reported as it is on the
//! servers: by table, column, index and constraint. Views and triggers, which the model
//! does not hold, are compared by their definitions.

use std::collections::BTreeSet;

use serde::Serialize;
use sqlx::Connection;

use super::scratch::Reader;
use crate::core::Dialect;
use crate::db::literal;
use crate::schema::diff::{diff, Change};
use crate::schema::introspect::{IntrospectError, IntrospectOptions};
use crate::schema::Schema;

/// The schema at one point of the walk.
#[derive(Debug, Clone, PartialEq)]
pub enum SchemaState {
    /// SQLite: the `sqlite_master` rows (SQLite's own objects and the tool's tables left
    /// out) as one JSON array, built by SQLite in one query.
    Sqlite(String),
    /// A server, read with the introspection.
    Model(Schema),
}

/// One row of `sqlite_master`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MasterRow {
    pub kind: String,
    pub name: String,
    pub table: String,
    pub sql: String,
}

/// How an object differs after the downgrade from before the upgrade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// There after the downgrade, not before the upgrade: the downgrade forgot it.
    LeftBehind,
    /// There before the upgrade, gone after the downgrade: the downgrade removed
    /// something the upgrade did not create.
    Removed,
    /// There on both sides, defined differently.
    Changed,
}

impl ChangeKind {
    pub fn describe(self) -> &'static str {
        match self {
            ChangeKind::LeftBehind => "left behind",
            ChangeKind::Removed => "removed",
            ChangeKind::Changed => "changed",
        }
    }
}

/// One object that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectChange {
    pub change: ChangeKind,
    /// `table`, `column`, `primary_key`, `index`, `unique`, `foreign_key`, `check`,
    /// `view` or `trigger`.
    pub object: &'static str,
    pub table: Option<String>,
    pub name: String,
    /// The object as a person reads it: `column users.bio (text)`.
    pub detail: String,
}

impl std::fmt::Display for ObjectChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.change.describe(), self.detail)
    }
}

/// Why the schema could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error(transparent)]
    Introspect(#[from] IntrospectError),
    #[error("reading sqlite_master failed: {0}")]
    Master(sqlx::Error),
}

/// Reads the schema as it is now.
pub async fn read(
    reader: &mut Reader,
    opts: &IntrospectOptions,
) -> Result<SchemaState, SnapshotError> {
    match reader {
        Reader::Sqlite(c) => Ok(SchemaState::Sqlite(master_json(c, opts).await?)),
        Reader::Postgres(c) => Ok(SchemaState::Model(
            crate::schema::introspect::postgres::introspect(c, opts).await?,
        )),
        Reader::Mysql(c) => Ok(SchemaState::Model(
            crate::schema::introspect::mysql::introspect(c, opts).await?,
        )),
    }
}

/// The full model of the schema as it is now (for `--data`, which needs the columns).
pub async fn read_model(
    reader: &mut Reader,
    opts: &IntrospectOptions,
) -> Result<Schema, SnapshotError> {
    Ok(match reader {
        Reader::Sqlite(c) => crate::schema::introspect::sqlite::introspect(c, opts).await?,
        Reader::Postgres(c) => crate::schema::introspect::postgres::introspect(c, opts).await?,
        Reader::Mysql(c) => crate::schema::introspect::mysql::introspect(c, opts).await?,
    })
}

async fn master_json(
    c: &mut sqlx::SqliteConnection,
    opts: &IntrospectOptions,
) -> Result<String, SnapshotError> {
    let ignored: Vec<String> = opts
        .ignore_tables
        .iter()
        .map(|t| literal(&t.to_lowercase(), Dialect::Sqlite))
        .collect();
    let not_ours = if ignored.is_empty() {
        String::new()
    } else {
        format!(" AND lower(tbl_name) NOT IN ({})", ignored.join(", "))
    };
    let sql = format!(
        "SELECT COALESCE(json_group_array(json_array(type, name, tbl_name, COALESCE(sql, ''))), '[]') \
         FROM (SELECT type, name, tbl_name, sql FROM sqlite_master \
         WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'{not_ours} ORDER BY type, name)"
    );
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .fetch_one(&mut *c)
        .await
        .map_err(SnapshotError::Master)
}

/// The rows of a SQLite state, sorted.
fn master_rows(json: &str) -> Vec<MasterRow> {
    let parsed: Vec<(String, String, String, String)> =
        serde_json::from_str(json).unwrap_or_default();
    let mut rows: Vec<MasterRow> = parsed
        .into_iter()
        .map(|(kind, name, table, sql)| MasterRow {
            kind,
            name,
            table,
            sql,
        })
        .collect();
    rows.sort();
    rows
}

/// The names of the tables in a state.
pub fn table_names(state: &SchemaState) -> Vec<String> {
    match state {
        SchemaState::Sqlite(json) => master_rows(json)
            .into_iter()
            .filter(|r| r.kind == "table")
            .map(|r| r.name)
            .collect(),
        SchemaState::Model(s) => s.tables.keys().cloned().collect(),
    }
}

/// What differs in `now` from `was`, object by object (empty when equal).
pub async fn differences(
    was: &SchemaState,
    now: &SchemaState,
    dialect: Dialect,
    opts: &IntrospectOptions,
) -> Result<Vec<ObjectChange>, SnapshotError> {
    match (was, now) {
        (SchemaState::Model(a), SchemaState::Model(b)) => {
            let d = diff(&a.normalized_for(dialect), &b.normalized_for(dialect));
            Ok(d.changes.iter().map(object_change).collect())
        }
        (SchemaState::Sqlite(a), SchemaState::Sqlite(b)) if a == b => Ok(Vec::new()),
        (SchemaState::Sqlite(a), SchemaState::Sqlite(b)) => {
            let (a, b) = (master_rows(a), master_rows(b));
            if a == b {
                return Ok(Vec::new());
            }
            sqlite_differences(&a, &b, opts).await
        }
        // One walk reads one backend.
        _ => Ok(Vec::new()),
    }
}

/// The tables whose definition differs between `was` and `now` (created, dropped or
/// altered, their indexes and triggers included).
pub fn changed_tables(was: &SchemaState, now: &SchemaState, dialect: Dialect) -> BTreeSet<String> {
    match (was, now) {
        (SchemaState::Model(a), SchemaState::Model(b)) => {
            let d = diff(&a.normalized_for(dialect), &b.normalized_for(dialect));
            d.changes.iter().map(|c| c.table().to_owned()).collect()
        }
        (SchemaState::Sqlite(a), SchemaState::Sqlite(b)) => {
            let (a, b) = (master_rows(a), master_rows(b));
            let a: BTreeSet<&MasterRow> = a.iter().collect();
            let b: BTreeSet<&MasterRow> = b.iter().collect();
            a.symmetric_difference(&b)
                .map(|r| r.table.clone())
                .collect()
        }
        _ => BTreeSet::new(),
    }
}

async fn sqlite_differences(
    was: &[MasterRow],
    now: &[MasterRow],
    opts: &IntrospectOptions,
) -> Result<Vec<ObjectChange>, SnapshotError> {
    let mut out = match (rebuild(was, opts).await, rebuild(now, opts).await) {
        (Ok(a), Ok(b)) => diff(&a, &b).changes.iter().map(object_change).collect(),
        // A schema SQLite can't rebuild alone (a virtual table's module is missing):
        // report its objects by their definitions.
        _ => rows_differences(was, now, &["table", "index"]),
    };
    out.extend(rows_differences(was, now, &["view", "trigger"]));
    Ok(out)
}

/// The model of a SQLite schema given as `sqlite_master` rows, read from an in-memory
/// database built from them.
async fn rebuild(rows: &[MasterRow], opts: &IntrospectOptions) -> Result<Schema, SnapshotError> {
    let mut c = sqlx::SqliteConnection::connect("sqlite::memory:")
        .await
        .map_err(SnapshotError::Master)?;
    // Tables before the indexes on them; views and triggers are not in the model.
    for kind in ["table", "index"] {
        for r in rows.iter().filter(|r| r.kind == kind && !r.sql.is_empty()) {
            sqlx::raw_sql(sqlx::AssertSqlSafe(r.sql.clone()))
                .execute(&mut c)
                .await
                .map_err(SnapshotError::Master)?;
        }
    }
    let schema = crate::schema::introspect::sqlite::introspect(&mut c, opts).await;
    let _ = c.close().await;
    Ok(schema?)
}

/// Objects of the given kinds that differ, compared by their definitions.
fn rows_differences(was: &[MasterRow], now: &[MasterRow], kinds: &[&str]) -> Vec<ObjectChange> {
    let pick = |rows: &[MasterRow]| -> Vec<MasterRow> {
        rows.iter()
            .filter(|r| kinds.contains(&r.kind.as_str()))
            .cloned()
            .collect()
    };
    let (was, now) = (pick(was), pick(now));
    let mut out = Vec::new();
    let object = |kind: &str| -> &'static str {
        match kind {
            "view" => "view",
            "trigger" => "trigger",
            "index" => "index",
            _ => "table",
        }
    };
    for r in &now {
        let change = match was.iter().find(|w| w.kind == r.kind && w.name == r.name) {
            None => ChangeKind::LeftBehind,
            Some(w) if w.sql != r.sql => ChangeKind::Changed,
            Some(_) => continue,
        };
        out.push(ObjectChange {
            change,
            object: object(&r.kind),
            table: (r.kind != "table" && r.kind != "view").then(|| r.table.clone()),
            name: r.name.clone(),
            detail: format!("{} {}", r.kind, r.name),
        });
    }
    for w in &was {
        if !now.iter().any(|r| r.kind == w.kind && r.name == w.name) {
            out.push(ObjectChange {
                change: ChangeKind::Removed,
                object: object(&w.kind),
                table: (w.kind != "table" && w.kind != "view").then(|| w.table.clone()),
                name: w.name.clone(),
                detail: format!("{} {}", w.kind, w.name),
            });
        }
    }
    out
}

/// A schema change from before the upgrade to after the downgrade, as the stairway
/// reports it.
pub fn object_change(c: &Change) -> ObjectChange {
    use ChangeKind::{Changed, LeftBehind, Removed};
    let t = c.table().to_owned();
    let (change, object, name, detail) = match c {
        Change::AddTable { table } => {
            (LeftBehind, "table", table.clone(), format!("table {table}"))
        }
        Change::DropTable { table } => (Removed, "table", table.clone(), format!("table {table}")),
        Change::AddColumn { table, column } => (
            LeftBehind,
            "column",
            column.name.clone(),
            format!("column {table}.{} ({})", column.name, column.ty),
        ),
        Change::DropColumn { table, column } => (
            Removed,
            "column",
            column.name.clone(),
            format!("column {table}.{} ({})", column.name, column.ty),
        ),
        Change::AlterColumn { to, .. } => {
            // The diff's own wording names what changed (type, NULL, default).
            let text = c.to_string();
            let what = text.split_once(": ").map_or("", |(_, w)| w).to_owned();
            (
                Changed,
                "column",
                to.name.clone(),
                format!("column {t}.{}: {what}", to.name),
            )
        }
        Change::AlterPrimaryKey { from, to, .. } => (
            Changed,
            "primary_key",
            t.clone(),
            format!(
                "primary key of {t}: ({}) before, ({}) after",
                from.join(", "),
                to.join(", ")
            ),
        ),
        Change::AddIndex { index, .. } | Change::DropIndex { index, .. } => (
            if matches!(c, Change::AddIndex { .. }) {
                LeftBehind
            } else {
                Removed
            },
            "index",
            index.name.clone(),
            format!("index {} on {t}({})", index.name, index.columns.join(", ")),
        ),
        Change::AddUnique { unique, .. } | Change::DropUnique { unique, .. } => (
            if matches!(c, Change::AddUnique { .. }) {
                LeftBehind
            } else {
                Removed
            },
            "unique",
            unique.name.clone(),
            format!("unique constraint on {t}({})", unique.columns.join(", ")),
        ),
        Change::AddForeignKey { foreign_key: k, .. }
        | Change::DropForeignKey { foreign_key: k, .. } => (
            if matches!(c, Change::AddForeignKey { .. }) {
                LeftBehind
            } else {
                Removed
            },
            "foreign_key",
            k.name.clone(),
            format!(
                "foreign key {t}({}) -> {}({})",
                k.columns.join(", "),
                k.ref_table,
                k.ref_columns.join(", ")
            ),
        ),
        Change::AddCheck { check, .. } | Change::DropCheck { check, .. } => (
            if matches!(c, Change::AddCheck { .. }) {
                LeftBehind
            } else {
                Removed
            },
            "check",
            check.name.clone(),
            format!("check constraint {} on {t}", check.name),
        ),
        Change::AlterTableComment { table, from, to } => (
            Changed,
            "comment",
            table.clone(),
            format!(
                "comment on {table}: {} before, {} after",
                from.as_deref().unwrap_or("none"),
                to.as_deref().unwrap_or("none")
            ),
        ),
        Change::AddView { view } => (
            LeftBehind,
            "view",
            view.name.clone(),
            format!("view {}", view.name),
        ),
        Change::DropView { view } => (
            Removed,
            "view",
            view.name.clone(),
            format!("view {}", view.name),
        ),
        Change::AddSequence { sequence: q } => (
            LeftBehind,
            "sequence",
            q.name.clone(),
            format!("sequence {}", q.name),
        ),
        Change::DropSequence { sequence: q } => (
            Removed,
            "sequence",
            q.name.clone(),
            format!("sequence {}", q.name),
        ),
        Change::AlterSequence { .. } => (Changed, "sequence", t.clone(), c.to_string()),
    };
    ObjectChange {
        change,
        object,
        table: (object != "table" && object != "sequence").then_some(t),
        name,
        detail,
    }
}
