//! What the newest log row says about the state a database was left in: the one policy
//! behind the executor's refusal to go past a half-applied step, `current`'s warning and
//! `check`'s problem.

use crate::core::{Dialect, Direction, RevisionGraph};
use crate::db::{Capabilities, LogRow};

/// The state the last step left the database in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LastStep {
    /// It completed, or it was a stamp (which confirms where the database is).
    Complete,
    /// It failed and everything it did was rolled back: running again retries it.
    RolledBack {
        revision: String,
        direction: Direction,
        error: Option<String>,
    },
    /// It stopped part-way (the process was killed, or it failed where its changes can't
    /// roll back): the database may be half-changed, and runs refuse to go on until a
    /// `stamp` records where it is.
    Dirty {
        revision: String,
        direction: Direction,
        what: String,
    },
}

/// Reads the newest log row `row` of a `dialect` database with capabilities `caps`.
pub fn last_step(
    row: &LogRow,
    graph: &RevisionGraph,
    caps: Capabilities,
    dialect: Dialect,
) -> LastStep {
    if row.direction == Direction::Stamp || row.success == Some(true) {
        return LastStep::Complete;
    }
    let non_transactional = graph
        .find(&row.revision)
        .is_some_and(|ix| !graph.revision(ix).transactional.get(dialect, row.direction));
    if row.success.is_none() || !caps.transactional_ddl || non_transactional {
        let what = match (&row.success, &row.error) {
            (None, _) => "the process stopped while it ran".to_owned(),
            (_, Some(e)) => format!("it failed: {e}"),
            _ => "it failed".to_owned(),
        };
        return LastStep::Dirty {
            revision: row.revision.clone(),
            direction: row.direction,
            what,
        };
    }
    LastStep::RolledBack {
        revision: row.revision.clone(),
        direction: row.direction,
        error: row.error.clone(),
    }
}

impl LastStep {
    /// One line for a warning or a problem; `None` when the step completed.
    pub fn describe(&self) -> Option<String> {
        match self {
            LastStep::Complete => None,
            LastStep::RolledBack {
                revision,
                direction,
                error,
            } => Some(format!(
                "the last {direction} of revision {revision} failed and was rolled back{}; running it again retries it",
                error.as_ref().map(|e| format!(": {e}")).unwrap_or_default()
            )),
            LastStep::Dirty {
                revision,
                direction,
                what,
            } => Some(format!(
                "the last {direction} of revision {revision} did not complete ({what}); the database may be half-changed: fix it by hand, then `migrate stamp <revision>`"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Revision;
    use crate::db::{mysql, postgres, sqlite};

    fn graph() -> RevisionGraph {
        let a = Revision::new("a", &[]).expect("id");
        let mut b = Revision::new("b", &["a"]).expect("id");
        b.transactional = false.into();
        let mut a = a;
        a.transactional = true.into();
        RevisionGraph::build(vec![a, b]).expect("graph")
    }

    fn row(revision: &str, direction: Direction, success: Option<bool>) -> LogRow {
        LogRow {
            id: 1,
            revision: revision.to_owned(),
            direction,
            success,
            checksum: None,
            error: success.is_some_and(|s| !s).then(|| "boom".to_owned()),
        }
    }

    #[test]
    fn the_same_row_means_different_states_on_different_backends() {
        let g = graph();
        let failed = row("a", Direction::Upgrade, Some(false));
        for caps in [postgres::CAPABILITIES, sqlite::CAPABILITIES] {
            assert!(matches!(
                last_step(&failed, &g, caps, Dialect::Sqlite),
                LastStep::RolledBack { .. }
            ));
        }
        assert!(matches!(
            last_step(&failed, &g, mysql::CAPABILITIES, Dialect::Mysql),
            LastStep::Dirty { ref what, .. } if what == "it failed: boom"
        ));
    }

    #[test]
    fn a_killed_step_or_a_non_transactional_failure_is_dirty_everywhere() {
        let g = graph();
        for caps in [
            postgres::CAPABILITIES,
            sqlite::CAPABILITIES,
            mysql::CAPABILITIES,
        ] {
            let killed = row("a", Direction::Downgrade, None);
            let s = last_step(&killed, &g, caps, Dialect::Sqlite);
            assert!(
                matches!(s, LastStep::Dirty { ref what, direction: Direction::Downgrade, .. } if what.contains("stopped"))
            );
            assert!(s.describe().is_some_and(|d| d.contains("migrate stamp")));
            let b = row("b", Direction::Upgrade, Some(false));
            assert!(matches!(
                last_step(&b, &g, caps, Dialect::Sqlite),
                LastStep::Dirty { .. }
            ));
        }
    }

    #[test]
    fn a_success_or_any_stamp_is_complete() {
        let g = graph();
        let caps = mysql::CAPABILITIES;
        assert_eq!(
            last_step(
                &row("a", Direction::Upgrade, Some(true)),
                &g,
                caps,
                Dialect::Sqlite
            ),
            LastStep::Complete
        );
        assert_eq!(
            last_step(&row("b", Direction::Stamp, None), &g, caps, Dialect::Sqlite),
            LastStep::Complete
        );
        assert_eq!(LastStep::Complete.describe(), None);
    }
}
