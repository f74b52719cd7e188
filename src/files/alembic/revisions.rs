//! Alembic revision modules (`versions/*.py`) read into the core's [`Revision`].
//!
//! Which files, and in which order, follow Alembic's `ScriptDirectory`: every `*.py`
//! whose name starts with neither `.#` nor `__init__`, sorted by name within each
//! version location, locations in configured order, subdirectories (sorted, depth
//! first) only when `recursive_version_locations` is on, never `__pycache__`, absent
//! locations skipped. Load order decides Alembic's tie-breaks, so it must match.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime, Utc};
use rayon::prelude::*;

use super::python::{self, Expr, ModuleFacts, Spanned};
use crate::core::{Body, Origin, Problem, ProblemKind, Revision, RevisionId};
use crate::files::load::{read_bounded, MAX_FILE_BYTES};
use crate::files::walk::{self, Listing, Rules};

/// Where an Alembic project keeps its revisions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionLocations {
    /// In configured order; absent ones are skipped.
    pub dirs: Vec<PathBuf>,
    /// `recursive_version_locations = true`.
    pub recursive: bool,
}

/// Alembic's rule for a revision module's name: `*.py`, not `__init__*`, not an
/// editor's `.#*` lock file.
fn is_module_name(name: &[u8]) -> bool {
    name.ends_with(b".py") && !name.starts_with(b".#") && !name.starts_with(b"__init__")
}

/// The walk rules of Alembic's version locations (see [`crate::files::walk`]).
pub(crate) fn rules(recursive: bool) -> Rules {
    Rules {
        is_revision: is_module_name,
        skip: |name, is_dir| is_dir && name == b"__pycache__",
        recursive,
    }
}

/// Revision files under `locations`, in Alembic's load order, each with a name unique
/// across locations (`<location index>:<path in the location>`), and the entries
/// refused (see [`crate::files::walk`]).
pub fn revision_files(locations: &VersionLocations, keys: bool) -> Listing {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for (i, dir) in locations.dirs.iter().enumerate() {
        if !dir.is_dir() {
            continue;
        }
        match walk::list(dir, rules(locations.recursive), keys) {
            Ok((f, p)) => {
                files.extend(f.into_iter().map(|mut l| {
                    l.name = format!("{i}:{}", l.name);
                    l
                }));
                problems.extend(p);
            }
            Err(e) => problems.push(
                Problem::new(ProblemKind::InvalidFile, e.to_string()).at(Some(dir.clone()), None),
            ),
        }
    }
    (files, problems)
}

/// What reading the revision modules gave: revisions in load order, the files that
/// could not be read, and warnings (a `Revises:` line that disagrees).
#[derive(Debug, Default)]
pub struct ReadModules {
    pub revisions: Vec<Revision>,
    pub problems: Vec<Problem>,
    pub warnings: Vec<Problem>,
}

/// One module read: its revision, a possible `Revises:` warning, and whether a value
/// came from another module (then the file alone does not decide the result).
#[derive(Debug)]
pub struct Module {
    pub revision: Revision,
    pub warning: Option<Problem>,
    pub uses_imports: bool,
}

/// One module read, or every problem in it.
pub type ModuleResult = Result<Module, Vec<Problem>>;

/// Reads every revision module under `locations`, in parallel, without a cache.
pub fn read_revisions(locations: &VersionLocations) -> ReadModules {
    let (files, listing) = revision_files(locations, false);
    let results: Vec<ModuleResult> = files.par_iter().map(|f| read_file(&f.path)).collect();
    let mut out = ReadModules {
        problems: listing,
        ..ReadModules::default()
    };
    for r in results {
        match r {
            Ok(m) => {
                out.revisions.push(m.revision);
                out.warnings.extend(m.warning);
            }
            Err(problems) => out.problems.extend(problems),
        }
    }
    out
}

