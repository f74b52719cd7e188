//! Alembic's execution order, computed without its quadratic ancestor sets.
//!
//! Alembic keeps a list of "current heads" (cursors) and walks the one at `idx` down its
//! branch. Before emitting a candidate it checks whether another cursor still has the
//! candidate among its ancestors; if so it jumps to the first such cursor. We keep the
//! same cursor list and the same jumps, so the order is Alembic's, but answer "is the
//! candidate still needed above?" with a counter of pending children, and "which cursor
//! needs it first?" by testing cursors in list order with a walk down from each:
//!
//! - a cursor that does not reach the candidate never will (cursors only move down,
//!   and what is pending only shrinks), so each blocked candidate remembers where its
//!   last answer was and never tests an earlier cursor again;
//! - a walk never goes below the candidate's depth, and remembers the revisions that
//!   can't reach the candidate.
//!
//! So a wide fan of branches over one branch point costs one short walk per branch, not
//! one walk over every pending branch per branch, as a search up from the branch point
//! would. Graphs that keep branching from far back and merging (a braid of ~40 lines,
//! `gen_graph.py mixed`) keep many cursors open (~1,900 at 100,000 revisions), so testing
//! them one by one grows with the graph; when few pending revisions lie above a blocked
//! candidate, a walk up from it finds exactly the cursors that reach it instead (bounded
//! by [`UP_WALK_LIMIT`], past which testing cursors is cheaper).
//!
//! A walk down from a cursor skips straight lines: every `todo` revision with exactly
//! one `todo` revision below it links to it, the links make a forest, and a walk asks
//! "is the candidate on the line below here?" with the forest's Euler-tour intervals
//! in O(1), then jumps to the line's end (a merge point, a dependency or a base).
//! So a walk costs the merge points it passes, not the revisions: on the braid above
//! that was what made `history` grow faster than the graph (100,000 revisions: ~5x
//! less walking than before, the same order).

use super::graph::{Ix, RevisionGraph};

/// Orders `todo` from the top down: every revision comes before its parents and
/// dependencies (reverse it for an upgrade). `heads` are where the walk starts (the
/// targets of an upgrade, the applied heads of a downgrade); like Alembic, they are
/// taken in load order.
pub fn topological_order(graph: &RevisionGraph, todo: &[bool], heads: &[Ix]) -> Vec<Ix> {
    let n = graph.len();
    let total = todo.iter().filter(|&&t| t).count();
    let mut pending = todo.to_vec();
    // Pending children (through parents and normalized dependencies) inside `todo`.
    let mut needed_by = vec![0u32; n];
    for y in 0..n as Ix {
        if todo[y as usize] {
            for x in graph.normalized_down(y) {
                if todo[x as usize] {
                    needed_by[x as usize] += 1;
                }
            }
        }
    }
    let depth = depths(graph, todo, &needed_by);
    let mut cursors: Vec<Ix> = heads
        .iter()
        .copied()
        .filter(|&h| todo[h as usize])
        .collect();
    cursors.sort_unstable();
    cursors.dedup();
    // A key per cursor slot, increasing along the list: a replaced cursor keeps its
    // slot's key, a new one gets a larger key.
    let mut keys: Vec<u64> = (0..cursors.len() as u64).collect();
    let mut next_key = cursors.len() as u64;
    let mut is_cursor = vec![false; n];
    // The key of the slot each cursor is in (valid while `is_cursor`).
    let mut cursor_key = vec![0u64; n];
    for (i, &c) in cursors.iter().enumerate() {
        is_cursor[c as usize] = true;
        cursor_key[c as usize] = keys[i];
    }
    let mut search = Search {
        graph,
        todo,
        lines: Lines::new(graph, todo),
        depth: &depth,
        first_key: vec![0; n],
        cannot_reach: vec![u32::MAX; n],
        visited: vec![0; n],
        visit: 0,
        stack: Vec::new(),
        seen: Vec::new(),
    };
    let mut out = Vec::with_capacity(total);
    let mut idx = 0usize;
    let mut to_add: Vec<Ix> = Vec::new();

    loop {
        if cursors.is_empty() {
            // Revisions the heads can't reach through `todo` (a `history` range whose
            // lower bound cuts a dependency path; Alembic fails an assertion there):
            // start again from the highest of them, so the order still respects every
            // edge.
            if out.len() == total {
                break;
            }
            cursors = (0..n as Ix)
                .filter(|&i| pending[i as usize] && needed_by[i as usize] == 0)
                .collect();
            keys = (next_key..next_key + cursors.len() as u64).collect();
            next_key += cursors.len() as u64;
            for (i, &c) in cursors.iter().enumerate() {
                is_cursor[c as usize] = true;
                cursor_key[c as usize] = keys[i];
            }
            idx = 0;
        }
        let candidate = cursors[idx];
        if needed_by[candidate as usize] > 0 {
            // Another cursor needs `candidate` first: jump to the first in list order.
            let first = search.first_key[candidate as usize];
            let next = match search.cursors_above(candidate, &pending, &is_cursor) {
                // Few revisions above: the cursors among them are exactly those that
                // reach the candidate; the first in list order is the smallest key.
                Some(above) => above
                    .iter()
                    .map(|&x| cursor_key[x as usize])
                    .filter(|&k| k >= first)
                    .min()
                    .and_then(|k| keys.binary_search(&k).ok()),
                None => {
                    let from = keys.partition_point(|&k| k < first);
                    (from..cursors.len()).find(|&j| {
                        j != idx
                            && search.may_reach(cursors[j], candidate)
                            && search.reaches(cursors[j], candidate)
                    })
                }
            };
            if let Some(j) = next {
                search.first_key[candidate as usize] = keys[j];
                idx = j;
                continue;
            }
            // What needs `candidate` is under no cursor (a range cut as above): walk it
            // from its highest revisions first.
            let region = search.pending_above(candidate, &pending);
            idx = cursors.len();
            for y in region {
                if needed_by[y as usize] == 0 && !is_cursor[y as usize] {
                    cursors.push(y);
                    keys.push(next_key);
                    cursor_key[y as usize] = next_key;
                    next_key += 1;
                    is_cursor[y as usize] = true;
                }
            }
            continue;
        }
        if pending[candidate as usize] {
            pending[candidate as usize] = false;
            out.push(candidate);
            for x in graph.normalized_down(candidate) {
                if todo[x as usize] {
                    needed_by[x as usize] -= 1;
                }
            }
        }
        to_add.clear();
        to_add.extend(
            graph
                .normalized_down(candidate)
                .filter(|&r| pending[r as usize] && !is_cursor[r as usize]),
        );
        is_cursor[candidate as usize] = false;
        match to_add.split_first() {
            None => {
                cursors.remove(idx);
                keys.remove(idx);
                idx = idx.saturating_sub(1);
            }
            Some((&first, rest)) => {
                cursors[idx] = first;
                is_cursor[first as usize] = true;
                cursor_key[first as usize] = keys[idx];
                for &r in rest {
                    cursors.push(r);
                    keys.push(next_key);
                    cursor_key[r as usize] = next_key;
                    next_key += 1;
                    is_cursor[r as usize] = true;
                }
            }
        }
    }
    out
}

