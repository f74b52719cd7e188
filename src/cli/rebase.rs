//! `migrate rebase [REV] --onto TARGET`: re-parents the revisions REV's branch adds onto
//! TARGET, editing only the `down_revision` of the branch's first revision(s) in place,
//! so the graph has one head and no merge revision. Refused (unless `--force`) when a
//! moved revision already ran somewhere or is already shared.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use migrate::core::rebase::{self, RebaseError, RebasePlan, Reparent};
use migrate::core::{Body, Ix, Resolver, RevisionGraph};
use migrate::files::edit;
use migrate::files::load::{read_bounded, MAX_FILE_BYTES};
use migrate::git::GitRepo;
use serde::Serialize;

use super::context::Context;
use super::output::{print_json, write_stdout, CmdResult, Failure};

#[derive(Debug, clap::Args)]
pub struct RebaseArgs {
    /// The head whose branch moves (default: the one head that does not stand on TARGET).
    #[arg(value_name = "REV")]
    pub revision: Option<String>,
    /// The revision the branch goes after (usually the other head).
    #[arg(long, value_name = "TARGET")]
    pub onto: String,
    /// Show the new order and the diff; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Rebase though a refusal says it is unsafe.
    #[arg(long)]
    pub force: bool,
    /// Also refuse to move revisions REF (a branch, tag or commit) already has.
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
    #[command(flatten)]
    pub out: super::output::FormatArg<super::output::TextJson>,
    #[command(flatten)]
    pub db: super::output::DatabaseArg,
}

#[derive(Serialize)]
struct EditJson {
    revision: String,
    path: Option<PathBuf>,
    old_down_revision: Vec<String>,
    new_down_revision: Vec<String>,
}

#[derive(Serialize)]
struct RebaseJson {
    rebased: bool,
    dry_run: bool,
    revision: Option<String>,
    onto: String,
    /// The moved revisions, oldest first.
    moved: Vec<String>,
    edits: Vec<EditJson>,
    refusals: Vec<String>,
    forced: bool,
    message: String,
}

