//! Plans: which revisions an upgrade, downgrade or stamp runs, in which order, and how
//! the version table changes after each step.
//!
//! A plan is a pure function of (graph, applied heads, target). The executor, `--dry-run`,
//! `--sql` and `current`/`check` all consume the same [`Plan`]; none recomputes it.

use serde::Serialize;

use super::graph::{Ix, RevisionGraph};
use super::order::topological_order;
use super::resolve::{ResolveError, Resolver};
use super::revision::{Body, Dialect};

/// Which way a step moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Upgrade,
    Downgrade,
    Stamp,
}

impl Direction {
    pub fn name(self) -> &'static str {
        match self {
            Direction::Upgrade => "upgrade",
            Direction::Downgrade => "downgrade",
            Direction::Stamp => "stamp",
        }
    }

    /// The direction named `name` (as the log stores it).
    pub fn parse(name: &str) -> Option<Self> {
        [Direction::Upgrade, Direction::Downgrade, Direction::Stamp]
            .into_iter()
            .find(|d| d.name() == name)
    }
}

impl std::fmt::Display for Direction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One change to the version table, in the order it is made.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum VersionOp {
    Insert { version: String },
    Delete { version: String },
    Update { from: String, to: String },
}

/// One step of a plan: run one revision's SQL in one direction (none for a stamp), then
/// make `version_ops`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The revision whose SQL runs; for a stamp step, the revision stamped (no SQL runs;
    /// `None` when stamping base).
    pub revision: Option<Ix>,
    pub direction: Direction,
    pub version_ops: Vec<VersionOp>,
}

/// An ordered list of steps, with the version rows before and after.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    pub steps: Vec<Step>,
    /// Version rows before the first step, as given.
    pub rows_before: Vec<String>,
    /// Version rows after the last step.
    pub rows_after: Vec<String>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

/// Why no plan could be made, or why a plan can't run on a backend.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    #[error("revision {revision} ({location}) is irreversible: it has no downgrade; refusing to run anything")]
    Irreversible { revision: String, location: String },
    #[error("revision {revision} ({location}) has no {direction} SQL for {dialect}; add a '{dialect}' entry to its {direction} map; refusing to run anything")]
    NoSqlForDialect {
        revision: String,
        location: String,
        direction: &'static str,
        dialect: Dialect,
    },
    #[error("revision {revision} ({location}) is an Alembic revision (Python): migrate can't run it itself; run the plan through Alembic (`migrate upgrade` on the Alembic project, or `alembic upgrade`)")]
    PythonRevision { revision: String, location: String },
    #[error("the version rows can't follow revision {revision}: {detail}")]
    VersionRows { revision: String, detail: String },
}

impl Plan {
    /// Ids of the revisions whose SQL runs, in order.
    pub fn revision_ids<'g>(&self, graph: &'g RevisionGraph) -> Vec<&'g str> {
        self.steps
            .iter()
            .filter(|s| s.direction != Direction::Stamp)
            .filter_map(|s| s.revision.map(|r| graph.id(r)))
            .collect()
    }

    /// Refuses, before anything runs, a plan with a step that can't run on `dialect`
    /// (see [`step_sql`]).
    pub fn check_runnable(&self, graph: &RevisionGraph, dialect: Dialect) -> Result<(), PlanError> {
        for step in &self.steps {
            step_sql(graph, step, dialect)?;
        }
        Ok(())
    }
}

/// The SQL a step runs on `dialect`: `None` when the revision has none to run (a merge,
/// a stamp). The one rule for whether a step can run: not a downgrade through an
/// irreversible revision, not a revision without SQL for the dialect, not a Python
/// (Alembic) revision, which only Alembic can run.
pub fn step_sql<'g>(
    graph: &'g RevisionGraph,
    step: &Step,
    dialect: Dialect,
) -> Result<Option<&'g str>, PlanError> {
    let Some(ix) = step.revision else {
        return Ok(None);
    };
    let rev = graph.revision(ix);
    if step.direction == Direction::Stamp {
        return Ok(None);
    }
    let location = || rev.location(rev.origin.revision_line);
    if rev.body == Body::Python {
        return Err(PlanError::PythonRevision {
            revision: rev.id.to_string(),
            location: location(),
        });
    }
    let sql = match step.direction {
        Direction::Upgrade => rev.upgrade.as_ref(),
        _ if rev.is_irreversible() => {
            return Err(PlanError::Irreversible {
                revision: rev.id.to_string(),
                location: location(),
            })
        }
        _ => rev.downgrade.as_ref(),
    };
    let Some(sql) = sql else { return Ok(None) };
    match sql.for_dialect(dialect) {
        Some(text) => Ok(Some(text)),
        None => Err(PlanError::NoSqlForDialect {
            revision: rev.id.to_string(),
            location: location(),
            direction: step.direction.name(),
            dialect,
        }),
    }
}

