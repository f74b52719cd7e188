//! End-to-end tests of the commands that need no database, through the real binary.

use serde_json::json;

use super::support::{json, project, rev, run};

/// ```text
///        (merge) m
///          /    \
///   (head) b2    b1 <- labelled "feat"
///          \    /
///            a   (branch point)
/// ```
fn diamond() -> tempfile::TempDir {
    project(&[
        ("a.yaml", &rev("aaaa0001", "null", "create users")),
        (
            "b1.yaml",
            &format!(
                "{}branch_labels: [feat]\n",
                rev("bbbb0001", "aaaa0001", "feature one")
            ),
        ),
        ("b2.yaml", &rev("bbbb0002", "aaaa0001", "feature two")),
    ])
}

#[test]
fn heads_lists_both_heads_in_text_and_json() {
    let dir = diamond();
    let (code, out, _) = run(dir.path(), &["heads"]);
    assert_eq!(code, 0);
    assert_eq!(out, "bbbb0001 (feat) (head)\nbbbb0002 (head)\n");
    let (code, v) = json(dir.path(), &["heads"]);
    assert_eq!(code, 0);
    assert_eq!(
        v,
        json!([
            {"revision": "bbbb0001", "message": "feature one", "branch_labels": ["feat"], "path": "revisions/b1.yaml"},
            {"revision": "bbbb0002", "message": "feature two", "branch_labels": [], "path": "revisions/b2.yaml"}
        ])
    );
}

#[test]
fn global_options_work_before_and_after_the_subcommand() {
    let dir = diamond();
    let (_, before, _) = run(dir.path(), &["--format", "json", "heads"]);
    let (_, after, _) = run(dir.path(), &["heads", "--format", "json"]);
    assert_eq!(before, after);
    assert!(before.starts_with('['));
}

