//! Where a project's revisions come from, one reader per format behind one interface:
//! a YAML revisions directory, or an Alembic project's version locations. Both give
//! the core's [`Revision`]s in load order, through the same parse cache.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::alembic::{self, VersionLocations};
use super::blob::BlobId;
use super::cache::{CacheItem, FileKey, ParseCache};
use super::load::{self, LoadError};
use super::walk::Listed;
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
    /// Git's blob id of each revision's file, beside `revisions` (`None`: not known).
    pub blobs: Vec<Option<BlobId>>,
}

/// One file read: its revision and warning, and whether the file alone decides them
/// (an Alembic value imported from another module does not: never cached).
struct Parsed {
    revision: Revision,
    warning: Option<Problem>,
    cacheable: bool,
    blob: Option<BlobId>,
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
                let mut cache = ParseCache::open(dir);
                let (files, listing) = load::revision_files(dir, cache.is_enabled())?;
                Ok(read_all(files, listing, &mut cache, |p| {
                    let text = load::read_file(p).map_err(|e| vec![e])?;
                    load::parse_revision(p, &text)
                        .map(|revision| Parsed {
                            revision,
                            warning: None,
                            cacheable: true,
                            blob: Some(BlobId::of(text.as_bytes())),
                        })
                        .map_err(|e| vec![e])
                }))
            }
            Source::Alembic(locations) => {
                let mut cache = match locations.dirs.first() {
                    Some(d) if d.is_dir() => ParseCache::open(d),
                    _ => ParseCache::at(None),
                };
                let (files, listing) = alembic::revision_files(locations, cache.is_enabled());
                Ok(read_all(files, listing, &mut cache, |p| {
                    let text = load::read_file(p).map_err(|e| vec![e])?;
                    alembic::revisions::parse_module(p, &text).map(|m| Parsed {
                        revision: m.revision,
                        warning: m.warning,
                        cacheable: !m.uses_imports,
                        blob: Some(BlobId::of(text.as_bytes())),
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
            ..
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
    files: Vec<Listed>,
    listing: Vec<Problem>,
    cache: &mut ParseCache,
    parse: impl Fn(&Path) -> ParseResult + Sync,
) -> Loaded {
    let mut paths = Vec::with_capacity(files.len());
    let mut names = Vec::with_capacity(files.len());
    let mut keys: Vec<Option<FileKey>> = Vec::with_capacity(files.len());
    for f in files {
        paths.push(f.path);
        names.push(f.name);
        keys.push(f.key);
    }
    let mut slots: Vec<Option<ParseResult>> = Vec::with_capacity(paths.len());
    let mut misses = Vec::new();
    if cache.is_enabled() {
        // Links were not statted by the walk: their targets are.
        let missing: Vec<usize> = (0..paths.len()).filter(|&i| keys[i].is_none()).collect();
        let found: Vec<Option<FileKey>> = missing
            .par_iter()
            .map(|&i| FileKey::of(&paths[i]))
            .collect();
        for (i, k) in missing.into_iter().zip(found) {
            keys[i] = k;
        }
        for (i, path) in paths.iter().enumerate() {
            let hit = keys[i].and_then(|k| cache.take(&names[i], k, path));
            if hit.is_none() {
                misses.push(i);
            }
            slots.push(hit.map(|h| {
                Ok(Parsed {
                    revision: h.revision,
                    warning: h.warning,
                    cacheable: true,
                    blob: h.blob,
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
                    blob: p.blob,
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
    out.blobs.reserve(results.len());
    for r in results {
        match r {
            Ok(p) => {
                out.revisions.push(p.revision);
                out.blobs.push(p.blob);
                out.warnings.extend(p.warning);
            }
            Err(problems) => out.problems.extend(problems),
        }
    }
    out
}
