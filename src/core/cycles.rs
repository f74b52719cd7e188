//! Cycles in the revision graph, found with petgraph's strongly connected components:
//! through `down_revision` first, then those that need `depends_on` edges too.

use petgraph::graph::{DiGraph, NodeIndex};

use super::graph::Ix;
use super::problem::{Problem, ProblemKind};
use super::revision::Revision;

/// Cycles through `down_revision`, then cycles that need `depends_on` edges too.
pub(super) fn find_cycles(
    revisions: &[Revision],
    parents: &[Vec<Ix>],
    deps: &[Vec<Ix>],
) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut in_plain_cycle = vec![false; revisions.len()];
    for with_deps in [false, true] {
        let mut g: DiGraph<(), ()> = DiGraph::with_capacity(revisions.len(), revisions.len());
        for _ in 0..revisions.len() {
            g.add_node(());
        }
        for (ix, ps) in parents.iter().enumerate() {
            for &p in ps {
                g.add_edge(NodeIndex::new(ix), NodeIndex::new(p as usize), ());
            }
            if with_deps {
                for &d in &deps[ix] {
                    g.add_edge(NodeIndex::new(ix), NodeIndex::new(d as usize), ());
                }
            }
        }
        for component in petgraph::algo::kosaraju_scc(&g) {
            let self_loop = component.len() == 1 && {
                let ix = component[0].index();
                parents[ix].contains(&(ix as Ix)) || (with_deps && deps[ix].contains(&(ix as Ix)))
            };
            if component.len() < 2 && !self_loop {
                continue;
            }
            let mut members: Vec<usize> = component.iter().map(|c| c.index()).collect();
            if with_deps && members.iter().all(|&m| in_plain_cycle[m]) {
                continue;
            }
            members.sort_unstable();
            for &m in &members {
                in_plain_cycle[m] = true;
            }
            let ids: Vec<String> = members
                .iter()
                .map(|&m| revisions[m].id.to_string())
                .collect();
            let (kind, what) = match (with_deps, self_loop) {
                (false, false) => (ProblemKind::Cycle, "Cycle is detected in revisions"),
                (false, true) => (ProblemKind::Cycle, "Self-loop is detected in revisions"),
                (true, false) => (
                    ProblemKind::DependencyCycle,
                    "Dependency cycle is detected in revisions",
                ),
                (true, true) => (
                    ProblemKind::DependencyCycle,
                    "Dependency self-loop is detected in revisions",
                ),
            };
            let first = &revisions[members[0]];
            problems.push(
                Problem::new(kind, format!("{what} ({})", ids.join(", ")))
                    .at(first.origin.path.clone(), first.origin.down_revision_line)
                    .revisions(ids),
            );
        }
    }
    problems
}
