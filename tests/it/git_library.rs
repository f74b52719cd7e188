//! The git adapter as a library: the incremental cache, and finding a revision whose
//! file is not in this checkout (applied from a branch that is no longer checked out).

use migrate::git::{Authorship, FileStatus, GitRepo, LoadOptions};

use super::git_fixture::{day, GitFixture, ADA, ALAN, GRACE};

fn cache_files(fx: &GitFixture) -> Vec<std::path::PathBuf> {
    match std::fs::read_dir(fx.file(".git/migrate")) {
        Ok(rd) => rd.flatten().map(|e| e.path()).collect(),
        Err(_) => Vec::new(),
    }
}

fn added_by(a: &Authorship, rel: &str) -> Option<(String, String)> {
    a.for_repo_path(rel).added.map(|c| (c.author_name, c.id))
}

#[test]
fn the_cache_is_used_extended_and_rebuilt_after_a_rewrite() {
    let fx = GitFixture::new();
    let r1 = fx.add_revision("r1", None, "first");
    let c1 = fx.commit(ADA, day(0, 9), "Add r1");
    let revisions = fx.file("revisions");

    let a = Authorship::load(&revisions);
    assert!(a.warnings.is_empty(), "{:?}", a.warnings);
    assert_eq!(
        added_by(&a, &r1),
        Some(("Ada Lovelace".into(), c1.to_string()))
    );
    let files = cache_files(&fx);
    assert_eq!(files.len(), 1, "one cache file: {files:?}");
    let cached = std::fs::read_to_string(&files[0]).expect("read cache");
    assert!(cached.contains(&format!("\"commit\":\"{c1}\"")), "{cached}");

    // New commits on top: the cache is extended.
    let r2 = fx.add_revision("r2", Some("r1"), "second");
    let c2 = fx.commit(GRACE, day(1, 9), "Add r2");
    let a = Authorship::load(&revisions);
    assert_eq!(
        added_by(&a, &r1),
        Some(("Ada Lovelace".into(), c1.to_string()))
    );
    assert_eq!(
        added_by(&a, &r2),
        Some(("Grace Hopper".into(), c2.to_string()))
    );
    let cached = std::fs::read_to_string(&files[0]).expect("read cache");
    assert!(cached.contains(&format!("\"commit\":\"{c2}\"")));

    // History rewritten: r2 is dropped, r3 committed in its place by someone else.
    fx.reset_hard(c1);
    let r3 = fx.add_revision("r3", Some("r1"), "third");
    let c3 = fx.commit(ALAN, day(2, 9), "Add r3");
    let a = Authorship::load(&revisions);
    assert_eq!(added_by(&a, &r2), None);
    assert_eq!(
        added_by(&a, &r3),
        Some(("Alan Turing".into(), c3.to_string()))
    );
    assert_eq!(a.committed_paths(), vec![r1.as_str(), r3.as_str()]);

    // Without the cache the answer is the same.
    let fresh = Authorship::load_with(&revisions, LoadOptions { use_cache: false });
    assert_eq!(fresh.for_repo_path(&r3), a.for_repo_path(&r3));
    assert_eq!(fresh.for_repo_path(&r1), a.for_repo_path(&r1));
}

#[test]
fn a_corrupt_or_unwritable_cache_is_a_warning_not_an_error() {
    let fx = GitFixture::new();
    let r1 = fx.add_revision("r1", None, "first");
    let c1 = fx.commit(ADA, day(0, 9), "Add r1");
    let revisions = fx.file("revisions");
    Authorship::load(&revisions);
    let file = cache_files(&fx).pop().expect("a cache file");
    std::fs::write(&file, "{ not json").expect("corrupt it");

    let a = Authorship::load(&revisions);
    assert_eq!(
        added_by(&a, &r1),
        Some(("Ada Lovelace".into(), c1.to_string()))
    );
    assert_eq!(a.warnings.len(), 1, "{:?}", a.warnings);
    assert!(
        a.warnings[0].starts_with(&format!(
            "warning: authorship cache {} is unreadable",
            file.display()
        )),
        "{}",
        a.warnings[0]
    );

    // The cache directory can't be created: a file stands in its way.
    std::fs::remove_dir_all(fx.file(".git/migrate")).expect("remove cache dir");
    std::fs::write(fx.file(".git/migrate"), "").expect("block it");
    let a = Authorship::load(&revisions);
    assert_eq!(
        added_by(&a, &r1),
        Some(("Ada Lovelace".into(), c1.to_string()))
    );
    assert_eq!(a.warnings.len(), 1, "{:?}", a.warnings);
    assert!(
        a.warnings[0].starts_with("warning: could not"),
        "{}",
        a.warnings[0]
    );
}

#[test]
fn a_revision_applied_from_a_branch_no_longer_checked_out_is_found_there() {
    let fx = GitFixture::new();
    fx.add_revision("r1", None, "first");
    fx.commit(ADA, day(0, 9), "Add r1");
    fx.branch("feature");
    fx.checkout("feature");
    let path = fx.add_revision("feat1", Some("r1"), "add api keys");
    let added = fx.commit(GRACE, day(1, 9), "API keys");
    fx.checkout("main");
    assert!(!fx.file(&path).exists(), "the file is not in this checkout");

    let repo = GitRepo::discover(&fx.file("revisions")).expect("a repository");
    let found = repo
        .find_revision("feat1")
        .expect("search works")
        .expect("found on a branch");
    assert_eq!(found.branch, "feature");
    assert_eq!(found.commit, added.to_string());
    assert_eq!(found.path, path);
    assert!(found.at_branch_tip);
    let author = found.added.expect("the adding commit");
    assert_eq!(author.author_name, "Grace Hopper");
    assert_eq!(author.id, added.to_string());
    assert!(
        found.contents.contains("DROP TABLE t_feat1;"),
        "{}",
        found.contents
    );

    assert!(repo
        .find_revision("nosuch")
        .expect("search works")
        .is_none());

    let branches = repo
        .branches_containing(&added.to_string())
        .expect("branches");
    assert_eq!(branches.len(), 1);
    assert_eq!(branches[0].name, "feature");
    assert!(branches[0].points_at);
}

