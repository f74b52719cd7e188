//! `--help` keeps a command's own options apart from the global ones, lists only the
//! values a command accepts, and ends with examples.

use super::support::run;

fn help(args: &[&str]) -> String {
    let dir = tempfile::tempdir().expect("a temp dir");
    let (code, out, err) = run(dir.path(), args);
    assert_eq!(code, 0, "{err}");
    out
}

/// The `[possible values: ...]` of `--format` in a help text.
fn format_values(out: &str) -> String {
    let at = out.find("--format <FORMAT>").expect("a --format option");
    let rest = &out[at..];
    let start = rest.find("[possible values: ").expect("its values") + 18;
    let end = rest[start..].find(']').expect("the end of the values");
    rest[start..start + end]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn global_options_have_their_own_heading_after_the_commands_own() {
    let out = help(&["heads", "--help"]);
    let own = out.find("--verbose").expect("heads' own option");
    let heading = out
        .find("Global options:")
        .expect("a heading for global options");
    let global = out.find("--config").expect("a global option");
    assert!(own < heading && heading < global, "{out}");
}

#[test]
fn format_lists_only_what_each_command_prints() {
    for (command, values) in [
        ("heads", "text, json"),
        ("history", "text, json"),
        ("upgrade", "text, json"),
        ("blame", "text, json, csv"),
        ("audit", "text, json, csv"),
        ("check", "text, json, github"),
        ("lint", "text, json, csv, github"),
    ] {
        let out = help(&[command, "--help"]);
        assert_eq!(format_values(&out), values, "{command}: {out}");
    }
    assert!(!help(&["graph", "--help"]).contains("--format"));
    // Refused by the parser (usage, exit 2), not advertised and then refused.
    let dir = tempfile::tempdir().expect("a temp dir");
    std::fs::create_dir(dir.path().join("revisions")).expect("revisions");
    let (code, _, err) = run(dir.path(), &["heads", "--format", "csv"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("[possible values: text, json]"), "{err}");
    // The flag before the command still works.
    let (code, out, err) = run(dir.path(), &["--format", "json", "heads"]);
    assert_eq!((code, out.trim()), (0, "[]"), "{err}");
    let (code, _, err) = run(dir.path(), &["--format", "csv", "heads"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn database_url_only_where_a_database_is_read() {
    for command in [
        "upgrade",
        "downgrade",
        "stamp",
        "current",
        "status",
        "check",
        "audit",
    ] {
        assert!(
            help(&[command, "--help"]).contains("--database-url <URL>"),
            "{command}"
        );
    }
    for command in [
        "heads", "branches", "show", "graph", "blame", "merge", "init",
    ] {
        assert!(
            !help(&[command, "--help"]).contains("--database-url"),
            "{command}"
        );
    }
    assert!(help(&["database", "create", "--help"]).contains("--database-url <URL>"));
}

#[test]
fn dialect_lists_its_values_and_every_command_has_examples() {
    for command in ["upgrade", "stamp", "lint"] {
        let out = help(&[command, "--help"]);
        let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            flat.contains("[possible values: sqlite, postgres, mysql]"),
            "{command}: {out}"
        );
    }
    let top = help(&["--help"]);
    let commands: Vec<&str> = top
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        // A description that wraps continues on a deeper indent.
        .filter(|l| !l[2..].starts_with(' '))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(commands.len() >= 20, "{top}");
    for command in commands {
        let out = help(&[command, "--help"]);
        let examples = out
            .find("Examples:")
            .unwrap_or_else(|| panic!("{command}: {out}"));
        assert!(
            out[examples..].contains(&format!("migrate {command}")),
            "{command}: {out}"
        );
    }
}

#[test]
fn errors_are_coloured_when_colour_is_on_and_plain_otherwise() {
    let dir = tempfile::tempdir().expect("a temp dir");
    std::fs::create_dir(dir.path().join("revisions")).expect("revisions");
    let (code, _, err) = run(dir.path(), &["--color", "always", "show", "zzzz"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.starts_with("\x1b[1;31merror:\x1b[0m Can't locate"),
        "{err:?}"
    );
    // An explicit --color always wins over NO_COLOR.
    let out = super::support::migrate(dir.path())
        .env("NO_COLOR", "1")
        .args(["--color", "always", "show", "zzzz"])
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("\x1b[1;31merror:"));
    for args in [&["show", "zzzz"][..], &["--color", "never", "show", "zzzz"]] {
        let (_, _, err) = run(dir.path(), args);
        assert!(
            err.starts_with("error: Can't locate") && !err.contains('\x1b'),
            "{err:?}"
        );
    }
}
