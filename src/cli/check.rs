//! `migrate check`: validates the whole graph, listing every problem; exit 1 if any.

use migrate::core::{Problem, ProblemKind, RevisionGraph};
use serde::Serialize;

use migrate::core::Dialect;
use migrate::schema::{autogen, render_migration, Change};

use super::autogen as autogen_cli;
use super::context::Context;
use super::output::{print_json, write_stdout, CmdResult, Failure, Format, EXIT_PROBLEM};
use super::{annotations, premerge};

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Also compare the models file with the schema the revisions build, replaying
    /// them into a scratch SQLite database (no server needed; for CI).
    #[arg(long)]
    pub offline: bool,
    /// Also check the graph this side makes once merged with REF (a branch, tag or
    /// commit, typically origin/main), read from git without a checkout.
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
    /// With --base: this side is REF2, read from git, instead of the working tree.
    #[arg(long, value_name = "REF2", requires = "base")]
    pub head: Option<String>,
    #[command(flatten)]
    pub out: super::output::FormatArg<super::output::TextJsonGithub>,
    #[command(flatten)]
    pub db: super::output::DatabaseArg,
}

#[derive(Serialize)]
struct CheckJson<'a> {
    ok: bool,
    problems: &'a [Problem],
    #[serde(skip_serializing_if = "Option::is_none")]
    model_differences: Option<&'a [Change]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    base: Option<&'a premerge::BaseJson>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    hints: &'a [String],
}

/// Loads the revisions and returns the graph (when it builds) and every problem found,
/// including more than one head.
pub fn graph_problems(ctx: &Context) -> Result<(Option<RevisionGraph>, Vec<Problem>), Failure> {
    let loaded = ctx.source.load()?;
    let mut problems = loaded.problems;
    problems.extend(loaded.warnings);
    Ok(problems_of(loaded.revisions, problems))
}

/// The graph of `revisions` (when it builds) and every problem: `problems` (the files'),
/// the graph's, and more than one head.
fn problems_of(
    revisions: Vec<migrate::core::Revision>,
    mut problems: Vec<Problem>,
) -> (Option<RevisionGraph>, Vec<Problem>) {
    match RevisionGraph::build(revisions) {
        Ok(graph) => with_heads_problem(graph, problems),
        Err(more) => {
            problems.extend(more.0);
            (None, problems)
        }
    }
}

/// `graph` and `problems`, with more than one head added as a problem.
fn with_heads_problem(
    graph: RevisionGraph,
    mut problems: Vec<Problem>,
) -> (Option<RevisionGraph>, Vec<Problem>) {
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
    (Some(graph), problems)
}

/// How the report is printed, and what `--base` adds to it.
struct Out {
    format: Format,
    premerge: Option<premerge::Premerge>,
    /// Repository-relative paths for annotations.
    repo: Option<migrate::git::GitRepo>,
}

impl Out {
    fn json(&self) -> bool {
        self.format == Format::Json
    }

    fn hints(&self) -> &[String] {
        self.premerge.as_ref().map_or(&[], |p| p.hints.as_slice())
    }
}

