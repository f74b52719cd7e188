//! Running an Alembic project's plan through Alembic itself, under migrate's lock and
//! audit log.
//!
//! migrate plans (the same core plan every executor consumes), takes its run lock, runs
//! `alembic upgrade|downgrade TARGET` once for the whole plan, streams Alembic's output,
//! then reads the version rows back and writes one log row per step that moved them.
//! Which steps moved is decided from the rows alone: the plan's version-row changes are
//! replayed from the rows before until they give the rows after. Durations come from the
//! arrival of Alembic's `Running upgrade …` lines, when its logging prints them.
//!
//! The lock: PostgreSQL's advisory lock and MySQL's `GET_LOCK` are held by migrate's own
//! session, which Alembic's connection does not touch. SQLite has no session lock and
//! migrate's usual lock (the write lock of `BEGIN IMMEDIATE`) would block Alembic's own
//! connection, so an exclusive OS file lock beside the database file stands in for it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::io::{AsyncBufReadExt, BufReader};

use super::{EngineError, Outcome, Planner, Progress, RunContext, StepReport};
use crate::core::plan::VersionOp;
use crate::core::{Direction, Plan, RevisionGraph};
use crate::db::{Database, LogEntry};

/// How to run Alembic for one project.
#[derive(Debug, Clone)]
pub struct AlembicCommand {
    /// The program and its leading arguments (`alembic`, or `--alembic "poetry run alembic"`).
    pub program: Vec<String>,
    /// The project's `alembic.ini` (or `pyproject.toml`), passed as `-c`.
    pub config: PathBuf,
    /// `-n NAME`, the ini section.
    pub name: Option<String>,
    /// Where Alembic runs (the config file's directory).
    pub workdir: PathBuf,
}

impl AlembicCommand {
    /// The command line for `verb target`, as shown in messages.
    pub fn shown(&self, verb: &str, target: &str) -> String {
        let mut parts = self.program.clone();
        parts.extend(self.args(verb, &[], target));
        parts.join(" ")
    }

    fn args(&self, verb: &str, flags: &[&str], target: &str) -> Vec<String> {
        let mut args = vec!["-c".to_owned(), self.config.display().to_string()];
        if let Some(n) = &self.name {
            args.extend(["-n".to_owned(), n.clone()]);
        }
        args.push(verb.to_owned());
        args.extend(flags.iter().map(|f| f.to_string()));
        args.push(target.to_owned());
        args
    }

    /// `alembic -c CONFIG [-n NAME] VERB [FLAGS] TARGET`, to run in the config's
    /// directory.
    pub fn command(
        &self,
        verb: &str,
        flags: &[&str],
        target: &str,
    ) -> Result<std::process::Command, AlembicError> {
        let (program, lead) = self
            .program
            .split_first()
            .ok_or_else(|| self.not_found(verb, target, "the command is empty".to_owned()))?;
        let mut cmd = std::process::Command::new(program);
        cmd.args(lead)
            .args(self.args(verb, flags, target))
            .current_dir(&self.workdir);
        Ok(cmd)
    }

    /// The error for a command that could not be started.
    pub fn not_found(&self, verb: &str, target: &str, reason: String) -> AlembicError {
        AlembicError::NotFound {
            command: self.shown(verb, target),
            reason,
        }
    }
}

/// Why running through Alembic failed.
#[derive(Debug, thiserror::Error)]
pub enum AlembicError {
    #[error("can't run Alembic (`{command}`): {reason}; install it in the project's environment (`pip install alembic`) or name it with --alembic CMD")]
    NotFound { command: String, reason: String },
    #[error("`{command}` failed ({status}){}; the database is at {}", revision.as_ref().map(|r| format!(" while running revision {r}")).unwrap_or_default(), at_text(.rows))]
    Failed {
        command: String,
        status: String,
        revision: Option<String>,
        rows: Vec<String>,
    },
    #[error("after `{command}` the version rows are {}, which the plan does not make from {}; another process moved them, or Alembic took another path: no step was logged", at_text(.after), at_text(.before))]
    Diverged {
        command: String,
        before: Vec<String>,
        after: Vec<String>,
    },
    #[error("another process holds the migrate lock file {} (waited {seconds} s)", path.display())]
    LockTimeout { path: PathBuf, seconds: u64 },
    #[error("can't open the lock file {}: {reason}", path.display())]
    LockFile { path: PathBuf, reason: String },
}

fn at_text(rows: &[String]) -> String {
    if rows.is_empty() {
        "base".to_owned()
    } else {
        rows.join(", ")
    }
}

/// An exclusive OS lock on a file beside the SQLite database, released on drop.
pub struct FileLock {
    _file: std::fs::File,
}

impl FileLock {
    /// The lock file of database `db`: `<db>.migrate-lock`.
    pub fn path_for(db: &Path) -> PathBuf {
        let mut name = db.as_os_str().to_owned();
        name.push(".migrate-lock");
        PathBuf::from(name)
    }

