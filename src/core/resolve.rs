//! Identifier resolution: `head`, `heads`, `base`, ids and prefixes, branch labels,
//! `label@rev`, and relative walks (`+N`, `rev-N`, `label@+N`), with Alembic's rules and
//! error texts.

use super::graph::{Ix, RevisionGraph};

/// A resolution failure. Texts follow Alembic's; not-found errors carry candidates so a
/// front end can say "did you mean".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("Multiple heads are present for given argument '{argument}'; {}", heads.join(", "))]
    MultipleHeads {
        argument: String,
        heads: Vec<String>,
    },
    #[error("No such revision or branch '{input}'{}", if input.len() < 4 { "; please ensure at least four characters are present for partial revision identifier matches" } else { "" })]
    NotFound {
        input: String,
        candidates: Vec<String>,
    },
    #[error("Multiple revisions start with '{prefix}': {}...", candidates.iter().take(3).map(|c| format!("'{c}'")).collect::<Vec<_>>().join(", "))]
    AmbiguousPrefix {
        prefix: String,
        candidates: Vec<String>,
    },
    #[error("No such branch: '{label}'")]
    NoSuchBranch { label: String },
    #[error("Revision {revision} is not a member of branch '{label}'")]
    NotInBranch { revision: String, label: String },
    #[error("Ambiguous walk: {} {at} has {} {} ({})", if *.down { "below" } else { "above" }, choices.len(), if *.down { "parents" } else { "children" }, choices.join(", "))]
    AmbiguousWalk {
        /// Where the walk forked (`<base>` when above nothing).
        at: String,
        /// The revisions the next step could go to.
        choices: Vec<String>,
        /// Whether the walk was going down.
        down: bool,
        /// Steps still to walk after the fork.
        remaining: u64,
    },
    #[error("Relative revision {relative} didn't produce {steps} migrations")]
    RelativeTooFar { relative: String, steps: u64 },
    #[error("Walked too far")]
    WalkedTooFar,
    #[error("Ambiguous upgrade from multiple current revisions")]
    AmbiguousUpgrade,
    #[error("downgrade {target} from multiple heads ({}) is ambiguous; name the branch, e.g. '<label>@{target}' or '<revision>{target}'", heads.join(", "))]
    AmbiguousRelativeDowngrade { target: String, heads: Vec<String> },
    #[error("Requested revision {revision} overlaps with other requested revisions {}", others.join(", "))]
    Overlap {
        revision: String,
        others: Vec<String>,
    },
    #[error("Destination {target} is not a valid downgrade target from current head(s)")]
    NotDowngradeTarget { target: String },
    #[error("Not a valid downgrade target from current heads")]
    NoDowngradeRoots,
    #[error("Revision {lower} is not an ancestor of revision {upper}")]
    RangeNotAncestor { lower: String, upper: String },
}

/// A position reached by a walk: nothing yet, below a base, or a revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pos {
    /// Alembic's `None`: no revision (walking up starts at the bases, down at the heads).
    Nothing,
    /// Alembic's `"base"`: reached by walking down from a base.
    Base,
    Rev(Ix),
}

impl Pos {
    pub fn rev(self) -> Option<Ix> {
        match self {
            Pos::Rev(ix) => Some(ix),
            _ => None,
        }
    }
}

/// A relative identifier split into its parts: `[label@][symbol](+|-)N`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relative<'a> {
    pub label: Option<&'a str>,
    pub symbol: Option<&'a str>,
    pub steps: i64,
    pub text: &'a str,
}

/// Parses `[label@][symbol](+|-)N`; anything else is not relative.
pub fn parse_relative(input: &str) -> Option<Relative<'_>> {
    let (label, rest) = match input.split_once('@') {
        Some((l, r)) if !l.is_empty() => (Some(l), r),
        _ => (None, input),
    };
    let sign = rest.find(['+', '-'])?;
    let (symbol, number) = rest.split_at(sign);
    if !symbol
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return None;
    }
    let digits = &number[1..];
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let magnitude: i64 = digits.parse().ok()?;
    let steps = if number.starts_with('-') {
        -magnitude
    } else {
        magnitude
    };
    Some(Relative {
        label,
        symbol: (!symbol.is_empty()).then_some(symbol),
        steps,
        text: number,
    })
}

