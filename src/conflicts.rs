//! Do two heads collide? What each side's revisions touch (in the SQL analyser's
//! terms, [`Touch`], whether read from SQL or from Alembic's `op.*` calls), compared
//! object by object: a verdict per pair of heads, each shared object with what each
//! side does to it, and every statement that could not be read.
//!
//! Objects are compared at the table: a column, index or constraint counts as its
//! table, so two branches that each add a column to `users` overlap on `users`. A
//! foreign key to a table counts as touching it, so one side's foreign key to a table
//! the other side alters or drops is shared. Two sides that only read or reference a
//! table do not collide.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::sql::{Action, ObjectKind, ObjectRef, Touch};

/// What one revision touches, and where each touch is written.
#[derive(Debug, Clone, Default)]
pub struct RevisionTouches {
    pub revision: String,
    pub path: Option<PathBuf>,
    /// Who added the revision (from git), when known.
    pub author: Option<String>,
    /// Each touch with the 1-based line of the file where its statement is.
    pub touches: Vec<(Touch, Option<u32>)>,
    /// Each statement or call that could not be read: line and what it is.
    pub unknown: Vec<(Option<u32>, String)>,
}

/// The verdict on a pair of heads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// No object in common.
    Independent,
    /// At least one object both sides touch.
    Overlapping,
    /// Nothing shared among what could be read, but something could not be read.
    Unknown,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Independent => "independent",
            Verdict::Overlapping => "overlapping",
            Verdict::Unknown => "unknown",
        }
    }
}

/// One side's touch of a shared object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SideEntry {
    pub revision: String,
    /// What it does: `create column email`, `drop table users`, `foreign key to table users`.
    pub action: String,
    pub path: Option<PathBuf>,
    pub line: Option<u32>,
    pub author: Option<String>,
}

/// An object both sides touch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SharedObject {
    pub object: String,
    pub kind: String,
    pub a: Vec<SideEntry>,
    pub b: Vec<SideEntry>,
}

/// A statement or call that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnknownEntry {
    /// `a` or `b`.
    pub side: String,
    pub revision: String,
    pub path: Option<PathBuf>,
    pub line: Option<u32>,
    pub statement: String,
}

/// What comparing two sides found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    pub verdict: Verdict,
    pub shared: Vec<SharedObject>,
    pub unknown: Vec<UnknownEntry>,
}

/// How strongly a touch involves its object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Strength {
    /// Reads it or points a foreign key at it.
    Refers,
    /// Writes rows.
    Data,
    /// Creates, alters, renames or drops it.
    Schema,
}

fn strength(a: &Action) -> Strength {
    match a {
        Action::References | Action::Reads => Strength::Refers,
        Action::Insert | Action::Update | Action::Delete => Strength::Data,
        _ => Strength::Schema,
    }
}

/// The object a touch counts against: its table, or the object itself.
fn keys(o: &ObjectRef, action: &Action) -> Vec<(String, String)> {
    let kind = match o.kind {
        ObjectKind::Table => "table",
        ObjectKind::Column | ObjectKind::Index | ObjectKind::Constraint => match &o.table {
            Some(t) => return vec![("table".to_owned(), t.clone())],
            None if o.kind == ObjectKind::Index => "index",
            None if o.kind == ObjectKind::Column => "column",
            None => "constraint",
        },
        ObjectKind::View => "view",
        ObjectKind::Sequence => "sequence",
        ObjectKind::Type => "type",
        ObjectKind::Schema => "schema",
        ObjectKind::Function => "function",
        ObjectKind::Trigger => "trigger",
        ObjectKind::Other => "other",
    };
    let mut out = vec![(kind.to_owned(), o.name.clone())];
    if let (Action::Rename { to }, ObjectKind::Table) = (action, o.kind) {
        out.push(("table".to_owned(), to.clone()));
    }
    out
}

