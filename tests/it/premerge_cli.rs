//! `migrate check --base REF`: the heads a merge will make, caught before the merge,
//! from either side, in real git repositories; GitHub annotations; the pre-commit hooks
//! run through their declared entries.

use serde_json::Value;

use super::git_fixture::{day, revision_yaml, GitFixture, ADA, GRACE};
use super::support::{json, run};

/// main: a1; then `feature` adds f1 on a1 (Grace) while main adds m1 on a1 (Ada).
/// The working tree is left on `feature`.
fn two_branches() -> GitFixture {
    let fx = GitFixture::new();
    fx.add_revision("a1", None, "create users");
    fx.commit(ADA, day(0, 9), "a1");
    fx.branch("feature");
    fx.add_revision("m1", Some("a1"), "add orders");
    fx.commit(ADA, day(1, 9), "m1");
    fx.checkout("feature");
    fx.add_revision("f1", Some("a1"), "add api keys");
    fx.commit(GRACE, day(2, 9), "f1");
    fx
}

fn kinds(v: &Value) -> Vec<String> {
    v["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| p["kind"].as_str().expect("kind").to_owned())
        .collect()
}

fn problem<'a>(v: &'a Value, kind: &str, revision: &str) -> &'a Value {
    v["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .find(|p| p["kind"] == kind && p["revisions"][0] == revision)
        .unwrap_or_else(|| panic!("no {kind} for {revision}: {v:#}"))
}

