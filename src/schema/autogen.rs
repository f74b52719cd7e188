//! The pieces `revision --autogenerate` and `check` put together: replaying the
//! revisions into a scratch SQLite database through the executor, rendering for every
//! dialect, and turning a rendered migration into a revision. The connected database
//! is read with [`Database::introspect`], on the connection that read its version rows.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::diff::Change;
use super::introspect::{IntrospectError, IntrospectOptions};
use super::model::{CheckConstraint, Schema, View};
use super::render::{render_migration, RenderedMigration};
use crate::core::{plan, Dialect, Direction, Plan, Revision, RevisionGraph, Sql};
use crate::db::{Database, Tables};
use crate::engine::{
    self, EngineError, Interrupt, PlanFailure, RunContext, RunOptions, Silent, TransactionMode,
};
use crate::sql::normalize::{normalize_expr, normalize_query};

/// The models file: the config's `models` setting (relative to the project directory),
/// else `models.yaml` in the project directory, else `models.yaml` at the top of the
/// revisions directory (which the revision loader never reads as a revision).
pub fn models_path(project_dir: &Path, revisions_dir: &Path, setting: Option<&Path>) -> PathBuf {
    if let Some(setting) = setting {
        return project_dir.join(setting);
    }
    let beside_config = project_dir.join(crate::files::load::MODELS_FILE);
    if beside_config.exists() {
        return beside_config;
    }
    revisions_dir.join(crate::files::load::MODELS_FILE)
}

