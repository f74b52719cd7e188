//! `migrate blame`: who added each revision's file, newest first.

use migrate::core::{Ix, Resolver};
use migrate::git::{BlameEntry, FileStatus};

use super::authorship;
use super::context::Context;
use super::output::{print_json, write_stdout, CmdResult, Failure, Format};

#[derive(Debug, clap::Args)]
pub struct BlameArgs {
    /// Revisions to show (ids, prefixes, `heads`, `label@head`...; default: all).
    #[arg(value_name = "REV", id = "rev")]
    pub revisions: Vec<String>,
    #[command(flatten)]
    pub out: super::output::FormatArg<super::output::TextJsonCsv>,
}

pub fn run(ctx: &Context, args: BlameArgs) -> CmdResult {
    let (graph, authorship) = authorship::load_with_graph(ctx)?;
    let selected: Vec<Ix> = if args.revisions.is_empty() {
        (0..graph.len() as Ix).collect()
    } else {
        let resolver = Resolver::new(&graph);
        let mut out = Vec::new();
        for input in &args.revisions {
            for ix in resolver
                .revisions(input)
                .map_err(|e| super::resolve_failure(e.into()))?
            {
                if !out.contains(&ix) {
                    out.push(ix);
                }
            }
        }
        out
    };
    let rows = BlameEntry::for_revisions(&graph, &selected, &authorship);
    print_rows(ctx.format, &rows)
}

/// Prints blame rows as text, JSON or CSV (shared with `audit`).
pub fn print_rows(format: Format, rows: &[BlameEntry]) -> CmdResult {
    match format {
        Format::Json => print_json(rows),
        Format::Csv => write_stdout(&csv_text(rows)?),
        Format::Text => write_stdout(&text(rows)),
        Format::Github => Err(Failure::usage(
            "this command prints text, json or csv, not github",
        )),
    }
}

/// The CSV form: a header with the JSON keys, then one record per row.
pub fn csv_text(rows: &[BlameEntry]) -> Result<String, Failure> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in rows {
        w.serialize(row)
            .map_err(|e| Failure::new(format!("can't write CSV: {e}")))?;
    }
    if rows.is_empty() {
        w.write_record(HEADER)
            .map_err(|e| Failure::new(format!("can't write CSV: {e}")))?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| Failure::new(format!("can't write CSV: {e}")))?;
    String::from_utf8(bytes).map_err(|e| Failure::new(format!("can't write CSV: {e}")))
}

const HEADER: [&str; 11] = [
    "revision",
    "path",
    "author_name",
    "author_email",
    "authored_at",
    "commit",
    "summary",
    "last_commit",
    "last_author_name",
    "last_authored_at",
    "status",
];

/// Aligned columns: id, message, author, date, commit (or why there is none).
fn text(rows: &[BlameEntry]) -> String {
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|r| {
            let date = r
                .authored_at
                .as_deref()
                .and_then(|d| d.get(..10))
                .unwrap_or("-")
                .to_owned();
            let mut commit = match (&r.commit, r.status) {
                (Some(c), _) => c.get(..12).unwrap_or(c).to_owned(),
                (None, FileStatus::Unknown) => "unknown (no git repository)".to_owned(),
                (None, _) => "uncommitted".to_owned(),
            };
            if r.status == FileStatus::Modified {
                commit.push_str(" (modified)");
            }
            if r.history_incomplete {
                commit.push_str(" (shallow clone: may be older)");
            }
            [
                r.revision.clone(),
                r.message.lines().next().unwrap_or("").to_owned(),
                r.author_display(),
                date,
                commit,
            ]
        })
        .collect();
    let mut widths = [0usize; 4];
    for c in &cells {
        for (w, cell) in widths.iter_mut().zip(c.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for c in &cells {
        for (i, cell) in c.iter().enumerate() {
            if i < 4 {
                let pad = widths[i] - cell.chars().count();
                out.push_str(cell);
                out.push_str(&" ".repeat(pad + 2));
            } else {
                out.push_str(cell);
            }
        }
        out.push('\n');
    }
    out
}
