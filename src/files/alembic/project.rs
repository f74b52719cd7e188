//! An Alembic project's settings, read from `alembic.ini` and/or `pyproject.toml` the
//! way Alembic 1.20's `Config` and `ScriptDirectory.from_config` read them.
//!
//! Rules (each checked against Alembic's source and behaviour):
//! - The ini section is `name` (`alembic -n`), default `alembic`; `pyproject.toml` is
//!   always `[tool.alembic]`. A key in the ini section (or its `[DEFAULT]`) wins over
//!   the same key in `[tool.alembic]`. `sqlalchemy.url` and the path separators are
//!   read from the ini only, as Alembic's `get_main_option` does.
//! - Both files are read whichever one is named: Alembic's pyproject templates keep
//!   `sqlalchemy.url` in an `alembic.ini` beside `pyproject.toml`. (Alembic looks for
//!   the other file in the working directory; we look beside the named one.)
//! - ini values are interpolated (`%(here)s` is the file's absolute directory); TOML
//!   strings go through Python's `%` formatting with `here` (so `%%` is `%` there too).
//! - `script_location` and each version location may be a package resource,
//!   `package:path`: read here from the source tree (`<dir>/<package>/` or
//!   `<dir>/src/<package>/`, from the config's directory up to the repository root),
//!   never from an installed environment.
//! - Relative paths are taken from the config file's directory. Alembic takes them
//!   from the working directory, which is the same directory whenever Alembic itself
//!   finds the file (it only looks in the working directory).
//! - `version_locations`: split by `path_separator` (else the deprecated
//!   `version_path_separator`): `os`, `:`, `;`, `space`, `newline`; without either,
//!   Alembic's legacy split at commas and runs of spaces (empty entries included, as
//!   Alembic keeps them), with a deprecation warning. Absent or empty: the TOML list,
//!   else `<script_location>/versions`.
//! - `recursive_version_locations` is on only for exactly `true` in the ini (Alembic
//!   compares the string); in TOML it must be a boolean.
//! - `truncate_slug_length`: an integer, 0 meaning the default 40.
//! - The version table: literal `version_table=` / `version_table_schema=` keywords of
//!   `context.configure(...)` in `<script_location>/env.py`, read statically.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::ini::{excerpt, Ini};
use super::python;
use super::VersionLocations;
use crate::files::ConfigError;

/// Alembic's default `file_template`.
pub const DEFAULT_FILE_TEMPLATE: &str = "%(rev)s_%(slug)s";
/// Alembic's default `truncate_slug_length`.
pub const DEFAULT_TRUNCATE_SLUG_LENGTH: usize = 40;
/// The ini section Alembic reads without `-n`.
pub const DEFAULT_SECTION: &str = "alembic";

/// Where one setting was read: the file and, when known, its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingSource {
    pub path: PathBuf,
    pub line: Option<usize>,
}

/// An Alembic project's settings, resolved to absolute paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlembicSettings {
    /// The `alembic.ini` read, if any.
    pub ini_path: Option<PathBuf>,
    /// The `pyproject.toml` read, if it was named or has a `[tool.alembic]` table.
    pub pyproject_path: Option<PathBuf>,
    /// The ini section (`-n/--name`, default `alembic`).
    pub section: String,
    pub script_location: PathBuf,
    pub version_locations: VersionLocations,
    /// After interpolation: `%(rev)s_%(slug)s` by default.
    pub file_template: String,
    pub timezone: Option<String>,
    pub truncate_slug_length: usize,
    /// As written (a SQLAlchemy URL; see `crate::db::sqlalchemy`). Never print it
    /// unredacted.
    pub sqlalchemy_url: Option<String>,
    pub version_table: Option<String>,
    pub version_table_schema: Option<String>,
    /// Where each setting that was found came from, by Alembic's key name
    /// (`script_location`, `sqlalchemy.url`, `version_table` for env.py...).
    pub sources: BTreeMap<String, SettingSource>,
    /// What Alembic would warn about (deprecated settings), and an env.py that could
    /// not be read.
    pub warnings: Vec<String>,
}

/// `[tool.alembic]` of a `pyproject.toml`, each value with its span.
#[derive(Debug, Clone, Default)]
pub struct ToolAlembic {
    values: BTreeMap<String, toml::Spanned<toml::Value>>,
    /// Byte offset of each line start, to turn spans into lines.
    line_starts: Vec<usize>,
}