/// How many pending revisions above a blocked candidate are walked before falling back
/// to testing cursors one by one.
const UP_WALK_LIMIT: usize = 32;

/// Depth of each `todo` revision below the top of `todo`: every edge inside `todo` goes
/// from a smaller depth to a larger one, so a walk down to a revision can stop at its
/// depth.
fn depths(graph: &RevisionGraph, todo: &[bool], needed_by: &[u32]) -> Vec<u32> {
    let n = graph.len();
    let mut depth = vec![0u32; n];
    let mut waiting = needed_by.to_vec();
    let mut ready: Vec<Ix> = (0..n as Ix)
        .filter(|&i| todo[i as usize] && waiting[i as usize] == 0)
        .collect();
    while let Some(y) = ready.pop() {
        let below = depth[y as usize] + 1;
        for x in graph.normalized_down(y) {
            if todo[x as usize] {
                depth[x as usize] = depth[x as usize].max(below);
                waiting[x as usize] -= 1;
                if waiting[x as usize] == 0 {
                    ready.push(x);
                }
            }
        }
    }
    depth
}

/// The straight lines of `todo`: a revision with exactly one `todo` revision below it
/// (parents and normalized dependencies) links to it. The links make a forest whose
/// roots are the merge points, dependencies' dependents and bases; `enter`/`leave`
/// are its Euler-tour times, so "is `a` on the line below `b`" is two comparisons.
struct Lines {
    enter: Vec<u32>,
    leave: Vec<u32>,
    /// The end of each revision's line (its forest root).
    end: Vec<Ix>,
}

