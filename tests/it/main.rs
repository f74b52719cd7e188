//! The one integration-test binary: each area is a module, so the suite links once.

mod support;

mod alembic_cli;
mod alembic_upgrade;
mod alembic_write;
mod audit_applied;
mod autogen_bench;
mod autogen_cli;
mod autogen_constructs;
mod autogen_models;
mod autogen_options;
mod autogen_props;
mod autogen_steps;
mod autogen_support;
mod autogen_vs_alembic;
mod cli_graph;
mod conflicts_cli;
mod db_cli;
mod db_library;
mod fuzz;
mod git_at_ref;
mod git_authorship;
mod git_fixture;
mod git_library;
mod help;
mod interrupt;
mod lint_cli;
mod premerge_cli;
mod rebase_cli;
mod resolve_cli;
mod script_injection;
mod security;
mod stairway_cli;
mod status_cli;

mod server_smoke {
    use super::support::{Server, TestDb};
    use sqlx::Connection;

    /// The name of the database the URL connects to, or the error.
    fn current_database(server: Server, url: &str) -> Result<String, sqlx::Error> {
        let url = url.to_owned();
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime")
                .block_on(async move {
                    match server {
                        Server::Postgres => {
                            let mut c = sqlx::PgConnection::connect(&url).await?;
                            sqlx::query_scalar("SELECT current_database()::text")
                                .fetch_one(&mut c)
                                .await
                        }
                        Server::Mysql => {
                            let mut c = sqlx::MySqlConnection::connect(&url).await?;
                            sqlx::query_scalar("SELECT CAST(DATABASE() AS CHAR)")
                                .fetch_one(&mut c)
                                .await
                        }
                    }
                })
        })
        .join()
        .expect("the query thread finished")
    }

    #[test]
    fn test_databases_are_created_and_dropped_on_both_servers() {
        for server in [Server::Postgres, Server::Mysql] {
            let Some(db) = TestDb::new(server) else {
                continue;
            };
            let url = db.url.clone();
            let name = db.name.clone();
            assert_eq!(current_database(server, &url).expect("connects"), name);
            drop(db);
            assert!(
                current_database(server, &url).is_err(),
                "{name} still exists after the drop"
            );
        }
    }

    /// Runs this test binary on the smoke test above with `server` pointed at a port
    /// nothing listens on, and the given extra environment.
    fn smoke_with_unreachable_postgres(
        env: &[(&str, &str)],
        skip_log: &std::path::Path,
    ) -> std::process::Output {
        let exe = std::env::current_exe().expect("the test binary");
        let mut cmd = std::process::Command::new(exe);
        cmd.args([
            "server_smoke::test_databases_are_created_and_dropped_on_both_servers",
            "--exact",
        ])
        .env(
            "MIGRATE_TEST_POSTGRES",
            "postgres://postgres@127.0.0.1:9/postgres",
        )
        .env("MIGRATE_SKIP_LOG", skip_log)
        .env_remove("CI")
        .env_remove("MIGRATE_REQUIRE_SERVERS")
        .env_remove("MIGRATE_SKIP_SERVERS");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("the test binary runs")
    }

    /// An unreachable server fails its test; only an explicit opt-out skips, and the skip
    /// is written down; `MIGRATE_REQUIRE_SERVERS=1` or `CI` overrule the opt-out, and
    /// `MIGRATE_SKIP_SERVERS=0` is no opt-out.
    #[test]
    fn an_unreachable_server_fails_unless_the_run_opts_out() {
        let dir = tempfile::tempdir().expect("dir");
        let log = dir.path().join("skipped.txt");
        for env in [
            &[][..],
            &[("MIGRATE_SKIP_SERVERS", "0")][..],
            &[
                ("MIGRATE_SKIP_SERVERS", "1"),
                ("MIGRATE_REQUIRE_SERVERS", "1"),
            ][..],
            &[("MIGRATE_SKIP_SERVERS", "1"), ("CI", "true")][..],
        ] {
            let out = smoke_with_unreachable_postgres(env, &log);
            assert!(!out.status.success(), "{env:?} passed");
            assert!(
                String::from_utf8_lossy(&out.stdout).contains("1 failed"),
                "{env:?}: {}",
                String::from_utf8_lossy(&out.stdout)
            );
            assert!(!log.exists(), "{env:?} recorded a skip");
        }
        let out = smoke_with_unreachable_postgres(
            &[
                ("MIGRATE_SKIP_SERVERS", "1"),
                ("MIGRATE_REQUIRE_SERVERS", "0"),
            ],
            &log,
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        let recorded = std::fs::read_to_string(&log).expect("the skip was recorded");
        assert_eq!(recorded.lines().count(), 1, "{recorded}");
        assert!(
            recorded.starts_with(
                "server_smoke::test_databases_are_created_and_dropped_on_both_servers\tPostgres\t"
            ),
            "{recorded}"
        );
    }
}