/// Why the revisions could not be replayed into a scratch database.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("can't open a scratch SQLite database: {0}")]
    Scratch(sqlx::Error),
    /// The executor failed on the scratch database (a revision's statement, most often).
    #[error("replaying the revisions on a scratch SQLite database: {0}")]
    Engine(#[from] EngineError),
    #[error("revision {revision} ({location}) fails on the scratch database: {message}")]
    Statement {
        revision: String,
        location: String,
        message: String,
    },
    #[error(transparent)]
    Introspect(#[from] IntrospectError),
}

/// A private in-memory SQLite database, one connection kept for its whole life.
async fn scratch_sqlite() -> Result<sqlx::SqlitePool, ReplayError> {
    sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect("sqlite::memory:")
        .await
        .map_err(ReplayError::Scratch)
}

/// Runs every revision's SQLite upgrade, base to heads, through the executor
/// ([`engine::run`], as `upgrade heads` would) on an in-memory SQLite database, and
/// reads the schema they leave through the same [`Database`] (for `check --offline`).
pub async fn replay_sqlite(
    graph: &RevisionGraph,
    opts: &IntrospectOptions,
) -> Result<Schema, ReplayError> {
    let pool = scratch_sqlite().await?;
    let conn = pool.acquire().await.map_err(ReplayError::Scratch)?;
    let tables = Tables::default();
    let mut db = Database::from_sqlite_pool(conn, &tables);
    let result = replay_into(&mut db, graph, opts).await;
    db.close().await;
    pool.close().await;
    result
}

async fn replay_into(
    db: &mut Database,
    graph: &RevisionGraph,
    opts: &IntrospectOptions,
) -> Result<Schema, ReplayError> {
    if !graph.is_empty() {
        let planner =
            |_: &[String]| -> Result<Plan, PlanFailure> { Ok(plan::upgrade(graph, &[], "heads")?) };
        let options = RunOptions {
            transaction: TransactionMode::PerRevision,
            context: RunContext {
                os_identity: "replay".into(),
                tool_version: env!("CARGO_PKG_VERSION").to_owned(),
                git_commit: None,
            },
            interrupt: Interrupt::new(),
        };
        engine::run(db, graph, &planner, &options, &mut Silent).await?;
    }
    // The scratch database's own bookkeeping tables are not part of the schema.
    let mut opts = opts.clone();
    let tables = db.tables().clone();
    opts.ignore_tables.extend([tables.version, tables.log]);
    Ok(db.introspect(&opts).await?)
}

/// Runs `revisions`' SQLite upgrades in this order (no graph, no version table) in a
/// fresh in-memory SQLite database and reads the schema they leave: `conflicts`
/// replays two branches in both orders with it.
pub async fn replay_in_order_sqlite(
    revisions: &[&Revision],
    opts: &IntrospectOptions,
) -> Result<Schema, ReplayError> {
    let pool = scratch_sqlite().await?;
    let conn = pool.acquire().await.map_err(ReplayError::Scratch)?;
    let mut db = Database::from_sqlite_pool(conn, &Tables::default());
    let mut result = Ok(());
    for rev in revisions {
        let Some(sql) = rev
            .upgrade
            .as_ref()
            .and_then(|s| s.for_dialect(Dialect::Sqlite))
        else {
            continue;
        };
        if sql.trim().is_empty() {
            continue;
        }
        if let Err(e) = db.execute_raw(sql).await {
            result = Err(ReplayError::Statement {
                revision: rev.id.to_string(),
                location: rev.location(rev.origin.revision_line),
                message: e.to_string(),
            });
            break;
        }
    }
    let result = match result {
        Ok(()) => db.introspect(opts).await.map_err(ReplayError::from),
        Err(e) => Err(e),
    };
    db.close().await;
    pool.close().await;
    result
}

/// Renders the migration from `db` (read from a database of dialect `primary`) to
/// `models` for every dialect, the database's own first: revisions stay runnable on
/// all three backends, and `check --offline` can replay them on SQLite.
///
/// The other dialects don't start from `db` itself, which has lost what the primary
/// backend does not keep (SQLite's `bigint` autoincrement key reads back as
/// `integer`, MariaDB's unique constraints as unique indexes, SQLite keeps no
/// constraint names): they start from the models with the primary's changes undone,
/// so what was equal stays equal and only the detected changes are rendered.
pub fn render_all(primary: Dialect, db: &Schema, models: &Schema) -> Vec<RenderedMigration> {
    let first = render_migration(primary, db, models);
    let mut out = Vec::new();
    for d in Dialect::ALL {
        if d != primary {
            let before = undo_changes(primary, &models.normalized_for(d), db, &first.changes);
            out.push(render_migration(d, &before, models));
        }
    }
    out.insert(0, first);
    out
}

/// `models` with `changes` (found from `db` to `models`) undone, objects the changes
/// bring back taken from `db`; their SQL expressions, as `primary` printed them, in
/// the comparable form, which has none of one backend's casts or quotes.
fn undo_changes(primary: Dialect, models: &Schema, db: &Schema, changes: &[Change]) -> Schema {
    let portable = |e: &str| normalize_expr(primary, e).unwrap_or_else(|| e.to_owned());
    let mut s = models.clone();
    // Additions are undone before drops bring objects back: a changed index or check
    // is a drop of the old and an add of the new under one name.
    let (drops, adds): (Vec<&Change>, Vec<&Change>) = changes
        .iter()
        .partition(|c| matches!(c, Change::DropIndex { .. } | Change::DropCheck { .. }));
    for c in adds.into_iter().chain(drops) {
        let name = c.table();
        if let Change::AddTable { .. } = c {
            s.tables.remove(name);
            continue;
        }
        match c {
            Change::AddSequence { sequence } => {
                s.sequences.remove(&sequence.name);
                continue;
            }
            Change::DropSequence { sequence } | Change::AlterSequence { from: sequence, .. } => {
                s.sequences.insert(sequence.name.clone(), sequence.clone());
                continue;
            }
            Change::AddView { view } => {
                s.views.remove(&view.name);
                continue;
            }
            Change::DropView { view } => {
                let sql = normalize_query(primary, &view.sql).unwrap_or_else(|| view.sql.clone());
                s.views.insert(
                    view.name.clone(),
                    View {
                        name: view.name.clone(),
                        sql,
                    },
                );
                continue;
            }
            _ => {}
        }
        if let Change::DropTable { .. } = c {
            if let Some(t) = db.tables.get(name) {
                s.tables.insert(name.to_owned(), t.clone());
            }
            continue;
        }
        let Some(t) = s.tables.get_mut(name) else {
            continue;
        };
        match c {
            Change::AddColumn { column, .. } => t.columns.retain(|x| x.name != column.name),
            Change::DropColumn { column, .. } => t.columns.push(column.clone()),
            Change::AlterColumn { from, .. } => {
                for x in &mut t.columns {
                    if x.name == from.name {
                        *x = from.clone();
                    }
                }
            }
            Change::AlterPrimaryKey { from, .. } => {
                t.primary_key = from.clone();
                t.primary_key_name = db.tables.get(name).and_then(|d| d.primary_key_name.clone());
            }
            Change::AddIndex { index, .. } => {
                t.indexes.retain(|x| x.name != index.name);
                t.uniques.retain(|x| x.name != index.name);
            }
            Change::DropIndex { index, .. } => t.indexes.push(index.clone()),
            Change::AddUnique { unique, .. } => t.uniques.retain(|x| x.columns != unique.columns),
            Change::DropUnique { unique, .. } => t.uniques.push(unique.clone()),
            Change::AddForeignKey { foreign_key, .. } => {
                t.foreign_keys.retain(|x| x.name != foreign_key.name)
            }
            Change::DropForeignKey { foreign_key, .. } => t.foreign_keys.push(foreign_key.clone()),
            Change::AddCheck { check, .. } => t.checks.retain(|x| x.name != check.name),
            Change::DropCheck { check, .. } => t.checks.push(CheckConstraint {
                name: check.name.clone(),
                expr: portable(&check.expr),
            }),
            Change::AlterTableComment { from, .. } => t.comment = from.clone(),
            Change::AddTable { .. }
            | Change::DropTable { .. }
            | Change::AddView { .. }
            | Change::DropView { .. }
            | Change::AddSequence { .. }
            | Change::DropSequence { .. }
            | Change::AlterSequence { .. } => {}
        }
    }
    s
}

/// Fills `rev` (made by `migrate revision`) with autogenerated SQL, one script per
/// dialect, each with a comment header listing what was found.
pub fn fill_revision(rev: &mut Revision, rendered: &[RenderedMigration]) {
    let mut up = BTreeMap::new();
    let mut down = BTreeMap::new();
    for m in rendered {
        let mut header = String::from("-- Autogenerated; review before applying.\n");
        for c in &m.changes {
            header.push_str(&format!("--   {c}\n"));
        }
        up.insert(m.dialect, format!("{header}{}", m.upgrade));
        down.insert(m.dialect, m.downgrade.clone());
        // Only the dialect and direction that need it leave the transaction.
        if m.upgrade_outside_transaction {
            rev.transactional = rev.transactional.with(m.dialect, Direction::Upgrade, false);
        }
        if m.downgrade_outside_transaction {
            rev.transactional = rev
                .transactional
                .with(m.dialect, Direction::Downgrade, false);
        }
    }
    rev.upgrade = Some(Sql::PerDialect(up));
    rev.downgrade = Some(Sql::PerDialect(down));
}

/// One line per change, as `revision --autogenerate` and `check` print them.
pub fn summary(m: &RenderedMigration) -> Vec<String> {
    let mut out: Vec<String> = m.changes.iter().map(|c| format!("Detected {c}")).collect();
    for r in &m.suspected_renames {
        out.push(format!(
            "Possible rename of '{t}.{a}' to '{t}.{b}': generated as drop + add, see the note in the file",
            t = r.table,
            a = r.from,
            b = r.to
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::model::parse_models;

    #[test]
    fn other_dialects_render_only_what_the_primary_found() {
        let models = parse_models(
            "tables:
  users:
    columns:
      id: {type: bigint, primary_key: true, autoincrement: true}
      email: {type: string(50), unique: true}
      full_name: string(50)
",
            Path::new("m.yaml"),
        )
        .expect("valid");
        for d in Dialect::ALL {
            // What the database reports for the previous state (on SQLite: an integer
            // key and an unnamed unique; on MariaDB: a unique index).
            let mut db = models.normalized_for(d);
            let users = db.tables.get_mut("users").expect("users");
            users.columns[2].name = "name".into();
            if let Some(u) = users.uniques.first_mut() {
                u.name = "sqlite_autoindex_users_1".into();
            }
            let all = render_all(d, &db, &models);
            for m in &all {
                let found: Vec<String> = m.changes.iter().map(ToString::to_string).collect();
                assert_eq!(
                    found,
                    [
                        "added column 'users.full_name' (string(50))",
                        "removed column 'users.name'"
                    ],
                    "primary {d}, rendered for {}",
                    m.dialect
                );
            }
        }
    }

    #[test]
    fn only_the_direction_and_dialect_that_need_it_leave_the_transaction() {
        let rendered = |d, up, down| RenderedMigration {
            dialect: d,
            changes: Vec::new(),
            suspected_renames: Vec::new(),
            upgrade: String::new(),
            downgrade: String::new(),
            upgrade_outside_transaction: up,
            downgrade_outside_transaction: down,
        };
        let mut rev = Revision::new("a1", &[]).expect("id");
        fill_revision(
            &mut rev,
            &[
                rendered(Dialect::Sqlite, false, true),
                rendered(Dialect::Postgres, false, false),
                rendered(Dialect::Mysql, false, false),
            ],
        );
        let outside: Vec<_> = rev.transactional.outside().collect();
        assert_eq!(outside, [(Dialect::Sqlite, Direction::Downgrade)]);
        assert!(rev.transactional.get(Dialect::Postgres, Direction::Upgrade));
    }
}
