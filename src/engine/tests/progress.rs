//! Per-statement progress of steps outside a transaction, what a later run makes of a
//! step a killed process left part-way (the statement in doubt, the waiting replica),
//! `resolve`, `--transaction all`'s reporting and step durations through their commit.

use std::time::Duration;

use super::fake::{Fake, MYSQL_LIKE, POSTGRES_LIKE, SQLITE_LIKE};
use super::{block, graph, options, ran, upgrade};
use crate::core::{Revision, RevisionGraph, Sql};
use crate::engine::{resolve, run, EngineError, Progress, Resolution, TransactionMode};

const PER: TransactionMode = TransactionMode::PerRevision;

/// How many committed "schema" statements contain `text`.
fn ran_times(db: &Fake, text: &str) -> usize {
    db.schema().iter().filter(|s| s.contains(text)).count()
}

/// Kills the process in b's second statement (`CREATE INDEX ib`), then starts a new one.
fn killed_in_b(caps: crate::db::Capabilities, g: &RevisionGraph) -> Fake {
    let mut db = Fake::new(caps);
    db.die_on = Some("CREATE INDEX ib".to_owned());
    upgrade(&mut db, g, PER).expect_err("killed");
    db.restart();
    db
}

/// b's revision as a `transactional: false` step (PostgreSQL runs it outside a
/// transaction, like MariaDB runs everything).
fn graph_b_outside_transaction() -> RevisionGraph {
    let g = graph();
    let mut revs: Vec<Revision> = g.revisions().to_vec();
    for r in &mut revs {
        if r.id.as_str() == "b" {
            r.transactional = false.into();
        }
    }
    RevisionGraph::build(revs).expect("a valid graph")
}

#[test]
fn a_kill_leaves_the_statements_done_and_the_one_in_doubt() {
    for (name, caps, g) in [
        ("mysql", MYSQL_LIKE, graph()),
        ("postgres", POSTGRES_LIKE, graph_b_outside_transaction()),
    ] {
        let mut db = killed_in_b(caps, &g);
        let progress = db.progress().last().cloned().flatten().expect(name);
        assert_eq!((progress.done, progress.in_doubt), (1, Some(2)), "{name}");
        assert_eq!(db.log().last().map(|l| l.2), Some(None), "{name}: pending");
        let err = upgrade(&mut db, &g, PER).expect_err("refused");
        let EngineError::InDoubt(d) = &err else {
            panic!("{name}: expected InDoubt, got {err:?}")
        };
        assert_eq!(
            (d.revision.as_str(), d.done, d.statement, d.total),
            ("b", 1, 2, 2)
        );
        assert!(!d.holder_died, "{name}: this run did not wait for the lock");
        let text = err.to_string();
        for part in [
            "stopped in statement 2 of 2",
            "CREATE INDEX ib ON tb (x)",
            "statements 1 to 1 took effect",
            "index ib",
            "`migrate resolve b --applied`",
            "`migrate resolve b --rolled-back`",
        ] {
            assert!(text.contains(part), "{name}: {part:?} in {text}");
        }
        assert_eq!(ran_times(&db, "CREATE TABLE tc"), 0, "{name}: c never ran");
        assert!(!db.locked, "{name}");
    }
}

#[test]
fn a_replica_that_waited_for_a_dead_holder_says_the_holder_died() {
    let g = graph();
    let mut db = killed_in_b(MYSQL_LIKE, &g);
    db.lock_was_held = true;
    let err = upgrade(&mut db, &g, PER).expect_err("refused at once");
    let text = err.to_string();
    assert!(
        text.starts_with("the previous holder of the migrate lock died during revision b"),
        "{text}"
    );
    assert!(text.contains("upgrade statement 2 of 2"), "{text}");
}