/// A touch in words: `create column email`, `alter table users`, `foreign key to table users`.
pub fn describe(t: &Touch) -> String {
    let kind = t.object.kind.name();
    let name = &t.object.name;
    match &t.action {
        Action::Create => format!("create {kind} {name}"),
        Action::Alter => format!("alter {kind} {name}"),
        Action::Drop => format!("drop {kind} {name}"),
        Action::Rename { to } => format!("rename {kind} {name} to {to}"),
        Action::Insert => format!("insert into {kind} {name}"),
        Action::Update => format!("update {kind} {name}"),
        Action::Delete => format!("delete from {kind} {name}"),
        Action::References => format!("foreign key to {kind} {name}"),
        Action::Reads => format!("read {kind} {name}"),
    }
}

type Side<'a> =
    BTreeMap<(String, String), Vec<(Strength, &'a RevisionTouches, &'a Touch, Option<u32>)>>;

fn side(revs: &[RevisionTouches]) -> Side<'_> {
    let mut out: Side<'_> = BTreeMap::new();
    for r in revs {
        for (t, line) in &r.touches {
            for k in keys(&t.object, &t.action) {
                out.entry(k)
                    .or_default()
                    .push((strength(&t.action), r, t, *line));
            }
        }
    }
    out
}

fn entries(list: &[(Strength, &RevisionTouches, &Touch, Option<u32>)]) -> Vec<SideEntry> {
    let mut out: Vec<SideEntry> = Vec::new();
    for (_, r, t, line) in list {
        // `alter table t` next to `create column t.c` of the same statement says nothing more.
        let redundant = t.object.kind == ObjectKind::Table
            && t.action == Action::Alter
            && list.iter().any(|(_, r2, t2, l2)| {
                r2.revision == r.revision
                    && l2 == line
                    && t2.object.kind != ObjectKind::Table
                    && t2.object.table.as_deref() == Some(t.object.name.as_str())
            });
        if redundant {
            continue;
        }
        let e = SideEntry {
            revision: r.revision.clone(),
            action: describe(t),
            path: r.path.clone(),
            line: *line,
            author: r.author.clone(),
        };
        if !out.contains(&e) {
            out.push(e);
        }
    }
    out
}

