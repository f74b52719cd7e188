//! Rebasing a branch of the revision graph: the revisions a head adds that are not
//! ancestors of a target are re-parented onto the target, so the graph has one head
//! and no merge revision. Only the `down_revision` of the branch's first revision(s)
//! changes; ids stay, and so does everything else.

use std::collections::HashSet;

use super::{Ix, Problem, Revision, RevisionGraph, RevisionId};

/// One revision whose `down_revision` changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reparent {
    pub revision: Ix,
    pub old_down: Vec<RevisionId>,
    pub new_down: Vec<RevisionId>,
}

/// What a rebase does.
#[derive(Debug, Clone, PartialEq)]
pub enum RebasePlan {
    /// Nothing to move: `rev` already stands on `target` (or is one of its ancestors).
    AlreadyOn,
    /// Move `moved` (the branch, oldest first) by editing `edits`.
    Move {
        moved: Vec<Ix>,
        edits: Vec<Reparent>,
        /// The revisions after the edits (the graph's, with new `down_revision`s), in
        /// the same order as the graph's.
        revisions: Vec<Revision>,
    },
}

/// Why a rebase can't be planned.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RebaseError {
    /// The graph with the new parents is not valid: a `depends_on` would point forward
    /// (a dependency cycle) or a cycle would appear.
    #[error("the rebased graph would not be valid: {}", .problems.first().map(ToString::to_string).unwrap_or_default())]
    Invalid { problems: Vec<Problem> },
}

/// Plans rebasing the revisions `rev`'s branch adds (its ancestors that are not
/// ancestors of `target`) onto `target`.
///
/// ```text
///   a ── b ── c            (target c)
///         └── d ── e       (rev e: d and e move; d's down_revision b becomes c)
/// ```
pub fn plan(graph: &RevisionGraph, rev: Ix, target: Ix) -> Result<RebasePlan, RebaseError> {
    let below_target = graph.ancestors(&[target], false);
    if below_target[rev as usize] {
        return Ok(RebasePlan::AlreadyOn);
    }
    let below_rev = graph.ancestors(&[rev], false);
    let moved: Vec<Ix> = order_oldest_first(
        graph,
        (0..graph.len() as Ix)
            .filter(|&i| below_rev[i as usize] && !below_target[i as usize])
            .collect(),
    );
    let in_branch: HashSet<Ix> = moved.iter().copied().collect();
    let target_id = graph.revision(target).id.clone();
    let mut edits = Vec::new();
    for &m in &moved {
        let parents = graph.parents(m);
        if parents.iter().all(|p| in_branch.contains(p)) && !parents.is_empty() {
            continue;
        }
        let mut new_down: Vec<RevisionId> = Vec::new();
        let mut placed = false;
        for &p in parents {
            if in_branch.contains(&p) {
                new_down.push(graph.revision(p).id.clone());
            } else if !placed {
                new_down.push(target_id.clone());
                placed = true;
            }
        }
        if !placed {
            new_down.push(target_id.clone());
        }
        let old_down = graph.revision(m).down_revisions.clone();
        if old_down != new_down {
            edits.push(Reparent {
                revision: m,
                old_down,
                new_down,
            });
        }
    }
    if edits.is_empty() {
        return Ok(RebasePlan::AlreadyOn);
    }
    let mut revisions = graph.revisions().to_vec();
    for e in &edits {
        revisions[e.revision as usize].down_revisions = e.new_down.clone();
    }
    RevisionGraph::build(revisions.clone()).map_err(|p| RebaseError::Invalid { problems: p.0 })?;
    Ok(RebasePlan::Move {
        moved,
        edits,
        revisions,
    })
}