#[derive(Deserialize)]
struct PyProject {
    tool: Option<Tool>,
}

#[derive(Deserialize)]
struct Tool {
    alembic: Option<BTreeMap<String, toml::Spanned<toml::Value>>>,
}

/// A `pyproject.toml` problem: the message and its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TomlProblem {
    pub line: Option<usize>,
    pub message: String,
}

fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

fn line_at(starts: &[usize], offset: usize) -> usize {
    starts.partition_point(|&s| s <= offset)
}

/// Reads `[tool.alembic]` out of a `pyproject.toml`; `None` when there is no such
/// table.
pub fn parse_pyproject(text: &str) -> Result<Option<ToolAlembic>, TomlProblem> {
    let starts = line_starts(text);
    let doc: PyProject = toml::from_str(text).map_err(|e| TomlProblem {
        line: e.span().map(|s| line_at(&starts, s.start)),
        message: e.message().trim().to_owned(),
    })?;
    Ok(doc.tool.and_then(|t| t.alembic).map(|values| ToolAlembic {
        values,
        line_starts: starts,
    }))
}

/// Python's `value % {"here": here}`: `%%` is `%`, `%(here)s` the directory.
fn py_format(value: &str, here: &str) -> Result<String, String> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(p) = rest.find('%') {
        out.push_str(&rest[..p]);
        rest = &rest[p..];
        if let Some(after) = rest.strip_prefix("%%") {
            out.push('%');
            rest = after;
        } else if let Some(after) = rest.strip_prefix("%(here)s") {
            out.push_str(here);
            rest = after;
        } else if let Some(inner) = rest.strip_prefix("%(") {
            let name = inner.split(')').next().unwrap_or("");
            return Err(format!(
                "%({})s is not defined (only %(here)s is); write %% for a literal %",
                excerpt(name)
            ));
        } else {
            return Err("a '%' must be followed by '%' or '(here)s'".to_owned());
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// One setting's raw value before resolution, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Found<T> {
    Absent,
    At(T, SettingSource),
}

/// The files being read, parsed; the pure part of [`load`] works on this.
struct Sources<'a> {
    section: &'a str,
    ini: Option<(&'a Path, &'a Ini)>,
    toml: Option<(&'a Path, &'a ToolAlembic)>,
    /// `%(here)s` of each file.
    ini_here: String,
    toml_here: String,
}

fn invalid(path: &Path, line: Option<usize>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        path: path.to_path_buf(),
        line,
        message: crate::files::load::bounded(&message.into()),
    }
}

