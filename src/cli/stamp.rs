//! `migrate stamp REV... [--purge]`: set the version rows without running SQL; the change
//! is recorded in the log as a `stamp` step. Also how a failed MySQL step is cleared.

use std::process::ExitCode;
use std::time::Duration;

use migrate::core::{plan, Plan, VersionOp};
use migrate::engine::{self, PlanFailure, TransactionMode};

use super::context::Context;
use super::database::{self, RunArgs, StderrProgress};
use super::output::{print_json, text_or_json, CmdResult, Failure};
use super::upgrade::engine_failure;

#[derive(Debug, clap::Args)]
pub struct StampArgs {
    /// Revisions to stamp (`head`, `heads`, `base`, ids, labels).
    #[arg(required = true)]
    #[arg(value_name = "REVISION")]
    pub targets: Vec<String>,
    /// Delete every version row first (also rows whose revision has no file).
    #[arg(long)]
    pub purge: bool,
    #[command(flatten)]
    pub run: RunArgs,
}

pub fn run(ctx: &Context, args: StampArgs) -> CmdResult {
    let json = text_or_json(ctx, "stamp")?;
    let graph = ctx.load_graph()?;
    let url = database::database_url(ctx)?;
    let targets: Vec<&str> = args.targets.iter().map(String::as_str).collect();
    let planner = |rows: &[String]| -> Result<Plan, PlanFailure> {
        if args.purge {
            // Rows without a file can only be purged: delete them, then stamp from base.
            let known: Vec<_> = rows.iter().filter_map(|r| graph.find(r)).collect();
            let mut p = plan::stamp(&graph, &known, &targets, true)?;
            let unknown: Vec<VersionOp> = rows
                .iter()
                .filter(|r| graph.find(r).is_none())
                .map(|r| VersionOp::Delete { version: r.clone() })
                .collect();
            if !unknown.is_empty() {
                p.steps.insert(
                    0,
                    migrate::core::Step {
                        revision: None,
                        direction: migrate::core::Direction::Stamp,
                        version_ops: unknown,
                    },
                );
            }
            return Ok(p);
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