/// Alembic's `iterate_revisions` for going up: the revisions needed to reach `upper`
/// from `lower`, newest first. `inclusive` keeps the lower revisions themselves;
/// `implicit_base` also fills in other branches down to base (what `upgrade` does).
pub fn iterate_up(
    graph: &RevisionGraph,
    upper: &[&str],
    lower: &[&str],
    inclusive: bool,
    implicit_base: bool,
) -> Result<Vec<Ix>, PlanError> {
    let resolver = Resolver::new(graph);
    let lower_revs = resolve_lower(&resolver, upper, lower)?;
    let mut targets = match upper {
        [one] => resolver.upgrade_targets(&lower_revs, one)?,
        many => {
            let mut out = Vec::new();
            for u in many {
                out.extend(resolver.revisions(u)?);
            }
            out
        }
    };
    if let [one] = lower {
        if let Some((label, _)) = one.split_once('@') {
            // `label@base:heads` goes up that branch only.
            let label = match graph.find(label) {
                Some(ix) => graph.branch_labels(ix).next().unwrap_or(label).to_owned(),
                None => label.to_owned(),
            };
            targets.retain(|&t| graph.has_label(t, &label));
        }
    }
    check_overlap(graph, &targets)?;
    check_overlap(graph, &lower_revs)?;
    let required = graph.ancestors(&targets, true);
    if !implicit_base && lower_revs.iter().any(|&l| !required[l as usize]) {
        return Err(ResolveError::RangeNotAncestor {
            lower: describe(lower),
            upper: describe(upper),
        }
        .into());
    }
    let current = graph.ancestors(&lower_revs, true);
    let mut todo: Vec<bool> = required
        .iter()
        .zip(&current)
        .map(|(&r, &c)| r && !c)
        .collect();
    if inclusive {
        for &l in &lower_revs {
            todo[l as usize] = true;
        }
    }
    if !lower_revs.is_empty() && !implicit_base {
        let above = graph.descendants(&lower_revs, false);
        for (t, a) in todo.iter_mut().zip(above) {
            *t &= a;
        }
    }
    Ok(topological_order(graph, &todo, &targets))
}

fn describe(revs: &[&str]) -> String {
    match revs {
        [] => "base".to_owned(),
        [one] => (*one).to_owned(),
        many => many.join(", "),
    }
}

/// The lower bound of an upward iteration; a relative one (`head-2`) is walked from the
/// upper bound, as Alembic does.
fn resolve_lower(
    resolver: &Resolver<'_>,
    upper: &[&str],
    lower: &[&str],
) -> Result<Vec<Ix>, PlanError> {
    let mut out = Vec::new();
    for l in lower {
        match resolver.revisions(l) {
            Ok(revs) => out.extend(revs),
            Err(e) => {
                if super::resolve::parse_relative(l).is_none() {
                    return Err(e.into());
                }
                let mut up = Vec::new();
                for u in upper {
                    up.extend(resolver.revisions(u)?);
                }
                out.extend(resolver.downgrade_target(&up, l)?.1);
            }
        }
    }
    Ok(out)
}

/// Alembic's `iterate_revisions(select_for_downgrade=True)`: what a downgrade from the
/// heads `upper` to `lower` removes, in removal order.
pub fn iterate_down(
    graph: &RevisionGraph,
    upper: &[Ix],
    lower: &str,
    inclusive: bool,
    implicit_base: bool,
) -> Result<Vec<Ix>, PlanError> {
    let resolver = Resolver::new(graph);
    let (label, dest) = resolver.downgrade_target(upper, lower)?;
    let mut roots: Vec<Ix> = match dest {
        None => graph.bases().to_vec(),
        Some(d) if inclusive => vec![d],
        Some(d) => graph.children(d).to_vec(),
    };
    if let Some(label) = &label {
        if roots.len() > 1 {
            let anchor = resolver.resolve_branch(label)?;
            let below = graph.ancestors(&[anchor], false);
            roots.retain(|&r| below[r as usize]);
            if roots.is_empty() {
                return Err(ResolveError::NoDowngradeRoots.into());
            }
        }
    }
    let above = graph.descendants(&roots, true);
    let active = graph.ancestors(upper, true);
    let mut todo: Vec<bool> = above.iter().zip(&active).map(|(&a, &b)| a && b).collect();
    if implicit_base {
        let keep = graph.ancestors(&roots, true);
        for (i, t) in todo.iter_mut().enumerate() {
            *t |= active[i] && !keep[i];
        }
    }
    if let Some(d) = dest {
        if !todo.iter().any(|&t| t) && !upper.contains(&d) {
            return Err(ResolveError::NotDowngradeTarget {
                target: lower.to_owned(),
            }
            .into());
        }
    }
    Ok(topological_order(graph, &todo, upper))
}

