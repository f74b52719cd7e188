//! `migrate history`: revisions newest first, over the whole graph or a range.

use migrate::core::{plan, Ix, PlanError, ResolveError, RevisionGraph};

use super::context::Context;
use super::entry::{self, Entry};
use super::output::{print_json, write_lines, CmdResult, Failure};

/// `-r START:END`, shared by `history` and `audit`.
#[derive(Debug, Clone, clap::Args)]
pub struct RangeArg {
    /// Range START:END (either side may be empty: `ae10:`, `:head`, `base:auth@head`).
    #[arg(
        short = 'r',
        long = "rev-range",
        value_name = "START:END",
        allow_hyphen_values = true
    )]
    pub range: Option<String>,
}

impl RangeArg {
    /// The revisions in the range, newest first, with Alembic's error for a range whose
    /// ends are not on one line.
    pub fn revisions(&self, graph: &RevisionGraph) -> Result<Vec<Ix>, Failure> {
        let (lower, upper) = split_range(self.range.as_deref())?;
        plan::history(graph, &lower, &upper).map_err(|e| match e {
            PlanError::Resolve(ResolveError::RangeNotAncestor { .. }) => Failure::new(format!(
                "Requested range {lower}:{upper} does not refer to ancestor/descendant revisions along the same branch"
            )),
            other => super::resolve_failure(other),
        })
    }
}

#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    #[command(flatten)]
    pub range: RangeArg,
    /// Show each revision in full.
    #[arg(short, long)]
    pub verbose: bool,
    /// Mark the revisions the database is at (its version rows) with `(current)`.
    #[arg(short = 'i', long)]
    pub indicate_current: bool,
    #[command(flatten)]
    pub out: super::output::FormatArg<super::output::TextJson>,
    #[command(flatten)]
    pub db: super::output::DatabaseArg,
}

/// A history entry with the database's view, for `--indicate-current --format json`.
#[derive(serde::Serialize)]
struct CurrentEntry {
    #[serde(flatten)]
    entry: Entry,
    is_current: bool,
}

/// Splits `START:END` with Alembic's defaults (`base`, `heads`).
pub fn split_range(range: Option<&str>) -> Result<(String, String), Failure> {
    match range {
        None => Ok(("base".into(), "heads".into())),
        Some(r) => match r.split_once(':') {
            Some((a, b)) => Ok((
                if a.is_empty() {
                    "base".into()
                } else {
                    a.into()
                },
                if b.is_empty() {
                    "heads".into()
                } else {
                    b.into()
                },
            )),
            None => Err(Failure::usage(format!(
                "history range '{r}' must be START:END (either side may be empty)"
            ))),
        },
    }
}

pub fn run(ctx: &Context, args: HistoryArgs) -> CmdResult {
    let json = ctx.text_or_json("history")?;
    let graph = ctx.load_graph()?;
    let revs = args.range.revisions(&graph)?;
    let current: Vec<String> = if args.indicate_current {
        super::database::current_rows(ctx)?
    } else {
        Vec::new()
    };
    let is_current = |r| current.iter().any(|c| c == graph.id(r));
    if json {
        if args.indicate_current {
            let out: Vec<CurrentEntry> = revs
                .iter()
                .map(|&r| CurrentEntry {
                    entry: Entry::new(&graph, r),
                    is_current: is_current(r),
                })
                .collect();
            return print_json(&out);
        }
        let out: Vec<Entry> = revs.iter().map(|&r| Entry::new(&graph, r)).collect();
        return print_json(&out);
    }
    // An Alembic project's verbose text is Alembic's, line for line: no Author line.
    let authorship = if args.verbose && !ctx.source.is_alembic() {
        Some(super::authorship::load(ctx))
    } else {
        None
    };
    // Streamed line by line: 100,000 revisions are never one string in memory.
    write_lines(revs.iter().map(|&r| {
        if args.verbose {
            let mut text = entry::verbose_marked(&graph, r, ctx.paint, is_current(r));
            if let Some(authorship) = &authorship {
                // Branches only for heads: one ancestry query per branch is too much.
                let origin = migrate::git::head_origin(&graph, r, authorship, graph.is_head(r));
                text = super::authorship::with_author_line(text, &origin);
            }
            text.push('\n');
            text
        } else {
            let parts = entry::LineParts {
                current: is_current(r),
                ..entry::LineParts::HISTORY
            };
            let mut line = entry::one_line(&graph, r, ctx.paint, parts);
            line.push('\n');
            line
        }
    }))
}