/// `set` in an order where every revision comes after its parents in the set.
fn order_oldest_first(graph: &RevisionGraph, set: Vec<Ix>) -> Vec<Ix> {
    let members: HashSet<Ix> = set.iter().copied().collect();
    let mut done: HashSet<Ix> = HashSet::new();
    let mut out = Vec::with_capacity(set.len());
    // The graph is acyclic, so each pass places at least one revision.
    while out.len() < set.len() {
        let before = out.len();
        for &i in &set {
            if done.contains(&i) {
                continue;
            }
            if graph
                .parents(i)
                .iter()
                .all(|p| !members.contains(p) || done.contains(p))
            {
                done.insert(i);
                out.push(i);
            }
        }
        if out.len() == before {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rev(id: &str, down: &[&str]) -> Revision {
        Revision::new(id, down).expect("valid test id")
    }

    fn graph(revs: Vec<Revision>) -> RevisionGraph {
        RevisionGraph::build(revs).expect("builds")
    }

    fn ids(g: &RevisionGraph, ixs: &[Ix]) -> Vec<String> {
        ixs.iter().map(|&i| g.id(i).to_owned()).collect()
    }

    ///   a ── b ── c
    ///         └── d ── e
    #[test]
    fn the_branch_moves_onto_the_target_and_only_its_first_revision_changes() {
        let g = graph(vec![
            rev("a", &[]),
            rev("b", &["a"]),
            rev("c", &["b"]),
            rev("d", &["b"]),
            rev("e", &["d"]),
        ]);
        let (e, c) = (g.find("e").expect("e"), g.find("c").expect("c"));
        let RebasePlan::Move {
            moved,
            edits,
            revisions,
        } = plan(&g, e, c).expect("plans")
        else {
            panic!("nothing moved")
        };
        assert_eq!(ids(&g, &moved), ["d", "e"]);
        assert_eq!(edits.len(), 1);
        assert_eq!(g.id(edits[0].revision), "d");
        assert_eq!(edits[0].old_down[0].as_str(), "b");
        assert_eq!(edits[0].new_down[0].as_str(), "c");
        let after = graph(revisions);
        assert_eq!(after.real_heads().len(), 1);
        assert_eq!(after.id(after.real_heads()[0]), "e");
        // Rebasing the other way round moves c onto e.
        let RebasePlan::Move { edits, .. } = plan(&g, c, e).expect("plans") else {
            panic!("nothing moved")
        };
        assert_eq!(g.id(edits[0].revision), "c");
        assert_eq!(edits[0].new_down[0].as_str(), "e");
    }

    ///   a ── b ── c     (c already stands on b; b is an ancestor of c)
    #[test]
    fn a_linear_graph_is_already_on_its_target() {
        let g = graph(vec![rev("a", &[]), rev("b", &["a"]), rev("c", &["b"])]);
        let (b, c) = (g.find("b").expect("b"), g.find("c").expect("c"));
        assert_eq!(plan(&g, c, b).expect("plans"), RebasePlan::AlreadyOn);
        assert_eq!(plan(&g, b, c).expect("plans"), RebasePlan::AlreadyOn);
    }

    ///   a ── b ── c
    ///         └── d      and c depends_on d: moving d after c makes a dependency cycle
    #[test]
    fn a_rebase_that_breaks_a_dependency_is_refused() {
        let mut c = rev("c", &["b"]);
        c.depends_on = vec!["d".into()];
        let g = graph(vec![rev("a", &[]), rev("b", &["a"]), c, rev("d", &["b"])]);
        let (d, c) = (g.find("d").expect("d"), g.find("c").expect("c"));
        let err = plan(&g, d, c).expect_err("refused");
        assert!(matches!(err, RebaseError::Invalid { .. }), "{err}");
    }

    ///   a ── b ── c       x (a second base)
    #[test]
    fn a_second_base_is_put_on_the_target() {
        let g = graph(vec![rev("a", &[]), rev("b", &["a"]), rev("x", &[])]);
        let (x, b) = (g.find("x").expect("x"), g.find("b").expect("b"));
        let RebasePlan::Move { edits, .. } = plan(&g, x, b).expect("plans") else {
            panic!("nothing moved")
        };
        assert!(edits[0].old_down.is_empty());
        assert_eq!(edits[0].new_down[0].as_str(), "b");
    }
}
