//! `migrate audit --applied`: who wrote each revision joined with who applied it where.

use serde_json::json;

use super::git_fixture::{day, GitFixture};
use super::support::{json, run};

#[test]
fn applied_steps_join_authorship_and_flag_uncommitted_revisions() {
    let fx = GitFixture::new();
    fx.add_revision("aaaa0001", None, "create users");
    fx.stage_all();
    let commit = fx.commit(
        ("Grace Hopper", "grace@example.com"),
        day(1, 9),
        "add users",
    );
    // Written but never committed.
    fx.add_revision("bbbb0001", Some("aaaa0001"), "add roles");

    let (code, _, err) = run(fx.path(), &["upgrade", "head"]);
    assert_eq!(code, 0, "{err}");
    let (code, v) = json(fx.path(), &["audit", "--applied"]);
    assert_eq!(code, 0);
    let rows = v.as_array().expect("rows");
    assert_eq!(rows.len(), 2, "{v}");
    // Newest step first.
    assert_eq!(rows[0]["revision"], json!("bbbb0001"));
    assert_eq!(rows[0]["on_main_line"], json!(false));
    assert_eq!(rows[0]["status"], json!("uncommitted"));
    assert_eq!(rows[1]["revision"], json!("aaaa0001"));
    assert_eq!(rows[1]["author_name"], json!("Grace Hopper"));
    assert_eq!(rows[1]["commit"], json!(commit.to_string()));
    assert_eq!(rows[1]["on_main_line"], json!(true));
    for r in rows {
        assert_eq!(r["direction"], json!("upgrade"));
        assert_eq!(r["success"], json!(true));
        assert_eq!(r["database"], json!("sqlite://app.db"));
        // Applied from the checked-out commit, by someone.
        assert_eq!(r["applied_from_commit"], json!(commit.to_string()));
        assert!(
            r["applied_by"].as_str().is_some_and(|s| s.contains('@')),
            "{r}"
        );
    }

    // A filter keeps only the matching revisions' steps.
    let (_, v) = json(fx.path(), &["audit", "--applied", "--author", "Grace"]);
    assert_eq!(v.as_array().map(Vec::len), Some(1), "{v}");

    let (code, out, _) = run(fx.path(), &["audit", "--applied"]);
    assert_eq!(code, 0);
    assert!(out.contains("[not committed on this branch]"), "{out}");
    assert!(out.contains("written by Grace Hopper"), "{out}");
    let (code, out, _) = run(fx.path(), &["audit", "--applied", "--format", "csv"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("revision,message,author_name"), "{out}");
}