fn invalid(path: &Path, line: Option<u32>, message: String) -> Problem {
    Problem::new(
        ProblemKind::InvalidFile,
        crate::files::load::bounded(&message),
    )
    .at(Some(path.to_path_buf()), line)
}

/// Reads one revision module; every problem in it is reported at once.
pub fn read_file(path: &Path) -> ModuleResult {
    let source = read_bounded(path, MAX_FILE_BYTES).map_err(|e| vec![invalid(path, None, e)])?;
    parse_module(path, &source)
}

/// Parses one module's text; `path` names it in messages and anchors import lookups.
pub fn parse_module(path: &Path, source: &str) -> ModuleResult {
    let source = source.strip_prefix('\u{feff}').unwrap_or(source);
    let facts = python::read_module(source).map_err(|e| {
        vec![invalid(
            path,
            Some(e.line),
            format!("{} (line {}, column {})", e.message, e.line, e.column),
        )]
    })?;
    let mut problems = Vec::new();
    let mut resolver = Resolver::new(path, &facts);

    let revision = match facts.get("revision") {
        None => {
            problems.push(invalid(
                path,
                None,
                "no module-level `revision = '...'` assignment; Alembic can't tell this file's revision id".into(),
            ));
            None
        }
        Some(a) => match resolver.strings(&a.value, "revision") {
            Err(p) => {
                problems.push(p);
                None
            }
            Ok(Some(v)) if v.len() == 1 => match RevisionId::alembic(&v[0]) {
                Ok(id) => Some(id),
                Err(e) => {
                    problems.push(invalid(path, Some(a.line), e));
                    None
                }
            },
            Ok(_) => {
                problems.push(invalid(
                    path,
                    Some(a.line),
                    format!("revision must be one string, not `{}`", a.value.text),
                ));
                None
            }
        },
    };

    let down_revisions = match facts.get("down_revision") {
        None => {
            problems.push(invalid(
                path,
                None,
                "no module-level `down_revision` assignment (use `down_revision = None` for a base); Alembic fails on this file with AttributeError".into(),
            ));
            Vec::new()
        }
        Some(a) => match resolver.strings(&a.value, "down_revision") {
            Err(p) => {
                problems.push(p);
                Vec::new()
            }
            Ok(v) => {
                let mut ids = Vec::new();
                for d in v.unwrap_or_default() {
                    if d.is_empty() {
                        problems.push(invalid(
                            path,
                            Some(a.line),
                            "down_revision '' is an empty string (Alembic fails with KeyError: ''); use None for a base".into(),
                        ));
                        continue;
                    }
                    match RevisionId::alembic(&d) {
                        Ok(id) => ids.push(id),
                        Err(e) => problems.push(invalid(path, Some(a.line), e)),
                    }
                }
                ids
            }
        },
    };

    let mut optional = |name: &str| -> Vec<String> {
        let Some(a) = facts.get(name) else {
            return Vec::new();
        };
        match resolver.strings(&a.value, name) {
            Err(p) => {
                problems.push(p);
                Vec::new()
            }
            Ok(v) => {
                let v = v.unwrap_or_default();
                if v.iter().any(String::is_empty) {
                    problems.push(invalid(
                        path,
                        Some(a.line),
                        format!("{name} contains an empty string"),
                    ));
                }
                v.into_iter().filter(|s| !s.is_empty()).collect()
            }
        }
    };
    let branch_labels = optional("branch_labels");
    let depends_on = optional("depends_on");

    let Some(id) = revision else {
        return Err(problems);
    };
    if !problems.is_empty() {
        return Err(problems);
    }

    let longdoc = facts
        .docstring
        .as_deref()
        .map(str::trim)
        .unwrap_or("")
        .to_owned();
    let create_date = docstring_field(&longdoc, "Create Date:").and_then(parse_create_date);
    let warning = docstring_field(&longdoc, "Revises:").and_then(|revises| {
        let listed: Vec<&str> = revises
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        let declared: Vec<&str> = down_revisions.iter().map(RevisionId::as_str).collect();
        let mut a = listed.clone();
        let mut b = declared.clone();
        a.sort_unstable();
        b.sort_unstable();
        (a != b).then(|| {
            let shown = if declared.is_empty() {
                "None".to_owned()
            } else {
                declared.join(", ")
            };
            Problem::new(
                ProblemKind::RevisesMismatch,
                format!(
                    "the docstring says `Revises: {}` but down_revision is {shown}; the assignment is what Alembic and migrate use",
                    listed.join(", ")
                ),
            )
            .at(
                Some(path.to_path_buf()),
                facts.get("down_revision").map(|a| a.line),
            )
            .revisions([id.to_string()])
        })
    });

    let line = |name: &str| facts.get(name).map(|a| a.line);
    let rev = Revision {
        id,
        down_revisions,
        depends_on,
        branch_labels,
        message: longdoc,
        create_date,
        transactional: crate::core::Transactional::ALWAYS,
        upgrade: None,
        downgrade: None,
        body: Body::Python,
        origin: Origin {
            path: Some(path.to_path_buf()),
            revision_line: line("revision"),
            down_revision_line: line("down_revision"),
            depends_on_line: line("depends_on"),
            branch_labels_line: line("branch_labels"),
        },
    };
    Ok(Module {
        revision: rev,
        warning,
        uses_imports: resolver.used_imports,
    })
}

