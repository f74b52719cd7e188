//! How one revision is described: the JSON entry shared by `history`, `heads` and
//! `show`, and Alembic-style text lines.

use std::path::PathBuf;

use migrate::core::{Body, Ix, RevisionGraph, Sql};
use serde::Serialize;

use super::output::Paint;

/// A revision as `history --format json` prints it.
#[derive(Debug, Serialize)]
pub struct Entry {
    pub revision: String,
    pub down_revisions: Vec<String>,
    pub depends_on: Vec<String>,
    pub branch_labels: Vec<String>,
    pub message: String,
    pub is_head: bool,
    pub is_base: bool,
    pub is_branch_point: bool,
    pub is_merge_point: bool,
    pub path: Option<PathBuf>,
}

impl Entry {
    pub fn new(graph: &RevisionGraph, ix: Ix) -> Self {
        let rev = graph.revision(ix);
        Self {
            revision: rev.id.to_string(),
            down_revisions: rev.down_revisions.iter().map(|d| d.to_string()).collect(),
            depends_on: rev.depends_on.clone(),
            branch_labels: graph.branch_labels(ix).map(str::to_owned).collect(),
            message: rev.summary().to_owned(),
            is_head: graph.is_head(ix),
            is_base: graph.is_base(ix),
            is_branch_point: graph.is_branch_point(ix),
            is_merge_point: graph.is_merge_point(ix),
            path: rev.origin.path.clone(),
        }
    }
}

/// The flags after an id: `(label) (head) (branchpoint) (mergepoint)`.
pub fn flags(graph: &RevisionGraph, ix: Ix, paint: Paint) -> String {
    let mut out = String::new();
    let labels: Vec<&str> = graph.branch_labels(ix).collect();
    if !labels.is_empty() {
        out.push_str(&format!(" ({})", labels.join(", ")));
    }
    if graph.is_head(ix) {
        if graph.is_real_head(ix) {
            out.push_str(&paint.flag(" (head)"));
        } else {
            out.push_str(&paint.flag(" (effective head)"));
        }
    }
    if graph.is_branch_point(ix) {
        out.push_str(&paint.flag(" (branchpoint)"));
    }
    if graph.is_merge_point(ix) {
        out.push_str(&paint.flag(" (mergepoint)"));
    }
    out
}

