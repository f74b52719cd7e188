//! Editing a revision file in place: only the `down_revision` value changes, every
//! other byte (comments, quoting, key order, line endings, the SQL) stays as written.
//! One function per format; both re-read the result with the format's own reader and
//! refuse an edit that would change anything else.

use std::path::{Path, PathBuf};

use super::alembic::python;
use super::alembic::revisions::parse_module;
use super::load::parse_revision;
use super::write::{list, scalar};
use crate::core::Revision;

/// Why a file could not be edited.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("{}: {message}", path.display())]
    Unreadable { path: PathBuf, message: String },
    #[error("{}: the edited file would not read back as the same revision with the new down_revision ({message}); edit it by hand", path.display())]
    Unsafe { path: PathBuf, message: String },
}

/// `text` (the YAML revision file `path`) with its `down_revision` set to `new`.
pub fn set_down_revision_yaml(path: &Path, text: &str, new: &[&str]) -> Result<String, EditError> {
    let unreadable = |message: String| EditError::Unreadable {
        path: path.to_path_buf(),
        message,
    };
    let before = parse_revision(path, text).map_err(|p| unreadable(p.message))?;
    let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let lines: Vec<(usize, &str)> = line_spans(text);
    let key_at = lines
        .iter()
        .position(|(_, l)| is_key_line(l, "down_revision"));
    let out = match key_at {
        None => {
            // No key: a base. Insert it after `revision:`.
            let rev_at = lines
                .iter()
                .position(|(_, l)| is_key_line(l, "revision"))
                .ok_or_else(|| unreadable("no top-level `revision:` line".into()))?;
            let (start, line) = lines[rev_at];
            let end = start + line.len();
            let sep = if line.ends_with('\n') { "" } else { eol };
            format!(
                "{}{sep}down_revision: {}{eol}{}",
                &text[..end],
                yaml_value(new, None),
                &text[end..]
            )
        }
        Some(i) => {
            let (start, line) = lines[i];
            let body = line.trim_end_matches(['\n', '\r']);
            let colon = body.find(':').expect("a key line has a colon") + 1;
            let rest = &body[colon..];
            let value_end = comment_start(rest).unwrap_or(rest.len());
            let value = rest[..value_end].trim();
            let lead = rest.len() - rest.trim_start().len();
            let value_start = start + colon + lead.min(value_end);
            if value.starts_with('[') && !value.contains(']') {
                // A flow list over several lines: up to its closing bracket.
                let close = text[value_start..]
                    .find(']')
                    .ok_or_else(|| unreadable("an unclosed `[` after down_revision".into()))?;
                format!(
                    "{}{}{}",
                    &text[..value_start],
                    yaml_value(new, None),
                    &text[value_start + close + 1..]
                )
            } else if !value.is_empty() {
                let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'');
                format!(
                    "{}{}{}",
                    &text[..value_start],
                    yaml_value(new, quote),
                    &text[value_start + value.len()..]
                )
            } else {
                // A block list below the key, or nothing (null).
                let items: Vec<&(usize, &str)> = lines[i + 1..]
                    .iter()
                    .take_while(|(_, l)| {
                        let t = l.trim_start();
                        t.starts_with("- ") || t.trim_end() == "-"
                    })
                    .collect();
                match (items.first(), items.last()) {
                    (Some(&&(first, first_line)), Some(&&(last, last_line))) => {
                        let dash = first_line.find('-').expect("an item has a dash");
                        let prefix = &first_line[..dash + 2.min(first_line.len() - dash)];
                        let prefix = if prefix.ends_with(' ') {
                            prefix.to_owned()
                        } else {
                            format!("{prefix} ")
                        };
                        let block: String = new
                            .iter()
                            .map(|id| format!("{prefix}{}{eol}", scalar(id)))
                            .collect();
                        let end = last + last_line.len();
                        let block = if last_line.ends_with('\n') {
                            block
                        } else {
                            block.trim_end_matches(['\n', '\r']).to_owned()
                        };
                        if new.is_empty() {
                            format!(
                                "{} null{}{}",
                                &text[..start + colon],
                                &text[start + colon..first],
                                &text[end..]
                            )
                        } else {
                            format!("{}{block}{}", &text[..first], &text[end..])
                        }
                    }
                    _ => format!(
                        "{} {}{}",
                        &text[..start + colon],
                        yaml_value(new, None),
                        &text[start + colon..]
                    ),
                }
            }
        }
    };
    let after = parse_revision(path, &out).map_err(|p| EditError::Unsafe {
        path: path.to_path_buf(),
        message: p.message,
    })?;
    same_but_down(path, &before, &after, new)?;
    Ok(out)
}