/// The plan for `upgrade TARGET` from the applied heads (the version rows, in row order).
pub fn upgrade(graph: &RevisionGraph, applied: &[Ix], target: &str) -> Result<Plan, PlanError> {
    let lower: Vec<&str> = applied.iter().map(|&a| graph.id(a)).collect();
    let mut order = iterate_up(graph, &[target], &lower, false, true)?;
    order.reverse();
    plan_from_order(graph, applied, &order, Direction::Upgrade)
}

/// The plan for an offline `--sql` upgrade over `FROM:TO`: `FROM` plays the applied heads.
pub fn upgrade_range(graph: &RevisionGraph, from: &str, to: &str) -> Result<Plan, PlanError> {
    let resolver = Resolver::new(graph);
    let applied = resolver.revisions(from)?;
    let mut order = iterate_up(graph, &[to], &[from], false, true)?;
    order.reverse();
    plan_from_order(graph, &applied, &order, Direction::Upgrade)
}

/// Alembic refuses targets of which one is an ancestor of another. One walk finds
/// whether any is; only then is the culprit named (the first target, in the order
/// given, with another below it).
fn check_overlap(graph: &RevisionGraph, targets: &[Ix]) -> Result<(), PlanError> {
    if targets.len() < 2 {
        return Ok(());
    }
    let starts: Vec<Ix> = targets
        .iter()
        .flat_map(|&t| graph.normalized_down(t))
        .collect();
    let strictly_below = graph.ancestors(&starts, true);
    if !targets.iter().any(|&t| strictly_below[t as usize]) {
        return Ok(());
    }
    for &t in targets {
        let below = graph.ancestors(&[t], true);
        let others: Vec<String> = targets
            .iter()
            .filter(|&&o| o != t && below[o as usize])
            .map(|&o| graph.id(o).to_owned())
            .collect();
        if !others.is_empty() {
            return Err(ResolveError::Overlap {
                revision: graph.id(t).to_owned(),
                others,
            }
            .into());
        }
    }
    Ok(())
}

/// The plan for `downgrade TARGET` from the applied heads. Downgrading one branch to its
/// branch point leaves the other branches alone; unrelated heads are untouched.
pub fn downgrade(graph: &RevisionGraph, applied: &[Ix], target: &str) -> Result<Plan, PlanError> {
    let order = iterate_down(graph, applied, target, false, false)?;
    plan_from_order(graph, applied, &order, Direction::Downgrade)
}

/// The plan for an offline `--sql` downgrade over `FROM:TO`.
pub fn downgrade_range(graph: &RevisionGraph, from: &str, to: &str) -> Result<Plan, PlanError> {
    let applied = Resolver::new(graph).revisions(from)?;
    downgrade(graph, &applied, to)
}

/// Revisions of `history -r LOWER:UPPER`, newest first (Alembic's `walk_revisions`).
pub fn history(graph: &RevisionGraph, lower: &str, upper: &str) -> Result<Vec<Ix>, PlanError> {
    iterate_up(graph, &[upper], &[lower], true, false)
}

