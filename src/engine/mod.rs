//! The executor: runs a [`Plan`] from the core against a [`Database`], step by step, with
//! the transaction, locking, audit and failure rules of docs/database.md.
//!
//! The plan is made by the caller's [`Planner`] from the version rows read *after* the
//! lock is taken, and made again whenever another process moved the rows (SQLite), so
//! concurrent runs apply each revision exactly once. `--dry-run` and `--sql` consume the
//! same plan ([`describe`], [`offline`]); nothing here decides what runs.

pub mod alembic;
pub mod offline;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::Utc;

use crate::core::{Dialect, Direction, Plan, RevisionGraph, Step, VersionOp};
use crate::db::split::{split_statements, Statement};
use crate::db::sqlite::StepEnd;
use crate::db::{checksum, Database, DbError, LogEntry, LogRow, LogWrite};

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

/// Why a run stopped. Messages name the revision, its file and the statement.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{0}")]
    Plan(PlanFailure),
    /// Running the plan through Alembic failed.
    #[error(transparent)]
    Alembic(#[from] alembic::AlembicError),
    /// A step that can't run on this backend, refused before anything runs.
    #[error(transparent)]
    NotRunnable(#[from] crate::core::PlanError),
    #[error(transparent)]
    Statement(Box<StatementFailure>),
    #[error("revision {revision} ({file}): {source}")]
    Bookkeeping {
        revision: String,
        file: String,
        #[source]
        source: DbError,
    },
    #[error("revision {revision} ({file}) has transactional: false and can't run inside --transaction all")]
    NonTransactionalInAll { revision: String, file: String },
    #[error("--transaction all needs transactional DDL, which {dialect} does not have; use the default per-revision transactions")]
    TransactionAllUnsupported { dialect: Dialect },
    #[error(
        "the last {direction} of revision {revision} did not complete ({what}); the database may be half-changed. Fix it by hand, then run `migrate stamp <revision>` to record where it is"
    )]
    Dirty {
        revision: String,
        direction: String,
        what: String,
    },
}

/// A statement of a revision that failed: which revision, file and statement, and the
/// database's message.
#[derive(Debug, thiserror::Error)]
#[error(
    "revision {revision} ({file}) failed at {direction} statement {number} of {total} (line {line} of the script): {excerpt}: {message}"
)]
pub struct StatementFailure {
    pub revision: String,
    pub file: String,
    pub direction: &'static str,
    pub number: usize,
    pub total: usize,
    pub line: usize,
    pub excerpt: String,
    pub message: String,
}

/// A plan step with what the executor needs about its revision.
struct Prepared<'g> {
    step: &'g Step,
    id: String,
    file: String,
    label: String,
    statements: Vec<Statement>,
    checksum: Option<String>,
    transactional: bool,
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

fn prepare<'g>(
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
                    (rev.id.to_string(), rev.location(None), rev.transactional)
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
                checksum: sql.map(checksum),
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

/// Runs the plan `planner` makes from the database's version rows, under the run lock.
pub async fn run(
    db: &mut Database,
    graph: &RevisionGraph,
    planner: &(dyn Planner + Sync),
    options: &RunOptions,
    progress: &mut (dyn Progress + Send),
) -> Result<Outcome, EngineError> {
    run_inner(db, graph, planner, options, progress, true).await
}

