//! Loading a revisions directory: find the files, parse them in parallel, build the graph.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

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

/// Revision files under `dir`, in load order: in each directory, files by name, then
/// subdirectories by name. Hidden entries (starting with `.`) are skipped.
pub fn revision_paths(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
    if !dir.is_dir() {
        return Err(LoadError::Missing(dir.to_path_buf()));
    }
    let walker = walkdir::WalkDir::new(dir)
        .sort_by(|a, b| {
            let a_dir = a.file_type().is_dir();
            let b_dir = b.file_type().is_dir();
            a_dir
                .cmp(&b_dir)
                .then_with(|| a.file_name().cmp(b.file_name()))
        })
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    let mut paths = Vec::new();
    for entry in walker {
        let entry = entry.map_err(|e| LoadError::Unreadable {
            path: e.path().unwrap_or(dir).to_path_buf(),
            source: e.into(),
        })?;
        if entry.file_type().is_file() {
            let name = entry.file_name().to_string_lossy();
            if name.ends_with(".yaml") || name.ends_with(".yml") {
                paths.push(entry.into_path());
            }
        }
    }
    Ok(paths)
}

/// Reads and parses every revision file under `dir`. Files that fail are reported as
/// problems; the others are returned in load order.
pub fn load_revisions(dir: &Path) -> Result<(Vec<Revision>, Vec<Problem>), LoadError> {
    let paths = revision_paths(dir)?;
    let results: Vec<Result<Revision, Problem>> = paths.par_iter().map(|p| load_file(p)).collect();
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