pub fn run(ctx: &Context, args: CheckArgs) -> CmdResult {
    if ctx.format == Format::Csv {
        return Err(Failure::usage(
            "`check` prints text, json or github, not csv",
        ));
    }
    let mut out = Out {
        format: ctx.format,
        premerge: None,
        repo: None,
    };
    let mut merged_only = false;
    let (graph, mut problems) = match &args.base {
        None => graph_problems(ctx)?,
        Some(base) => {
            let repo = premerge::repo(ctx)?;
            let mut ours = premerge::our_side(ctx, &repo, args.head.as_deref())?;
            let mut pm = premerge::check(ctx, &repo, base, &mut ours)?;
            let mut own = ours.problems;
            own.extend(ours.warnings);
            let (graph, mut problems) = match pm.take_ours() {
                // The base brings no revision: the merged graph is this side's.
                Some(Ok(graph)) => with_heads_problem(graph, own),
                Some(Err(graph_problems)) => {
                    own.extend(graph_problems);
                    (None, own)
                }
                None => problems_of(ours.revisions, own),
            };
            if pm.merged_builds() {
                // A parent only the base has (this branch already rebased onto it) is
                // no problem once the two are merged.
                problems.retain(|p| {
                    !matches!(
                        p.kind,
                        ProblemKind::MissingDownRevision | ProblemKind::MissingDependency
                    )
                });
            }
            let more = pm.problems(&problems);
            problems.extend(more);
            // This side alone may not build (rebased onto a revision only the base has):
            // the summary then counts the merged graph, and no database is compared.
            let graph = match graph {
                Some(g) => Some(g),
                None if pm.merged_builds() => {
                    merged_only = true;
                    pm.merged.take()
                }
                None => None,
            };
            out.premerge = Some(pm);
            out.repo = Some(repo);
            (graph, problems)
        }
    };
    if out.format == Format::Github && out.repo.is_none() {
        out.repo = migrate::git::GitRepo::discover(ctx.source.primary_dir());
    }
    let mut models = None;
    if let Some(graph) = graph
        .as_ref()
        .filter(|_| args.head.is_none() && !merged_only)
    {
        if args.offline {
            // No server: the models (if there are any) against the schema the
            // revisions build.
            if no_errors(&problems) && autogen_cli::models_exist(ctx) {
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
    report_all(ctx, &out, graph.as_ref(), &problems, models.as_ref())
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
            let Some(live) = autogen_cli::read_database(ctx, &models)? else {
                eprintln!(
                    "note: the database does not exist; models not compared (`migrate check --offline` needs no database)"
                );
                return Ok(None);
            };
            autogen_cli::require_at_head(graph, &live.rows)?;
            models.check_for(live.dialect).map_err(Failure::from)?;
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
    out: &Out,
    graph: Option<&RevisionGraph>,
    problems: &[Problem],
    models: Option<&ModelCheck>,
) -> CmdResult {
    let Some(m) = models else {
        return report(ctx, out, graph, problems);
    };
    let ok = no_errors(problems) && m.changes.is_empty();
    if out.json() {
        print_json(&CheckJson {
            ok,
            problems,
            model_differences: Some(&m.changes),
            base: out.premerge.as_ref().map(|p| &p.base),
            hints: out.hints(),
        })?;
    } else if out.format == Format::Github {
        let mut text = annotations_text(out, problems);
        if !m.changes.is_empty() {
            let file = annotation_path(out, &m.path);
            text.push_str(&annotations::github_annotation(
                annotations::AnnotationLevel::Error,
                file.as_deref(),
                None,
                "migrate check: model_differences",
                &format!(
                    "{} differs from {}:\n{}",
                    m.path.display(),
                    m.what,
                    m.summary.join("\n")
                ),
            ));
            text.push('\n');
        }
        write_stdout(&text)?;
    } else if ok {
        write_stdout(&format!(
            "OK: {} revision(s); {} matches {}\n",
            graph.map_or(0, RevisionGraph::len),
            m.what,
            m.path.display()
        ))?;
    } else {
        if !no_errors(problems) {
            report(ctx, out, graph, problems)?;
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
fn report(
    ctx: &Context,
    out: &Out,
    graph: Option<&RevisionGraph>,
    problems: &[Problem],
) -> CmdResult {
    let ok = no_errors(problems);
    if out.json() {
        print_json(&CheckJson {
            ok,
            problems,
            model_differences: None,
            base: out.premerge.as_ref().map(|p| &p.base),
            hints: out.hints(),
        })?;
    } else if out.format == Format::Github {
        write_stdout(&annotations_text(out, problems))?;
        if !ok {
            eprintln!("{} problem(s) found", problems.len());
        }
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
        for h in out.hints() {
            eprintln!("hint: {h}");
        }
        eprintln!("{} problem(s) found", problems.len());
    }
    Ok(if ok {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::from(EXIT_PROBLEM)
    })
}

/// Every problem as a GitHub annotation; the merge's hints go with its problems.
fn annotations_text(out: &Out, problems: &[Problem]) -> String {
    let mut text = String::new();
    let hints: Vec<String> = out.hints().iter().map(|h| format!("hint: {h}")).collect();
    for p in problems {
        let file = p.path.as_deref().and_then(|f| annotation_path(out, f));
        let extra = if is_merge_problem(p.kind) {
            hints.as_slice()
        } else {
            &[]
        };
        text.push_str(&annotations::problem(p, file.as_deref(), extra));
    }
    text
}

/// A path as GitHub names it: relative to the repository root.
fn annotation_path(out: &Out, path: &std::path::Path) -> Option<String> {
    match &out.repo {
        Some(r) => r.relative_path(path),
        None => Some(path.display().to_string()),
    }
}

fn is_merge_problem(kind: ProblemKind) -> bool {
    matches!(
        kind,
        ProblemKind::HeadsAfterMerge
            | ProblemKind::BranchedFromOldHead
            | ProblemKind::EditedSharedRevision
            | ProblemKind::DeletedSharedRevision
    )
}

/// Whether `problems` holds only warnings (then `check` passes).
fn no_errors(problems: &[Problem]) -> bool {
    !problems.iter().any(Problem::is_error)
}