/// `upgrade TARGET` as a service runs it at start-up: the core's upgrade plan, per-revision
/// transactions, no progress output. `revisions_dir` locates the git commit for the log.
pub async fn upgrade(
    db: &mut Database,
    graph: &RevisionGraph,
    target: &str,
    revisions_dir: &std::path::Path,
) -> Result<Outcome, EngineError> {
    let planner = |rows: &[String]| -> Result<Plan, PlanFailure> {
        let applied = rows
            .iter()
            .map(|r| {
                graph
                    .find(r)
                    .ok_or_else(|| format!("the database is at revision {r}, which has no file"))
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(crate::core::plan::upgrade(graph, &applied, target)?)
    };
    let options = RunOptions {
        transaction: TransactionMode::PerRevision,
        context: RunContext::detect(revisions_dir),
    };
    run(db, graph, &planner, &options, &mut Silent).await
}

/// Runs a stamp plan: like [`run`], but a step left failed by an earlier run does not
/// stop it (stamping is how that state is cleared).
pub async fn run_stamp(
    db: &mut Database,
    graph: &RevisionGraph,
    planner: &(dyn Planner + Sync),
    options: &RunOptions,
    progress: &mut (dyn Progress + Send),
) -> Result<Outcome, EngineError> {
    run_inner(db, graph, planner, options, progress, false).await
}

async fn run_inner(
    db: &mut Database,
    graph: &RevisionGraph,
    planner: &(dyn Planner + Sync),
    options: &RunOptions,
    progress: &mut (dyn Progress + Send),
    check_dirty: bool,
) -> Result<Outcome, EngineError> {
    if options.transaction == TransactionMode::All && db.dialect() == Dialect::Mysql {
        return Err(EngineError::TransactionAllUnsupported {
            dialect: db.dialect(),
        });
    }
    db.lock().await?;
    let result = Runner {
        db: &mut *db,
        graph,
        options,
        applied_by: String::new(),
        check_dirty,
        lazy_begin: false,
    }
    .run_locked(planner, progress)
    .await;
    let unlocked = db.unlock().await;
    let outcome = result?;
    unlocked?;
    Ok(outcome)
}

struct Runner<'a> {
    db: &'a mut Database,
    graph: &'a RevisionGraph,
    options: &'a RunOptions,
    applied_by: String,
    check_dirty: bool,
    /// A `BEGIN` still to be sent in front of the next statement (PostgreSQL).
    lazy_begin: bool,
}

/// Where a run of SQLite steps on the held connection stopped ([`Runner::sqlite_steps`]).
enum SqliteStop {
    /// This many steps committed; the next one (if any) is not transactional.
    Through(usize),
    /// This many steps committed; the next one failed and was rolled back.
    Failed(usize),
    /// Another process moved the version rows to these; plan again.
    Moved(Vec<String>),
}

/// A step that ran, waiting for its commit to be reported.
struct Ran {
    index: usize,
    took: Duration,
    report: StepReport,
}

impl Runner<'_> {
    async fn run_locked(
        &mut self,
        planner: &(dyn Planner + Sync),
        progress: &mut (dyn Progress + Send),
    ) -> Result<Outcome, EngineError> {
        let sqlite = self.db.dialect() == Dialect::Sqlite;
        let all = self.options.transaction == TransactionMode::All;
        self.applied_by = match self.db.db_user().await {
            Some(u) => format!("{} ({u})", self.options.context.os_identity),
            None => self.options.context.os_identity.clone(),
        };

        // The bookkeeping tables; on SQLite under the write lock, so two first runs don't race.
        if sqlite {
            self.db.begin(true).await?;
            if let Err(e) = self.db.ensure_tables().await {
                let _ = self.db.rollback().await;
                return Err(e.into());
            }
            if !all {
                self.db.commit().await?;
            }
        } else {
            self.db.ensure_tables().await?;
            if all {
                self.db.begin(false).await?;
            }
        }
        let result = self.run_plans(planner, progress, all).await;
        if all {
            match &result {
                Ok(_) => self.db.commit().await?,
                Err(_) => {
                    let _ = self.db.rollback().await;
                }
            }
        }
        result
    }

    async fn run_plans(
        &mut self,
        planner: &(dyn Planner + Sync),
        progress: &mut (dyn Progress + Send),
        all: bool,
    ) -> Result<Outcome, EngineError> {
        let sqlite = self.db.dialect() == Dialect::Sqlite;
        if self.check_dirty {
            if let Some(row) = self.db.last_log().await? {
                self.refuse_if_dirty(&row)?;
            }
        }
        let mut rows = self.db.read_versions().await?;
        let mut outcome = Outcome::default();
        let mut started = false;
        'plan: loop {
            let plan = planner.plan(&rows).map_err(EngineError::Plan)?;
            let prepared = prepare(self.graph, &plan, self.db.dialect())?;
            if let Some(p) = prepared.iter().find(|p| all && !p.transactional) {
                return Err(EngineError::NonTransactionalInAll {
                    revision: p.id.clone(),
                    file: p.file.clone(),
                });
            }
            if !started {
                progress.begin(prepared.len());
                started = true;
            }
            let total = prepared.len();
            let mut index = 0;
            while index < total {
                let p = &prepared[index];
                let per_step_tx = !all && p.transactional;
                if per_step_tx && sqlite {
                    let run = &prepared[index..];
                    match self
                        .sqlite_steps(run, index, total, &mut rows, progress, &mut outcome)
                        .await?
                    {
                        SqliteStop::Through(n) => {
                            index += n;
                            continue;
                        }
                        SqliteStop::Moved(now) => {
                            rows = now;
                            continue 'plan;
                        }
                        // Run it again statement by statement below: it fails the same
                        // way, now naming the statement (or the version row), and the
                        // failure is logged.
                        SqliteStop::Failed(n) => index += n,
                    }
                }
                let p = &prepared[index];
                progress.step_started(index, total, &p.label);
                if per_step_tx && self.db.dialect() == Dialect::Postgres {
                    // Sent together with the step's first statement: one round trip less.
                    self.lazy_begin = true;
                } else if per_step_tx && sqlite {
                    // The write lock is ours only from here: re-read the rows and plan
                    // again if another process moved them since.
                    let now = match self.db.begin_locked_read_versions().await {
                        Ok(now) => now,
                        Err(e) => {
                            let _ = self.db.rollback().await;
                            return Err(e.into());
                        }
                    };
                    if now != rows {
                        self.db.commit().await?;
                        rows = now;
                        continue 'plan;
                    }
                } else if per_step_tx {
                    self.db.begin(true).await?;
                }
                let took = self.run_step(p, per_step_tx, all).await?;
                progress.step_finished(index, total, &p.label, took);
                apply_ops(&mut rows, &p.step.version_ops);
                outcome.steps.push(step_report(p, took));
                index += 1;
            }
            break;
        }
        progress.end();
        if !self.check_dirty && outcome.steps.is_empty() {
            // A stamp that changes no row still confirms where the database is, and that
            // is what clears a failed step: record it.
            let ctx = &self.options.context;
            let entry = LogEntry {
                revision: if rows.is_empty() {
                    "base".to_owned()
                } else {
                    rows.join(",")
                },
                direction: Direction::Stamp,
                started_at: Utc::now(),
                duration_ms: 0,
                success: Some(true),
                checksum: None,
                applied_by: self.applied_by.clone(),
                tool_version: ctx.tool_version.clone(),
                git_commit: ctx.git_commit.clone(),
                error: None,
            };
            self.db.append_log(&entry).await?;
        }
        outcome.rows_after = rows;
        Ok(outcome)
    }

    /// The log row of a step that succeeds, started now.
    fn log_entry(&self, p: &Prepared<'_>) -> LogEntry {
        success_entry(p, &self.applied_by, &self.options.context)
    }

    /// Runs the leading transactional steps of `steps` (the plan's steps from `first`)
    /// on SQLite with the connection held by this thread ([`Database::sqlite_steps`]):
    /// one batch per step, each step's `COMMIT` sent with the next step's batch. A step
    /// is reported once committed.
    async fn sqlite_steps(
        &mut self,
        steps: &[Prepared<'_>],
        first: usize,
        total: usize,
        rows: &mut Vec<String>,
        progress: &mut (dyn Progress + Send),
        outcome: &mut Outcome,
    ) -> Result<SqliteStop, EngineError> {
        let applied_by = self.applied_by.clone();
        let context = &self.options.context;
        let mut held = self.db.sqlite_steps().await?;
        let mut report = |progress: &mut (dyn Progress + Send), ran: Ran| {
            progress.step_finished(ran.index, total, &ran.report.label, ran.took);
            outcome.steps.push(ran.report);
        };
        let mut uncommitted: Option<Ran> = None;
        let mut next = 0;
        let stop = loop {
            let Some(p) = steps.get(next).filter(|p| p.transactional) else {
                break SqliteStop::Through(next);
            };
            let index = first + next;
            progress.step_started(index, total, &p.label);
            let clock = Instant::now();
            let entry = success_entry(p, &applied_by, context);
            let end = held.step(
                uncommitted.is_some(),
                rows,
                &p.statements,
                &p.step.version_ops,
                &entry,
            );
            let end = match end {
                Ok(end) => end,
                Err(e) => {
                    // The previous step never committed: it is rolled back, unreported.
                    held.rollback();
                    return Err(e.into());
                }
            };
            if let Some(ran) = uncommitted.take() {
                report(progress, ran);
            }
            match end {
                StepEnd::BeginFailed(e) => return Err(e.into()),
                StepEnd::Moved(now) => {
                    held.rollback();
                    break SqliteStop::Moved(now);
                }
                StepEnd::Failed => {
                    held.rollback();
                    break SqliteStop::Failed(next);
                }
                StepEnd::Ran => {
                    apply_ops(rows, &p.step.version_ops);
                    let took = clock.elapsed();
                    uncommitted = Some(Ran {
                        index,
                        took,
                        report: step_report(p, took),
                    });
                    next += 1;
                }
            }
        };
        if let Some(ran) = uncommitted.take() {
            if let Err(e) = held.commit() {
                held.rollback();
                return Err(e.into());
            }
            report(progress, ran);
        }
        Ok(stop)
    }

    fn refuse_if_dirty(&self, row: &LogRow) -> Result<(), EngineError> {
        if row.direction == Direction::Stamp.name() || row.success == Some(true) {
            return Ok(());
        }
        let non_transactional = self
            .graph
            .find(&row.revision)
            .is_some_and(|ix| !self.graph.revision(ix).transactional);
        if row.success.is_none() || self.db.dialect() == Dialect::Mysql || non_transactional {
            let what = match (&row.success, &row.error) {
                (None, _) => "the process stopped while it ran".to_owned(),
                (_, Some(e)) => format!("it failed: {e}"),
                _ => "it failed".to_owned(),
            };
            return Err(EngineError::Dirty {
                revision: row.revision.clone(),
                direction: row.direction.clone(),
                what,
            });
        }
        Ok(())
    }

    /// Runs one step. With `in_tx` a transaction is open (and is committed or rolled back
    /// here); with `outer` the whole plan's transaction is open and stays so.
    async fn run_step(
        &mut self,
        p: &Prepared<'_>,
        in_tx: bool,
        outer: bool,
    ) -> Result<Duration, EngineError> {
        let clock = Instant::now();
        let mut entry = self.log_entry(p);
        // Where a failure can leave partial changes (MySQL's implicit DDL commits, a
        // non-transactional revision), record the step before it runs, so even a killed
        // process leaves a trace the next run refuses to go past.
        let record_first = !outer && (self.db.dialect() == Dialect::Mysql || !p.transactional);
        let pending = if record_first {
            entry.success = None;
            let id = self
                .db
                .append_log(&entry)
                .await
                .map_err(|e| self.bookkeeping(p, e))?;
            if in_tx {
                // The pending row must survive a rollback: commit it and start again.
                self.db.commit().await?;
                self.db.begin(true).await?;
            }
            Some(id)
        } else {
            None
        };

        let result = self.run_statements(p).await;
        let result = match result {
            Ok(()) => self.record_success(p, &mut entry, pending, clock).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => {
                if in_tx {
                    self.db.commit().await?;
                }
                Ok(clock.elapsed())
            }
            Err(e) => {
                if in_tx || outer {
                    let _ = self.db.rollback().await;
                }
                let message = e.to_string();
                let ms = clock.elapsed().as_millis() as i64;
                // Best effort: the original error matters more than a failed log write.
                match pending {
                    Some(id) => {
                        let _ = self.db.finish_log(id, false, ms, Some(message)).await;
                    }
                    None => {
                        entry.success = Some(false);
                        entry.duration_ms = ms;
                        entry.error = Some(message);
                        let _ = self.db.append_log(&entry).await;
                    }
                }
                Err(e)
            }
        }
    }

    async fn run_statements(&mut self, p: &Prepared<'_>) -> Result<(), EngineError> {
        let total = p.statements.len();
        for st in &p.statements {
            let run = if std::mem::take(&mut self.lazy_begin) {
                self.db.execute_raw(&format!("BEGIN;\n{}", st.text)).await
            } else {
                self.db.execute_raw(&st.text).await
            };
            if let Err(e) = run {
                return Err(EngineError::Statement(Box::new(StatementFailure {
                    revision: p.id.clone(),
                    file: p.file.clone(),
                    direction: p.step.direction.name(),
                    number: st.number,
                    total,
                    line: st.line,
                    excerpt: st.excerpt(),
                    message: self.db.scrub(&db_message(&e)),
                })));
            }
        }
        Ok(())
    }

    async fn record_success(
        &mut self,
        p: &Prepared<'_>,
        entry: &mut LogEntry,
        pending: Option<i64>,
        clock: Instant,
    ) -> Result<(), EngineError> {
        if !p.transactional && pending.is_some() {
            // The SQL ran outside a transaction; the bookkeeping gets one of its own.
            self.db.begin(true).await?;
        }
        let prefix = std::mem::take(&mut self.lazy_begin).then_some("BEGIN");
        // Version rows and log row in one round trip; the row counts are checked.
        let ms = clock.elapsed().as_millis() as i64;
        let log = match pending {
            Some(id) => LogWrite::Finish {
                id,
                success: true,
                duration_ms: ms,
                error: None,
            },
            None => {
                entry.duration_ms = ms;
                LogWrite::Insert(entry)
            }
        };
        let r = self.db.record_step(&p.step.version_ops, log, prefix).await;
        if !p.transactional && pending.is_some() {
            match &r {
                Ok(()) => self.db.commit().await?,
                Err(_) => {
                    let _ = self.db.rollback().await;
                }
            }
        }
        r.map_err(|e| self.bookkeeping(p, e))
    }

    fn bookkeeping(&self, p: &Prepared<'_>, e: DbError) -> EngineError {
        EngineError::Bookkeeping {
            revision: p.id.clone(),
            file: p.file.clone(),
            source: e,
        }
    }
}

/// How a step that ran is reported.
fn step_report(p: &Prepared<'_>, took: Duration) -> StepReport {
    StepReport {
        revision: p.id.clone(),
        direction: p.step.direction,
        label: p.label.clone(),
        duration_ms: took.as_millis() as u64,
    }
}

/// The log row of step `p` succeeding, started now.
fn success_entry(p: &Prepared<'_>, applied_by: &str, ctx: &RunContext) -> LogEntry {
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

/// The database's own message, without sqlx's prefix.
fn db_message(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => d.message().to_owned(),
        other => other.to_string(),
    }
}

/// Files a run's revisions came from, for messages.
pub fn revision_file(graph: &RevisionGraph, id: &str) -> Option<PathBuf> {
    graph
        .find(id)
        .and_then(|ix| graph.revision(ix).origin.path.clone())
}
