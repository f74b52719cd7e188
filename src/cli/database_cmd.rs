//! `migrate database create|drop|reset`, as sqlx-cli's `sqlx database`: the SQLite file,
//! or the database on the PostgreSQL/MariaDB server the URL names. `drop` and `reset`
//! ask first on a terminal and refuse without one unless `--yes` is given.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use migrate::core::{Dialect, Direction};
use migrate::db::admin::{self, Created, Dropped};
use migrate::db::DatabaseUrl;

use super::context::Context;
use super::database::{self, RunArgs, TransactionArg};
use super::output::{print_json, CmdResult, Failure};
use super::upgrade::ModeArgs;

#[derive(Debug, clap::Args)]
pub struct DatabaseArgs {
    #[command(subcommand)]
    pub action: DatabaseAction,
    /// Output format [default: text].
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub format: Option<super::output::TextJson>,
    /// Database URL (else DATABASE_URL, then the config's database_url, then sqlite://app.db).
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
}

#[derive(Debug, clap::Subcommand)]
pub enum DatabaseAction {
    /// Create the database: the SQLite file, or CREATE DATABASE on the server.
    Create,
    /// Drop the database (asks first; --yes without a terminal).
    Drop(DropArgs),
    /// Drop the database, create it again and `upgrade head`.
    Reset(ResetArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct DropArgs {
    /// Drop without asking (needed when stdin is not a terminal).
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// PostgreSQL 13+: end the other sessions on the database first (WITH (FORCE)).
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Debug, clap::Args)]
pub struct ResetArgs {
    #[command(flatten)]
    pub drop: DropArgs,
    /// Transaction grouping of the upgrade.
    #[arg(long, value_enum, default_value_t = TransactionArg::PerRevision)]
    pub transaction: TransactionArg,
    #[command(flatten)]
    pub run: RunArgs,
}

/// What a create or drop did, for `--format json`.
#[derive(serde::Serialize)]
struct Done {
    /// The URL, password redacted.
    url: String,
    action: &'static str,
    /// `created`, `exists`, `dropped` or `absent`.
    result: &'static str,
}

pub fn run(ctx: &Context, args: DatabaseArgs) -> CmdResult {
    let json = ctx.text_or_json("database")?;
    let url = database::database_url(ctx)?;
    match args.action {
        DatabaseAction::Create => {
            let result = create(ctx, &url)?;
            report(
                json,
                Done {
                    url: url.to_string(),
                    action: "create",
                    result,
                },
            )
        }
        DatabaseAction::Drop(drop) => {
            check_force(&url, &drop)?;
            confirm(&url, drop.yes)?;
            let result = drop_database(&url, drop.force)?;
            report(
                json,
                Done {
                    url: url.to_string(),
                    action: "drop",
                    result,
                },
            )
        }
        DatabaseAction::Reset(reset) => {
            check_force(&url, &reset.drop)?;
            // A revision set that doesn't load must not cost the database.
            let graph = ctx.load_graph()?;
            confirm(&url, reset.drop.yes)?;
            drop_database(&url, reset.drop.force)?;
            create(ctx, &url)?;
            let mode = ModeArgs {
                dry_run: false,
                sql: false,
                dialect: None,
                transaction: reset.transaction,
                run: reset.run,
                alembic: None,
            };
            super::upgrade::migrate_with(ctx, graph, Direction::Upgrade, "head", &mode)
        }
    }
}

fn report(json: bool, done: Done) -> CmdResult {
    if json {
        return print_json(&done);
    }
    Ok(ExitCode::SUCCESS)
}

fn check_force(url: &DatabaseUrl, args: &DropArgs) -> Result<(), Failure> {
    if args.force && url.dialect() != Dialect::Postgres {
        return Err(Failure::usage(format!(
            "--force is for PostgreSQL; {url} is a {} database",
            url.dialect()
        )));
    }
    Ok(())
}

/// Creates the database; says on stderr whether it was created or already there.
fn create(ctx: &Context, url: &DatabaseUrl) -> Result<&'static str, Failure> {
    let rt = database::runtime()?;
    let created = if url.dialect() == Dialect::Sqlite {
        // The name check first (an in-memory database has no file to create).
        admin::database_name(url)?;
        if rt.block_on(admin::database_exists(url))? {
            Created::AlreadyExists
        } else {
            // Connecting creates the file, with `connect`'s directory check.
            rt.block_on(async {
                let timeout = migrate::db::DEFAULT_LOCK_TIMEOUT;
                if let Some(db) = database::connect(ctx, url, true, timeout).await? {
                    db.close().await;
                }
                Ok::<_, Failure>(())
            })?;
            Created::Created
        }
    } else {
        rt.block_on(admin::create_server_database(url))?
    };
    Ok(match created {
        Created::Created => {
            eprintln!("created database {url}");
            "created"
        }
        Created::AlreadyExists => {
            eprintln!("database {url} already exists");
            "exists"
        }
    })
}

/// Drops the database; says on stderr whether there was one.
fn drop_database(url: &DatabaseUrl, force: bool) -> Result<&'static str, Failure> {
    let dropped = database::runtime()?.block_on(admin::drop_database(url, force))?;
    Ok(match dropped {
        Dropped::Dropped => {
            eprintln!("dropped database {url}");
            "dropped"
        }
        Dropped::DidNotExist => {
            eprintln!("database {url} does not exist");
            "absent"
        }
    })
}

/// Asks `Drop database URL? [y/N]` on a terminal; without one, only `--yes` goes on.
fn confirm(url: &DatabaseUrl, yes: bool) -> Result<(), Failure> {
    if yes {
        return Ok(());
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(Failure::usage(format!(
            "not dropping {url} without confirmation (stdin is not a terminal)"
        ))
        .hint("pass -y/--yes to drop it without asking"));
    }
    eprint!("Drop database {url}? [y/N] ");
    let mut answer = String::new();
    stdin
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Failure::new(format!("can't read the answer: {e}")))?;
    match answer.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => Err(Failure::new(format!("cancelled; {url} was not dropped"))),
    }
}