#[test]
fn resolve_applied_on_the_last_statement_finishes_the_step() {
    let g = graph();
    let mut db = killed_in_b(MYSQL_LIKE, &g);
    let r = block(resolve(
        &mut db,
        &g,
        "b",
        Resolution::Applied,
        &options(PER),
    ))
    .expect("ok");
    assert_eq!((r.statement, r.done, r.total), (2, 2, 2));
    let finished = r.finished.expect("b was finished");
    assert_eq!(ran(&finished), ["b"]);
    assert_eq!(db.rows(), ["b"]);
    assert_eq!(ran_times(&db, "CREATE INDEX ib"), 1, "not run again");
    let resolution = &db.log_entries()[db.log_entries().len() - 2];
    assert_eq!(resolution.applied_by, "tester@host (fake_user)");
    assert!(
        resolution
            .error
            .as_deref()
            .is_some_and(|e| e.contains("statement 2 took effect")),
        "{resolution:?}"
    );
    let out = upgrade(&mut db, &g, PER).expect("goes on");
    assert_eq!(ran(&out), ["c"]);
}

#[test]
fn resolve_rolled_back_makes_the_next_run_continue_with_that_statement() {
    for (name, caps, g) in [
        ("mysql", MYSQL_LIKE, graph()),
        ("postgres", POSTGRES_LIKE, graph_b_outside_transaction()),
        ("sqlite", SQLITE_LIKE, graph_b_outside_transaction()),
    ] {
        let mut db = killed_in_b(caps, &g);
        // The kill in the fake lets the statement take effect; say it did not, and
        // take it out as the person checking would have found it.
        let r = block(resolve(
            &mut db,
            &g,
            "b",
            Resolution::RolledBack,
            &options(PER),
        ))
        .expect(name);
        assert_eq!((r.done, r.finished.is_some()), (1, false), "{name}");
        let out = upgrade(&mut db, &g, PER).expect(name);
        assert_eq!(ran(&out), ["b", "c"], "{name}");
        assert_eq!(
            ran_times(&db, "CREATE TABLE tb"),
            1,
            "{name}: not run again"
        );
        assert_eq!(ran_times(&db, "CREATE INDEX ib"), 2, "{name}: run again");
        assert_eq!(db.rows(), ["c"], "{name}");
    }
}

#[test]
fn resolve_is_refused_for_a_step_that_is_not_in_doubt() {
    let g = graph();
    let mut db = killed_in_b(MYSQL_LIKE, &g);
    let err = block(resolve(
        &mut db,
        &g,
        "a",
        Resolution::Applied,
        &options(PER),
    ))
    .expect_err("a is not in doubt");
    assert!(
        matches!(err, EngineError::NotInDoubt { ref state, .. } if state.contains("revision b's")),
        "{err}"
    );
    let mut clean = Fake::new(MYSQL_LIKE);
    upgrade(&mut clean, &g, PER).expect("clean");
    let err = block(resolve(
        &mut clean,
        &g,
        "c",
        Resolution::Applied,
        &options(PER),
    ))
    .expect_err("nothing in doubt");
    assert!(err.to_string().contains("completed"), "{err}");
    assert!(!clean.locked);
}

#[test]
fn a_continued_step_whose_done_statements_changed_is_refused() {
    let g = graph();
    let mut db = killed_in_b(MYSQL_LIKE, &g);
    block(resolve(
        &mut db,
        &g,
        "b",
        Resolution::RolledBack,
        &options(PER),
    ))
    .expect("ok");
    let mut revs: Vec<Revision> = g.revisions().to_vec();
    for r in &mut revs {
        if r.id.as_str() == "b" {
            r.upgrade = Some(Sql::All(
                "CREATE TABLE tb (x bigint);\nCREATE INDEX ib ON tb (x)".to_owned(),
            ));
        }
    }
    let changed = RevisionGraph::build(revs).expect("graph");
    let err = upgrade(&mut db, &changed, PER).expect_err("refused");
    assert!(
        matches!(err, EngineError::Unfinished { done: 1, ref reason, .. } if reason.contains("changed")),
        "{err}"
    );
    // A fix to the statement in doubt itself is fine.
    let mut revs: Vec<Revision> = g.revisions().to_vec();
    for r in &mut revs {
        if r.id.as_str() == "b" {
            r.upgrade = Some(Sql::All(
                "CREATE TABLE tb (x int);\nCREATE INDEX ib2 ON tb (x)".to_owned(),
            ));
        }
    }
    let fixed = RevisionGraph::build(revs).expect("graph");
    let out = upgrade(&mut db, &fixed, PER).expect("continues");
    assert_eq!(ran(&out), ["b", "c"]);
    assert_eq!(ran_times(&db, "CREATE INDEX ib2"), 1);
}

