//! Two heads of the revision graph side by side: where they parted (their merge base
//! in the graph) and the revisions each adds since, in the order each would run. What
//! those revisions touch is the SQL analyser's question; this is only the graph's.

use super::{Ix, RevisionGraph};

/// Two heads and what each adds since they parted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadsPair {
    pub a: Ix,
    pub b: Ix,
    /// The nearest common ancestors (none when the heads share no history), load order.
    pub merge_base: Vec<Ix>,
    /// What `a` adds since the merge base, oldest first (its dependencies included).
    pub a_adds: Vec<Ix>,
    /// What `b` adds, oldest first.
    pub b_adds: Vec<Ix>,
    /// Everything below both, oldest first: what runs before either side.
    pub common: Vec<Ix>,
}

/// The pair `a`, `b` (dependencies count as ancestry: they run first).
pub fn heads_pair(graph: &RevisionGraph, a: Ix, b: Ix) -> HeadsPair {
    let below_a = graph.ancestors(&[a], true);
    let below_b = graph.ancestors(&[b], true);
    let n = graph.len();
    let common: Vec<Ix> = (0..n as Ix)
        .filter(|&i| below_a[i as usize] && below_b[i as usize])
        .collect();
    // A common ancestor is in the merge base when no child of it is also common.
    let merge_base: Vec<Ix> = common
        .iter()
        .copied()
        .filter(|&c| {
            !graph
                .all_next(c)
                .any(|x| below_a[x as usize] && below_b[x as usize])
        })
        .collect();
    let only = |mine: &[bool], other: &[bool]| -> Vec<Ix> {
        (0..n as Ix)
            .filter(|&i| mine[i as usize] && !other[i as usize])
            .collect()
    };
    HeadsPair {
        a,
        b,
        merge_base,
        a_adds: oldest_first(graph, only(&below_a, &below_b)),
        b_adds: oldest_first(graph, only(&below_b, &below_a)),
        common: oldest_first(graph, common),
    }
}

/// Every pair of `heads`, in order (`(h0, h1), (h0, h2), (h1, h2)` ...).
pub fn all_pairs(graph: &RevisionGraph, heads: &[Ix]) -> Vec<HeadsPair> {
    let mut out = Vec::new();
    for (i, &a) in heads.iter().enumerate() {
        for &b in &heads[i + 1..] {
            out.push(heads_pair(graph, a, b));
        }
    }
    out
}

/// `set` ordered so that each revision comes after its parents and dependencies in
/// the set; ties keep load order.
pub fn oldest_first(graph: &RevisionGraph, set: Vec<Ix>) -> Vec<Ix> {
    let mut member = vec![false; graph.len()];
    for &i in &set {
        member[i as usize] = true;
    }
    // Kahn's algorithm over the subgraph, smallest index first.
    let mut waiting = vec![0usize; graph.len()];
    for &i in &set {
        waiting[i as usize] = graph
            .parents(i)
            .iter()
            .chain(graph.dependencies(i))
            .filter(|&&p| member[p as usize])
            .count();
    }
    let mut ready: std::collections::BTreeSet<Ix> = set
        .iter()
        .copied()
        .filter(|&i| waiting[i as usize] == 0)
        .collect();
    let mut out = Vec::with_capacity(set.len());
    while let Some(i) = ready.pop_first() {
        out.push(i);
        for c in graph.all_next(i) {
            if member[c as usize] {
                let w = &mut waiting[c as usize];
                *w = w.saturating_sub(1);
                if *w == 0 {
                    ready.insert(c);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{Origin, Revision, RevisionId};

    fn rev(id: &str, down: &[&str], deps: &[&str]) -> Revision {
        Revision {
            id: RevisionId::parse(id).expect("id"),
            down_revisions: down
                .iter()
                .map(|d| RevisionId::parse(d).expect("id"))
                .collect(),
            depends_on: deps.iter().map(|d| d.to_string()).collect(),
            branch_labels: Vec::new(),
            message: String::new(),
            create_date: None,
            transactional: crate::core::Transactional::ALWAYS,
            upgrade: None,
            downgrade: None,
            body: Default::default(),
            origin: Origin::default(),
        }
    }

    fn ids(g: &RevisionGraph, v: &[Ix]) -> Vec<String> {
        v.iter().map(|&i| g.id(i).to_owned()).collect()
    }

    ///   a ── b ── c ── d
    ///         └── e ── f
    #[test]
    fn the_merge_base_and_each_sides_revisions() {
        let g = RevisionGraph::build(vec![
            rev("a", &[], &[]),
            rev("b", &["a"], &[]),
            rev("f", &["e"], &[]),
            rev("c", &["b"], &[]),
            rev("d", &["c"], &[]),
            rev("e", &["b"], &[]),
        ])
        .expect("builds");
        let p = heads_pair(&g, g.find("d").expect("d"), g.find("f").expect("f"));
        assert_eq!(ids(&g, &p.merge_base), ["b"]);
        assert_eq!(ids(&g, &p.a_adds), ["c", "d"]);
        assert_eq!(
            ids(&g, &p.b_adds),
            ["e", "f"],
            "parents first, whatever the load order"
        );
        assert_eq!(ids(&g, &p.common), ["a", "b"]);
    }

    ///   a ── b            x ── y     (two bases: no merge base)
    ///    └── c   and c depends on x
    #[test]
    fn separate_bases_and_dependencies() {
        let g = RevisionGraph::build(vec![
            rev("a", &[], &[]),
            rev("b", &["a"], &[]),
            rev("x", &[], &[]),
            rev("y", &["x"], &[]),
            rev("c", &["a"], &["x"]),
        ])
        .expect("builds");
        let heads: Vec<Ix> = ["b", "y", "c"]
            .iter()
            .map(|h| g.find(h).expect("head"))
            .collect();
        let pairs = all_pairs(&g, &heads);
        assert_eq!(pairs.len(), 3);
        let by = &pairs[0];
        assert!(by.merge_base.is_empty());
        assert_eq!(ids(&g, &by.a_adds), ["a", "b"]);
        let yc = &pairs[2];
        assert_eq!(ids(&g, &yc.merge_base), ["x"]);
        assert_eq!(ids(&g, &yc.a_adds), ["y"]);
        assert_eq!(ids(&g, &yc.b_adds), ["a", "c"]);
    }
}
