//! PostgreSQL's standalone sequences: created before the tables (a default may call
//! `nextval` on one), dropped after them.

use super::ddl::quote;
use crate::core::Dialect;
use crate::schema::diff::Change;
use crate::schema::model::Sequence;

fn create(s: &Sequence) -> String {
    format!(
        "CREATE SEQUENCE {} START WITH {} INCREMENT BY {};",
        quote(Dialect::Postgres, &s.name),
        s.start,
        s.increment
    )
}

/// The statements for the sequence changes: (to run first, to run last). Other
/// dialects have none (the model refuses sequences there).
pub(super) fn statements(dialect: Dialect, changes: &[Change]) -> (Vec<String>, Vec<String>) {
    let (mut first, mut last) = (Vec::new(), Vec::new());
    if dialect != Dialect::Postgres {
        return (first, last);
    }
    let q = |n: &str| quote(dialect, n);
    for c in changes {
        match c {
            Change::AddSequence { sequence } => first.push(create(sequence)),
            Change::AlterSequence { from, to } => {
                let mut set = String::new();
                if from.start != to.start {
                    set.push_str(&format!(" START WITH {}", to.start));
                }
                if from.increment != to.increment {
                    set.push_str(&format!(" INCREMENT BY {}", to.increment));
                }
                first.push(format!("ALTER SEQUENCE {}{set};", q(&to.name)));
            }
            Change::DropSequence { sequence } => {
                last.push(format!("DROP SEQUENCE {};", q(&sequence.name)))
            }
            _ => {}
        }
    }
    (first, last)
}
