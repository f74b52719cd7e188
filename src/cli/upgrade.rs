//! `migrate upgrade [TARGET]`: apply revisions up to TARGET (default `head`), online,
//! as `--dry-run`, or as an offline `--sql` script. `downgrade` shares this file's code.

use std::process::ExitCode;
use std::time::Duration;

use migrate::core::{plan, Dialect, Direction, Plan, PlanError, RevisionGraph};
use migrate::engine::{self, offline, EngineError, PlanFailure, PlannedStep};
use serde::Serialize;

use super::context::Context;
use super::database::{self, RunArgs, StderrProgress, TransactionArg};
use super::output::{print_json, write_stdout, CmdResult, Failure};

#[derive(Debug, clap::Args)]
pub struct UpgradeArgs {
    /// Revision to upgrade to: `head`, `heads`, an id, `label@head`, `+N`; with --sql also
    /// a `FROM:TO` range.
    #[arg(default_value = "head", allow_negative_numbers = true)]
    pub target: String,
    #[command(flatten)]
    pub mode: ModeArgs,
    #[command(flatten)]
    pub out: super::output::FormatArg<super::output::TextJson>,
    #[command(flatten)]
    pub db: super::output::DatabaseArg,
}

/// Flags shared by upgrade and downgrade.
#[derive(Debug, Clone, clap::Args)]
pub struct ModeArgs {
    /// Print the plan and change nothing (not even create the database file).
    #[arg(long, conflicts_with = "sql")]
    pub dry_run: bool,
    /// Print the SQL script that would run, without connecting.
    #[arg(long)]
    pub sql: bool,
    /// Dialect of the --sql script (default: from the database URL's scheme).
    #[arg(long, value_name = "DIALECT", requires = "sql", value_parser = super::output::dialect_values())]
    pub dialect: Option<String>,
    /// Transaction grouping.
    #[arg(long, value_enum, default_value_t = TransactionArg::PerRevision)]
    pub transaction: TransactionArg,
    #[command(flatten)]
    pub run: RunArgs,
    /// An Alembic project: the command that runs Alembic (default `alembic` on PATH),
    /// e.g. `--alembic "poetry run alembic"`.
    #[arg(long, value_name = "CMD")]
    pub alembic: Option<String>,
}

pub fn run(ctx: &Context, args: UpgradeArgs) -> CmdResult {
    migrate_to(ctx, Direction::Upgrade, &args.target, &args.mode)
}

/// A step as `upgrade`/`downgrade --format json` reports it.
#[derive(Serialize)]
struct RanStep {
    revision: String,
    direction: Direction,
    message: String,
    duration_ms: u64,
}

pub fn make_plan(
    graph: &RevisionGraph,
    direction: Direction,
    applied: &[migrate::core::Ix],
    target: &str,
) -> Result<Plan, PlanError> {
    match direction {
        Direction::Downgrade => plan::downgrade(graph, applied, target),
        _ => plan::upgrade(graph, applied, target),
    }
}

/// A planning or execution error as the CLI shows it.
pub fn engine_failure(e: EngineError) -> Failure {
    match e {
        EngineError::Plan(inner) => plan_failure(inner),
        EngineError::InDoubt(_) => Failure::from(e)
            .hint("the log says how far the step got: only the statement named above is in doubt"),
        EngineError::Dirty { ref revision, .. } => {
            let hint = format!("after fixing the database, `migrate stamp {revision}` if the revision's changes are all there, or the revision before it if none are");
            Failure::from(e).hint(hint)
        }
        other => Failure::from(other),
    }
}

fn plan_failure(inner: PlanFailure) -> Failure {
    match inner.downcast::<PlanError>() {
        Ok(pe) => super::resolve_failure(*pe),
        Err(other) => Failure::new(other.to_string()),
    }
}

/// upgrade and downgrade: online, `--dry-run` or `--sql`.
pub fn migrate_to(ctx: &Context, direction: Direction, target: &str, mode: &ModeArgs) -> CmdResult {
    ctx.text_or_json(direction.name())?;
    let graph = ctx.load_graph()?;
    migrate_with(ctx, graph, direction, target, mode)
}

