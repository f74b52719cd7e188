//! `--help` keeps a command's own options apart from the global ones.

use super::support::run;

#[test]
fn global_options_have_their_own_heading_after_the_commands_own() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let (code, out, err) = run(dir.path(), &["heads", "--help"]);
    assert_eq!(code, 0, "{err}");
    let own = out.find("--verbose").expect("heads' own option");
    let heading = out
        .find("Global options:")
        .expect("a heading for global options");
    let global = out.find("--database-url").expect("a global option");
    assert!(own < heading && heading < global, "{out}");
}
