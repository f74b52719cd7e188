//! `migrate audit`: questions over revision authorship — who wrote which revisions,
//! when, on which branch label or graph range.

use migrate::core::{plan, Ix, PlanError, ResolveError};
use migrate::git::{AuditFilter, BlameEntry};

use super::authorship;
use super::context::Context;
use super::history::split_range;
use super::output::{CmdResult, Failure};

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// Author name or email: a case-insensitive substring, or a glob with * and ?.
    #[arg(long, value_name = "PATTERN")]
    pub author: Option<String>,
    /// Only revisions added on or after this date (YYYY-MM-DD or RFC 3339).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Only revisions added on or before this date (YYYY-MM-DD is inclusive).
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// Only revisions on this branch label.
    #[arg(long, value_name = "LABEL")]
    pub branch: Option<String>,
    /// Only revisions in this graph range START:END (either side may be empty).
    #[arg(
        short = 'r',
        long = "rev-range",
        value_name = "START:END",
        allow_hyphen_values = true
    )]
    pub range: Option<String>,
    /// Join the database's audit log: who applied each revision, where and when.
    #[arg(long)]
    pub applied: bool,
}

pub fn run(ctx: &Context, args: AuditArgs) -> CmdResult {
    let filter = AuditFilter {
        author: args.author.clone(),
        since: args
            .since
            .as_deref()
            .map(AuditFilter::parse_since)
            .transpose()
            .map_err(|e| Failure::usage(format!("--since: {e}")))?,
        until: args
            .until
            .as_deref()
            .map(AuditFilter::parse_until)
            .transpose()
            .map_err(|e| Failure::usage(format!("--until: {e}")))?,
    };
    if args.applied {
        return Err(Failure::new(
            "`audit --applied` needs the database audit log (migrate_log), which this build does not have yet",
        ));
    }
    let graph = ctx.load_graph()?;
    let mut selected: Vec<Ix> = match &args.range {
        None => (0..graph.len() as Ix).collect(),
        Some(_) => {
            let (lower, upper) = split_range(args.range.as_deref())?;
            plan::history(&graph, &lower, &upper).map_err(|e| match e {
                PlanError::Resolve(ResolveError::RangeNotAncestor { .. }) => Failure::new(format!(
                    "Requested range {lower}:{upper} does not refer to ancestor/descendant revisions along the same branch"
                )),
                other => super::resolve_failure(other),
            })?
        }
    };
    if let Some(label) = &args.branch {
        if graph.label_owner(label).is_none() {
            return Err(Failure::new(format!("No such branch: '{label}'")));
        }
        selected.retain(|&ix| graph.has_label(ix, label));
    }
    let authorship = authorship::load(ctx);
    let rows: Vec<BlameEntry> = BlameEntry::for_revisions(&graph, &selected, &authorship)
        .into_iter()
        .filter(|r| filter.matches(r))
        .collect();
    super::blame::print_rows(ctx.format, &rows)
}
