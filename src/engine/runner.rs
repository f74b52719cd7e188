//! The apply algorithm, once, over any [`Backend`]: the run lock, per-step (or one)
//! transactions, recording each step with its log row, refusing to go past a dirty step,
//! and planning again when another process moved the version rows.

use std::time::Duration;

use chrono::Utc;

use super::in_doubt::{shown, statements_checksum, InDoubtStep};
use super::last_step::{last_step, LastStep};
use super::prepare::{apply_ops, prepare, step_report, success_entry, Prepared};
use super::{EngineError, Outcome, Planner, Progress, RunOptions, TransactionMode};
use crate::core::{Direction, RevisionGraph};
use crate::db::split::split_statements;
use crate::db::{Backend, Booked, LogEntry, LogRow, StepBatch, StepEnd};

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
    let holder_died = db.lock().await?;
    let result = Runner {
        db: &mut *db,
        graph,
        options,
        applied_by: String::new(),
        check_dirty,
        lazy_begin: false,
        holder_died,
        resume: None,
        finished_later: Vec::new(),
    }
    .run_locked(planner, progress)
    .await;
    let unlocked = db.unlock().await;
    let outcome = result?;
    unlocked?;
    Ok(outcome)
}

pub(super) struct Runner<'a, B: Backend> {
    pub(super) db: &'a mut B,
    graph: &'a RevisionGraph,
    pub(super) options: &'a RunOptions,
    applied_by: String,
    check_dirty: bool,
    /// A `BEGIN` still to be sent in front of the next statement
    /// ([`crate::db::Capabilities::begin_with_first_statement`]).
    pub(super) lazy_begin: bool,
    /// Another process held the run lock when this one asked for it.
    holder_died: bool,
    /// A step an earlier run stopped between statements, to be continued first.
    resume: Option<Resume>,
    /// `--transaction all`: steps that ran, reported once the one transaction commits.
    finished_later: Vec<(usize, usize, String, Duration)>,
}

