//! `migrate test`, the stairway: every revision, in upgrade order, is upgraded, downgraded
//! and upgraded again on a scratch database, and the schema after the downgrade is
//! compared, object by object, with the schema before the upgrade.
//!
//! Every step is a one-step plan from the core ([`crate::core::stairway`]) run by the one
//! executor ([`crate::engine::run`]): the stairway runs the SQL, the transactions, the
//! version rows and the audit log exactly as `upgrade` and `downgrade` do, so what passes
//! here is what production runs.
//!
//! The walk goes on after a finding while the scratch database still holds what the
//! revisions below build: after a refused or rolled-back downgrade (the schema is the
//! upgrade's), after an irreversible revision, after a downgrade that left objects behind
//! or removed some but whose second upgrade brought the schema back. It stops when it
//! can't know what the database holds: a failed upgrade, a failed second upgrade, a
//! second upgrade that builds another schema than the first, and a failed downgrade that
//! could not roll back (MySQL/MariaDB commit each DDL statement; a `transactional: false`
//! revision runs without a transaction). Revisions after the stop are reported as not
//! tested.

pub mod data;
pub mod scratch;
pub mod snapshot;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::core::stairway::{self as walk, Stair};
use crate::core::{Dialect, Direction, Ix, Plan, RevisionGraph};
use crate::engine::{EngineError, PlanFailure, Progress, RunOptions};
use crate::schema::introspect::IntrospectOptions;
use scratch::Connections;
use snapshot::{ObjectChange, SchemaState, SnapshotError};

/// What a walk is asked to do.
#[derive(Debug, Clone)]
pub struct StairwayOptions {
    /// Also write rows before each down-and-up and check they survive it (`--data`).
    pub data: bool,
    pub run: RunOptions,
    /// The tool's own tables, left out of every comparison.
    pub introspect: IntrospectOptions,
}

/// One thing wrong with a revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finding {
    /// Its upgrade failed (the walk stops: nothing above it can run).
    UpgradeFailed { error: String },
    /// It has no downgrade.
    Irreversible,
    /// Its downgrade failed or was refused.
    DowngradeFailed { error: String },
    /// After its downgrade the schema is not what it was before its upgrade.
    SchemaNotRestored { objects: Vec<ObjectChange> },
    /// Upgrading it again after its downgrade failed.
    ReupgradeFailed { error: String },
    /// Upgrading it again built another schema than its first upgrade.
    ReupgradeDiffers { objects: Vec<ObjectChange> },
    /// `--data`: rows in a table it does not touch did not survive its down-and-up.
    RowsLost { table: String, detail: String },
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Finding::UpgradeFailed { error } => write!(f, "upgrade failed: {error}"),
            Finding::Irreversible => f.write_str(
                "irreversible: it has no downgrade (write one, or an empty one if there is nothing to undo)",
            ),
            Finding::DowngradeFailed { error } => write!(f, "downgrade failed: {error}"),
            Finding::SchemaNotRestored { objects } => {
                write!(
                    f,
                    "the downgrade does not restore the schema ({} object(s))",
                    objects.len()
                )
            }
            Finding::ReupgradeFailed { error } => {
                write!(f, "upgrade after the downgrade failed: {error}")
            }
            Finding::ReupgradeDiffers { objects } => write!(
                f,
                "upgrading again builds another schema than the first upgrade ({} object(s))",
                objects.len()
            ),
            Finding::RowsLost { table, detail } => {
                write!(f, "rows lost in {table} (a table it does not touch): {detail}")
            }
        }
    }
}

/// How a revision came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Passed,
    Failed,
    /// The walk stopped below it.
    NotTested,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::NotTested => "not tested",
        }
    }
}

/// One tested revision.
#[derive(Debug, Clone, Serialize)]
pub struct RevisionResult {
    pub revision: String,
    pub message: String,
    pub path: Option<String>,
    pub status: Status,
    pub findings: Vec<Finding>,
    /// Things worth knowing that are not failures (`--data` tables left out, and why).
    pub notes: Vec<String>,
    pub duration_ms: u64,
}

/// What a walk found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub dialect: Dialect,
    pub revisions: Vec<RevisionResult>,
    /// Why the walk stopped early, if it did.
    pub stopped: Option<String>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.stopped.is_none() && self.revisions.iter().all(|r| r.status == Status::Passed)
    }
}

