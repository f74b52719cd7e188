//! The revision DAG: heads, bases, branch and merge points, labels and dependencies.
//!
//! Revisions are stored in load order (the order Alembic calls "insertion order"), and
//! every list this module returns keeps that order, so every answer is deterministic.
//! Edges come in two kinds, as in Alembic: `down_revision` is ancestry, `depends_on`
//! only orders revisions (a dependency is applied first and removed last).

use std::collections::{HashMap, HashSet, VecDeque};

use super::problem::{GraphProblems, Problem, ProblemKind};
use super::revision::Revision;

/// Index of a revision in its graph (load order).
pub type Ix = u32;

/// A checked revision graph: every reference resolves and there are no cycles.
#[derive(Debug, Clone)]
pub struct RevisionGraph {
    revisions: Vec<Revision>,
    by_id: HashMap<String, Ix>,
    /// Branch label name -> the revision that declares it.
    label_owner: HashMap<String, Ix>,
    /// Label names, indexed by label number.
    label_names: Vec<String>,
    /// Ids and labels longer than 3 characters, sorted, for prefix lookups.
    prefix_keys: Vec<(String, Ix)>,
    parents: Vec<Vec<Ix>>,
    dependencies: Vec<Vec<Ix>>,
    normalized_dependencies: Vec<Vec<Ix>>,
    children: Vec<Vec<Ix>>,
    dependents: Vec<Vec<Ix>>,
    /// Label number of each label name.
    label_number: HashMap<String, u32>,
    /// Distinct sets of effective branch labels (sorted label numbers); set 0 is empty.
    label_sets: Vec<Vec<u32>>,
    /// Each revision's set of effective labels, after propagation.
    label_set: Vec<u32>,
    heads: Vec<Ix>,
    real_heads: Vec<Ix>,
    bases: Vec<Ix>,
    real_bases: Vec<Ix>,
}

