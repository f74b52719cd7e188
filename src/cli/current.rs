//! `migrate current`: the version rows of the database, with their messages. A row whose
//! revision file is missing is shown and flagged, never hidden behind an error.

use std::process::ExitCode;

use migrate::core::{plan, RevisionGraph};
use migrate::db::Backend;
use migrate::engine;
use serde::Serialize;

use super::context::Context;
use super::database;
use super::output::{print_json, write_stdout, CmdResult, Failure, EXIT_PROBLEM};

#[derive(Debug, clap::Args)]
pub struct CurrentArgs {
    /// Also say which database is shown (password redacted).
    #[arg(short, long)]
    pub verbose: bool,
    /// Exit 1 unless the database is at every head.
    #[arg(short = 'c', long)]
    pub check_heads: bool,
    #[command(flatten)]
    pub out: super::output::FormatArg<super::output::TextJson>,
    #[command(flatten)]
    pub db: super::output::DatabaseArg,
}

#[derive(Serialize)]
struct CurrentRow {
    revision: String,
    message: Option<String>,
    is_head: bool,
    missing_file: bool,
}

pub fn run(ctx: &Context, args: CurrentArgs) -> CmdResult {
    let json = ctx.text_or_json("current")?;
    // A broken revision set must not hide what the database says.
    let graph: Option<RevisionGraph> = match ctx.load_graph() {
        Ok(g) => Some(g),
        Err(_) if !args.check_heads => {
            eprintln!(
                "warning: the revisions don't load (run `migrate check`); showing the rows only"
            );
            None
        }
        Err(e) => return Err(e),
    };
    let url = database::database_url(ctx)?;
    let rt = database::runtime()?;
    let (rows, last) = rt.block_on(async {
        match database::connect(ctx, &url, false, migrate::db::DEFAULT_LOCK_TIMEOUT).await? {
            Some(mut db) => {
                let rows = db.read_versions().await.map_err(Failure::from)?;
                let caps = Backend::capabilities(&db);
                let dialect = Backend::dialect(&db);
                let last = db
                    .last_log()
                    .await
                    .ok()
                    .flatten()
                    .map(|l| (l, caps, dialect));
                db.close().await;
                Ok::<_, Failure>((rows, last))
            }
            None => Ok((Vec::new(), None)),
        }
    })?;
    if let (Some((last, caps, dialect)), Some(g)) = (&last, &graph) {
        if let Some(line) = engine::last_step(last, g, *caps, *dialect).describe() {
            eprintln!("warning: {line}");
        }
    }
    let out: Vec<CurrentRow> = rows
        .iter()
        .map(|r| {
            let ix = graph.as_ref().and_then(|g| g.find(r));
            CurrentRow {
                revision: r.clone(),
                message: match (&graph, ix) {
                    (Some(g), Some(ix)) => Some(g.revision(ix).summary().to_owned()),
                    _ => None,
                },
                is_head: matches!((&graph, ix), (Some(g), Some(ix)) if g.is_head(ix)),
                missing_file: graph.is_some() && ix.is_none(),
            }
        })
        .collect();
    let missing = out.iter().filter(|r| r.missing_file).count();
    if missing > 0 {
        eprintln!(
            "warning: {missing} applied revision(s) have no file in {}",
            ctx.revisions_dir.display()
        );
        super::authorship::explain_missing(
            ctx,
            out.iter()
                .filter(|r| r.missing_file)
                .map(|r| r.revision.as_str()),
        );
    }
    if json {
        print_json(&out)?;
    } else {
        let mut text = String::new();
        if args.verbose {
            text.push_str(&format!("Current revision(s) for {url}:\n"));
        }
        // An Alembic project: Alembic's own lines, for what Alembic calls current.
        let alembic_view = graph
            .as_ref()
            .filter(|_| ctx.source.is_alembic())
            .and_then(|g| {
                let ixs: Option<Vec<_>> = rows.iter().map(|r| g.find(r)).collect();
                Some((g, g.all_current(&ixs?)))
            });
        if let Some((g, shown)) = alembic_view {
            let tree = super::entry::LineParts {
                tree: true,
                ..Default::default()
            };
            for ix in shown {
                if args.verbose {
                    text.push_str(&super::entry::verbose(g, ix, ctx.paint));
                } else {
                    text.push_str(&super::entry::one_line(g, ix, ctx.paint, tree));
                }
                text.push('\n');
            }
            write_stdout(&text)?;
            return check_heads(ctx, args.check_heads, graph, &rows);
        }
        for r in &out {
            let mut line = ctx.paint.id(&r.revision);
            if r.is_head {
                line.push_str(&format!(" {}", ctx.paint.flag("(head)")));
            }
            if r.missing_file {
                line.push_str(&format!(" {}", ctx.paint.flag("(no revision file)")));
            }
            if let Some(m) = &r.message {
                line.push_str(&format!(", {m}"));
            }
            text.push_str(&line);
            text.push('\n');
        }
        write_stdout(&text)?;
    }
    check_heads(ctx, args.check_heads, graph, &rows)
}

/// `--check-heads`: exit 1 unless the database is at every head.
fn check_heads(
    ctx: &Context,
    wanted: bool,
    graph: Option<RevisionGraph>,
    rows: &[String],
) -> CmdResult {
    if wanted {
        let graph = graph.ok_or_else(|| Failure::new("the revisions don't load"))?;
        let applied = database::applied(&graph, rows, ctx).map_err(Failure::new)?;
        let pending = plan::upgrade(&graph, &applied, "heads").map_err(super::resolve_failure)?;
        if !pending.is_empty() {
            eprintln!(
                "error: Database is not on all head revisions ({} revision(s) to apply)",
                pending.steps.len()
            );
            return Ok(ExitCode::from(EXIT_PROBLEM));
        }
    }
    Ok(ExitCode::SUCCESS)
}