/// Why a walk could not go on at all (the database, not a revision).
#[derive(Debug, thiserror::Error)]
pub enum StairwayError {
    #[error(transparent)]
    Plan(#[from] crate::core::PlanError),
    #[error("reading the scratch database's schema: {0}")]
    Snapshot(#[from] SnapshotError),
    #[error("upgrading the revisions below the range: {0}")]
    Prefix(EngineError),
}

/// Runs `revisions` (indexed by [`Ix`]; `None`: all) up, down and up again on the
/// scratch database behind `conns`. `progress` hears of each tested revision (the
/// label, and at the end the label with its outcome).
pub async fn run(
    conns: &mut Connections,
    graph: &RevisionGraph,
    tested: Option<&[bool]>,
    options: &StairwayOptions,
    progress: &mut (dyn Progress + Send),
) -> Result<Report, StairwayError> {
    let stairs = walk::walk(graph, tested)?;
    let total = stairs.iter().filter(|s| s.tested).count();
    let mut walker = Walker {
        conns,
        graph,
        options,
        dialect: Dialect::Sqlite,
        seq: 0,
    };
    walker.dialect = walker.conns.dialect();
    let mut report = Report {
        dialect: walker.dialect,
        revisions: Vec::new(),
        stopped: None,
    };
    progress.begin(total);
    let mut before: Option<SchemaState> = None;
    let mut pending: Vec<Ix> = Vec::new();
    let mut index = 0;
    for stair in &stairs {
        if report.stopped.is_some() {
            if stair.tested {
                report
                    .revisions
                    .push(walker.result(stair.revision, Status::NotTested));
            }
            continue;
        }
        if !stair.tested {
            pending.push(stair.revision);
            continue;
        }
        if !pending.is_empty() {
            // The revisions below the range, upgraded in one run.
            walker
                .step(&std::mem::take(&mut pending), Direction::Upgrade)
                .await
                .map_err(StairwayError::Prefix)?;
            before = None;
        }
        let state = match before.take() {
            Some(s) => s,
            None => walker.snapshot().await?,
        };
        let label = walker.label(stair.revision);
        progress.step_started(index, total, &label);
        let clock = Instant::now();
        let (mut result, next) = walker.climb(stair, state).await?;
        result.duration_ms = clock.elapsed().as_millis() as u64;
        let verdict = match result.status {
            Status::Passed => "ok".to_owned(),
            _ => format!(
                "FAILED ({} finding{})",
                result.findings.len(),
                if result.findings.len() == 1 { "" } else { "s" }
            ),
        };
        progress.step_finished(
            index,
            total,
            &format!("{label}: {verdict}"),
            clock.elapsed(),
        );
        index += 1;
        match next {
            Next::Continue(state) => before = Some(state),
            Next::Stop(why) => {
                report.stopped = Some(format!("stopped at {}: {why}", graph.id(stair.revision)));
            }
        }
        report.revisions.push(result);
    }
    progress.end();
    let untested = report
        .revisions
        .iter()
        .filter(|r| r.status == Status::NotTested)
        .count();
    if let (Some(why), true) = (&mut report.stopped, untested > 0) {
        why.push_str(&format!("; {untested} revision(s) above it not tested"));
    }
    Ok(report)
}

/// Where the walk goes after a revision.
enum Next {
    /// On, from this schema.
    Continue(SchemaState),
    Stop(String),
}

struct Walker<'a> {
    conns: &'a mut Connections,
    graph: &'a RevisionGraph,
    options: &'a StairwayOptions,
    dialect: Dialect,
    /// Makes `--data` values unique over the walk.
    seq: u64,
}

impl Walker<'_> {
    fn label(&self, ix: Ix) -> String {
        let rev = self.graph.revision(ix);
        if rev.summary().is_empty() {
            rev.id.to_string()
        } else {
            format!("{} {}", rev.id, rev.summary())
        }
    }

    fn result(&self, ix: Ix, status: Status) -> RevisionResult {
        let rev = self.graph.revision(ix);
        RevisionResult {
            revision: rev.id.to_string(),
            message: rev.summary().to_owned(),
            path: rev.origin.path.as_ref().map(|p| p.display().to_string()),
            status,
            findings: Vec::new(),
            notes: Vec::new(),
            duration_ms: 0,
        }
    }

    async fn snapshot(&mut self) -> Result<SchemaState, SnapshotError> {
        let mut reader = self.conns.reader().await.map_err(SnapshotError::Master)?;
        snapshot::read(&mut reader, &self.options.introspect).await
    }

    async fn differences(
        &self,
        was: &SchemaState,
        now: &SchemaState,
    ) -> Result<Vec<ObjectChange>, SnapshotError> {
        snapshot::differences(was, now, self.dialect, &self.options.introspect).await
    }

    /// Runs `revisions` in `direction` through the executor, as one plan.
    async fn step(&mut self, revisions: &[Ix], direction: Direction) -> Result<(), EngineError> {
        let graph = self.graph;
        let planner = |rows: &[String]| -> Result<Plan, PlanFailure> {
            let applied = rows
                .iter()
                .map(|r| {
                    graph.find(r).ok_or_else(|| {
                        format!("the scratch database is at revision {r}, which has no file")
                    })
                })
                .collect::<Result<Vec<_>, String>>()?;
            Ok(walk::steps(graph, &applied, revisions, direction)?)
        };
        self.conns.run(graph, &planner, &self.options.run).await
    }