/// Text from a revision file as a terminal may show it: control characters (an ANSI
/// escape sequence in a stranger's message) escaped, never sent raw.
pub fn shown(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_owned();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// What a one-line entry shows, as Alembic's `Script._head_only` takes it.
#[derive(Debug, Clone, Copy, Default)]
pub struct LineParts {
    /// `a, b (dep) -> ` before the id.
    pub parents: bool,
    /// ` (label)` after the id.
    pub branches: bool,
    /// ` (branchpoint)`, ` (mergepoint)`.
    pub tree: bool,
    /// `, message` at the end.
    pub doc: bool,
    /// ` (current)`.
    pub current: bool,
}

impl LineParts {
    /// What `history` shows.
    pub const HISTORY: LineParts = LineParts {
        parents: true,
        branches: true,
        tree: true,
        doc: true,
        current: false,
    };
}

/// One revision on one line, part by part in Alembic's order:
/// `a, b (dep) -> c (label) (head) (current) (branchpoint) (mergepoint), message`.
pub fn one_line(graph: &RevisionGraph, ix: Ix, paint: Paint, parts: LineParts) -> String {
    let rev = graph.revision(ix);
    let mut out = String::new();
    if parts.parents {
        let from: Vec<&str> = graph.parents(ix).iter().map(|&p| graph.id(p)).collect();
        if from.is_empty() {
            out.push_str("<base>");
        } else {
            out.push_str(&from.join(", "));
        }
        if !rev.depends_on.is_empty() {
            out.push_str(&format!(" ({})", rev.depends_on.join(", ")));
        }
        out.push_str(" -> ");
    }
    out.push_str(&paint.id(rev.id.as_str()));
    if parts.branches {
        let labels: Vec<&str> = graph.branch_labels(ix).collect();
        if !labels.is_empty() {
            out.push_str(&format!(" ({})", labels.join(", ")));
        }
    }
    if graph.is_real_head(ix) {
        out.push_str(&paint.flag(" (head)"));
    } else if graph.is_head(ix) {
        out.push_str(&paint.flag(" (effective head)"));
    }
    if parts.current {
        out.push_str(&paint.flag(" (current)"));
    }
    if parts.tree {
        if graph.is_branch_point(ix) {
            out.push_str(&paint.flag(" (branchpoint)"));
        }
        if graph.is_merge_point(ix) {
            out.push_str(&paint.flag(" (mergepoint)"));
        }
    }
    if parts.doc {
        out.push_str(", ");
        out.push_str(&shown(rev.summary()));
    }
    out
}

/// The verbose entry of `show`, `heads --verbose` and `history --verbose`.
pub fn verbose(graph: &RevisionGraph, ix: Ix, paint: Paint) -> String {
    verbose_marked(graph, ix, paint, false)
}

/// [`verbose`], with Alembic's ` (current)` flag when `current`.
pub fn verbose_marked(graph: &RevisionGraph, ix: Ix, paint: Paint, current: bool) -> String {
    let rev = graph.revision(ix);
    if rev.body == Body::Python {
        return alembic_verbose(graph, ix, paint, current);
    }
    let mut out = format!(
        "Rev: {}{}\n",
        paint.id(rev.id.as_str()),
        flags(graph, ix, paint)
    );
    let parents: Vec<&str> = graph.parents(ix).iter().map(|&p| graph.id(p)).collect();
    match parents.as_slice() {
        [] => out.push_str("Parent: <base>\n"),
        [one] => out.push_str(&format!("Parent: {one}\n")),
        many => out.push_str(&format!("Merges: {}\n", many.join(", "))),
    }
    if !rev.depends_on.is_empty() {
        out.push_str(&format!("Also depends on: {}\n", rev.depends_on.join(", ")));
    }
    let labels: Vec<&str> = graph.branch_labels(ix).collect();
    if !labels.is_empty() {
        out.push_str(&format!("Branch names: {}\n", labels.join(", ")));
    }
    if let Some(p) = &rev.origin.path {
        out.push_str(&format!("Path: {}\n", p.display()));
    }
    if let Some(d) = rev.create_date {
        out.push_str(&format!(
            "Create Date: {}\n",
            d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ));
    }
    if rev.transactional.anywhere_outside() {
        out.push_str(&format!("Transactional: {}\n", rev.transactional));
    }
    out.push('\n');
    for line in rev.message.lines() {
        out.push_str(&format!("    {}\n", shown(line)));
    }
    out
}

/// Alembic's own verbose entry (`Script.log_entry`), line for line: an Alembic
/// project's `show` and `history --verbose` read exactly as Alembic's do. Children are
/// sorted (Alembic's order there follows Python's hash seed).
fn alembic_verbose(graph: &RevisionGraph, ix: Ix, paint: Paint, current: bool) -> String {
    let rev = graph.revision(ix);
    let mut out = format!("Rev: {}", paint.id(rev.id.as_str()));
    if graph.is_head(ix) {
        out.push_str(&paint.flag(" (head)"));
    }
    if graph.is_branch_point(ix) {
        out.push_str(&paint.flag(" (branchpoint)"));
    }
    if graph.is_merge_point(ix) {
        out.push_str(&paint.flag(" (mergepoint)"));
    }
    if current {
        out.push_str(&paint.flag(" (current)"));
    }
    out.push('\n');
    let parents: Vec<&str> = rev.down_revisions.iter().map(|d| d.as_str()).collect();
    let down = if parents.is_empty() {
        "<base>".to_owned()
    } else {
        parents.join(", ")
    };
    let key = if graph.is_merge_point(ix) {
        "Merges"
    } else {
        "Parent"
    };
    out.push_str(&format!("{key}: {down}\n"));
    if !rev.depends_on.is_empty() {
        out.push_str(&format!("Also depends on: {}\n", rev.depends_on.join(", ")));
    }
    if graph.is_branch_point(ix) {
        let mut children: Vec<&str> = graph.children(ix).iter().map(|&c| graph.id(c)).collect();
        children.sort_unstable();
        out.push_str(&format!("Branches into: {}\n", children.join(", ")));
    }
    let labels: Vec<&str> = graph.branch_labels(ix).collect();
    if !labels.is_empty() {
        out.push_str(&format!("Branch names: {}\n", labels.join(", ")));
    }
    if let Some(p) = &rev.origin.path {
        out.push_str(&format!("Path: {}\n", p.display()));
    }
    out.push('\n');
    let doc: Vec<String> = rev
        .message
        .lines()
        .map(|l| format!("    {}", shown(l)))
        .collect();
    out.push_str(&doc.join("\n"));
    out.push('\n');
    out
}

/// SQL for JSON output: a string, a dialect map, or null.
pub fn sql_json(sql: Option<&Sql>) -> serde_json::Value {
    match sql {
        None => serde_json::Value::Null,
        Some(sql) => serde_json::to_value(sql).unwrap_or(serde_json::Value::Null),
    }
}
