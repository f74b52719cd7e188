//! `migrate rebase [REV] --onto TARGET`: YAML and Alembic branches re-parented in
//! place (every other byte kept), refusals for applied and pushed revisions, and the
//! graph linear afterwards (checked by migrate, and by real Alembic for Alembic).

use std::path::Path;

use super::alembic_cli::{alembic, init};
use super::git_fixture::{day, GitFixture, ADA, GRACE};
use super::support::{json, run};

/// One working tree with two heads, as after `git merge` of two branches:
/// a1 ── m1 (main) and a1 ── f1 ── f2 (feature), committed.
fn two_heads() -> GitFixture {
    let fx = GitFixture::new();
    fx.add_revision("a1", None, "create users");
    fx.commit(ADA, day(0, 9), "a1");
    fx.add_revision("m1", Some("a1"), "add orders");
    fx.add_revision("f1", Some("a1"), "add keys");
    // A comment and quoting that must survive the edit.
    let f2 = "# keys, part two\nrevision: 'f2'\ndown_revision: \"f1\"   # after f1\nmessage: more keys\nupgrade: |\n  CREATE TABLE t_f2 (id INTEGER PRIMARY KEY);\ndowngrade: |\n  DROP TABLE t_f2;\n";
    fx.write("revisions/f2_more_keys.yaml", f2);
    fx.commit(GRACE, day(1, 9), "merge of main and feature");
    fx
}

fn read(fx: &GitFixture, rel: &str) -> String {
    std::fs::read_to_string(fx.file(rel)).expect("read")
}

