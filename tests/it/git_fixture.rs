//! Real git repositories for the authorship tests, built with git2 in temp dirs, with
//! fixed authors and dates (no global or system git configuration is read).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use git2::{Oid, Repository, Signature, Time};

pub const ADA: (&str, &str) = ("Ada Lovelace", "ada@example.com");
pub const GRACE: (&str, &str) = ("Grace Hopper", "grace@example.com");
pub const ALAN: (&str, &str) = ("Alan Turing", "alan@example.com");

/// 2026-01-01T00:00:00Z plus `days` days and `hours` hours.
pub fn day(days: i64, hours: i64) -> i64 {
    1_767_225_600 + days * 86_400 + hours * 3_600
}

/// A revision file's YAML.
pub fn revision_yaml(id: &str, down: Option<&str>, message: &str) -> String {
    format!(
        "revision: {id}\ndown_revision: {}\nmessage: {message}\nupgrade: |\n  CREATE TABLE t_{id} (id INTEGER PRIMARY KEY);\ndowngrade: |\n  DROP TABLE t_{id};\n",
        down.unwrap_or("null")
    )
}

pub struct GitFixture {
    pub dir: tempfile::TempDir,
    pub repo: Repository,
}

impl GitFixture {
    /// An empty repository on branch `main`, with a `revisions` directory.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temp dir");
        let mut opts = git2::RepositoryInitOptions::new();
        opts.initial_head("main");
        let repo = Repository::init_opts(dir.path(), &opts).expect("git init");
        std::fs::create_dir_all(dir.path().join("revisions")).expect("mkdir revisions");
        Self { dir, repo }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn file(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.file(rel);
        std::fs::create_dir_all(p.parent().expect("a parent")).expect("mkdir");
        std::fs::write(p, text).expect("write file");
    }

    /// Writes `revisions/<id>_<slug>.yaml`; returns its path relative to the repository.
    pub fn add_revision(&self, id: &str, down: Option<&str>, message: &str) -> String {
        let rel = format!("revisions/{id}_{}.yaml", message.replace(' ', "_"));
        self.write(&rel, &revision_yaml(id, down, message));
        rel
    }

    pub fn rename(&self, from: &str, to: &str) {
        let to_path = self.file(to);
        std::fs::create_dir_all(to_path.parent().expect("a parent")).expect("mkdir");
        std::fs::rename(self.file(from), to_path).expect("rename");
    }

    /// Stages everything in the working tree (adds, changes and deletions).
    pub fn stage_all(&self) {
        let mut index = self.repo.index().expect("index");
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .expect("add -A");
        index.update_all(["*"], None).expect("update -A");
        index.write().expect("write index");
    }

    /// Commits the whole working tree on HEAD, with `extra_parents` for a merge.
    pub fn commit_with(
        &self,
        who: (&str, &str),
        at: i64,
        message: &str,
        extra_parents: &[Oid],
    ) -> Oid {
        self.stage_all();
        let mut index = self.repo.index().expect("index");
        let tree_id = index.write_tree().expect("write tree");
        let tree = self.repo.find_tree(tree_id).expect("tree");
        let sig = Signature::new(who.0, who.1, &Time::new(at, 0)).expect("signature");
        let mut parents = Vec::new();
        if let Ok(head) = self.repo.head() {
            parents.push(head.peel_to_commit().expect("HEAD commit"));
        }
        for p in extra_parents {
            parents.push(self.repo.find_commit(*p).expect("parent"));
        }
        let refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
        self.repo
            .commit(Some("HEAD"), &sig, &sig, message, &tree, &refs)
            .expect("commit")
    }

    pub fn commit(&self, who: (&str, &str), at: i64, message: &str) -> Oid {
        self.commit_with(who, at, message, &[])
    }

    /// Creates branch `name` at HEAD.
    pub fn branch(&self, name: &str) {
        let head = self
            .repo
            .head()
            .expect("HEAD")
            .peel_to_commit()
            .expect("commit");
        self.repo.branch(name, &head, false).expect("branch");
    }

    /// Switches the working tree to branch `name` (files of other branches disappear).
    pub fn checkout(&self, name: &str) {
        let refname = format!("refs/heads/{name}");
        let obj = self.repo.revparse_single(&refname).expect("branch exists");
        let mut opts = git2::build::CheckoutBuilder::new();
        opts.force().remove_untracked(true);
        self.repo
            .checkout_tree(&obj, Some(&mut opts))
            .expect("checkout");
        self.repo.set_head(&refname).expect("set HEAD");
    }

    pub fn tip(&self, name: &str) -> Oid {
        self.repo
            .revparse_single(&format!("refs/heads/{name}"))
            .expect("branch exists")
            .id()
    }

    /// Points the current branch at `commit`, resetting the working tree (history rewrite).
    pub fn reset_hard(&self, commit: Oid) {
        let obj = self.repo.find_object(commit, None).expect("commit");
        self.repo
            .reset(&obj, git2::ResetType::Hard, None)
            .expect("reset --hard");
    }
}

/// `git` with a hermetic configuration, for what git2 can't do (a shallow clone).
pub fn git_cli(dir: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new("git");
    cmd.current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com");
    cmd
}
