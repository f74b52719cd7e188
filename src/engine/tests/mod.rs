//! Unit tests of the apply algorithm over an in-memory backend ([`fake::Fake`]), with
//! each backend's capabilities: failures, retries, the dirty state, the lock, re-planning
//! when another process moved the rows, and `--transaction all`. The same rules run
//! against the real databases in tests/it/db_*.rs.

mod fake;
mod progress;

use std::sync::atomic::{AtomicUsize, Ordering};

use fake::{Fake, MYSQL_LIKE, POSTGRES_LIKE, SQLITE_LIKE};

use super::{
    run, run_stamp, EngineError, Interrupt, Outcome, PlanFailure, Planner, RunContext, RunOptions,
    Silent, TransactionMode,
};
use crate::core::{Direction, Plan, Revision, RevisionGraph, Sql, Step, VersionOp};
use crate::db::{Capabilities, LogEntry};

/// a -> b -> c, each creating one table; `b` has two statements.
fn graph() -> RevisionGraph {
    let mut revs = Vec::new();
    for (id, down, sql) in [
        ("a", &[][..], "CREATE TABLE ta (x int)"),
        (
            "b",
            &["a"][..],
            "CREATE TABLE tb (x int);\nCREATE INDEX ib ON tb (x)",
        ),
        ("c", &["b"][..], "CREATE TABLE tc (x int)"),
    ] {
        let mut r = Revision::new(id, down).expect("valid id");
        r.upgrade = Some(Sql::All(sql.to_owned()));
        r.downgrade = Some(Sql::All(format!("DROP TABLE t{id}")));
        r.transactional = true.into();
        revs.push(r);
    }
    RevisionGraph::build(revs).expect("a valid graph")
}

fn options(transaction: TransactionMode) -> RunOptions {
    RunOptions {
        transaction,
        context: RunContext {
            os_identity: "tester@host".to_owned(),
            tool_version: "0.0.0".to_owned(),
            git_commit: None,
        },
        interrupt: Interrupt::new(),
    }
}

/// The core's upgrade plan to `target` from whatever rows the database has, counting
/// how often it was asked.
struct UpgradeTo<'g> {
    graph: &'g RevisionGraph,
    target: &'static str,
    calls: AtomicUsize,
}

impl Planner for UpgradeTo<'_> {
    fn plan(&self, rows: &[String]) -> Result<Plan, PlanFailure> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let applied: Vec<_> = rows
            .iter()
            .map(|r| self.graph.find(r).expect("rows name known revisions"))
            .collect();
        Ok(crate::core::plan::upgrade(
            self.graph,
            &applied,
            self.target,
        )?)
    }
}

fn upgrade_to<'g>(graph: &'g RevisionGraph, target: &'static str) -> UpgradeTo<'g> {
    UpgradeTo {
        graph,
        target,
        calls: AtomicUsize::new(0),
    }
}

fn block<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
        .block_on(f)
}

fn upgrade(
    db: &mut Fake,
    g: &RevisionGraph,
    mode: TransactionMode,
) -> Result<Outcome, EngineError> {
    block(run(
        db,
        g,
        &upgrade_to(g, "heads"),
        &options(mode),
        &mut Silent,
    ))
}

fn ran(outcome: &Outcome) -> Vec<&str> {
    outcome.steps.iter().map(|s| s.revision.as_str()).collect()
}

const ALL_BACKENDS: [(&str, Capabilities); 3] = [
    ("postgres", POSTGRES_LIKE),
    ("sqlite", SQLITE_LIKE),
    ("mysql", MYSQL_LIKE),
];

#[test]
fn a_clean_run_applies_each_step_once_logs_it_and_releases_the_lock() {
    let g = graph();
    for (name, caps) in ALL_BACKENDS {
        let mut db = Fake::new(caps);
        let out = upgrade(&mut db, &g, TransactionMode::PerRevision).expect(name);
        assert_eq!(ran(&out), ["a", "b", "c"], "{name}");
        assert_eq!(db.rows(), ["c"], "{name}");
        assert_eq!(out.rows_after, ["c"], "{name}");
        assert_eq!(db.schema().len(), 4, "{name}: every statement once");
        let log = db.log();
        assert_eq!(
            log,
            [
                ("a".to_owned(), "upgrade", Some(true)),
                ("b".to_owned(), "upgrade", Some(true)),
                ("c".to_owned(), "upgrade", Some(true)),
            ],
            "{name}"
        );
        let entries = db.log_entries();
        assert!(entries.iter().all(|e| e.checksum.is_some()), "{name}");
        assert!(entries
            .iter()
            .all(|e| e.applied_by == "tester@host (fake_user)"));
        assert!(!db.locked && !db.in_transaction(), "{name}");
        assert_eq!(db.locks_taken, 1, "{name}");

        // Run again: nothing to do, nothing logged but the stamp-free no-op.
        let again = upgrade(&mut db, &g, TransactionMode::PerRevision).expect(name);
        assert!(again.steps.is_empty(), "{name}");
        assert_eq!(
            db.log().len(),
            3,
            "{name}: an empty upgrade writes no log row"
        );
    }
}