impl RevisionGraph {
    /// Builds the graph, reporting every problem at once: duplicate ids and labels,
    /// references to nothing, cycles.
    pub fn build(revisions: Vec<Revision>) -> Result<Self, GraphProblems> {
        let mut problems = Vec::new();
        let mut by_id: HashMap<String, Ix> = HashMap::with_capacity(revisions.len());
        let mut keep = Vec::with_capacity(revisions.len());
        for rev in revisions {
            if let Some(&first) = by_id.get(rev.id.as_str()) {
                let first: &Revision = &keep[first as usize];
                problems.push(
                    Problem::new(
                        ProblemKind::DuplicateRevision,
                        format!(
                            "revision {} is declared twice: in {} and in {}",
                            rev.id,
                            first.location(first.origin.revision_line),
                            rev.location(rev.origin.revision_line)
                        ),
                    )
                    .at(rev.origin.path.clone(), rev.origin.revision_line)
                    .revisions([rev.id.to_string()]),
                );
                continue;
            }
            by_id.insert(rev.id.as_str().to_owned(), keep.len() as Ix);
            keep.push(rev);
        }
        let revisions = keep;
        let n = revisions.len();

        // Branch labels: each may be declared once, and may not shadow a revision id.
        let mut label_owner: HashMap<String, Ix> = HashMap::new();
        let mut label_names = Vec::new();
        for (ix, rev) in revisions.iter().enumerate() {
            for label in &rev.branch_labels {
                if let Some(&other) = label_owner.get(label) {
                    let other = &revisions[other as usize];
                    problems.push(
                        Problem::new(
                            ProblemKind::DuplicateBranchLabel,
                            format!(
                                "branch label '{label}' in revision {} is already used by revision {} ({})",
                                rev.id,
                                other.id,
                                other.location(other.origin.branch_labels_line)
                            ),
                        )
                        .at(rev.origin.path.clone(), rev.origin.branch_labels_line)
                        .revisions([rev.id.to_string(), other.id.to_string()]),
                    );
                } else if let Some(&other) = by_id.get(label) {
                    problems.push(
                        Problem::new(
                            ProblemKind::DuplicateBranchLabel,
                            format!(
                                "branch label '{label}' in revision {} is also the id of revision {}",
                                rev.id, revisions[other as usize].id
                            ),
                        )
                        .at(rev.origin.path.clone(), rev.origin.branch_labels_line)
                        .revisions([rev.id.to_string()]),
                    );
                } else {
                    label_owner.insert(label.clone(), ix as Ix);
                    label_names.push(label.clone());
                }
            }
        }

        // Resolve parents and dependencies.
        let mut parents = vec![Vec::new(); n];
        let mut dependencies = vec![Vec::new(); n];
        for (ix, rev) in revisions.iter().enumerate() {
            for down in &rev.down_revisions {
                match by_id.get(down.as_str()) {
                    Some(&p) if !parents[ix].contains(&p) => parents[ix].push(p),
                    Some(_) => {}
                    None => problems.push(
                        Problem::new(
                            ProblemKind::MissingDownRevision,
                            format!(
                                "revision {} has down_revision {down}, which is not present",
                                rev.id
                            ),
                        )
                        .at(rev.origin.path.clone(), rev.origin.down_revision_line)
                        .revisions([rev.id.to_string(), down.to_string()]),
                    ),
                }
            }
            for dep in &rev.depends_on {
                let target = by_id.get(dep.as_str()).or_else(|| label_owner.get(dep));
                match target {
                    Some(&d) if !dependencies[ix].contains(&d) => dependencies[ix].push(d),
                    Some(_) => {}
                    None => problems.push(
                        Problem::new(
                            ProblemKind::MissingDependency,
                            format!(
                                "revision {} depends on '{dep}', which is neither a revision nor a branch label",
                                rev.id
                            ),
                        )
                        .at(rev.origin.path.clone(), rev.origin.depends_on_line)
                        .revisions([rev.id.to_string(), dep.clone()]),
                    ),
                }
            }
        }

        problems.extend(super::cycles::find_cycles(
            &revisions,
            &parents,
            &dependencies,
        ));
        if !problems.is_empty() {
            return Err(GraphProblems(problems));
        }

        let mut children = vec![Vec::new(); n];
        let mut dependents = vec![Vec::new(); n];
        for ix in 0..n {
            for &p in &parents[ix] {
                children[p as usize].push(ix as Ix);
            }
            for &d in &dependencies[ix] {
                dependents[d as usize].push(ix as Ix);
            }
        }
        let heads = (0..n as Ix)
            .filter(|&i| children[i as usize].is_empty())
            .collect();
        let real_heads = (0..n as Ix)
            .filter(|&i| children[i as usize].is_empty() && dependents[i as usize].is_empty())
            .collect();
        let bases = (0..n as Ix)
            .filter(|&i| parents[i as usize].is_empty())
            .collect();
        let real_bases = (0..n as Ix)
            .filter(|&i| parents[i as usize].is_empty() && dependencies[i as usize].is_empty())
            .collect();

        let mut prefix_keys: Vec<(String, Ix)> = revisions
            .iter()
            .enumerate()
            .filter(|(_, r)| r.id.as_str().len() > 3)
            .map(|(i, r)| (r.id.as_str().to_owned(), i as Ix))
            .chain(
                label_owner
                    .iter()
                    .filter(|(l, _)| l.len() > 3)
                    .map(|(l, &i)| (l.clone(), i)),
            )
            .collect();
        prefix_keys.sort_unstable();

        let mut graph = Self {
            revisions,
            by_id,
            label_owner,
            label_names,
            prefix_keys,
            parents,
            dependencies,
            normalized_dependencies: vec![Vec::new(); n],
            children,
            dependents,
            label_number: HashMap::new(),
            label_sets: vec![Vec::new()],
            label_set: vec![0; n],
            heads,
            real_heads,
            bases,
            real_bases,
        };
        graph.normalize_dependencies();
        graph.label_number = graph
            .label_names
            .iter()
            .enumerate()
            .map(|(i, l)| (l.clone(), i as u32))
            .collect();
        graph.propagate_labels();
        Ok(graph)
    }

