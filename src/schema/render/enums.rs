//! PostgreSQL's named enum types: created before the first column that uses one,
//! dropped after the last, and changed in place where PostgreSQL can do it.
//!
//! `ALTER TYPE ... ADD VALUE` adds a value at any position; a new value can't be used
//! in the transaction that added it, so a script with one runs outside a transaction.
//! PostgreSQL can't remove or rename a value in place (and `RENAME VALUE` can't be
//! told from a remove and an add), so any other change goes the documented manual
//! way, written out with a note: rename the old type, create the new one, convert the
//! column through text (which fails, changing nothing, while a row holds a value the
//! new type lacks), drop the old type.

use super::ddl::{quote, quote_rel, sql_literal};
use crate::core::Dialect;
use crate::schema::model::enum_type_name;

const D: Dialect = Dialect::Postgres;

fn values_sql(values: &[String]) -> String {
    values
        .iter()
        .map(|v| sql_literal(D, v))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The column type: the quoted name of the column's enum type.
pub(super) fn type_ref(table: &str, column: &str) -> String {
    quote_rel(D, &enum_type_name(table, column))
}

pub(super) fn create(table: &str, column: &str, values: &[String]) -> String {
    format!(
        "CREATE TYPE {} AS ENUM ({});",
        type_ref(table, column),
        values_sql(values)
    )
}

pub(super) fn drop(table: &str, column: &str) -> String {
    format!("DROP TYPE IF EXISTS {};", type_ref(table, column))
}

/// `old` is `new` with values taken away (order kept): the values `new` adds.
fn added_only<'a>(old: &[String], new: &'a [String]) -> Option<Vec<(usize, &'a String)>> {
    let mut rest = old.iter().peekable();
    let mut added = Vec::new();
    for (i, v) in new.iter().enumerate() {
        if rest.peek() == Some(&v) {
            rest.next();
        } else {
            added.push((i, v));
        }
    }
    rest.peek().is_none().then_some(added)
}

/// Changes the values of the enum type of `table.column`; `true` when the script must
/// run outside a transaction (it adds values).
pub(super) fn alter(
    table: &str,
    column: &str,
    old: &[String],
    new: &[String],
    out: &mut Vec<String>,
) -> bool {
    let ty = type_ref(table, column);
    if let Some(added) = added_only(old, new) {
        for (i, v) in &added {
            // Place it after its predecessor in the new list, or first.
            let place = match i.checked_sub(1).and_then(|p| new.get(p)) {
                Some(prev) => format!(" AFTER {}", sql_literal(D, prev)),
                None => match new.get(i + 1) {
                    Some(next) => format!(" BEFORE {}", sql_literal(D, next)),
                    None => String::new(),
                },
            };
            out.push(format!(
                "ALTER TYPE {ty} ADD VALUE IF NOT EXISTS {}{place};",
                sql_literal(D, v)
            ));
        }
        return !added.is_empty();
    }
    let name = enum_type_name(table, column);
    let old_name = quote_rel(D, &format!("{name}_old"));
    let c = quote(D, column);
    let gone: Vec<&String> = old.iter().filter(|v| !new.contains(v)).collect();
    out.push(format!(
        "-- NOTE: PostgreSQL can't remove, rename or reorder enum values in place; the\n\
         -- type is rebuilt. This fails, changing nothing, while a row of {table}.{column}\n\
         -- holds a value the new type lacks ({}): update those rows first.",
        gone.iter()
            .map(|v| sql_literal(D, v))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    // RENAME TO takes the bare name: the type stays in its schema.
    let bare_old = format!("{name}_old");
    let bare_old = bare_old.rsplit('.').next().unwrap_or(&bare_old);
    out.push(format!("ALTER TYPE {ty} RENAME TO {};", quote(D, bare_old)));
    out.push(create(table, column, new));
    out.push(format!(
        "ALTER TABLE {} ALTER COLUMN {c} TYPE {ty} USING {c}::text::{ty};",
        quote_rel(D, table)
    ));
    out.push(format!("DROP TYPE {old_name};"));
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn added_values_go_in_place_and_removals_rebuild() {
        let mut out = Vec::new();
        let nt = alter(
            "t",
            "s",
            &v(&["a", "c"]),
            &v(&["z", "a", "b", "c"]),
            &mut out,
        );
        assert!(nt);
        assert_eq!(
            out,
            [
                "ALTER TYPE \"t_s\" ADD VALUE IF NOT EXISTS 'z' BEFORE 'a';",
                "ALTER TYPE \"t_s\" ADD VALUE IF NOT EXISTS 'b' AFTER 'a';",
            ]
        );
        let mut out = Vec::new();
        assert!(!alter("t", "s", &v(&["a", "b"]), &v(&["a"]), &mut out));
        assert!(
            out[0].contains("holds a value the new type lacks ('b')"),
            "{out:?}"
        );
        assert_eq!(out[1], "ALTER TYPE \"t_s\" RENAME TO \"t_s_old\";");
        assert_eq!(
            out[3],
            "ALTER TABLE \"t\" ALTER COLUMN \"s\" TYPE \"t_s\" USING \"s\"::text::\"t_s\";"
        );
    }
}
