//! Tests of the pure core against Alembic's own scenario tests.
//!
//! `revision_map` ports `tests/test_revision.py` (iteration order, identifiers, errors),
//! `traversal` ports `tests/test_version_traversal.py` (upgrade/downgrade/stamp plans and
//! the version rows after each step), `properties` checks invariants on random graphs
//! and `scale` holds ignored timing runs on large generated graphs.
//!
//! Every graph is built with [`graph`] from revisions listed in the order Alembic's test
//! lists them (our load order), and every order is checked against every edge.

mod properties;
mod revision_map;
mod scale;
mod traversal;

use std::collections::BTreeSet;

use super::graph::{Ix, RevisionGraph};
use super::plan::{self, Direction, Plan, PlanError, VersionOp};
use super::resolve::Resolver;
use super::revision::Revision;

/// A revision with parents `down` (a merge when there are several).
pub(super) fn r(id: &str, down: &[&str]) -> Revision {
    Revision::new(id, down).expect("valid test id")
}

/// Builder-style additions to a test revision.
pub(super) trait RevExt {
    fn labels(self, labels: &[&str]) -> Self;
    fn deps(self, deps: &[&str]) -> Self;
}

impl RevExt for Revision {
    fn labels(mut self, labels: &[&str]) -> Self {
        self.branch_labels = labels.iter().map(|l| (*l).to_owned()).collect();
        self
    }
    fn deps(mut self, deps: &[&str]) -> Self {
        self.depends_on = deps.iter().map(|d| (*d).to_owned()).collect();
        self
    }
}

/// Builds a graph that must be valid.
pub(super) fn graph(revs: Vec<Revision>) -> RevisionGraph {
    match RevisionGraph::build(revs) {
        Ok(g) => g,
        Err(e) => panic!("test graph is invalid: {:?}", e.0),
    }
}

pub(super) fn ix(g: &RevisionGraph, id: &str) -> Ix {
    g.find(id).unwrap_or_else(|| panic!("no revision {id}"))
}

pub(super) fn ixs(g: &RevisionGraph, ids: &[&str]) -> Vec<Ix> {
    ids.iter().map(|id| ix(g, id)).collect()
}

pub(super) fn ids(g: &RevisionGraph, revs: &[Ix]) -> Vec<String> {
    revs.iter().map(|&r| g.id(r).to_owned()).collect()
}

pub(super) fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// Asserts `bottom_up` lists each revision after every parent and dependency (declared
/// or normalized) that is also in the list, and lists no revision twice.
pub(super) fn assert_respects_edges(g: &RevisionGraph, bottom_up: &[Ix]) {
    let mut pos = vec![usize::MAX; g.len()];
    for (i, &x) in bottom_up.iter().enumerate() {
        assert_eq!(pos[x as usize], usize::MAX, "{} listed twice", g.id(x));
        pos[x as usize] = i;
    }
    for (i, &x) in bottom_up.iter().enumerate() {
        let below = g
            .parents(x)
            .iter()
            .chain(g.dependencies(x))
            .chain(g.normalized_dependencies(x));
        for &d in below {
            let p = pos[d as usize];
            assert!(
                p == usize::MAX || p < i,
                "{} comes before its down revision {} in {:?}",
                g.id(x),
                g.id(d),
                ids(g, bottom_up)
            );
        }
    }
}

/// Alembic's `iterate_revisions(upper, lower)` going up, checked against every edge.
pub(super) fn up(
    g: &RevisionGraph,
    upper: &[&str],
    lower: &[&str],
    inclusive: bool,
    implicit_base: bool,
) -> Vec<String> {
    let order = plan::iterate_up(g, upper, lower, inclusive, implicit_base)
        .unwrap_or_else(|e| panic!("iterate {upper:?} from {lower:?}: {e}"));
    let mut bottom_up = order.clone();
    bottom_up.reverse();
    assert_respects_edges(g, &bottom_up);
    ids(g, &order)
}

