//! The version table's rows read back onto the graph: which revisions they name, and
//! the one plan that can start from rows naming revisions this checkout lacks
//! (`stamp --purge`).

use super::graph::{Ix, RevisionGraph};
use super::plan::{self, Direction, Plan, PlanError, Step, VersionOp};

/// A version row naming no revision of the graph (its file is not in this checkout).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the database is at revision {version}, which has no file here")]
pub struct UnknownVersion {
    pub version: String,
}

/// The revisions the version rows stand on, in row order; the first row with no
/// revision in the graph is an error.
pub fn applied(graph: &RevisionGraph, rows: &[String]) -> Result<Vec<Ix>, UnknownVersion> {
    rows.iter()
        .map(|r| {
            graph
                .find(r)
                .ok_or_else(|| UnknownVersion { version: r.clone() })
        })
        .collect()
}

/// The rows that name a revision of the graph, and those that don't.
pub fn split_known(graph: &RevisionGraph, rows: &[String]) -> (Vec<Ix>, Vec<String>) {
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for r in rows {
        match graph.find(r) {
            Some(ix) => known.push(ix),
            None => unknown.push(r.clone()),
        }
    }
    (known, unknown)
}

/// `stamp --purge TARGETS` from whatever rows the table holds: every row goes (those
/// naming revisions this checkout lacks too, which no other plan can touch), then the
/// targets are stamped from base. `rows_before` is every row, as the table has them,
/// so the executor's check that nobody moved the rows compares what is really there.
pub fn stamp_purge(
    graph: &RevisionGraph,
    rows: &[String],
    targets: &[&str],
) -> Result<Plan, PlanError> {
    let (known, unknown) = split_known(graph, rows);
    let mut p = plan::stamp(graph, &known, targets, true)?;
    if !unknown.is_empty() {
        let deletes = unknown
            .into_iter()
            .map(|version| VersionOp::Delete { version });
        match p.steps.first_mut() {
            // The purge step `plan::stamp` made for the known rows: the others join it.
            Some(first) if first.revision.is_none() && !known.is_empty() => {
                let ops: Vec<VersionOp> = deletes.chain(first.version_ops.drain(..)).collect();
                first.version_ops = ops;
            }
            _ => p.steps.insert(
                0,
                Step {
                    revision: None,
                    direction: Direction::Stamp,
                    version_ops: deletes.collect(),
                },
            ),
        }
    }
    p.rows_before = rows.to_vec();
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Revision;

    fn graph() -> RevisionGraph {
        let a = Revision::new("a1", &[]).expect("id");
        let b = Revision::new("b2", &["a1"]).expect("id");
        RevisionGraph::build(vec![a, b]).expect("graph")
    }

    /// Replays the plan's operations on `rows_before`: each delete must find its row.
    fn replay(p: &Plan) -> Vec<String> {
        let mut rows = p.rows_before.clone();
        for op in p.steps.iter().flat_map(|s| &s.version_ops) {
            match op {
                VersionOp::Insert { version } => rows.push(version.clone()),
                VersionOp::Delete { version } => {
                    let at = rows
                        .iter()
                        .position(|r| r == version)
                        .expect("row to delete");
                    rows.remove(at);
                }
                VersionOp::Update { from, to } => {
                    let at = rows.iter().position(|r| r == from).expect("row to update");
                    rows[at] = to.clone();
                }
            }
        }
        rows
    }

    #[test]
    fn rows_map_onto_the_graph_or_name_the_missing_one() {
        let g = graph();
        let rows = vec!["b2".to_owned()];
        assert_eq!(applied(&g, &rows).unwrap(), vec![g.find("b2").unwrap()]);
        let e = applied(&g, &["zz9".to_owned(), "b2".to_owned()]).unwrap_err();
        assert_eq!(e.version, "zz9");
    }

    #[test]
    fn purge_deletes_rows_without_files_and_starts_from_every_row() {
        let g = graph();
        for rows in [
            vec!["zz9".to_owned()],
            vec!["b2".to_owned(), "zz9".to_owned()],
            vec!["zz9".to_owned(), "yy8".to_owned()],
            vec![],
        ] {
            let p = stamp_purge(&g, &rows, &["a1"]).unwrap();
            assert_eq!(p.rows_before, rows, "rows_before is what the table holds");
            assert_eq!(replay(&p), vec!["a1".to_owned()], "{rows:?}: {p:?}");
            assert_eq!(p.rows_after, vec!["a1".to_owned()]);
        }
    }
}