    /// Takes the lock, waiting up to `timeout`.
    pub async fn acquire(path: &Path, timeout: Duration) -> Result<FileLock, AlembicError> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| AlembicError::LockFile {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        let deadline = Instant::now() + timeout;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(FileLock { _file: file }),
                Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(AlembicError::LockTimeout {
                        path: path.to_path_buf(),
                        seconds: timeout.as_secs(),
                    })
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(AlembicError::LockFile {
                        path: path.to_path_buf(),
                        reason: e.to_string(),
                    })
                }
            }
        }
    }
}

/// What one run through Alembic needs besides the database.
pub struct AlembicRun<'a> {
    pub command: &'a AlembicCommand,
    pub direction: Direction,
    pub target: &'a str,
    pub context: &'a RunContext,
    /// SQLite: the lock file standing in for the run lock.
    pub lock_file: Option<PathBuf>,
    pub lock_timeout: Duration,
}

/// Plans under the lock, runs Alembic for the whole plan, logs each step that moved.
pub async fn run(
    db: &mut Database,
    graph: &RevisionGraph,
    planner: &(dyn Planner + Sync),
    run: &AlembicRun<'_>,
    progress: &mut (dyn Progress + Send),
) -> Result<Outcome, EngineError> {
    let _file_lock = match &run.lock_file {
        Some(path) => Some(FileLock::acquire(path, run.lock_timeout).await?),
        None => None,
    };
    db.lock().await?;
    let result = run_locked(db, graph, planner, run, progress).await;
    let unlocked = db.unlock().await;
    let outcome = result?;
    unlocked?;
    Ok(outcome)
}

async fn run_locked(
    db: &mut Database,
    graph: &RevisionGraph,
    planner: &(dyn Planner + Sync),
    run: &AlembicRun<'_>,
    progress: &mut (dyn Progress + Send),
) -> Result<Outcome, EngineError> {
    db.ensure_tables().await?;
    let before = db.read_versions().await?;
    let plan = planner.plan(&before).map_err(EngineError::Plan)?;
    if plan.steps.is_empty() {
        return Ok(Outcome {
            steps: Vec::new(),
            rows_after: sorted(before),
        });
    }
    let labels: Vec<String> = plan
        .steps
        .iter()
        .map(|s| super::step_label(graph, s))
        .collect();
    let verb = match run.direction {
        Direction::Downgrade => "downgrade",
        _ => "upgrade",
    };
    let command = run.command.shown(verb, run.target);
    let started_at = Utc::now();
    progress.begin(plan.steps.len());
    let ran = spawn_and_stream(run.command, verb, run.target, db, progress, &labels).await?;
    let after = db.read_versions().await?;
    let Some(moved) = steps_moved(&plan, &before, &after) else {
        progress.end();
        return Err(AlembicError::Diverged {
            command,
            before: sorted(before),
            after: sorted(after),
        }
        .into());
    };
    let applied_by = applied_by(db, run.context).await;
    // One log row: a step that moved (no error) or the one Alembic failed on.
    let entry = |revision: String, direction, duration_ms, error: Option<String>| LogEntry {
        revision,
        direction,
        started_at,
        duration_ms,
        success: Some(error.is_none()),
        checksum: None,
        applied_by: applied_by.clone(),
        tool_version: run.context.tool_version.clone(),
        git_commit: run.context.git_commit.clone(),
        error,
    };
    let mut reports = Vec::new();
    for (i, step) in plan.steps.iter().take(moved).enumerate() {
        let revision = step
            .revision
            .map(|r| graph.id(r).to_owned())
            .unwrap_or_else(|| "base".to_owned());
        let duration_ms = ran.durations.get(i).map_or(0, |d| d.as_millis() as i64);
        db.append_log(&entry(revision.clone(), step.direction, duration_ms, None))
            .await?;
        reports.push(StepReport {
            revision,
            direction: step.direction,
            label: labels[i].clone(),
            duration_ms: duration_ms as u64,
        });
    }
    progress.end();
    let failed_at = plan.steps.get(moved);
    if !ran.success || failed_at.is_some() {
        let revision = failed_at
            .and_then(|s| s.revision)
            .map(|r| graph.id(r).to_owned());
        if let Some(rev) = &revision {
            let step = failed_at.expect("a failed step");
            let error = format!("{command} exited with {}", ran.status);
            db.append_log(&entry(rev.clone(), step.direction, 0, Some(error)))
                .await?;
        }
        return Err(AlembicError::Failed {
            command,
            status: ran.status,
            revision,
            rows: sorted(after),
        }
        .into());
    }
    Ok(Outcome {
        steps: reports,
        rows_after: sorted(after),
    })
}

async fn applied_by(db: &mut Database, context: &RunContext) -> String {
    match db.db_user().await {
        Some(user) => format!("{} ({user})", context.os_identity),
        None => context.os_identity.clone(),
    }
}

fn sorted(mut rows: Vec<String>) -> Vec<String> {
    rows.sort();
    rows
}

/// What the Alembic process did: how it ended and how long each `Running …` took.
struct Ran {
    success: bool,
    status: String,
    durations: Vec<Duration>,
}