/// Resolves identifiers against one graph.
#[derive(Clone, Copy)]
pub struct Resolver<'g> {
    pub graph: &'g RevisionGraph,
}

impl<'g> Resolver<'g> {
    pub fn new(graph: &'g RevisionGraph) -> Self {
        Self { graph }
    }

    fn ids(&self, ixs: &[Ix]) -> Vec<String> {
        ixs.iter().map(|&i| self.graph.id(i).to_owned()).collect()
    }

    /// One revision by exact id, branch label, or unique prefix (of more than 3
    /// characters' keys), checked against `branch` when given.
    pub fn revision_for_ident(
        &self,
        ident: &str,
        branch: Option<&str>,
    ) -> Result<Ix, ResolveError> {
        let branch_rev = branch.map(|b| self.resolve_branch(b)).transpose()?;
        let g = self.graph;
        let found = match g.find(ident).or_else(|| g.label_owner(ident)) {
            Some(ix) => ix,
            None => {
                let mut matches: Vec<(&str, Ix)> = g.keys_with_prefix(ident).collect();
                if let Some(b) = branch_rev {
                    let lineage = self.lineage(&[b]);
                    matches.retain(|&(_, ix)| lineage[ix as usize]);
                }
                matches.dedup_by_key(|m| m.1);
                match matches.as_slice() {
                    [] => {
                        return Err(ResolveError::NotFound {
                            input: ident.to_owned(),
                            candidates: self.near_misses(ident),
                        })
                    }
                    [(_, ix)] => *ix,
                    many => {
                        return Err(ResolveError::AmbiguousPrefix {
                            prefix: ident.to_owned(),
                            candidates: many.iter().map(|(k, _)| (*k).to_owned()).collect(),
                        })
                    }
                }
            }
        };
        if let (Some(label), Some(b)) = (branch, branch_rev) {
            if !g.shares_lineage(found, b) {
                return Err(ResolveError::NotInBranch {
                    revision: g.id(found).to_owned(),
                    label: label.to_owned(),
                });
            }
        }
        Ok(found)
    }

    /// Up to three ids or labels sharing the longest prefix with `ident`: "did you mean".
    fn near_misses(&self, ident: &str) -> Vec<String> {
        for len in (1..ident.len()).rev() {
            if !ident.is_char_boundary(len) {
                continue;
            }
            let found: Vec<String> = self
                .graph
                .keys_with_prefix(&ident[..len])
                .take(3)
                .map(|(k, _)| k.to_owned())
                .collect();
            if !found.is_empty() {
                return found;
            }
        }
        Vec::new()
    }

    /// A branch label, or failing that a revision: the left side of `label@rev`.
    pub fn resolve_branch(&self, label: &str) -> Result<Ix, ResolveError> {
        if let Some(ix) = self.graph.label_owner(label) {
            return Ok(ix);
        }
        self.revision_for_ident(label, None)
            .map_err(|_| ResolveError::NoSuchBranch {
                label: label.to_owned(),
            })
    }

    /// Keeps the revisions that share lineage (are ancestors or descendants through
    /// `down_revision`) with what `against` names, as Alembic's `filter_for_lineage`: a
    /// label or revision, or `label@rev`, `heads`, `label@head`, ...; `base` names
    /// nothing and keeps everything. Linear in the graph size, whatever `revs` holds.
    pub fn filter_for_lineage(&self, revs: &[Ix], against: &str) -> Result<Vec<Ix>, ResolveError> {
        let anchors = self.lineage_anchors(against)?;
        if anchors.is_empty() {
            return Ok(revs.to_vec());
        }
        let lineage = self.lineage(&anchors);
        Ok(revs
            .iter()
            .copied()
            .filter(|&r| lineage[r as usize])
            .collect())
    }

