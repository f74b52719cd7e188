//! Authorship from real git repositories: `blame`, `audit`, `heads --verbose`,
//! `check` and `merge` through the binary, and the library's cache.

use serde_json::Value;

use super::git_fixture::{day, git_cli, GitFixture, ADA, ALAN, GRACE};
use super::support::migrate;

fn blame_json(dir: &std::path::Path, args: &[&str]) -> Vec<Value> {
    let out = migrate(dir)
        .args(["blame", "--format", "json"])
        .args(args)
        .output()
        .expect("migrate runs");
    assert!(
        out.status.success(),
        "blame failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    v.as_array().expect("an array").clone()
}

fn row<'a>(rows: &'a [Value], rev: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["revision"] == rev)
        .unwrap_or_else(|| panic!("no row for {rev} in {rows:?}"))
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// ```text
/// main:    c0 (Ada: base) ── c2 (Alan: mainrev) ── c3 merge (Ada)
///              \                                  /
/// feature:      c1 (Grace: featrev) ─────────────
/// ```
/// The graph then has two heads, `featrev` and `mainrev`, both children of `base0`.
struct TwoHeads {
    fx: GitFixture,
    c0: git2::Oid,
    c1: git2::Oid,
    c2: git2::Oid,
    c3: git2::Oid,
}

fn two_heads() -> TwoHeads {
    let fx = GitFixture::new();
    fx.add_revision("base0", None, "create users");
    let c0 = fx.commit(ADA, day(0, 10), "Add users table");
    fx.branch("feature");
    fx.checkout("feature");
    fx.add_revision("featrev", Some("base0"), "add api keys");
    let c1 = fx.commit(GRACE, day(1, 10), "API keys");
    fx.checkout("main");
    fx.add_revision("mainrev", Some("base0"), "add profiles");
    let c2 = fx.commit(ALAN, day(2, 10), "Profiles");
    fx.add_revision("featrev", Some("base0"), "add api keys");
    let c3 = fx.commit_with(ADA, day(3, 10), "Merge branch 'feature'", &[c1]);
    TwoHeads { fx, c0, c1, c2, c3 }
}

#[test]
fn blame_credits_each_branch_author_not_the_merge_commit() {
    let t = two_heads();
    let rows = blame_json(t.fx.path(), &[]);
    let revs: Vec<&str> = rows
        .iter()
        .map(|r| r["revision"].as_str().expect("id"))
        .collect();
    assert_eq!(revs, ["mainrev", "featrev", "base0"], "newest first");

    let f = row(&rows, "featrev");
    assert_eq!(f["author_name"], "Grace Hopper");
    assert_eq!(f["author_email"], "grace@example.com");
    assert_eq!(f["authored_at"], "2026-01-02T10:00:00+00:00");
    assert_eq!(f["commit"], t.c1.to_string());
    assert_eq!(f["summary"], "API keys");
    assert_eq!(f["last_commit"], t.c1.to_string());
    assert_eq!(f["last_author_name"], "Grace Hopper");
    assert_eq!(f["last_authored_at"], "2026-01-02T10:00:00+00:00");
    assert_eq!(f["status"], "committed");
    assert_eq!(f["path"], "revisions/featrev_add_api_keys.yaml");

    let m = row(&rows, "mainrev");
    assert_eq!(m["author_name"], "Alan Turing");
    assert_eq!(m["commit"], t.c2.to_string());
    let b = row(&rows, "base0");
    assert_eq!(b["author_name"], "Ada Lovelace");
    assert_eq!(b["commit"], t.c0.to_string());
    assert_ne!(b["commit"], t.c3.to_string());

    // The JSON keys are a contract (serde_json's map lists them sorted).
    let keys: Vec<&String> = f.as_object().expect("object").keys().collect();
    assert_eq!(
        keys,
        [
            "author_email",
            "author_name",
            "authored_at",
            "commit",
            "last_author_name",
            "last_authored_at",
            "last_commit",
            "path",
            "revision",
            "status",
            "summary"
        ]
    );
}

