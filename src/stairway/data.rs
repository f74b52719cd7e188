//! `migrate test --data`: rows that must survive a step's down-and-up.
//!
//! After a revision's first upgrade, one row is written into every table the step does
//! not touch, plus (so foreign keys hold) one into each table those rows reference.
//! After the downgrade and the second upgrade each row must still be there with the
//! same values, and no table may hold fewer rows than before: what a cascade from a
//! rebuilt table, a `TRUNCATE` or a careless `DELETE` in a downgrade costs in
//! production. The rows are deleted afterwards, so each step starts from the rows the
//! revisions themselves wrote.
//!
//! A table the step touches is one whose definition the step's upgrade changes (the
//! schema difference), or whose name appears as a word in the step's SQL: a
//! conservative reading that can only leave tables out, never count a touched one in.
//!
//! Every value is generated per column type and written as a quoted literal; every
//! identifier comes from the introspection and is written quoted.

use std::collections::{BTreeMap, BTreeSet};

use super::scratch::Reader;
use crate::core::Dialect;
use crate::db::{bool_literal, literal};
use crate::schema::{ColumnType, Schema, Table};

/// The rows written before one step's down-and-up.
#[derive(Debug, Default)]
pub struct Planted {
    rows: Vec<PlantedRow>,
    /// Tables no row could be written into, and why.
    pub notes: Vec<String>,
}

impl Planted {
    /// The tables whose rows are checked.
    pub fn checked_tables(&self) -> Vec<&str> {
        self.rows
            .iter()
            .filter(|r| r.checked)
            .map(|r| r.table.as_str())
            .collect()
    }
}

#[derive(Debug)]
struct PlantedRow {
    table: String,
    quoted: String,
    /// In a table the step does not touch (the others only hold parents for keys).
    checked: bool,
    /// Matches the row by every value written.
    whole: String,
    /// Matches the row by its primary key (`None`: the table has none).
    key: Option<String>,
    /// The table's row count with the row in it.
    count: i64,
}

/// A row that did not survive.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LostRows {
    pub table: String,
    pub detail: String,
}

/// Quotes an identifier for `dialect` (autogenerate's rule: an embedded quote
/// character is doubled).
pub fn quote_ident(dialect: Dialect, name: &str) -> String {
    crate::schema::render::quote(dialect, name)
}

/// Whether `name` occurs in `sql` as a whole word (case-insensitive): a quick,
/// conservative "might this script touch that table".
pub fn named_in(sql: &str, name: &str) -> bool {
    if name.is_empty() {
        return false;
    }
    let hay = sql.to_lowercase();
    let needle = name.to_lowercase();
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    let mut from = 0;
    while let Some(pos) = hay[from..].find(&needle) {
        let start = from + pos;
        let end = start + needle.len();
        let before = hay[..start].chars().next_back();
        let after = hay[end..].chars().next();
        if !before.is_some_and(word) && !after.is_some_and(word) {
            return true;
        }
        from = start + needle.len().max(1);
        while !hay.is_char_boundary(from) {
            from += 1;
        }
    }
    false
}

/// A value for a column of `ty`, as a SQL literal (`None`: no portable value).
fn value(ty: &ColumnType, dialect: Dialect, seq: u64) -> Option<String> {
    let text = |s: &str| literal(s, dialect);
    Some(match ty {
        ColumnType::SmallInt => (10_000 + seq % 20_000).to_string(),
        ColumnType::Integer | ColumnType::BigInt => (900_000_000 + seq % 1_000_000_000).to_string(),
        ColumnType::Boolean => bool_literal(Some(true), dialect).to_owned(),
        ColumnType::Text => text(&format!("migrate-test-{seq}")),
        ColumnType::String(n) => {
            let s: String = format!("mt{seq}").chars().take(*n as usize).collect();
            text(&s)
        }
        ColumnType::Numeric(p, s) => {
            let digits = p.saturating_sub(*s).min(9);
            (seq % 10u64.pow(digits)).to_string()
        }
        ColumnType::Float | ColumnType::Double => format!("{}.5", seq % 1000),
        ColumnType::Date => text("2001-02-03"),
        ColumnType::Time => text("04:05:06"),
        ColumnType::Timestamp => text("2001-02-03 04:05:06"),
        ColumnType::TimestampTz if dialect == Dialect::Postgres => text("2001-02-03 04:05:06+00"),
        ColumnType::TimestampTz => text("2001-02-03 04:05:06"),
        ColumnType::Uuid => text(&format!("00000000-0000-4000-8000-{:012x}", seq)),
        ColumnType::Json => text(&format!("{{\"migrate_test\": {seq}}}")),
        ColumnType::Bytes => match dialect {
            Dialect::Postgres => "'\\x6d74'::bytea".to_owned(),
            _ => "X'6d74'".to_owned(),
        },
        // The first allowed value: valid on every backend's form of the enum.
        ColumnType::Enum(values) => text(values.first()?),
        ColumnType::Other(_) => return None,
    })
}