/// The plan for `stamp TARGET...`: version rows only, no SQL. With `purge`, every row is
/// deleted first. As Alembic's `_stamp_revs`: only rows that share lineage (dependencies
/// included) with a target move; a target already a row, or a `base` with nothing to
/// delete, makes no step.
pub fn stamp(
    graph: &RevisionGraph,
    applied: &[Ix],
    targets: &[&str],
    purge: bool,
) -> Result<Plan, PlanError> {
    let resolver = Resolver::new(graph);
    let mut rows = RowSet::new(graph, applied);
    let mut steps = Vec::new();
    let fail = |revision: &str| {
        let revision = revision.to_owned();
        move |detail| PlanError::VersionRows {
            revision: revision.clone(),
            detail,
        }
    };
    if purge && !applied.is_empty() {
        let ops = applied
            .iter()
            .map(|&a| rows.delete(a))
            .collect::<Result<Vec<_>, _>>()
            .map_err(fail("(purge)"))?;
        steps.push(Step {
            revision: None,
            direction: Direction::Stamp,
            version_ops: ops,
        });
    }
    let heads = rows.current();
    // Rows that share lineage (dependencies included) with what a target names.
    let mut filtered: Vec<Ix> = Vec::new();
    let mut dests: Vec<Ix> = Vec::new();
    for t in targets {
        let anchors = resolver.lineage_anchors(t)?;
        let related: Vec<Ix> = if anchors.is_empty() {
            heads.clone()
        } else {
            let mut lineage = graph.ancestors(&anchors, true);
            for (x, d) in lineage.iter_mut().zip(graph.descendants(&anchors, true)) {
                *x |= d;
            }
            heads
                .iter()
                .copied()
                .filter(|&h| lineage[h as usize])
                .collect()
        };
        for h in related {
            if !filtered.contains(&h) {
                filtered.push(h);
            }
        }
        dests.extend(resolver.revisions(t)?);
    }
    if dests.is_empty() {
        // base: delete every related row, one step each.
        for &h in &filtered {
            if rows.contains(h) {
                let op = rows.delete(h).map_err(fail("base"))?;
                steps.push(Step {
                    revision: None,
                    direction: Direction::Stamp,
                    version_ops: vec![op],
                });
            }
        }
    }
    for d in dests {
        if filtered.contains(&d) {
            continue;
        }
        let fail = fail(graph.id(d));
        let still: Vec<Ix> = filtered
            .iter()
            .copied()
            .filter(|&h| rows.contains(h))
            .collect();
        let related: Vec<Ix> = if still.is_empty() {
            still
        } else {
            let below = graph.ancestors(&[d], true);
            let above = graph.descendants(&[d], true);
            still
                .into_iter()
                .filter(|&h| below[h as usize] || above[h as usize])
                .collect()
        };
        let mut ops = Vec::new();
        match related.split_last() {
            Some((&last, rest)) => {
                for &h in rest {
                    ops.push(rows.delete(h).map_err(&fail)?);
                }
                ops.push(rows.update(last, d).map_err(&fail)?);
            }
            None if rows.contains(d) => continue,
            None => ops.push(rows.insert(d).map_err(&fail)?),
        }
        steps.push(Step {
            revision: Some(d),
            direction: Direction::Stamp,
            version_ops: ops,
        });
    }
    Ok(Plan {
        steps,
        rows_before: applied.iter().map(|&a| graph.id(a).to_owned()).collect(),
        rows_after: rows.ids(),
    })
}

/// Turns an execution order into steps, deriving each step's version-row changes.
pub(crate) fn plan_from_order(
    graph: &RevisionGraph,
    applied: &[Ix],
    order: &[Ix],
    direction: Direction,
) -> Result<Plan, PlanError> {
    let mut rows = Rows::new(graph, applied);
    let mut steps = Vec::with_capacity(order.len());
    for &rev in order {
        let version_ops = rows
            .step(rev, direction == Direction::Upgrade)
            .map_err(|detail| PlanError::VersionRows {
                revision: graph.id(rev).to_owned(),
                detail,
            })?;
        steps.push(Step {
            revision: Some(rev),
            direction,
            version_ops,
        });
    }
    Ok(Plan {
        steps,
        rows_before: applied.iter().map(|&a| graph.id(a).to_owned()).collect(),
        rows_after: rows.ids(),
    })
}

/// The version rows, in table order, with O(1) membership: what a stamp edits.
struct RowSet<'g> {
    graph: &'g RevisionGraph,
    /// Rows in the order they were written; a deleted row leaves a hole.
    slots: Vec<Option<Ix>>,
    /// Slot of each revision that is a row, `u32::MAX` otherwise.
    slot_of: Vec<u32>,
}

impl<'g> RowSet<'g> {
    fn new(graph: &'g RevisionGraph, rows: &[Ix]) -> Self {
        let mut set = Self {
            graph,
            slots: Vec::with_capacity(rows.len()),
            slot_of: vec![u32::MAX; graph.len()],
        };
        for &r in rows {
            if !set.contains(r) {
                set.slot_of[r as usize] = set.slots.len() as u32;
                set.slots.push(Some(r));
            }
        }
        set
    }

    fn current(&self) -> Vec<Ix> {
        self.slots.iter().flatten().copied().collect()
    }

    fn ids(&self) -> Vec<String> {
        self.slots
            .iter()
            .flatten()
            .map(|&r| self.graph.id(r).to_owned())
            .collect()
    }

    fn contains(&self, ix: Ix) -> bool {
        self.slot_of[ix as usize] != u32::MAX
    }

