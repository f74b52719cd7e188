//! `migrate resolve REV --applied|--rolled-back`: settle the statement a stopped step
//! left in doubt (on MariaDB, or in a `transactional: false` step), after checking the
//! database by hand, instead of writing a stamp.

use std::process::ExitCode;
use std::time::Duration;

use migrate::core::Resolver;
use migrate::engine::{self, Resolution, TransactionMode};
use serde::Serialize;

use super::context::Context;
use super::database::{self, RunArgs};
use super::output::{print_json, CmdResult, Failure};
use super::upgrade::engine_failure;

#[derive(Debug, clap::Args)]
pub struct ResolveArgs {
    /// The revision whose step has a statement in doubt.
    #[arg(value_name = "REVISION")]
    pub revision: String,
    /// The statement in doubt took effect: the next run continues after it (or, if it
    /// was the last, the step is recorded as done now).
    #[arg(
        long,
        conflicts_with = "rolled_back",
        required_unless_present = "rolled_back"
    )]
    pub applied: bool,
    /// The statement in doubt did not take effect: the next run continues with it.
    #[arg(long)]
    pub rolled_back: bool,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub out: super::output::FormatArg<super::output::TextJson>,
    #[command(flatten)]
    pub db: super::output::DatabaseArg,
}

/// What `resolve --format json` prints.
#[derive(Serialize)]
struct Report {
    revision: String,
    direction: migrate::core::Direction,
    statement: usize,
    statements: usize,
    done: usize,
    finished: bool,
    rows_after: Option<Vec<String>>,
}

pub fn run(ctx: &Context, args: ResolveArgs) -> CmdResult {
    let json = ctx.text_or_json("resolve")?;
    let graph = ctx.load_graph()?;
    // A prefix names the revision as elsewhere; a revision without a file is taken as
    // written (the log names it all the same).
    let revision = match Resolver::new(&graph).revision(&args.revision) {
        Ok(Some(ix)) => graph.revision(ix).id.to_string(),
        _ => args.revision.clone(),
    };
    let resolution = if args.applied {
        Resolution::Applied
    } else {
        Resolution::RolledBack
    };
    let url = database::database_url(ctx)?;
    let options = database::run_options(ctx, TransactionMode::PerRevision);
    let timeout = Duration::from_secs(args.run.lock_timeout);
    let resolved = database::runtime()?.block_on(async {
        let mut db = database::connect(ctx, &url, false, timeout)
            .await?
            .ok_or_else(|| Failure::new(format!("{url} does not exist: nothing to resolve")))?;
        let r = engine::resolve(&mut db, &graph, &revision, resolution, &options).await;
        db.close().await;
        r.map_err(engine_failure)
    })?;
    if json {
        return print_json(&Report {
            revision: resolved.revision.clone(),
            direction: resolved.direction,
            statement: resolved.statement,
            statements: resolved.total,
            done: resolved.done,
            finished: resolved.finished.is_some(),
            rows_after: resolved.finished.as_ref().map(|o| o.rows_after.clone()),
        });
    }
    let (rev, dir, n) = (&resolved.revision, resolved.direction, resolved.statement);
    let what = match resolution {
        Resolution::Applied => "took effect",
        Resolution::RolledBack => "did not take effect",
    };
    eprintln!("recorded: statement {n} of the {dir} of revision {rev} {what}");
    match &resolved.finished {
        Some(outcome) => eprintln!(
            "that was its last statement: the {dir} of revision {rev} is recorded as done; now at {}",
            if outcome.rows_after.is_empty() {
                "base".to_owned()
            } else {
                outcome.rows_after.join(", ")
            }
        ),
        None => eprintln!(
            "the next `migrate {dir}` continues revision {rev} with statement {} of {}",
            resolved.done + 1,
            resolved.total
        ),
    }
    Ok(ExitCode::SUCCESS)
}
