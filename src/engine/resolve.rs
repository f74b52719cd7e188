//! `migrate resolve REV --applied|--rolled-back`: settles the statement a stopped step
//! left in doubt (Prisma's word), without a hand-written stamp.
//!
//! The resolution is a log row of its own (who, when, what was decided) carrying the
//! step's progress with nothing in doubt any more, so the next run of the step
//! continues after the statements that took effect. When the statement settled as
//! applied was the step's last, the step is finished here: the runner continues it
//! with no statement left, which moves the version rows and logs it as done.

use chrono::Utc;

use super::in_doubt::{progress, statements_checksum};
use super::last_step::{last_step, LastStep};
use super::{runner, EngineError, Outcome, PlanFailure, RunOptions, Silent};
use crate::core::{plan, Direction, Plan, RevisionGraph};
use crate::db::split::{split_statements, Statement};
use crate::db::{Backend, LogEntry};

/// What the person checking the database found out about the statement in doubt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// It took effect.
    Applied,
    /// It did not take effect.
    RolledBack,
}

/// What `resolve` recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub revision: String,
    pub direction: Direction,
    /// The statement that was in doubt, and the step's statement count.
    pub statement: usize,
    pub total: usize,
    /// Statements of the step that took effect, now known.
    pub done: usize,
    /// The step finished here (its last statement was settled as applied).
    pub finished: Option<Outcome>,
}

/// Settles the statement in doubt of `revision`'s step (the newest log row's), under the
/// run lock; refused when that step is not the one in doubt.
pub async fn resolve<B: Backend>(
    db: &mut B,
    graph: &RevisionGraph,
    revision: &str,
    resolution: Resolution,
    options: &RunOptions,
) -> Result<Resolved, EngineError> {
    db.lock().await?;
    let settled = settle(db, graph, revision, resolution, options).await;
    let unlocked = db.unlock().await;
    let mut resolved = settled?;
    unlocked?;
    if resolved.done == resolved.total {
        let (rev, direction) = (resolved.revision.clone(), resolved.direction);
        let planner = move |rows: &[String]| finishing_plan(graph, &rev, direction, rows);
        let outcome = runner::run(db, graph, &planner, options, &mut Silent, true).await?;
        resolved.finished = Some(outcome);
    }
    Ok(resolved)
}

/// The SQL statements of `revision`'s `direction` on `db`'s dialect (none without a file).
fn statements_of<B: Backend>(
    db: &B,
    graph: &RevisionGraph,
    revision: &str,
    direction: Direction,
) -> (Vec<Statement>, Option<String>) {
    let dialect = db.dialect();
    let sql = graph.find(revision).and_then(|ix| {
        let rev = graph.revision(ix);
        let sql = match direction {
            Direction::Downgrade => rev.downgrade.as_ref(),
            _ => rev.upgrade.as_ref(),
        };
        sql.and_then(|s| s.for_dialect(dialect))
    });
    (
        sql.map(|s| split_statements(s, dialect))
            .unwrap_or_default(),
        crate::db::sql_checksum(sql),
    )
}

async fn settle<B: Backend>(
    db: &mut B,
    graph: &RevisionGraph,
    revision: &str,
    resolution: Resolution,
    options: &RunOptions,
) -> Result<Resolved, EngineError> {
    let caps = db.capabilities();
    if caps.lock_is_write_transaction {
        db.begin(true).await?;
        if let Err(e) = db.ensure_tables().await {
            let _ = db.rollback().await;
            return Err(e.into());
        }
    } else {
        db.ensure_tables().await?;
        db.begin(true).await?;
    }
    let r = record(db, graph, revision, resolution, options).await;
    match r {
        Ok(resolved) => {
            db.commit().await?;
            Ok(resolved)
        }
        Err(e) => {
            let _ = db.rollback().await;
            Err(e)
        }
    }
}