#[test]
fn each_side_passes_alone_and_check_base_catches_the_two_heads_from_either_side() {
    let fx = two_branches();
    let (code, out, err) = run(fx.path(), &["check"]);
    assert_eq!(code, 0, "feature alone is fine: {out}{err}");
    let (code, _, _) = run(fx.path(), &["check", "--head", "main", "--base", "feature"]);
    assert_eq!(code, 1);

    let (code, out, err) = run(fx.path(), &["check", "--base", "main"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("revisions/f1_add_api_keys.yaml:1: merged with main the graph has 2 heads: f1 (added on this side by Grace Hopper <grace@example.com> on 2026-01-03, commit "),
        "{out}"
    );
    assert!(
        out.contains("revisions/m1_add_orders.yaml:1: merged with main the graph has 2 heads: m1 (added on main by Ada Lovelace <ada@example.com> on 2026-01-02, commit "),
        "{out}"
    );
    assert!(
        out.contains("revisions/f1_add_api_keys.yaml:2: revision f1 branched from an old head: its down_revision is a1, but main's head is m1"),
        "{out}"
    );
    assert!(
        err.contains("hint: run `migrate rebase --onto m1 --base main`"),
        "{err}"
    );
    assert!(err.contains("`migrate merge`"), "{err}");

    // JSON: which side added each head, who and in which commit.
    let (code, v) = json(fx.path(), &["check", "--base", "main"]);
    assert_eq!(code, 1);
    assert_eq!(v["ok"], false);
    let mut k = kinds(&v);
    k.sort();
    assert_eq!(
        k,
        [
            "branched_from_old_head",
            "heads_after_merge",
            "heads_after_merge"
        ]
    );
    assert_eq!(problem(&v, "heads_after_merge", "m1")["line"], 1);
    let heads = v["base"]["merged_heads"].as_array().expect("merged heads");
    let m1 = heads.iter().find(|h| h["revision"] == "m1").expect("m1");
    assert_eq!(m1["side"], "theirs");
    assert_eq!(m1["author_name"], "Ada Lovelace");
    assert_eq!(m1["commit"], fx.tip("main").to_string());
    let f1 = heads.iter().find(|h| h["revision"] == "f1").expect("f1");
    assert_eq!(f1["side"], "ours");
    assert_eq!(f1["commit"], fx.tip("feature").to_string());
    assert_eq!(v["base"]["heads"], serde_json::json!(["m1"]));

    // From the other side, before any merge: main checked out, feature as the base.
    fx.checkout("main");
    let (code, out, _) = run(fx.path(), &["check", "--base", "feature"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("m1 (added on this side by Ada Lovelace"),
        "{out}"
    );
    assert!(
        out.contains("f1 (added on feature by Grace Hopper"),
        "{out}"
    );
    // Without a checkout: both sides read from git.
    let (code, v) = json(fx.path(), &["check", "--base", "main", "--head", "feature"]);
    assert_eq!(code, 1);
    assert_eq!(
        problem(&v, "heads_after_merge", "f1")["path"],
        "revisions/f1_add_api_keys.yaml"
    );
}

#[test]
fn a_branch_on_the_bases_head_passes_and_uncommitted_revisions_count() {
    let fx = GitFixture::new();
    fx.add_revision("a1", None, "create users");
    fx.commit(ADA, day(0, 9), "a1");
    fx.branch("feature");
    fx.checkout("feature");
    fx.add_revision("f1", Some("a1"), "on the head");
    fx.commit(GRACE, day(1, 9), "f1");
    let (code, out, err) = run(fx.path(), &["check", "--base", "main"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("OK: 2 revision(s), head f1"), "{out}");

    // A new file not committed yet, beside f1: two heads after the merge, said so.
    fx.add_revision("u1", Some("a1"), "not committed");
    let (code, out, _) = run(fx.path(), &["check", "--base", "main"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("u1 (added on this side, not committed yet)"),
        "{out}"
    );
}

#[test]
fn edited_deleted_duplicate_ids_and_labels_are_named_with_file_and_line() {
    let fx = GitFixture::new();
    fx.add_revision("a1", None, "create users");
    fx.add_revision("a2", Some("a1"), "add email");
    fx.commit(ADA, day(0, 9), "base");
    fx.branch("feature");
    fx.write(
        "revisions/l1_labelled.yaml",
        "revision: l1\ndown_revision: a2\nbranch_labels: [auth]\nmessage: m\nupgrade: SELECT 1;\ndowngrade: SELECT 1;\n",
    );
    fx.add_revision("dup", Some("l1"), "main copy");
    fx.commit(ADA, day(1, 9), "main moves on");
    fx.checkout("feature");
    // Edit a shared revision, delete another, add one with main's id, reuse the label.
    fx.write(
        "revisions/a1_create_users.yaml",
        &revision_yaml("a1", None, "create users, edited"),
    );
    std::fs::remove_file(fx.file("revisions/a2_add_email.yaml")).expect("rm");
    fx.write(
        "revisions/x1_feature.yaml",
        "revision: x1\ndown_revision: a1\nbranch_labels: [auth]\nmessage: m\nupgrade: SELECT 1;\ndowngrade: SELECT 1;\n",
    );
    fx.add_revision("dup", Some("x1"), "feature copy");
    fx.commit(GRACE, day(2, 9), "feature");
    let (code, v) = json(fx.path(), &["check", "--base", "main"]);
    assert_eq!(code, 1);
    let edited = problem(&v, "edited_shared_revision", "a1");
    assert_eq!(edited["path"], "revisions/a1_create_users.yaml");
    assert_eq!(edited["line"], 1);
    let deleted = problem(&v, "deleted_shared_revision", "a2");
    assert_eq!(deleted["path"], "revisions/a2_add_email.yaml");
    let dup = problem(&v, "added_on_both_sides", "dup");
    assert_eq!(dup["path"], "revisions/dup_feature_copy.yaml");
    assert!(
        dup["message"]
            .as_str()
            .expect("message")
            .contains("revisions/dup_main_copy.yaml"),
        "{dup}"
    );
    let label = problem(&v, "label_on_both_sides", "x1");
    assert_eq!(label["line"], 3);
    assert!(v["hints"].as_array().expect("hints").iter().any(|h| h
        .as_str()
        .expect("hint")
        .contains("git checkout main -- <file>")));
}

#[test]
fn github_format_prints_escaped_workflow_annotations() {
    let fx = two_branches();
    let (code, out, _) = run(
        fx.path(),
        &["check", "--base", "main", "--format", "github"],
    );
    assert_eq!(code, 1);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("::error file=revisions/")),
        "{out}"
    );
    let f1 = lines
        .iter()
        .find(|l| l.contains("heads_after_merge") && l.contains("f1_add"))
        .expect("f1's annotation");
    assert!(
        f1.starts_with("::error file=revisions/f1_add_api_keys.yaml,line=1,title=migrate check%3A heads_after_merge::merged with main the graph has 2 heads: f1"),
        "{f1}"
    );
    assert!(
        f1.contains("%0Ahint: run `migrate rebase --onto m1 --base main`"),
        "the hint goes with the problem, on the same line: {f1}"
    );
    // A problem without a file, and a clean graph: nothing but the problems.
    fx.checkout("main");
    let (code, out, _) = run(fx.path(), &["check", "--format", "github"]);
    assert_eq!((code, out.as_str()), (0, ""));
    let (code, _, err) = run(fx.path(), &["heads", "--format", "github"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn check_base_outside_git_or_with_an_unknown_ref_says_why() {
    let fx = two_branches();
    let (code, _, err) = run(fx.path(), &["check", "--base", "no-such-ref"]);
    assert_eq!(code, 1);
    assert!(err.contains("unknown git revision 'no-such-ref'"), "{err}");
    let plain = super::support::project(&[("a1.yaml", &super::support::rev("a1", "null", "x"))]);
    let (code, _, err) = run(plain.path(), &["check", "--base", "main"]);
    assert_eq!(code, 1);
    assert!(err.contains("no git repository holds"), "{err}");
    let (code, _, err) = run(fx.path(), &["check", "--head", "main"]);
    assert_eq!(code, 2, "--head needs --base: {err}");
}

/// The hooks of `.pre-commit-hooks.yaml`, run as pre-commit runs them: the declared
/// `entry` split into words, then `args`, in the repository being committed to.
#[test]
fn the_pre_commit_hooks_run_through_their_declared_entries() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/.pre-commit-hooks.yaml"
    ))
    .expect("the hooks file");
    let hooks: Vec<Value> = serde_yaml_ng::from_str(&text).expect("a YAML list of hooks");
    let ids: Vec<&str> = hooks
        .iter()
        .map(|h| h["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, ["migrate-check", "migrate-check-base"]);
    let fx = two_branches();
    // The base the hook compares with is origin/main: a remote-tracking branch.
    fx.repo
        .reference("refs/remotes/origin/main", fx.tip("main"), true, "fetch")
        .expect("a remote-tracking ref");
    let run_hook = |id: &str| {
        let hook = hooks.iter().find(|h| h["id"] == id).expect("the hook");
        assert_eq!(hook["pass_filenames"], false, "{id}");
        let entry = hook["entry"].as_str().expect("entry");
        let mut words = entry.split_whitespace();
        assert_eq!(
            words.next(),
            Some("migrate"),
            "{id} runs the migrate binary"
        );
        let mut args: Vec<String> = words.map(str::to_owned).collect();
        if let Some(extra) = hook["args"].as_array() {
            args.extend(extra.iter().map(|a| a.as_str().expect("arg").to_owned()));
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        run(fx.path(), &refs)
    };
    let (code, out, err) = run_hook("migrate-check");
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, _) = run_hook("migrate-check-base");
    assert_eq!(code, 1);
    assert!(
        out.contains("merged with origin/main the graph has 2 heads"),
        "{out}"
    );
    // Rebased onto origin/main's head, the hook passes.
    let (code, out, err) = run(fx.path(), &["rebase", "--onto", "m1", "--base", "main"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = run_hook("migrate-check-base");
    assert_eq!(code, 0, "{out}{err}");
}