impl Sources<'_> {
    fn ini_value(&self, key: &str) -> Result<Found<String>, ConfigError> {
        let Some((path, ini)) = self.ini else {
            return Ok(Found::Absent);
        };
        let here = [("here", self.ini_here.as_str())];
        match ini.get(self.section, key, &here) {
            Ok(Some(v)) => Ok(Found::At(
                v.value,
                SettingSource {
                    path: path.to_path_buf(),
                    line: Some(v.line),
                },
            )),
            Ok(None) => Ok(Found::Absent),
            Err(e) => Err(invalid(path, Some(e.line), e.message)),
        }
    }

    fn toml_value(&self, key: &str) -> Option<(&toml::Value, SettingSource)> {
        let (path, tool) = self.toml?;
        let v = tool.values.get(key)?;
        let source = SettingSource {
            path: path.to_path_buf(),
            line: Some(line_at(&tool.line_starts, v.span().start)),
        };
        Some((v.get_ref(), source))
    }

    fn toml_error(&self, source: &SettingSource, key: &str, what: &str) -> ConfigError {
        invalid(
            &source.path,
            source.line,
            format!("'{key}' in [tool.alembic] {what}"),
        )
    }

    fn toml_string(
        &self,
        key: &str,
        value: &str,
        src: &SettingSource,
    ) -> Result<String, ConfigError> {
        py_format(value, &self.toml_here).map_err(|m| self.toml_error(src, key, &m))
    }

    /// A string option: the ini first, then `[tool.alembic]` (a string, or an integer
    /// as Alembic passes integers through).
    fn string(&self, key: &str) -> Result<Found<String>, ConfigError> {
        if let Found::At(v, s) = self.ini_value(key)? {
            return Ok(Found::At(v, s));
        }
        let Some((value, src)) = self.toml_value(key) else {
            return Ok(Found::Absent);
        };
        let text = match value {
            toml::Value::String(s) => self.toml_string(key, s, &src)?,
            toml::Value::Integer(i) => i.to_string(),
            _ => return Err(self.toml_error(&src, key, "must be a string")),
        };
        Ok(Found::At(text, src))
    }

    fn boolean(&self, key: &str) -> Result<Found<bool>, ConfigError> {
        if let Found::At(v, s) = self.ini_value(key)? {
            return Ok(Found::At(v == "true", s));
        }
        match self.toml_value(key) {
            None => Ok(Found::Absent),
            Some((toml::Value::Boolean(b), src)) => Ok(Found::At(*b, src)),
            Some((_, src)) => Err(self.toml_error(&src, key, "must be true or false")),
        }
    }

    /// `version_locations` as written, before path resolution; `warnings` gets the
    /// deprecations Alembic reports.
    fn version_locations(
        &self,
        warnings: &mut Vec<String>,
    ) -> Result<Found<Vec<String>>, ConfigError> {
        if let Found::At(raw, src) = self.ini_value("version_locations")? {
            if !raw.is_empty() {
                let mut sep = None;
                for key in ["path_separator", "version_path_separator"] {
                    if let Found::At(v, s) = self.ini_value(key)? {
                        sep = Some((key, v, s));
                        break;
                    }
                }
                let list = match sep {
                    None => {
                        warnings.push(format!(
                            "{}: no path_separator is set, so version_locations is split at commas and spaces (deprecated in Alembic); add `path_separator = os`",
                            src.path.display()
                        ));
                        legacy_split(&raw)
                    }
                    Some((key, value, s)) => {
                        let Some(ch) = separator(&value) else {
                            return Err(invalid(
                                &s.path,
                                s.line,
                                format!(
                                    "'{}' is not a valid value for {key}; expected 'space', 'newline', 'os', ':' or ';'",
                                    excerpt(&value)
                                ),
                            ));
                        };
                        if key == "version_path_separator" {
                            warnings.push(format!(
                                "{}: version_path_separator is deprecated in Alembic; use path_separator",
                                s.path.display()
                            ));
                        }
                        raw.split(ch)
                            .filter(|x| !x.is_empty())
                            .map(|x| x.trim().to_owned())
                            .collect()
                    }
                };
                return Ok(Found::At(list, src));
            }
        }
        match self.toml_value("version_locations") {
            None => Ok(Found::Absent),
            Some((toml::Value::Array(items), src)) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    let toml::Value::String(s) = item else {
                        return Err(self.toml_error(
                            &src,
                            "version_locations",
                            "must be a list of strings",
                        ));
                    };
                    out.push(self.toml_string("version_locations", s, &src)?);
                }
                Ok(Found::At(out, src))
            }
            Some((_, src)) => {
                Err(self.toml_error(&src, "version_locations", "must be a list of strings"))
            }
        }
    }
}

/// `path_separator` values Alembic accepts.
fn separator(value: &str) -> Option<char> {
    match value {
        "space" => Some(' '),
        "newline" => Some('\n'),
        "os" => Some(if cfg!(windows) { ';' } else { ':' }),
        ":" => Some(':'),
        ";" => Some(';'),
        _ => None,
    }
}

/// Alembic's legacy split: at a comma and the spaces after it, or at a run of spaces.
/// Entries are not trimmed otherwise, and empty ones (`a,,b`) are kept.
fn legacy_split(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ',' || c == ' ' {
            while chars.peek() == Some(&' ') {
                chars.next();
            }
            out.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
    }
    out.push(current);
    out
}

