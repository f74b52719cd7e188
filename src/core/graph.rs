//! The revision DAG: heads, bases, branch and merge points, labels and dependencies.
//!
//! Revisions are stored in load order (the order Alembic calls "insertion order"), and
//! every list this module returns keeps that order, so every answer is deterministic.
//! Edges come in two kinds, as in Alembic: `down_revision` is ancestry, `depends_on`
//! only orders revisions (a dependency is applied first and removed last).

use std::collections::{HashMap, HashSet, VecDeque};

use petgraph::graph::{DiGraph, NodeIndex};

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
    /// Effective branch labels of each revision (label numbers), after propagation.
    labels: Vec<Vec<u32>>,
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

        problems.extend(find_cycles(&revisions, &parents, &dependencies));
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
            labels: vec![Vec::new(); n],
            heads,
            real_heads,
            bases,
            real_bases,
        };
        graph.normalize_dependencies();
        graph.propagate_labels();
        Ok(graph)
    }

    /// Drops each dependency already declared by a `down_revision` ancestor (Alembic's
    /// `_normalized_down_revisions`). Only dependencies declared by more than one
    /// revision need an ancestry walk, so this stays near-linear.
    fn normalize_dependencies(&mut self) {
        let n = self.revisions.len();
        for ix in 0..n {
            let mut kept = Vec::with_capacity(self.dependencies[ix].len());
            for &dep in &self.dependencies[ix] {
                let declared_below = self.dependents[dep as usize].iter().any(|&other| {
                    other as usize != ix && self.is_versioned_ancestor(other, ix as Ix)
                });
                if !declared_below {
                    kept.push(dep);
                }
            }
            self.normalized_dependencies[ix] = kept;
        }
    }

    /// Whether `a` is a strict ancestor of `b` through `down_revision` edges only.
    fn is_versioned_ancestor(&self, a: Ix, b: Ix) -> bool {
        let mut seen = HashSet::new();
        let mut stack: Vec<Ix> = self.parents[b as usize].clone();
        while let Some(x) = stack.pop() {
            if x == a {
                return true;
            }
            if seen.insert(x) {
                stack.extend_from_slice(&self.parents[x as usize]);
            }
        }
        false
    }

    /// Gives every descendant of a labelled revision its label, and the plain chain
    /// below it too, as Alembic does. Alembic starts the downward walk from whichever
    /// descendant its set iteration visited last; we take the deterministic reading:
    /// the walk continues below the labelled revision only when everything above it is
    /// one straight line, and stops at the first branch point or merge point.
    fn propagate_labels(&mut self) {
        let owners: Vec<(u32, Ix)> = self
            .label_names
            .iter()
            .enumerate()
            .map(|(li, name)| (li as u32, self.label_owner[name]))
            .collect();
        for (label, owner) in owners {
            let mut stack = vec![owner];
            let mut seen = HashSet::new();
            while let Some(x) = stack.pop() {
                if !seen.insert(x) {
                    continue;
                }
                self.labels[x as usize].push(label);
                stack.extend_from_slice(&self.children[x as usize]);
            }
            // Is the line from `owner` up to its tip straight?
            let mut x = owner;
            let straight = loop {
                if self.is_real_branch_point(x) || self.is_merge_point(x) {
                    break false;
                }
                match self.children[x as usize].as_slice() {
                    [] => break true,
                    [next] => x = *next,
                    _ => break false,
                }
            };
            if straight {
                let mut x = owner;
                while let [down] = self.parents[x as usize].as_slice() {
                    let down = *down;
                    if self.is_real_branch_point(down) || self.is_merge_point(down) {
                        break;
                    }
                    if !self.labels[down as usize].contains(&label) {
                        self.labels[down as usize].push(label);
                    }
                    x = down;
                }
            }
        }
        for labels in &mut self.labels {
            labels.sort_unstable();
        }
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

    /// Dependencies not already declared by a `down_revision` ancestor.
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
        self.labels[ix as usize]
            .iter()
            .map(|&l| self.label_names[l as usize].as_str())
    }

    pub fn has_label(&self, ix: Ix, label: &str) -> bool {
        self.branch_labels(ix).any(|l| l == label)
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

/// Cycles through `down_revision`, then cycles that need `depends_on` edges too.
fn find_cycles(revisions: &[Revision], parents: &[Vec<Ix>], deps: &[Vec<Ix>]) -> Vec<Problem> {
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
