//! Where a project's revisions come from, one reader per format behind one interface:
//! a YAML revisions directory, or an Alembic project's version locations. Both give
//! the core's [`Revision`]s in load order, through the same parse cache.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::alembic::{self, VersionLocations};
use super::cache::{CacheItem, FileKey, ParseCache};
use super::load::{self, LoadError};
use crate::core::{Problem, Revision, RevisionGraph};

/// The revision files of a project, by format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `migrate`'s own YAML files under one directory.
    Yaml(PathBuf),
    /// An Alembic project's `*.py` modules under its version locations.
    Alembic(VersionLocations),
}

/// Revisions read, in load order, with the files that failed and the warnings.
#[derive(Debug, Default)]
pub struct Loaded {
    pub revisions: Vec<Revision>,
    /// Files that could not be read: each one stops the graph from being built.
    pub problems: Vec<Problem>,
    /// Findings that do not (an Alembic docstring's `Revises:` that disagrees).
    pub warnings: Vec<Problem>,
}

/// One file read: its revision and warning, and whether the file alone decides them
/// (an Alembic value imported from another module does not: never cached).
struct Parsed {
    revision: Revision,
    warning: Option<Problem>,
    cacheable: bool,
}

type ParseResult = Result<Parsed, Vec<Problem>>;

/// A graph and its warnings, or every problem that kept it from being built.
pub type GraphResult = Result<(RevisionGraph, Vec<Problem>), Vec<Problem>>;

impl Source {
    /// The directories holding the revision files (for git and messages).
    pub fn dirs(&self) -> Vec<&Path> {
        match self {
            Source::Yaml(dir) => vec![dir.as_path()],
            Source::Alembic(l) => l.dirs.iter().map(PathBuf::as_path).collect(),
        }
    }

    /// The directory revision files are written to and located in first.
    pub fn primary_dir(&self) -> &Path {
        match self {
            Source::Yaml(dir) => dir,
            Source::Alembic(l) => l.dirs.first().map_or(Path::new("."), PathBuf::as_path),
        }
    }

    pub fn is_alembic(&self) -> bool {
        matches!(self, Source::Alembic(_))
    }

    /// Reads every revision file; unchanged files come from the parse cache.
    pub fn load(&self) -> Result<Loaded, LoadError> {
        match self {
            Source::Yaml(dir) => {
                let (files, listing) = load::revision_files(dir)?;
                let mut cache = ParseCache::open(dir);
                Ok(read_all(files, listing, &mut cache, |p| {
                    load::load_file(p)
                        .map(|revision| Parsed {
                            revision,
                            warning: None,
                            cacheable: true,
                        })
                        .map_err(|e| vec![e])
                }))
            }
            Source::Alembic(locations) => {
                let (files, listing) = alembic::revision_files(locations);
                let mut cache = match locations.dirs.first() {
                    Some(d) if d.is_dir() => ParseCache::open(d),
                    _ => ParseCache::at(None),
                };
                Ok(read_all(files, listing, &mut cache, |p| {
                    alembic::revisions::read_file(p).map(|m| Parsed {
                        revision: m.revision,
                        warning: m.warning,
                        cacheable: !m.uses_imports,
                    })
                }))
            }
        }
    }

    /// Reads every file and builds the graph; every file and graph problem comes back
    /// together. Warnings come with the graph.
    pub fn load_graph(&self) -> Result<GraphResult, LoadError> {
        let Loaded {
            revisions,
            mut problems,
            warnings,
        } = self.load()?;
        match RevisionGraph::build(revisions) {
            Ok(graph) if problems.is_empty() => Ok(Ok((graph, warnings))),
            Ok(_) => Ok(Err(problems)),
            Err(graph_problems) => {
                problems.extend(graph_problems.0);
                Ok(Err(problems))
            }
        }
    }
}

/// Reads `files` in parallel, taking unchanged ones from `cache` and storing the cache
/// again when anything changed.
fn read_all(
    files: Vec<(PathBuf, String)>,
    listing: Vec<Problem>,
    cache: &mut ParseCache,
    parse: impl Fn(&Path) -> ParseResult + Sync,
) -> Loaded {
    let (paths, names): (Vec<PathBuf>, Vec<String>) = files.into_iter().unzip();
    let mut slots: Vec<Option<ParseResult>> = Vec::with_capacity(paths.len());
    let mut keys: Vec<Option<FileKey>> = Vec::new();
    let mut misses = Vec::new();
    if cache.is_enabled() {
        keys = paths.par_iter().map(|p| FileKey::of(p)).collect();
        for (i, path) in paths.iter().enumerate() {
            let hit = keys[i].and_then(|k| cache.take(&names[i], k, path));
            if hit.is_none() {
                misses.push(i);
            }
            slots.push(hit.map(|(revision, warning)| {
                Ok(Parsed {
                    revision,
                    warning,
                    cacheable: true,
                })
            }));
        }
    } else {
        slots.resize_with(paths.len(), || None);
        misses = (0..paths.len()).collect();
    }
    let dirty = !misses.is_empty() || cache.has_leftovers();
    let parsed: Vec<(usize, ParseResult)> =
        misses.par_iter().map(|&i| (i, parse(&paths[i]))).collect();
    for (i, r) in parsed {
        slots[i] = Some(r);
    }
    let results: Vec<ParseResult> = slots.into_iter().flatten().collect();
    if cache.is_enabled() && dirty {
        let items: Vec<CacheItem<'_>> = results
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                let p = r.as_ref().ok().filter(|p| p.cacheable)?;
                Some(CacheItem {
                    name: names[i].clone(),
                    key: keys[i]?,
                    revision: &p.revision,
                    warning: p.warning.as_ref(),
                })
            })
            .collect();
        cache.store(&items);
    }
    let mut out = Loaded {
        problems: listing,
        ..Loaded::default()
    };
    out.revisions.reserve(results.len());
    for r in results {
        match r {
            Ok(p) => {
                out.revisions.push(p.revision);
                out.warnings.extend(p.warning);
            }
            Err(problems) => out.problems.extend(problems),
        }
    }
    out
}
