//! Differential tests: an Alembic project made and grown by real Alembic (`alembic
//! init`, `revision`, `merge`), then the same command run by Alembic and by migrate;
//! their stdout must be equal, line for line.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::support::{pyenv_tool, run};

/// Runs real Alembic in `dir`; panics with its stderr when it fails.
pub fn alembic(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(pyenv_tool("alembic"))
        .args(args)
        .current_dir(dir)
        .env("TZ", "UTC")
        .env("PYTHONHASHSEED", "0")
        .env_remove("DATABASE_URL")
        .output()
        .expect("alembic runs");
    assert!(
        out.status.success(),
        "alembic {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs migrate in `dir` and returns its stdout; panics when it fails.
fn migrate_ok(dir: &Path, args: &[&str]) -> String {
    let (code, out, err) = run(dir, args);
    assert_eq!(code, 0, "migrate {args:?} failed: {err}\n{out}");
    out
}

/// A project made by `alembic init -t <template>` in a temp dir; returns (temp, root).
pub fn init(template: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let root = tmp.path().join("proj");
    std::fs::create_dir_all(&root).expect("project dir");
    alembic(&root, &["init", "-t", template, "migrations"]);
    (tmp, root)
}

/// A graph with most of what Alembic allows: a labelled second base, a branch point, a
/// dependency across branches, a merge and a head left open.
fn grow(root: &Path) {
    let r = |args: &[&str]| {
        alembic(root, args);
    };
    r(&["revision", "-m", "create users", "--rev-id", "0001"]);
    r(&["revision", "-m", "add email", "--rev-id", "0002"]);
    r(&[
        "revision",
        "-m",
        "add orders",
        "--rev-id",
        "a3f9c1",
        "--head",
        "0001",
        "--splice",
    ]);
    r(&["merge", "heads", "-m", "merge the two", "--rev-id", "m2"]);
    r(&[
        "revision",
        "-m",
        "audit tables",
        "--rev-id",
        "audit1",
        "--head",
        "base",
        "--branch-label",
        "audit",
    ]);
    r(&[
        "revision",
        "-m",
        "audit users: needs users",
        "--rev-id",
        "audit2",
        "--head",
        "audit@head",
        "--depends-on",
        "0002",
    ]);
    r(&[
        "revision",
        "-m",
        "after merge",
        "--rev-id",
        "0003",
        "--head",
        "m2",
    ]);
    r(&[
        "revision", "-m", "sibling", "--rev-id", "0004", "--head", "m2", "--splice",
    ]);
}

#[test]
fn read_commands_print_what_alembic_prints() {
    let (_tmp, root) = init("generic");
    grow(&root);
    compare_all(&root);
}

/// Every read-only command on the graph `grow` makes.
const GROWN: &[&[&str]] = &[
    &["heads"],
    &["heads", "--verbose"],
    &["history"],
    &["history", "--verbose"],
    &["history", "-r", "0001:m2"],
    &["history", "-r", "m2:"],
    &["branches"],
    &["branches", "--verbose"],
    &["show", "m2"],
    &["show", "0001"],
    &["show", "audit@head"],
];

/// Every read-only command, Alembic's stdout against migrate's.
fn compare_all(root: &Path) {
    compare(root, GROWN);
}

/// `commands`, Alembic's stdout against migrate's.
fn compare(root: &Path, commands: &[&[&str]]) {
    let mut differences = Vec::new();
    for args in commands {
        let theirs = unhashed(&alembic(root, args));
        let ours = unhashed(&migrate_ok(root, args));
        if theirs != ours {
            differences.push(format!(
                "{args:?}\n--- alembic\n{theirs}--- migrate\n{ours}"
            ));
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

/// `text` with the parts whose order follows Python's hash seed in Alembic (a branch
/// point's children, from a `frozenset`) sorted, on both sides alike.
fn unhashed(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut run: Vec<String> = Vec::new();
    let flush = |run: &mut Vec<String>, out: &mut Vec<String>| {
        run.sort();
        out.append(run);
    };
    for line in text.lines() {
        if line.trim_start().starts_with("-> ") {
            run.push(line.to_owned());
            continue;
        }
        flush(&mut run, &mut out);
        match line.strip_prefix("Branches into: ") {
            Some(list) => {
                let mut ids: Vec<&str> = list.split(", ").collect();
                ids.sort_unstable();
                out.push(format!("Branches into: {}", ids.join(", ")));
            }
            None => out.push(line.to_owned()),
        }
    }
    flush(&mut run, &mut out);
    out.join("\n") + "\n"
}

#[test]
fn a_grown_project_with_recursive_locations_reads_the_same() {
    let (_tmp, root) = init("generic");
    let ini = root.join("alembic.ini");
    let text = std::fs::read_to_string(&ini).unwrap();
    std::fs::write(
        &ini,
        text.replace(
            "[alembic]\n",
            "[alembic]\nrecursive_version_locations = true\n",
        ),
    )
    .unwrap();
    grow(&root);
    // A subdirectory Alembic reads only because of the setting above.
    let versions = root.join("migrations/versions");
    std::fs::create_dir_all(versions.join("2024")).unwrap();
    let moved = std::fs::read_dir(&versions)
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("0004_"))
        .expect("0004's file");
    std::fs::rename(moved.path(), versions.join("2024").join(moved.file_name())).unwrap();
    compare_all(&root);
}

/// Sets `key = value` in the `[alembic]` section of `ini` (replacing an existing line).
pub fn set_ini(ini: &Path, key: &str, value: &str) {
    let text = std::fs::read_to_string(ini).unwrap();
    let mut out = String::new();
    let mut done = false;
    for line in text.lines() {
        if !done
            && (line.starts_with(&format!("{key} =")) || line.starts_with(&format!("# {key} =")))
        {
            out.push_str(&format!("{key} = {value}\n"));
            done = true;
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    if !done {
        out = out.replacen("[alembic]\n", &format!("[alembic]\n{key} = {value}\n"), 1);
    }
    std::fs::write(ini, out).unwrap();
}

#[test]
fn current_and_indicate_current_match_alembic_on_its_own_database() {
    let (_tmp, root) = init("generic");
    set_ini(
        &root.join("alembic.ini"),
        "sqlalchemy.url",
        "sqlite:///app.db",
    );
    grow(&root);
    alembic(&root, &["upgrade", "0002"]);
    alembic(&root, &["upgrade", "audit@head"]);
    let mut differences = Vec::new();
    for args in [
        &["current"][..],
        &["history", "--indicate-current"],
        &[
            "history",
            "-r",
            "0001:m2",
            "--verbose",
            "--indicate-current",
        ],
    ] {
        // `current` prints a Python set: its order follows the hash seed.
        let sorted = |t: String| {
            if args == ["current"] {
                let mut lines: Vec<&str> = t.lines().collect();
                lines.sort_unstable();
                lines.join("\n") + "\n"
            } else {
                t
            }
        };
        let theirs = sorted(unhashed(&alembic(&root, args)));
        let ours = sorted(unhashed(&migrate_ok(&root, args)));
        if theirs != ours {
            differences.push(format!(
                "{args:?}\n--- alembic\n{theirs}--- migrate\n{ours}"
            ));
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

#[test]
fn a_pyproject_project_with_two_version_locations_reads_the_same() {
    let (_tmp, root) = init("pyproject");
    let toml = root.join("pyproject.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    // Alembic's pyproject template lists version_locations commented out; set two.
    let text = text.replace(
        "[tool.alembic]\n",
        "[tool.alembic]\nversion_locations = [\"%(here)s/migrations/versions\", \"%(here)s/more\"]\n",
    );
    std::fs::write(&toml, text).unwrap();
    std::fs::create_dir_all(root.join("more")).unwrap();
    let r = |args: &[&str]| {
        alembic(&root, args);
    };
    let main = "migrations/versions";
    r(&[
        "revision",
        "-m",
        "one",
        "--rev-id",
        "0001",
        "--version-path",
        main,
    ]);
    r(&[
        "revision",
        "-m",
        "two elsewhere",
        "--rev-id",
        "0002",
        "--version-path",
        "more",
    ]);
    r(&[
        "revision",
        "-m",
        "three",
        "--rev-id",
        "0003",
        "--version-path",
        main,
    ]);
    r(&[
        "revision",
        "-m",
        "side",
        "--rev-id",
        "s1",
        "--head",
        "0001",
        "--splice",
        "--version-path",
        "more",
    ]);
    compare(
        &root,
        &[
            &["heads"],
            &["heads", "--verbose"],
            &["history"],
            &["history", "--verbose"],
            &["history", "-r", "0001:0003"],
            &["branches", "--verbose"],
            &["show", "s1"],
        ],
    );
}

#[test]
fn every_bad_module_is_one_exact_error_and_a_disagreeing_revises_only_a_warning() {
    let (_tmp, root) = init("generic");
    set_ini(
        &root.join("alembic.ini"),
        "version_locations",
        "%(here)s/migrations/versions:%(here)s/more",
    );
    let v = root.join("migrations/versions");
    let more = root.join("more");
    std::fs::create_dir_all(&more).unwrap();
    let write = |p: std::path::PathBuf, text: &str| std::fs::write(p, text).unwrap();
    write(
        v.join("a1_good.py"),
        "\"\"\"good\n\nRevises: zz\n\"\"\"\nrevision = \"a1\"\ndown_revision = None\n",
    );
    // Only the warning: check passes.
    let (code, out, err) = run(&root, &["check"]);
    assert_eq!(code, 0, "{out}{err}");
    let r = root.display().to_string();
    assert_eq!(
        out,
        format!("{r}/migrations/versions/a1_good.py:6: warning: the docstring says `Revises: zz` but down_revision is None; the assignment is what Alembic and migrate use\nOK: 1 revision(s), head a1\n")
    );
    write(
        v.join("b1_broken.py"),
        "revision = \"b1\"\ndown_revision = \"a1\"\ndef upgrade(:\n    pass\n",
    );
    write(
        v.join("c1_call.py"),
        "revision = \"c1\"\ndown_revision = compute(\"a1\")\n",
    );
    write(v.join("d1_nodown.py"), "revision = \"d1\"\n");
    write(
        v.join("e1_empty.py"),
        "revision = \"e1\"\ndown_revision = ''\n",
    );
    write(
        more.join("a1_dup.py"),
        "revision = \"a1\"\ndown_revision = None\n",
    );
    let (code, out, err) = run(&root, &["check"]);
    assert_eq!(code, 1, "{out}{err}");
    let expected = [
        format!("{r}/migrations/versions/b1_broken.py:3: invalid Python syntax: expected ')' (line 3, column 13)"),
        format!("{r}/migrations/versions/c1_call.py:2: down_revision is `compute(\"a1\")`, which can't be read without running Python; write a string literal (or a name imported from a module of this repository that assigns one)"),
        format!("{r}/migrations/versions/d1_nodown.py: no module-level `down_revision` assignment (use `down_revision = None` for a base); Alembic fails on this file with AttributeError"),
        format!("{r}/migrations/versions/e1_empty.py:2: down_revision '' is an empty string (Alembic fails with KeyError: ''); use None for a base"),
        format!("{r}/migrations/versions/a1_good.py:6: warning: the docstring says `Revises: zz` but down_revision is None; the assignment is what Alembic and migrate use"),
        format!("{r}/more/a1_dup.py:1: revision a1 is declared twice: in {r}/migrations/versions/a1_good.py:5 and in {r}/more/a1_dup.py:1"),
    ];
    let got: Vec<&str> = out.lines().collect();
    assert_eq!(got, expected, "{out}");
    assert_eq!(err, "6 problem(s) found\n");
}

#[test]
fn migrate_merge_and_revision_on_an_alembic_project_are_read_by_alembic() {
    let (_tmp, root) = init("generic");
    alembic(&root, &["revision", "-m", "one", "--rev-id", "0001"]);
    alembic(
        &root,
        &[
            "revision", "-m", "two", "--rev-id", "0002", "--head", "0001",
        ],
    );
    alembic(
        &root,
        &[
            "revision", "-m", "side", "--rev-id", "0003", "--head", "0001", "--splice",
        ],
    );
    let (code, out, err) = super::support::run(&root, &["merge", "-m", "join", "--rev-id", "m9"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "migrations/versions/m9_join.py\n");
    assert_eq!(alembic(&root, &["heads"]), "m9 (head)\n");
    let (code, _, err) =
        super::support::run(&root, &["revision", "-m", "next step", "--rev-id", "r9"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        alembic(&root, &["history", "-r", "m9:"]),
        "m9 -> r9 (head), next step\n0002, 0003 -> m9 (mergepoint), join\n"
    );
    // Autogenerate is Alembic's own on an Alembic project.
    let (code, _, err) = super::support::run(&root, &["revision", "-m", "x", "--autogenerate"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("alembic revision --autogenerate"), "{err}");
}