    /// Drops each dependency already declared by a `down_revision` ancestor (Alembic's
    /// `_normalized_down_revisions`), and each that is also a parent (Alembic dedupes
    /// those, alembic#843). Only a dependency declared by several revisions needs an
    /// ancestry walk: one memoized walk per such dependency, pruned below the lowest of
    /// its dependents by generation number, so this stays near-linear on real graphs.
    fn normalize_dependencies(&mut self) {
        let n = self.revisions.len();
        let generation = self.generations();
        let mut is_dependent = vec![false; n];
        // memo[v] == (dep, found): v or one of its ancestors depends on `dep`.
        let mut memo: Vec<(u32, bool)> = vec![(u32::MAX, false); n];
        let mut dropped: Vec<(Ix, Ix)> = Vec::new();
        let mut stack: Vec<(Ix, usize)> = Vec::new();
        for dep in 0..n {
            let dependents = &self.dependents[dep];
            if dependents.len() < 2 {
                continue;
            }
            let mark = dep as u32;
            let lowest = dependents
                .iter()
                .map(|&d| generation[d as usize])
                .min()
                .unwrap_or(0);
            for &d in dependents {
                is_dependent[d as usize] = true;
            }
            for &x in dependents {
                let below = self.parents[x as usize].iter().any(|&p| {
                    if generation[p as usize] < lowest {
                        return false;
                    }
                    if memo[p as usize].0 != mark {
                        memo[p as usize] = (mark, is_dependent[p as usize]);
                        stack.push((p, 0));
                        while let Some(&mut (v, ref mut next)) = stack.last_mut() {
                            let ps = &self.parents[v as usize];
                            if memo[v as usize].1 || *next == ps.len() {
                                let found = memo[v as usize].1;
                                stack.pop();
                                if let Some(&(u, _)) = stack.last() {
                                    memo[u as usize].1 |= found;
                                }
                                continue;
                            }
                            let q = ps[*next];
                            *next += 1;
                            if generation[q as usize] < lowest {
                                continue;
                            }
                            if memo[q as usize].0 == mark {
                                memo[v as usize].1 |= memo[q as usize].1;
                            } else {
                                memo[q as usize] = (mark, is_dependent[q as usize]);
                                stack.push((q, 0));
                            }
                        }
                    }
                    memo[p as usize].1
                });
                if below {
                    dropped.push((x, dep as Ix));
                }
            }
            for &d in dependents {
                is_dependent[d as usize] = false;
            }
        }
        dropped.sort_unstable();
        for ix in 0..n {
            self.normalized_dependencies[ix] = self.dependencies[ix]
                .iter()
                .copied()
                .filter(|dep| !self.parents[ix].contains(dep))
                .filter(|&dep| dropped.binary_search(&(ix as Ix, dep)).is_err())
                .collect();
        }
    }

    /// Generation numbers through `down_revision`: 0 for a base, else one more than the
    /// highest parent. A strict ancestor always has a lower generation.
    fn generations(&self) -> Vec<u32> {
        let mut generation = vec![0u32; self.revisions.len()];
        for x in self.parents_first() {
            generation[x as usize] = self.parents[x as usize]
                .iter()
                .map(|&p| generation[p as usize] + 1)
                .max()
                .unwrap_or(0);
        }
        generation
    }

    /// Gives every descendant of a labelled revision its label, and the plain chain
    /// below it too, as Alembic does. Alembic starts the downward walk from whichever
    /// descendant its set iteration visited last; we take the deterministic reading:
    /// the walk continues below the labelled revision only when everything above it is
    /// one straight line, and stops at the first branch point or merge point.
    ///
    /// The labels reaching a revision are the union of its parents' plus its own, so
    /// they are computed once in topological order, and a revision whose labels equal
    /// a parent's shares that parent's set: linear in the graph plus the distinct sets,
    /// not in (labels x descendants).
    fn propagate_labels(&mut self) {
        let n = self.revisions.len();
        let order = self.parents_first();
        let plain = |g: &Self, x: Ix| !(g.is_real_branch_point(x) || g.is_merge_point(x));
        // straight[x]: the line from x up to its tip has no branch or merge point.
        let mut straight = vec![false; n];
        for &x in order.iter().rev() {
            straight[x as usize] = plain(self, x)
                && match self.children[x as usize].as_slice() {
                    [] => true,
                    [c] => straight[*c as usize],
                    _ => false,
                };
        }
        // bottom[x]: how far a label on x reaches down a plain chain.
        let mut bottom: Vec<Ix> = (0..n as Ix).collect();
        for &x in &order {
            if let [down] = self.parents[x as usize].as_slice() {
                if plain(self, *down) {
                    bottom[x as usize] = bottom[*down as usize];
                }
            }
        }
        let mut own: Vec<Vec<u32>> = vec![Vec::new(); n];
        for (label, name) in self.label_names.iter().enumerate() {
            let owner = self.label_owner[name];
            let anchor = if straight[owner as usize] {
                bottom[owner as usize]
            } else {
                owner
            };
            own[anchor as usize].push(label as u32);
        }
        let mut sets: Vec<Vec<u32>> = vec![Vec::new()];
        let mut set_of = vec![0u32; n];
        for &x in &order {
            let mut parent_sets: Vec<u32> = self.parents[x as usize]
                .iter()
                .map(|&p| set_of[p as usize])
                .filter(|&s| s != 0)
                .collect();
            parent_sets.sort_unstable();
            parent_sets.dedup();
            let mine = &own[x as usize];
            set_of[x as usize] = match (mine.is_empty(), parent_sets.as_slice()) {
                (true, []) => 0,
                (true, [one]) => *one,
                _ => {
                    let mut union: Vec<u32> = mine.clone();
                    for &s in &parent_sets {
                        union.extend_from_slice(&sets[s as usize]);
                    }
                    union.sort_unstable();
                    union.dedup();
                    let widest = parent_sets
                        .iter()
                        .copied()
                        .max_by_key(|&s| sets[s as usize].len());
                    match widest {
                        Some(s) if sets[s as usize].len() == union.len() => s,
                        _ => {
                            sets.push(union);
                            (sets.len() - 1) as u32
                        }
                    }
                }
            };
        }
        self.label_sets = sets;
        self.label_set = set_of;
    }

