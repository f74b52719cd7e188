//! Generated large graphs (the shapes of `tests/bench/gen_graph.py`, plus one with many
//! unmerged heads and one with many `depends_on`), and an ignored timing run:
//! `cargo test --release --lib core::tests::scale -- --ignored --nocapture`.

use std::time::Instant;

use super::*;

/// Graph shapes for the scale runs.
#[derive(Debug, Clone, Copy)]
pub(super) enum Shape {
    /// One long chain with a side branch merged back every 40 revisions.
    Chain,
    /// Parallel branches from one root, merged in groups of 2-7 at the end.
    Wide,
    /// Parallel branches from one root, never merged: many heads.
    WideHeads,
    /// Random branching, merges of 2-7 parents, branch labels, depends_on.
    Mixed,
    /// Several chains, each revision often depending on a recent one of another chain.
    Deps,
}

/// A small deterministic generator (xorshift64*), enough for test graphs.
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub(super) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Generates about `n` revisions of the given shape, in load order.
pub(super) fn generate(n: usize, shape: Shape, seed: u64) -> RevisionGraph {
    let mut rng = Rng::new(seed);
    // (id, parents, labels, deps) as indices
    let mut revs: Vec<(Vec<usize>, Vec<String>, Vec<usize>)> = Vec::new();
    match shape {
        Shape::Chain => {
            let mut main: Vec<usize> = Vec::new();
            while revs.len() < n {
                if main.len().is_multiple_of(40) && main.len() > 20 && revs.len() + 2 <= n {
                    revs.push((vec![main[main.len() - 20]], vec![], vec![]));
                    let side = revs.len() - 1;
                    revs.push((vec![main[main.len() - 1], side], vec![], vec![]));
                } else {
                    revs.push((main.last().copied().into_iter().collect(), vec![], vec![]));
                }
                main.push(revs.len() - 1);
            }
        }
        Shape::Wide | Shape::WideHeads => {
            let width = match shape {
                Shape::Wide => (n / 200).clamp(2, 500),
                _ => (n / 10).max(2),
            };
            revs.push((vec![], vec![], vec![]));
            let per = (n - 1).div_ceil(width).max(1);
            let mut tips = Vec::new();
            for b in 0..width {
                let mut prev = 0;
                for k in 0..per {
                    let labels = if k == 0 {
                        vec![format!("wide{b}")]
                    } else {
                        vec![]
                    };
                    revs.push((vec![prev], labels, vec![]));
                    prev = revs.len() - 1;
                }
                tips.push(prev);
            }
            if matches!(shape, Shape::Wide) {
                while tips.len() > 1 {
                    let k = (2 + rng.below(6)).min(tips.len());
                    let group: Vec<usize> = tips.drain(..k).collect();
                    revs.push((group, vec![], vec![]));
                    tips.push(revs.len() - 1);
                }
            }
        }
        Shape::Mixed => {
            let mut heads: Vec<usize> = Vec::new();
            let mut label_no = 0;
            for i in 0..n {
                let roll = rng.below(100);
                let mut labels = vec![];
                let mut deps = vec![];
                let parents: Vec<usize> = if heads.is_empty() {
                    vec![]
                } else if heads.len() >= 2 && (roll < 5 || heads.len() > 40) {
                    let k = (2 + rng.below(6)).min(heads.len());
                    let mut pick = Vec::new();
                    while pick.len() < k {
                        let h = heads[rng.below(heads.len())];
                        if !pick.contains(&h) {
                            pick.push(h);
                        }
                    }
                    pick
                } else if roll < 10 && i > 10 {
                    if rng.below(5) == 0 {
                        labels.push(format!("lbl{label_no}"));
                        label_no += 1;
                    }
                    vec![i / 2 + rng.below(i - i / 2)]
                } else {
                    vec![heads[rng.below(heads.len())]]
                };
                if i > 0 && rng.below(100) == 0 {
                    let d = rng.below(i);
                    if !parents.contains(&d) {
                        deps.push(d);
                    }
                }
                heads.retain(|h| !parents.contains(h));
                heads.push(i);
                revs.push((parents, labels, deps));
            }
            while heads.len() > 1 {
                let k = heads.len().min(7);
                let group: Vec<usize> = heads.drain(..k).collect();
                revs.push((group, vec![], vec![]));
                heads.push(revs.len() - 1);
            }
        }
        Shape::Deps => {
            let chains = 8;
            let mut tips: Vec<Option<usize>> = vec![None; chains];
            for i in 0..n {
                let c = i % chains;
                let parents: Vec<usize> = tips[c].into_iter().collect();
                let mut deps = vec![];
                if i >= chains && rng.below(4) == 0 {
                    let other = (c + 1 + rng.below(chains - 1)) % chains;
                    if let Some(t) = tips[other] {
                        deps.push(t);
                    }
                }
                revs.push((parents, vec![], deps));
                tips[c] = Some(i);
            }
        }
    }
    let id = |i: usize| format!("r{i:07}");
    let list = revs
        .iter()
        .enumerate()
        .map(|(i, (parents, labels, deps))| {
            let downs: Vec<String> = parents.iter().map(|&p| id(p)).collect();
            let downs: Vec<&str> = downs.iter().map(String::as_str).collect();
            let mut rev = r(&id(i), &downs);
            rev.branch_labels = labels.clone();
            rev.depends_on = deps.iter().map(|&d| id(d)).collect();
            rev
        })
        .collect();
    graph(list)
}