/// Runs Alembic, forwarding its output to stderr (passwords scrubbed) and timing each
/// step from its `Running upgrade|downgrade` lines.
async fn spawn_and_stream(
    cmd: &AlembicCommand,
    verb: &str,
    target: &str,
    db: &Database,
    progress: &mut (dyn Progress + Send),
    labels: &[String],
) -> Result<Ran, EngineError> {
    let mut child = tokio::process::Command::from(cmd.command(verb, &[], target)?)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| cmd.not_found(verb, target, e.to_string()))?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    for stream in [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
    ]
    .into_iter()
    .flatten()
    {
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stream).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
    }
    drop(tx);
    let total = labels.len();
    let mut durations = Vec::new();
    let mut current: Option<(usize, Instant)> = None;
    while let Some(line) = rx.recv().await {
        eprintln!("{}", db.scrub(&line));
        if is_running_line(&line) {
            let now = Instant::now();
            if let Some((i, since)) = current.take() {
                let took = now - since;
                progress.step_finished(i, total, label_at(labels, i), took);
                durations.push(took);
            }
            let i = durations.len();
            progress.step_started(i, total, label_at(labels, i));
            current = Some((i, now));
        }
    }
    let status = child
        .wait()
        .await
        .map_err(|e| cmd.not_found(verb, target, e.to_string()))?;
    if let Some((i, since)) = current.take() {
        let took = since.elapsed();
        if status.success() {
            progress.step_finished(i, total, label_at(labels, i), took);
            durations.push(took);
        }
    }
    Ok(Ran {
        success: status.success(),
        status: status.to_string(),
        durations,
    })
}

fn label_at(labels: &[String], i: usize) -> &str {
    labels.get(i).map_or("", String::as_str)
}

/// Alembic's per-step log line: `INFO  [alembic.runtime.migration] Running upgrade a -> b, m`.
fn is_running_line(line: &str) -> bool {
    line.split_once("] Running ")
        .is_some_and(|(_, rest)| rest.starts_with("upgrade ") || rest.starts_with("downgrade "))
}

/// How many of the plan's steps Alembic completed: the `k` whose version-row changes,
/// replayed on `before`, give `after`. `None` when no prefix does (someone else moved
/// the rows, or Alembic took another path): then no step is logged as done.
pub fn steps_moved(plan: &Plan, before: &[String], after: &[String]) -> Option<usize> {
    let want: BTreeSet<&str> = after.iter().map(String::as_str).collect();
    let mut rows: BTreeSet<String> = before.iter().cloned().collect();
    let same = |rows: &BTreeSet<String>| rows.iter().map(String::as_str).eq(want.iter().copied());
    let mut best = same(&rows).then_some(0);
    for (i, step) in plan.steps.iter().enumerate() {
        for op in &step.version_ops {
            match op {
                VersionOp::Insert { version } => {
                    rows.insert(version.clone());
                }
                VersionOp::Delete { version } => {
                    rows.remove(version);
                }
                VersionOp::Update { from, to } => {
                    rows.remove(from);
                    rows.insert(to.clone());
                }
            }
        }
        if same(&rows) {
            best = Some(i + 1);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::plan::Step;

    fn step(ops: Vec<VersionOp>) -> Step {
        Step {
            revision: None,
            direction: Direction::Upgrade,
            version_ops: ops,
        }
    }

    fn s(v: &str) -> String {
        v.to_owned()
    }

    #[test]
    fn the_rows_after_tell_how_many_steps_ran() {
        let plan = Plan {
            steps: vec![
                step(vec![VersionOp::Insert { version: s("a") }]),
                step(vec![VersionOp::Update {
                    from: s("a"),
                    to: s("b"),
                }]),
                step(vec![VersionOp::Insert { version: s("x") }]),
            ],
            ..Plan::default()
        };
        assert_eq!(steps_moved(&plan, &[], &[]), Some(0));
        assert_eq!(steps_moved(&plan, &[], &[s("a")]), Some(1));
        assert_eq!(steps_moved(&plan, &[], &[s("b")]), Some(2));
        assert_eq!(steps_moved(&plan, &[], &[s("x"), s("b")]), Some(3));
        // Rows the plan never makes: nothing is claimed.
        assert_eq!(steps_moved(&plan, &[], &[s("zz")]), None);
    }

    #[test]
    fn running_lines_are_recognised_and_others_not() {
        assert!(is_running_line(
            "INFO  [alembic.runtime.migration] Running upgrade  -> 0001, create users"
        ));
        assert!(is_running_line(
            "INFO  [alembic.runtime.migration] Running downgrade 0002 -> 0001, x"
        ));
        assert!(!is_running_line(
            "INFO  [alembic.runtime.migration] Context impl SQLiteImpl."
        ));
    }

    #[tokio::test]
    async fn the_file_lock_excludes_a_second_holder_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = FileLock::path_for(&dir.path().join("app.db"));
        let held = FileLock::acquire(&path, Duration::from_secs(1))
            .await
            .unwrap();
        let second = FileLock::acquire(&path, Duration::from_millis(100)).await;
        assert!(matches!(second, Err(AlembicError::LockTimeout { .. })));
        drop(held);
        assert!(FileLock::acquire(&path, Duration::from_millis(100))
            .await
            .is_ok());
    }
}
