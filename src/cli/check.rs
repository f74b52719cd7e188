//! `migrate check`: validates the whole graph, listing every problem; exit 1 if any.

use migrate::core::{Problem, ProblemKind, RevisionGraph};
use serde::Serialize;

use migrate::core::Dialect;
use migrate::schema::{autogen, render_migration, Change};

use super::autogen as autogen_cli;
use super::context::Context;
use super::output::{print_json, write_stdout, CmdResult, Failure, EXIT_PROBLEM};

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Also compare the models file with the schema the revisions build, replaying
    /// them into a scratch SQLite database (no server needed; for CI).
    #[arg(long)]
    pub offline: bool,
}

#[derive(Serialize)]
struct CheckJson<'a> {
    ok: bool,
    problems: &'a [Problem],
    #[serde(skip_serializing_if = "Option::is_none")]
    model_differences: Option<&'a [Change]>,
}

/// Loads the revisions and returns the graph (when it builds) and every problem found,
/// including more than one head.
pub fn graph_problems(ctx: &Context) -> Result<(Option<RevisionGraph>, Vec<Problem>), Failure> {
    let loaded = ctx.source.load()?;
    let (revisions, mut problems) = (loaded.revisions, loaded.problems);
    problems.extend(loaded.warnings);
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

pub fn run(ctx: &Context, args: CheckArgs) -> CmdResult {
    let json = ctx.text_or_json("check")?;
    let (graph, mut problems) = graph_problems(ctx)?;
    let mut models = None;
    if let Some(graph) = &graph {
        if args.offline {
            // No server: the models against the schema the revisions build.
            if no_errors(&problems) {
                models = model_check(ctx, graph, Against::Replay)?;
            }
        } else {
            if let Some(more) = super::database::database_problems(ctx, graph)? {
                problems.extend(more);
            }
            if no_errors(&problems) && autogen_cli::models_exist(ctx) {
                models = model_check(ctx, graph, Against::Database)?;
            }
        }
    }
    report_all(ctx, json, graph.as_ref(), &problems, models.as_ref())
}

/// What the models are compared with.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Against {
    /// The revisions replayed into a scratch SQLite database (`--offline`).
    Replay,
    /// The configured database, which must be at head.
    Database,
}

/// The models compared with a schema: what differs, and what was compared.
struct ModelCheck {
    path: std::path::PathBuf,
    what: String,
    changes: Vec<Change>,
    summary: Vec<String>,
}

/// Compares the models file with the schema the revisions build (`--offline`) or with
/// the database at head. `None` when there is no database to compare with.
fn model_check(
    ctx: &Context,
    graph: &RevisionGraph,
    against: Against,
) -> Result<Option<ModelCheck>, Failure> {
    let (path, models) = autogen_cli::models(ctx)?;
    let (dialect, built, what) = match against {
        Against::Replay => {
            let opts = autogen_cli::introspect_options(ctx)?;
            let runtime = super::database::runtime()?;
            let built = runtime
                .block_on(autogen::replay_sqlite(graph, &opts))
                .map_err(Failure::from)?;
            (
                Dialect::Sqlite,
                built,
                "the schema the revisions build (replayed on SQLite)".to_owned(),
            )
        }
        Against::Database => {
            let Some(live) = autogen_cli::read_database(ctx)? else {
                eprintln!(
                    "note: the database does not exist; models not compared (`migrate check --offline` needs no database)"
                );
                return Ok(None);
            };
            autogen_cli::require_at_head(graph, &live.rows)?;
            (
                live.dialect,
                live.schema,
                format!("the {} database at head", live.dialect),
            )
        }
    };
    let m = render_migration(dialect, &built, &models);
    let summary = autogen::summary(&m);
    Ok(Some(ModelCheck {
        path,
        what,
        changes: m.changes,
        summary,
    }))
}

/// Prints problems and model differences together; exit 1 if there is any.
fn report_all(
    ctx: &Context,
    json: bool,
    graph: Option<&RevisionGraph>,
    problems: &[Problem],
    models: Option<&ModelCheck>,
) -> CmdResult {
    let Some(m) = models else {
        return report(ctx, json, graph, problems);
    };
    let ok = no_errors(problems) && m.changes.is_empty();
    if json {
        print_json(&CheckJson {
            ok,
            problems,
            model_differences: Some(&m.changes),
        })?;
    } else if ok {
        write_stdout(&format!(
            "OK: {} revision(s); {} matches {}\n",
            graph.map_or(0, RevisionGraph::len),
            m.what,
            m.path.display()
        ))?;
    } else {
        if !no_errors(problems) {
            report(ctx, false, graph, problems)?;
        }
        if !m.changes.is_empty() {
            let mut text = format!("{} differs from {}:\n", m.path.display(), m.what);
            for line in &m.summary {
                text.push_str(&format!("  {line}\n"));
            }
            write_stdout(&text)?;
            eprintln!(
                "hint: run `migrate revision --autogenerate -m \"...\"` against a database at head"
            );
            eprintln!("{} difference(s) found", m.changes.len());
        }
    }
    Ok(if ok {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::from(EXIT_PROBLEM)
    })
}

/// Prints the check result (problems are the command's data, so they go to stdout).
pub fn report(
    ctx: &Context,
    json: bool,
    graph: Option<&RevisionGraph>,
    problems: &[Problem],
) -> CmdResult {
    let ok = no_errors(problems);
    if json {
        print_json(&CheckJson {
            ok,
            problems,
            model_differences: None,
        })?;
    } else if ok {
        let mut text = String::new();
        for p in problems {
            text.push_str(&format!("{p}\n"));
        }
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
        text.push_str(&summary);
        write_stdout(&text)?;
    } else {
        let mut text = String::new();
        for p in problems {
            text.push_str(&format!("{p}\n"));
        }
        // Whom to ask before merging: each head's author, commit and branches.
        if let Some(g) = graph.filter(|_| {
            problems
                .iter()
                .any(|p| p.kind == ProblemKind::MultipleHeads)
        }) {
            let authorship = super::authorship::load(ctx);
            for o in super::authorship::origins(g, g.real_heads(), &authorship, true) {
                text.push_str(&format!("  head {}: {}\n", o.revision, o.describe()));
            }
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
    Ok(if ok {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::from(EXIT_PROBLEM)
    })
}

/// Whether `problems` holds only warnings (then `check` passes).
fn no_errors(problems: &[Problem]) -> bool {
    !problems.iter().any(Problem::is_error)
}