    /// The revisions `against` names for a lineage test (Alembic's `shares` list: the
    /// branch's revision, then what the identifier resolves to).
    pub fn lineage_anchors(&self, against: &str) -> Result<Vec<Ix>, ResolveError> {
        let (label, id) = match against.split_once('@') {
            Some((l, id)) => (Some(l), id),
            None => (None, against),
        };
        let mut anchors = Vec::new();
        if let Some(l) = label {
            anchors.push(self.resolve_branch(l)?);
        }
        match id {
            "heads" | "head" | "base" | "" => anchors.extend(self.revisions(against)?),
            // A label, else a revision: an unknown name gets the revision error (with
            // its "did you mean"), as every other command gives it.
            _ if label.is_none() => anchors.push(match self.graph.label_owner(id) {
                Some(ix) => ix,
                None => self.revision_for_ident(id, None)?,
            }),
            _ => anchors.push(self.revision_for_ident(id, label)?),
        }
        Ok(anchors)
    }

    /// Marks every revision that is an ancestor or descendant of one of `anchors`
    /// through `down_revision` (the anchors included).
    fn lineage(&self, anchors: &[Ix]) -> Vec<bool> {
        let mut lineage = self.graph.ancestors(anchors, false);
        for (l, d) in lineage
            .iter_mut()
            .zip(self.graph.descendants(anchors, false))
        {
            *l |= d;
        }
        lineage
    }

