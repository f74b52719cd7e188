//! The engine as a library: a service runs `upgrade head` at start-up on its own sqlx
//! pool (the example in docs/database.md).

use std::path::Path;

use migrate::db::{Database, Tables};
use migrate::engine;

use super::support::{Server, TestDb};

fn example_graph() -> migrate::core::RevisionGraph {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("revisions");
    migrate::files::load_graph(&dir)
        .expect("the revisions directory reads")
        .expect("the example graph builds")
}

#[tokio::test]
async fn a_service_upgrades_its_sqlite_pool_at_start_up() {
    sqlite_service_start_up().await;
}

/// The same on a multi-threaded runtime, where the SQLite batches run in `block_in_place`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_upgrades_its_sqlite_pool_on_a_multi_threaded_runtime() {
    sqlite_service_start_up().await;
}

async fn sqlite_service_start_up() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("svc.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.expect("pool");
    let graph = example_graph();
    let revisions = Path::new(env!("CARGO_MANIFEST_DIR")).join("revisions");

    let conn = pool.acquire().await.expect("connection");
    let mut db = Database::from_sqlite_pool(conn, &Tables::default());
    let outcome = engine::upgrade(&mut db, &graph, "head", &revisions)
        .await
        .expect("upgrade head");
    assert_eq!(outcome.steps.len(), 11);
    assert_eq!(outcome.rows_after, ["88e431a4e788"]);
    drop(db);

    // A second start-up finds nothing to do.
    let mut db =
        Database::from_sqlite_pool(pool.acquire().await.expect("conn"), &Tables::default());
    let again = engine::upgrade(&mut db, &graph, "head", &revisions)
        .await
        .expect("second upgrade");
    assert!(again.steps.is_empty());
    drop(db);

    let roles: Vec<String> = sqlx::query_scalar("SELECT name FROM roles ORDER BY id")
        .fetch_all(&pool)
        .await
        .expect("seeded roles");
    assert_eq!(roles, ["admin", "editor", "viewer"]);
    let logged: Vec<(String, bool)> =
        sqlx::query_as("SELECT revision, success FROM migrate_log ORDER BY id")
            .fetch_all(&pool)
            .await
            .expect("log rows");
    let names: Vec<&str> = logged.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(logged.len(), 11, "{names:?}");
    assert!(logged.iter().all(|(_, ok)| *ok), "{logged:?}");
    assert_eq!(names.last(), Some(&"88e431a4e788"));
}

#[tokio::test]
async fn a_service_upgrades_its_postgres_pool_at_start_up() {
    let Some(test_db) = TestDb::new(Server::Postgres) else {
        return;
    };
    let pool = sqlx::PgPool::connect(&test_db.url).await.expect("pool");
    let graph = example_graph();
    let revisions = Path::new(env!("CARGO_MANIFEST_DIR")).join("revisions");
    let mut db =
        Database::from_postgres_pool(pool.acquire().await.expect("conn"), &Tables::default());
    let outcome = engine::upgrade(&mut db, &graph, "head", &revisions)
        .await
        .expect("upgrade head");
    assert_eq!(outcome.rows_after, ["88e431a4e788"]);
    assert_eq!(db.read_versions().await.expect("rows"), ["88e431a4e788"]);
    drop(db);
    pool.close().await;
}

/// A hand-built plan whose version-row change can't apply (the row isn't there): the
/// step fails on the exactly-one-row check and, where DDL is transactional, leaves
/// nothing behind.
async fn row_count_check(url: &str, transactional_ddl: bool) {
    use migrate::core::{Direction, Plan, Revision, RevisionGraph, Sql, Step, VersionOp};
    use migrate::db::{ConnectOptions, DatabaseUrl};
    use migrate::engine::{
        EngineError, PlanFailure, RunContext, RunOptions, Silent, TransactionMode,
    };

    let mut rev = Revision::new("hb1", &[]).expect("revision");
    rev.upgrade = Some(Sql::All("CREATE TABLE hb1 (x INTEGER);".into()));
    let graph = RevisionGraph::build(vec![rev]).expect("graph");
    let planner = |_rows: &[String]| -> Result<Plan, PlanFailure> {
        Ok(Plan {
            steps: vec![Step {
                revision: Some(0),
                direction: Direction::Upgrade,
                version_ops: vec![VersionOp::Update {
                    from: "not_there".into(),
                    to: "hb1".into(),
                }],
            }],
            rows_before: vec![],
            rows_after: vec!["hb1".into()],
        })
    };
    let url = DatabaseUrl::parse(url).expect("url");
    let mut db = Database::connect(&url, ConnectOptions::default())
        .await
        .expect("connect")
        .expect("database");
    let options = RunOptions {
        transaction: TransactionMode::PerRevision,
        context: RunContext {
            os_identity: "test@host".into(),
            tool_version: "0".into(),
            git_commit: None,
        },
        interrupt: engine::Interrupt::new(),
    };
    let err = engine::run(&mut db, &graph, &planner, &options, &mut Silent)
        .await
        .expect_err("the update matches no row");
    let text = err.to_string();
    assert!(matches!(err, EngineError::Bookkeeping { .. }), "{text}");
    assert!(
        text.contains("expected to match one row when updating 'not_there' to 'hb1'")
            && text.contains("0 found"),
        "{text}"
    );
    assert!(db.read_versions().await.expect("rows").is_empty());
    let table_left = db.execute_raw("SELECT x FROM hb1").await.is_ok();
    assert_eq!(table_left, !transactional_ddl, "{text}");
}

