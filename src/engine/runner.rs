//! The apply algorithm, once, over any [`Backend`]: the run lock, per-step (or one)
//! transactions, recording each step with its log row, refusing to go past a dirty step,
//! and planning again when another process moved the version rows.

use std::time::{Duration, Instant};

use chrono::Utc;

use super::last_step::{last_step, LastStep};
use super::prepare::{apply_ops, prepare, step_report, success_entry, Prepared};
use super::{
    EngineError, Outcome, Planner, Progress, RunOptions, StatementFailure, StepReport, StoppedStep,
    TransactionMode,
};
use crate::core::{Direction, RevisionGraph};
use crate::db::{Backend, DbError, LogEntry, LogRow, LogWrite, StatementError, StepBatch, StepEnd};

/// Runs under the run lock; `check_dirty` refuses to go past a step an earlier run left
/// failed (a stamp passes `false`: stamping is how that state is cleared).
pub(super) async fn run<B: Backend>(
    db: &mut B,
    graph: &RevisionGraph,
    planner: &(dyn Planner + Sync),
    options: &RunOptions,
    progress: &mut (dyn Progress + Send),
    check_dirty: bool,
) -> Result<Outcome, EngineError> {
    if options.transaction == TransactionMode::All && !db.capabilities().transactional_ddl {
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

struct Runner<'a, B: Backend> {
    db: &'a mut B,
    graph: &'a RevisionGraph,
    options: &'a RunOptions,
    applied_by: String,
    check_dirty: bool,
    /// A `BEGIN` still to be sent in front of the next statement
    /// ([`crate::db::Capabilities::begin_with_first_statement`]).
    lazy_begin: bool,
}

/// Where a run of batched steps on the held connection stopped ([`Runner::batched_steps`]).
enum BatchStop {
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

impl<B: Backend> Runner<'_, B> {
    async fn run_locked(
        &mut self,
        planner: &(dyn Planner + Sync),
        progress: &mut (dyn Progress + Send),
    ) -> Result<Outcome, EngineError> {
        let write_lock = self.db.capabilities().lock_is_write_transaction;
        let all = self.options.transaction == TransactionMode::All;
        self.applied_by = match self.db.db_user().await {
            Some(u) => format!("{} ({u})", self.options.context.os_identity),
            None => self.options.context.os_identity.clone(),
        };

        // The bookkeeping tables; where the write transaction is the lock, under it, so two
        // first runs don't race.
        if write_lock {
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
        let mut result = self.run_plans(planner, progress, all).await;
        if all {
            match &mut result {
                Ok(_) => self.db.commit().await?,
                Err(e) => {
                    let _ = self.db.rollback().await;
                    if let EngineError::Interrupted { rows, .. } = e {
                        // Every step went with the one transaction: say where it is now.
                        if let Ok(now) = self.db.read_versions().await {
                            *rows = now;
                        }
                    }
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
        let caps = self.db.capabilities();
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
                if let Some(signal) = self.options.interrupt.requested() {
                    return Err(EngineError::Interrupted {
                        signal,
                        stopped: None,
                        rows,
                    });
                }
                let p = &prepared[index];
                let per_step_tx = !all && p.transactional;
                if per_step_tx && caps.batches {
                    let run = &prepared[index..];
                    match self
                        .batched_steps(run, index, total, &mut rows, progress, &mut outcome)
                        .await?
                    {
                        BatchStop::Through(n) => {
                            index += n;
                            continue;
                        }
                        BatchStop::Moved(now) => {
                            rows = now;
                            continue 'plan;
                        }
                        // Run it again statement by statement below: it fails the same
                        // way, now naming the statement (or the version row), and the
                        // failure is logged.
                        BatchStop::Failed(n) => index += n,
                    }
                }
                let p = &prepared[index];
                progress.step_started(index, total, &p.label);
                if per_step_tx && caps.begin_with_first_statement {
                    // Sent together with the step's first statement: one round trip less.
                    self.lazy_begin = true;
                } else if per_step_tx && caps.lock_is_write_transaction {
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
                let took = match self.run_step(p, per_step_tx, all).await {
                    Err(EngineError::Interrupted {
                        signal, stopped, ..
                    }) => {
                        return Err(EngineError::Interrupted {
                            signal,
                            stopped,
                            rows,
                        })
                    }
                    other => other?,
                };
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
    /// on the connection held for a batch ([`Backend::batch`], SQLite):
    /// one batch per step, each step's `COMMIT` sent with the next step's batch. A step
    /// is reported once committed.
    async fn batched_steps(
        &mut self,
        steps: &[Prepared<'_>],
        first: usize,
        total: usize,
        rows: &mut Vec<String>,
        progress: &mut (dyn Progress + Send),
        outcome: &mut Outcome,
    ) -> Result<BatchStop, EngineError> {
        let applied_by = self.applied_by.clone();
        let context = &self.options.context;
        let mut held = self.db.batch().await?;
        let mut report = |progress: &mut (dyn Progress + Send), ran: Ran| {
            progress.step_finished(ran.index, total, &ran.report.label, ran.took);
            outcome.steps.push(ran.report);
        };
        let mut uncommitted: Option<Ran> = None;
        let mut next = 0;
        let stop = loop {
            // An interrupt stops before the next step; the caller reports it.
            let stop_here = self.options.interrupt.requested().is_some();
            let Some(p) = steps.get(next).filter(|p| p.transactional && !stop_here) else {
                break BatchStop::Through(next);
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
                    break BatchStop::Moved(now);
                }
                StepEnd::Failed => {
                    held.rollback();
                    break BatchStop::Failed(next);
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
        match last_step(row, self.graph, self.db.capabilities(), self.db.dialect()) {
            LastStep::Dirty {
                revision,
                direction,
                what,
            } => Err(EngineError::Dirty {
                revision,
                direction,
                what,
            }),
            LastStep::Complete | LastStep::RolledBack { .. } => Ok(()),
        }
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
        let record_first =
            !outer && (!self.db.capabilities().transactional_ddl || !p.transactional);
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
                let message = match &e {
                    EngineError::Interrupted {
                        signal,
                        stopped: Some(st),
                        ..
                    } => format!(
                        "interrupted by {signal} before statement {} of {}",
                        st.next, st.total
                    ),
                    other => other.to_string(),
                };
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
            if let Some(signal) = self.options.interrupt.requested().filter(|_| st.number > 1) {
                let rolled_back = self.db.capabilities().transactional_ddl && p.transactional;
                return Err(EngineError::Interrupted {
                    signal,
                    stopped: Some(StoppedStep {
                        revision: p.id.clone(),
                        next: st.number,
                        total,
                        rolled_back,
                    }),
                    rows: Vec::new(),
                });
            }
            let run = if std::mem::take(&mut self.lazy_begin) {
                self.db.execute(&format!("BEGIN;\n{}", st.text)).await
            } else {
                self.db.execute(&st.text).await
            };
            if let Err(StatementError { message }) = run {
                return Err(EngineError::Statement(Box::new(StatementFailure {
                    revision: p.id.clone(),
                    file: p.file.clone(),
                    direction: p.step.direction.name(),
                    number: st.number,
                    total,
                    line: st.line,
                    excerpt: st.excerpt(),
                    message,
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
