//! Git authorship as the commands show it: loading it once per command (warnings and
//! the shallow-clone note on stderr) and the lines `heads`, `history`, `check` and
//! `merge` add about who wrote a revision.

use std::collections::HashSet;
use std::path::Path;

use migrate::core::{Ix, Revision, RevisionGraph};
use migrate::files;
use migrate::git::{head_origin, Authorship, FoundRevision, GitRepo, HeadOrigin};

use super::context::Context;
use super::output::Failure;

/// Reads authorship for the revisions directory; problems become warnings on stderr.
pub fn load(ctx: &Context) -> Authorship {
    let authorship = Authorship::load(&ctx.revisions_dir);
    for w in &authorship.warnings {
        eprintln!("{w}");
    }
    if let Some(note) = authorship.shallow_note() {
        eprintln!("note: {note}");
    }
    authorship
}

/// Loads the graph and, on a second thread at the same time, authorship.
pub fn load_with_graph(ctx: &Context) -> Result<(RevisionGraph, Authorship), Failure> {
    let (graph, authorship) = std::thread::scope(|s| {
        let authorship = s.spawn(|| load(ctx));
        let graph = ctx.load_graph();
        (graph, authorship.join())
    });
    let authorship =
        authorship.map_err(|_| Failure::new("reading git authorship failed unexpectedly"))?;
    Ok((graph?, authorship))
}

/// Revisions named by version rows (and their missing ancestors) that have no file in
/// this checkout, read from the local branches of the repository, with where each was
/// found. An id git can't find either is an error naming it.
pub fn revisions_from_git(
    ctx: &Context,
    revisions: &[Revision],
    rows: &[String],
) -> Result<Vec<(Revision, FoundRevision)>, Failure> {
    let mut known: HashSet<String> = revisions.iter().map(|r| r.id.to_string()).collect();
    let mut queue: Vec<String> = rows
        .iter()
        .filter(|r| !known.contains(*r))
        .cloned()
        .collect();
    if queue.is_empty() {
        return Ok(Vec::new());
    }
    let repo = GitRepo::discover(&ctx.revisions_dir).ok_or_else(|| {
        Failure::new(format!(
            "--from-git: no git repository holds {}",
            ctx.revisions_dir.display()
        ))
    })?;
    let mut out = Vec::new();
    while let Some(id) = queue.pop() {
        if !known.insert(id.clone()) {
            continue;
        }
        let found = repo
            .find_revision(&id)
            .map_err(Failure::from)?
            .ok_or_else(|| {
                Failure::new(format!(
                    "revision {id} is applied to the database but no local branch has its file"
                ))
            })?;
        if found.path.ends_with(".py") {
            return Err(Failure::new(format!(
                "revision {id} is an Alembic revision that is not in this checkout; commit {} has it ({})",
                &found.commit[..12],
                found.path
            ))
            .hint(format!(
                "restore it with `git checkout {} -- {}` so Alembic can run its downgrade",
                &found.commit[..12],
                found.path
            )));
        }
        let rev = files::load::parse_revision(Path::new(&found.path), &found.contents)
            .map_err(|p| Failure::new(format!("{p} (read from commit {})", &found.commit[..12])))?;
        for parent in &rev.down_revisions {
            if !known.contains(parent.as_str()) {
                queue.push(parent.to_string());
            }
        }
        out.push((rev, found));
    }
    Ok(out)
}

/// For `current` and `check`: says on stderr which commit and branch still hold each
/// applied revision missing from the checkout, and who wrote it.
pub fn explain_missing<'a>(ctx: &Context, ids: impl Iterator<Item = &'a str>) {
    let Some(repo) = GitRepo::discover(&ctx.revisions_dir) else {
        return;
    };
    let mut any = false;
    for id in ids {
        match repo.find_revision(id) {
            Ok(Some(found)) => {
                any = true;
                eprintln!("note: {}", from_git_line(&found));
            }
            Ok(None) => eprintln!("note: revision {id} is in no local branch of git either"),
            Err(e) => eprintln!("warning: {e}"),
        }
    }
    if any {
        eprintln!(
            "hint: `migrate downgrade <target> --from-git` can run their downgrade SQL from git"
        );
    }
}

/// Where a revision missing from the checkout was found, for stderr.
pub fn from_git_line(found: &FoundRevision) -> String {
    let short = found.commit.get(..12).unwrap_or(&found.commit);
    let by = found
        .added
        .as_ref()
        .map(|c| format!(", added by {} <{}>", c.author_name, c.author_email))
        .unwrap_or_default();
    let branch = if found.branch.is_empty() {
        String::new()
    } else {
        format!(" on branch {}", found.branch)
    };
    format!(
        "revision {} is not in this checkout; git has it in commit {short}{branch} ({}){by}",
        found.revision, found.path
    )
}

/// The origin of each of `revisions` (heads: with the branches holding them).
pub fn origins(
    graph: &RevisionGraph,
    revisions: &[Ix],
    authorship: &Authorship,
    with_branches: bool,
) -> Vec<HeadOrigin> {
    revisions
        .iter()
        .map(|&ix| head_origin(graph, ix, authorship, with_branches))
        .collect()
}

/// A verbose entry (from `entry::verbose`) with an `Author:` line added before the
/// message.
pub fn with_author_line(verbose: String, origin: &HeadOrigin) -> String {
    let line = format!("Author: {}\n", origin.describe());
    match verbose.find("\n\n") {
        Some(at) => format!("{}{line}{}", &verbose[..at + 1], &verbose[at + 1..]),
        None => format!("{verbose}{line}"),
    }
}
