//! An in-memory [`Backend`]: version rows, a log and a "schema" (the statements that took
//! effect), with transactions that roll back rows and log always and the schema only with
//! transactional DDL, as the real backends do. It tests the executor's logic, not a
//! database; failures are injected by statement text.

use std::time::{Duration, Instant};

use crate::core::{Dialect, VersionOp};
use crate::db::split::Statement;
use crate::db::{
    Backend, Booked, Capabilities, DbError, LogEntry, LogRow, LogWrite, StatementError, StepBatch,
    StepEnd, StepProgress,
};

/// PostgreSQL's rules.
pub const POSTGRES_LIKE: Capabilities = crate::db::postgres::CAPABILITIES;
/// SQLite's rules: the write transaction is the lock, steps run as batches.
pub const SQLITE_LIKE: Capabilities = crate::db::sqlite::CAPABILITIES;
/// MySQL/MariaDB's rules: DDL commits implicitly.
pub const MYSQL_LIKE: Capabilities = crate::db::mysql::CAPABILITIES;

#[derive(Debug, Clone, Default)]
struct State {
    rows: Vec<String>,
    log: Vec<(i64, LogEntry, Option<StepProgress>)>,
    schema: Vec<String>,
}

/// The fake database. Public fields are the committed state and the injected faults.
pub struct Fake {
    pub caps: Capabilities,
    committed: State,
    open: Option<State>,
    pub locked: bool,
    pub locks_taken: usize,
    /// A statement containing this text fails.
    pub fail_on: Option<String>,
    /// The run lock can't be had.
    pub lock_busy: bool,
    /// Running a statement containing this text requests an interrupt (as a Ctrl-C
    /// arriving while it runs would).
    pub interrupt_on: Option<(String, crate::engine::Interrupt)>,
    /// At the n-th write-locked transaction (1-based), another process has just committed
    /// these version rows.
    pub others_commit: Option<(usize, Vec<String>)>,
    write_locks: usize,
    /// For each statement that ran: the log's success column at that moment (committed or
    /// not), so a test can see whether a step was recorded before it ran.
    pub log_when_run: Vec<(String, Vec<Option<bool>>)>,
    next_id: i64,
    /// Another process held the run lock first.
    pub lock_was_held: bool,
    /// Running a statement containing this text kills the process: the statement takes
    /// effect (as MariaDB finishes it), nothing after it reaches the database.
    pub die_on: Option<String>,
    dead: bool,
    /// The virtual clock steps are timed with: each statement takes
    /// `statement_takes`, each COMMIT `commit_takes`.
    pub statement_takes: Duration,
    pub commit_takes: Duration,
    clock: Duration,
    epoch: Instant,
}

impl Fake {
    pub fn new(caps: Capabilities) -> Self {
        Self {
            caps,
            committed: State::default(),
            open: None,
            locked: false,
            locks_taken: 0,
            fail_on: None,
            lock_busy: false,
            interrupt_on: None,
            others_commit: None,
            write_locks: 0,
            log_when_run: Vec::new(),
            next_id: 1,
            lock_was_held: false,
            die_on: None,
            dead: false,
            statement_takes: Duration::ZERO,
            commit_takes: Duration::ZERO,
            clock: Duration::ZERO,
            epoch: Instant::now(),
        }
    }

    /// The progress kept on each committed log row.
    pub fn progress(&self) -> Vec<Option<StepProgress>> {
        self.committed
            .log
            .iter()
            .map(|(_, _, p)| p.clone())
            .collect()
    }

    pub fn rows(&self) -> &[String] {
        &self.committed.rows
    }
    /// Committed log rows as (revision, direction, success).
    pub fn log(&self) -> Vec<(String, &'static str, Option<bool>)> {
        self.committed
            .log
            .iter()
            .map(|(_, e, _)| (e.revision.clone(), e.direction.name(), e.success))
            .collect()
    }
    pub fn log_entries(&self) -> Vec<LogEntry> {
        self.committed
            .log
            .iter()
            .map(|(_, e, _)| e.clone())
            .collect()
    }
    pub fn schema(&self) -> &[String] {
        &self.committed.schema
    }
    pub fn in_transaction(&self) -> bool {
        self.open.is_some()
    }
    /// Leaves a log row as a killed process would.
    pub fn push_log(&mut self, entry: LogEntry) {
        let id = self.next_id;
        self.next_id += 1;
        self.committed.log.push((id, entry, None));
    }

    /// A new process on the same database after a kill: the session (its open
    /// transaction and lock) is gone.
    pub fn restart(&mut self) {
        self.dead = false;
        self.die_on = None;
        self.open = None;
        self.locked = false;
    }

