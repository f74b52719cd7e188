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
    assert_eq!(outcome.steps.len(), 10);
    assert_eq!(outcome.rows_after, ["d0e9f1a2b3c4"]);
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
    assert_eq!(outcome.rows_after, ["d0e9f1a2b3c4"]);
    assert_eq!(db.read_versions().await.expect("rows"), ["d0e9f1a2b3c4"]);
    drop(db);
    pool.close().await;
}