    fn insert(&mut self, ix: Ix) -> Result<VersionOp, String> {
        if self.contains(ix) {
            return Err(format!("{} is already a version row", self.graph.id(ix)));
        }
        self.slot_of[ix as usize] = self.slots.len() as u32;
        self.slots.push(Some(ix));
        Ok(VersionOp::Insert {
            version: self.graph.id(ix).to_owned(),
        })
    }

    fn delete(&mut self, ix: Ix) -> Result<VersionOp, String> {
        if !self.contains(ix) {
            return Err(format!("{} is not a version row", self.graph.id(ix)));
        }
        let slot = std::mem::replace(&mut self.slot_of[ix as usize], u32::MAX);
        self.slots[slot as usize] = None;
        Ok(VersionOp::Delete {
            version: self.graph.id(ix).to_owned(),
        })
    }

    fn update(&mut self, from: Ix, to: Ix) -> Result<VersionOp, String> {
        if self.contains(to) {
            return Err(format!("{} is already a version row", self.graph.id(to)));
        }
        if !self.contains(from) {
            return Err(format!("{} is not a version row", self.graph.id(from)));
        }
        let slot = std::mem::replace(&mut self.slot_of[from as usize], u32::MAX);
        self.slots[slot as usize] = Some(to);
        self.slot_of[to as usize] = slot;
        Ok(VersionOp::Update {
            from: self.graph.id(from).to_owned(),
            to: self.graph.id(to).to_owned(),
        })
    }
}

/// The version rows while a plan is simulated: Alembic's `HeadMaintainer`, in O(1) per
/// edge. The rows are the heads of the applied set (the applied revisions nothing
/// applied sits on); a step's changes follow from the counts of applied revisions
/// directly above each one. Where Alembic picks by set order, file order decides: a
/// merge keeps the row of its last parent that is a row, an unmerge inserts its new
/// rows in file order and moves the old row to the last (see docs/plans.md).
struct Rows<'g> {
    rows: RowSet<'g>,
    applied: Vec<bool>,
    /// How many applied revisions have this one among their normalized down revisions.
    above: Vec<u32>,
}

impl<'g> Rows<'g> {
    fn new(graph: &'g RevisionGraph, rows: &[Ix]) -> Self {
        let applied = graph.ancestors(rows, true);
        let mut above = vec![0u32; graph.len()];
        for (y, _) in applied.iter().enumerate().filter(|(_, &a)| a) {
            for x in graph.normalized_down(y as Ix) {
                above[x as usize] += 1;
            }
        }
        Self {
            rows: RowSet::new(graph, rows),
            applied,
            above,
        }
    }

    fn ids(&self) -> Vec<String> {
        self.rows.ids()
    }

    /// The version-row changes after running `rev` (Alembic's `update_to_step`).
    fn step(&mut self, rev: Ix, upgrade: bool) -> Result<Vec<VersionOp>, String> {
        let graph = self.rows.graph;
        let id = |x: Ix| graph.id(x).to_owned();
        let mut ops = Vec::new();
        if upgrade {
            if self.applied[rev as usize] {
                return Err(format!("{} is already applied", id(rev)));
            }
            if let Some(d) = graph
                .normalized_down(rev)
                .find(|&d| !self.applied[d as usize])
            {
                return Err(format!("its down revision {} is not applied", id(d)));
            }
            // The rows of its down revisions become one row: `rev`'s (rules 2, 3, 5).
            let down_rows: Vec<Ix> = graph
                .normalized_down(rev)
                .filter(|&d| self.rows.contains(d))
                .collect();
            self.applied[rev as usize] = true;
            for d in graph.normalized_down(rev) {
                self.above[d as usize] += 1;
            }
            match down_rows.split_last() {
                None => ops.push(self.rows.insert(rev)?),
                Some((&last, rest)) => {
                    for &d in rest {
                        ops.push(self.rows.delete(d)?);
                    }
                    ops.push(self.rows.update(last, rev)?);
                }
            }
        } else {
            if !self.rows.contains(rev) {
                return Err(format!(
                    "{} is not a version row (something applied still needs it)",
                    id(rev)
                ));
            }
            // Its down revisions that nothing else applied sits on get rows (rules 1, 4, 5).
            self.applied[rev as usize] = false;
            let mut freed = Vec::new();
            for d in graph.normalized_down(rev) {
                self.above[d as usize] -= 1;
                if self.above[d as usize] == 0 && !self.rows.contains(d) {
                    freed.push(d);
                }
            }
            match freed.split_last() {
                None => ops.push(self.rows.delete(rev)?),
                Some((&last, rest)) => {
                    for &d in rest {
                        ops.push(self.rows.insert(d)?);
                    }
                    ops.push(self.rows.update(rev, last)?);
                }
            }
        }
        Ok(ops)
    }
}
