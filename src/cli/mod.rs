//! The command line: clap definitions and all output. One file per command, each with
//! its `<Verb>Args` and one `run` function; shared options live in [`GlobalArgs`].

mod alembic_write;
mod annotations;
mod audit;
mod authorship;
mod autogen;
mod blame;
mod check;
mod conflicts;
mod context;
mod current;
mod database;
mod database_cmd;
mod downgrade;
mod entry;
mod examples;
mod failure;
mod graph;
mod heads;
mod history;
mod init;
mod lint;
mod merge;
mod output;
mod premerge;
mod rebase;
mod resolve;
mod revision;
mod show;
mod signals;
mod stairway;
mod stamp;
mod status;
mod upgrade;
mod via_alembic;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use context::{Context, GlobalArgs};
pub use output::Failure;

/// Database schema revisions as a DAG: Alembic's semantics, fast, safe and git-aware.
#[derive(Debug, Parser)]
#[command(
    name = "migrate",
    version,
    about,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    /// `--format` before the command (`migrate --format json heads`): the command checks it.
    #[arg(id = "format_before", long = "format", value_enum, hide = true)]
    pub format: Option<output::Format>,
    /// `--database-url` before the command.
    #[arg(
        id = "database_url_before",
        long = "database-url",
        value_name = "URL",
        hide = true
    )]
    pub database_url: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a config file and an empty revisions directory.
    #[command(after_help = examples::INIT)]
    Init(init::InitArgs),
    /// Write a new revision on the head.
    #[command(after_help = examples::REVISION)]
    Revision(revision::RevisionArgs),
    /// Write a merge revision joining heads.
    #[command(after_help = examples::MERGE)]
    Merge(merge::MergeArgs),
    /// Show the heads of the revision graph.
    #[command(after_help = examples::HEADS)]
    Heads(heads::HeadsArgs),
    /// Show branch points and the branches leaving them.
    #[command(after_help = examples::BRANCHES)]
    Branches(heads::BranchesArgs),
    /// List revisions, newest first.
    #[command(after_help = examples::HISTORY)]
    History(history::HistoryArgs),
    /// Show one revision in full.
    #[command(after_help = examples::SHOW)]
    Show(show::ShowArgs),
    /// Draw the graph as Graphviz DOT, a Mermaid flowchart or ASCII art.
    #[command(after_help = examples::GRAPH)]
    Graph(graph::GraphArgs),
    /// Validate the whole graph; exit 1 listing every problem.
    #[command(after_help = examples::CHECK)]
    Check(check::CheckArgs),
    /// Do the heads collide? Per pair: merge base, what each side adds and touches, a verdict.
    #[command(after_help = examples::CONFLICTS)]
    Conflicts(conflicts::ConflictsArgs),
    /// Re-parent a branch's revisions onto another revision (linearize instead of merge).
    #[command(after_help = examples::REBASE)]
    Rebase(rebase::RebaseArgs),
    /// Apply revisions up to a target (default head).
    #[command(after_help = examples::UPGRADE)]
    Upgrade(upgrade::UpgradeArgs),
    /// Revert revisions down to a target.
    #[command(after_help = examples::DOWNGRADE)]
    Downgrade(downgrade::DowngradeArgs),
    /// Set the version rows without running SQL.
    #[command(after_help = examples::STAMP)]
    Stamp(stamp::StampArgs),
    /// Settle a statement a stopped run left in doubt: it took effect, or it did not.
    #[command(after_help = examples::RESOLVE)]
    Resolve(resolve::ResolveArgs),
    /// Show the database's current revisions.
    #[command(after_help = examples::CURRENT)]
    Current(current::CurrentArgs),
    /// Who added each revision (from git), newest first.
    #[command(after_help = examples::BLAME)]
    Blame(blame::BlameArgs),
    /// Query revision authorship: by author, date, branch label or graph range.
    #[command(after_help = examples::AUDIT)]
    Audit(audit::AuditArgs),
    /// Every revision with its state in the database (applied, pending, failed...), oldest first.
    #[command(after_help = examples::STATUS)]
    Status(status::StatusArgs),
    /// Create, drop or reset (drop, create, upgrade head) the database itself.
    #[command(after_help = examples::DATABASE)]
    Database(database_cmd::DatabaseArgs),
    /// Find dangerous DDL in revisions (locks, rewrites, data loss), per backend.
    #[command(after_help = examples::LINT)]
    Lint(lint::LintArgs),
    /// Upgrade, downgrade and upgrade again each revision on a scratch database (the stairway).
    #[command(after_help = examples::TEST)]
    Test(stairway::TestArgs),
}