#[test]
fn a_failing_statement_leaves_the_rows_at_the_last_completed_step() {
    let g = graph();
    for (name, caps) in ALL_BACKENDS {
        let mut db = Fake::new(caps);
        db.fail_on = Some("CREATE INDEX ib".to_owned());
        let err = upgrade(&mut db, &g, TransactionMode::PerRevision).expect_err(name);
        let EngineError::Statement(f) = &err else {
            panic!("{name}: expected a statement failure, got {err}");
        };
        assert_eq!(
            (f.revision.as_str(), f.number, f.total, f.line),
            ("b", 2, 2, 2)
        );
        assert!(f.message.contains("syntax error"), "{name}: {}", f.message);
        assert_eq!(db.rows(), ["a"], "{name}");
        assert!(!db.locked && !db.in_transaction(), "{name}");
        let log = db.log();
        assert_eq!(
            log.last(),
            Some(&("b".to_owned(), "upgrade", Some(false))),
            "{name}"
        );
        let failed = db.log_entries().pop().expect("a failure row");
        assert!(failed.error.is_some_and(|e| e.contains("statement 2 of 2")));
        let half_applied = db.schema().iter().any(|s| s.contains("tb"));
        // Transactional DDL rolls the step's first statement back; MySQL keeps it.
        assert_eq!(half_applied, !caps.transactional_ddl, "{name}");
    }
}

#[test]
fn after_a_failure_a_transactional_backend_retries_and_the_others_refuse() {
    let g = graph();
    for (name, caps) in ALL_BACKENDS {
        let mut db = Fake::new(caps);
        db.fail_on = Some("CREATE INDEX ib".to_owned());
        upgrade(&mut db, &g, TransactionMode::PerRevision).expect_err(name);
        db.fail_on = None;
        let second = upgrade(&mut db, &g, TransactionMode::PerRevision);
        if caps.transactional_ddl {
            let out = second.expect(name);
            assert_eq!(ran(&out), ["b", "c"], "{name}");
            assert_eq!(db.rows(), ["c"], "{name}");
        } else {
            match second {
                // The log says statement 1 took effect and statement 2 failed.
                Err(EngineError::InDoubt(d)) => {
                    assert_eq!((d.revision.as_str(), d.statement), ("b", 2))
                }
                other => panic!("{name}: expected InDoubt, got {other:?}"),
            }
            assert_eq!(db.rows(), ["a"], "{name}");
            // A stamp is how the state is cleared; then the run goes on.
            let stamp = |rows: &[String]| -> Result<Plan, PlanFailure> {
                Ok(Plan {
                    steps: vec![Step {
                        revision: g.find("b"),
                        direction: Direction::Stamp,
                        version_ops: vec![VersionOp::Update {
                            from: "a".to_owned(),
                            to: "b".to_owned(),
                        }],
                    }],
                    rows_before: rows.to_vec(),
                    rows_after: vec!["b".to_owned()],
                })
            };
            let opts = options(TransactionMode::PerRevision);
            block(run_stamp(&mut db, &g, &stamp, &opts, &mut Silent)).expect(name);
            let out = upgrade(&mut db, &g, TransactionMode::PerRevision).expect(name);
            assert_eq!(ran(&out), ["c"], "{name}");
        }
        assert!(!db.locked, "{name}");
    }
}

#[test]
fn a_step_the_process_never_finished_is_dirty_on_every_backend() {
    let g = graph();
    for (name, caps) in ALL_BACKENDS {
        let mut db = Fake::new(caps);
        upgrade(&mut db, &g, TransactionMode::PerRevision).expect(name);
        db.push_log(LogEntry {
            revision: "c".to_owned(),
            direction: Direction::Downgrade,
            started_at: chrono::Utc::now(),
            duration_ms: 0,
            success: None,
            checksum: None,
            applied_by: "killed@host".to_owned(),
            tool_version: "0.0.0".to_owned(),
            git_commit: None,
            error: None,
        });
        match upgrade(&mut db, &g, TransactionMode::PerRevision) {
            Err(EngineError::Dirty {
                revision,
                direction,
                what,
            }) => {
                assert_eq!((revision.as_str(), direction), ("c", Direction::Downgrade));
                assert!(what.contains("stopped"), "{name}: {what}");
            }
            other => panic!("{name}: expected Dirty, got {other:?}"),
        }
        assert!(!db.locked, "{name}: the lock is released after a refusal");
    }
}