#[test]
fn check_fails_on_two_heads_with_the_merge_hint_then_merge_fixes_it() {
    let dir = diamond();
    let (code, v) = json(dir.path(), &["check"]);
    assert_eq!(code, 1);
    assert_eq!(v["ok"], json!(false));
    assert_eq!(v["problems"][0]["kind"], json!("multiple_heads"));
    assert_eq!(
        v["problems"][0]["revisions"],
        json!(["bbbb0001", "bbbb0002"])
    );
    let (_, _, err) = run(dir.path(), &["check"]);
    assert!(err.contains("hint: run `migrate merge"), "{err}");

    let (code, out, _) = run(
        dir.path(),
        &["merge", "-m", "join features", "--rev-id", "cccc0001"],
    );
    assert_eq!(code, 0);
    assert_eq!(out.trim(), "revisions/cccc0001_join_features.yaml");
    let text = std::fs::read_to_string(dir.path().join(out.trim())).unwrap();
    assert!(
        text.contains("down_revision: [bbbb0001, bbbb0002]"),
        "{text}"
    );
    let (code, out, _) = run(dir.path(), &["check"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("OK: 4 revision(s), head cccc0001"), "{out}");

    let (code, out, err) = run(dir.path(), &["merge", "-m", "again"]);
    assert_eq!(code, 0);
    assert_eq!(out, "");
    assert!(err.contains("Nothing to merge"), "{err}");
}

#[test]
fn history_is_newest_first_in_alembic_lines_and_json() {
    let dir = diamond();
    run(dir.path(), &["merge", "-m", "join", "--rev-id", "cccc0001"]);
    let (code, out, _) = run(dir.path(), &["history"]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "bbbb0001, bbbb0002 -> cccc0001 (feat) (head) (mergepoint), join\n\
         aaaa0001 -> bbbb0001 (feat), feature one\n\
         aaaa0001 -> bbbb0002, feature two\n\
         <base> -> aaaa0001 (branchpoint), create users\n"
    );
    let (_, v) = json(dir.path(), &["history"]);
    let ids: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["revision"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["cccc0001", "bbbb0001", "bbbb0002", "aaaa0001"]);
    assert_eq!(
        v[0],
        json!({
            "revision": "cccc0001", "down_revisions": ["bbbb0001", "bbbb0002"], "depends_on": [],
            "branch_labels": ["feat"], "message": "join", "is_head": true, "is_base": false,
            "is_branch_point": false, "is_merge_point": true,
            "path": "revisions/cccc0001_join.yaml"
        })
    );
    let (_, v) = json(dir.path(), &["history", "-r", "bbbb0002:"]);
    let ids: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["revision"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["cccc0001", "bbbb0002"]);
    let (code, _, err) = run(dir.path(), &["history", "-r", "bbbb0001:bbbb0002"]);
    assert_eq!(code, 1);
    assert!(err.contains("Requested range bbbb0001:bbbb0002 does not refer to ancestor/descendant revisions along the same branch"), "{err}");
}

#[test]
fn show_resolves_identifiers_and_prints_sql() {
    let dir = diamond();
    let (code, v) = json(dir.path(), &["show", "feat@head"]);
    assert_eq!(code, 0);
    assert_eq!(v["revision"], json!("bbbb0001"));
    assert_eq!(v["upgrade"], json!("SELECT 1;"));
    let (code, _, err) = run(dir.path(), &["show", "head"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("Multiple head revisions are present for given argument 'head'"),
        "{err}"
    );
    let (code, _, err) = run(dir.path(), &["show", "bbbb"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("ambiguous") && err.contains("bbbb0001, bbbb0002"),
        "{err}"
    );
    let (code, _, err) = run(dir.path(), &["show", "aaaa9"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("Can't locate revision identified by 'aaaa9'"),
        "{err}"
    );
    assert!(err.contains("did you mean aaaa0001?"), "{err}");
    let (code, out, _) = run(dir.path(), &["show", "bbbb0002-1"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("Rev: aaaa0001 (branchpoint)"), "{out}");
}

#[test]
fn revision_refuses_multiple_heads_and_builds_on_a_named_head() {
    let dir = diamond();
    let (code, _, err) = run(dir.path(), &["revision", "-m", "next"]);
    assert_eq!(code, 1);
    assert!(err.contains("Multiple heads are present"), "{err}");
    assert!(err.contains("hint:"), "{err}");
    let (code, out, _) = run(
        dir.path(),
        &[
            "revision",
            "-m",
            "next",
            "--head",
            "feat@head",
            "--rev-id",
            "dddd0001",
            "--depends-on",
            "bbbb0002",
        ],
    );
    assert_eq!(code, 0);
    let text = std::fs::read_to_string(dir.path().join(out.trim())).unwrap();
    assert!(text.contains("down_revision: bbbb0001\n"), "{text}");
    assert!(text.contains("depends_on: [bbbb0002]\n"), "{text}");
    let (code, _, err) = run(dir.path(), &["revision", "-m", "x", "--head", "aaaa0001"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("Revision aaaa0001 is not a head revision; please specify --splice"),
        "{err}"
    );
    let (code, _, _) = run(
        dir.path(),
        &["revision", "-m", "x", "--head", "aaaa0001", "--splice"],
    );
    assert_eq!(code, 0);
    let (code, _, err) = run(
        dir.path(),
        &[
            "revision", "-m", "x", "--head", "base", "--rev-id", "aaaa0001",
        ],
    );
    assert_eq!(code, 1);
    assert!(err.contains("already used"), "{err}");
    let (code, _, err) = run(
        dir.path(),
        &[
            "revision", "-m", "x", "--head", "base", "--rev-id", "bad-id",
        ],
    );
    assert_eq!(code, 2);
    assert!(err.contains("only letters, digits and _"), "{err}");
}

#[test]
fn init_then_revisions_make_a_chain_and_no_database_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, _) = run(dir.path(), &["init"]);
    assert_eq!(code, 0);
    assert!(dir.path().join("migrate.yaml").is_file());
    let (code, _, err) = run(dir.path(), &["init"]);
    assert_eq!(code, 1);
    assert!(err.contains("already exists"), "{err}");
    run(dir.path(), &["revision", "-m", "one", "--rev-id", "r1"]);
    run(dir.path(), &["revision", "-m", "two", "--rev-id", "r2"]);
    let (_, v) = json(dir.path(), &["heads"]);
    assert_eq!(v[0]["revision"], json!("r2"));
    for args in [
        &["history"][..],
        &["check"],
        &["graph"],
        &["branches"],
        &["show", "r1"],
    ] {
        run(dir.path(), args);
    }
    let entries: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!entries.iter().any(|e| e.ends_with(".db")), "{entries:?}");
}

#[test]
fn graph_draws_dot_mermaid_and_ascii() {
    let dir = diamond();
    let (_, dot, _) = run(dir.path(), &["graph", "--output", "dot"]);
    assert!(dot.starts_with("digraph revisions {"), "{dot}");
    assert!(dot.contains("\"aaaa0001\" -> \"bbbb0001\";"), "{dot}");
    let (_, mermaid, _) = run(dir.path(), &["graph", "-o", "mermaid"]);
    assert!(mermaid.contains("aaaa0001 --> bbbb0002"), "{mermaid}");
    let (_, ascii, _) = run(dir.path(), &["graph"]);
    assert_eq!(
        ascii,
        "* bbbb0001 (feat) (head) feature one\n\
         | * bbbb0002 (head) feature two\n\
         | /\n\
         * aaaa0001 (branchpoint) create users\n"
    );
}

#[test]
fn branches_lists_branch_points_with_children() {
    let dir = diamond();
    let (_, v) = json(dir.path(), &["branches"]);
    assert_eq!(
        v,
        json!([{"revision": "aaaa0001", "children": ["bbbb0001", "bbbb0002"]}])
    );
}

#[test]
fn every_bad_input_is_reported_with_file_and_line_all_at_once() {
    let dir = project(&[
        ("a.yaml", &rev("aaaa0001", "null", "base")),
        (
            "typo.yaml",
            "revision: t1\ndown_revison: aaaa0001\nmessage: typo\n",
        ),
        ("broken.yaml", "revision: b1\nmessage: [unclosed\n"),
        ("nomsg.yaml", "revision: n1\ndown_revision: aaaa0001\n"),
        ("badid.yaml", "revision: bad-id\nmessage: x\n"),
        ("dup1.yaml", &rev("dddd0001", "aaaa0001", "first")),
        ("dup2.yaml", &rev("dddd0001", "aaaa0001", "second")),
        ("missing.yaml", &rev("mmmm0001", "zzzz9999", "dangling")),
        (
            "dep.yaml",
            &format!(
                "{}depends_on: [nowhere]\n",
                rev("pppp0001", "aaaa0001", "dep")
            ),
        ),
        ("c1.yaml", &rev("cyc1", "cyc2", "cycle one")),
        ("c2.yaml", &rev("cyc2", "cyc1", "cycle two")),
        (
            "l1.yaml",
            &format!(
                "{}branch_labels: [same]\n",
                rev("llll0001", "aaaa0001", "label one")
            ),
        ),
        (
            "l2.yaml",
            &format!(
                "{}branch_labels: [same]\n",
                rev("llll0002", "aaaa0001", "label two")
            ),
        ),
        ("num.yaml", "revision: 1234\nmessage: numeric\n"),
    ]);
    let (code, out, _) = run(dir.path(), &["check"]);
    assert_eq!(code, 1);
    for expected in [
        "revisions/typo.yaml:2: unknown field `down_revison`",
        "revisions/broken.yaml:",
        "revisions/nomsg.yaml:1: missing field `message`",
        "revisions/badid.yaml:1: revision id 'bad-id' contains '-'",
        "revision dddd0001 is declared twice: in revisions/dup1.yaml:1 and in revisions/dup2.yaml:1",
        "revisions/missing.yaml:2: revision mmmm0001 has down_revision zzzz9999, which is not present",
        "revisions/dep.yaml:6: revision pppp0001 depends on 'nowhere'",
        "Cycle is detected in revisions (cyc1, cyc2)",
        "branch label 'same' in revision llll0002 is already used by revision llll0001",
        "revisions/num.yaml:1: revision 1234 is a number to YAML; quote it",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    let (_, v) = json(dir.path(), &["check"]);
    let kinds: Vec<&str> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap())
        .collect();
    for k in [
        "invalid_file",
        "duplicate_revision",
        "missing_down_revision",
        "missing_dependency",
        "cycle",
        "duplicate_branch_label",
    ] {
        assert!(kinds.contains(&k), "{k} not in {kinds:?}");
    }
    // Other commands refuse a broken graph, listing the problems on stderr.
    let (code, out, err) = run(dir.path(), &["heads"]);
    assert_eq!(code, 1);
    assert_eq!(out, "");
    assert!(err.contains("error: revisions/typo.yaml:2"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_missing_revisions_directory_says_how_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = run(dir.path(), &["heads"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("revisions directory revisions does not exist"),
        "{err}"
    );
    assert!(err.contains("migrate init"), "{err}");
    let (code, _, _) = run(dir.path(), &["heads", "--format", "xml"]);
    assert_eq!(code, 2);
}

#[test]
fn revisions_in_subdirectories_load_and_the_cache_sees_edits() {
    let dir = project(&[
        ("a.yaml", &rev("aaaa0001", "null", "one")),
        ("sub/b.yaml", &rev("bbbb0001", "aaaa0001", "two")),
    ]);
    let (_, v) = json(dir.path(), &["heads"]);
    assert_eq!(v[0]["path"], json!("revisions/sub/b.yaml"));
    // Same size, different content: the edit must be seen even right after caching.
    std::fs::write(
        dir.path().join("revisions/sub/b.yaml"),
        rev("bbbb0002", "aaaa0001", "two"),
    )
    .unwrap();
    let (_, v) = json(dir.path(), &["heads"]);
    assert_eq!(v[0]["revision"], json!("bbbb0002"));
}

/// Alembic's BranchTravellingTest graph, with a label and a dependency:
///
/// ```text
///                      merge
///                     /     \
///   fe1b1 -- e1b1   e2b1     e2b2
///               \   /          |
///                db1          db2
///                 |            |
///                cb1          cb2
///                 |            |
///                 b1 (lbl)     b2
///                   \         /
///                      a3 -- a2 -- a1
/// ```
fn travelling() -> tempfile::TempDir {
    let spec: &[(&str, &str)] = &[
        ("a1", "null"),
        ("a2", "a1"),
        ("a3", "a2"),
        ("b1", "a3"),
        ("b2", "a3"),
        ("cb1", "b1"),
        ("cb2", "b2"),
        ("db1", "cb1"),
        ("db2", "cb2"),
        ("e1b1", "db1"),
        ("fe1b1", "e1b1"),
        ("e2b1", "db1"),
        ("e2b2", "db2"),
        ("merge", "[e2b1, e2b2]"),
    ];
    let files: Vec<(String, String)> = spec
        .iter()
        .enumerate()
        .map(|(i, (id, down))| {
            let mut text = rev(id, down, &format!("step {i}"));
            if *id == "b1" {
                text.push_str("branch_labels: [lbl]\n");
            }
            if *id == "e2b2" {
                text.push_str("depends_on: [cb1]\n");
            }
            (format!("{i:02}_{id}.yaml"), text)
        })
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    project(&refs)
}

#[test]
fn history_and_graph_snapshots() {
    let dir = travelling();
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"revisions/\d\d_", "revisions/NN_");
    settings.bind(|| {
        let (code, out, _) = run(dir.path(), &["history"]);
        assert_eq!(code, 1 - 1);
        insta::assert_snapshot!("travelling_history", out);
        let (_, out, _) = run(dir.path(), &["graph"]);
        insta::assert_snapshot!("travelling_graph_ascii", out);
        let (_, out, _) = run(dir.path(), &["heads", "--verbose"]);
        insta::assert_snapshot!("travelling_heads_verbose", out);
    });
}

#[test]
fn check_fails_on_a_bad_version_table_setting_as_upgrade_does() {
    // A setting that can't work is an error, not a reason to skip the database checks.
    let dir = project(&[("a.yaml", &rev("aaaa0001", "null", "create users"))]);
    std::fs::write(
        dir.path().join("migrate.yaml"),
        "revisions: revisions\nversion_table: \"bad name;\"\n",
    )
    .unwrap();
    for cmd in [&["check"][..], &["upgrade", "head"][..]] {
        let (code, out, err) = run(dir.path(), cmd);
        assert_eq!(code, 1, "{cmd:?}: {out}{err}");
        assert!(!out.contains("OK"), "{cmd:?}: {out}");
        assert!(
            err.contains("table name 'bad name;' is not allowed"),
            "{cmd:?}: {err}"
        );
    }
}

#[test]
fn an_ambiguous_relative_walk_names_the_fork_and_the_targets_that_work() {
    let dir = project(&[
        ("a.yaml", &rev("a1", "null", "a")),
        ("b.yaml", &rev("b1", "a1", "b")),
        ("c.yaml", &rev("c1", "a1", "c")),
        (
            "m.yaml",
            "revision: m1\ndown_revision: [b1, c1]\nmessage: m\n",
        ),
    ]);
    let (code, _, err) = run(dir.path(), &["show", "head-2"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        err,
        "error: Ambiguous walk: below m1 has 2 parents (b1, c1)\n\
         hint: a relative step can't choose a parent for you; name the branch instead: `b1-1` or `c1-1`\n"
    );
    // The suggested target works.
    let (code, out, err) = run(dir.path(), &["show", "b1-1"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Rev: a1"), "{out}");
}
