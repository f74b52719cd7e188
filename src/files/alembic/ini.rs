//! `alembic.ini`: the INI dialect of Python's `configparser.ConfigParser`, read the way
//! Alembic reads it.
//!
//! Alembic builds a `ConfigParser` with its defaults (`here`: the file's directory) and
//! reads the file with the standard rules, which this module follows:
//! - `[name]` opens a section; a second `[name]` in the file is an error, except
//!   `[DEFAULT]`, whose keys every section sees. A header's name runs to the line's
//!   *last* `]` (`[alembic] trailing` names `alembic`).
//! - `key = value` or `key: value`, split at the first `=` or `:`; keys are lowercased;
//!   a key twice in one section is an error.
//! - Full-line comments start with `#` or `;`. There are no inline comments: a `#` in
//!   a value is part of it.
//! - A line indented deeper than its key's line continues the value (joined with
//!   newlines); blank lines inside a value are kept, comment lines are skipped, trailing
//!   blank lines dropped.
//! - Values are interpolated only when read (`%(name)s` from the same section, then
//!   `[DEFAULT]`, then the caller's defaults; `%%` is `%`), so a `%` in a logging
//!   section Alembic never reads is no error here either. References nest at most 10
//!   deep, like configparser's, and the work and size of one expansion are bounded.
//!
//! Deliberate differences: a UTF-8 byte order mark is skipped, and a caller's default
//! (`here`) is inserted as is, never interpolated itself (a directory whose name holds
//! a `%` breaks Alembic). Errors give the 1-based line and a short message; they quote
//! at most a short escaped excerpt of a name, never a value (it may be a secret).

use std::fmt::Write as _;

/// The largest file read: Alembic configs are a few kilobytes.
pub const MAX_INI_BYTES: usize = 1 << 20;
/// configparser's `MAX_INTERPOLATION_DEPTH`.
pub const MAX_INTERPOLATION_DEPTH: usize = 10;
/// The longest interpolated value.
const MAX_VALUE_BYTES: usize = 1 << 20;
/// The most references one interpolation may expand (`a = %(b)s%(b)s`, `b = %(c)s%(c)s`
/// ... doubles the work at every level).
const MAX_EXPANSIONS: usize = 100_000;

/// The section every other section falls back to.
pub const DEFAULT_SECTION: &str = "DEFAULT";

/// A problem in an INI file: where, and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct IniError {
    /// 1-based; 0 when the problem is the whole file (too large).
    pub line: usize,
    pub message: String,
}

impl IniError {
    /// A value quoted from the file is cut to a short excerpt, control characters escaped.
    fn new(line: usize, message: impl Into<String>) -> Self {
        Self {
            line,
            message: crate::files::load::excerpts(&message.into()),
        }
    }
}

/// One `key = value`, its lines joined, not yet interpolated.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RawOption {
    key: String,
    value: String,
    line: usize,
    /// The value's lines while parsing; joined into `value` at the end.
    parts: Vec<String>,
}

/// A section: its name, the line of its header, its options in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Section {
    name: String,
    line: usize,
    options: Vec<RawOption>,
}

impl Section {
    fn find(&self, key: &str) -> Option<&RawOption> {
        self.options.iter().find(|o| o.key == key)
    }
}

/// A parsed INI file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ini {
    defaults: Section,
    sections: Vec<Section>,
}

/// An interpolated value and the line of its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IniValue {
    pub value: String,
    pub line: usize,
}

/// Python's `str.isspace()` (and `\s` in its `re`): Unicode white space plus the
/// information separators U+001C..U+001F.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

/// Lines as Python's universal-newline reading gives them: split at `\n`, `\r\n`, `\r`.
fn py_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = rest.find(['\n', '\r']).unwrap_or(rest.len());
        let line = &rest[..end];
        let skip = if rest[end..].starts_with("\r\n") {
            2
        } else {
            usize::from(end < rest.len())
        };
        rest = &rest[end + skip..];
        Some(line)
    })
}

/// A short, escaped excerpt of a name for a message.
pub(crate) fn excerpt(s: &str) -> String {
    const MAX: usize = 40;
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i == MAX {
            out.push('…');
            break;
        }
        let _ = write!(out, "{}", c.escape_debug());
    }
    out
}

/// The option being built: where its lines go.
enum Target {
    Defaults,
    Section(usize),
}

