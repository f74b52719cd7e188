//! `migrate init [DIR]`: a config file and an empty revisions directory.

use std::path::PathBuf;

use super::context::{relative_to, Context};
use super::output::{print_json, write_stdout, CmdResult, Failure, Format};

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Project directory (created if missing).
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

const CONFIG_TEMPLATE: &str = "\
# migrate configuration. Paths are relative to this file.
revisions: revisions
# database_url: postgres://user@localhost/app   (else DATABASE_URL, else sqlite://app.db)
# version_table: migrate_version                (alembic_version takes over an Alembic database)
# log_table: migrate_log
";

pub fn run(ctx: &Context, args: InitArgs) -> CmdResult {
    let dir = ctx.cwd.join(&args.dir);
    let config = dir.join(migrate::files::config::CONFIG_FILE);
    let revisions = dir.join("revisions");
    if config.exists() {
        return Err(Failure::new(format!(
            "{} already exists; nothing was changed",
            relative_to(&config, &ctx.cwd).display()
        )));
    }
    let io = |what: &std::path::Path, e: std::io::Error| {
        Failure::new(format!("can't create {}: {e}", what.display()))
    };
    std::fs::create_dir_all(&revisions).map_err(|e| io(&revisions, e))?;
    std::fs::write(&config, CONFIG_TEMPLATE).map_err(|e| io(&config, e))?;
    let config = relative_to(&config, &ctx.cwd);
    let revisions = relative_to(&revisions, &ctx.cwd);
    if ctx.format == Format::Json {
        return print_json(&serde_json::json!({"config": config, "revisions": revisions}));
    }
    write_stdout(&format!(
        "Created {} and {}/\n",
        config.display(),
        revisions.display()
    ))
}