/// [`migrate_to`] over a graph already built (e.g. with revisions read from git).
pub fn migrate_with(
    ctx: &Context,
    graph: RevisionGraph,
    direction: Direction,
    target: &str,
    mode: &ModeArgs,
) -> CmdResult {
    ctx.text_or_json(direction.name())?;
    if let Some(project) = &ctx.alembic {
        return super::via_alembic::run(ctx, project, graph, direction, target, mode);
    }
    if mode.alembic.is_some() {
        return Err(Failure::usage(
            "--alembic is for Alembic projects (an alembic.ini or pyproject.toml config)",
        ));
    }
    if mode.sql {
        return offline_script(ctx, &graph, direction, target, mode);
    }
    if target.contains(':') {
        return Err(Failure::usage(format!(
            "Range revision not allowed: '{target}' (a FROM:TO range needs --sql)"
        )));
    }
    let url = database::database_url(ctx)?;
    let timeout = Duration::from_secs(mode.run.lock_timeout);
    let rt = database::runtime()?;
    let planner = |rows: &[String]| -> Result<Plan, PlanFailure> {
        let applied = database::applied(&graph, rows, ctx)?;
        Ok(make_plan(&graph, direction, &applied, target)?)
    };
    if mode.dry_run {
        let steps: Vec<PlannedStep> = rt.block_on(async {
            let rows = match database::connect(ctx, &url, false, timeout).await? {
                Some(mut db) => {
                    let rows = db.read_versions().await.map_err(Failure::from)?;
                    db.close().await;
                    rows
                }
                None => Vec::new(),
            };
            let plan = planner(&rows).map_err(plan_failure)?;
            engine::preflight(&graph, &plan, url.dialect()).map_err(engine_failure)?;
            Ok::<_, Failure>(engine::describe(&graph, &plan))
        })?;
        return print_planned(ctx, &steps);
    }
    let options = database::run_options(ctx, mode.transaction.into());
    let outcome = rt.block_on(async {
        // A downgrade never creates the SQLite file: a missing one has nothing applied.
        let create = direction != Direction::Downgrade;
        let Some(mut db) = database::connect(ctx, &url, create, timeout).await? else {
            return Ok(None);
        };
        let mut progress = StderrProgress::new();
        let r = engine::run(&mut db, &graph, &planner, &options, &mut progress).await;
        db.close().await;
        r.map(Some).map_err(engine_failure)
    })?;
    report_outcome(ctx, direction, target, outcome)
}

/// Prints a `--dry-run` plan.
pub fn print_planned(ctx: &Context, steps: &[PlannedStep]) -> CmdResult {
    if ctx.format == super::output::Format::Json {
        return print_json(&steps);
    }
    let mut text = String::new();
    for s in steps {
        text.push_str(&format!(
            "{} {}, {}\n",
            s.direction.name(),
            s.revision,
            super::entry::shown(&s.message)
        ));
    }
    if steps.is_empty() {
        eprintln!("nothing to do");
    }
    write_stdout(&text)
}

/// Reports what a run did (`None`: there was no database, so nothing to do).
pub fn report_outcome(
    ctx: &Context,
    direction: Direction,
    target: &str,
    outcome: Option<engine::Outcome>,
) -> CmdResult {
    let json = ctx.format == super::output::Format::Json;
    let Some(outcome) = outcome else {
        if json {
            return print_json(&Vec::<RanStep>::new());
        }
        eprintln!("nothing to do");
        return Ok(std::process::ExitCode::SUCCESS);
    };
    if json {
        let ran: Vec<RanStep> = outcome
            .steps
            .iter()
            .map(|s| RanStep {
                revision: s.revision.clone(),
                direction: s.direction,
                message: s.label.clone(),
                duration_ms: s.duration_ms,
            })
            .collect();
        return print_json(&ran);
    }
    if outcome.steps.is_empty() {
        eprintln!("nothing to do: the database is already at {target}");
    } else {
        eprintln!(
            "{} {} revision(s); now at {}",
            if direction == Direction::Downgrade {
                "downgraded"
            } else {
                "applied"
            },
            outcome.steps.len(),
            if outcome.rows_after.is_empty() {
                "base".to_owned()
            } else {
                outcome.rows_after.join(", ")
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn offline_script(
    ctx: &Context,
    graph: &RevisionGraph,
    direction: Direction,
    target: &str,
    mode: &ModeArgs,
) -> CmdResult {
    let dialect = database::offline_dialect(ctx, mode.dialect.as_deref())?;
    let (plan, from_base) = match (direction, target.split_once(':')) {
        (Direction::Downgrade, None) => {
            return Err(Failure::usage(
                "downgrade with --sql requires <fromrev>:<torev>",
            ))
        }
        (Direction::Downgrade, Some((from, to))) => (
            plan::downgrade_range(graph, from, to).map_err(super::resolve_failure)?,
            false,
        ),
        (_, Some((from, to))) => {
            let from = if from.is_empty() { "base" } else { from };
            (
                plan::upgrade_range(graph, from, to).map_err(super::resolve_failure)?,
                from == "base",
            )
        }
        (_, None) => (
            plan::upgrade(graph, &[], target).map_err(super::resolve_failure)?,
            true,
        ),
    };
    print_script(ctx, graph, &plan, dialect, from_base)
}

/// Prints a plan as an offline `--sql` script; `create_tables` when it starts at base.
pub fn print_script(
    ctx: &Context,
    graph: &RevisionGraph,
    plan: &Plan,
    dialect: Dialect,
    create_tables: bool,
) -> CmdResult {
    let options = offline::OfflineOptions {
        dialect,
        tables: database::tables(ctx)?,
        create_tables,
    };
    let script = offline::render(graph, plan, &options).map_err(engine_failure)?;
    write_stdout(&script)
}