pub(super) fn up_err(
    g: &RevisionGraph,
    upper: &[&str],
    lower: &[&str],
    inclusive: bool,
    implicit_base: bool,
) -> String {
    match plan::iterate_up(g, upper, lower, inclusive, implicit_base) {
        Ok(order) => panic!("expected an error, got {:?}", ids(g, &order)),
        Err(e) => e.to_string(),
    }
}

/// Resolves Alembic-style identifiers (`heads`, `b_2@head`, ids) to revisions.
pub(super) fn resolve_all(g: &RevisionGraph, idents: &[&str]) -> Vec<Ix> {
    let resolver = Resolver::new(g);
    let mut out = Vec::new();
    for i in idents {
        out.extend(
            resolver
                .revisions(i)
                .unwrap_or_else(|e| panic!("resolve {i}: {e}")),
        );
    }
    out
}

/// Alembic's `iterate_revisions(upper, lower, select_for_downgrade=True)`.
pub(super) fn down(
    g: &RevisionGraph,
    upper: &[&str],
    lower: &str,
    inclusive: bool,
    implicit_base: bool,
) -> Vec<String> {
    let heads = resolve_all(g, upper);
    let order = plan::iterate_down(g, &heads, lower, inclusive, implicit_base)
        .unwrap_or_else(|e| panic!("iterate down {upper:?} to {lower}: {e}"));
    let mut bottom_up = order.clone();
    bottom_up.reverse();
    assert_respects_edges(g, &bottom_up);
    ids(g, &order)
}

/// Replays a plan's version-table operations on its `rows_before`, checking each one
/// could run (Alembic's one-row rule), and returns the rows after every step. The last
/// entry must equal `rows_after`.
pub(super) fn replay(plan: &Plan) -> Vec<BTreeSet<String>> {
    let mut rows: BTreeSet<String> = plan.rows_before.iter().cloned().collect();
    assert_eq!(rows.len(), plan.rows_before.len(), "duplicate rows before");
    let mut after = Vec::new();
    for step in &plan.steps {
        for op in &step.version_ops {
            match op {
                VersionOp::Insert { version } => {
                    assert!(
                        rows.insert(version.clone()),
                        "insert of present row {version}"
                    )
                }
                VersionOp::Delete { version } => {
                    assert!(rows.remove(version), "delete of absent row {version}")
                }
                VersionOp::Update { from, to } => {
                    assert!(rows.remove(from), "update of absent row {from}");
                    assert!(rows.insert(to.clone()), "update onto present row {to}");
                }
            }
        }
        after.push(rows.clone());
    }
    let final_rows: BTreeSet<String> = plan.rows_after.iter().cloned().collect();
    assert_eq!(
        final_rows.len(),
        plan.rows_after.len(),
        "duplicate rows after"
    );
    assert_eq!(rows, final_rows, "replayed ops disagree with rows_after");
    after
}

/// Checks the plan's steps against the edges (upgrade: bottom-up; downgrade: top-down),
/// replays its version rows, and returns (revision ids, final rows).
pub(super) fn check_plan(g: &RevisionGraph, plan: &Plan) -> (Vec<String>, BTreeSet<String>) {
    let revs: Vec<Ix> = plan.steps.iter().filter_map(|s| s.revision).collect();
    match plan.steps.first().map(|s| s.direction) {
        Some(Direction::Downgrade) => {
            let mut bottom_up = revs.clone();
            bottom_up.reverse();
            assert_respects_edges(g, &bottom_up);
        }
        Some(Direction::Upgrade) => assert_respects_edges(g, &revs),
        _ => {}
    }
    let rows = replay(plan)
        .pop()
        .unwrap_or_else(|| plan.rows_before.iter().cloned().collect());
    (ids(g, &revs), rows)
}

/// Alembic's `_assert_upgrade(destination, source, expected, expected_heads)`.
pub(super) fn assert_upgrade(
    g: &RevisionGraph,
    dest: &str,
    source: &[&str],
    expected: &[&str],
    expected_rows: &[&str],
) {
    let p = plan::upgrade(g, &ixs(g, source), dest)
        .unwrap_or_else(|e| panic!("upgrade {dest} from {source:?}: {e}"));
    assert!(p.steps.iter().all(|s| s.direction == Direction::Upgrade));
    let (revs, rows) = check_plan(g, &p);
    assert_eq!(revs, expected, "upgrade {dest} from {source:?}");
    assert_eq!(
        rows,
        set(expected_rows),
        "rows after upgrade {dest} from {source:?}"
    );
}

