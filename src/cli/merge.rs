//! `migrate merge`: a merge revision joining heads.

use migrate::core::{Ix, Resolver};

use super::context::Context;
use super::output::{write_stdout, CmdResult, Failure};
use super::revision::{blank_revision, new_identity, write_new};

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// Revisions to merge (default: all heads).
    #[arg(value_name = "REV", id = "rev")]
    pub revisions: Vec<String>,
    /// Message (default: names the merged revisions).
    #[arg(short, long)]
    pub message: Option<String>,
    /// Branch label for the merge revision (repeatable).
    #[arg(long = "branch-label", value_name = "LABEL")]
    pub branch_labels: Vec<String>,
    /// Use this id instead of a random one.
    #[arg(long = "rev-id", value_name = "ID")]
    pub rev_id: Option<String>,
    /// Refuse unless `conflicts` finds the heads independent (no object in common,
    /// nothing unreadable).
    #[arg(long)]
    pub require_independent: bool,
    #[command(flatten)]
    pub out: super::output::FormatArg<super::output::TextJson>,
}

pub fn run(ctx: &Context, args: MergeArgs) -> CmdResult {
    let graph = ctx.load_graph()?;
    let resolver = Resolver::new(&graph);
    let inputs = if args.revisions.is_empty() {
        vec!["heads".to_owned()]
    } else {
        args.revisions.clone()
    };
    let mut parents: Vec<Ix> = Vec::new();
    for input in &inputs {
        for ix in resolver
            .revisions(input)
            .map_err(|e| super::resolve_failure(e.into()))?
        {
            if !parents.contains(&ix) {
                parents.push(ix);
            }
        }
    }
    if parents.len() < 2 {
        let which = parents
            .first()
            .map(|&p| format!(" ({})", graph.id(p)))
            .unwrap_or_default();
        eprintln!("Nothing to merge: there is only one head{which}");
        return write_stdout("");
    }
    for &p in &parents {
        let below = graph.ancestors(&[p], true);
        let overlapping: Vec<&str> = parents
            .iter()
            .filter(|&&o| o != p && below[o as usize])
            .map(|&o| graph.id(o))
            .collect();
        if !overlapping.is_empty() {
            return Err(Failure::new(format!(
                "Requested revision {} overlaps with other requested revisions {}",
                graph.id(p),
                overlapping.join(", ")
            ))
            .hint(
                "merge only revisions that are not ancestors of each other (usually the heads)",
            ));
        }
    }
    // Whether the heads collide, said before anything is written.
    let reports = super::conflicts::pair_reports(ctx, &graph, &parents, false)?;
    for r in &reports {
        eprint!("{}", super::conflicts::pair_text(r));
    }
    if args.require_independent {
        let bad: Vec<String> = reports
            .iter()
            .filter(|r| r.verdict != migrate::conflicts::Verdict::Independent)
            .map(|r| format!("{} and {} are {}", r.heads[0], r.heads[1], r.verdict.name()))
            .collect();
        if !bad.is_empty() {
            return Err(Failure::new(format!(
                "merge refused (--require-independent): {}",
                bad.join("; ")
            ))
            .hint("the heads touch the same objects (or something could not be read): decide the order with `migrate rebase --onto <head>`, or merge without --require-independent after checking them"));
        }
    }
    let id = new_identity(ctx, &graph, args.rev_id.as_deref(), &args.branch_labels)?;
    let message = match args.message {
        Some(m) => m,
        None => {
            let authorship = super::authorship::load(ctx);
            let origins = super::authorship::origins(&graph, &parents, &authorship, false);
            migrate::git::merge_message(&origins)
        }
    };
    let parent_ids = parents
        .iter()
        .map(|&p| graph.revision(p).id.clone())
        .collect();
    let mut rev = blank_revision(id, parent_ids, &message);
    rev.branch_labels = args.branch_labels;
    write_new(ctx, &graph, &rev, None)
}