    /// Revisions with every parent before its children (Kahn's order over `down_revision`).
    fn parents_first(&self) -> Vec<Ix> {
        let n = self.revisions.len();
        let mut waiting: Vec<usize> = self.parents.iter().map(Vec::len).collect();
        let mut order: Vec<Ix> = (0..n as Ix).filter(|&i| waiting[i as usize] == 0).collect();
        let mut at = 0;
        while at < order.len() {
            let x = order[at];
            at += 1;
            for &c in &self.children[x as usize] {
                waiting[c as usize] -= 1;
                if waiting[c as usize] == 0 {
                    order.push(c);
                }
            }
        }
        order
    }

    // ----- plain accessors -----

    pub fn len(&self) -> usize {
        self.revisions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.revisions.is_empty()
    }

    pub fn revision(&self, ix: Ix) -> &Revision {
        &self.revisions[ix as usize]
    }

    pub fn revisions(&self) -> &[Revision] {
        &self.revisions
    }

    pub fn id(&self, ix: Ix) -> &str {
        self.revisions[ix as usize].id.as_str()
    }

    /// The revision with exactly this id.
    pub fn find(&self, id: &str) -> Option<Ix> {
        self.by_id.get(id).copied()
    }

    /// The revision that declares this branch label.
    pub fn label_owner(&self, label: &str) -> Option<Ix> {
        self.label_owner.get(label).copied()
    }

