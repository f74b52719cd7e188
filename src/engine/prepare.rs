//! Preparing a plan's steps for a backend: each step's statements, checksum, label and
//! log row, and how `--dry-run` describes them. Nothing here touches a database.

use std::path::PathBuf;
use std::time::Duration;

use chrono::Utc;

use super::{EngineError, RunContext, StepReport};
use crate::core::{Dialect, Direction, Plan, RevisionGraph, Step, VersionOp};
use crate::db::split::{split_statements, Statement};
use crate::db::{sql_checksum, LogEntry};

/// A plan step with what the executor needs about its revision.
pub(super) struct Prepared<'g> {
    pub(super) step: &'g Step,
    pub(super) id: String,
    pub(super) file: String,
    pub(super) label: String,
    pub(super) statements: Vec<Statement>,
    pub(super) checksum: Option<String>,
    pub(super) transactional: bool,
}

/// `a, b -> c` (or `<base> -> a`) for a step, as Alembic logs it, plus the message.
pub fn step_label(graph: &RevisionGraph, step: &Step) -> String {
    let Some(ix) = step.revision else {
        let ops: Vec<String> = step.version_ops.iter().map(describe_op).collect();
        return format!("stamp {}", ops.join(", "));
    };
    let rev = graph.revision(ix);
    let parents: Vec<&str> = rev.down_revisions.iter().map(|d| d.as_str()).collect();
    let down = if parents.is_empty() {
        "<base>".to_owned()
    } else {
        parents.join(", ")
    };
    let arrow = match step.direction {
        Direction::Downgrade => format!("{} -> {down}", rev.id),
        Direction::Upgrade => format!("{down} -> {}", rev.id),
        // A stamp moves rows, not along the revision's own edges: say which.
        Direction::Stamp => {
            let ops: Vec<String> = step.version_ops.iter().map(describe_op).collect();
            ops.join(", ")
        }
    };
    if rev.summary().is_empty() {
        arrow
    } else {
        format!("{arrow}, {}", rev.summary())
    }
}

fn describe_op(op: &VersionOp) -> String {
    match op {
        VersionOp::Insert { version } => format!("<none> -> {version}"),
        VersionOp::Delete { version } => format!("{version} -> <base>"),
        VersionOp::Update { from, to } => format!("{from} -> {to}"),
    }
}

/// The SQL a step runs on `dialect` (the core's one rule, [`crate::core::plan::step_sql`]).
pub fn step_sql<'g>(
    graph: &'g RevisionGraph,
    step: &Step,
    dialect: Dialect,
) -> Result<Option<&'g str>, EngineError> {
    Ok(crate::core::plan::step_sql(graph, step, dialect)?)
}

pub(super) fn prepare<'g>(
    graph: &'g RevisionGraph,
    plan: &'g Plan,
    dialect: Dialect,
) -> Result<Vec<Prepared<'g>>, EngineError> {
    plan.steps
        .iter()
        .map(|step| {
            let sql = step_sql(graph, step, dialect)?;
            let (id, file, transactional) = match step.revision {
                Some(ix) => {
                    let rev = graph.revision(ix);
                    (
                        rev.id.to_string(),
                        rev.location(None),
                        rev.transactional.get(dialect, step.direction),
                    )
                }
                None => (stamp_name(step), String::from("stamp"), true),
            };
            Ok(Prepared {
                step,
                id,
                file,
                label: step_label(graph, step),
                statements: sql
                    .map(|s| split_statements(s, dialect))
                    .unwrap_or_default(),
                checksum: sql_checksum(sql),
                transactional,
            })
        })
        .collect()
}

/// The `revision` column of a stamp step's log row: the versions it leaves.
fn stamp_name(step: &Step) -> String {
    let names: Vec<&str> = step
        .version_ops
        .iter()
        .map(|op| match op {
            VersionOp::Insert { version } => version.as_str(),
            VersionOp::Update { to, .. } => to.as_str(),
            VersionOp::Delete { .. } => "base",
        })
        .collect();
    let joined = names.join(",");
    if joined.is_empty() {
        "base".to_owned()
    } else {
        joined
    }
}

/// Applies version ops to a row set, as the database will.
pub fn apply_ops(rows: &mut Vec<String>, ops: &[VersionOp]) {
    for op in ops {
        match op {
            VersionOp::Insert { version } => rows.push(version.clone()),
            VersionOp::Delete { version } => rows.retain(|r| r != version),
            VersionOp::Update { from, to } => {
                for r in rows.iter_mut() {
                    if r == from {
                        *r = to.clone();
                    }
                }
            }
        }
    }
    rows.sort();
}

/// One entry of `--dry-run` output.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PlannedStep {
    pub revision: String,
    pub direction: Direction,
    pub message: String,
}

/// The steps of a plan as `--dry-run` shows them, in execution order.
pub fn describe(graph: &RevisionGraph, plan: &Plan) -> Vec<PlannedStep> {
    plan.steps
        .iter()
        .map(|step| match step.revision {
            Some(ix) => {
                let rev = graph.revision(ix);
                PlannedStep {
                    revision: rev.id.to_string(),
                    direction: step.direction,
                    message: rev.summary().to_owned(),
                }
            }
            None => PlannedStep {
                revision: stamp_name(step),
                direction: step.direction,
                message: step_label(graph, step),
            },
        })
        .collect()
}

/// Checks that a plan can run on `dialect` without running anything.
pub fn preflight(graph: &RevisionGraph, plan: &Plan, dialect: Dialect) -> Result<(), EngineError> {
    prepare(graph, plan, dialect).map(|_| ())
}

/// How a step that ran is reported.
pub(super) fn step_report(p: &Prepared<'_>, took: Duration) -> StepReport {
    StepReport {
        revision: p.id.clone(),
        direction: p.step.direction,
        label: p.label.clone(),
        duration_ms: took.as_millis() as u64,
    }
}

/// The log row of step `p` succeeding, started now.
pub(super) fn success_entry(p: &Prepared<'_>, applied_by: &str, ctx: &RunContext) -> LogEntry {
    LogEntry {
        revision: p.id.clone(),
        direction: p.step.direction,
        started_at: Utc::now(),
        duration_ms: 0,
        success: Some(true),
        checksum: p.checksum.clone(),
        applied_by: applied_by.to_owned(),
        tool_version: ctx.tool_version.clone(),
        git_commit: ctx.git_commit.clone(),
        error: None,
    }
}

/// Files a run's revisions came from, for messages.
pub fn revision_file(graph: &RevisionGraph, id: &str) -> Option<PathBuf> {
    graph
        .find(id)
        .and_then(|ix| graph.revision(ix).origin.path.clone())
}