#[test]
fn blame_text_and_csv_show_one_line_per_revision() {
    let t = two_heads();
    let out = migrate(t.fx.path())
        .args(["blame", "featrev", "base0"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr(&out));
    let c1 = &t.c1.to_string()[..12];
    let c0 = &t.c0.to_string()[..12];
    assert_eq!(
        stdout(&out),
        format!(
            "featrev  add api keys  Grace Hopper <grace@example.com>  2026-01-02  {c1}\n\
             base0    create users  Ada Lovelace <ada@example.com>    2026-01-01  {c0}\n"
        )
    );
    let out = migrate(t.fx.path())
        .args(["blame", "base0", "--format", "csv"])
        .output()
        .expect("runs");
    let c0 = t.c0.to_string();
    assert_eq!(
        stdout(&out),
        format!(
            "revision,path,author_name,author_email,authored_at,commit,summary,last_commit,last_author_name,last_authored_at,status\n\
             base0,revisions/base0_create_users.yaml,Ada Lovelace,ada@example.com,2026-01-01T10:00:00+00:00,{c0},Add users table,{c0},Ada Lovelace,2026-01-01T10:00:00+00:00,committed\n"
        )
    );
}

#[test]
fn heads_verbose_and_check_say_who_wrote_each_head_and_where() {
    let t = two_heads();
    let out = migrate(t.fx.path())
        .args(["heads", "--verbose"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let c1 = &t.c1.to_string()[..12];
    let c2 = &t.c2.to_string()[..12];
    assert!(
        text.contains(&format!(
            "Author: by Grace Hopper <grace@example.com> on 2026-01-02, commit {c1} (branches feature, main)\n"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "Author: by Alan Turing <alan@example.com> on 2026-01-03, commit {c2} (branch main)\n"
        )),
        "{text}"
    );

    let out = migrate(t.fx.path())
        .args(["heads", "--verbose", "--format", "json"])
        .output()
        .expect("runs");
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let feat = v
        .as_array()
        .expect("array")
        .iter()
        .find(|h| h["revision"] == "featrev")
        .expect("featrev is a head");
    assert_eq!(feat["origin"]["author_name"], "Grace Hopper");
    assert_eq!(feat["origin"]["branches"][0]["name"], "feature");
    assert_eq!(feat["origin"]["branches"][0]["points_at"], true);

    let out = migrate(t.fx.path()).arg("check").output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "  head featrev: by Grace Hopper <grace@example.com> on 2026-01-02, commit {c1} (branches feature, main)\n"
        )),
        "{text}"
    );
    assert!(text.contains("  head mainrev: by Alan Turing"), "{text}");
}

#[test]
fn merge_names_the_merged_heads_and_their_authors() {
    let t = two_heads();
    let out = migrate(t.fx.path())
        .args(["merge", "--rev-id", "joined"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr(&out));
    let file = std::fs::read_dir(t.fx.file("revisions"))
        .expect("dir")
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("joined"))
        .expect("the merge revision file");
    let text = std::fs::read_to_string(file.path()).expect("read");
    let msg_ok = text.contains("message: merge featrev (Grace Hopper) and mainrev (Alan Turing)")
        || text.contains("message: merge mainrev (Alan Turing) and featrev (Grace Hopper)");
    assert!(msg_ok, "{text}");
}

#[test]
fn a_moved_file_keeps_its_author_and_records_the_move() {
    let fx = GitFixture::new();
    let old = fx.add_revision("r1", None, "first");
    let add = fx.commit(ADA, day(0, 9), "Add r1");
    fx.add_revision("r2", Some("r1"), "second");
    fx.commit(ALAN, day(1, 9), "Add r2");
    fx.rename(&old, "revisions/archive/r1_first.yaml");
    let mv = fx.commit(GRACE, day(2, 9), "Archive old revisions");
    let rows = blame_json(fx.path(), &["r1"]);
    let r = &rows[0];
    assert_eq!(r["path"], "revisions/archive/r1_first.yaml");
    assert_eq!(r["author_name"], "Ada Lovelace");
    assert_eq!(r["commit"], add.to_string());
    assert_eq!(r["last_commit"], mv.to_string());
    assert_eq!(r["last_author_name"], "Grace Hopper");
    assert_eq!(r["status"], "committed");
}

#[test]
fn mailmap_maps_old_identities_to_the_real_author() {
    let fx = GitFixture::new();
    fx.add_revision("r1", None, "first");
    fx.commit(("ada", "ada@old-laptop.local"), day(0, 9), "Add r1");
    fx.write(
        ".mailmap",
        "Ada Lovelace <ada@example.com> ada <ada@old-laptop.local>\n",
    );
    fx.commit(GRACE, day(1, 9), "Add mailmap");
    let rows = blame_json(fx.path(), &[]);
    assert_eq!(rows[0]["author_name"], "Ada Lovelace");
    assert_eq!(rows[0]["author_email"], "ada@example.com");
}

