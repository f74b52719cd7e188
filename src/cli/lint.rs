//! `migrate lint`: dangerous DDL in the revisions, per backend; exit 1 on an error.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use migrate::core::{plan, Body, Dialect, Ix, Revision, RevisionGraph, Sql};
use migrate::git::RefOptions;
use migrate::lint::engine::{location, Outcome};
use migrate::lint::source::{config_allow, file_info, unknown_ids, FileInfo, SqlLines};
use migrate::lint::{lint_revisions, Finding, LintInput, LintRevision, Options, Severity};
use serde::Serialize;

use super::annotations::{github_annotation, AnnotationLevel};
use super::context::{relative_to, Context};
use super::history::RangeArg;
use super::output::{print_json, write_stdout, CmdResult, Failure, Format, EXIT_PROBLEM};

#[derive(Debug, clap::Args)]
pub struct LintArgs {
    #[command(flatten)]
    pub range: RangeArg,
    /// Lint only the revisions this branch adds or changes compared with git REF (what a
    /// pull request should see), e.g. `--base origin/main`.
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
    /// Lint SQL shared by every backend as this dialect (repeatable; default: the
    /// config's `lint.dialects`, else the configured database's, else all three).
    #[arg(long, value_name = "DIALECT", value_parser = super::output::dialect_values())]
    pub dialect: Vec<String>,
    #[command(flatten)]
    pub out: super::output::FormatArg<super::output::AnyFormat>,
    #[command(flatten)]
    pub db: super::output::DatabaseArg,
}

#[derive(Serialize)]
struct LintJson<'a> {
    ok: bool,
    errors: usize,
    warnings: usize,
    revisions_linted: usize,
    /// Alembic (Python) revisions in the selection, which are not linted.
    not_linted: &'a [String],
    /// Alembic revisions, of which only the literal `op.execute()` SQL was read.
    op_execute_only: &'a [String],
    findings: &'a [Finding],
}

pub fn run(ctx: &Context, args: LintArgs) -> CmdResult {
    let graph = ctx.load_graph()?;
    let mut selected = selection(&graph, &args)?;
    if let Some(base) = &args.base {
        narrow_to_changed(ctx, &graph, base, &mut selected)?;
    }
    let mut errors = Vec::new();
    let options = Options {
        shared_dialects: shared_dialects(ctx, &args)?,
        project_allow: project_allow(ctx, &mut errors),
    };
    let order = upgrade_order(&graph)?;
    // Alembic revisions are read for the literal SQL they pass to op.execute().
    let converted: Vec<Option<Revision>> = order
        .iter()
        .map(|&ix| alembic_as_sql(graph.revision(ix)))
        .collect();
    let mut alembic = Vec::new();
    let mut revisions = Vec::with_capacity(order.len());
    for (&ix, conv) in order.iter().zip(&converted) {
        let sel = selected[ix as usize];
        let (revision, file) = match conv {
            Some(rev) => {
                if sel {
                    alembic.push(rev.id.to_string());
                }
                (rev, Some(alembic_info()))
            }
            None => {
                let revision = graph.revision(ix);
                let file = match (&revision.origin.path, revision.body) {
                    (Some(path), Body::Sql) => read_info(path, sel, &mut errors),
                    _ => None,
                };
                (revision, file)
            }
        };
        revisions.push(LintRevision {
            revision,
            selected: sel,
            file,
        });
    }
    let outcome = lint_revisions(&LintInput { revisions, options });
    errors.extend(outcome.errors.iter().cloned());
    if !errors.is_empty() {
        for e in &errors {
            eprintln!("error: {e}");
        }
        eprintln!("hint: `docs/lint.md` lists the rule ids");
        return Ok(ExitCode::from(EXIT_PROBLEM));
    }
    report(ctx, &outcome, &alembic)
}

/// Which revisions `-r` selects (all without it).
fn selection(graph: &RevisionGraph, args: &LintArgs) -> Result<Vec<bool>, Failure> {
    let mut selected = vec![args.range.range.is_none(); graph.len()];
    if args.range.range.is_some() {
        for ix in args.range.revisions(graph)? {
            selected[ix as usize] = true;
        }
    }
    Ok(selected)
}

/// Every revision in upgrade order (base to heads), as `upgrade heads` would run them.
fn upgrade_order(graph: &RevisionGraph) -> Result<Vec<Ix>, Failure> {
    if graph.is_empty() {
        return Ok(Vec::new());
    }
    let plan = plan::upgrade(graph, &[], "heads").map_err(super::resolve_failure)?;
    Ok(plan.steps.iter().filter_map(|s| s.revision).collect())
}

