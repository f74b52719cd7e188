//! Revision files read at a git ref straight from git objects (`migrate::git`'s
//! `GitRepo::revisions_at`), for YAML and Alembic projects, with the loader's rules.

use migrate::files::alembic::VersionLocations;
use migrate::files::source::Source;
use migrate::git::{GitRepo, RefOptions, RefRevisions};

use super::git_fixture::{day, revision_yaml, GitFixture, ADA, GRACE};

fn ids(r: &RefRevisions) -> Vec<String> {
    r.revisions.iter().map(|r| r.id.to_string()).collect()
}

fn at(fx: &GitFixture, source: &Source, refname: &str, reuse: bool) -> RefRevisions {
    let repo = GitRepo::discover(source.primary_dir()).expect("a repository");
    let worktree = source.load().expect("loads");
    let options = RefOptions {
        reuse: reuse.then_some(worktree.revisions.as_slice()),
        blobs: &worktree.blobs,
    };
    let _ = fx;
    repo.revisions_at(refname, source, options)
        .expect("reads the ref")
}

#[test]
fn a_branch_is_read_without_checking_it_out() {
    let fx = GitFixture::new();
    fx.add_revision("a1", None, "first");
    fx.write("revisions/models.yaml", "tables: {}\n");
    fx.write(
        "revisions/sub/b2_nested.yaml",
        &revision_yaml("b2", Some("a1"), "nested"),
    );
    fx.write("revisions/.hidden.yaml", "not: a revision\n");
    fx.write("revisions/notes.txt", "not a revision\n");
    fx.commit(ADA, day(0, 9), "base");
    fx.branch("feature");
    fx.checkout("feature");
    fx.add_revision("f3", Some("b2"), "feature");
    fx.commit(GRACE, day(1, 9), "feature");
    fx.checkout("main");
    let source = Source::Yaml(fx.file("revisions"));
    assert!(!fx.file("revisions/f3_feature.yaml").exists());

    let r = at(&fx, &source, "feature", false);
    assert_eq!(ids(&r), ["a1", "f3", "b2"], "files, then subdirectories");
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    assert_eq!(r.commit.author_name, "Grace Hopper");
    assert_eq!(
        r.files
            .iter()
            .map(|f| f.repo_path.as_str())
            .collect::<Vec<_>>(),
        [
            "revisions/a1_first.yaml",
            "revisions/f3_feature.yaml",
            "revisions/sub/b2_nested.yaml"
        ]
    );
    // Paths are the loader's: the same file on both sides has the same path.
    assert_eq!(
        r.revisions[0].origin.path.as_deref(),
        Some(fx.file("revisions/a1_first.yaml").as_path())
    );
    assert_eq!(r.revisions[0].origin.revision_line, Some(1));
    let wt = source.load().expect("loads");
    assert_eq!(
        wt.revisions[0], r.revisions[0],
        "parsed as the loader parses"
    );

    let main = at(&fx, &source, "main", false);
    assert_eq!(ids(&main), ["a1", "b2"]);

    let err = GitRepo::discover(&fx.file("revisions"))
        .expect("repo")
        .revisions_at("no-such-branch", &source, RefOptions::default())
        .expect_err("unknown ref");
    assert!(err.to_string().contains("no-such-branch"), "{err}");
}