fn all_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("dir")
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("read"),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn a_yaml_branch_is_rebased_in_place_and_the_graph_is_linear() {
    let fx = two_heads();
    let (code, _, _) = run(fx.path(), &["check"]);
    assert_eq!(code, 1, "two heads before");
    let before = all_files(&fx.file("revisions"));

    let (code, out, err) = run(fx.path(), &["rebase", "--onto", "m1", "--dry-run"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("would rebase 2 revision(s) onto m1: m1 -> f1 -> f2"),
        "{out}"
    );
    assert!(
        out.contains("-down_revision: a1\n+down_revision: m1\n"),
        "{out}"
    );
    assert_eq!(
        all_files(&fx.file("revisions")),
        before,
        "--dry-run changes nothing"
    );

    let (code, out, err) = run(fx.path(), &["rebase", "--onto", "m1"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("down_revision a1 -> m1"), "{out}");
    let after = all_files(&fx.file("revisions"));
    for ((name, a), (_, b)) in before.iter().zip(&after) {
        if name == "f1_add_keys.yaml" {
            let (a, b) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
            assert_eq!(b, a.replace("down_revision: a1\n", "down_revision: m1\n"));
        } else {
            assert_eq!(a, b, "{name} is byte-identical");
        }
    }
    let (code, out, err) = run(fx.path(), &["check"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, history, _) = run(fx.path(), &["history"]);
    assert_eq!(code, 0);
    assert_eq!(
        history,
        "f1 -> f2 (head), more keys\nm1 -> f1, add keys\na1 -> m1, add orders\n<base> -> a1, create users\n",
        "linear"
    );
    let (_, v) = json(fx.path(), &["heads"]);
    assert_eq!(v.as_array().expect("heads").len(), 1, "{v}");

    // Again: already linear, a no-op that says so.
    let (code, out, _) = run(fx.path(), &["rebase", "--onto", "m1"]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "nothing to rebase: f2 already stands on m1 (the graph is linear)\n"
    );
    let (code, v) = json(fx.path(), &["rebase", "f2", "--onto", "a1"]);
    assert_eq!(code, 0);
    assert_eq!(v["rebased"], false);
    assert!(v["message"]
        .as_str()
        .expect("message")
        .contains("already stands on a1"));
    let _ = read(&fx, "revisions/f2_more_keys.yaml");
}

#[test]
fn rebasing_the_other_head_instead_names_it() {
    let fx = two_heads();
    let (code, v) = json(fx.path(), &["rebase", "m1", "--onto", "f2"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["rebased"], true);
    assert_eq!(v["moved"], serde_json::json!(["m1"]));
    assert_eq!(
        v["edits"][0]["old_down_revision"],
        serde_json::json!(["a1"])
    );
    assert_eq!(
        v["edits"][0]["new_down_revision"],
        serde_json::json!(["f2"])
    );
    assert!(read(&fx, "revisions/m1_add_orders.yaml").contains("down_revision: f2\n"));
    // Several heads off the target and none named: which one?
    let fx = two_heads();
    fx.add_revision("x1", Some("a1"), "third");
    let (code, _, err) = run(fx.path(), &["rebase", "--onto", "m1"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("several heads do not stand on m1: f2, x1"),
        "{err}"
    );
}

#[test]
fn a_revision_applied_in_the_database_is_not_moved_without_force() {
    let fx = two_heads();
    let url = format!("sqlite://{}", fx.file("applied.db").display());
    let (code, out, err) = run(fx.path(), &["upgrade", "f2", "--database-url", &url]);
    assert_eq!(code, 0, "{out}{err}");
    let before = read(&fx, "revisions/f1_add_keys.yaml");
    let (code, out, err) = run(
        fx.path(),
        &["rebase", "--onto", "m1", "--database-url", &url],
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("rebase refused"), "{err}");
    assert!(
        err.contains("revision f1 is applied in the database"),
        "{err}"
    );
    assert!(
        err.contains("revision f2 is applied in the database"),
        "{err}"
    );
    assert!(err.contains("hint: `--force` rebases anyway"), "{err}");
    assert_eq!(read(&fx, "revisions/f1_add_keys.yaml"), before);
    // Without a database there is nothing to refuse on, and it says so.
    let (code, out, err) = run(fx.path(), &["rebase", "--onto", "m1", "--dry-run"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("no database at sqlite://app.db"), "{err}");
    let (code, out, err) = run(
        fx.path(),
        &["rebase", "--onto", "m1", "--force", "--database-url", &url],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("warning: forced past: revision f1 is applied"),
        "{err}"
    );
    assert!(read(&fx, "revisions/f1_add_keys.yaml").contains("down_revision: m1\n"));
}

#[test]
fn a_revision_pushed_to_a_remote_tracking_branch_or_in_base_is_refused() {
    let fx = two_heads();
    let tip = fx.tip("main");
    fx.repo
        .reference("refs/remotes/origin/feature", tip, true, "push")
        .expect("a remote-tracking ref");
    let (code, _, err) = run(fx.path(), &["rebase", "--onto", "m1"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("revision f1 is already in remote-tracking branch origin/feature (revisions/f1_add_keys.yaml)"),
        "{err}"
    );
    fx.repo
        .find_reference("refs/remotes/origin/feature")
        .expect("ref")
        .delete()
        .expect("delete");
    let (code, _, err) = run(fx.path(), &["rebase", "--onto", "m1", "--base", "main"]);
    assert_eq!(code, 1);
    assert!(err.contains("revision f1 is already in main"), "{err}");
}

#[test]
fn a_rebase_that_breaks_a_depends_on_is_refused() {
    let fx = two_heads();
    // m1 depends on f1: moving f1 after m1 would make m1 need a revision that runs later.
    fx.write(
        "revisions/m1_add_orders.yaml",
        "revision: m1\ndown_revision: a1\ndepends_on: [f1]\nmessage: add orders\nupgrade: SELECT 1;\ndowngrade: SELECT 1;\n",
    );
    let (code, _, err) = run(fx.path(), &["rebase", "--onto", "m1"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("rebase refused: moving f2 onto m1 would break the graph"),
        "{err}"
    );
}

#[test]
fn an_alembic_branch_is_rebased_and_alembic_sees_one_head() {
    let (_tmp, root) = init("generic");
    alembic(
        &root,
        &["revision", "-m", "create users", "--rev-id", "0001"],
    );
    alembic(&root, &["revision", "-m", "add orders", "--rev-id", "0002"]);
    alembic(
        &root,
        &[
            "revision", "-m", "add keys", "--rev-id", "f001", "--head", "0001", "--splice",
        ],
    );
    alembic(
        &root,
        &[
            "revision",
            "-m",
            "more keys",
            "--rev-id",
            "f002",
            "--head",
            "f001",
        ],
    );
    let versions = root.join("migrations/versions");
    let before = all_files(&versions);
    let heads = alembic(&root, &["heads"]);
    assert_eq!(heads.lines().count(), 2, "{heads}");

    let (code, out, err) = run(&root, &["rebase", "--onto", "0002"]);
    assert_eq!(code, 0, "{out}{err}");
    let after = all_files(&versions);
    assert_eq!(before.len(), after.len());
    for ((name, a), (_, b)) in before.iter().zip(&after) {
        let (a, b) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
        if name.starts_with("f001") {
            let changed: Vec<(&str, &str)> =
                a.lines().zip(b.lines()).filter(|(x, y)| x != y).collect();
            assert_eq!(a.lines().count(), b.lines().count());
            assert_eq!(changed.len(), 2, "{changed:?}");
            assert_eq!(changed[0], ("Revises: 0001", "Revises: 0002"));
            assert!(
                changed[1].0.starts_with("down_revision") && changed[1].0.ends_with("'0001'"),
                "{changed:?}"
            );
            assert_eq!(changed[1].1, changed[1].0.replace("'0001'", "'0002'"));
        } else {
            assert_eq!(a, b, "{name} is byte-identical");
        }
    }
    // Alembic itself: one head, f002, and the history in the new order.
    assert_eq!(alembic(&root, &["heads"]).trim(), "f002 (head)");
    let history = alembic(&root, &["history"]);
    assert!(
        history.starts_with("0002 -> f001, add keys\n") || history.contains("0002 -> f001"),
        "{history}"
    );
    let (code, out, err) = run(&root, &["check"]);
    assert_eq!(code, 0, "{out}{err}");
}