    /// The current head, of all heads or of one branch.
    pub fn current_head(&self, branch: Option<&str>) -> Result<Option<Ix>, ResolveError> {
        let g = self.graph;
        let heads = match branch {
            Some(b) => self.filter_for_lineage(g.heads(), b)?,
            // Deliberate: a head that exists only as a dependency target is applied with
            // the real head that depends on it, so `head` counts real heads when the
            // effective ones differ (Alembic fails `upgrade head` there).
            None if g.heads().len() > 1 && g.real_heads().len() == 1 => g.real_heads().to_vec(),
            None => g.heads().to_vec(),
        };
        match heads.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(*one)),
            many => Err(ResolveError::MultipleHeads {
                argument: branch.map_or("head".to_owned(), |b| format!("{b}@head")),
                heads: self.ids(many),
            }),
        }
    }

    /// Alembic's `get_revisions`: an identifier to zero (base), one or many revisions.
    pub fn revisions(&self, input: &str) -> Result<Vec<Ix>, ResolveError> {
        let (branch, id) = match input.split_once('@') {
            Some((b, id)) => (Some(b), id),
            None => (None, input),
        };
        let g = self.graph;
        match id {
            "heads" => match branch {
                Some(b) => self.filter_for_lineage(g.heads(), b),
                None => Ok(g.real_heads().to_vec()),
            },
            "head" => Ok(self.current_head(branch)?.into_iter().collect()),
            "base" | "" => Ok(Vec::new()),
            _ => {
                if let Some(n) = id.strip_prefix('-').and_then(|d| d.parse::<u64>().ok()) {
                    // `label@-N`: walk down from the (label's) heads. An unknown label is
                    // an error, not an empty answer (which would read as base).
                    if let Some(b) = branch {
                        self.resolve_branch(b)?;
                    }
                    let heads: Vec<Ix> = g
                        .real_heads()
                        .iter()
                        .copied()
                        .filter(|&h| branch.is_none_or(|b| g.has_label(h, b)))
                        .collect();
                    let mut out = Vec::new();
                    for h in heads {
                        if let Some(Pos::Rev(r)) =
                            self.walk(Pos::Rev(h), -(n as i64), None, true)?
                        {
                            out.push(r);
                        }
                    }
                    return Ok(out);
                }
                Ok(vec![self.revision_for_ident(id, branch)?])
            }
        }
    }

    /// Alembic's `get_revision`: at most one revision (`None` is base).
    pub fn revision(&self, input: &str) -> Result<Option<Ix>, ResolveError> {
        let revs = self.revisions(input)?;
        match revs.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(*one)),
            many => Err(ResolveError::MultipleHeads {
                argument: input.to_owned(),
                heads: self.ids(many),
            }),
        }
    }

    /// One revision from any identifier, relative forms with a symbol included
    /// (`head-1`, `ae10+2`, `auth@head-1`); `None` is base.
    pub fn resolve_one(&self, input: &str) -> Result<Option<Ix>, ResolveError> {
        let Some(rel) = parse_relative(input) else {
            return self.revision(input);
        };
        let Some(symbol) = rel.symbol else {
            return self.revision(input);
        };
        let (start, label) = if rel.steps > 0 {
            (
                self.revision(symbol)?.map_or(Pos::Nothing, Pos::Rev),
                rel.label,
            )
        } else {
            (self.start_of(symbol, rel.label)?, None)
        };
        match self.walk(start, rel.steps, label, true)? {
            Some(p) => Ok(p.rev()),
            None => Err(ResolveError::WalkedTooFar),
        }
    }

    /// Walks `steps` up (positive) or down (negative); every step needs exactly one
    /// neighbour. `label` filters upward steps. `Ok(None)` means the walk ran off the
    /// graph and `no_overwalk` was set.
    pub fn walk(
        &self,
        start: Pos,
        steps: i64,
        label: Option<&str>,
        no_overwalk: bool,
    ) -> Result<Option<Pos>, ResolveError> {
        let g = self.graph;
        let mut at = start;
        for done in 0..steps.unsigned_abs() {
            let next: Vec<Pos> = if steps > 0 {
                let up: Vec<Ix> = match at {
                    Pos::Nothing => g.bases().to_vec(),
                    Pos::Rev(ix) => g.children(ix).to_vec(),
                    Pos::Base => Vec::new(),
                };
                let up = match label {
                    Some(l) => self.filter_for_lineage(&up, l)?,
                    None => up,
                };
                up.into_iter().map(Pos::Rev).collect()
            } else {
                match at {
                    Pos::Base => Vec::new(),
                    Pos::Nothing => g.heads().iter().map(|&h| Pos::Rev(h)).collect(),
                    Pos::Rev(ix) if g.parents(ix).is_empty() => vec![Pos::Base],
                    Pos::Rev(ix) => g.parents(ix).iter().map(|&p| Pos::Rev(p)).collect(),
                }
            };
            match next.as_slice() {
                [] => return Ok(if no_overwalk { None } else { Some(at) }),
                [one] => at = *one,
                many => {
                    return Err(ResolveError::AmbiguousWalk {
                        at: match at {
                            Pos::Rev(ix) => g.id(ix).to_owned(),
                            _ => "<base>".to_owned(),
                        },
                        choices: many
                            .iter()
                            .map(|p| match p {
                                Pos::Rev(ix) => g.id(*ix).to_owned(),
                                _ => "base".to_owned(),
                            })
                            .collect(),
                        down: steps < 0,
                        remaining: steps.unsigned_abs() - done - 1,
                    })
                }
            }
        }
        Ok(Some(at))
    }

    fn start_of(&self, symbol: &str, label: Option<&str>) -> Result<Pos, ResolveError> {
        let rev = match label {
            Some(l) => self.revision(&format!("{l}@{symbol}"))?,
            None => self.revision(symbol)?,
        };
        Ok(rev.map_or(Pos::Nothing, Pos::Rev))
    }

    /// The targets of `upgrade TARGET` from the applied heads `current`.
    pub fn upgrade_targets(&self, current: &[Ix], target: &str) -> Result<Vec<Ix>, ResolveError> {
        let Some(rel) = parse_relative(target) else {
            return self.revisions(target);
        };
        let too_far = || ResolveError::RelativeTooFar {
            relative: rel.text.to_owned(),
            steps: rel.steps.unsigned_abs(),
        };
        if rel.steps <= 0 {
            let Some(symbol) = rel.symbol else {
                return Err(too_far());
            };
            let start = self.start_of(symbol, rel.label)?;
            return match self.walk(start, rel.steps, None, true)? {
                Some(Pos::Rev(r)) => Ok(vec![r]),
                Some(_) => Ok(Vec::new()),
                None => Err(ResolveError::WalkedTooFar),
            };
        }
        if let Some(symbol) = rel.symbol {
            let start = self.revision(symbol)?.map_or(Pos::Nothing, Pos::Rev);
            return match self.walk(start, rel.steps, rel.label, true)? {
                Some(Pos::Rev(r)) => Ok(vec![r]),
                _ => Err(ResolveError::WalkedTooFar),
            };
        }
        let mut starts: Vec<Pos> = current.iter().map(|&c| Pos::Rev(c)).collect();
        if let Some(label) = rel.label {
            let on_branch = self.filter_for_lineage(current, label)?;
            starts = on_branch.iter().map(|&c| Pos::Rev(c)).collect();
            if starts.is_empty() {
                // The branch has no applied head: start from the tip of what is applied on
                // it, or from base.
                let applied = self.graph.ancestors(current, true);
                let active: Vec<Ix> = (0..self.graph.len() as Ix)
                    .filter(|&i| applied[i as usize])
                    .collect();
                let active = self.filter_for_lineage(&active, label)?;
                let mut is_below = vec![false; self.graph.len()];
                for &a in &active {
                    for d in self.graph.normalized_down(a) {
                        is_below[d as usize] = true;
                    }
                }
                starts = active
                    .into_iter()
                    .filter(|&a| !is_below[a as usize])
                    .map(Pos::Rev)
                    .collect();
            }
        }
        if starts.is_empty() {
            starts.push(Pos::Nothing);
        }
        if starts.len() > 1 {
            return Err(ResolveError::AmbiguousUpgrade);
        }
        match self.walk(starts[0], rel.steps, rel.label, true)? {
            Some(Pos::Rev(r)) => Ok(vec![r]),
            _ => Err(too_far()),
        }
    }

    /// The branch filter and destination of `downgrade TARGET` from the applied heads
    /// `current`. A destination of `None` is base.
    pub fn downgrade_target(
        &self,
        current: &[Ix],
        target: &str,
    ) -> Result<(Option<String>, Option<Ix>), ResolveError> {
        let Some(rel) = parse_relative(target) else {
            let (label, symbol) = match target.rsplit_once('@') {
                Some((l, s)) if !l.is_empty() => (Some(l.to_owned()), s),
                _ => (None, target),
            };
            return Ok((label, self.revision(symbol)?));
        };
        let too_far = || ResolveError::RelativeTooFar {
            relative: rel.text.to_owned(),
            steps: rel.steps.unsigned_abs(),
        };
        let label = rel.label.map(str::to_owned);
        if rel.steps >= 0 {
            let Some(symbol) = rel.symbol else {
                return Err(too_far());
            };
            let start = self.revision(symbol)?.map_or(Pos::Nothing, Pos::Rev);
            return match self.walk(start, rel.steps, rel.label, true)? {
                Some(p) => Ok((label, p.rev())),
                None => Err(ResolveError::WalkedTooFar),
            };
        }
        let (start, relative_to_current, label) = match rel.symbol {
            Some(symbol) => (self.start_of(symbol, rel.label)?, false, label),
            None => match rel.label {
                Some(l) => {
                    let mut on_branch = self.filter_for_lineage(current, l)?;
                    if on_branch.is_empty() {
                        let applied = self.graph.ancestors(current, true);
                        let all: Vec<Ix> = (0..self.graph.len() as Ix)
                            .filter(|&i| applied[i as usize])
                            .collect();
                        on_branch = self.filter_for_lineage(&all, l)?;
                        // Alembic's `_filter_into_branch_heads`: drop what has an
                        // applied child; dependents don't count.
                        on_branch.retain(|&a| {
                            !self.graph.children(a).iter().any(|&n| applied[n as usize])
                        });
                    }
                    match on_branch.as_slice() {
                        [one] => (Pos::Rev(*one), true, label),
                        [] => return Err(too_far()),
                        many => {
                            return Err(ResolveError::AmbiguousRelativeDowngrade {
                                target: target.to_owned(),
                                heads: self.ids(many),
                            })
                        }
                    }
                }
                None => {
                    let mut distinct = current.to_vec();
                    distinct.dedup();
                    match distinct.as_slice() {
                        [] => return Err(too_far()),
                        [one] => (Pos::Rev(*one), true, Some(self.graph.id(*one).to_owned())),
                        many => {
                            // Alembic warns and picks whichever row the database returns
                            // first; we refuse rather than guess.
                            return Err(ResolveError::AmbiguousRelativeDowngrade {
                                target: target.to_owned(),
                                heads: self.ids(many),
                            });
                        }
                    }
                }
            },
        };
        match self.walk(start, rel.steps, None, true)? {
            Some(p) => Ok((label, p.rev())),
            None if relative_to_current => Err(too_far()),
            None => Err(ResolveError::WalkedTooFar),
        }
    }
}