#[test]
fn a_revision_deleted_from_every_branch_tip_is_found_in_history() {
    let fx = GitFixture::new();
    fx.add_revision("r1", None, "first");
    fx.commit(ADA, day(0, 9), "Add r1");
    fx.branch("experiment");
    fx.checkout("experiment");
    // Named unlike the tool names files, so only its content says which revision it is.
    fx.write(
        "revisions/tmp/scratch.yml",
        &super::git_fixture::revision_yaml("exp1", Some("r1"), "try"),
    );
    let added = fx.commit(ALAN, day(1, 9), "Try something");
    std::fs::remove_file(fx.file("revisions/tmp/scratch.yml")).expect("rm");
    fx.commit(ALAN, day(2, 9), "Drop the experiment");
    fx.checkout("main");

    let repo = GitRepo::discover(&fx.file("revisions")).expect("a repository");
    let found = repo
        .find_revision("exp1")
        .expect("search works")
        .expect("found in history");
    assert_eq!(found.branch, "experiment");
    assert_eq!(found.commit, added.to_string());
    assert_eq!(found.path, "revisions/tmp/scratch.yml");
    assert!(!found.at_branch_tip);
    assert_eq!(
        found.added.expect("adding commit").author_name,
        "Alan Turing"
    );
}

#[test]
fn a_staged_rename_keeps_its_authorship_and_is_modified() {
    let fx = GitFixture::new();
    let r1 = fx.add_revision("r1", None, "first");
    let c1 = fx.commit(ADA, day(0, 9), "Add r1");
    fx.rename(&r1, "revisions/old/r1_first.yaml");
    fx.stage_all();
    let a = Authorship::load(&fx.file("revisions"));
    let f = a.for_file(&fx.file("revisions/old/r1_first.yaml"));
    assert_eq!(f.status, FileStatus::Modified);
    assert_eq!(f.added.map(|c| c.id), Some(c1.to_string()));
}

/// Seventy commits (enough for the parallel pass) over nested directories, then an
/// edited move (which needs similarity detection), a delete and a change.
#[test]
fn a_long_history_with_nested_dirs_edited_moves_and_deletes() {
    let fx = GitFixture::new();
    let revisions = fx.file("revisions");
    let who = [ADA, GRACE, ALAN];
    let mut commits = Vec::new();
    let path = |i: usize| format!("revisions/batch{}/r{i}.yaml", i % 3);
    let yaml = |i: usize| {
        super::git_fixture::revision_yaml(
            &format!("r{i}"),
            None,
            &format!("revision {i} with a longer message"),
        )
    };
    for i in 0..70 {
        fx.write(&path(i), &yaml(i));
        commits.push(fx.commit(who[i % 3], day(0, i as i64), &format!("Add r{i}")));
        if i == 40 {
            // A cache written part-way, to be extended by the rest.
            Authorship::load(&revisions);
        }
    }
    fx.rename(&path(5), "revisions/archive/r5.yaml");
    fx.write("revisions/archive/r5.yaml", &(yaml(5) + "# archived\n"));
    let moved = fx.commit(GRACE, day(5, 0), "Archive r5");
    std::fs::remove_file(fx.file(&path(6))).expect("rm");
    fx.commit(ALAN, day(5, 1), "Drop r6");
    fx.write(&path(7), &(yaml(7) + "# changed\n"));
    let changed = fx.commit(ADA, day(5, 2), "Change r7");

    let fresh = Authorship::load_with(&revisions, LoadOptions { use_cache: false });
    let r5 = fresh.for_repo_path("revisions/archive/r5.yaml");
    assert_eq!(
        r5.added.as_ref().map(|c| c.id.clone()),
        Some(commits[5].to_string())
    );
    assert_eq!(
        r5.last_changed.as_ref().map(|c| c.id.clone()),
        Some(moved.to_string())
    );
    assert_eq!(fresh.for_repo_path(&path(6)).added, None);
    let r7 = fresh.for_repo_path(&path(7));
    assert_eq!(r7.added.map(|c| c.id), Some(commits[7].to_string()));
    assert_eq!(r7.last_changed.map(|c| c.id), Some(changed.to_string()));
    let r69 = fresh.for_repo_path(&path(69));
    assert_eq!(
        r69.added.as_ref().map(|c| c.author_name.as_str()),
        Some("Ada Lovelace")
    );
    assert_eq!(fresh.committed_paths().len(), 69);

    // The cache extended from commit 40 gives exactly the same answers.
    let cached = Authorship::load(&revisions);
    assert!(cached.warnings.is_empty(), "{:?}", cached.warnings);
    assert_eq!(cached.committed_paths(), fresh.committed_paths());
    for p in fresh.committed_paths() {
        assert_eq!(cached.for_repo_path(p), fresh.for_repo_path(p), "{p}");
    }
}