/// Compares what side `a` and side `b` touch.
pub fn compare(a: &[RevisionTouches], b: &[RevisionTouches]) -> Comparison {
    let (sa, sb) = (side(a), side(b));
    let mut shared = Vec::new();
    for (key, la) in &sa {
        let Some(lb) = sb.get(key) else { continue };
        let max = |l: &[(Strength, &RevisionTouches, &Touch, Option<u32>)]| {
            l.iter().map(|e| e.0).max().unwrap_or(Strength::Refers)
        };
        let (ma, mb) = (max(la), max(lb));
        let collide = ma == Strength::Schema
            || mb == Strength::Schema
            || (ma == Strength::Data && mb == Strength::Data);
        if collide {
            shared.push(SharedObject {
                object: key.1.clone(),
                kind: key.0.clone(),
                a: entries(la),
                b: entries(lb),
            });
        }
    }
    let mut unknown = Vec::new();
    for (name, revs) in [("a", a), ("b", b)] {
        for r in revs {
            for (line, what) in &r.unknown {
                unknown.push(UnknownEntry {
                    side: name.to_owned(),
                    revision: r.revision.clone(),
                    path: r.path.clone(),
                    line: *line,
                    statement: what.clone(),
                });
            }
        }
    }
    let verdict = if !shared.is_empty() {
        Verdict::Overlapping
    } else if !unknown.is_empty() {
        Verdict::Unknown
    } else {
        Verdict::Independent
    };
    Comparison {
        verdict,
        shared,
        unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(
        kind: ObjectKind,
        name: &str,
        table: Option<&str>,
        action: Action,
    ) -> (Touch, Option<u32>) {
        (
            Touch {
                object: ObjectRef {
                    kind,
                    name: name.to_owned(),
                    table: table.map(str::to_owned),
                },
                action,
            },
            Some(3),
        )
    }

    fn rev(id: &str, touches: Vec<(Touch, Option<u32>)>) -> RevisionTouches {
        RevisionTouches {
            revision: id.to_owned(),
            path: Some(PathBuf::from(format!("revisions/{id}.yaml"))),
            author: Some("Ada".into()),
            touches,
            unknown: Vec::new(),
        }
    }

    #[test]
    fn separate_tables_are_independent() {
        let a = [rev(
            "a1",
            vec![t(ObjectKind::Table, "orders", None, Action::Create)],
        )];
        let b = [rev(
            "b1",
            vec![t(ObjectKind::Table, "invoices", None, Action::Create)],
        )];
        let c = compare(&a, &b);
        assert_eq!(c.verdict, Verdict::Independent);
        assert!(c.shared.is_empty());
    }

    #[test]
    fn two_columns_on_one_table_overlap_on_the_table() {
        let col = |id: &str, c: &str| {
            rev(
                id,
                vec![
                    t(ObjectKind::Table, "users", None, Action::Alter),
                    t(ObjectKind::Column, c, Some("users"), Action::Create),
                ],
            )
        };
        let c = compare(&[col("a1", "email")], &[col("b1", "phone")]);
        assert_eq!(c.verdict, Verdict::Overlapping);
        assert_eq!(c.shared.len(), 1);
        assert_eq!(
            (c.shared[0].object.as_str(), c.shared[0].kind.as_str()),
            ("users", "table")
        );
        assert_eq!(
            c.shared[0].a.len(),
            1,
            "the redundant `alter table` is left out"
        );
        assert_eq!(c.shared[0].a[0].action, "create column email");
        assert_eq!(c.shared[0].b[0].revision, "b1");
        assert_eq!(c.shared[0].b[0].line, Some(3));
    }

    #[test]
    fn a_foreign_key_to_a_table_the_other_side_drops_is_shared_but_two_references_are_not() {
        let fk = rev(
            "a1",
            vec![
                t(ObjectKind::Table, "orders", None, Action::Create),
                t(ObjectKind::Table, "users", None, Action::References),
            ],
        );
        let drop = rev(
            "b1",
            vec![t(ObjectKind::Table, "users", None, Action::Drop)],
        );
        let c = compare(std::slice::from_ref(&fk), &[drop]);
        assert_eq!(c.verdict, Verdict::Overlapping);
        assert_eq!(c.shared[0].a[0].action, "foreign key to table users");
        assert_eq!(c.shared[0].b[0].action, "drop table users");
        let other_fk = rev(
            "b2",
            vec![
                t(ObjectKind::Table, "invoices", None, Action::Create),
                t(ObjectKind::Table, "users", None, Action::References),
            ],
        );
        assert_eq!(compare(&[fk], &[other_fk]).verdict, Verdict::Independent);
    }

    #[test]
    fn an_unreadable_statement_makes_the_verdict_unknown_and_is_named() {
        let a = [rev(
            "a1",
            vec![t(ObjectKind::Table, "orders", None, Action::Create)],
        )];
        let mut b = rev("b1", Vec::new());
        b.unknown.push((Some(7), "statement 1: FROB users".into()));
        let c = compare(&a, &[b]);
        assert_eq!(c.verdict, Verdict::Unknown);
        assert_eq!(c.unknown[0].side, "b");
        assert_eq!(c.unknown[0].line, Some(7));
        assert_eq!(c.unknown[0].statement, "statement 1: FROB users");
    }

    #[test]
    fn renames_and_data_writes() {
        let a = [rev(
            "a1",
            vec![t(
                ObjectKind::Table,
                "people",
                None,
                Action::Rename {
                    to: "persons".into(),
                },
            )],
        )];
        let b = [rev(
            "b1",
            vec![t(ObjectKind::Table, "persons", None, Action::Insert)],
        )];
        assert_eq!(compare(&a, &b).verdict, Verdict::Overlapping);
        let a = [rev(
            "a1",
            vec![t(ObjectKind::Table, "users", None, Action::Update)],
        )];
        let b = [rev(
            "b1",
            vec![t(ObjectKind::Table, "users", None, Action::Delete)],
        )];
        assert_eq!(compare(&a, &b).verdict, Verdict::Overlapping);
        let b = [rev(
            "b1",
            vec![t(ObjectKind::Table, "users", None, Action::Reads)],
        )];
        assert_eq!(compare(&a, &b).verdict, Verdict::Independent);
    }
}
