//! How one revision is described: the JSON entry shared by `history`, `heads` and
//! `show`, and Alembic-style text lines.

use std::path::PathBuf;

use migrate::core::{Ix, RevisionGraph, Sql};
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
            message: rev.message.clone(),
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

/// Alembic's history line: `a, b (dep) -> c (label) (head), message`.
pub fn line(graph: &RevisionGraph, ix: Ix, paint: Paint) -> String {
    let rev = graph.revision(ix);
    let mut from: Vec<String> = graph
        .parents(ix)
        .iter()
        .map(|&p| graph.id(p).to_owned())
        .collect();
    if from.is_empty() {
        from.push("<base>".to_owned());
    }
    let mut down = from.join(", ");
    let deps: Vec<&str> = graph
        .dependencies(ix)
        .iter()
        .map(|&d| graph.id(d))
        .collect();
    if !deps.is_empty() {
        down.push_str(&format!(" ({})", deps.join(", ")));
    }
    format!(
        "{down} -> {}{}, {}",
        paint.id(rev.id.as_str()),
        flags(graph, ix, paint),
        shown(&rev.message)
    )
}

/// The verbose entry of `show`, `heads --verbose` and `history --verbose`.
pub fn verbose(graph: &RevisionGraph, ix: Ix, paint: Paint) -> String {
    let rev = graph.revision(ix);
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
    if !rev.transactional {
        out.push_str("Transactional: false\n");
    }
    out.push('\n');
    for line in rev.message.lines() {
        out.push_str(&format!("    {}\n", shown(line)));
    }
    out
}

/// SQL for JSON output: a string, a dialect map, or null.
pub fn sql_json(sql: Option<&Sql>) -> serde_json::Value {
    match sql {
        None => serde_json::Value::Null,
        Some(sql) => serde_json::to_value(sql).unwrap_or(serde_json::Value::Null),
    }
}