/// The rest of the docstring line starting with `key`, if there is one.
fn docstring_field<'a>(doc: &'a str, key: &str) -> Option<&'a str> {
    doc.lines()
        .find_map(|l| l.trim_start().strip_prefix(key))
        .map(str::trim)
}

/// `2024-01-02 03:04:05.123456`, with or without a UTC offset (naive means UTC here).
fn parse_create_date(text: &str) -> Option<DateTime<Utc>> {
    for fmt in ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%:z"] {
        if let Ok(d) = DateTime::parse_from_str(text, fmt) {
            return Some(d.with_timezone(&Utc));
        }
    }
    for fmt in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(d) = NaiveDateTime::parse_from_str(text, fmt) {
            return Some(d.and_utc());
        }
    }
    None
}

/// Turns a value into strings, resolving names imported from modules of the same
/// repository that assign a string literal at top level.
struct Resolver<'a> {
    path: &'a Path,
    facts: &'a ModuleFacts,
    modules: HashMap<String, Option<ModuleFacts>>,
    /// Whether a value was looked up in another module.
    used_imports: bool,
}

impl<'a> Resolver<'a> {
    fn new(path: &'a Path, facts: &'a ModuleFacts) -> Self {
        Self {
            path,
            facts,
            modules: HashMap::new(),
            used_imports: false,
        }
    }

    /// `None` for `None`; the strings of a string, tuple or list otherwise.
    fn strings(&mut self, value: &Spanned, name: &str) -> Result<Option<Vec<String>>, Problem> {
        match &value.expr {
            Expr::None => Ok(None),
            Expr::Seq(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(self.string(item, name)?);
                }
                Ok(Some(out))
            }
            _ => Ok(Some(vec![self.string(value, name)?])),
        }
    }

    fn string(&mut self, value: &Spanned, name: &str) -> Result<String, Problem> {
        let resolved = match &value.expr {
            Expr::Str(s) => Some(s.clone()),
            Expr::Name(n) => self.name(n),
            Expr::Attr(parts) => self.attribute(parts),
            _ => None,
        };
        resolved.ok_or_else(|| {
            invalid(
                self.path,
                Some(value.line),
                format!(
                    "{name} is `{}`, which can't be read without running Python; write a string literal (or a name imported from a module of this repository that assigns one)",
                    value.text
                ),
            )
        })
    }

    /// A bare name: assigned a literal in this module, or imported with `from m import n`.
    fn name(&mut self, name: &str) -> Option<String> {
        if let Some(a) = self.facts.get(name) {
            if let Expr::Str(s) = &a.value.expr {
                return Some(s.clone());
            }
        }
        let import = self.facts.imports.get(name)?.clone();
        let original = import.name?;
        self.literal_in(&import.module, &original)
    }

    /// `mod.NAME` where `mod` is an imported module (or `pkg.mod.NAME`).
    fn attribute(&mut self, parts: &[String]) -> Option<String> {
        let (attr, prefix) = parts.split_last()?;
        let (first, rest) = prefix.split_first()?;
        let import = self.facts.imports.get(first)?.clone();
        let mut module = match import.name {
            Some(n) => format!("{}.{n}", import.module),
            None => import.module,
        };
        for part in rest {
            module.push('.');
            module.push_str(part);
        }
        self.literal_in(&module, attr)
    }

    fn literal_in(&mut self, module: &str, name: &str) -> Option<String> {
        self.used_imports = true;
        if !self.modules.contains_key(module) {
            let facts = find_module(self.path, module)
                .and_then(|p| std::fs::read_to_string(p).ok())
                .and_then(|src| python::read_module(&src).ok());
            self.modules.insert(module.to_owned(), facts);
        }
        let facts = self.modules.get(module)?.as_ref()?;
        match &facts.get(name)?.value.expr {
            Expr::Str(s) => Some(s.clone()),
            _ => None,
        }
    }
}