#[test]
fn modified_and_uncommitted_revisions_are_flagged() {
    let fx = GitFixture::new();
    let r1 = fx.add_revision("r1", None, "first");
    let c = fx.commit(ADA, day(0, 9), "Add r1");
    fx.write(
        &r1,
        &super::git_fixture::revision_yaml("r1", None, "first, reworded"),
    );
    fx.add_revision("r2", Some("r1"), "second");
    let rows = blame_json(fx.path(), &[]);
    let r1 = row(&rows, "r1");
    assert_eq!(r1["status"], "modified");
    assert_eq!(r1["commit"], c.to_string());
    let r2 = row(&rows, "r2");
    assert_eq!(r2["status"], "uncommitted");
    assert_eq!(r2["author_name"], Value::Null);
    assert_eq!(r2["commit"], Value::Null);
    assert_eq!(rows[0]["revision"], "r2", "never committed sorts first");

    let out = migrate(fx.path()).arg("blame").output().expect("runs");
    let short = &c.to_string()[..12];
    assert_eq!(
        stdout(&out),
        format!(
            "r2  second           -                               -           uncommitted\n\
             r1  first, reworded  Ada Lovelace <ada@example.com>  2026-01-01  {short} (modified)\n"
        )
    );
}

#[test]
fn a_shallow_clone_says_where_history_stops() {
    let fx = GitFixture::new();
    fx.add_revision("r1", None, "first");
    fx.commit(ADA, day(0, 9), "Add r1");
    fx.add_revision("r2", Some("r1"), "second");
    let graft = fx.commit(GRACE, day(1, 9), "Add r2");
    fx.add_revision("r3", Some("r2"), "third");
    let c3 = fx.commit(ALAN, day(2, 9), "Add r3");

    let parent = tempfile::tempdir().expect("temp dir");
    let url = format!("file://{}", fx.path().display());
    let status = git_cli(parent.path())
        .args(["clone", "-q", "--depth", "2", &url, "clone"])
        .status()
        .expect("git clone runs");
    assert!(status.success());
    let clone = parent.path().join("clone");

    let out = migrate(&clone)
        .args(["blame", "--format", "json"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr(&out));
    let rows: Vec<Value> = serde_json::from_slice::<Value>(&out.stdout)
        .expect("JSON")
        .as_array()
        .expect("array")
        .clone();
    assert_eq!(row(&rows, "r3")["commit"], c3.to_string());
    assert_eq!(row(&rows, "r2")["commit"], graft.to_string());
    // r1 is older than the clone's history: the graft is all we can see.
    assert_eq!(row(&rows, "r1")["commit"], graft.to_string());
    assert_eq!(
        stderr(&out),
        format!(
            "note: shallow clone: history stops at commit {}; authors of revisions added there may be older\n",
            &graft.to_string()[..12]
        )
    );
    let out = migrate(&clone)
        .args(["blame", "r1"])
        .output()
        .expect("runs");
    assert!(stdout(&out).ends_with(&format!(
        "{} (shallow clone: may be older)\n",
        &graft.to_string()[..12]
    )));
}

#[test]
fn without_a_repository_authorship_is_unknown_and_commands_work() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("revisions")).expect("mkdir");
    std::fs::write(
        dir.path().join("revisions/r1_first.yaml"),
        super::git_fixture::revision_yaml("r1", None, "first"),
    )
    .expect("write");
    let rows = blame_json(dir.path(), &[]);
    assert_eq!(rows[0]["status"], "unknown");
    assert_eq!(rows[0]["author_name"], Value::Null);
    assert_eq!(rows[0]["path"], "revisions/r1_first.yaml");

    let out = migrate(dir.path()).arg("blame").output().expect("runs");
    assert!(out.status.success());
    assert_eq!(
        stdout(&out),
        "r1  first  -  -  unknown (no git repository)\n"
    );
    assert_eq!(stderr(&out), "");

    let out = migrate(dir.path())
        .args(["heads", "--verbose"])
        .output()
        .expect("runs");
    assert!(out.status.success());
    assert!(stdout(&out).contains("Author: author unknown (no git repository)\n"));
    migrate(dir.path()).arg("check").assert().success();
    assert!(!dir.path().join(".git").exists());
}