/// Whether `col = literal` finds the value written (floats, JSON and bytes are left
/// out of the comparison: their equality is not the text's).
fn comparable(ty: &ColumnType) -> bool {
    !matches!(
        ty,
        ColumnType::Float
            | ColumnType::Double
            | ColumnType::Json
            | ColumnType::Bytes
            | ColumnType::Other(_)
    )
}

/// Parents first, along foreign keys (a cycle is cut where it closes).
fn insert_order<'s>(schema: &'s Schema, wanted: &BTreeSet<String>) -> Vec<&'s Table> {
    fn visit<'s>(
        schema: &'s Schema,
        name: &str,
        state: &mut BTreeMap<String, bool>,
        out: &mut Vec<&'s Table>,
    ) {
        if state.contains_key(name) {
            return;
        }
        let Some(t) = schema.tables.get(name) else {
            return;
        };
        state.insert(name.to_owned(), false);
        for parent in t.referenced_tables() {
            visit(schema, parent, state, out);
        }
        state.insert(name.to_owned(), true);
        out.push(t);
    }
    let mut state = BTreeMap::new();
    let mut out = Vec::new();
    for name in wanted {
        visit(schema, name, &mut state, &mut out);
    }
    out
}

/// Writes one row into each table of `schema` not in `touched` (and into the tables
/// they reference). `seq` makes the values of this step unique.
pub async fn plant(
    reader: &mut Reader,
    schema: &Schema,
    touched: &BTreeSet<String>,
    seq: &mut u64,
) -> Planted {
    let dialect = reader.dialect();
    let untouched: BTreeSet<String> = schema
        .tables
        .keys()
        .filter(|t| !touched.contains(*t))
        .cloned()
        .collect();
    let mut planted = Planted::default();
    // Literal (or None for NULL) of every column written, per table.
    let mut written: BTreeMap<String, BTreeMap<String, Option<String>>> = BTreeMap::new();
    for table in insert_order(schema, &untouched) {
        *seq += 1;
        let row = match row_values(table, dialect, *seq, &written) {
            Ok(row) => row,
            Err(why) => {
                if untouched.contains(&table.name) {
                    planted
                        .notes
                        .push(format!("no row in {}: {why}", table.name));
                }
                continue;
            }
        };
        let quoted = quote_ident(dialect, &table.name);
        let cols: Vec<String> = row.iter().map(|(c, _)| quote_ident(dialect, c)).collect();
        let vals: Vec<&str> = row
            .iter()
            .map(|(_, v)| v.as_deref().unwrap_or("NULL"))
            .collect();
        let overriding = if dialect == Dialect::Postgres {
            " OVERRIDING SYSTEM VALUE"
        } else {
            ""
        };
        let insert = format!(
            "INSERT INTO {quoted} ({}){overriding} VALUES ({})",
            cols.join(", "),
            vals.join(", ")
        );
        if let Err(e) = reader.execute(&insert).await {
            if untouched.contains(&table.name) {
                planted.notes.push(format!(
                    "no row in {}: {}",
                    table.name,
                    crate::db::driver_message(&e)
                ));
            }
            continue;
        }
        let predicate = |only: Option<&[String]>| -> String {
            let parts: Vec<String> = row
                .iter()
                .filter(|(c, _)| only.is_none_or(|o| o.contains(c)))
                .filter(|(c, _)| table.column(c).is_some_and(|col| comparable(&col.ty)))
                .map(|(c, v)| match v {
                    Some(v) => format!("{} = {v}", quote_ident(dialect, c)),
                    None => format!("{} IS NULL", quote_ident(dialect, c)),
                })
                .collect();
            if parts.is_empty() {
                "1 = 1".to_owned()
            } else {
                parts.join(" AND ")
            }
        };
        let whole = predicate(None);
        let key = (!table.primary_key.is_empty()).then(|| predicate(Some(&table.primary_key)));
        let found = reader
            .count(&format!("SELECT COUNT(*) FROM {quoted} WHERE {whole}"))
            .await;
        let count = reader
            .count(&format!("SELECT COUNT(*) FROM {quoted}"))
            .await;
        written.insert(table.name.clone(), row.into_iter().collect());
        match (found, count) {
            (Ok(1), Ok(count)) => planted.rows.push(PlantedRow {
                table: table.name.clone(),
                quoted,
                checked: untouched.contains(&table.name),
                whole,
                key,
                count,
            }),
            _ => {
                // Can't be told from the table's other rows: left there, not checked.
                if untouched.contains(&table.name) {
                    planted.notes.push(format!(
                        "the row in {} can't be told from the others; not checked",
                        table.name
                    ));
                }
            }
        }
    }
    planted
}