#[test]
fn an_interrupt_between_statements_leaves_nothing_in_doubt_and_the_next_run_continues() {
    let g = graph();
    let mut db = Fake::new(MYSQL_LIKE);
    let opts = options(PER);
    db.interrupt_on = Some(("CREATE TABLE tb".to_owned(), opts.interrupt.clone()));
    let err = block(run(
        &mut db,
        &g,
        &super::upgrade_to(&g, "heads"),
        &opts,
        &mut super::Silent,
    ))
    .expect_err("interrupted");
    assert!(
        err.to_string()
            .contains("continues revision b with statement 2"),
        "{err}"
    );
    let p = db.progress().last().cloned().flatten().expect("progress");
    assert_eq!((p.done, p.in_doubt), (1, None));
    db.interrupt_on = None;
    let out = upgrade(&mut db, &g, PER).expect("continues");
    assert_eq!(ran(&out), ["b", "c"]);
    assert_eq!(ran_times(&db, "CREATE TABLE tb"), 1);
    assert_eq!(ran_times(&db, "CREATE INDEX ib"), 1);
}

/// Records what progress was reported.
#[derive(Default)]
struct Recorded(Vec<String>);
impl Progress for Recorded {
    fn step_finished(&mut self, _i: usize, _t: usize, label: &str, _took: Duration) {
        self.0.push(label.to_owned());
    }
}

#[test]
fn transaction_all_reports_no_step_done_when_nothing_committed() {
    let g = graph();
    for caps in [POSTGRES_LIKE, SQLITE_LIKE] {
        let mut db = Fake::new(caps);
        db.fail_on = Some("CREATE TABLE tc".to_owned());
        let mut seen = Recorded::default();
        let all = options(TransactionMode::All);
        let err = block(run(
            &mut db,
            &g,
            &super::upgrade_to(&g, "heads"),
            &all,
            &mut seen,
        ))
        .expect_err("c fails");
        assert!(
            seen.0.is_empty(),
            "reported before the commit: {:?}",
            seen.0
        );
        assert!(err
            .to_string()
            .contains("every revision of this run was rolled back"));
        let mut db = Fake::new(caps);
        let mut seen = Recorded::default();
        block(run(
            &mut db,
            &g,
            &super::upgrade_to(&g, "heads"),
            &all,
            &mut seen,
        ))
        .expect("ok");
        assert_eq!(seen.0.len(), 3, "reported once committed");
    }
}

#[test]
fn each_batched_step_is_timed_through_its_own_commit() {
    let g = graph();
    let mut db = Fake::new(SQLITE_LIKE);
    db.statement_takes = Duration::from_millis(10);
    db.commit_takes = Duration::from_millis(1000);
    let out = upgrade(&mut db, &g, PER).expect("ok");
    let reported: Vec<u64> = out.steps.iter().map(|s| s.duration_ms).collect();
    // a and c: one statement and a commit; b: two statements and a commit.
    assert_eq!(reported, [1010, 1020, 1010]);
    let logged: Vec<i64> = db.log_entries().iter().map(|e| e.duration_ms).collect();
    assert_eq!(logged, [1010, 1020, 1010]);
}