impl Ini {
    /// Parses `text` with configparser's rules (see the module docs). Like configparser,
    /// a line that is neither a header nor an option does not stop the reading, but the
    /// first such line is reported at the end unless a fatal error (no section header,
    /// a duplicate section or key) comes first.
    pub fn parse(text: &str) -> Result<Ini, IniError> {
        if text.len() > MAX_INI_BYTES {
            return Err(IniError::new(
                0,
                format!("file is larger than {} KiB", MAX_INI_BYTES / 1024),
            ));
        }
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut ini = Ini {
            defaults: Section {
                name: DEFAULT_SECTION.to_owned(),
                line: 0,
                options: Vec::new(),
            },
            sections: Vec::new(),
        };
        let mut target: Option<Target> = None;
        // The option that continuation lines extend: its index in the target section.
        let mut current: Option<usize> = None;
        let mut indent_level = 0usize;
        let mut first_error: Option<IniError> = None;

        for (index, line) in py_lines(text).enumerate() {
            let lineno = index + 1;
            let stripped = py_strip(line);
            let is_comment = stripped.starts_with('#') || stripped.starts_with(';');
            let value = if is_comment { "" } else { stripped };
            if value.is_empty() {
                if !is_comment {
                    if let (Some(t), Some(o)) = (&target, current) {
                        ini.target(t).options[o].parts.push(String::new());
                    }
                }
                continue;
            }
            let indent = line.chars().take_while(|c| is_py_space(*c)).count();
            if let (Some(t), Some(o)) = (&target, current) {
                if indent > indent_level {
                    ini.target(t).options[o].parts.push(value.to_owned());
                    continue;
                }
            }
            indent_level = indent;
            if let Some(name) = section_header(value) {
                current = None;
                if name == DEFAULT_SECTION {
                    target = Some(Target::Defaults);
                } else if let Some(prev) = ini.sections.iter().find(|s| s.name == name) {
                    return Err(IniError::new(
                        lineno,
                        format!(
                            "section [{}] appears twice (first on line {})",
                            excerpt(name),
                            prev.line
                        ),
                    ));
                } else {
                    ini.sections.push(Section {
                        name: name.to_owned(),
                        line: lineno,
                        options: Vec::new(),
                    });
                    target = Some(Target::Section(ini.sections.len() - 1));
                }
                continue;
            }
            let Some(t) = &target else {
                return Err(IniError::new(
                    lineno,
                    "no section header ([name]) before this line",
                ));
            };
            let Some((key, val)) = split_option(value) else {
                first_error.get_or_insert_with(|| {
                    IniError::new(
                        lineno,
                        "expected `key = value`, `key: value` or `[section]`",
                    )
                });
                continue;
            };
            if key.is_empty() {
                first_error
                    .get_or_insert_with(|| IniError::new(lineno, "a key is missing before '='"));
                current = None;
                continue;
            }
            let section = ini.target(t);
            if let Some(prev) = section.find(&key) {
                return Err(IniError::new(
                    lineno,
                    format!(
                        "key '{}' appears twice in section [{}] (first on line {})",
                        excerpt(&key),
                        excerpt(&section.name),
                        prev.line
                    ),
                ));
            }
            section.options.push(RawOption {
                key,
                value: String::new(),
                line: lineno,
                parts: vec![val.to_owned()],
            });
            current = Some(section.options.len() - 1);
        }
        if let Some(e) = first_error {
            return Err(e);
        }
        for sec in std::iter::once(&mut ini.defaults).chain(ini.sections.iter_mut()) {
            for opt in &mut sec.options {
                let parts = std::mem::take(&mut opt.parts);
                opt.value = parts.join("\n").trim_end_matches(is_py_space).to_owned();
            }
        }
        Ok(ini)
    }

    fn target(&mut self, t: &Target) -> &mut Section {
        match t {
            Target::Defaults => &mut self.defaults,
            Target::Section(i) => &mut self.sections[*i],
        }
    }

    /// Whether the file has section `name` (`DEFAULT` always exists).
    pub fn has_section(&self, name: &str) -> bool {
        name == DEFAULT_SECTION || self.sections.iter().any(|s| s.name == name)
    }

    /// The keys of `section` and of `[DEFAULT]`, each once, in file order.
    pub fn keys(&self, section: &str) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        let own = self.section(section).filter(|_| section != DEFAULT_SECTION);
        for o in own
            .into_iter()
            .chain([&self.defaults])
            .flat_map(|s| &s.options)
        {
            if !out.contains(&o.key.as_str()) {
                out.push(&o.key);
            }
        }
        out
    }

    /// Section names in file order, without `DEFAULT`.
    pub fn section_names(&self) -> impl Iterator<Item = &str> {
        self.sections.iter().map(|s| s.name.as_str())
    }

    fn section(&self, name: &str) -> Option<&Section> {
        if name == DEFAULT_SECTION {
            Some(&self.defaults)
        } else {
            self.sections.iter().find(|s| s.name == name)
        }
    }

    /// The uninterpolated value of `key` in `section`, falling back to `[DEFAULT]`;
    /// `None` when the section does not exist (as configparser's `get` with a fallback).
    pub fn raw(&self, section: &str, key: &str) -> Option<(&str, usize)> {
        let key = key.to_lowercase();
        let sec = self.section(section)?;
        sec.find(&key)
            .or_else(|| self.defaults.find(&key))
            .map(|o| (o.value.as_str(), o.line))
    }

    /// The interpolated value of `key` in `section` (see [`Ini::raw`]); `vars` are the
    /// caller's defaults (Alembic's `here`), consulted after `[DEFAULT]`.
    pub fn get(
        &self,
        section: &str,
        key: &str,
        vars: &[(&str, &str)],
    ) -> Result<Option<IniValue>, IniError> {
        let Some((raw, line)) = self.raw(section, key) else {
            return Ok(None);
        };
        let mut run = Interpolation {
            ini: self,
            section,
            key,
            line,
            vars,
            out: String::new(),
            expansions: 0,
        };
        run.expand(raw, 1)?;
        Ok(Some(IniValue {
            value: run.out,
            line,
        }))
    }
}

