//! Alembic's execution order, computed without its quadratic ancestor sets.
//!
//! Alembic keeps a list of "current heads" (cursors) and walks the one at `idx` down its
//! branch. Before emitting a candidate it checks whether another cursor still has the
//! candidate among its ancestors; if so it jumps to the first such cursor. We keep the
//! same cursor list and the same jumps, so the order is Alembic's, but answer "is the
//! candidate still needed above?" with a counter of pending children, and "which cursor
//! needs it first?" with a search over the pending region above the candidate only.

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
    let mut cursors: Vec<Ix> = heads
        .iter()
        .copied()
        .filter(|&h| todo[h as usize])
        .collect();
    cursors.sort_unstable();
    cursors.dedup();
    let mut is_cursor = vec![false; n];
    for &c in &cursors {
        is_cursor[c as usize] = true;
    }
    let mut out = Vec::with_capacity(total);
    let mut idx = 0usize;
    let mut stamp = vec![0u32; n];
    let mut generation = 0u32;
    let mut queue = Vec::new();

    while !cursors.is_empty() {
        let candidate = cursors[idx];
        if needed_by[candidate as usize] > 0 {
            // Another cursor needs `candidate` first: find the first one in list order.
            generation += 1;
            queue.clear();
            queue.push(candidate);
            stamp[candidate as usize] = generation;
            while let Some(x) = queue.pop() {
                for y in graph.all_next(x) {
                    if pending[y as usize] && stamp[y as usize] != generation {
                        stamp[y as usize] = generation;
                        queue.push(y);
                    }
                }
            }
            let next = cursors
                .iter()
                .position(|&c| c != candidate && stamp[c as usize] == generation);
            match next {
                Some(i) => {
                    idx = i;
                    continue;
                }
                // Unreachable for a well-formed todo set; emit rather than loop forever.
                None => needed_by[candidate as usize] = 0,
            }
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
        let to_add: Vec<Ix> = graph
            .normalized_down(candidate)
            .filter(|&r| pending[r as usize] && !is_cursor[r as usize])
            .collect();
        match to_add.split_first() {
            None => {
                is_cursor[candidate as usize] = false;
                cursors.remove(idx);
                idx = idx.saturating_sub(1);
            }
            Some((&first, rest)) => {
                is_cursor[candidate as usize] = false;
                cursors[idx] = first;
                is_cursor[first as usize] = true;
                for &r in rest {
                    cursors.push(r);
                    is_cursor[r as usize] = true;
                }
            }
        }
    }
    // Anything not reachable from the heads (can't happen for plans) still comes out.
    if out.len() < total {
        let mut rest: Vec<Ix> = (0..n as Ix).filter(|&i| pending[i as usize]).collect();
        rest.reverse();
        out.extend(rest);
    }
    out
}