/// `text` (the Alembic module `path`) with its `down_revision` assignment set to `new`
/// and the docstring's `Revises:` line, when there is one, saying the same.
pub fn set_down_revision_py(path: &Path, text: &str, new: &[&str]) -> Result<String, EditError> {
    let unreadable = |message: String| EditError::Unreadable {
        path: path.to_path_buf(),
        message,
    };
    let before = parse_module(path, text)
        .map_err(|ps| unreadable(ps.first().map(|p| p.message.clone()).unwrap_or_default()))?;
    let facts = python::read_module(text).map_err(|e| unreadable(e.message))?;
    let a = facts
        .get("down_revision")
        .ok_or_else(|| unreadable("no module-level down_revision assignment".into()))?;
    let quote = [
        &a.value.text,
        &facts
            .get("revision")
            .map(|r| r.value.text.clone())
            .unwrap_or_default(),
    ]
    .iter()
    .find_map(|t| t.chars().find(|c| *c == '"' || *c == '\''))
    .unwrap_or('\'');
    let lit = |id: &str| {
        let mut s = String::new();
        s.push(quote);
        for c in id.chars() {
            if c == quote || c == '\\' {
                s.push('\\');
            }
            s.push(c);
        }
        s.push(quote);
        s
    };
    let value = match new {
        [] => "None".to_owned(),
        [one] => lit(one),
        many => format!(
            "({})",
            many.iter().map(|m| lit(m)).collect::<Vec<_>>().join(", ")
        ),
    };
    // Later edits first, so earlier byte offsets stay valid.
    let mut out = text.to_owned();
    out.replace_range(a.value.bytes.clone(), &value);
    if let Some(doc) = facts
        .docstring_bytes
        .clone()
        .filter(|d| d.end <= a.value.bytes.start)
    {
        if let Some(span) = revises_value(&text[doc.clone()]) {
            let at = doc.start + span.start..doc.start + span.end;
            let shown = new.join(", ");
            let lead = if text[..at.start].ends_with(':') && !shown.is_empty() {
                " "
            } else {
                ""
            };
            out.replace_range(at, &format!("{lead}{shown}"));
        }
    }
    let after = parse_module(path, &out).map_err(|ps| EditError::Unsafe {
        path: path.to_path_buf(),
        message: ps.first().map(|p| p.message.clone()).unwrap_or_default(),
    })?;
    // The docstring is the message, and its `Revises:` line changed with the parents.
    let mut before = before.revision;
    before.message = after.revision.message.clone();
    same_but_down(path, &before, &after.revision, new)?;
    Ok(out)
}

/// The byte span of a docstring's `Revises:` value (after the colon and its spaces, to
/// the end of the line), if the docstring has that line.
fn revises_value(doc: &str) -> Option<std::ops::Range<usize>> {
    let mut at = 0;
    for line in doc.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let indent = body.len() - body.trim_start().len();
        if let Some(rest) = body[indent..].strip_prefix("Revises:") {
            let start = at + indent + "Revises:".len();
            let spaces = rest.len() - rest.trim_start().len();
            // A one-line docstring ends with its closing quotes on this line.
            let value = rest.trim_start();
            let closing = value
                .find("\"\"\"")
                .or_else(|| value.find("\'\'\'"))
                .unwrap_or(value.len());
            let value = value[..closing].trim_end();
            if value.is_empty() {
                return Some(start + spaces.min(1)..start + spaces);
            }
            return Some(start + spaces..start + spaces + value.len());
        }
        at += line.len();
    }
    None
}

/// The result must be the same revision, with only its parents changed.
fn same_but_down(
    path: &Path,
    before: &Revision,
    after: &Revision,
    new: &[&str],
) -> Result<(), EditError> {
    let got: Vec<&str> = after.down_revisions.iter().map(|d| d.as_str()).collect();
    if got != new {
        return Err(EditError::Unsafe {
            path: path.to_path_buf(),
            message: format!("down_revision reads as [{}]", got.join(", ")),
        });
    }
    let mut expected = before.clone();
    expected.down_revisions = after.down_revisions.clone();
    expected.origin = after.origin.clone();
    if &expected != after {
        return Err(EditError::Unsafe {
            path: path.to_path_buf(),
            message: "another field changed".into(),
        });
    }
    Ok(())
}

/// A YAML value for `new`: one id (in the old value's quotes, if it had any), a flow
/// list, or `null`.
fn yaml_value(new: &[&str], quote: Option<char>) -> String {
    match (new, quote) {
        ([], _) => "null".to_owned(),
        ([one], Some('\'')) if !one.contains('\'') => format!("'{one}'"),
        ([one], Some('"')) if !one.contains(['"', '\\']) => format!("\"{one}\""),
        ([one], _) => scalar(one),
        (many, _) => list(many),
    }
}