async fn record<B: Backend>(
    db: &mut B,
    graph: &RevisionGraph,
    revision: &str,
    resolution: Resolution,
    options: &RunOptions,
) -> Result<Resolved, EngineError> {
    let not_in_doubt = |state: String| EngineError::NotInDoubt {
        revision: revision.to_owned(),
        state,
    };
    let Some(row) = db.last_log().await? else {
        return Err(not_in_doubt(
            "nothing was ever run on this database".to_owned(),
        ));
    };
    let state = last_step(&row, graph, caps_of(db), db.dialect());
    let (direction, done, statement) = match state {
        LastStep::InDoubt {
            revision: ref r,
            direction,
            done,
            statement,
            ..
        } if r == revision => (direction, done, statement),
        LastStep::InDoubt { revision: r, .. } => {
            return Err(not_in_doubt(format!(
                "the statement in doubt is revision {r}'s (`migrate resolve {r} --applied` or `--rolled-back`)"
            )))
        }
        LastStep::Complete => {
            return Err(not_in_doubt(format!(
                "the last step ({} of revision {}) completed",
                row.direction, row.revision
            )))
        }
        other => {
            return Err(not_in_doubt(
                other
                    .describe()
                    .unwrap_or_else(|| "the last step left nothing in doubt".to_owned()),
            ))
        }
    };
    let (statements, checksum) = statements_of(db, graph, revision, direction);
    let known = row.progress.as_ref().map(|p| p.checksum.as_str());
    let same = statements
        .get(..done)
        .is_some_and(|ran| Some(statements_checksum(ran).as_str()) == known);
    if !same || statement > statements.len() {
        return Err(EngineError::Unfinished {
            revision: revision.to_owned(),
            direction,
            done,
            reason: format!(
                "its SQL changed since then (statements 1 to {statement} are not the ones that ran), so the log can't say which statement to continue with; restore the file, or fix the database by hand and `migrate stamp` where it is"
            ),
        });
    }
    let (now_done, what) = match resolution {
        Resolution::Applied => (statement, "took effect"),
        Resolution::RolledBack => (statement - 1, "did not take effect"),
    };
    let ctx = &options.context;
    let applied_by = match db.db_user().await {
        Some(u) => format!("{} ({u})", ctx.os_identity),
        None => ctx.os_identity.clone(),
    };
    let entry = LogEntry {
        revision: revision.to_owned(),
        direction,
        started_at: Utc::now(),
        duration_ms: 0,
        success: None,
        checksum,
        applied_by,
        tool_version: ctx.tool_version.clone(),
        git_commit: ctx.git_commit.clone(),
        error: Some(format!(
            "resolved with `migrate resolve`: statement {statement} {what}"
        )),
    };
    let id = db.append_log(&entry).await?;
    db.set_progress(id, &progress(&statements, now_done, false), false)
        .await?;
    Ok(Resolved {
        revision: revision.to_owned(),
        direction,
        statement,
        total: statements.len(),
        done: now_done,
        finished: None,
    })
}

fn caps_of<B: Backend>(db: &B) -> crate::db::Capabilities {
    db.capabilities()
}

/// The one step of `revision`'s `direction` from the version rows `rows`.
fn finishing_plan(
    graph: &RevisionGraph,
    revision: &str,
    direction: Direction,
    rows: &[String],
) -> Result<Plan, PlanFailure> {
    let ix = graph
        .find(revision)
        .ok_or_else(|| format!("revision {revision} has no file"))?;
    let applied = crate::core::rows::applied(graph, rows).map_err(|e| e.to_string())?;
    let mut p = match direction {
        Direction::Downgrade => {
            let parents = &graph.revision(ix).down_revisions;
            let target = match parents.as_slice() {
                [] => "base".to_owned(),
                [one] => one.to_string(),
                _ => {
                    return Err(format!(
                        "revision {revision} is a merge: run `migrate downgrade` to the branch you want, which records its downgrade"
                    )
                    .into())
                }
            };
            plan::downgrade(graph, &applied, &target)?
        }
        _ => plan::upgrade(graph, &applied, revision)?,
    };
    p.steps
        .retain(|s| s.revision == Some(ix) && s.direction == direction);
    if p.steps.is_empty() {
        return Err(format!(
            "the version rows ({}) don't leave the {direction} of revision {revision} to record",
            rows.join(", ")
        )
        .into());
    }
    Ok(p)
}
