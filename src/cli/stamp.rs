//! `migrate stamp REV... [--purge]`: set the version rows without running SQL; the change
//! is recorded in the log as a `stamp` step. Also how a failed MySQL step is cleared.
//! With `--sql`, the version-row and log statements are printed instead, starting from
//! base or from `FROM` in `FROM:REV` (Alembic's offline stamp).

use std::process::ExitCode;
use std::time::Duration;

use migrate::core::{plan, Plan, Resolver};
use migrate::engine::{self, PlanFailure, TransactionMode};

use super::context::Context;
use super::database::{self, RunArgs, StderrProgress};
use super::output::{print_json, CmdResult, Failure};
use super::resolve_failure;
use super::upgrade::{engine_failure, print_script};

#[derive(Debug, clap::Args)]
pub struct StampArgs {
    /// Revisions to stamp (`head`, `heads`, `base`, ids, labels); with --sql also
    /// `FROM:REV`, the rows the script starts from.
    #[arg(required = true)]
    #[arg(value_name = "REVISION")]
    pub targets: Vec<String>,
    /// Delete every version row first (also rows whose revision has no file).
    #[arg(long, conflicts_with = "sql")]
    pub purge: bool,
    /// Print the SQL script that would stamp, without connecting.
    #[arg(long)]
    pub sql: bool,
    /// Dialect of the --sql script (default: from the database URL's scheme).
    #[arg(long, value_name = "DIALECT", requires = "sql", value_parser = super::output::dialect_values())]
    pub dialect: Option<String>,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub out: super::output::FormatArg<super::output::TextJson>,
    #[command(flatten)]
    pub db: super::output::DatabaseArg,
}

pub fn run(ctx: &Context, args: StampArgs) -> CmdResult {
    if args.sql {
        return offline_script(ctx, &args);
    }
    let json = ctx.text_or_json("stamp")?;
    let graph = ctx.load_graph()?;
    let url = database::database_url(ctx)?;
    let targets: Vec<&str> = args.targets.iter().map(String::as_str).collect();
    let planner = |rows: &[String]| -> Result<Plan, PlanFailure> {
        if args.purge {
            // Rows without a file can only be purged: they go with the others.
            return Ok(migrate::core::rows::stamp_purge(&graph, rows, &targets)?);
        }
        let applied = database::applied(&graph, rows, ctx)?;
        Ok(plan::stamp(&graph, &applied, &targets, false)?)
    };
    let rt = database::runtime()?;
    let options = database::run_options(ctx, TransactionMode::PerRevision);
    let timeout = Duration::from_secs(args.run.lock_timeout);
    let outcome = rt.block_on(async {
        let mut db = database::connect(ctx, &url, true, timeout)
            .await?
            .ok_or_else(|| Failure::new(format!("cannot open {url}")))?;
        let mut progress = StderrProgress::new();
        let r = engine::run_stamp(&mut db, &graph, &planner, &options, &mut progress).await;
        db.close().await;
        r.map_err(engine_failure)
    })?;
    if json {
        return print_json(&outcome.rows_after);
    }
    eprintln!(
        "stamped; version rows: {}",
        if outcome.rows_after.is_empty() {
            "none (base)".to_owned()
        } else {
            outcome.rows_after.join(", ")
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// `stamp --sql`: the stamp plan from base (or from the one `FROM` of `FROM:REV`
/// targets), rendered like `upgrade --sql`.
fn offline_script(ctx: &Context, args: &StampArgs) -> CmdResult {
    let graph = ctx.load_graph()?;
    let dialect = database::offline_dialect(ctx, args.dialect.as_deref())?;
    let mut from: Option<&str> = None;
    let mut targets = Vec::new();
    for t in &args.targets {
        let target = match t.split_once(':') {
            Some((start, target)) => {
                let start = if start.is_empty() { "base" } else { start };
                if from.is_some_and(|f| f != start) {
                    return Err(Failure::usage(
                        "stamp with --sql takes one starting revision (the same FROM in every FROM:REV)",
                    ));
                }
                from = Some(start);
                target
            }
            None => t.as_str(),
        };
        targets.push(target);
    }
    let from = from.unwrap_or("base");
    let applied = Resolver::new(&graph)
        .revisions(from)
        .map_err(|e| resolve_failure(e.into()))?;
    let plan = plan::stamp(&graph, &applied, &targets, false).map_err(resolve_failure)?;
    print_script(ctx, &graph, &plan, dialect, applied.is_empty())
}
