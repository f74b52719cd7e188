//! Before two branches meet: the revisions their files make once merged (files from
//! both sides, by path) and what is wrong with that set that neither side shows alone.
//!
//! The adapter says, per path, which side added, edited or deleted the file since the
//! two sides parted (git's merge base); everything here is a plain function of that.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{Ix, Problem, ProblemKind, Revision, RevisionGraph};

/// What happened to one file since the two sides parted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathState {
    /// The same contents on both sides.
    Same,
    /// Only this side has it, and it is new.
    OursAdded,
    /// Only the other side has it, and it is new.
    TheirsAdded,
    /// Both sides added a file at this path, with different contents.
    BothAdded,
    /// Both have it; only this side changed it.
    OursEdited,
    /// Both have it; only the other side changed it.
    TheirsEdited,
    /// Both sides changed it, differently.
    BothEdited,
    /// The other side has it since before the sides parted; this side deleted it.
    OursDeleted,
    /// This side has it since before the sides parted; the other side deleted it.
    TheirsDeleted,
}

/// Which side brings a revision into the merged set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// This side (the working tree, or `--head`).
    Ours,
    /// The other side (`--base`).
    Theirs,
    /// Both sides have it.
    Both,
}

/// The merged revision set and the problems found while merging it.
#[derive(Debug, Default)]
pub struct MergedSides {
    /// The revisions only the other side has: the merged set is this side's revisions
    /// (its version of each file), then these (see [`MergedSides::revisions`]).
    pub theirs_only: Vec<Revision>,
    /// Which side brings each revision (by id).
    pub side: HashMap<String, Side>,
    /// The other side's heads on its own (by id, load order).
    pub theirs_heads: Vec<String>,
    /// Problems of the merge itself (see [`merge_sides`]).
    pub problems: Vec<Problem>,
}

/// A revision's file, as the key files are matched by (bytes: both sides' paths are
/// built the same way); `<id>` for a revision without one.
fn key(r: &Revision) -> Cow<'_, OsStr> {
    match r.origin.path.as_deref() {
        Some(p) => Cow::Borrowed(p.as_os_str()),
        None => Cow::Owned(format!("<{}>", r.id).into()),
    }
}

/// Heads of a set of revisions on its own: ids no revision of the set names as its
/// `down_revision`, in load order.
pub fn heads_of(revisions: &[Revision]) -> Vec<String> {
    let parents: HashSet<&str> = revisions
        .iter()
        .flat_map(|r| r.down_revisions.iter().map(|d| d.as_str()))
        .collect();
    revisions
        .iter()
        .map(|r| r.id.as_str())
        .filter(|id| !parents.contains(id))
        .map(str::to_owned)
        .collect()
}