/// Each line with the byte offset where it starts.
fn line_spans(text: &str) -> Vec<(usize, &str)> {
    let mut at = 0;
    text.split_inclusive('\n')
        .map(|l| {
            let s = (at, l);
            at += l.len();
            s
        })
        .collect()
}

/// Whether `line` is the top-level `key:` line.
fn is_key_line(line: &str, key: &str) -> bool {
    line.strip_prefix(key)
        .is_some_and(|rest| rest.trim_start_matches([' ', '\t']).starts_with(':'))
}

/// Where a `#` comment starts in a value (a `#` after a space, or at the start).
fn comment_start(rest: &str) -> Option<usize> {
    let b = rest.as_bytes();
    (0..b.len()).find(|&i| b[i] == b'#' && (i == 0 || b[i - 1] == b' ' || b[i - 1] == b'\t'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = "# a comment\nrevision: 'b2'   # kept\ndown_revision: \"a1\"  # parent\nmessage: add  things\nupgrade: |\n  CREATE TABLE t (id INTEGER);\ndowngrade: |\n  DROP TABLE t;\n";

    fn diff_lines(a: &str, b: &str) -> Vec<(String, String)> {
        a.lines()
            .zip(b.lines())
            .filter(|(x, y)| x != y)
            .map(|(x, y)| (x.to_owned(), y.to_owned()))
            .collect()
    }

    #[test]
    fn yaml_keeps_every_other_byte_and_the_quotes() {
        let p = Path::new("r.yaml");
        let out = set_down_revision_yaml(p, YAML, &["c3"]).expect("edits");
        assert_eq!(
            diff_lines(YAML, &out),
            [(
                "down_revision: \"a1\"  # parent".to_owned(),
                "down_revision: \"c3\"  # parent".to_owned()
            )]
        );
        assert_eq!(out.len(), YAML.len());
        let crlf = YAML.replace('\n', "\r\n");
        let out = set_down_revision_yaml(p, &crlf, &["c3", "d4"]).expect("edits");
        assert_eq!(out, crlf.replace("\"a1\"", "[c3, d4]"));
    }

    #[test]
    fn yaml_block_lists_null_and_a_missing_key() {
        let p = Path::new("r.yaml");
        let block = "revision: m\ndown_revision:\n  - a1\n  - b2\nmessage: merge\n";
        let out = set_down_revision_yaml(p, block, &["c3"]).expect("edits");
        assert_eq!(out, "revision: m\ndown_revision:\n  - c3\nmessage: merge\n");
        let null = "revision: m\ndown_revision: null\nmessage: base\n";
        assert_eq!(
            set_down_revision_yaml(p, null, &["c3"]).expect("edits"),
            "revision: m\ndown_revision: c3\nmessage: base\n"
        );
        let empty = "revision: m\ndown_revision:\nmessage: base\n";
        assert_eq!(
            set_down_revision_yaml(p, empty, &["c3"]).expect("edits"),
            "revision: m\ndown_revision: c3\nmessage: base\n"
        );
        let missing = "revision: m\nmessage: base\n";
        assert_eq!(
            set_down_revision_yaml(p, missing, &["0042"]).expect("edits"),
            "revision: m\ndown_revision: '0042'\nmessage: base\n"
        );
    }

    const PY: &str = "\"\"\"add email\n\nRevision ID: b2\nRevises: a1\nCreate Date: 2026-01-02 00:00:00\n\n\"\"\"\nfrom alembic import op\n\n# revision identifiers, used by Alembic.\nrevision: str = \"b2\"\ndown_revision: Union[str, None] = \"a1\"  # the parent\nbranch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n    op.add_column(\"users\", sa.Column(\"email\", sa.String()))\n\n\ndef downgrade():\n    pass\n";

    #[test]
    fn python_edits_the_assignment_and_the_revises_line_only() {
        let p = Path::new("b2.py");
        let out = set_down_revision_py(p, PY, &["c3"]).expect("edits");
        assert_eq!(
            diff_lines(PY, &out),
            [
                ("Revises: a1".to_owned(), "Revises: c3".to_owned()),
                (
                    "down_revision: Union[str, None] = \"a1\"  # the parent".to_owned(),
                    "down_revision: Union[str, None] = \"c3\"  # the parent".to_owned()
                )
            ]
        );
        let out = set_down_revision_py(p, PY, &["c3", "d4"]).expect("edits");
        assert!(out.contains("= (\"c3\", \"d4\")  # the parent"), "{out}");
        assert!(out.contains("Revises: c3, d4\n"), "{out}");
        let base = PY
            .replace("Revises: a1", "Revises: ")
            .replace("= \"a1\"", "= None");
        let out = set_down_revision_py(p, &base, &["c3"]).expect("edits");
        assert!(
            out.contains("Revises: c3\n") && out.contains("= \"c3\"  #"),
            "{out}"
        );
    }
}
