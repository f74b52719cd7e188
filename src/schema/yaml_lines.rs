//! Finds the line of a node in block-style YAML text, for error messages.
//!
//! serde_yaml_ng's values carry no positions, so after parsing we locate a node by its
//! path (`tables` → `users` → `columns` → `email`) in the text itself. Block style is
//! followed key by key; inside flow style (`{type: ..}`) the deepest block key found
//! is returned, which is the line a person would look at anyway.

/// One step of a path into the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

struct Line<'t> {
    /// Column of the first character of the key, after any `- ` markers.
    key_col: usize,
    key: Option<&'t str>,
    /// Columns of the `-` sequence markers on the line.
    dashes: Vec<usize>,
}

/// A line index over one YAML text.
pub struct LineIndex<'t> {
    lines: Vec<Option<Line<'t>>>,
}

impl<'t> LineIndex<'t> {
    pub fn new(text: &'t str) -> Self {
        let lines = text.lines().map(parse_line).collect();
        Self { lines }
    }

    /// The 1-based line of the second `key` at column `col` of the mapping that starts
    /// on 1-based line `from`.
    pub fn second_key_at(&self, from: usize, col: usize, key: &str) -> Option<u32> {
        let mut seen = 0;
        for (i, l) in self.lines.iter().enumerate().skip(from.saturating_sub(1)) {
            let Some(l) = l else { continue };
            if l.key.is_some() && l.key_col < col {
                break;
            }
            if l.key_col == col && l.key == Some(key) {
                seen += 1;
                if seen == 2 {
                    return Some(i as u32 + 1);
                }
            }
        }
        None
    }

    /// The 1-based line of `path`, or of its deepest ancestor that could be found.
    pub fn locate(&self, path: &[Seg<'_>]) -> Option<u32> {
        let (mut start, mut end) = (0usize, self.lines.len());
        let mut parent_col: isize = -1;
        let mut found: Option<usize> = None;
        for seg in path {
            match *seg {
                Seg::Key(key) => {
                    // Direct children sit at the smallest key column below the parent.
                    let col = (start..end)
                        .filter_map(|i| self.lines[i].as_ref())
                        .filter(|l| l.key.is_some() && l.key_col as isize > parent_col)
                        .map(|l| l.key_col)
                        .min();
                    let Some(col) = col else { break };
                    let Some(hit) = (start..end).find(|&i| {
                        self.lines[i]
                            .as_ref()
                            .is_some_and(|l| l.key_col == col && l.key == Some(key))
                    }) else {
                        break;
                    };
                    found = Some(hit);
                    parent_col = col as isize;
                    let next = (hit + 1..end).find(|&i| {
                        self.lines[i].as_ref().is_some_and(|l| {
                            (l.key.is_some() && l.key_col <= col)
                                || l.dashes.first().is_some_and(|&d| d < col)
                        })
                    });
                    start = hit + 1;
                    end = next.unwrap_or(end);
                    if start >= end {
                        break;
                    }
                }
                Seg::Index(n) => {
                    let col = (start..end)
                        .filter_map(|i| self.lines[i].as_ref())
                        .flat_map(|l| l.dashes.iter().copied())
                        .filter(|&d| d as isize > parent_col - 1)
                        .min();
                    let Some(col) = col else { break };
                    let items: Vec<usize> = (start..end)
                        .filter(|&i| {
                            self.lines[i]
                                .as_ref()
                                .is_some_and(|l| l.dashes.contains(&col))
                        })
                        .collect();
                    let Some(&hit) = items.get(n) else { break };
                    found = Some(hit);
                    let next = items.get(n + 1).copied().unwrap_or(end);
                    // Keys of the item are at the column after the dash.
                    parent_col = col as isize;
                    // The item's first line may itself carry the first key.
                    start = hit;
                    end = next;
                }
            }
        }
        found.map(|i| i as u32 + 1)
    }
}

fn parse_line(raw: &str) -> Option<Line<'_>> {
    let body = match raw.find(" #") {
        Some(i) if !raw[..i].contains(['\'', '"']) => &raw[..i],
        _ => raw,
    };
    let trimmed = body.trim_start();
    if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("---") {
        return None;
    }
    let mut col = body.len() - trimmed.len();
    let mut rest = trimmed;
    let mut dashes = Vec::new();
    while let Some(after) = rest.strip_prefix('-') {
        if !(after.is_empty() || after.starts_with(' ')) {
            break;
        }
        dashes.push(col);
        let skipped = after.len() - after.trim_start().len();
        col += 1 + skipped;
        rest = after.trim_start();
    }
    let key = key_of(rest);
    Some(Line {
        key_col: col,
        key,
        dashes,
    })
}

fn key_of(rest: &str) -> Option<&str> {
    if rest.starts_with('{') || rest.starts_with('[') {
        return None;
    }
    if let Some(q) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') {
        let inner = &rest[1..];
        let close = inner.find(q)?;
        let after = &inner[close + 1..];
        return after.trim_start().starts_with(':').then(|| &inner[..close]);
    }
    let colon = rest
        .find(": ")
        .or_else(|| rest.strip_suffix(':').map(|s| s.len()))?;
    let key = rest[..colon].trim_end();
    (!key.is_empty()).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "\
tables:
  users:
    columns:
      id: {type: bigint}
      email:
        type: string(255)
    indexes:
      - {columns: [email]}
      - name: ix_two
        columns: [id]
  roles:
    columns:
      id: {type: bigint}
";

    #[test]
    fn keys_and_items_are_found_by_path() {
        let ix = LineIndex::new(DOC);
        use Seg::*;
        assert_eq!(ix.locate(&[Key("tables"), Key("users")]), Some(2));
        assert_eq!(
            ix.locate(&[Key("tables"), Key("users"), Key("columns"), Key("email")]),
            Some(5)
        );
        assert_eq!(
            ix.locate(&[
                Key("tables"),
                Key("users"),
                Key("columns"),
                Key("email"),
                Key("type")
            ]),
            Some(6)
        );
        assert_eq!(
            ix.locate(&[Key("tables"), Key("users"), Key("indexes"), Index(1)]),
            Some(9)
        );
        assert_eq!(
            ix.locate(&[
                Key("tables"),
                Key("users"),
                Key("indexes"),
                Index(1),
                Key("columns")
            ]),
            Some(10)
        );
        assert_eq!(
            ix.locate(&[Key("tables"), Key("roles"), Key("columns"), Key("id")]),
            Some(13)
        );
        // Inside flow style: the deepest block key.
        assert_eq!(
            ix.locate(&[
                Key("tables"),
                Key("users"),
                Key("columns"),
                Key("id"),
                Key("type")
            ]),
            Some(4)
        );
    }
}