#[test]
fn generated_shapes_are_valid() {
    for shape in [
        Shape::Chain,
        Shape::Wide,
        Shape::WideHeads,
        Shape::Mixed,
        Shape::Deps,
    ] {
        let g = generate(2_000, shape, 3);
        assert!(g.len() >= 1_900, "{shape:?}: {}", g.len());
        let p = plan::upgrade(&g, &[], "heads").unwrap();
        assert_eq!(p.steps.len(), g.len(), "{shape:?}");
        check_plan(&g, &p);
    }
}

#[test]
fn generated_shapes_follow_alembic() {
    use super::properties::{alembic_topological_sort, marks};
    for shape in [
        Shape::Chain,
        Shape::Wide,
        Shape::WideHeads,
        Shape::Mixed,
        Shape::Deps,
    ] {
        let g = generate(500, shape, 5);
        let up = plan::iterate_up(&g, &["heads"], &["base"], false, false).unwrap();
        let all = vec![true; g.len()];
        assert_eq!(
            up,
            alembic_topological_sort(&g, &all, g.real_heads()),
            "{shape:?}"
        );
        let rows: Vec<Ix> = g.real_heads().to_vec();
        let down = plan::iterate_down(&g, &rows, "base", false, false).unwrap();
        assert_eq!(down, alembic_topological_sort(&g, &marks(&g, &down), &rows));
    }
}

fn time<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed().as_secs_f64() * 1000.0)
}

#[test]
#[ignore = "timing run; use --release --ignored --nocapture"]
fn timings() {
    println!("| shape | revisions | build ms | history ms | upgrade ms | downgrade ms |");
    println!("|---|---:|---:|---:|---:|---:|");
    for shape in [
        Shape::Chain,
        Shape::Wide,
        Shape::WideHeads,
        Shape::Mixed,
        Shape::Deps,
    ] {
        for n in [10_000, 100_000] {
            let revs = generate(n, shape, 7).revisions().to_vec();
            let count = revs.len();
            let (g, build) = time(|| RevisionGraph::build(revs).unwrap());
            let (hist, history) = time(|| plan::history(&g, "base", "heads").unwrap());
            assert_eq!(hist.len(), count);
            let (p, upgrade) = time(|| plan::upgrade(&g, &[], "heads").unwrap());
            assert_eq!(p.steps.len(), count);
            let rows: Vec<Ix> = p.rows_after.iter().map(|id| ix(&g, id)).collect();
            let (d, downgrade) = time(|| plan::downgrade(&g, &rows, "base").unwrap());
            assert_eq!(d.steps.len(), count);
            println!(
                "| {shape:?} | {count} | {build:.1} | {history:.1} | {upgrade:.1} | {downgrade:.1} |"
            );
        }
    }
}
