//! `migrate status`: every revision with its state in the database, oldest first (the
//! order `upgrade` applies them, as Flyway's `info` lists them), with when and by whom
//! it was applied (the audit log) and who wrote it (git). Version rows without a file
//! come last. Read-only: a missing SQLite file shows every revision pending.

use std::collections::{HashMap, HashSet};
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use migrate::core::{plan, AppliedStep, Ix, ProblemKind, RevisionGraph};
use migrate::git::{Authorship, FileStatus};
use serde::Serialize;

use super::context::Context;
use super::database;
use super::output::{print_json, write_stdout, CmdResult, Failure};

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub out: super::output::FormatArg<super::output::TextJson>,
    #[command(flatten)]
    pub db: super::output::DatabaseArg,
}

/// The state of one revision, in the database's eyes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Applied,
    Pending,
    /// Its newest log row (upgrade or downgrade) failed, and no stamp came after.
    Failed,
    /// Its newest log row never finished (`success` NULL): the database may be
    /// half-changed.
    Interrupted,
    /// A version row names it, but it has no file.
    FileMissing,
    /// Applied, but its upgrade SQL no longer matches the checksum in the log.
    ChecksumChanged,
}

impl State {
    fn text(self) -> &'static str {
        match self {
            State::Applied => "applied",
            State::Pending => "pending",
            State::Failed => "failed",
            State::Interrupted => "interrupted",
            State::FileMissing => "file missing",
            State::ChecksumChanged => "checksum changed",
        }
    }
}

/// One line of the table; the JSON object has exactly these fields.
#[derive(Debug, Serialize)]
struct StatusRow {
    revision: String,
    state: State,
    /// A version row names this revision (the database is at it).
    current: bool,
    message: Option<String>,
    path: Option<String>,
    /// Start of its newest successful upgrade, while it is applied.
    applied_at: Option<DateTime<Utc>>,
    applied_by: Option<String>,
    author_name: Option<String>,
    author_email: Option<String>,
    /// What git says about the file (for the text column: uncommitted or unknown).
    #[serde(skip)]
    git: Option<FileStatus>,
}

pub fn run(ctx: &Context, _args: StatusArgs) -> CmdResult {
    let json = ctx.text_or_json("status")?;
    let (graph, authorship) = super::authorship::load_with_graph(ctx)?;
    let order = plan::history(&graph, "base", "heads").map_err(super::resolve_failure)?;
    let url = database::database_url(ctx)?;
    let read = database::runtime()?.block_on(async {
        let Some(mut db) =
            database::connect(ctx, &url, false, migrate::db::DEFAULT_LOCK_TIMEOUT).await?
        else {
            return Ok::<_, Failure>(None);
        };
        let read = async {
            Ok::<_, migrate::db::DbError>((db.read_versions().await?, db.read_log().await?))
        }
        .await;
        db.close().await;
        read.map(Some).map_err(Failure::from)
    })?;
    let (rows, log, changed) = match read {
        Some((rows, log)) => {
            // The same comparison as `check`, so the two never disagree.
            let changed: HashSet<String> = database::database_problems(ctx, &graph)?
                .unwrap_or_default()
                .into_iter()
                .filter(|p| p.kind == ProblemKind::ChecksumMismatch)
                .flat_map(|p| p.revisions)
                .collect();
            (rows, log, changed)
        }
        None => Default::default(),
    };
    let out = status_rows(&graph, &order, &rows, &log, &changed, &authorship);
    let missing: Vec<&str> = out
        .iter()
        .filter(|r| r.state == State::FileMissing)
        .map(|r| r.revision.as_str())
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "warning: {} applied revision(s) have no file in {}",
            missing.len(),
            ctx.revisions_dir.display()
        );
        super::authorship::explain_missing(ctx, missing.into_iter());
    }
    if json {
        return print_json(&out);
    }
    write_stdout(&table(ctx, &out))?;
    Ok(ExitCode::SUCCESS)
}

/// What the log says about one revision.
#[derive(Default)]
struct LogFacts<'a> {
    /// Its newest upgrade or downgrade row, and whether a stamp came after it.
    last: Option<(&'a AppliedStep, bool)>,
    /// Its newest successful upgrade.
    applied: Option<&'a AppliedStep>,
}

/// The log (newest first) per revision.
fn log_facts(log: &[AppliedStep]) -> HashMap<&str, LogFacts<'_>> {
    let mut facts: HashMap<&str, LogFacts> = HashMap::new();
    let mut stamped_since = false;
    for step in log {
        if step.direction == "stamp" {
            stamped_since = true;
            continue;
        }
        let f = facts.entry(step.revision.as_str()).or_default();
        if f.last.is_none() {
            f.last = Some((step, stamped_since));
        }
        if f.applied.is_none() && step.direction == "upgrade" && step.success == Some(true) {
            f.applied = Some(step);
        }
    }
    facts
}