/// A step an earlier run stopped after statement `done` (nothing in doubt).
struct Resume {
    revision: String,
    direction: Direction,
    done: usize,
    checksum: String,
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
            match result {
                Ok(_) => {
                    if let Err(e) = self.db.commit().await {
                        progress.end();
                        return Err(e.into());
                    }
                    // Done only now: each step is reported once the transaction commits.
                    for (index, total, label, took) in std::mem::take(&mut self.finished_later) {
                        progress.step_finished(index, total, &label, took);
                    }
                }
                Err(e) => {
                    let _ = self.db.rollback().await;
                    // Every step went with the one transaction: say where it is now.
                    let now = self.db.read_versions().await.ok();
                    result = Err(match e {
                        EngineError::Interrupted {
                            signal,
                            stopped,
                            rows,
                        } => EngineError::Interrupted {
                            signal,
                            stopped,
                            rows: now.unwrap_or(rows),
                        },
                        e @ (EngineError::Statement(_) | EngineError::Bookkeeping { .. }) => {
                            EngineError::AllRolledBack {
                                source: Box::new(e),
                                rows: now.unwrap_or_default(),
                            }
                        }
                        other => other,
                    });
                }
            }
        }
        progress.end();
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
                self.check_last_step(&row)?;
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
                let skip = self.resumed(p)?;
                let per_step_tx = !all && p.transactional;
                if per_step_tx && caps.batches && skip == 0 {
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
                let took = match self.run_step(p, per_step_tx, all, skip).await {
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
                if all {
                    self.finished_later
                        .push((index, total, p.label.clone(), took));
                } else {
                    progress.step_finished(index, total, &p.label, took);
                }
                apply_ops(&mut rows, &p.step.version_ops);
                outcome.steps.push(step_report(p, took));
                index += 1;
            }
            break;
        }
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
    pub(super) fn log_entry(&self, p: &Prepared<'_>) -> LogEntry {
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
        // The last committed step, whose duration (through its commit) the next step's
        // batch writes.
        let mut previous: Option<Booked> = None;
        let mut next = 0;
        let stop = loop {
            // An interrupt stops before the next step; the caller reports it.
            let stop_here = self.options.interrupt.requested().is_some();
            let Some(p) = steps.get(next).filter(|p| p.transactional && !stop_here) else {
                break BatchStop::Through(next);
            };
            let index = first + next;
            progress.step_started(index, total, &p.label);
            let clock = held.now();
            let entry = success_entry(p, &applied_by, context);
            let booked = previous.take();
            let end = held.step(booked, rows, &p.statements, &p.step.version_ops, &entry);
            let end = match end {
                Ok(end) => end,
                Err(e) => {
                    held.rollback();
                    return Err(e.into());
                }
            };
            let log_id = match end {
                StepEnd::Ran { log_id } => log_id,
                other => {
                    if !matches!(other, StepEnd::BeginFailed(_)) {
                        held.rollback();
                    }
                    // Best effort: the previous step committed; only its duration is late.
                    if let Some(b) = booked {
                        let _ = held.book(b);
                    }
                    match other {
                        StepEnd::BeginFailed(e) => return Err(e.into()),
                        StepEnd::Moved(now) => break BatchStop::Moved(now),
                        _ => break BatchStop::Failed(next),
                    }
                }
            };
            if let Err(e) = held.commit() {
                held.rollback();
                return Err(e.into());
            }
            let took = held.now().saturating_duration_since(clock);
            apply_ops(rows, &p.step.version_ops);
            progress.step_finished(index, total, &p.label, took);
            outcome.steps.push(step_report(p, took));
            previous = Some(Booked {
                log_id,
                duration_ms: took.as_millis() as i64,
            });
            next += 1;
        };
        if let Some(b) = previous {
            // Its own small write; best effort, as above.
            let _ = held.book(b);
        }
        Ok(stop)
    }

    /// Refuses to go past a step an earlier run left half-applied, and notes a step to
    /// continue.
    fn check_last_step(&mut self, row: &LogRow) -> Result<(), EngineError> {
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
            LastStep::InDoubt {
                revision,
                direction,
                done,
                statement,
                what,
            } => Err(EngineError::InDoubt(Box::new(
                self.in_doubt(revision, direction, done, statement, what),
            ))),
            LastStep::Resumable {
                revision,
                direction,
                done,
                checksum,
            } if done > 0 => {
                self.resume = Some(Resume {
                    revision,
                    direction,
                    done,
                    checksum,
                });
                Ok(())
            }
            LastStep::Complete | LastStep::RolledBack { .. } | LastStep::Resumable { .. } => Ok(()),
        }
    }

    /// What a refusal says about statement `statement` of `revision`'s `direction` SQL.
    fn in_doubt(
        &self,
        revision: String,
        direction: Direction,
        done: usize,
        statement: usize,
        what: String,
    ) -> InDoubtStep {
        let dialect = self.db.dialect();
        let rev = self.graph.find(&revision).map(|ix| self.graph.revision(ix));
        let sql = rev.and_then(|r| {
            let sql = match direction {
                Direction::Downgrade => r.downgrade.as_ref(),
                _ => r.upgrade.as_ref(),
            };
            sql.and_then(|s| s.for_dialect(dialect))
        });
        let statements = sql
            .map(|s| split_statements(s, dialect))
            .unwrap_or_default();
        let st = statements.get(statement.wrapping_sub(1));
        InDoubtStep {
            file: rev.map_or_else(|| "no file".to_owned(), |r| r.location(None)),
            revision,
            direction,
            done,
            statement,
            total: statements.len(),
            line: st.map_or(0, |s| s.line),
            excerpt: st.map_or_else(String::new, |s| shown(&s.excerpt(), 80)),
            check: st.map_or_else(
                || {
                    "the statement is not in the revision's SQL any more; look at the database"
                        .to_owned()
                },
                |s| super::in_doubt::how_to_check(dialect, &s.text),
            ),
            what,
            holder_died: self.holder_died,
        }
    }

    /// How many statements of step `p` to skip: those an earlier run completed, when `p`
    /// is the step it stopped. Any other step first is refused.
    fn resumed(&mut self, p: &Prepared<'_>) -> Result<usize, EngineError> {
        let Some(r) = self.resume.take() else {
            return Ok(0);
        };
        if p.id != r.revision || p.step.direction != r.direction {
            let reason = format!(
                "this run would start with the {} of revision {} instead; run the command that continues it (`migrate {} {}`), or fix the database by hand and `migrate stamp` where it is",
                p.step.direction, p.id, r.direction, r.revision
            );
            return Err(self.unfinished(&r, reason));
        }
        let ran = p.statements.get(..r.done);
        if ran.is_none_or(|ran| statements_checksum(ran) != r.checksum) {
            let reason = format!(
                "its first {} statement(s) changed since they ran, so continuing by position is not safe; restore them, or fix the database by hand and `migrate stamp` where it is",
                r.done
            );
            return Err(self.unfinished(&r, reason));
        }
        Ok(r.done)
    }

    fn unfinished(&self, r: &Resume, reason: String) -> EngineError {
        EngineError::Unfinished {
            revision: r.revision.clone(),
            direction: r.direction,
            done: r.done,
            reason,
        }
    }
}