/// The columns and literals of one row of `table`; foreign keys take the values of the
/// rows already written into the tables they reference.
fn row_values(
    table: &Table,
    dialect: Dialect,
    seq: u64,
    written: &BTreeMap<String, BTreeMap<String, Option<String>>>,
) -> Result<Vec<(String, Option<String>)>, String> {
    let mut row: Vec<(String, Option<String>)> = Vec::new();
    // Plain values first (a self-reference takes the row's own key).
    for col in &table.columns {
        match value(&col.ty, dialect, seq) {
            Some(v) => row.push((col.name.clone(), Some(v))),
            None if col.default.is_some() => {}
            None if col.nullable => row.push((col.name.clone(), None)),
            None => {
                return Err(format!(
                    "column {} has type {}, for which no value is generated",
                    col.name, col.ty
                ))
            }
        }
    }
    let own: BTreeMap<String, Option<String>> = row.iter().cloned().collect();
    for fk in &table.foreign_keys {
        let parent = if fk.ref_table == table.name {
            Some(&own)
        } else {
            written.get(&fk.ref_table)
        };
        for (i, c) in fk.columns.iter().enumerate() {
            let nullable = table.column(c).is_none_or(|x| x.nullable);
            let from_parent = parent
                .zip(fk.ref_columns.get(i))
                .and_then(|(p, rc)| p.get(rc).cloned().flatten());
            let v = match from_parent {
                Some(v) => Some(v),
                None if nullable => None,
                None => {
                    return Err(format!(
                        "its foreign key to {} needs a row there, and none could be written",
                        fk.ref_table
                    ))
                }
            };
            match row.iter_mut().find(|(n, _)| n == c) {
                Some(slot) => slot.1 = v,
                None => row.push((c.clone(), v)),
            }
        }
    }
    Ok(row)
}

/// The rows of `planted` that are gone or changed after the down-and-up, and the
/// checked tables that hold fewer rows than before it.
pub async fn check(reader: &mut Reader, planted: &Planted) -> Vec<LostRows> {
    let mut out = Vec::new();
    for r in planted.rows.iter().filter(|r| r.checked) {
        let whole = reader
            .count(&format!(
                "SELECT COUNT(*) FROM {} WHERE {}",
                r.quoted, r.whole
            ))
            .await;
        let mut problems = Vec::new();
        match whole {
            Ok(1) => {}
            Ok(_) => {
                let by_key = match &r.key {
                    Some(k) => reader
                        .count(&format!("SELECT COUNT(*) FROM {} WHERE {k}", r.quoted))
                        .await
                        .ok(),
                    None => None,
                };
                problems.push(if by_key == Some(1) {
                    "the row written before the downgrade is there with other values".to_owned()
                } else {
                    "the row written before the downgrade is gone".to_owned()
                });
            }
            Err(e) => problems.push(format!(
                "the row written before the downgrade can't be read back: {}",
                crate::db::driver_message(&e)
            )),
        }
        if let Ok(now) = reader
            .count(&format!("SELECT COUNT(*) FROM {}", r.quoted))
            .await
        {
            if now < r.count {
                problems.push(format!(
                    "{} row(s) before the downgrade, {now} after the upgrade again",
                    r.count
                ));
            }
        }
        if !problems.is_empty() {
            out.push(LostRows {
                table: r.table.clone(),
                detail: problems.join("; "),
            });
        }
    }
    out
}

/// Deletes the rows written, children first (best effort).
pub async fn remove(reader: &mut Reader, planted: Planted) {
    for r in planted.rows.iter().rev() {
        let which = r.key.as_deref().unwrap_or(&r.whole);
        let _ = reader
            .execute(&format!("DELETE FROM {} WHERE {which}", r.quoted))
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_found_as_whole_words_only() {
        let sql = "DELETE FROM role_permissions WHERE role_id = 1;\nUPDATE \"Users\" SET x = 1;";
        assert!(named_in(sql, "role_permissions"));
        assert!(named_in(sql, "users"));
        assert!(!named_in(sql, "roles"));
        assert!(!named_in(sql, "role"));
        assert!(!named_in(sql, "permissions"));
        assert!(named_in("DROP TABLE é_t;", "é_t"));
    }

    #[test]
    fn identifiers_and_values_are_quoted() {
        assert_eq!(quote_ident(Dialect::Postgres, "a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_ident(Dialect::Mysql, "a`b"), "`a``b`");
        assert_eq!(
            value(&ColumnType::String(3), Dialect::Sqlite, 12345).as_deref(),
            Some("'mt1'")
        );
        assert_eq!(
            value(&ColumnType::Other("inet".into()), Dialect::Postgres, 1),
            None
        );
        assert_eq!(
            value(&ColumnType::Numeric(3, 2), Dialect::Postgres, 17).as_deref(),
            Some("7")
        );
    }
}
