//! `migrate downgrade TARGET`: revert revisions down to TARGET (`base`, an id, `-1`,
//! `label@base`); the other branches stay. Shares the runner with `upgrade`.

use migrate::core::Direction;

use super::context::Context;
use super::output::CmdResult;
use super::upgrade::{migrate_to, ModeArgs};

#[derive(Debug, clap::Args)]
pub struct DowngradeArgs {
    /// Revision to downgrade to; with --sql a `FROM:TO` range.
    #[arg(allow_hyphen_values = true)]
    pub target: String,
    #[command(flatten)]
    pub mode: ModeArgs,
}

pub fn run(ctx: &Context, args: DowngradeArgs) -> CmdResult {
    migrate_to(ctx, Direction::Downgrade, &args.target, &args.mode)
}