    /// Whether a failed downgrade of `ix` was undone by its rollback (or refused before
    /// it ran), so the schema is still its upgrade's.
    fn rolled_back(&self, ix: Ix, e: &EngineError) -> bool {
        match e {
            EngineError::NotRunnable(_) => true,
            EngineError::Plan(_) => true,
            EngineError::Statement(_) => {
                self.dialect != Dialect::Mysql
                    && self
                        .graph
                        .revision(ix)
                        .transactional
                        .get(self.dialect, crate::core::Direction::Downgrade)
            }
            _ => false,
        }
    }

    /// The tables the step of `ix` touches: those whose definition its upgrade changed,
    /// and those its SQL names.
    fn touched(&self, ix: Ix, before: &SchemaState, after: &SchemaState) -> BTreeSet<String> {
        let mut t = snapshot::changed_tables(before, after, self.dialect);
        let rev = self.graph.revision(ix);
        let sql: Vec<&str> = [rev.upgrade.as_ref(), rev.downgrade.as_ref()]
            .into_iter()
            .flatten()
            .filter_map(|s| s.for_dialect(self.dialect))
            .collect();
        t.extend(self.extra_tables(after, &sql));
        t
    }

    fn extra_tables(&self, after: &SchemaState, sql: &[&str]) -> Vec<String> {
        snapshot::table_names(after)
            .into_iter()
            .filter(|n| sql.iter().any(|s| data::named_in(s, n)))
            .collect()
    }

    /// Up, down, up again for one revision.
    async fn climb(
        &mut self,
        stair: &Stair,
        before: SchemaState,
    ) -> Result<(RevisionResult, Next), StairwayError> {
        let ix = stair.revision;
        let mut result = self.result(ix, Status::Passed);
        let fail = |result: &mut RevisionResult, finding: Finding| {
            result.status = Status::Failed;
            result.findings.push(finding);
        };
        if let Err(e) = self.step(&[ix], Direction::Upgrade).await {
            fail(
                &mut result,
                Finding::UpgradeFailed {
                    error: e.to_string(),
                },
            );
            return Ok((result, Next::Stop("its upgrade failed".into())));
        }
        let after = self.snapshot().await?;
        if self.graph.revision(ix).is_irreversible() {
            fail(&mut result, Finding::Irreversible);
            return Ok((result, Next::Continue(after)));
        }
        let planted = if self.options.data {
            let touched = self.touched(ix, &before, &after);
            let mut reader = self.conns.reader().await.map_err(SnapshotError::Master)?;
            let model = snapshot::read_model(&mut reader, &self.options.introspect).await?;
            let p = data::plant(&mut reader, &model, &touched, &mut self.seq).await;
            result.notes.extend(p.notes.iter().cloned());
            Some(p)
        } else {
            None
        };
        if let Err(e) = self.step(&[ix], Direction::Downgrade).await {
            let undone = self.rolled_back(ix, &e);
            fail(
                &mut result,
                Finding::DowngradeFailed {
                    error: e.to_string(),
                },
            );
            if let Some(p) = planted {
                let mut reader = self.conns.reader().await.map_err(SnapshotError::Master)?;
                data::remove(&mut reader, p).await;
            }
            return Ok((
                result,
                if undone {
                    Next::Continue(after)
                } else {
                    Next::Stop(
                        "its failed downgrade may have left the database half-changed".into(),
                    )
                },
            ));
        }
        let back = self.snapshot().await?;
        let objects = self.differences(&before, &back).await?;
        if !objects.is_empty() {
            fail(&mut result, Finding::SchemaNotRestored { objects });
        }
        if let Err(e) = self.step(&[ix], Direction::Upgrade).await {
            fail(
                &mut result,
                Finding::ReupgradeFailed {
                    error: e.to_string(),
                },
            );
            return Ok((result, Next::Stop("it could not be upgraded again".into())));
        }
        let again = self.snapshot().await?;
        let objects = self.differences(&after, &again).await?;
        if !objects.is_empty() {
            fail(&mut result, Finding::ReupgradeDiffers { objects });
            return Ok((
                result,
                Next::Stop("the schema no longer is what the revisions build".into()),
            ));
        }
        if let Some(p) = planted {
            let mut reader = self.conns.reader().await.map_err(SnapshotError::Master)?;
            for lost in data::check(&mut reader, &p).await {
                fail(
                    &mut result,
                    Finding::RowsLost {
                        table: lost.table,
                        detail: lost.detail,
                    },
                );
            }
            data::remove(&mut reader, p).await;
        }
        Ok((result, Next::Continue(again)))
    }
}

/// How long dropping the scratch database may take before giving up.
pub const DROP_TIMEOUT: Duration = Duration::from_secs(30);