/// The lines and allow list of one revision file; an unreadable file only loses lines.
fn read_info(path: &Path, selected: bool, errors: &mut Vec<String>) -> Option<FileInfo> {
    if !selected {
        return None;
    }
    let text =
        migrate::files::load::read_bounded(path, migrate::files::load::MAX_FILE_BYTES).ok()?;
    match file_info(&text) {
        Ok(info) => {
            errors.extend(unknown_ids(path, &info.allow));
            Some(info)
        }
        Err(e) => {
            errors.push(format!("{}: {}", path.display(), e));
            None
        }
    }
}

/// An Alembic revision as lint reads it: the literal SQL strings its `upgrade()` passes
/// to `op.execute()`, each placed on the file line its string starts on (so a finding's
/// script line is the file line). `None` for a SQL revision or an unreadable module.
fn alembic_as_sql(rev: &Revision) -> Option<Revision> {
    if rev.body != Body::Python {
        return None;
    }
    let path = rev.origin.path.as_ref()?;
    let text =
        migrate::files::load::read_bounded(path, migrate::files::load::MAX_FILE_BYTES).ok()?;
    let strings = migrate::files::alembic::python::execute_strings(&text, "upgrade").ok()?;
    let mut script = String::new();
    let mut line = 1u32;
    for (at, sql) in strings {
        while line < at {
            script.push('\n');
            line += 1;
        }
        script.push_str(&sql);
        line += sql.matches('\n').count() as u32;
        script.push_str(";\n");
        line += 1;
    }
    let mut out = rev.clone();
    out.body = Body::Sql;
    out.upgrade = Some(Sql::All(script));
    // What a downgrade does beyond op.execute() is unknown: no empty-downgrade guess.
    out.downgrade = None;
    Some(out)
}

/// Lines of an Alembic revision read by [`alembic_as_sql`]: script line = file line.
fn alembic_info() -> FileInfo {
    FileInfo {
        allow: Vec::new(),
        upgrade: SqlLines {
            key: None,
            all: Some(1),
            per: Default::default(),
        },
        downgrade: SqlLines::default(),
    }
}

/// The project's `lint.allow`, checked against the catalogue.
fn project_allow(ctx: &Context, errors: &mut Vec<String>) -> BTreeSet<String> {
    let Some(lint) = &ctx.config.settings.lint else {
        return BTreeSet::new();
    };
    let path = ctx
        .config
        .path
        .clone()
        .unwrap_or_else(|| PathBuf::from("migrate.yaml"));
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let listed = config_allow(&text, &lint.allow);
    errors.extend(unknown_ids(&relative_to(&path, &ctx.cwd), &listed));
    lint.allow.iter().cloned().collect()
}

/// The dialects SQL written for every backend is linted as: `--dialect`, the config's
/// `lint.dialects`, the configured database's dialect, else all three.
fn shared_dialects(ctx: &Context, args: &LintArgs) -> Result<Vec<Dialect>, Failure> {
    let parse = |names: &[String], from: &str| -> Result<Vec<Dialect>, Failure> {
        let mut out = Vec::new();
        for n in names {
            let d = Dialect::parse(n).ok_or_else(|| {
                Failure::usage(format!(
                    "unknown dialect '{}' in {from}; use sqlite, postgres or mysql",
                    migrate::files::load::excerpt(n)
                ))
            })?;
            if !out.contains(&d) {
                out.push(d);
            }
        }
        Ok(out)
    };
    if !args.dialect.is_empty() {
        return parse(&args.dialect, "--dialect");
    }
    if let Some(lint) = &ctx.config.settings.lint {
        if !lint.dialects.is_empty() {
            return parse(&lint.dialects, "lint.dialects");
        }
    }
    let configured = ctx.database_url.is_some()
        || std::env::var("DATABASE_URL").is_ok_and(|v| !v.is_empty())
        || ctx.config.settings.database_url.is_some()
        || ctx
            .config
            .alembic
            .as_ref()
            .is_some_and(|a| a.sqlalchemy_url.is_some());
    if configured {
        if let Ok(url) = super::database::database_url(ctx) {
            return Ok(vec![url.dialect()]);
        }
    }
    Ok(Dialect::ALL.to_vec())
}