impl Command {
    /// The command's own `--format` and `--database-url`, where it has them.
    fn options(&self) -> (Option<output::Format>, Option<&str>) {
        use Command as C;
        fn db(d: &output::DatabaseArg) -> Option<&str> {
            d.database_url.as_deref()
        }
        match self {
            C::Init(a) => (a.out.get(), None),
            C::Revision(a) => (a.out.get(), db(&a.db)),
            C::Merge(a) => (a.out.get(), None),
            C::Heads(a) => (a.out.get(), None),
            C::Branches(a) => (a.out.get(), None),
            C::History(a) => (a.out.get(), db(&a.db)),
            C::Show(a) => (a.out.get(), None),
            C::Graph(_) => (None, None),
            C::Check(a) => (a.out.get(), db(&a.db)),
            C::Conflicts(a) => (a.out.get(), db(&a.db)),
            C::Rebase(a) => (a.out.get(), db(&a.db)),
            C::Upgrade(a) => (a.out.get(), db(&a.db)),
            C::Downgrade(a) => (a.out.get(), db(&a.db)),
            C::Stamp(a) => (a.out.get(), db(&a.db)),
            C::Resolve(a) => (a.out.get(), db(&a.db)),
            C::Current(a) => (a.out.get(), db(&a.db)),
            C::Blame(a) => (a.out.get(), None),
            C::Audit(a) => (a.out.get(), db(&a.db)),
            C::Status(a) => (a.out.get(), db(&a.db)),
            C::Database(a) => (
                a.format.map(output::FormatValues::format),
                a.database_url.as_deref(),
            ),
            C::Lint(a) => (a.out.get(), db(&a.db)),
            C::Test(a) => (a.out.get(), a.database_url.as_deref()),
        }
    }
}

/// Parses arguments, runs the command, prints errors; returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    failure::colour_errors(cli.global.color.enabled_on_stderr());
    let (format, database_url) = cli.command.options();
    let ctx = match Context::new(
        &cli.global,
        format.or(cli.format),
        database_url
            .or(cli.database_url.as_deref())
            .map(str::to_owned),
    ) {
        Ok(ctx) => ctx,
        Err(failure) => return failure.report(),
    };
    let result = match cli.command {
        Command::Init(args) => init::run(&ctx, args),
        Command::Revision(args) => revision::run(&ctx, args),
        Command::Merge(args) => merge::run(&ctx, args),
        Command::Heads(args) => heads::run(&ctx, args),
        Command::Branches(args) => heads::run_branches(&ctx, args),
        Command::History(args) => history::run(&ctx, args),
        Command::Show(args) => show::run(&ctx, args),
        Command::Graph(args) => graph::run(&ctx, args),
        Command::Check(args) => check::run(&ctx, args),
        Command::Rebase(args) => rebase::run(&ctx, args),
        Command::Conflicts(args) => conflicts::run(&ctx, args),
        Command::Upgrade(args) => upgrade::run(&ctx, args),
        Command::Downgrade(args) => downgrade::run(&ctx, args),
        Command::Stamp(args) => stamp::run(&ctx, args),
        Command::Resolve(args) => resolve::run(&ctx, args),
        Command::Current(args) => current::run(&ctx, args),
        Command::Blame(args) => blame::run(&ctx, args),
        Command::Audit(args) => audit::run(&ctx, args),
        Command::Status(args) => status::run(&ctx, args),
        Command::Database(args) => database_cmd::run(&ctx, args),
        Command::Lint(args) => lint::run(&ctx, args),
        Command::Test(args) => stairway::run(&ctx, args),
    };
    match result {
        Ok(code) => code,
        Err(failure) => failure.report(),
    }
}

/// A resolution or planning error as the CLI shows it, with "did you mean" and hints.
pub fn resolve_failure(e: migrate::core::PlanError) -> Failure {
    use migrate::core::{PlanError, ResolveError};
    match e {
        PlanError::Resolve(ResolveError::NotFound { input, candidates }) => {
            let mut f = Failure::new(format!(
                "Can't locate revision identified by '{}'",
                migrate::files::load::excerpt(&input)
            ));
            if !candidates.is_empty() {
                f = f.hint(format!("did you mean {}?", candidates.join(", ")));
            }
            f
        }
        PlanError::Resolve(ResolveError::AmbiguousPrefix { prefix, candidates }) => {
            Failure::new(format!("revision prefix '{prefix}' is ambiguous"))
                .hint(format!("it matches {}", candidates.join(", ")))
        }
        PlanError::Resolve(ResolveError::MultipleHeads { argument, heads }) => Failure::new(format!(
            "Multiple head revisions are present for given argument '{argument}': {}",
            heads.join(", ")
        ))
        .hint("specify a revision, '<branchname>@head' to narrow to one branch, or 'heads' for all heads")
        .hint("run `migrate merge` to join the heads into one"),
        PlanError::Resolve(e @ ResolveError::AmbiguousWalk { .. }) => {
            let ResolveError::AmbiguousWalk {
                choices,
                down,
                remaining,
                ..
            } = &e
            else {
                unreachable!("matched above")
            };
            let sign = if *down { '-' } else { '+' };
            let targets: Vec<String> = choices
                .iter()
                .map(|c| match remaining {
                    0 => format!("`{c}`"),
                    r => format!("`{c}{sign}{r}`"),
                })
                .collect();
            let which = if *down { "parent" } else { "child" };
            Failure::new(e.to_string()).hint(format!(
                "a relative step can't choose a {which} for you; name the branch instead: {}",
                targets.join(" or ")
            ))
        }
        other => Failure::new(other.to_string()),
    }
}