/// Merges this side's revisions (`ours`) with the other side's (`theirs`, named
/// `theirs_name` in messages) by path, as git would merge the files, and reports:
/// this side edited or deleted a revision the other side has, both sides added a
/// revision with the same id or a file at the same path, a branch label defined on
/// both sides, and this side's new revisions that branch from an old head (their
/// `down_revision` is not the other side's head). More than one head after the merge
/// is [`merged_heads`]'s question, on the graph built from the result.
pub fn merge_sides(
    ours: &[Revision],
    theirs: &[Revision],
    state: impl Fn(&Path) -> PathState,
    theirs_name: &str,
) -> MergedSides {
    let mut out = MergedSides {
        theirs_heads: heads_of(theirs),
        ..MergedSides::default()
    };
    let theirs_by_path: HashMap<Cow<'_, OsStr>, &Revision> =
        theirs.iter().map(|r| (key(r), r)).collect();
    let theirs_ids: HashMap<&str, &Revision> = theirs.iter().map(|r| (r.id.as_str(), r)).collect();
    let theirs_labels: HashMap<&str, &Revision> = theirs
        .iter()
        .flat_map(|r| r.branch_labels.iter().map(move |l| (l.as_str(), r)))
        .collect();
    let mut ours_paths: HashSet<Cow<'_, OsStr>> = HashSet::with_capacity(ours.len());
    let mut ours_new: Vec<&Revision> = Vec::new();
    let mut taken: HashSet<&str> = HashSet::with_capacity(ours.len());
    out.side.reserve(ours.len());

    for r in ours {
        let path = key(r);
        let st = state(Path::new(&path));
        let other = theirs_by_path.get(&path);
        let side = match st {
            PathState::OursAdded | PathState::BothAdded => Side::Ours,
            _ => Side::Both,
        };
        match st {
            PathState::OursEdited | PathState::BothEdited => {
                let what = match other {
                    Some(t) if t.id != r.id => format!(
                        "revision {} is edited on this side: {theirs_name} has this file as revision {}; a revision others may have applied must not change (write a new revision instead)",
                        r.id, t.id
                    ),
                    _ => format!(
                        "revision {} is edited on this side but {theirs_name} already has it with other contents; a revision others may have applied must not change (write a new revision instead)",
                        r.id
                    ),
                };
                out.problems.push(
                    Problem::new(ProblemKind::EditedSharedRevision, what)
                        .at(Some(PathBuf::from(&*path)), r.origin.revision_line)
                        .revisions([r.id.to_string()]),
                );
            }
            PathState::BothAdded => {
                if let Some(t) = other {
                    out.problems.push(
                        Problem::new(
                            ProblemKind::AddedOnBothSides,
                            format!(
                                "this file is added on this side and on {theirs_name} with different contents (revision {} here, {} there)",
                                r.id, t.id
                            ),
                        )
                        .at(Some(PathBuf::from(&*path)), r.origin.revision_line)
                        .revisions([r.id.to_string(), t.id.to_string()]),
                    );
                }
            }
            _ => {}
        }
        if side == Side::Ours {
            ours_new.push(r);
        }
        out.side.insert(r.id.to_string(), side);
        taken.insert(r.id.as_str());
        ours_paths.insert(path);
    }

    for t in theirs {
        let path = key(t);
        if ours_paths.contains(&path) {
            continue;
        }
        match state(Path::new(&path)) {
            PathState::OursDeleted => {
                out.problems.push(
                    Problem::new(
                        ProblemKind::DeletedSharedRevision,
                        format!(
                            "revision {} is deleted on this side but {theirs_name} has it; a revision others may have applied must stay (restore the file)",
                            t.id
                        ),
                    )
                    .at(Some(PathBuf::from(&*path)), None)
                    .revisions([t.id.to_string()]),
                );
                // Kept, as if restored, so the rest of the graph is checked as it should be.
                if taken.insert(t.id.as_str()) {
                    out.side.insert(t.id.to_string(), Side::Theirs);
                    out.theirs_only.push(t.clone());
                }
            }
            PathState::TheirsDeleted => {}
            _ => {
                if !taken.insert(t.id.as_str()) {
                    // Reported from this side's file below.
                    continue;
                }
                out.side.insert(t.id.to_string(), Side::Theirs);
                out.theirs_only.push(t.clone());
            }
        }
    }

    let ours_new_ids: HashSet<&str> = ours_new.iter().map(|r| r.id.as_str()).collect();
    for r in &ours_new {
        let path = key(r);
        if let Some(t) = theirs_ids.get(r.id.as_str()) {
            if key(t) != path {
                out.problems.push(
                    Problem::new(
                        ProblemKind::AddedOnBothSides,
                        format!(
                            "revision {} is added on both sides: here and in {theirs_name} as {}",
                            r.id,
                            Path::new(&key(t)).display()
                        ),
                    )
                    .at(Some(PathBuf::from(&*path)), r.origin.revision_line)
                    .revisions([r.id.to_string()]),
                );
            }
        }
        for label in &r.branch_labels {
            if let Some(t) = theirs_labels.get(label.as_str()) {
                if t.id != r.id {
                    out.problems.push(
                        Problem::new(
                            ProblemKind::LabelOnBothSides,
                            format!(
                                "branch label '{label}' is defined on this side by {} and on {theirs_name} by {}",
                                r.id, t.id
                            ),
                        )
                        .at(Some(PathBuf::from(&*path)), r.origin.branch_labels_line)
                        .revisions([r.id.to_string(), t.id.to_string()]),
                    );
                }
            }
        }
        // The first revisions of this side's branch: they must sit on the other side's head.
        let is_root = !r
            .down_revisions
            .iter()
            .any(|d| ours_new_ids.contains(d.as_str()));
        if !is_root || out.theirs_heads.is_empty() {
            continue;
        }
        let on_a_head = r
            .down_revisions
            .iter()
            .any(|d| out.theirs_heads.iter().any(|h| h == d.as_str()));
        let theirs_has_parents = r
            .down_revisions
            .iter()
            .all(|d| theirs_ids.contains_key(d.as_str()));
        if !on_a_head && (theirs_has_parents || r.down_revisions.is_empty()) {
            let down = if r.down_revisions.is_empty() {
                "none (a new base)".to_owned()
            } else {
                r.down_revisions
                    .iter()
                    .map(|d| d.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            out.problems.push(
                Problem::new(
                    ProblemKind::BranchedFromOldHead,
                    format!(
                        "revision {} branched from an old head: its down_revision is {down}, but {theirs_name}'s head is {}",
                        r.id,
                        out.theirs_heads.join(", ")
                    ),
                )
                .at(Some(PathBuf::from(&*path)), r.origin.down_revision_line.or(r.origin.revision_line))
                .revisions([r.id.to_string()]),
            );
        }
    }
    out
}

impl MergedSides {
    /// The merged revision set: `ours` (the revisions given to [`merge_sides`]), then
    /// those only the other side has.
    pub fn revisions(&mut self, mut ours: Vec<Revision>) -> Vec<Revision> {
        ours.append(&mut self.theirs_only);
        ours
    }
}

/// The heads of the merged graph with the side that brings each, when there is more
/// than one (none otherwise).
pub fn merged_heads(graph: &RevisionGraph, merged: &MergedSides) -> Vec<(Ix, Side)> {
    let heads = graph.real_heads();
    if heads.len() < 2 {
        return Vec::new();
    }
    heads
        .iter()
        .map(|&h| {
            let side = merged.side.get(graph.id(h)).copied().unwrap_or(Side::Both);
            (h, side)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Origin;

    fn rev(id: &str, down: &[&str], file: &str) -> Revision {
        let mut r = Revision::new(id, down).expect("valid test id");
        r.origin = Origin {
            path: Some(PathBuf::from(file)),
            revision_line: Some(1),
            down_revision_line: Some(2),
            ..Origin::default()
        };
        r
    }

    fn kinds(m: &MergedSides) -> Vec<ProblemKind> {
        m.problems.iter().map(|p| p.kind).collect()
    }

    fn states<'a>(map: &'a [(&'a str, PathState)]) -> impl Fn(&Path) -> PathState + 'a {
        move |p: &Path| {
            map.iter()
                .find(|(f, _)| Path::new(f) == p)
                .map_or(PathState::Same, |(_, s)| *s)
        }
    }

    ///   a ── b ── c   (theirs adds c)
    ///         └── d   (ours adds d on b)
    #[test]
    fn a_branch_from_an_old_head_makes_two_heads() {
        let ours = [
            rev("a", &[], "a"),
            rev("b", &["a"], "b"),
            rev("d", &["b"], "d"),
        ];
        let theirs = [
            rev("a", &[], "a"),
            rev("b", &["a"], "b"),
            rev("c", &["b"], "c"),
        ];
        let st = [("d", PathState::OursAdded), ("c", PathState::TheirsAdded)];
        let mut m = merge_sides(&ours, &theirs, states(&st), "origin/main");
        let all = m.revisions(ours.to_vec());
        assert_eq!(kinds(&m), [ProblemKind::BranchedFromOldHead]);
        assert!(m.problems[0].message.contains("origin/main's head is c"));
        assert_eq!(m.problems[0].line, Some(2));
        let ids: Vec<&str> = all.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "d", "c"]);
        let g = RevisionGraph::build(all.clone()).expect("builds");
        let heads: Vec<(&str, Side)> = merged_heads(&g, &m)
            .into_iter()
            .map(|(h, s)| (g.id(h), s))
            .collect();
        assert_eq!(heads.len(), 2);
        assert!(heads.contains(&("d", Side::Ours)));
        assert!(heads.contains(&("c", Side::Theirs)));
    }

    ///   a ── b ── c ── d   (ours adds d on theirs' head c): nothing to report.
    #[test]
    fn a_branch_on_the_head_merges_cleanly() {
        let ours = [
            rev("a", &[], "a"),
            rev("c", &["a"], "c"),
            rev("d", &["c"], "d"),
        ];
        let theirs = [rev("a", &[], "a"), rev("c", &["a"], "c")];
        let mut m = merge_sides(
            &ours,
            &theirs,
            states(&[("d", PathState::OursAdded)]),
            "main",
        );
        let all = m.revisions(ours.to_vec());
        assert!(m.problems.is_empty(), "{:?}", m.problems);
        let g = RevisionGraph::build(all.clone()).expect("builds");
        assert!(merged_heads(&g, &m).is_empty());
    }

    #[test]
    fn edits_deletions_duplicates_and_labels_are_reported() {
        let mut labelled = rev("x", &["b"], "x");
        labelled.branch_labels = vec!["auth".into()];
        let mut their_label = rev("y", &["b"], "y");
        their_label.branch_labels = vec!["auth".into()];
        let ours = [
            rev("a", &[], "a"),
            rev("b", &["a"], "b"),
            labelled,
            rev("z", &["x"], "z_here"),
        ];
        let theirs = [
            rev("a", &[], "a"),
            rev("b", &["a"], "b"),
            rev("gone", &["b"], "gone"),
            their_label,
            rev("z", &["y"], "z_there"),
        ];
        let st = [
            ("b", PathState::OursEdited),
            ("gone", PathState::OursDeleted),
            ("x", PathState::OursAdded),
            ("z_here", PathState::OursAdded),
            ("y", PathState::TheirsAdded),
            ("z_there", PathState::TheirsAdded),
        ];
        let mut m = merge_sides(&ours, &theirs, states(&st), "main");
        let all = m.revisions(ours.to_vec());
        let mut k = kinds(&m);
        k.sort_by_key(|k| format!("{k:?}"));
        assert_eq!(
            k,
            [
                ProblemKind::AddedOnBothSides,
                ProblemKind::BranchedFromOldHead,
                ProblemKind::DeletedSharedRevision,
                ProblemKind::EditedSharedRevision,
                ProblemKind::LabelOnBothSides,
            ]
        );
        // The deleted revision is kept; the duplicate id is taken from this side once.
        let ids: Vec<&str> = all.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "x", "z", "gone", "y"]);
    }

    #[test]
    fn heads_of_a_set_ignore_outside_parents() {
        let revs = [
            rev("a", &[], "a"),
            rev("b", &["a"], "b"),
            rev("c", &["a"], "c"),
        ];
        assert_eq!(heads_of(&revs), ["b", "c"]);
        assert!(heads_of(&[]).is_empty());
    }
}