    fn alive(&self) -> Result<(), DbError> {
        if self.dead {
            return Err(failure("the process was killed"));
        }
        Ok(())
    }

    fn state(&mut self) -> &mut State {
        self.open.as_mut().unwrap_or(&mut self.committed)
    }

    fn start(&mut self, lock: bool) -> Result<(), DbError> {
        self.alive()?;
        if self.open.is_some() {
            return Err(failure("BEGIN inside a transaction"));
        }
        if lock && self.caps.lock_is_write_transaction {
            self.write_locks += 1;
            if let Some((at, rows)) = &self.others_commit {
                if *at == self.write_locks {
                    self.committed.rows = rows.clone();
                }
            }
        }
        self.open = Some(self.committed.clone());
        Ok(())
    }

    fn end(&mut self, commit: bool) -> Result<(), DbError> {
        self.alive()?;
        let Some(open) = self.open.take() else {
            return Err(failure("no transaction is open"));
        };
        if commit {
            self.clock += self.commit_takes;
            self.committed = open;
        } else if !self.caps.transactional_ddl {
            // DDL committed implicitly as it ran.
            self.committed.schema = open.schema;
        }
        Ok(())
    }

    fn run(&mut self, sql: &str) -> Result<(), StatementError> {
        if self.dead {
            return Err(StatementError {
                message: "the process was killed".to_owned(),
            });
        }
        let sql = match sql.strip_prefix("BEGIN;\n") {
            Some(rest) => {
                self.start(false).map_err(|e| StatementError {
                    message: e.to_string(),
                })?;
                rest
            }
            None => sql,
        };
        if let Some((text, interrupt)) = &self.interrupt_on {
            if sql.contains(text.as_str()) {
                interrupt.request(2);
            }
        }
        self.clock += self.statement_takes;
        let log = self.state().log.iter().map(|(_, e, _)| e.success).collect();
        self.log_when_run.push((sql.to_owned(), log));
        if self.fail_on.as_deref().is_some_and(|f| sql.contains(f)) {
            return Err(StatementError {
                message: format!("syntax error at or near \"{}\"", sql.trim()),
            });
        }
        self.state().schema.push(sql.to_owned());
        if !self.caps.transactional_ddl {
            self.committed.schema.push(sql.to_owned());
        }
        if self.die_on.as_deref().is_some_and(|d| sql.contains(d)) {
            self.dead = true;
            self.open = None;
            return Err(StatementError {
                message: "the process was killed".to_owned(),
            });
        }
        Ok(())
    }

    fn record(&mut self, ops: &[VersionOp], log: LogWrite<'_>) -> Result<(), DbError> {
        self.alive()?;
        let state = self.state();
        for op in ops {
            let hit = match op {
                VersionOp::Insert { version } => {
                    let fresh = !state.rows.contains(version);
                    if fresh {
                        state.rows.push(version.clone());
                    }
                    fresh
                }
                VersionOp::Delete { version } => {
                    let before = state.rows.len();
                    state.rows.retain(|r| r != version);
                    state.rows.len() + 1 == before
                }
                VersionOp::Update { from, to } => {
                    match state.rows.iter_mut().find(|r| *r == from) {
                        Some(r) => {
                            *r = to.clone();
                            true
                        }
                        None => false,
                    }
                }
            };
            if !hit {
                return Err(DbError::RowCount {
                    action: format!("{op:?}"),
                    table: "fake_version".to_owned(),
                    found: 0,
                });
            }
        }
        state.rows.sort();
        match log {
            LogWrite::Insert(e) => {
                let entry = e.clone();
                self.append(entry);
            }
            LogWrite::Finish {
                id,
                success,
                duration_ms,
                error,
            } => self.finish(id, success, duration_ms, error),
        }
        Ok(())
    }

    fn append(&mut self, entry: LogEntry) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        self.state().log.push((id, entry, None));
        id
    }

    fn finish(&mut self, id: i64, success: bool, duration_ms: i64, error: Option<String>) {
        if let Some((_, e, _)) = self.state().log.iter_mut().find(|(i, _, _)| *i == id) {
            e.success = Some(success);
            e.duration_ms = duration_ms;
            e.error = error;
        }
    }
}

fn failure(message: &str) -> DbError {
    DbError::Query {
        url: "fake:".to_owned(),
        action: "fake".to_owned(),
        message: message.to_owned(),
    }
}