/// Upgrade to several targets at once (Alembic's tests pass tuples).
pub(super) fn assert_upgrade_many(
    g: &RevisionGraph,
    dests: &[&str],
    source: &[&str],
    expected: &[&str],
    expected_rows: &[&str],
) {
    let mut order = plan::iterate_up(g, dests, source, false, true)
        .unwrap_or_else(|e| panic!("upgrade {dests:?} from {source:?}: {e}"));
    order.reverse();
    let p = plan::plan_from_order(g, &ixs(g, source), &order, Direction::Upgrade)
        .unwrap_or_else(|e| panic!("rows for {dests:?}: {e}"));
    let (revs, rows) = check_plan(g, &p);
    assert_eq!(revs, expected, "upgrade {dests:?} from {source:?}");
    assert_eq!(rows, set(expected_rows));
}

/// Alembic's `_assert_downgrade(destination, source, expected, expected_heads)`.
pub(super) fn assert_downgrade(
    g: &RevisionGraph,
    dest: &str,
    source: &[&str],
    expected: &[&str],
    expected_rows: &[&str],
) {
    let p = plan::downgrade(g, &ixs(g, source), dest)
        .unwrap_or_else(|e| panic!("downgrade {dest} from {source:?}: {e}"));
    assert!(p.steps.iter().all(|s| s.direction == Direction::Downgrade));
    let (revs, rows) = check_plan(g, &p);
    assert_eq!(revs, expected, "downgrade {dest} from {source:?}");
    assert_eq!(
        rows,
        set(expected_rows),
        "rows after downgrade {dest} from {source:?}"
    );
}

pub(super) fn upgrade_err(g: &RevisionGraph, dest: &str, source: &[&str]) -> PlanError {
    match plan::upgrade(g, &ixs(g, source), dest) {
        Ok(p) => panic!("expected an error, got {:?}", p.revision_ids(g)),
        Err(e) => e,
    }
}

pub(super) fn downgrade_err(g: &RevisionGraph, dest: &str, source: &[&str]) -> PlanError {
    match plan::downgrade(g, &ixs(g, source), dest) {
        Ok(p) => panic!("expected an error, got {:?}", p.revision_ids(g)),
        Err(e) => e,
    }
}

/// Runs the given revisions as steps in the given order from `rows` and returns the
/// rows after each step (Alembic's tests that drive `HeadMaintainer` by hand).
pub(super) fn rows_per_step(
    g: &RevisionGraph,
    rows: &[&str],
    order: &[&str],
    direction: Direction,
) -> Vec<BTreeSet<String>> {
    let p = plan::plan_from_order(g, &ixs(g, rows), &ixs(g, order), direction)
        .unwrap_or_else(|e| panic!("steps {order:?} from {rows:?}: {e}"));
    replay(&p)
}

/// A stamp plan, replayed: (number of steps, the version ops of each step, final rows).
pub(super) fn stamp(
    g: &RevisionGraph,
    rows: &[&str],
    targets: &[&str],
) -> (Vec<Vec<VersionOp>>, BTreeSet<String>) {
    let p = plan::stamp(g, &ixs(g, rows), targets, false)
        .unwrap_or_else(|e| panic!("stamp {targets:?} from {rows:?}: {e}"));
    let after = replay(&p);
    let last = after
        .last()
        .cloned()
        .unwrap_or_else(|| p.rows_before.iter().cloned().collect());
    (p.steps.into_iter().map(|s| s.version_ops).collect(), last)
}

pub(super) fn ins(v: &str) -> VersionOp {
    VersionOp::Insert { version: v.into() }
}
pub(super) fn del(v: &str) -> VersionOp {
    VersionOp::Delete { version: v.into() }
}
pub(super) fn upd(from: &str, to: &str) -> VersionOp {
    VersionOp::Update {
        from: from.into(),
        to: to.into(),
    }
}
