//! `migrate check`: validates the whole graph, listing every problem; exit 1 if any.

use migrate::core::{Problem, ProblemKind, RevisionGraph};
use migrate::files;
use serde::Serialize;

use migrate::core::Dialect;
use migrate::schema::introspect::IntrospectOptions;
use migrate::schema::model::load_models;
use migrate::schema::{autogen, render_migration, Change};

use super::context::{relative_to, Context};
use super::output::{print_json, text_or_json, write_stdout, CmdResult, Failure, EXIT_PROBLEM};

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

pub fn run(ctx: &Context, args: CheckArgs) -> CmdResult {
    let json = text_or_json(ctx, "check")?;
    let (graph, mut problems) = graph_problems(ctx)?;
    if args.offline && problems.is_empty() {
        if let Some(graph) = &graph {
            return offline_models(ctx, json, graph);
        }
    }
    if let Some(graph) = &graph {
        if let Some(more) = super::database::database_problems(ctx, graph)? {
            problems.extend(more);
        }
    }
    report(ctx, json, graph.as_ref(), &problems)
}

/// `check --offline`: replays the revisions into a scratch SQLite database and
/// compares the schema they build with the models file.
fn offline_models(ctx: &Context, json: bool, graph: &RevisionGraph) -> CmdResult {
    let settings = &ctx.config.settings;
    let path = autogen::models_path(&ctx.config.dir, settings.models.as_deref());
    let path = relative_to(&path, &ctx.cwd);
    let models = load_models(&path).map_err(|e| Failure::new(e.to_string()))?;
    let opts = IntrospectOptions {
        ignore_tables: vec![
            settings
                .version_table
                .clone()
                .unwrap_or_else(|| "migrate_version".into()),
            settings
                .log_table
                .clone()
                .unwrap_or_else(|| "migrate_log".into()),
        ],
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(format!("can't start the async runtime: {e}")))?;
    let built = runtime
        .block_on(autogen::replay_sqlite(graph, &opts))
        .map_err(|e| Failure::new(e.to_string()))?;
    let m = render_migration(Dialect::Sqlite, &built, &models);
    if json {
        print_json(&CheckJson {
            ok: m.is_empty(),
            problems: &[],
            model_differences: Some(&m.changes),
        })?;
    } else if m.is_empty() {
        write_stdout(&format!(
            "OK: {} revision(s); the schema they build matches {}\n",
            graph.len(),
            path.display()
        ))?;
    } else {
        let mut text = format!(
            "{} differs from the schema the revisions build (replayed on SQLite):\n",
            path.display()
        );
        for line in autogen::summary(&m) {
            text.push_str(&format!("  {line}\n"));
        }
        write_stdout(&text)?;
        eprintln!(
            "hint: run `migrate revision --autogenerate -m \"...\"` against a database at head"
        );
        eprintln!("{} difference(s) found", m.changes.len());
    }
    Ok(if m.is_empty() {
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
    if json {
        print_json(&CheckJson {
            ok: problems.is_empty(),
            problems,
            model_differences: None,
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
    Ok(if problems.is_empty() {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::from(EXIT_PROBLEM)
    })
}
