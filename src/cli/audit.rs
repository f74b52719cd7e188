//! `migrate audit`: questions over revision authorship — who wrote which revisions,
//! when, on which branch label or graph range.

use migrate::core::Ix;
use migrate::git::{AuditFilter, BlameEntry};

use super::authorship;
use super::context::Context;
use super::history::RangeArg;
use super::output::{print_json, write_stdout, CmdResult, Failure, Format};

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
    /// Only revisions in this graph range.
    #[command(flatten)]
    pub range: RangeArg,
    /// Join the database's audit log: who applied each revision, where and when.
    #[arg(long)]
    pub applied: bool,
    #[command(flatten)]
    pub out: super::output::FormatArg<super::output::TextJsonCsv>,
    #[command(flatten)]
    pub db: super::output::DatabaseArg,
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
    let (graph, authorship) = authorship::load_with_graph(ctx)?;
    let mut selected: Vec<Ix> = match &args.range.range {
        None => (0..graph.len() as Ix).collect(),
        Some(_) => args.range.revisions(&graph)?,
    };
    if let Some(label) = &args.branch {
        if graph.label_owner(label).is_none() {
            return Err(Failure::new(format!("No such branch: '{label}'")));
        }
        selected.retain(|&ix| graph.has_label(ix, label));
    }
    let rows: Vec<BlameEntry> = BlameEntry::for_revisions(&graph, &selected, &authorship)
        .into_iter()
        .filter(|r| filter.matches(r))
        .collect();
    if args.applied {
        let unfiltered = args.author.is_none()
            && args.since.is_none()
            && args.until.is_none()
            && args.branch.is_none()
            && args.range.range.is_none();
        return print_applied(ctx, &rows, unfiltered);
    }
    super::blame::print_rows(ctx.format, &rows)
}

/// `--applied`: each audit-log step of the selected revisions, with who wrote them.
fn print_applied(ctx: &Context, rows: &[BlameEntry], keep_unknown: bool) -> CmdResult {
    let url = super::database::database_url(ctx)?;
    let steps = super::database::runtime()?.block_on(async {
        match super::database::connect(ctx, &url, false, migrate::db::DEFAULT_LOCK_TIMEOUT).await? {
            Some(mut conn) => {
                let steps = conn.read_log().await.map_err(Failure::from);
                conn.close().await;
                steps
            }
            None => Ok(Vec::new()),
        }
    })?;
    let joined = migrate::git::join_applied(rows, &steps, &url.to_string(), keep_unknown);
    match ctx.format {
        Format::Github => Err(Failure::usage(
            "`audit` prints text, json or csv, not github",
        )),
        Format::Json => print_json(&joined),
        Format::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            for row in &joined {
                w.serialize(row)
                    .map_err(|e| Failure::new(format!("can't write CSV: {e}")))?;
            }
            let bytes = w
                .into_inner()
                .map_err(|e| Failure::new(format!("can't write CSV: {e}")))?;
            write_stdout(&String::from_utf8_lossy(&bytes))
        }
        Format::Text => {
            let mut text = String::new();
            for r in &joined {
                let outcome = match r.success {
                    Some(true) => "ok",
                    Some(false) => "FAILED",
                    None => "unfinished",
                };
                let author = r.author_name.as_deref().unwrap_or("author unknown");
                let from = r
                    .applied_from_commit
                    .as_deref()
                    .map_or("no commit".to_owned(), |c| c.chars().take(10).collect());
                let note = if r.on_main_line {
                    ""
                } else {
                    "  [not committed on this branch]"
                };
                text.push_str(&format!(
                    "{}  {:<9} {:<10} {}  by {} from {}  (written by {}){}\n",
                    r.applied_at,
                    r.direction,
                    outcome,
                    r.revision,
                    r.applied_by,
                    from,
                    author,
                    note
                ));
            }
            if joined.is_empty() {
                eprintln!("no audit-log entries in {url}");
            }
            write_stdout(&text)
        }
    }
}
