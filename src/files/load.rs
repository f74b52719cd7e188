//! Loading a revisions directory: find the files, parse them in parallel, build the graph.

use std::path::{Path, PathBuf};

use super::format::RevisionFile;
use super::walk::{self, Listing, Rules};
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

/// YAML revision files: `*.yaml`/`*.yml`, hidden entries skipped, subdirectories listed.
pub(crate) const YAML_RULES: Rules = Rules {
    is_revision: |name| name.ends_with(b".yaml") || name.ends_with(b".yml"),
    skip: |name, _| name.starts_with(b"."),
    recursive: true,
};

/// Revision files under `dir` in load order (see [`super::walk`]); the models file at
/// the top is not a revision.
pub(crate) fn revision_files(dir: &Path, keys: bool) -> Result<Listing, LoadError> {
    let (mut files, problems) = walk::list(dir, YAML_RULES, keys)?;
    files.retain(|f| f.name != MODELS_FILE);
    Ok((files, problems))
}

/// Reads and parses every revision file under `dir`. Files that fail are reported as
/// problems; the others are returned in load order. Unchanged files come from the
/// parse cache (see [`super::cache`]).
pub fn load_revisions(dir: &Path) -> Result<(Vec<Revision>, Vec<Problem>), LoadError> {
    let loaded = super::source::Source::Yaml(dir.to_path_buf()).load()?;
    Ok((loaded.revisions, loaded.problems))
}

/// Loads `dir` and builds the graph; every file and graph problem is returned together.
pub fn load_graph(dir: &Path) -> Result<Result<RevisionGraph, Vec<Problem>>, LoadError> {
    Ok(super::source::Source::Yaml(dir.to_path_buf())
        .load_graph()?
        .map(|(graph, _)| graph))
}

fn invalid(path: &Path, line: Option<u32>, message: String) -> Problem {
    Problem::new(ProblemKind::InvalidFile, excerpts(&message)).at(Some(path.to_path_buf()), line)
}

/// The most of a quoted value an error shows.
const EXCERPT_CHARS: usize = 24;

/// A short excerpt of a value from a file, for a message: control characters escaped, at
/// most [`EXCERPT_CHARS`] characters, `…` when cut.
pub fn excerpt(value: &str) -> String {
    let mut out = String::new();
    for (i, c) in value.chars().enumerate() {
        if i == EXCERPT_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() || c == '\u{feff}' {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

/// The longest message about a file that is shown whole.
const MESSAGE_CHARS: usize = 400;

/// [`excerpts`], and a message still longer than a few lines (an unquoted value, a
/// path built from one) cut in the middle: a file's content is never echoed whole.
pub fn bounded(message: &str) -> String {
    let short = excerpts(message);
    let n = short.chars().count();
    if n <= MESSAGE_CHARS {
        return short;
    }
    let head: String = short.chars().take(MESSAGE_CHARS - 60).collect();
    let tail: String = short.chars().skip(n - 40).collect();
    format!("{head}…({} characters cut)…{tail}", n - MESSAGE_CHARS + 20)
}

/// `message` with every quoted value (`"…"` as serde writes them, `` `…` `` for keys,
/// `'…'` for ours) cut to a short excerpt and every control character escaped: a file's
/// content (a key, a token behind a symbolic link) is never echoed in full.
pub fn excerpts(message: &str) -> String {
    let chars: Vec<char> = message.chars().collect();
    let mut out = String::with_capacity(message.len().min(512));
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let opens =
            matches!(c, '"' | '`') || (c == '\'' && (i == 0 || chars[i - 1].is_whitespace()));
        if opens {
            // Find the closing quote (serde escapes a '"' inside as \").
            let mut j = i + 1;
            while j < chars.len() && chars[j] != c {
                if c == '"' && chars[j] == '\\' {
                    j += 1;
                }
                j += 1;
            }
            if j < chars.len() {
                let inner: String = chars[i + 1..j].iter().collect();
                out.push(c);
                out.push_str(&excerpt(&inner));
                out.push(c);
                i = j + 1;
                continue;
            }
        }
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
        i += 1;
    }
    if out.chars().count() > 300 {
        out = out.chars().take(300).collect();
        out.push('…');
    }
    out
}

/// The largest revision file read, in bytes: far above any hand-written revision, far
/// below what would exhaust memory while parsing.
pub const MAX_FILE_BYTES: u64 = 4 << 20;

/// Parses one file's text; `path` is only used for messages.
pub fn parse_revision(path: &Path, text: &str) -> Result<Revision, Problem> {
    // A UTF-8 byte order mark (some Windows editors write one) is not content.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    super::guard::check_yaml(text).map_err(|e| invalid(path, Some(e.line), e.message))?;
    let file: RevisionFile = serde_yaml_ng::from_str(text).map_err(|e| {
        let line = e.location().map(|l| l.line() as u32);
        let mut message = e.to_string();
        if let Some(at) = message.find(" at line ") {
            message.truncate(at);
        }
        invalid(path, line, message)
    })?;
    if let Some(line) = unquoted_number_id(text) {
        return Err(invalid(
            path,
            Some(line),
            "revision is an unquoted number to YAML (Alembic would read 0001 as 1); quote it (\"0001\") so its digits are kept".to_owned(),
        ));
    }
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

/// A revision file's text (of either format), under the size limit; the problem names
/// the file.
pub(crate) fn read_file(path: &Path) -> Result<String, Problem> {
    read_bounded(path, MAX_FILE_BYTES).map_err(|e| invalid(path, None, e))
}

/// Reads a text file of at most `max` bytes; the error says why not.
pub fn read_bounded(path: &Path, max: u64) -> Result<String, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| format!("can't read the file: {e}"))?;
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("can't read the file: {e}"))?;
    text_from_bytes(bytes, max)
}

/// A file's bytes as text, under the same rules as [`read_bounded`]: at most `max` bytes,
/// UTF-8; the error says why not. For contents read from elsewhere (git objects).
pub fn text_from_bytes(bytes: Vec<u8>, max: u64) -> Result<String, String> {
    if bytes.len() as u64 > max {
        return Err(format!(
            "the file is larger than {} MiB; refused",
            max >> 20
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "the file is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

/// The line of a top-level `revision:` whose value is unquoted digits (`0001`).
fn unquoted_number_id(text: &str) -> Option<u32> {
    let line = key_line(text, "revision")?;
    let value = text.lines().nth(line as usize - 1)?.split_once(':')?.1;
    let value = value.split(" #").next().unwrap_or("").trim();
    // YAML 1.2 keeps `0001` a string, YAML 1.1 (Alembic's world) reads 1. Other digits
    // already fail as a number; hex ids such as `39e649073057` are strings.
    let numeric =
        value.len() > 1 && value.starts_with('0') && value.chars().all(|c| c.is_ascii_digit());
    numeric.then_some(line)
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