/// The table's rows: the graph's revisions in `order` reversed (oldest first), then the
/// version rows with no file. Applied means an ancestor of (or at) a version row; when a
/// version row has no file its ancestors can't be found in the graph, so a revision whose
/// newest upgrade or downgrade in the log is a successful upgrade counts as applied too.
fn status_rows(
    graph: &RevisionGraph,
    order: &[Ix],
    rows: &[String],
    log: &[AppliedStep],
    changed: &HashSet<String>,
    authorship: &Authorship,
) -> Vec<StatusRow> {
    let facts = log_facts(log);
    let (at, _) = migrate::core::rows::split_known(graph, rows);
    let mut applied = graph.ancestors(&at, true);
    for &ix in &at {
        applied[ix as usize] = true;
    }
    let some_missing = at.len() < rows.len();
    let mut out = Vec::with_capacity(order.len() + rows.len() - at.len());
    for &ix in order.iter().rev() {
        let rev = graph.revision(ix);
        let id = rev.id.as_str();
        let f = facts.get(id);
        let last = f.and_then(|f| f.last);
        let is_applied = applied[ix as usize]
            || (some_missing
                && last.is_some_and(|(s, _)| s.direction == "upgrade" && s.success == Some(true)));
        let state = match last {
            Some((s, false)) if s.success.is_none() => State::Interrupted,
            Some((s, false)) if s.success == Some(false) => State::Failed,
            _ if is_applied && changed.contains(id) => State::ChecksumChanged,
            _ if is_applied => State::Applied,
            _ => State::Pending,
        };
        let file = rev.origin.path.as_ref().map(|p| authorship.for_file(p));
        let added = file.as_ref().and_then(|f| f.added.as_ref());
        let applied_step = f.and_then(|f| f.applied).filter(|_| is_applied);
        out.push(StatusRow {
            revision: id.to_owned(),
            state,
            current: rows.iter().any(|r| r == id),
            message: Some(rev.message.clone()),
            path: rev.origin.path.as_ref().map(|p| p.display().to_string()),
            applied_at: applied_step.map(|s| s.started_at),
            applied_by: applied_step.map(|s| s.applied_by.clone()),
            author_name: added.map(|c| c.author_name.clone()),
            author_email: added.map(|c| c.author_email.clone()),
            git: file.as_ref().map(|f| f.status),
        });
    }
    for r in rows.iter().filter(|r| graph.find(r).is_none()) {
        let applied_step = facts.get(r.as_str()).and_then(|f| f.applied);
        out.push(StatusRow {
            revision: r.clone(),
            state: State::FileMissing,
            current: true,
            message: None,
            path: None,
            applied_at: applied_step.map(|s| s.started_at),
            applied_by: applied_step.map(|s| s.applied_by.clone()),
            author_name: None,
            author_email: None,
            git: None,
        });
    }
    out
}

/// The text table: a header, then one aligned line per revision (message last).
fn table(ctx: &Context, rows: &[StatusRow]) -> String {
    const HEADER: [&str; 6] = [
        "REVISION",
        "STATE",
        "APPLIED AT",
        "APPLIED BY",
        "AUTHOR",
        "MESSAGE",
    ];
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            [
                r.revision.clone(),
                r.state.text().to_owned(),
                r.applied_at
                    .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                    .unwrap_or_else(|| "-".into()),
                r.applied_by
                    .as_deref()
                    .map(super::entry::shown)
                    .unwrap_or_else(|| "-".into()),
                match (&r.author_name, r.git) {
                    (Some(name), _) => super::entry::shown(name),
                    (None, Some(FileStatus::Uncommitted)) => "(uncommitted)".into(),
                    (None, _) => "-".into(),
                },
                r.message
                    .as_deref()
                    .map(|m| super::entry::shown(m.lines().next().unwrap_or("")))
                    .unwrap_or_else(|| "(no revision file)".into()),
            ]
        })
        .collect();
    let mut widths = HEADER.map(|h| h.chars().count());
    for c in &cells {
        for (w, cell) in widths.iter_mut().zip(c.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [String; 6], paint: bool| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let pad = widths[i] - cell.chars().count();
            let shown = match i {
                0 if paint => ctx.paint.id(cell),
                1 if paint => ctx.paint.flag(cell),
                _ => cell.clone(),
            };
            text.push_str(&shown);
            if i + 1 < cells.len() {
                text.push_str(&" ".repeat(pad + 2));
            }
        }
        text.push('\n');
        text
    };
    let mut out = line(HEADER.map(str::to_owned), false);
    for c in cells {
        out.push_str(&line(c, true));
    }
    out
}
