//! `upgrade`/`downgrade` on an Alembic project: migrate plans and shows the plan, takes
//! its lock and writes its audit log; Alembic runs the revisions (they are Python).

use std::time::Duration;

use migrate::core::{Direction, Plan, RevisionGraph};
use migrate::engine::alembic::{self as runner, AlembicCommand, AlembicRun, FileLock};
use migrate::engine::{EngineError, PlanFailure, RunContext};

use super::context::{AlembicProject, Context};
use super::database::{self, StderrProgress};
use super::output::{CmdResult, Failure};
use super::upgrade::{engine_failure, make_plan, print_planned, report_outcome, ModeArgs};

/// The Alembic command for this project: `--alembic CMD` (split on whitespace), else
/// `alembic` on PATH.
fn command(ctx: &Context, project: &AlembicProject, mode: &ModeArgs) -> AlembicCommand {
    let program = match &mode.alembic {
        Some(cmd) => cmd.split_whitespace().map(str::to_owned).collect(),
        None => vec!["alembic".to_owned()],
    };
    let workdir = project
        .config_file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| ctx.cwd.clone(), |p| ctx.cwd.join(p));
    AlembicCommand {
        program,
        config: ctx.cwd.join(&project.config_file),
        name: project.name.clone(),
        workdir,
    }
}

pub fn run(
    ctx: &Context,
    project: &AlembicProject,
    graph: RevisionGraph,
    direction: Direction,
    target: &str,
    mode: &ModeArgs,
) -> CmdResult {
    let alembic = command(ctx, project, mode);
    let verb = match direction {
        Direction::Downgrade => "downgrade",
        _ => "upgrade",
    };
    if mode.sql {
        return offline(&alembic, verb, target);
    }
    if target.contains(':') {
        return Err(Failure::usage(format!(
            "Range revision not allowed: '{target}' (a FROM:TO range needs --sql)"
        )));
    }
    let planner = |rows: &[String]| -> Result<Plan, PlanFailure> {
        let applied = database::applied(&graph, rows, ctx)?;
        Ok(make_plan(&graph, direction, &applied, target)?)
    };
    if mode.dry_run {
        let rows = database::current_rows(ctx)?;
        let plan = planner(&rows).map_err(|e| engine_failure(EngineError::Plan(e)))?;
        eprintln!("would run: {}", alembic.shown(verb, target));
        return print_planned(ctx, &migrate::engine::describe(&graph, &plan));
    }
    let url = database::database_url(ctx)?;
    let timeout = Duration::from_secs(mode.run.lock_timeout);
    let rt = database::runtime()?;
    let context = RunContext::detect(&ctx.revisions_dir);
    let lock_file = url.sqlite_path().map(|p| FileLock::path_for(&p));
    let run = AlembicRun {
        command: &alembic,
        direction,
        target,
        context: &context,
        lock_file,
        lock_timeout: timeout,
    };
    let outcome = rt.block_on(async {
        let create = direction != Direction::Downgrade;
        let Some(mut db) = database::connect(ctx, &url, create, timeout).await? else {
            return Ok(None);
        };
        // Alembic writes its own lines to stderr: one progress line per step, no bar.
        let mut progress = StderrProgress::Lines;
        let r = runner::run(&mut db, &graph, &planner, &run, &mut progress).await;
        db.close().await;
        r.map(Some).map_err(engine_failure)
    })?;
    report_outcome(ctx, direction, target, outcome)
}

/// `--sql`: Alembic's own offline script, passed through.
fn offline(alembic: &AlembicCommand, verb: &str, target: &str) -> CmdResult {
    if alembic.program.is_empty() {
        return Err(Failure::usage("--alembic names no command"));
    }
    let status = alembic
        .command(verb, &["--sql"], target)
        .and_then(|mut cmd| {
            cmd.status()
                .map_err(|e| alembic.not_found(verb, target, e.to_string()))
        })
        .map_err(Failure::from)?;
    Ok(match status.code() {
        Some(0) => std::process::ExitCode::SUCCESS,
        _ => std::process::ExitCode::from(1),
    })
}
