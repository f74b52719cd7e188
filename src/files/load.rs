//! Loading a revisions directory: find the files, parse them in parallel, build the graph.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::cache::{FileKey, ParseCache};
use super::format::RevisionFile;
use crate::core::{Origin, Problem, ProblemKind, Revision, RevisionGraph};

/// The revisions directory itself could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("revisions directory {} does not exist (run `migrate init`, or pass --revisions DIR)", .0.display())]
    Missing(PathBuf),
    #[error("can't read revisions directory {}: {source}", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The models file's name: at the top of the revisions directory it is the declarative
/// schema (see docs/models.md), not a revision.
pub const MODELS_FILE: &str = "models.yaml";

/// Revision files under `dir` in load order, each with its name relative to `dir`: in
/// each directory, files by name, then subdirectories by name. Hidden entries (starting
/// with `.`) and the models file at the top are skipped.
fn revision_files(dir: &Path) -> Result<Vec<(PathBuf, String)>, LoadError> {
    if !dir.is_dir() {
        return Err(LoadError::Missing(dir.to_path_buf()));
    }
    let mut files = Vec::new();
    list_dir(dir, "", &mut files)?;
    files.retain(|(_, name)| name != MODELS_FILE);
    Ok(files)
}

fn list_dir(dir: &Path, prefix: &str, out: &mut Vec<(PathBuf, String)>) -> Result<(), LoadError> {
    let unreadable = |source| LoadError::Unreadable {
        path: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    let mut subdirs = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        let name = entry.file_name();
        let bytes = name.as_encoded_bytes();
        if bytes.starts_with(b".") {
            continue;
        }
        let file_type = entry.file_type().map_err(unreadable)?;
        let file_type = if file_type.is_symlink() {
            std::fs::metadata(entry.path())
                .map_err(unreadable)?
                .file_type()
        } else {
            file_type
        };
        if file_type.is_dir() {
            subdirs.push(name);
        } else if file_type.is_file() && (bytes.ends_with(b".yaml") || bytes.ends_with(b".yml")) {
            files.push(name);
        }
    }
    files.sort_unstable();
    subdirs.sort_unstable();
    out.extend(files.into_iter().map(|f| {
        let name = format!("{prefix}{}", f.to_string_lossy());
        (dir.join(f), name)
    }));
    for sub in subdirs {
        let prefix = format!("{prefix}{}/", sub.to_string_lossy());
        list_dir(&dir.join(sub), &prefix, out)?;
    }
    Ok(())
}

/// Reads and parses every revision file under `dir`. Files that fail are reported as
/// problems; the others are returned in load order. Unchanged files come from the
/// parse cache (see [`super::cache`]).
pub fn load_revisions(dir: &Path) -> Result<(Vec<Revision>, Vec<Problem>), LoadError> {
    let files = revision_files(dir)?;
    let mut cache = ParseCache::open(dir);
    let results: Vec<Result<Revision, Problem>> = if cache.is_enabled() {
        load_with_cache(files, &mut cache)
    } else {
        let paths: Vec<PathBuf> = files.into_iter().map(|(p, _)| p).collect();
        paths.par_iter().map(|p| load_file(p)).collect()
    };
    let mut revisions = Vec::with_capacity(results.len());
    let mut problems = Vec::new();
    for r in results {
        match r {
            Ok(rev) => revisions.push(rev),
            Err(p) => problems.push(p),
        }
    }
    Ok((revisions, problems))
}

fn load_with_cache(
    files: Vec<(PathBuf, String)>,
    cache: &mut ParseCache,
) -> Vec<Result<Revision, Problem>> {
    let (paths, names): (Vec<PathBuf>, Vec<String>) = files.into_iter().unzip();
    let keys: Vec<Option<FileKey>> = paths.par_iter().map(|p| FileKey::of(p)).collect();
    let mut slots: Vec<Option<Result<Revision, Problem>>> = Vec::with_capacity(paths.len());
    let mut misses = Vec::new();
    for (i, path) in paths.iter().enumerate() {
        let hit = keys[i].and_then(|k| cache.take(&names[i], k, path));
        if hit.is_none() {
            misses.push(i);
        }
        slots.push(hit.map(Ok));
    }
    let dirty = !misses.is_empty() || cache.has_leftovers();
    let parsed: Vec<(usize, Result<Revision, Problem>)> = misses
        .par_iter()
        .map(|&i| (i, load_file(&paths[i])))
        .collect();
    for (i, r) in parsed {
        slots[i] = Some(r);
    }
    let results: Vec<Result<Revision, Problem>> = slots.into_iter().flatten().collect();
    if dirty {
        let items: Vec<(String, FileKey, &Revision)> = results
            .iter()
            .enumerate()
            .filter_map(|(i, r)| Some((names[i].clone(), keys[i]?, r.as_ref().ok()?)))
            .collect();
        cache.store(&items);
    }
    results
}

/// Loads `dir` and builds the graph; every file and graph problem is returned together.
pub fn load_graph(dir: &Path) -> Result<Result<RevisionGraph, Vec<Problem>>, LoadError> {
    let (revisions, mut problems) = load_revisions(dir)?;
    match RevisionGraph::build(revisions) {
        Ok(graph) if problems.is_empty() => Ok(Ok(graph)),
        Ok(_) => Ok(Err(problems)),
        Err(graph_problems) => {
            problems.extend(graph_problems.0);
            Ok(Err(problems))
        }
    }
}

fn invalid(path: &Path, line: Option<u32>, message: String) -> Problem {
    Problem::new(ProblemKind::InvalidFile, message).at(Some(path.to_path_buf()), line)
}

/// Parses one file's text; `path` is only used for messages.
pub fn parse_revision(path: &Path, text: &str) -> Result<Revision, Problem> {
    let file: RevisionFile = serde_yaml_ng::from_str(text).map_err(|e| {
        let line = e.location().map(|l| l.line() as u32);
        let mut message = e.to_string();
        if let Some(at) = message.find(" at line ") {
            message.truncate(at);
        }
        invalid(path, line, message)
    })?;
    let (mut rev, _) = file
        .into_revision()
        .map_err(|(message, key)| invalid(path, key_line(text, key), message))?;
    rev.origin = Origin {
        path: Some(path.to_path_buf()),
        revision_line: key_line(text, "revision"),
        down_revision_line: key_line(text, "down_revision"),
        depends_on_line: key_line(text, "depends_on"),
        branch_labels_line: key_line(text, "branch_labels"),
    };
    Ok(rev)
}

fn load_file(path: &Path) -> Result<Revision, Problem> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| invalid(path, None, format!("can't read the file: {e}")))?;
    parse_revision(path, &text)
}

/// The 1-based line where top-level `key:` starts, if it does.
fn key_line(text: &str, key: &str) -> Option<u32> {
    if key.is_empty() {
        return None;
    }
    text.lines()
        .position(|l| {
            l.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
        .map(|i| i as u32 + 1)
}