    /// Ids and labels (longer than 3 characters) starting with `prefix`, sorted.
    pub fn keys_with_prefix<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a str, Ix)> + 'a {
        let start = self
            .prefix_keys
            .partition_point(|(k, _)| k.as_str() < prefix);
        self.prefix_keys[start..]
            .iter()
            .take_while(move |(k, _)| k.starts_with(prefix))
            .map(|(k, ix)| (k.as_str(), *ix))
    }

    /// Parents through `down_revision`, in file order.
    pub fn parents(&self, ix: Ix) -> &[Ix] {
        &self.parents[ix as usize]
    }

    /// Resolved `depends_on` targets, in file order.
    pub fn dependencies(&self, ix: Ix) -> &[Ix] {
        &self.dependencies[ix as usize]
    }

    /// Dependencies not already declared by a `down_revision` ancestor, nor parents.
    pub fn normalized_dependencies(&self, ix: Ix) -> &[Ix] {
        &self.normalized_dependencies[ix as usize]
    }

    /// Parents then normalized dependencies: what must be applied right before `ix`.
    pub fn normalized_down(&self, ix: Ix) -> impl Iterator<Item = Ix> + '_ {
        self.parents[ix as usize]
            .iter()
            .chain(&self.normalized_dependencies[ix as usize])
            .copied()
    }

    /// Children through `down_revision`, in load order.
    pub fn children(&self, ix: Ix) -> &[Ix] {
        &self.children[ix as usize]
    }

    /// Revisions that name `ix` in `depends_on`, in load order.
    pub fn dependents(&self, ix: Ix) -> &[Ix] {
        &self.dependents[ix as usize]
    }

    /// Children and dependents: everything that must be removed before `ix`.
    pub fn all_next(&self, ix: Ix) -> impl Iterator<Item = Ix> + '_ {
        self.children[ix as usize]
            .iter()
            .chain(&self.dependents[ix as usize])
            .copied()
    }

    /// Heads: revisions no other revision names as `down_revision` (dependency targets
    /// included: those are "effective heads").
    pub fn heads(&self) -> &[Ix] {
        &self.heads
    }

    /// Real heads: named by nobody, neither in `down_revision` nor in `depends_on`.
    pub fn real_heads(&self) -> &[Ix] {
        &self.real_heads
    }

    pub fn bases(&self) -> &[Ix] {
        &self.bases
    }

    pub fn real_bases(&self) -> &[Ix] {
        &self.real_bases
    }

    pub fn is_head(&self, ix: Ix) -> bool {
        self.children[ix as usize].is_empty()
    }

    pub fn is_real_head(&self, ix: Ix) -> bool {
        self.children[ix as usize].is_empty() && self.dependents[ix as usize].is_empty()
    }

    pub fn is_base(&self, ix: Ix) -> bool {
        self.parents[ix as usize].is_empty()
    }

    pub fn is_branch_point(&self, ix: Ix) -> bool {
        self.children[ix as usize].len() > 1
    }

    fn is_real_branch_point(&self, ix: Ix) -> bool {
        self.children[ix as usize].len() + self.dependents[ix as usize].len() > 1
    }

    pub fn is_merge_point(&self, ix: Ix) -> bool {
        self.parents[ix as usize].len() > 1
    }

    /// Effective branch labels of `ix` (declared here or inherited), sorted by name order
    /// of declaration.
    pub fn branch_labels(&self, ix: Ix) -> impl Iterator<Item = &str> {
        self.label_sets[self.label_set[ix as usize] as usize]
            .iter()
            .map(|&l| self.label_names[l as usize].as_str())
    }

    pub fn has_label(&self, ix: Ix, label: &str) -> bool {
        self.label_number.get(label).is_some_and(|l| {
            self.label_sets[self.label_set[ix as usize] as usize]
                .binary_search(l)
                .is_ok()
        })
    }

    // ----- traversals -----

    /// Marks `from` and all their ancestors; `with_dependencies` follows `depends_on` too.
    pub fn ancestors(&self, from: &[Ix], with_dependencies: bool) -> Vec<bool> {
        self.closure(from, |ix, out| {
            out.extend_from_slice(&self.parents[ix as usize]);
            if with_dependencies {
                out.extend_from_slice(&self.normalized_dependencies[ix as usize]);
            }
        })
    }

    /// What Alembic's `current` lists for version rows `rows`: the rows and everything
    /// they stand on (dependencies included), keeping only the branch tips, in load
    /// order. A dependency a row stands on is shown though it has no row of its own.
    pub fn all_current(&self, rows: &[Ix]) -> Vec<Ix> {
        let under = self.ancestors(rows, true);
        (0..self.len() as Ix)
            .filter(|&ix| {
                under[ix as usize]
                    && !self.children[ix as usize]
                        .iter()
                        .any(|&c| under[c as usize])
            })
            .collect()
    }

    /// Marks `from` and all their descendants; `with_dependents` follows `depends_on` too.
    pub fn descendants(&self, from: &[Ix], with_dependents: bool) -> Vec<bool> {
        self.closure(from, |ix, out| {
            out.extend_from_slice(&self.children[ix as usize]);
            if with_dependents {
                out.extend_from_slice(&self.dependents[ix as usize]);
            }
        })
    }

    fn closure(&self, from: &[Ix], next: impl Fn(Ix, &mut Vec<Ix>)) -> Vec<bool> {
        let mut seen = vec![false; self.len()];
        let mut stack: Vec<Ix> = from.to_vec();
        let mut buf = Vec::new();
        while let Some(x) = stack.pop() {
            if std::mem::replace(&mut seen[x as usize], true) {
                continue;
            }
            buf.clear();
            next(x, &mut buf);
            stack.extend(buf.iter().filter(|&&y| !seen[y as usize]));
        }
        seen
    }

    /// Whether `a` and `b` share lineage: one is an ancestor of the other through
    /// `down_revision` (Alembic's `_shares_lineage` without dependencies).
    pub fn shares_lineage(&self, a: Ix, b: Ix) -> bool {
        a == b || self.reaches_down(a, b) || self.reaches_down(b, a)
    }

    /// Whether `to` is an ancestor of `from` through `down_revision`.
    fn reaches_down(&self, from: Ix, to: Ix) -> bool {
        let mut seen = HashSet::new();
        let mut queue = VecDeque::from([from]);
        while let Some(x) = queue.pop_front() {
            if x == to {
                return true;
            }
            for &p in &self.parents[x as usize] {
                if seen.insert(p) {
                    queue.push_back(p);
                }
            }
        }
        false
    }
}
