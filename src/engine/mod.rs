//! The executor: runs a [`Plan`] from the core against a [`Backend`] (in practice a
//! [`crate::db::Database`]), step by step, with the transaction, locking, audit and
//! failure rules of docs/database.md.
//!
//! The plan is made by the caller's [`Planner`] from the version rows read *after* the
//! lock is taken, and made again whenever another process moved the rows (SQLite), so
//! concurrent runs apply each revision exactly once. `--dry-run` and `--sql` consume the
//! same plan ([`describe`], [`offline`]); nothing here decides what runs.
//!
//! By job: [`prepare`] turns plan steps into what runs (statements, checksum, label),
//! `runner` is the apply algorithm over the [`Backend`] trait and `step` one step
//! statement by statement, `in_doubt` and `resolve` a step a killed process left
//! part-way, [`error`] says why a run stopped.

pub mod alembic;
mod error;
mod in_doubt;
mod interrupt;
mod last_step;
pub mod offline;
mod prepare;
mod resolve;
mod runner;
mod step;
#[cfg(test)]
mod tests;

use std::time::Duration;

use crate::core::{Direction, Plan, RevisionGraph};
use crate::db::Backend;
pub use error::{EngineError, StatementFailure, StoppedStep};
pub use in_doubt::{how_to_check, InDoubtStep};
pub use interrupt::{Interrupt, Signal};
pub use last_step::{last_step, LastStep};
pub use prepare::{
    apply_ops, describe, preflight, revision_file, step_label, step_sql, PlannedStep,
};
pub use resolve::{resolve, Resolution, Resolved};

/// Makes the plan for the given version rows. The CLI wraps the core's plan functions;
/// tests may hand-build plans.
pub trait Planner {
    fn plan(&self, rows: &[String]) -> Result<Plan, PlanFailure>;
}

/// Why the planner made no plan (the core's `PlanError`, or the caller's own error).
pub type PlanFailure = Box<dyn std::error::Error + Send + Sync>;

impl<F: Fn(&[String]) -> Result<Plan, PlanFailure>> Planner for F {
    fn plan(&self, rows: &[String]) -> Result<Plan, PlanFailure> {
        self(rows)
    }
}

/// How revisions are grouped into transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TransactionMode {
    /// Each revision, its version-row changes and its log row commit together.
    #[default]
    PerRevision,
    /// The whole plan in one transaction (SQLite and PostgreSQL only).
    All,
}

/// Who and what ran a step, written to every log row.
#[derive(Debug, Clone)]
pub struct RunContext {
    /// OS `user@host`.
    pub os_identity: String,
    pub tool_version: String,
    /// HEAD of the repository holding the revisions.
    pub git_commit: Option<String>,
}

impl RunContext {
    /// The context of this process, with `git_commit` read from the repository holding
    /// `revisions_dir`.
    pub fn detect(revisions_dir: &std::path::Path) -> Self {
        Self {
            os_identity: crate::db::os_identity(),
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            git_commit: crate::git::head_of(revisions_dir),
        }
    }
}

/// Options of one run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub transaction: TransactionMode,
    pub context: RunContext,
    /// Checked between statements and steps: once requested, the run stops there.
    pub interrupt: Interrupt,
}

/// Receives progress; the CLI draws a bar or prints lines, a library user may ignore it.
pub trait Progress {
    fn begin(&mut self, _total: usize) {}
    fn step_started(&mut self, _index: usize, _total: usize, _label: &str) {}
    fn step_finished(&mut self, _index: usize, _total: usize, _label: &str, _took: Duration) {}
    fn end(&mut self) {}
}

/// Progress that reports nothing.
pub struct Silent;
impl Progress for Silent {}

/// One step that ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepReport {
    pub revision: String,
    pub direction: Direction,
    pub label: String,
    pub duration_ms: u64,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    pub steps: Vec<StepReport>,
    /// Version rows at the end, sorted.
    pub rows_after: Vec<String>,
}

/// Runs the plan `planner` makes from the database's version rows, under the run lock.
pub async fn run<B: Backend>(
    db: &mut B,
    graph: &RevisionGraph,
    planner: &(dyn Planner + Sync),
    options: &RunOptions,
    progress: &mut (dyn Progress + Send),
) -> Result<Outcome, EngineError> {
    runner::run(db, graph, planner, options, progress, true).await
}

/// `upgrade TARGET` as a service runs it at start-up: the core's upgrade plan, per-revision
/// transactions, no progress output. `revisions_dir` locates the git commit for the log.
pub async fn upgrade<B: Backend>(
    db: &mut B,
    graph: &RevisionGraph,
    target: &str,
    revisions_dir: &std::path::Path,
) -> Result<Outcome, EngineError> {
    let planner = |rows: &[String]| -> Result<Plan, PlanFailure> {
        let applied = crate::core::rows::applied(graph, rows).map_err(|e| e.to_string())?;
        Ok(crate::core::plan::upgrade(graph, &applied, target)?)
    };
    let options = RunOptions {
        transaction: TransactionMode::PerRevision,
        context: RunContext::detect(revisions_dir),
        interrupt: Interrupt::new(),
    };
    run(db, graph, &planner, &options, &mut Silent).await
}

/// Runs a stamp plan: like [`run`], but a step left failed by an earlier run does not
/// stop it (stamping is how that state is cleared).
pub async fn run_stamp<B: Backend>(
    db: &mut B,
    graph: &RevisionGraph,
    planner: &(dyn Planner + Sync),
    options: &RunOptions,
    progress: &mut (dyn Progress + Send),
) -> Result<Outcome, EngineError> {
    runner::run(db, graph, planner, options, progress, false).await
}
