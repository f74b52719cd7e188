//! The stairway's walk (`migrate test`): which revisions are climbed, in which order, and
//! the one-step plans each stair runs (up, down, up again).
//!
//! Pure, like every plan: the runner (`crate::stairway`) hands these plans to the one
//! executor, so the stairway runs exactly the steps `upgrade` and `downgrade` run, with
//! the same version-row changes.

use super::graph::{Ix, RevisionGraph};
use super::plan::{self, plan_from_order, Direction, Plan, PlanError};

/// One revision of the walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stair {
    pub revision: Ix,
    /// Climbed up, down and up again; otherwise only upgraded (it lies below the range).
    pub tested: bool,
}

/// Every revision in upgrade order (as `upgrade heads` from an empty database runs them),
/// up to the last one `tested` marks; the others below it are only upgraded. `tested` is
/// indexed by [`Ix`]; `None` tests every revision.
pub fn walk(graph: &RevisionGraph, tested: Option<&[bool]>) -> Result<Vec<Stair>, PlanError> {
    if graph.is_empty() {
        return Ok(Vec::new());
    }
    let full = plan::upgrade(graph, &[], "heads")?;
    let mut stairs: Vec<Stair> = full
        .steps
        .iter()
        .filter_map(|s| s.revision)
        .map(|revision| Stair {
            revision,
            tested: tested.is_none_or(|t| t.get(revision as usize).copied().unwrap_or(false)),
        })
        .collect();
    let last = stairs.iter().rposition(|s| s.tested).map_or(0, |i| i + 1);
    stairs.truncate(last);
    Ok(stairs)
}

/// The plan that runs `revisions` in `direction`, in that order, from the applied heads
/// `applied` (the version rows): what `upgrade`/`downgrade` would run for them, nothing
/// else. A revision that can't move that way from there is an error.
pub fn steps(
    graph: &RevisionGraph,
    applied: &[Ix],
    revisions: &[Ix],
    direction: Direction,
) -> Result<Plan, PlanError> {
    plan_from_order(graph, applied, revisions, direction)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::revision::{Revision, Sql};
    use crate::core::VersionOp;

    fn rev(id: &str, down: &[&str]) -> Revision {
        let mut r = Revision::new(id, down).expect("a valid revision");
        r.upgrade = Some(Sql::All(format!("-- {id}")));
        r.downgrade = Some(Sql::All(String::new()));
        r
    }

    ///   a
    ///  / \
    /// b   c
    ///  \ /
    ///   m
    fn diamond() -> RevisionGraph {
        RevisionGraph::build(vec![
            rev("a", &[]),
            rev("b", &["a"]),
            rev("c", &["a"]),
            rev("m", &["b", "c"]),
        ])
        .expect("a valid graph")
    }

    #[test]
    fn the_walk_is_the_upgrade_order_and_stops_after_the_last_tested() {
        let g = diamond();
        let all = walk(&g, None).expect("walk");
        let ids: Vec<&str> = all.iter().map(|s| g.id(s.revision)).collect();
        assert_eq!(ids.first(), Some(&"a"));
        assert_eq!(ids.last(), Some(&"m"));
        assert_eq!(ids.len(), 4);
        assert!(all.iter().all(|s| s.tested));

        let mut only = vec![false; g.len()];
        only[g.find("b").expect("b") as usize] = true;
        let part = walk(&g, Some(&only)).expect("walk");
        let ids: Vec<(&str, bool)> = part.iter().map(|s| (g.id(s.revision), s.tested)).collect();
        let b = ids.iter().position(|(i, _)| *i == "b").expect("b walked");
        assert_eq!(ids.len(), b + 1, "nothing after the last tested revision");
        assert!(ids[..b].iter().all(|(_, t)| !t), "{ids:?}");
    }

    #[test]
    fn a_merge_goes_down_to_both_parents_and_up_again() {
        let g = diamond();
        let ix = |id| g.find(id).expect("known");
        let up = steps(&g, &[ix("b"), ix("c")], &[ix("m")], Direction::Upgrade).expect("up");
        assert_eq!(up.steps.len(), 1);
        assert_eq!(up.rows_after, ["m"]);
        let down = steps(&g, &[ix("m")], &[ix("m")], Direction::Downgrade).expect("down");
        assert_eq!(down.steps.len(), 1);
        let mut rows = down.rows_after.clone();
        rows.sort();
        assert_eq!(rows, ["b", "c"]);
        assert!(matches!(
            down.steps[0].version_ops.last(),
            Some(VersionOp::Update { .. })
        ));
        // Not applied yet: a downgrade of it is refused, not silently empty.
        assert!(steps(&g, &[ix("a")], &[ix("b")], Direction::Downgrade).is_err());
    }
}
