//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::path::Path;

/// Runs the built `migrate` binary in `dir`, with a hermetic git configuration.
pub fn migrate(dir: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("migrate").expect("the migrate binary is built");
    cmd.current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("NO_COLOR", "1")
        .env_remove("DATABASE_URL");
    cmd
}