#[test]
fn audit_filters_by_author_date_label_and_range() {
    let fx = GitFixture::new();
    fx.add_revision("r1", None, "first");
    fx.commit(ADA, day(0, 9), "Add r1");
    fx.add_revision("r2", Some("r1"), "second");
    fx.commit(GRACE, day(1, 9), "Add r2");
    fx.write(
        "revisions/r3_third.yaml",
        "revision: r3\ndown_revision: r1\nbranch_labels: [auth]\nmessage: third\nupgrade: SELECT 1;\n",
    );
    fx.commit(ADA, day(2, 9), "Add r3");
    fx.add_revision("r4", Some("r3"), "fourth");
    fx.commit(ALAN, day(3, 9), "Add r4");
    // r1 ── r2
    //   └── r3 (auth) ── r4

    let ids = |args: &[&str]| -> Vec<String> {
        let out = migrate(fx.path())
            .args(["audit", "--format", "json"])
            .args(args)
            .output()
            .expect("runs");
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        serde_json::from_slice::<Value>(&out.stdout)
            .expect("JSON")
            .as_array()
            .expect("array")
            .iter()
            .map(|r| r["revision"].as_str().expect("id").to_owned())
            .collect()
    };
    assert_eq!(ids(&["--author", "ada"]), ["r3", "r1"]);
    assert_eq!(ids(&["--author", "*@example.com"]).len(), 4);
    assert_eq!(
        ids(&["--since", "2026-01-02", "--until", "2026-01-03"]),
        ["r3", "r2"]
    );
    assert_eq!(ids(&["--branch", "auth"]), ["r4", "r3"]);
    assert_eq!(ids(&["-r", "r3:r4"]), ["r4", "r3"]);
    assert_eq!(
        ids(&["--author", "Grace", "-r", "r3:"]),
        Vec::<String>::new()
    );

    let out = migrate(fx.path())
        .args(["audit", "--since", "last week"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: --since: invalid date 'last week': use YYYY-MM-DD or an RFC 3339 time such as 2026-01-02T10:00:00Z\n"
    );
    let out = migrate(fx.path())
        .args(["audit", "--branch", "nope"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), "error: No such branch: 'nope'\n");
}

/// The database was upgraded on branch `feature`, then `main` was checked out: the
/// revision file is gone from the working tree but git still has it.
#[test]
fn a_revision_applied_from_another_branch_is_explained_and_downgraded_from_git() {
    let fx = GitFixture::new();
    fx.add_revision("r1", None, "first");
    fx.commit(ADA, day(0, 9), "Add r1");
    fx.branch("feature");
    fx.checkout("feature");
    fx.add_revision("feat1", Some("r1"), "add api keys");
    let added = fx.commit(GRACE, day(1, 9), "API keys");
    let dbdir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dbdir.path().join("app.db").display());
    let up = migrate(fx.path())
        .args(["--database-url", &url, "upgrade", "head"])
        .output()
        .expect("runs");
    assert!(up.status.success(), "{}", stderr(&up));
    fx.checkout("main");

    let short = &added.to_string()[..12];
    let out = migrate(fx.path())
        .args(["--database-url", &url, "current"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "feat1 (no revision file)\n");
    assert_eq!(
        stderr(&out),
        format!(
            "warning: 1 applied revision(s) have no file in revisions\n\
             note: revision feat1 is not in this checkout; git has it in commit {short} on branch feature (revisions/feat1_add_api_keys.yaml), added by Grace Hopper <grace@example.com>\n\
             hint: `migrate downgrade <target> --from-git` can run their downgrade SQL from git\n"
        )
    );

    // Without --from-git the downgrade can't plan; with it, the SQL comes from git.
    let out = migrate(fx.path())
        .args(["--database-url", &url, "downgrade", "r1"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let out = migrate(fx.path())
        .args(["--database-url", &url, "downgrade", "r1", "--from-git"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!(
            "revision feat1 is not in this checkout; git has it in commit {short} on branch feature (revisions/feat1_add_api_keys.yaml), added by Grace Hopper <grace@example.com>\n  its downgrade SQL (sqlite):\n    DROP TABLE t_feat1;\n"
        )),
        "{err}"
    );
    let out = migrate(fx.path())
        .args(["--database-url", &url, "current"])
        .output()
        .expect("runs");
    assert_eq!(stdout(&out), "r1 (head), first\n");
}