#[test]
fn a_non_transactional_step_is_recorded_before_it_runs() {
    let mut revs = Vec::new();
    for (id, down, transactional) in [("a", &[][..], true), ("b", &["a"][..], false)] {
        let mut r = Revision::new(id, down).expect("valid id");
        r.upgrade = Some(Sql::All(format!("CREATE TABLE t{id} (x int)")));
        r.transactional = transactional.into();
        revs.push(r);
    }
    let g = RevisionGraph::build(revs).expect("a valid graph");
    for (name, caps) in ALL_BACKENDS {
        let mut db = Fake::new(caps);
        upgrade(&mut db, &g, TransactionMode::PerRevision).expect(name);
        let at_b = db
            .log_when_run
            .iter()
            .find(|(sql, _)| sql.contains("tb"))
            .map(|(_, log)| log.clone())
            .expect("b ran");
        assert_eq!(
            at_b.last(),
            Some(&None),
            "{name}: b's pending row exists as it runs"
        );
        let at_a = db
            .log_when_run
            .iter()
            .find(|(sql, _)| sql.contains("ta"))
            .map(|(_, log)| log.clone())
            .expect("a ran");
        // Only where DDL is not transactional is a transactional step recorded first.
        assert_eq!(
            at_a.last() == Some(&None),
            !caps.transactional_ddl,
            "{name}"
        );
        assert_eq!(
            db.log().last(),
            Some(&("b".to_owned(), "upgrade", Some(true)))
        );
    }
}

#[test]
fn rows_another_process_moved_under_the_write_lock_are_planned_again() {
    let g = graph();
    // The first write lock is the bookkeeping tables'; at the second another process has
    // just applied a and b.
    let mut db = Fake::new(SQLITE_LIKE);
    db.others_commit = Some((2, vec!["b".to_owned()]));
    let planner = upgrade_to(&g, "heads");
    let opts = options(TransactionMode::PerRevision);
    let out = block(run(&mut db, &g, &planner, &opts, &mut Silent)).expect("a run");
    assert_eq!(ran(&out), ["c"], "only what was left is applied");
    assert_eq!(
        planner.calls.load(Ordering::Relaxed),
        2,
        "planned once, then again under the lock"
    );
    assert_eq!(db.rows(), ["c"]);
    assert_eq!(db.log(), [("c".to_owned(), "upgrade", Some(true))]);
}

#[test]
fn transaction_all_rolls_every_step_back_on_failure() {
    let g = graph();
    let mut db = Fake::new(POSTGRES_LIKE);
    db.fail_on = Some("CREATE TABLE tc".to_owned());
    let err = upgrade(&mut db, &g, TransactionMode::All).expect_err("c fails");
    let EngineError::AllRolledBack { source, rows } = &err else {
        panic!("expected AllRolledBack, got {err:?}")
    };
    assert!(matches!(**source, EngineError::Statement(ref f) if f.revision == "c"));
    assert!(rows.is_empty());
    assert!(err.to_string().contains("nothing was committed"), "{err}");
    assert!(db.rows().is_empty(), "a and b rolled back with c");
    assert!(db.schema().is_empty());
    assert_eq!(db.log(), [("c".to_owned(), "upgrade", Some(false))]);
    assert!(!db.locked && !db.in_transaction());
}

#[test]
fn transaction_all_is_refused_before_anything_runs_without_transactional_ddl() {
    let g = graph();
    let mut db = Fake::new(MYSQL_LIKE);
    let err = upgrade(&mut db, &g, TransactionMode::All).expect_err("refused");
    assert!(matches!(err, EngineError::TransactionAllUnsupported { .. }));
    assert_eq!(db.locks_taken, 0);
    assert!(db.schema().is_empty() && db.log().is_empty());
}

#[test]
fn a_busy_lock_runs_nothing() {
    let g = graph();
    for (name, caps) in ALL_BACKENDS {
        let mut db = Fake::new(caps);
        db.lock_busy = true;
        let err = upgrade(&mut db, &g, TransactionMode::PerRevision).expect_err(name);
        assert!(matches!(
            err,
            EngineError::Db(crate::db::DbError::LockTimeout { .. })
        ));
        assert!(db.schema().is_empty() && db.rows().is_empty(), "{name}");
    }
}

