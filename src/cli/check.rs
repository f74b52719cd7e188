//! `migrate check`: validates the whole graph, listing every problem; exit 1 if any.

use migrate::core::{Problem, ProblemKind, RevisionGraph};
use migrate::files;
use serde::Serialize;

use super::context::Context;
use super::output::{print_json, text_or_json, write_stdout, CmdResult, Failure, EXIT_PROBLEM};

#[derive(Debug, clap::Args)]
pub struct CheckArgs {}

#[derive(Serialize)]
struct CheckJson<'a> {
    ok: bool,
    problems: &'a [Problem],
}

/// Loads the revisions and returns the graph (when it builds) and every problem found,
/// including more than one head.
pub fn graph_problems(ctx: &Context) -> Result<(Option<RevisionGraph>, Vec<Problem>), Failure> {
    let (revisions, mut problems) = files::load_revisions(&ctx.revisions_dir)?;
    let graph = match RevisionGraph::build(revisions) {
        Ok(graph) => Some(graph),
        Err(more) => {
            problems.extend(more.0);
            None
        }
    };
    if let Some(graph) = &graph {
        let heads = graph.real_heads();
        if heads.len() > 1 {
            let ids: Vec<&str> = heads.iter().map(|&h| graph.id(h)).collect();
            problems.push(
                Problem::new(
                    ProblemKind::MultipleHeads,
                    format!(
                        "more than one head: {}; run `migrate merge` to join them",
                        ids.join(", ")
                    ),
                )
                .revisions(ids),
            );
        }
    }
    Ok((graph, problems))
}

pub fn run(ctx: &Context, _args: CheckArgs) -> CmdResult {
    let json = text_or_json(ctx, "check")?;
    let (graph, mut problems) = graph_problems(ctx)?;
    if let Some(graph) = &graph {
        if let Some(more) = super::database::database_problems(ctx, graph)? {
            problems.extend(more);
        }
    }
    report(ctx, json, graph.as_ref(), &problems)
}

/// Prints the check result (problems are the command's data, so they go to stdout).
pub fn report(
    ctx: &Context,
    json: bool,
    graph: Option<&RevisionGraph>,
    problems: &[Problem],
) -> CmdResult {
    if json {
        print_json(&CheckJson {
            ok: problems.is_empty(),
            problems,
        })?;
    } else if problems.is_empty() {
        let summary = match graph {
            Some(g) => format!(
                "OK: {} revision(s), head {}\n",
                g.len(),
                g.real_heads()
                    .iter()
                    .map(|&h| ctx.paint.id(g.id(h)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => "OK\n".to_owned(),
        };
        write_stdout(&summary)?;
    } else {
        let mut text = String::new();
        for p in problems {
            text.push_str(&format!("{p}\n"));
        }
        write_stdout(&text)?;
        if problems
            .iter()
            .any(|p| p.kind == ProblemKind::MultipleHeads)
        {
            eprintln!("hint: run `migrate merge -m \"merge heads\"` to join the heads");
        }
        eprintln!("{} problem(s) found", problems.len());
    }
    Ok(if problems.is_empty() {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::from(EXIT_PROBLEM)
    })
}