#[tokio::test]
async fn hand_built_plan_fails_the_one_row_check_on_every_backend() {
    let dir = tempfile::tempdir().expect("dir");
    row_count_check(
        &format!("sqlite://{}", dir.path().join("hb.db").display()),
        true,
    )
    .await;
    if let Some(db) = TestDb::new(Server::Postgres) {
        row_count_check(&db.url, true).await;
    }
    if let Some(db) = TestDb::new(Server::Mysql) {
        row_count_check(&db.url, false).await;
    }
}

/// A service can `tokio::spawn` the upgrade: its future is `Send`, although on SQLite the
/// engine holds the connection's handle on its own thread while a run of steps executes.
#[test]
fn the_upgrade_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    fn check(db: &mut Database, graph: &migrate::core::RevisionGraph, dir: &Path) {
        let future = engine::upgrade(db, graph, "head", dir);
        assert_send(&future);
    }
    let _ = check;
}

/// Issue 13 item 6: `migrate_version`, `MIGRATE_VERSION` and `public.migrate_version` are
/// one PostgreSQL table, so they take one lock; another schema's table takes another.
#[test]
fn postgres_lock_follows_the_table_not_its_spelling() {
    use migrate::db::{ConnectOptions, DatabaseUrl};
    let Some(t) = TestDb::new(Server::Postgres) else {
        return;
    };
    let url = DatabaseUrl::parse(&t.url).expect("url");
    let open = |version: &str| {
        let url = url.clone();
        let tables = Tables::new(version, "migrate_log").expect("tables");
        async move {
            let options = ConnectOptions {
                tables,
                lock_timeout: std::time::Duration::from_millis(300),
                create: true,
            };
            Database::connect(&url, options)
                .await
                .expect("connect")
                .expect("database")
        }
    };
    super::support::block_on(async {
        let mut holder = open("migrate_version").await;
        holder.lock().await.expect("the first lock");
        for other in ["public.migrate_version", "MIGRATE_VERSION"] {
            let mut second = open(other).await;
            let err = second
                .lock()
                .await
                .expect_err("the same table's lock is taken");
            assert!(err.to_string().contains("lock"), "{other}: {err}");
            second.close().await;
        }
        let mut elsewhere = open("other_schema.migrate_version").await;
        elsewhere
            .lock()
            .await
            .expect("another schema's table has its own lock");
        elsewhere.unlock().await.expect("unlock");
        elsewhere.close().await;
        holder.unlock().await.expect("unlock");
        holder.close().await;
    });
}

/// A merge revision runs no SQL: its log row has no checksum (docs/database.md), and
/// `check` does not call it changed.
#[test]
fn an_empty_merge_is_logged_without_a_checksum() {
    let dir = super::support::project(&[
        ("a.yaml", "revision: a\nmessage: a\nupgrade: CREATE TABLE a (x INTEGER);\ndowngrade: DROP TABLE a;\n"),
        ("b.yaml", "revision: b\ndown_revision: a\nmessage: b\nupgrade: CREATE TABLE b (x INTEGER);\ndowngrade: DROP TABLE b;\n"),
        ("c.yaml", "revision: c\ndown_revision: a\nmessage: c\nupgrade: CREATE TABLE c (x INTEGER);\ndowngrade: DROP TABLE c;\n"),
        ("m.yaml", "revision: m\ndown_revision: [b, c]\nmessage: merge\nupgrade: ''\ndowngrade: ''\n"),
    ]);
    let d = dir.path();
    let url = format!("sqlite://{}", d.join("app.db").display());
    let (code, _, err) = super::support::run(d, &["--database-url", &url, "upgrade", "head"]);
    assert_eq!(code, 0, "{err}");
    let c = rusqlite::Connection::open(d.join("app.db")).expect("opens");
    let sums: Vec<(String, Option<String>)> = c
        .prepare("SELECT revision, checksum FROM migrate_log ORDER BY id")
        .expect("prepares")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("queries")
        .collect::<Result<_, _>>()
        .expect("rows");
    let merge = sums
        .iter()
        .find(|(r, _)| r == "m")
        .expect("the merge is logged");
    assert_eq!(merge.1, None, "{sums:?}");
    assert!(sums
        .iter()
        .filter(|(r, _)| r != "m")
        .all(|(_, s)| s.is_some()));
    let (code, out, err) = super::support::run(d, &["--database-url", &url, "check"]);
    assert_eq!(code, 0, "{out}{err}");
}
