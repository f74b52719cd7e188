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
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a config file and an empty revisions directory.
    Init(init::InitArgs),
    /// Write a new revision on the head.
    Revision(revision::RevisionArgs),
    /// Write a merge revision joining heads.
    Merge(merge::MergeArgs),
    /// Show the heads of the revision graph.
    Heads(heads::HeadsArgs),
    /// Show branch points and the branches leaving them.
    Branches(heads::BranchesArgs),
    /// List revisions, newest first.
    History(history::HistoryArgs),
    /// Show one revision in full.
    Show(show::ShowArgs),
    /// Draw the graph as Graphviz DOT, a Mermaid flowchart or ASCII art.
    Graph(graph::GraphArgs),
    /// Validate the whole graph; exit 1 listing every problem.
    Check(check::CheckArgs),
    /// Do the heads collide? Per pair: merge base, what each side adds and touches, a verdict.
    Conflicts(conflicts::ConflictsArgs),
    /// Re-parent a branch's revisions onto another revision (linearize instead of merge).
    Rebase(rebase::RebaseArgs),
    /// Apply revisions up to a target (default head).
    Upgrade(upgrade::UpgradeArgs),
    /// Revert revisions down to a target.
    Downgrade(downgrade::DowngradeArgs),
    /// Set the version rows without running SQL.
    Stamp(stamp::StampArgs),
    /// Settle a statement a stopped run left in doubt: it took effect, or it did not.
    Resolve(resolve::ResolveArgs),
    /// Show the database's current revisions.
    Current(current::CurrentArgs),
    /// Who added each revision (from git), newest first.
    Blame(blame::BlameArgs),
    /// Query revision authorship: by author, date, branch label or graph range.
    Audit(audit::AuditArgs),
    /// Every revision with its state in the database (applied, pending, failed...), oldest first.
    Status(status::StatusArgs),
    /// Create, drop or reset (drop, create, upgrade head) the database itself.
    Database(database_cmd::DatabaseArgs),
    /// Find dangerous DDL in revisions (locks, rewrites, data loss), per backend.
    Lint(lint::LintArgs),
    /// Upgrade, downgrade and upgrade again each revision on a scratch database (the stairway).
    Test(stairway::TestArgs),
}

/// Parses arguments, runs the command, prints errors; returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let ctx = match Context::new(&cli.global) {
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