/// `[name]` with configparser's permissive pattern: from the first `[` to the last `]`,
/// at least one character between.
fn section_header(value: &str) -> Option<&str> {
    let inner = value.strip_prefix('[')?;
    let end = inner.rfind(']')?;
    (end > 0).then(|| &inner[..end])
}

/// `key = value` / `key: value`, split at the first delimiter; the key lowercased.
fn split_option(value: &str) -> Option<(String, &str)> {
    let at = value.find(['=', ':'])?;
    let key = value[..at].trim_end_matches(is_py_space).to_lowercase();
    Some((key, py_strip(&value[at + 1..])))
}

/// One `get`'s expansion state.
struct Interpolation<'a> {
    ini: &'a Ini,
    section: &'a str,
    key: &'a str,
    line: usize,
    vars: &'a [(&'a str, &'a str)],
    out: String,
    expansions: usize,
}

impl<'a> Interpolation<'a> {
    fn error(&self, what: String) -> IniError {
        IniError::new(
            self.line,
            format!(
                "in the value of '{}' in [{}]: {what}",
                excerpt(self.key),
                excerpt(self.section)
            ),
        )
    }

    fn lookup(&self, name: &str) -> Option<&'a str> {
        if let Some((v, _)) = self.ini.raw(self.section, name) {
            return Some(v);
        }
        self.vars
            .iter()
            .find(|(k, _)| k.to_lowercase() == name)
            .map(|(_, v)| *v)
    }

    fn is_var(&self, name: &str) -> bool {
        self.ini.raw(self.section, name).is_none()
            && self.vars.iter().any(|(k, _)| k.to_lowercase() == name)
    }

    fn push(&mut self, s: &str) -> Result<(), IniError> {
        if self.out.len() + s.len() > MAX_VALUE_BYTES {
            return Err(self.error(format!(
                "the interpolated value is longer than {} KiB",
                MAX_VALUE_BYTES / 1024
            )));
        }
        self.out.push_str(s);
        Ok(())
    }

    fn expand(&mut self, mut rest: &str, depth: usize) -> Result<(), IniError> {
        if depth > MAX_INTERPOLATION_DEPTH {
            return Err(self.error(format!(
                "references nest deeper than {MAX_INTERPOLATION_DEPTH} levels (a reference to itself?)"
            )));
        }
        while let Some(p) = rest.find('%') {
            self.push(&rest[..p])?;
            rest = &rest[p..];
            if let Some(after) = rest.strip_prefix("%%") {
                self.push("%")?;
                rest = after;
            } else if rest.starts_with("%(") {
                let Some((name, after)) = reference(rest) else {
                    return Err(self.error(
                        "a '%(' is not a reference of the form %(name)s; write %% for a literal %"
                            .to_owned(),
                    ));
                };
                rest = after;
                self.expansions += 1;
                if self.expansions > MAX_EXPANSIONS {
                    return Err(
                        self.error(format!("more than {MAX_EXPANSIONS} references expanded"))
                    );
                }
                let name = name.to_lowercase();
                let Some(value) = self.lookup(&name) else {
                    return Err(self.error(format!(
                        "%({})s is not set in [{}] or [{DEFAULT_SECTION}]",
                        excerpt(&name),
                        excerpt(self.section)
                    )));
                };
                if value.contains('%') && !self.is_var(&name) {
                    self.expand(value, depth + 1)?;
                } else {
                    self.push(value)?;
                }
            } else {
                return Err(self.error(
                    "'%' must be followed by '%' or '('; write %% for a literal %".to_owned(),
                ));
            }
        }
        self.push(rest)
    }
}

/// `%(name)s` at the start of `s`: the name (no `)`, not empty) and what follows.
fn reference(s: &str) -> Option<(&str, &str)> {
    let inner = s.strip_prefix("%(")?;
    let close = inner.find(')')?;
    if close == 0 {
        return None;
    }
    let after = inner[close + 1..].strip_prefix('s')?;
    Some((&inner[..close], after))
}

#[cfg(test)]
#[path = "ini_tests.rs"]
mod tests;