/// A path as Alembic's `coerce_resource_to_filename` reads it: a relative path with a
/// `:` is `package:sub/path`, looked up in the source tree from `dir` upward (stopping
/// at the repository root, the first directory holding `.git`); otherwise a path,
/// relative to `dir`.
pub fn resolve_location(raw: &str, dir: &Path) -> Result<PathBuf, String> {
    if Path::new(raw).is_absolute() || !raw.contains(':') {
        return Ok(if raw.is_empty() {
            dir.to_path_buf()
        } else {
            dir.join(raw)
        });
    }
    let mut tokens = raw.split(':');
    let package = tokens.next().unwrap_or("");
    let valid = |p: &str| {
        !p.is_empty()
            && p.split('.').all(|part| {
                !part.is_empty()
                    && !part.starts_with(|c: char| c.is_ascii_digit())
                    && part.chars().all(|c| c.is_alphanumeric() || c == '_')
            })
    };
    if !valid(package) {
        return Err(format!(
            "'{}' is neither a path nor a package resource (package:path)",
            excerpt(raw)
        ));
    }
    let package_path: PathBuf = package.split('.').collect();
    for d in dir.ancestors() {
        for candidate in [d.join(&package_path), d.join("src").join(&package_path)] {
            if candidate.is_dir() {
                return Ok(tokens.fold(candidate, |p, t| p.join(t)));
            }
        }
        if d.join(".git").exists() {
            break;
        }
    }
    Err(format!(
        "package '{}' (from '{}') is not found as <dir>/{p}/ or <dir>/src/{p}/ in {} or a parent directory inside the repository; migrate reads packages from the source tree, not from an installed environment",
        excerpt(package),
        excerpt(raw),
        dir.display(),
        p = package_path.display(),
    ))
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            ConfigError::NotFound(path.to_path_buf())
        } else {
            ConfigError::Unreadable {
                path: path.to_path_buf(),
                source,
            }
        }
    })
}

/// Whether `path` names a `pyproject.toml` (Alembic's test: the file name).
pub fn is_pyproject(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == "pyproject.toml")
}