#[test]
fn a_version_row_that_is_not_there_fails_the_step_and_rolls_it_back() {
    let g = graph();
    // A hand-built plan that believes the database is at `a` when it is at base.
    let wrong = |_: &[String]| -> Result<Plan, PlanFailure> {
        Ok(Plan {
            steps: vec![Step {
                revision: g.find("b"),
                direction: Direction::Upgrade,
                version_ops: vec![VersionOp::Update {
                    from: "a".to_owned(),
                    to: "b".to_owned(),
                }],
            }],
            rows_before: vec!["a".to_owned()],
            rows_after: vec!["b".to_owned()],
        })
    };
    for (name, caps) in ALL_BACKENDS {
        let mut db = Fake::new(caps);
        let opts = options(TransactionMode::PerRevision);
        let err = block(run(&mut db, &g, &wrong, &opts, &mut Silent)).expect_err(name);
        assert!(
            matches!(err, EngineError::Bookkeeping { ref revision, .. } if revision == "b"),
            "{name}: {err}"
        );
        assert!(db.rows().is_empty(), "{name}");
        assert_eq!(
            db.schema().iter().any(|s| s.contains("tb")),
            !caps.transactional_ddl,
            "{name}: b's DDL rolled back only where DDL is transactional"
        );
        assert!(!db.locked && !db.in_transaction(), "{name}");
    }
}

#[test]
fn an_interrupt_stops_at_the_next_safe_point_and_says_where_the_database_is() {
    let g = graph();
    for (name, caps) in ALL_BACKENDS {
        let mut db = Fake::new(caps);
        let interrupt = Interrupt::new();
        // The signal arrives while b's first statement runs.
        db.interrupt_on = Some(("CREATE TABLE tb".to_owned(), interrupt.clone()));
        let mut opts = options(TransactionMode::PerRevision);
        opts.interrupt = interrupt;
        let err = block(run(
            &mut db,
            &g,
            &upgrade_to(&g, "heads"),
            &opts,
            &mut Silent,
        ))
        .expect_err(name);
        let EngineError::Interrupted {
            signal,
            stopped,
            rows,
        } = &err
        else {
            panic!("{name}: expected an interrupt, got {err}");
        };
        assert_eq!(signal.exit_code(), 130, "{name}");
        assert_eq!(
            rows.as_slice(),
            db.rows(),
            "{name}: the rows it reports are the rows"
        );
        assert!(!db.locked && !db.in_transaction(), "{name}");
        assert!(
            !db.schema().iter().any(|s| s.contains("tc")),
            "{name}: c never ran"
        );
        if caps.batches {
            // A batch is one step: b completes, the run stops before c.
            assert_eq!(
                (stopped, db.rows()),
                (&None, &["b".to_owned()][..]),
                "{name}"
            );
        } else {
            let st = stopped.as_ref().expect("stopped inside b");
            assert_eq!(
                (st.revision.as_str(), st.next, st.total),
                ("b", 2, 2),
                "{name}"
            );
            assert_eq!(st.rolled_back, caps.transactional_ddl, "{name}");
            assert_eq!(db.rows(), ["a"], "{name}");
            let last = db.log_entries().pop().expect("b's row");
            assert_eq!(
                (last.revision.as_str(), last.success),
                ("b", Some(false)),
                "{name}"
            );
            assert_eq!(
                last.error.as_deref(),
                Some("interrupted by SIGINT before statement 2 of 2")
            );
            let text = err.to_string();
            if caps.transactional_ddl {
                assert!(
                    text.contains(
                        "rolled it back; the database is at a (run the same command again"
                    ),
                    "{text}"
                );
                db.interrupt_on = None;
                let out = upgrade(&mut db, &g, TransactionMode::PerRevision).expect(name);
                assert_eq!(ran(&out), ["b", "c"], "{name}: a re-run goes on");
            } else {
                assert!(text.contains("may be half-changed"), "{text}");
                assert!(
                    text.contains("continues revision b with statement 2"),
                    "{text}"
                );
            }
        }
    }
}

#[test]
fn an_interrupt_under_transaction_all_rolls_everything_back() {
    let g = graph();
    let mut db = Fake::new(POSTGRES_LIKE);
    let interrupt = Interrupt::new();
    db.interrupt_on = Some(("CREATE TABLE tb".to_owned(), interrupt.clone()));
    let mut opts = options(TransactionMode::All);
    opts.interrupt = interrupt;
    let err = block(run(
        &mut db,
        &g,
        &upgrade_to(&g, "heads"),
        &opts,
        &mut Silent,
    ))
    .expect_err("interrupted");
    assert!(
        matches!(err, EngineError::Interrupted { ref rows, .. } if rows.is_empty()),
        "{err}"
    );
    assert!(db.rows().is_empty() && db.schema().is_empty());
    assert!(!db.locked);
}
