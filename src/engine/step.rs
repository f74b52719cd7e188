//! One step statement by statement (the path every backend has): its log row written
//! first where a failure can leave partial changes, its progress kept after each
//! statement there, its bookkeeping, and what a failure or an interrupt records.

use std::time::{Duration, Instant};

use super::in_doubt::progress;
use super::prepare::Prepared;
use super::runner::Runner;
use super::{EngineError, StatementFailure, StoppedStep};
use crate::db::{Backend, DbError, LogEntry, LogWrite, StatementError};

impl<B: Backend> Runner<'_, B> {
    /// Runs one step, its first `skip` statements known to have taken effect already (a
    /// step continued from an earlier run). With `in_tx` a transaction is open (and is
    /// committed or rolled back here); with `outer` the whole plan's transaction is open
    /// and stays so. Returns how long the step took, through its commit.
    pub(super) async fn run_step(
        &mut self,
        p: &Prepared<'_>,
        in_tx: bool,
        outer: bool,
        skip: usize,
    ) -> Result<Duration, EngineError> {
        let clock = self.db.now();
        let mut entry = self.log_entry(p);
        // Where a failure can leave partial changes (MySQL's implicit DDL commits, a
        // non-transactional revision), record the step before it runs, and after each
        // statement how far it got, so even a killed process leaves a trace the next run
        // reads: which statements took effect, and the one in doubt.
        let record_first =
            !outer && (!self.db.capabilities().transactional_ddl || !p.transactional);
        let pending = if record_first {
            entry.success = None;
            let id = self
                .db
                .append_log(&entry)
                .await
                .map_err(|e| self.bookkeeping(p, e))?;
            // In a transaction, the pending row must survive a rollback: committed here
            // (and a new transaction started) in the same round trip.
            let at_start = progress(&p.statements, skip, true);
            self.db
                .set_progress(id, &at_start, in_tx)
                .await
                .map_err(|e| self.bookkeeping(p, e))?;
            Some(id)
        } else {
            None
        };

        let result = self.run_statements(p, skip, pending, in_tx).await;
        let result = match result {
            Ok(()) => self.record_success(p, &mut entry, pending, clock).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => {
                if in_tx {
                    self.db.commit().await?;
                }
                Ok(self.db.now().saturating_duration_since(clock))
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
                let ms = self.db.now().saturating_duration_since(clock).as_millis() as i64;
                // Best effort: the original error matters more than a failed log write.
                match pending {
                    Some(id) => {
                        if let EngineError::Interrupted {
                            stopped: Some(st), ..
                        } = &e
                        {
                            // Stopped between statements: none is in doubt.
                            let between = progress(&p.statements, st.next - 1, false);
                            let _ = self.db.set_progress(id, &between, false).await;
                        }
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

    /// Runs the step's statements after the first `skip`; with a `pending` log row, the
    /// progress is recorded after each one (committed at once: `recommit`).
    async fn run_statements(
        &mut self,
        p: &Prepared<'_>,
        skip: usize,
        pending: Option<i64>,
        recommit: bool,
    ) -> Result<(), EngineError> {
        let total = p.statements.len();
        for st in p.statements.iter().skip(skip) {
            if let Some(signal) = self
                .options
                .interrupt
                .requested()
                .filter(|_| st.number > skip + 1)
            {
                let rolled_back = self.db.capabilities().transactional_ddl && p.transactional;
                return Err(EngineError::Interrupted {
                    signal,
                    stopped: Some(StoppedStep {
                        revision: p.id.clone(),
                        next: st.number,
                        total,
                        rolled_back,
                        resumes: pending.is_some() && !rolled_back,
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
                    excerpt: super::in_doubt::shown(&st.excerpt(), 120),
                    message: super::in_doubt::shown(&message, 2000),
                })));
            }
            if let Some(id) = pending {
                let done = progress(&p.statements, st.number, true);
                self.db
                    .set_progress(id, &done, recommit)
                    .await
                    .map_err(|e| self.bookkeeping(p, e))?;
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
        let ms = self.db.now().saturating_duration_since(clock).as_millis() as i64;
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

    pub(super) fn bookkeeping(&self, p: &Prepared<'_>, e: DbError) -> EngineError {
        EngineError::Bookkeeping {
            revision: p.id.clone(),
            file: p.file.clone(),
            source: e,
        }
    }
}