/// Reads an Alembic project's settings from `path` (an `alembic.ini`, any `*.ini`, or
/// a `pyproject.toml`) and the other file of the pair beside it; `name` is the ini
/// section (`-n`), default `alembic`.
pub fn load(path: &Path, name: Option<&str>) -> Result<AlembicSettings, ConfigError> {
    let path = std::path::absolute(path).map_err(|source| ConfigError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    let dir = path.parent().unwrap_or(Path::new("/")).to_path_buf();
    let named_toml = is_pyproject(&path);
    let ini_path = if named_toml {
        Some(dir.join("alembic.ini")).filter(|p| p.is_file())
    } else {
        Some(path.clone())
    };
    let toml_path = if named_toml {
        Some(path.clone())
    } else {
        Some(dir.join("pyproject.toml")).filter(|p| p.is_file())
    };

    let ini = match &ini_path {
        Some(p) => Some(
            Ini::parse(&read(p)?)
                .map_err(|e| invalid(p, (e.line > 0).then_some(e.line), e.message))?,
        ),
        None => None,
    };
    let tool = match &toml_path {
        Some(p) => parse_pyproject(&read(p)?).map_err(|e| invalid(p, e.line, e.message))?,
        None => None,
    };
    let pyproject_path = toml_path.filter(|_| named_toml || tool.is_some());
    let here = dir.to_string_lossy().replace('\\', "/");
    let sources = Sources {
        section: name.unwrap_or(DEFAULT_SECTION),
        ini: ini_path.as_deref().zip(ini.as_ref()),
        toml: pyproject_path.as_deref().zip(tool.as_ref()),
        ini_here: here.clone(),
        toml_here: here,
    };
    let mut settings = resolve(&sources, &path, &dir)?;
    settings.ini_path = ini_path;
    settings.pyproject_path = pyproject_path;
    read_env_py(&mut settings);
    Ok(settings)
}

/// Every setting from the parsed files; paths resolved from `dir`.
fn resolve(s: &Sources<'_>, named: &Path, dir: &Path) -> Result<AlembicSettings, ConfigError> {
    let mut sources = BTreeMap::new();
    let mut warnings = Vec::new();
    let mut take = |key: &str, found: Found<String>| match found {
        Found::At(v, src) => {
            sources.insert(key.to_owned(), src.clone());
            Some((v, src))
        }
        Found::Absent => None,
    };

    let Some((raw_script, script_src)) = take("script_location", s.string("script_location")?)
    else {
        let has_section = s.ini.is_some_and(|(_, ini)| ini.has_section(s.section));
        let mut message = format!(
            "no 'script_location' key found in section [{}]",
            excerpt(s.section)
        );
        if s.ini.is_some() && !has_section {
            message.push_str(" (the file has no such section)");
        }
        if s.toml.is_none() {
            message.push_str(" nor in a [tool.alembic] table of pyproject.toml");
        } else {
            message.push_str(" nor in [tool.alembic]");
        }
        return Err(invalid(named, None, message));
    };
    let script_location = resolve_location(&raw_script, dir).map_err(|m| {
        invalid(
            &script_src.path,
            script_src.line,
            format!("script_location: {m}"),
        )
    })?;
    if !script_location.is_dir() {
        return Err(invalid(
            &script_src.path,
            script_src.line,
            format!(
                "script_location {} doesn't exist; create it with `alembic init` or fix the setting",
                script_location.display()
            ),
        ));
    }

    let file_template = take("file_template", s.string("file_template")?)
        .map(|(v, _)| v)
        .unwrap_or_else(|| DEFAULT_FILE_TEMPLATE.to_owned());
    let timezone = take("timezone", s.string("timezone")?).map(|(v, _)| v);
    let truncate_slug_length = match take("truncate_slug_length", s.string("truncate_slug_length")?)
    {
        None => DEFAULT_TRUNCATE_SLUG_LENGTH,
        Some((v, src)) => match parse_py_int(&v) {
            Some(0) => DEFAULT_TRUNCATE_SLUG_LENGTH,
            Some(n) if n > 0 => usize::try_from(n).unwrap_or(usize::MAX),
            _ => {
                return Err(invalid(
                    &src.path,
                    src.line,
                    "truncate_slug_length must be a whole number of at least 1 (0 means 40)",
                ))
            }
        },
    };
    // `sqlalchemy.url` comes from the ini section only (Alembic's env.py templates call
    // `config.get_main_option`).
    let sqlalchemy_url = take("sqlalchemy.url", s.ini_value("sqlalchemy.url")?).map(|(v, _)| v);

    let dirs = match s.version_locations(&mut warnings)? {
        Found::At(list, src) if !list.is_empty() => {
            sources.insert("version_locations".to_owned(), src.clone());
            list.iter()
                .map(|raw| resolve_location(raw, dir))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|m| invalid(&src.path, src.line, format!("version_locations: {m}")))?
        }
        _ => vec![script_location.join("versions")],
    };
    let recursive = match s.boolean("recursive_version_locations")? {
        Found::At(b, src) => {
            sources.insert("recursive_version_locations".to_owned(), src);
            b
        }
        Found::Absent => false,
    };
    Ok(AlembicSettings {
        ini_path: None,
        pyproject_path: None,
        section: s.section.to_owned(),
        script_location,
        version_locations: VersionLocations { dirs, recursive },
        file_template,
        timezone,
        truncate_slug_length,
        sqlalchemy_url,
        version_table: None,
        version_table_schema: None,
        sources,
        warnings,
    })
}

/// Python's `int(text)` for decimal text: surrounding white space, a sign, digits with
/// single underscores between them.
fn parse_py_int(text: &str) -> Option<i128> {
    let t = text.trim();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return None;
    }
    let n: i128 = digits.replace('_', "").parse().ok()?;
    Some(if neg { -n } else { n })
}

/// Fills the version table settings from `<script_location>/env.py`, when it has
/// literal ones. A missing env.py is fine; one that can't be parsed is a warning.
fn read_env_py(settings: &mut AlembicSettings) {
    let env = settings.script_location.join("env.py");
    let Ok(source) = std::fs::read_to_string(&env) else {
        return;
    };
    match python::configure_kwargs(&source) {
        Ok(kwargs) => {
            for (key, slot) in [
                ("version_table", &mut settings.version_table),
                ("version_table_schema", &mut settings.version_table_schema),
            ] {
                if let Some(v) = kwargs.get(key) {
                    *slot = Some(v.clone());
                    settings.sources.insert(
                        key.to_owned(),
                        SettingSource {
                            path: env.clone(),
                            line: None,
                        },
                    );
                }
            }
        }
        Err(e) => settings.warnings.push(format!(
            "{}:{}: env.py is not valid Python, so its version_table is not read (alembic_version assumed)",
            env.display(),
            e.line
        )),
    }
}

#[cfg(test)]
#[path = "project_tests.rs"]
mod tests;
