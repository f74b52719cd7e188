//! `migrate downgrade TARGET`: revert revisions down to TARGET (`base`, an id, `-1`,
//! `label@base`); the other branches stay. Shares the runner with `upgrade`.

use migrate::core::{Direction, RevisionGraph};

use super::context::Context;
use super::database;
use super::output::{CmdResult, Failure};
use super::upgrade::{migrate_to, migrate_with, ModeArgs};

#[derive(Debug, clap::Args)]
pub struct DowngradeArgs {
    /// Revision to downgrade to; with --sql a `FROM:TO` range.
    #[arg(allow_negative_numbers = true)]
    pub target: String,
    /// Applied revisions whose files are not in this checkout (applied from another
    /// branch): read them, and their downgrade SQL, from the local branch that has them.
    #[arg(long)]
    pub from_git: bool,
    #[command(flatten)]
    pub mode: ModeArgs,
    #[command(flatten)]
    pub out: super::output::FormatArg<super::output::TextJson>,
    #[command(flatten)]
    pub db: super::output::DatabaseArg,
}

pub fn run(ctx: &Context, args: DowngradeArgs) -> CmdResult {
    if !args.from_git || args.mode.sql {
        return migrate_to(ctx, Direction::Downgrade, &args.target, &args.mode);
    }
    let loaded = ctx.source.load()?;
    let (mut revisions, problems) = (loaded.revisions, loaded.problems);
    if !problems.is_empty() {
        return Err(Failure::Problems(problems));
    }
    let url = database::database_url(ctx)?;
    let rows = database::runtime()?.block_on(async {
        match database::connect(ctx, &url, false, migrate::db::DEFAULT_LOCK_TIMEOUT).await? {
            Some(mut db) => {
                let rows = db.read_versions().await.map_err(Failure::from);
                db.close().await;
                rows
            }
            None => Ok(Vec::new()),
        }
    })?;
    let extra = super::authorship::revisions_from_git(ctx, &revisions, &rows)?;
    for (rev, found) in &extra {
        eprintln!("{}", super::authorship::from_git_line(found));
        match rev
            .downgrade
            .as_ref()
            .and_then(|sql| sql.for_dialect(url.dialect()))
        {
            Some(sql) => {
                eprintln!("  its downgrade SQL ({}):", url.dialect());
                for line in sql.lines() {
                    eprintln!("    {line}");
                }
            }
            None => eprintln!("  it has no downgrade SQL for {}", url.dialect()),
        }
    }
    revisions.extend(extra.into_iter().map(|(rev, _)| rev));
    let graph = RevisionGraph::build(revisions).map_err(|p| Failure::Problems(p.0))?;
    migrate_with(ctx, graph, Direction::Downgrade, &args.target, &args.mode)
}
