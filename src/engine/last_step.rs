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
    /// It stopped part-way outside a transaction, and its log row says how far:
    /// statements `1..=done` took effect, and statement `statement` may or may not have.
    /// Runs refuse to go on until `migrate resolve` (or a `stamp`) settles it.
    InDoubt {
        revision: String,
        direction: Direction,
        done: usize,
        statement: usize,
        what: String,
    },
    /// It stopped between statements outside a transaction (interrupted, or its doubt was
    /// settled by `migrate resolve`): statements `1..=done` took effect and no other did.
    /// The next run of the same step continues with statement `done + 1`; with
    /// `done == 0` nothing of it took effect at all.
    Resumable {
        revision: String,
        direction: Direction,
        done: usize,
        /// Checksum of the statements that took effect ([`crate::db::StepProgress`]).
        checksum: String,
    },
    /// It stopped part-way (the process was killed, or it failed where its changes can't
    /// roll back) and its log row does not say how far (written by an older release):
    /// the database may be half-changed, and runs refuse to go on until a `stamp`
    /// records where it is.
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
    if let Some(p) = &row.progress {
        let (revision, direction) = (row.revision.clone(), row.direction);
        return match p.in_doubt {
            Some(statement) => LastStep::InDoubt {
                revision,
                direction,
                done: p.done,
                statement,
                what: match (&row.success, &row.error) {
                    (Some(false), Some(e)) => format!("it failed: {e}"),
                    _ => "the process stopped while it ran".to_owned(),
                },
            },
            None => LastStep::Resumable {
                revision,
                direction,
                done: p.done,
                checksum: p.checksum.clone(),
            },
        };
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
            LastStep::InDoubt {
                revision,
                direction,
                done,
                statement,
                what,
            } => Some(format!(
                "the last {direction} of revision {revision} did not complete ({what}): statement {statement} may or may not have taken effect{}; check it, then `migrate resolve {revision} --applied` or `--rolled-back`",
                if *done > 0 { format!(" (statements 1 to {done} did)") } else { String::new() }
            )),
            LastStep::Resumable { done: 0, .. } => None,
            LastStep::Resumable {
                revision,
                direction,
                done,
                ..
            } => Some(format!(
                "the last {direction} of revision {revision} stopped after statement {done}; the next {direction} continues it with statement {}",
                done + 1
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
            progress: None,
        }
    }

    #[test]
    fn progress_says_which_statement_is_in_doubt_or_that_none_is() {
        let g = graph();
        let progress = |done, in_doubt| {
            let mut r = row("a", Direction::Upgrade, None);
            r.progress = Some(crate::db::StepProgress {
                done,
                in_doubt,
                checksum: "ab".to_owned(),
            });
            r
        };
        for caps in [mysql::CAPABILITIES, postgres::CAPABILITIES] {
            let s = last_step(&progress(2, Some(3)), &g, caps, Dialect::Sqlite);
            assert!(
                matches!(
                    s,
                    LastStep::InDoubt {
                        done: 2,
                        statement: 3,
                        ..
                    }
                ),
                "{s:?}"
            );
            let text = s.describe().expect("a warning");
            assert!(text.contains("statement 3 may or may not"), "{text}");
            assert!(text.contains("migrate resolve a --applied"), "{text}");
            let s = last_step(&progress(2, None), &g, caps, Dialect::Sqlite);
            assert!(matches!(s, LastStep::Resumable { done: 2, .. }), "{s:?}");
            assert!(s.describe().is_some_and(|d| d.contains("with statement 3")));
            let s = last_step(&progress(0, None), &g, caps, Dialect::Sqlite);
            assert_eq!(s.describe(), None, "nothing of it took effect");
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