impl Backend for Fake {
    type Batch<'a> = FakeBatch<'a>;

    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }
    fn capabilities(&self) -> Capabilities {
        self.caps
    }
    fn scrub(&self, text: &str) -> String {
        text.to_owned()
    }
    async fn lock(&mut self) -> Result<bool, DbError> {
        if self.lock_busy {
            return Err(DbError::LockTimeout {
                url: "fake:".to_owned(),
                seconds: 0,
            });
        }
        self.locked = true;
        self.locks_taken += 1;
        Ok(self.lock_was_held)
    }
    async fn unlock(&mut self) -> Result<(), DbError> {
        self.locked = false;
        Ok(())
    }
    async fn db_user(&mut self) -> Option<String> {
        Some("fake_user".to_owned())
    }
    async fn begin(&mut self, lock: bool) -> Result<(), DbError> {
        self.start(lock)
    }
    async fn commit(&mut self) -> Result<(), DbError> {
        self.end(true)
    }
    async fn rollback(&mut self) -> Result<(), DbError> {
        self.end(false)
    }
    async fn ensure_tables(&mut self) -> Result<(), DbError> {
        Ok(())
    }
    async fn read_versions(&mut self) -> Result<Vec<String>, DbError> {
        Ok(self.state().rows.clone())
    }
    async fn begin_locked_read_versions(&mut self) -> Result<Vec<String>, DbError> {
        self.start(true)?;
        Ok(self.state().rows.clone())
    }
    async fn last_log(&mut self) -> Result<Option<LogRow>, DbError> {
        Ok(self.committed.log.last().map(|(id, e, p)| LogRow {
            id: *id,
            revision: e.revision.clone(),
            direction: e.direction,
            success: e.success,
            checksum: e.checksum.clone(),
            error: e.error.clone(),
            progress: p.clone(),
        }))
    }
    async fn append_log(&mut self, e: &LogEntry) -> Result<i64, DbError> {
        self.alive()?;
        Ok(self.append(e.clone()))
    }
    async fn finish_log(
        &mut self,
        id: i64,
        success: bool,
        duration_ms: i64,
        error: Option<String>,
    ) -> Result<(), DbError> {
        self.alive()?;
        self.finish(id, success, duration_ms, error);
        Ok(())
    }
    async fn set_progress(
        &mut self,
        id: i64,
        progress: &StepProgress,
        recommit: bool,
    ) -> Result<(), DbError> {
        self.alive()?;
        if let Some((_, _, p)) = self.state().log.iter_mut().find(|(i, _, _)| *i == id) {
            *p = Some(progress.clone());
        }
        if recommit {
            self.end(true)?;
            self.start(true)?;
        }
        Ok(())
    }
    fn now(&self) -> Instant {
        self.epoch + self.clock
    }
    async fn record_step(
        &mut self,
        ops: &[VersionOp],
        log: LogWrite<'_>,
        prefix: Option<&str>,
    ) -> Result<(), DbError> {
        if prefix.is_some() {
            self.start(false)?;
        }
        self.record(ops, log)
    }
    async fn execute(&mut self, sql: &str) -> Result<(), StatementError> {
        self.run(sql)
    }
    async fn batch(&mut self) -> Result<FakeBatch<'_>, DbError> {
        if !self.caps.batches {
            return Err(failure("this backend has no batches"));
        }
        Ok(FakeBatch { fake: self })
    }
}

/// The fake's held-connection batch: each step begins (write-locked), checks the rows,
/// runs and records, as SQLite's one-batch step does.
pub struct FakeBatch<'a> {
    fake: &'a mut Fake,
}

impl StepBatch for FakeBatch<'_> {
    fn step(
        &mut self,
        previous: Option<Booked>,
        expected_rows: &[String],
        statements: &[Statement],
        ops: &[VersionOp],
        entry: &LogEntry,
    ) -> Result<StepEnd, DbError> {
        if let Err(e) = self.fake.start(true) {
            return Ok(StepEnd::BeginFailed(e));
        }
        if let Some(b) = previous {
            self.book(b)?;
        }
        if self.fake.state().rows != expected_rows {
            return Ok(StepEnd::Moved(self.fake.state().rows.clone()));
        }
        for st in statements {
            if self.fake.run(&st.text).is_err() {
                return Ok(StepEnd::Failed);
            }
        }
        if self.fake.record(ops, LogWrite::Insert(entry)).is_err() {
            return Ok(StepEnd::Failed);
        }
        Ok(StepEnd::Ran {
            log_id: self.fake.next_id - 1,
        })
    }
    fn book(&mut self, b: Booked) -> Result<(), DbError> {
        if let Some((_, e, _)) = self
            .fake
            .state()
            .log
            .iter_mut()
            .find(|(i, _, _)| *i == b.log_id)
        {
            e.duration_ms = b.duration_ms;
        }
        Ok(())
    }
    fn now(&self) -> Instant {
        self.fake.now()
    }
    fn commit(&mut self) -> Result<(), DbError> {
        self.fake.end(true)
    }
    fn rollback(&mut self) {
        let _ = self.fake.end(false);
    }
}