/// Keeps selected only the revisions whose file differs from `base`'s (added or changed
/// on this branch): the revision files at the ref are read from git objects
/// ([`migrate::git::GitRepo::revisions_at`]) and matched by path, a file counting as
/// changed when its working-tree blob differs or the ref has none there.
fn narrow_to_changed(
    ctx: &Context,
    graph: &RevisionGraph,
    base: &str,
    selected: &mut [bool],
) -> Result<(), Failure> {
    let repo = super::premerge::repo(ctx)?;
    let at_base = repo
        .revisions_at(base, &ctx.source, RefOptions::default())
        .map_err(|e| Failure::new(e.to_string()))?;
    for (ix, sel) in selected.iter_mut().enumerate() {
        if !*sel {
            continue;
        }
        let Some(path) = graph.revision(ix as Ix).origin.path.as_ref() else {
            continue;
        };
        let unchanged = at_base.file(path).is_some_and(|f| {
            repo.worktree_blob(&ctx.cwd.join(path)).as_deref() == Some(f.blob.as_str())
        });
        *sel = !unchanged;
    }
    Ok(())
}

fn report(ctx: &Context, outcome: &Outcome, alembic: &[String]) -> CmdResult {
    let findings = &outcome.findings;
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings.len() - errors;
    if !outcome.python_revisions.is_empty() {
        eprintln!(
            "note: {} Alembic (Python) revision{} not linted: lint reads SQL revisions only",
            outcome.python_revisions.len(),
            if outcome.python_revisions.len() == 1 {
                " is"
            } else {
                "s are"
            }
        );
    }
    if !alembic.is_empty() {
        eprintln!(
            "note: {} Alembic (Python) revision{}: only the literal SQL passed to op.execute() is linted",
            alembic.len(),
            if alembic.len() == 1 { "" } else { "s" }
        );
    }
    let code = if errors > 0 {
        ExitCode::from(EXIT_PROBLEM)
    } else {
        ExitCode::SUCCESS
    };
    match ctx.format {
        Format::Json => {
            print_json(&LintJson {
                ok: errors == 0,
                errors,
                warnings,
                revisions_linted: outcome.linted,
                not_linted: &outcome.python_revisions,
                op_execute_only: alembic,
                findings,
            })?;
        }
        Format::Github => {
            let mut text = String::new();
            if !alembic.is_empty() {
                let message = format!(
                    "{} Alembic (Python) revisions: only the literal SQL passed to op.execute() is linted",
                    alembic.len()
                );
                text.push_str(&github_annotation(
                    AnnotationLevel::Notice,
                    None,
                    None,
                    "migrate lint",
                    &message,
                ));
                text.push('\n');
            }
            for f in findings {
                let level = match f.severity {
                    Severity::Error => AnnotationLevel::Error,
                    Severity::Warning => AnnotationLevel::Warning,
                };
                let file = f.path.as_ref().map(|p| p.display().to_string());
                let message = format!("{}\nFix: {}", f.why, f.fix);
                let title = format!("{} ({})", f.rule, f.dialect);
                text.push_str(&github_annotation(
                    level,
                    file.as_deref(),
                    f.line,
                    &title,
                    &message,
                ));
                text.push('\n');
            }
            write_stdout(&text)?;
        }
        Format::Text => {
            let mut text = String::new();
            for f in findings {
                let at = location(f.path.as_ref(), f.line);
                let at = if at.is_empty() {
                    format!("revision {}", f.revision)
                } else {
                    at
                };
                text.push_str(&format!(
                    "{at}: {}[{}] ({}, revision {})\n",
                    f.severity.name(),
                    ctx.paint.id(f.rule),
                    f.dialect,
                    f.revision
                ));
                if let Some(st) = &f.statement {
                    text.push_str(&format!("  statement: {st}\n"));
                }
                text.push_str(&format!("  why: {}\n  fix: {}\n", f.why, f.fix));
            }
            write_stdout(&text)?;
            eprintln!(
                "{} error{}, {} warning{} in {} revision{}",
                errors,
                if errors == 1 { "" } else { "s" },
                warnings,
                if warnings == 1 { "" } else { "s" },
                outcome.linted,
                if outcome.linted == 1 { "" } else { "s" }
            );
        }
        Format::Csv => {
            return Err(Failure::usage(
                "`lint` prints text, json or github, not csv",
            ))
        }
    }
    Ok(code)
}