/// The file of dotted `module`, looked for from the revision file's directory upward
/// (also under `src/`), without leaving the repository (a directory holding `.git`).
fn find_module(from: &Path, module: &str) -> Option<PathBuf> {
    let rel: PathBuf = module.split('.').collect();
    let start = std::path::absolute(from).ok()?;
    for dir in start.ancestors().skip(1) {
        for base in [dir.to_path_buf(), dir.join("src")] {
            let file = base.join(&rel).with_extension("py");
            if file.is_file() {
                return Some(file);
            }
            let init = base.join(&rel).join("__init__.py");
            if init.is_file() {
                return Some(init);
            }
        }
        if dir.join(".git").exists() {
            break;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> ModuleResult {
        parse_module(Path::new("v/x.py"), src)
    }

    #[test]
    fn a_merge_with_labels_and_a_bare_string_dependency() {
        let Module { revision: rev, warning, .. } = parse(
            "\"\"\"merge it\n\nRevision ID: m1\nRevises: b, a\nCreate Date: 2024-01-02 03:04:05.5\n\n\"\"\"\nrevision = 'm1'\ndown_revision = ('a', 'b')\nbranch_labels = ('x-y',)\ndepends_on = 'lbl'\n",
        )
        .unwrap();
        assert_eq!(rev.id.as_str(), "m1");
        assert_eq!(rev.down_revisions.len(), 2);
        assert_eq!(rev.branch_labels, vec!["x-y"]);
        assert_eq!(rev.depends_on, vec!["lbl"]);
        assert_eq!(rev.body, Body::Python);
        assert!(rev.message.starts_with("merge it"));
        assert!(rev.create_date.is_some());
        assert!(warning.is_none(), "same parents in another order");
    }

    #[test]
    fn empty_string_down_revision_is_an_error_with_its_line() {
        let problems = parse("revision = 'a'\ndown_revision = ''\n").unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, Some(2));
        assert!(problems[0].message.contains("KeyError"));
    }

    #[test]
    fn a_call_is_reported_with_its_text() {
        let problems = parse("revision = 'a'\ndown_revision = get(revision)\n").unwrap_err();
        assert!(
            problems[0].message.contains("`get(revision)`"),
            "{problems:?}"
        );
    }

    #[test]
    fn revises_disagreeing_is_a_warning() {
        let warning =
            parse("\"\"\"m\n\nRevises: zz\n\"\"\"\nrevision = 'a'\ndown_revision = 'b'\n")
                .unwrap()
                .warning;
        let w = warning.expect("a warning");
        assert_eq!(w.kind, ProblemKind::RevisesMismatch);
        assert_eq!(w.line, Some(6));
    }
}
