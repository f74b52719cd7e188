//! The one integration-test binary: each area is a module, so the suite links once.

mod support;

mod audit_applied;
mod autogen_bench;
mod autogen_cli;
mod autogen_models;
mod autogen_props;
mod autogen_steps;
mod autogen_support;
mod cli_graph;
mod db_cli;
mod db_library;
mod git_authorship;
mod git_fixture;
mod git_library;
mod security;

mod server_smoke {
    use super::support::{Server, TestDb};

    #[test]
    fn test_databases_are_created_and_dropped_on_both_servers() {
        for server in [Server::Postgres, Server::Mysql] {
            let Some(db) = TestDb::new(server) else {
                continue;
            };
            assert!(db.url.ends_with(&db.name));
        }
    }
}
