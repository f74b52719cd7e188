//! Views: dropped before anything they read changes, created after everything.
//!
//! A view that goes away or changes is dropped first, views that read it before it;
//! a new or changed view is created last, views it reads before it. A view that stays
//! as it is but reads a table whose columns change (or that SQLite rebuilds) is
//! dropped and created again around the change too, as PostgreSQL refuses to alter a
//! column a view uses and SQLite checks views when a table is renamed; it is not
//! listed as a change.

use std::collections::BTreeSet;

use super::ddl::quote;
use crate::core::Dialect;
use crate::schema::diff::Change;
use crate::schema::model::{Schema, View};

/// `names` ordered so a view comes after the views of `names` it reads (cycles
/// broken by name order).
fn order<'a>(dialect: Dialect, schema: &'a Schema, names: &BTreeSet<&'a str>) -> Vec<&'a str> {
    let all: Vec<&str> = names.iter().copied().collect();
    let mut out: Vec<&str> = Vec::new();
    let mut done: BTreeSet<&str> = BTreeSet::new();
    fn visit<'a>(
        dialect: Dialect,
        schema: &'a Schema,
        all: &[&'a str],
        n: &'a str,
        done: &mut BTreeSet<&'a str>,
        stack: &mut BTreeSet<&'a str>,
        out: &mut Vec<&'a str>,
    ) {
        if done.contains(n) || !stack.insert(n) {
            return;
        }
        if let Some(v) = schema.views.get(n) {
            for r in v.reads(dialect, all) {
                visit(dialect, schema, all, r, done, stack, out);
            }
        }
        stack.remove(n);
        done.insert(n);
        out.push(n);
    }
    for n in &all {
        let mut stack = BTreeSet::new();
        visit(dialect, schema, &all, n, &mut done, &mut stack, &mut out);
    }
    out
}

fn create(dialect: Dialect, v: &View) -> String {
    format!("CREATE VIEW {} AS {};", quote(dialect, &v.name), v.sql)
}

fn drop(dialect: Dialect, name: &str) -> String {
    format!("DROP VIEW {};", quote(dialect, name))
}

/// The statements that drop views (to run first) and create them (to run last).
/// `touched` are the tables whose columns change or that are rebuilt or dropped.
pub(super) fn statements(
    dialect: Dialect,
    from: &Schema,
    to: &Schema,
    changes: &[Change],
    touched: &BTreeSet<&str>,
) -> (Vec<String>, Vec<String>) {
    let mut gone: BTreeSet<&str> = BTreeSet::new();
    let mut made: BTreeSet<&str> = BTreeSet::new();
    for c in changes {
        match c {
            Change::DropView { view } => {
                gone.insert(view.name.as_str());
            }
            Change::AddView { view } => {
                made.insert(view.name.as_str());
            }
            _ => {}
        }
    }
    // Views that stay but read something that changes, directly or through a view.
    let names: Vec<&str> = from
        .tables
        .keys()
        .chain(from.views.keys())
        .map(String::as_str)
        .collect();
    loop {
        let mut more = Vec::new();
        for (name, v) in &from.views {
            if gone.contains(name.as_str()) || !to.views.contains_key(name) {
                continue;
            }
            if v.reads(dialect, &names)
                .iter()
                .any(|r| touched.contains(r) || gone.contains(r))
            {
                more.push(name.as_str());
            }
        }
        if more.is_empty() {
            break;
        }
        for n in more {
            gone.insert(n);
            made.insert(n);
        }
    }
    let drops: Vec<String> = order(dialect, from, &gone)
        .into_iter()
        .rev()
        .map(|n| drop(dialect, n))
        .collect();
    let creates = order(dialect, to, &made)
        .into_iter()
        .filter_map(|n| to.views.get(n))
        .map(|v| create(dialect, v))
        .collect();
    (drops, creates)
}