pub fn run(ctx: &Context, args: RebaseArgs) -> CmdResult {
    let json = ctx.text_or_json("rebase")?;
    let graph = match &args.base {
        None => ctx.load_graph()?,
        // The graph the merge will make: the target may be a revision only the base has.
        Some(base) => merged_graph(ctx, base)?.0,
    };
    let resolver = Resolver::new(&graph);
    let target = resolver
        .resolve_one(&args.onto)
        .map_err(|e| super::resolve_failure(e.into()))?
        .ok_or_else(|| Failure::usage("--onto must name a revision, not base"))?;
    let rev = match &args.revision {
        Some(r) => resolver
            .resolve_one(r)
            .map_err(|e| super::resolve_failure(e.into()))?
            .ok_or_else(|| Failure::usage("REV must name a revision, not base"))?,
        None => match default_rev(&graph, target)? {
            Some(r) => r,
            None => {
                let message = if graph.real_heads().len() == 1 {
                    format!(
                        "nothing to rebase: the graph is linear (one head, {})",
                        graph.id(graph.real_heads()[0])
                    )
                } else {
                    format!(
                        "nothing to rebase: every head stands on {}",
                        graph.id(target)
                    )
                };
                return done(json, &args, None, &message);
            }
        },
    };
    let (moved, edits, revisions) = match rebase::plan(&graph, rev, target) {
        Ok(RebasePlan::AlreadyOn) => {
            let linear = graph.real_heads().len() == 1;
            let message = format!(
                "nothing to rebase: {} already stands on {}{}",
                graph.id(rev),
                graph.id(target),
                if linear { " (the graph is linear)" } else { "" }
            );
            return done(json, &args, Some(graph.id(rev)), &message);
        }
        Ok(RebasePlan::Move {
            moved,
            edits,
            revisions,
        }) => (moved, edits, Some(revisions)),
        Err(RebaseError::Invalid { problems }) if args.force => {
            for p in &problems {
                eprintln!("warning: {p}");
            }
            let plan = forced_edits(&graph, rev, target);
            (plan.0, plan.1, None)
        }
        Err(RebaseError::Invalid { problems }) => {
            let mut f = Failure::new(format!(
                "rebase refused: moving {} onto {} would break the graph: {}",
                graph.id(rev),
                graph.id(target),
                problems
                    .iter()
                    .map(|p| p.message.clone())
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
            f = f.hint("a depends_on points across the two branches; use `migrate merge` instead");
            return Err(f);
        }
    };
    let _ = revisions;

    let mut refusals = refusals(ctx, &graph, &moved, args.base.as_deref())?;
    // Rebasing changes the order the two sides run in: fine only if they don't overlap.
    let pair = super::conflicts::pair_reports(ctx, &graph, &[rev, target], false)?;
    for r in &pair {
        if r.verdict != migrate::conflicts::Verdict::Independent {
            let what: Vec<String> = r
                .shared
                .iter()
                .map(|s| format!("{} {}", s.kind, s.object))
                .chain(
                    r.unknown
                        .iter()
                        .map(|u| format!("unreadable {} in {}", u.statement, u.revision)),
                )
                .collect();
            refusals.push(format!(
                "`migrate conflicts` says {} and {} are {} ({}): rebasing changes the order they run in",
                r.heads[0],
                r.heads[1],
                r.verdict.name(),
                what.join(", ")
            ));
        }
    }
    if !refusals.is_empty() && !args.force {
        if json {
            print_json(&report(
                &graph, &args, rev, &moved, &edits, &refusals, false, "refused",
            ))?;
            return Ok(std::process::ExitCode::from(super::output::EXIT_PROBLEM));
        }
        let mut f = Failure::new(format!(
            "rebase refused:\n{}",
            refusals
                .iter()
                .map(|r| format!("  - {r}"))
                .collect::<Vec<_>>()
                .join("\n")
        ));
        f = f
            .hint("rebasing changes the order revisions run in; where they already ran or are shared, write a merge revision instead: `migrate merge`")
            .hint("`--force` rebases anyway");
        return Err(f);
    }
    for r in &refusals {
        eprintln!("warning: forced past: {r}");
    }

    // The new texts, each checked to read back as the same revision with new parents.
    let mut writes: Vec<(PathBuf, String, String)> = Vec::new();
    for e in &edits {
        let r = graph.revision(e.revision);
        let path = r
            .origin
            .path
            .clone()
            .ok_or_else(|| Failure::new(format!("revision {} has no file to edit", r.id)))?;
        let text = read_bounded(&path, MAX_FILE_BYTES)
            .map_err(|m| Failure::new(format!("{}: {m}", path.display())))?;
        let new: Vec<&str> = e.new_down.iter().map(|d| d.as_str()).collect();
        let edited = match r.body {
            Body::Python => edit::set_down_revision_py(&path, &text, &new),
            _ => edit::set_down_revision_yaml(&path, &text, &new),
        }
        .map_err(|e| Failure::new(e.to_string()))?;
        writes.push((path, text, edited));
    }

    let order = order_line(&graph, target, &moved);
    if args.dry_run {
        if json {
            return print_json(&report(
                &graph, &args, rev, &moved, &edits, &refusals, false, &order,
            ));
        }
        let mut text = format!(
            "would rebase {} revision(s) onto {}: {order}\n",
            moved.len(),
            graph.id(target)
        );
        for (path, old, new) in &writes {
            text.push_str(&diff(path, old, new));
        }
        return write_stdout(&text);
    }
    for (path, _, new) in &writes {
        write_in_place(path, new)?;
    }
    let heads = match &args.base {
        None => ctx.load_graph()?.real_heads().len(),
        Some(base) => merged_graph(ctx, base)?.1,
    };
    if json {
        return print_json(&report(
            &graph, &args, rev, &moved, &edits, &refusals, true, &order,
        ));
    }
    let mut text = format!(
        "rebased {} revision(s) onto {}: {order}\n",
        moved.len(),
        graph.id(target)
    );
    for e in &edits {
        let r = graph.revision(e.revision);
        text.push_str(&format!(
            "  {}: down_revision {} -> {}\n",
            r.origin
                .path
                .as_deref()
                .map_or_else(|| r.id.to_string(), |p| p.display().to_string()),
            ids(&e.old_down),
            ids(&e.new_down)
        ));
    }
    write_stdout(&text)?;
    if heads > 1 {
        eprintln!("note: the graph still has {heads} heads (other branches were not moved)");
    } else if let Some(base) = &args.base {
        eprintln!("note: merged with {base}, the graph has one head; `migrate check --base {base}` checks the rest");
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// The graph this side makes merged with `base` (read from git), and its head count.
fn merged_graph(ctx: &Context, base: &str) -> Result<(RevisionGraph, usize), Failure> {
    let repo = super::premerge::repo(ctx)?;
    let mut ours = super::premerge::our_side(ctx, &repo, None)?;
    if !ours.problems.is_empty() {
        return Err(Failure::Problems(ours.problems));
    }
    let pm = super::premerge::check(ctx, &repo, base, &mut ours)?;
    let graph = pm.into_graph()?;
    let heads = graph.real_heads().len();
    Ok((graph, heads))
}

/// The head to move when none is named: the one head that does not stand on `target`.
fn default_rev(graph: &RevisionGraph, target: Ix) -> Result<Option<Ix>, Failure> {
    let below = graph.ancestors(&[target], false);
    let off: Vec<Ix> = graph
        .real_heads()
        .iter()
        .copied()
        .filter(|&h| !below[h as usize])
        .collect();
    match off.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        many => Err(Failure::usage(format!(
            "several heads do not stand on {}: {}; name the one to move",
            graph.id(target),
            many.iter()
                .map(|&h| graph.id(h))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// With `--force` past an invalid result: the same edits, unchecked.
fn forced_edits(graph: &RevisionGraph, rev: Ix, target: Ix) -> (Vec<Ix>, Vec<Reparent>) {
    let below_target = graph.ancestors(&[target], false);
    let below_rev = graph.ancestors(&[rev], false);
    let moved: Vec<Ix> = (0..graph.len() as Ix)
        .filter(|&i| below_rev[i as usize] && !below_target[i as usize])
        .collect();
    let set: HashSet<Ix> = moved.iter().copied().collect();
    let edits = moved
        .iter()
        .filter(|&&m| {
            graph.parents(m).iter().any(|p| !set.contains(p)) || graph.parents(m).is_empty()
        })
        .map(|&m| {
            let mut new_down: Vec<_> = graph
                .parents(m)
                .iter()
                .filter(|p| set.contains(p))
                .map(|&p| graph.revision(p).id.clone())
                .collect();
            new_down.insert(0, graph.revision(target).id.clone());
            Reparent {
                revision: m,
                old_down: graph.revision(m).down_revisions.clone(),
                new_down,
            }
        })
        .collect();
    (moved, edits)
}

/// Why moving `moved` is unsafe: applied in the configured database, or already in a
/// remote-tracking branch or in `base`.
fn refusals(
    ctx: &Context,
    graph: &RevisionGraph,
    moved: &[Ix],
    base: Option<&str>,
) -> Result<Vec<String>, Failure> {
    let mut out = Vec::new();
    match super::database::applied_revisions(ctx, graph) {
        Ok(applied) => {
            for &m in moved {
                if let Some(how) = applied.get(graph.id(m)) {
                    out.push(format!(
                        "revision {} is applied in the database ({how}); moving it changes what ran there",
                        graph.id(m)
                    ));
                }
            }
        }
        Err(note) => eprintln!("note: {note}; not checked whether the moved revisions are applied"),
    }
    let repo = GitRepo::discover(ctx.source.primary_dir());
    match &repo {
        None => {
            eprintln!("note: no git repository: not checked whether the moved revisions are pushed")
        }
        Some(repo) => {
            for &m in moved {
                let r = graph.revision(m);
                let Some(rel) = r.origin.path.as_deref().and_then(|p| repo.relative_path(p)) else {
                    continue;
                };
                let remotes = repo
                    .remote_branches_with(&rel)
                    .map_err(|e| Failure::new(e.to_string()))?;
                if !remotes.is_empty() {
                    out.push(format!(
                        "revision {} is already in remote-tracking branch {} ({rel}): others may have it",
                        r.id,
                        remotes.join(", ")
                    ));
                }
                if let Some(b) = base {
                    if repo
                        .has_file_at(b, &rel)
                        .map_err(|e| Failure::new(e.to_string()))?
                    {
                        out.push(format!("revision {} is already in {b} ({rel})", r.id));
                    }
                }
            }
        }
    }
    if base.is_some() && repo.is_none() {
        return Err(Failure::new("--base needs a git repository"));
    }
    Ok(out)
}

fn ids(v: &[migrate::core::RevisionId]) -> String {
    if v.is_empty() {
        "None".to_owned()
    } else {
        v.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(", ")
    }
}

/// `target -> first -> ... -> last`, the new order of the moved revisions.
fn order_line(graph: &RevisionGraph, target: Ix, moved: &[Ix]) -> String {
    let mut parts = vec![graph.id(target).to_owned()];
    parts.extend(moved.iter().map(|&m| graph.id(m).to_owned()));
    parts.join(" -> ")
}

/// A unified diff of one edited file (the edit changes a few neighbouring lines).
fn diff(path: &Path, old: &str, new: &str) -> String {
    let a: Vec<&str> = old.split_inclusive('\n').collect();
    let b: Vec<&str> = new.split_inclusive('\n').collect();
    let mut out = format!("--- a/{0}\n+++ b/{0}\n", path.display());
    let mut i = 0;
    let mut j = 0;
    // Edits are local and few: walk both texts, printing each run of differing lines.
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            i += 1;
            j += 1;
            continue;
        }
        // The next line both texts share again after this point.
        let mut next = None;
        'find: for di in 0..=(a.len() - i).min(8) {
            for dj in 0..=(b.len() - j).min(8) {
                if i + di < a.len()
                    && j + dj < b.len()
                    && a[i + di] == b[j + dj]
                    && (di > 0 || dj > 0)
                {
                    next = Some((i + di, j + dj));
                    break 'find;
                }
            }
        }
        let (ni, nj) = next.unwrap_or((a.len(), b.len()));
        out.push_str(&format!(
            "@@ -{},{} +{},{} @@\n",
            i + 1,
            ni - i,
            j + 1,
            nj - j
        ));
        for l in &a[i..ni] {
            out.push('-');
            out.push_str(l.trim_end_matches(['\n', '\r']));
            out.push('\n');
        }
        for l in &b[j..nj] {
            out.push('+');
            out.push_str(l.trim_end_matches(['\n', '\r']));
            out.push('\n');
        }
        i = ni;
        j = nj;
    }
    out
}

/// Replaces the file's contents through a temporary file beside it, so a crash never
/// leaves half a revision; the file's permissions are kept.
fn write_in_place(path: &Path, text: &str) -> Result<(), Failure> {
    let fail = |e: std::io::Error| Failure::new(format!("can't write {}: {e}", path.display()));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.migrate-rebase"));
    std::fs::write(&tmp, text).map_err(fail)?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(&tmp, meta.permissions());
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        fail(e)
    })
}

#[allow(clippy::too_many_arguments)]
fn report(
    graph: &RevisionGraph,
    args: &RebaseArgs,
    rev: Ix,
    moved: &[Ix],
    edits: &[Reparent],
    refusals: &[String],
    rebased: bool,
    message: &str,
) -> RebaseJson {
    RebaseJson {
        rebased,
        dry_run: args.dry_run,
        revision: Some(graph.id(rev).to_owned()),
        onto: args.onto.clone(),
        moved: moved.iter().map(|&m| graph.id(m).to_owned()).collect(),
        edits: edits
            .iter()
            .map(|e| EditJson {
                revision: graph.id(e.revision).to_owned(),
                path: graph.revision(e.revision).origin.path.clone(),
                old_down_revision: e.old_down.iter().map(ToString::to_string).collect(),
                new_down_revision: e.new_down.iter().map(ToString::to_string).collect(),
            })
            .collect(),
        refusals: refusals.to_vec(),
        forced: args.force && !refusals.is_empty(),
        message: message.to_owned(),
    }
}

/// Nothing to do: said on stdout (text) or as JSON; exit 0.
fn done(json: bool, args: &RebaseArgs, rev: Option<&str>, message: &str) -> CmdResult {
    if json {
        return print_json(&RebaseJson {
            rebased: false,
            dry_run: args.dry_run,
            revision: rev.map(str::to_owned),
            onto: args.onto.clone(),
            moved: Vec::new(),
            edits: Vec::new(),
            refusals: Vec::new(),
            forced: false,
            message: message.to_owned(),
        });
    }
    write_stdout(&format!("{message}\n"))
}