#[test]
fn reuse_takes_unchanged_files_from_the_working_tree_and_names_the_changed_ones() {
    let fx = GitFixture::new();
    fx.add_revision("a1", None, "first");
    fx.add_revision("a2", Some("a1"), "second");
    fx.commit(ADA, day(0, 9), "base");
    // Working tree: a2 edited, a3 new and untracked, a1 as committed.
    fx.write(
        "revisions/a2_second.yaml",
        &revision_yaml("a2", Some("a1"), "second, edited"),
    );
    fx.add_revision("a3", Some("a2"), "third");
    let source = Source::Yaml(fx.file("revisions"));

    let plain = at(&fx, &source, "main", false);
    let reused = at(&fx, &source, "main", true);
    assert_eq!(plain.revisions, reused.revisions, "same result either way");
    assert_eq!(reused.revisions[1].message, "second");
    assert!(plain.worktree_changed.is_none());
    let mut changed: Vec<String> = reused
        .worktree_changed
        .clone()
        .expect("computed")
        .into_iter()
        .collect();
    changed.sort();
    assert_eq!(
        changed,
        ["revisions/a2_second.yaml", "revisions/a3_third.yaml"]
    );

    // The loader's blob ids are git's: without them (the files hashed instead) the
    // answer is the same, and a staged edit counts as the content it has.
    let worktree = source.load().expect("loads");
    let repo = GitRepo::discover(source.primary_dir()).expect("a repository");
    for (r, b) in worktree.revisions.iter().zip(&worktree.blobs) {
        let path = r.origin.path.as_deref().expect("a path");
        assert_eq!(
            b.map(|b| b.to_hex()),
            repo.worktree_blob(path),
            "{}",
            path.display()
        );
    }
    let hashed = repo
        .revisions_at(
            "main",
            &source,
            RefOptions {
                reuse: Some(&worktree.revisions),
                blobs: &[],
            },
        )
        .expect("reads the ref");
    assert_eq!(hashed.revisions, reused.revisions);
    assert_eq!(hashed.worktree_changed, reused.worktree_changed);
}

#[test]
fn links_oversized_and_broken_files_at_the_ref_are_problems_naming_them() {
    let fx = GitFixture::new();
    fx.add_revision("a1", None, "first");
    std::os::unix::fs::symlink("/etc/passwd", fx.file("revisions/evil.yaml")).expect("symlink");
    fx.write("revisions/big.yaml", &"x".repeat(5 << 20));
    fx.write("revisions/bad.yaml", "revision: [unclosed\n");
    fx.commit(ADA, day(0, 9), "hostile");
    let source = Source::Yaml(fx.file("revisions"));
    let repo = GitRepo::discover(&fx.file("revisions")).expect("repo");
    let r = repo
        .revisions_at("HEAD", &source, RefOptions::default())
        .expect("reads");
    assert_eq!(ids(&r), ["a1"]);
    let text: Vec<String> = r.problems.iter().map(ToString::to_string).collect();
    assert_eq!(text.len(), 3, "{text:?}");
    let find = |name: &str| {
        text.iter()
            .find(|t| t.contains(name))
            .unwrap_or_else(|| panic!("no problem for {name}: {text:?}"))
            .clone()
    };
    assert!(find("evil.yaml").contains("symbolic link"));
    assert!(
        !find("evil.yaml").contains("root:"),
        "the link is not followed"
    );
    assert!(find("big.yaml").contains("larger than 4 MiB"));
    assert!(find("bad.yaml:").contains("(at HEAD)"));
}

#[test]
fn an_alembic_projects_version_locations_are_read_at_a_ref() {
    let fx = GitFixture::new();
    let module = |rev: &str, down: &str| {
        format!(
            "\"\"\"{rev}\n\nRevision ID: {rev}\nRevises: {down}\n\"\"\"\nfrom alembic import op\n\nrevision = '{rev}'\ndown_revision = {}\nbranch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n",
            if down.is_empty() { "None".to_owned() } else { format!("'{down}'") }
        )
    };
    fx.write("migrations/versions/0001_a.py", &module("0001", ""));
    fx.write("migrations/versions/__init__.py", "");
    fx.write("migrations/versions/sub/0003_c.py", &module("0003", "0002"));
    fx.write("other/0002_b.py", &module("0002", "0001"));
    fx.commit(ADA, day(0, 9), "alembic");
    std::fs::remove_file(fx.file("other/0002_b.py")).expect("rm");
    let locations = |recursive| VersionLocations {
        dirs: vec![fx.file("migrations/versions"), fx.file("other")],
        recursive,
    };
    let source = Source::Alembic(locations(false));
    let r = at(&fx, &source, "HEAD", true);
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    assert_eq!(ids(&r), ["0001", "0002"]);
    assert_eq!(r.revisions[1].origin.path, Some(fx.file("other/0002_b.py")));
    let changed = r.worktree_changed.expect("computed");
    assert!(changed.contains("other/0002_b.py"), "{changed:?}");
    let r = at(&fx, &Source::Alembic(locations(true)), "HEAD", false);
    assert_eq!(ids(&r), ["0001", "0003", "0002"]);
}