impl Lines {
    fn new(graph: &RevisionGraph, todo: &[bool]) -> Self {
        let n = graph.len();
        const NONE: Ix = Ix::MAX;
        let mut link = vec![NONE; n];
        // The forest's children, as one array sliced by `start`.
        let mut start = vec![0u32; n + 1];
        for x in 0..n as Ix {
            if !todo[x as usize] {
                continue;
            }
            let mut below = graph.normalized_down(x).filter(|&y| todo[y as usize]);
            if let (Some(y), None) = (below.next(), below.next()) {
                link[x as usize] = y;
                start[y as usize + 1] += 1;
            }
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut linked = vec![0 as Ix; start[n] as usize];
        for (x, &y) in link.iter().enumerate() {
            if y != NONE {
                linked[fill[y as usize] as usize] = x as Ix;
                fill[y as usize] += 1;
            }
        }
        let mut lines = Lines {
            enter: vec![0; n],
            leave: vec![0; n],
            end: (0..n as Ix).collect(),
        };
        let mut time = 0u32;
        let mut stack: Vec<(Ix, u32)> = Vec::new();
        for root in (0..n as Ix).filter(|&r| link[r as usize] == NONE) {
            lines.enter[root as usize] = time;
            time += 1;
            stack.push((root, start[root as usize]));
            while let Some(&mut (v, ref mut next)) = stack.last_mut() {
                if *next < start[v as usize + 1] {
                    let w = linked[*next as usize];
                    *next += 1;
                    lines.enter[w as usize] = time;
                    time += 1;
                    lines.end[w as usize] = root;
                    stack.push((w, start[w as usize]));
                } else {
                    lines.leave[v as usize] = time;
                    stack.pop();
                }
            }
        }
        lines
    }

    /// Whether `a` is on the line below `b` (or is `b`).
    fn on_line_below(&self, a: Ix, b: Ix) -> bool {
        let (a, b) = (a as usize, b as usize);
        self.enter[a] <= self.enter[b] && self.enter[b] < self.leave[a]
    }
}

/// "Does this cursor still need that candidate?" with memory across questions.
struct Search<'a> {
    graph: &'a RevisionGraph,
    todo: &'a [bool],
    lines: Lines,
    depth: &'a [u32],
    /// Per blocked candidate: the key of the first cursor that may still need it.
    first_key: Vec<u64>,
    /// `cannot_reach[x] == c`: x can't reach candidate c through pending revisions.
    cannot_reach: Vec<u32>,
    visited: Vec<u32>,
    visit: u32,
    stack: Vec<Ix>,
    seen: Vec<Ix>,
}

impl Search<'_> {
    /// Whether [`Search::reaches`] can be true at all (cheap checks first).
    fn may_reach(&self, from: Ix, target: Ix) -> bool {
        self.cannot_reach[from as usize] != target
            && self.depth[from as usize] < self.depth[target as usize]
    }

    /// Whether `from` (pending) reaches `target` going down through pending revisions.
    /// What lies below a pending revision inside `todo` is pending (it is emitted only
    /// after everything above it), so the walk follows `todo` and its straight lines.
    fn reaches(&mut self, from: Ix, target: Ix) -> bool {
        let limit = self.depth[target as usize];
        self.visit += 1;
        self.stack.clear();
        self.seen.clear();
        self.stack.push(from);
        self.seen.push(from);
        self.visited[from as usize] = self.visit;
        while let Some(x) = self.stack.pop() {
            if self.lines.on_line_below(target, x) {
                return true;
            }
            let end = self.lines.end[x as usize];
            if self.depth[end as usize] >= limit {
                continue;
            }
            for y in self.graph.normalized_down(end) {
                if y == target {
                    return true;
                }
                let yu = y as usize;
                if self.todo[yu]
                    && self.visited[yu] != self.visit
                    && self.cannot_reach[yu] != target
                    && self.depth[yu] < limit
                {
                    self.visited[yu] = self.visit;
                    self.stack.push(y);
                    self.seen.push(y);
                }
            }
        }
        for &x in &self.seen {
            self.cannot_reach[x as usize] = target;
        }
        false
    }

    /// The cursors among the pending revisions above `target` (those that reach it), when
    /// there are at most [`UP_WALK_LIMIT`] such revisions; `None` when there are more
    /// (then testing cursors one by one is cheaper).
    fn cursors_above(
        &mut self,
        target: Ix,
        pending: &[bool],
        is_cursor: &[bool],
    ) -> Option<Vec<Ix>> {
        self.visit += 1;
        self.stack.clear();
        self.stack.push(target);
        let mut seen = 0usize;
        let mut found = Vec::new();
        while let Some(x) = self.stack.pop() {
            for y in self.graph.all_next(x) {
                let yu = y as usize;
                if pending[yu] && self.visited[yu] != self.visit {
                    self.visited[yu] = self.visit;
                    seen += 1;
                    if seen > UP_WALK_LIMIT {
                        return None;
                    }
                    if is_cursor[yu] {
                        found.push(y);
                    }
                    self.stack.push(y);
                }
            }
        }
        Some(found)
    }

    /// The pending revisions above `target`, in load order.
    fn pending_above(&mut self, target: Ix, pending: &[bool]) -> Vec<Ix> {
        self.visit += 1;
        let mut region = Vec::new();
        self.stack.clear();
        self.stack.push(target);
        while let Some(x) = self.stack.pop() {
            for y in self.graph.all_next(x) {
                if pending[y as usize] && self.visited[y as usize] != self.visit {
                    self.visited[y as usize] = self.visit;
                    self.stack.push(y);
                    region.push(y);
                }
            }
        }
        region.sort_unstable();
        region
    }
}
