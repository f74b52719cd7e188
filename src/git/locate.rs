//! Finding revisions that are not in this checkout, and the branches that hold a commit.
//!
//! A database may hold a revision applied from another branch; after switching
//! branches its file is gone from the working tree, and Alembic or Sqitch stop with
//! "Can't locate revision". The file is usually still in git: at a local branch's tip,
//! or somewhere in its history. Reading it from there lets `current` and `check` say
//! who wrote it and `downgrade --from-git` run its downgrade SQL.

use std::path::Path;

use git2::{BranchType, Delta, Oid, Repository, Sort, Tree, TreeWalkMode, TreeWalkResult};
use serde::Serialize;

use super::{apply_mailmap, join_git, CommitInfo, GitError, GitRepo};

/// A revision file found in git rather than in the working tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FoundRevision {
    pub revision: String,
    /// A local branch whose tip or history holds the file.
    pub branch: String,
    /// The commit the contents were read from.
    pub commit: String,
    /// Repository-relative path of the file in that commit.
    pub path: String,
    /// The commit that added the file on that branch, if it could be found.
    pub added: Option<CommitInfo>,
    /// Whether the file is still present at the branch's tip.
    pub at_branch_tip: bool,
    /// The file's text, as committed.
    #[serde(skip)]
    pub contents: String,
}

/// A local branch related to a commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BranchRef {
    pub name: String,
    /// The branch tip is the commit itself (otherwise the commit is in its history).
    pub points_at: bool,
}

/// Whether `text`, the file `name`, is a revision file declaring revision `id`: a YAML
/// file's `revision:` key, or an Alembic module's `revision = '…'` assignment.
pub(super) fn declares_revision_in(name: &str, text: &str, id: &str) -> bool {
    if !text.contains(id) {
        return false;
    }
    if name.ends_with(".py") {
        return crate::files::alembic::python::read_module(text).is_ok_and(|m| {
            m.get("revision").is_some_and(
                |a| matches!(&a.value.expr, crate::files::alembic::python::Expr::Str(s) if s == id),
            )
        });
    }
    declares_revision(text, id)
}

/// Whether `text` is a YAML revision file declaring `revision: <id>`.
pub(super) fn declares_revision(text: &str, id: &str) -> bool {
    if !text.contains(id) {
        return false;
    }
    let Ok(value) = serde_yaml_ng::from_str::<serde_yaml_ng::Value>(text) else {
        return false;
    };
    value
        .get("revision")
        .and_then(|v| match v {
            serde_yaml_ng::Value::String(s) => Some(s.clone()),
            serde_yaml_ng::Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .is_some_and(|s| s == id)
}

/// A name a revision file of either format may have.
fn is_revision_file(name: &str) -> bool {
    name.ends_with(".yaml")
        || name.ends_with(".yml")
        || (name.ends_with(".py") && !name.starts_with("__init__") && !name.starts_with(".#"))
}

/// File names the tool gives revision `id` (`<id>_<slug>.yaml`) or `<id>.yaml`.
fn named_for(name: &str, id: &str) -> bool {
    name.strip_prefix(id)
        .is_some_and(|rest| rest.starts_with('_') || rest.starts_with('.'))
}

impl GitRepo {
    /// Local branch names with their tip commits, the checked-out branch first.
    fn local_branches(&self) -> Result<Vec<(String, Oid)>, GitError> {
        let head_name = self
            .repo
            .head()
            .ok()
            .and_then(|h| h.shorthand().ok().map(str::to_owned));
        let mut out = Vec::new();
        for b in self
            .repo
            .branches(Some(BranchType::Local))
            .map_err(|e| self.error(e))?
        {
            let (branch, _) = b.map_err(|e| self.error(e))?;
            let Some(name) = branch.name().ok().flatten().map(str::to_owned) else {
                continue;
            };
            let Some(tip) = branch.get().peel_to_commit().ok().map(|c| c.id()) else {
                continue;
            };
            out.push((name, tip));
        }
        out.sort_by(|a, b| {
            (Some(&a.0) != head_name.as_ref(), &a.0).cmp(&(Some(&b.0) != head_name.as_ref(), &b.0))
        });
        Ok(out)
    }

    /// Local branches whose tip is `commit` or has it in its history, by name.
    pub fn branches_containing(&self, commit: &str) -> Result<Vec<BranchRef>, GitError> {
        let Ok(oid) = Oid::from_str(commit) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for (name, tip) in self.local_branches()? {
            if tip == oid {
                out.push(BranchRef {
                    name,
                    points_at: true,
                });
            } else if self.repo.graph_descendant_of(tip, oid).unwrap_or(false) {
                out.push(BranchRef {
                    name,
                    points_at: false,
                });
            }
        }
        out.sort_by(|a, b| (!a.points_at, &a.name).cmp(&(!b.points_at, &b.name)));
        Ok(out)
    }

    /// Searches local branches for the file declaring revision `id`: first each
    /// branch's tip, then their history (newest first). `Ok(None)` if git has no such
    /// file anywhere on a local branch.
    pub fn find_revision(&self, id: &str) -> Result<Option<FoundRevision>, GitError> {
        let branches = self.local_branches()?;
        for (name, tip) in &branches {
            let commit = self.repo.find_commit(*tip).map_err(|e| self.error(e))?;
            let tree = commit.tree().map_err(|e| self.error(e))?;
            if let Some((path, contents)) = self.search_tree(&tree, id) {
                let added = self.adding_commit(*tip, &path);
                return Ok(Some(FoundRevision {
                    revision: id.to_owned(),
                    branch: name.clone(),
                    commit: tip.to_string(),
                    path,
                    added,
                    at_branch_tip: true,
                    contents,
                }));
            }
        }
        self.search_history(id, &branches)
    }

    /// The file under the revisions directory of `tree` declaring `id`, and its text.
    fn search_tree(&self, tree: &Tree<'_>, id: &str) -> Option<(String, String)> {
        let dir = if self.dir_prefix.is_empty() {
            tree.clone()
        } else {
            let entry = tree.get_path(Path::new(&self.dir_prefix)).ok()?;
            self.repo.find_tree(entry.id()).ok()?
        };
        let mut named = Vec::new();
        let mut others = Vec::new();
        dir.walk(TreeWalkMode::PreOrder, |root, entry| {
            if entry.kind() == Some(git2::ObjectType::Blob) {
                if let Ok(name) = entry.name() {
                    if is_revision_file(name) {
                        let rel = format!("{root}{name}");
                        if named_for(name, id) {
                            named.push((rel, entry.id()));
                        } else {
                            others.push((rel, entry.id()));
                        }
                    }
                }
            }
            TreeWalkResult::Ok
        })
        .ok()?;
        named.into_iter().chain(others).find_map(|(rel, oid)| {
            let blob = self.repo.find_blob(oid).ok()?;
            let text = std::str::from_utf8(blob.content()).ok()?;
            declares_revision_in(&rel, text, id)
                .then(|| (join_git(&self.dir_prefix, &rel), text.to_owned()))
        })
    }

    /// Walks the history of every local branch, newest first, for a commit whose
    /// revisions directory changed a file declaring `id`.
    fn search_history(
        &self,
        id: &str,
        branches: &[(String, Oid)],
    ) -> Result<Option<FoundRevision>, GitError> {
        let mut walk = self.repo.revwalk().map_err(|e| self.error(e))?;
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)
            .map_err(|e| self.error(e))?;
        for (_, tip) in branches {
            walk.push(*tip).map_err(|e| self.error(e))?;
        }
        for oid in walk {
            let oid = oid.map_err(|e| self.error(e))?;
            let Some((commit_id, path, contents)) = self.changed_file_declaring(oid, id) else {
                continue;
            };
            let branch = branches
                .iter()
                .find(|(_, tip)| {
                    *tip == commit_id
                        || self
                            .repo
                            .graph_descendant_of(*tip, commit_id)
                            .unwrap_or(false)
                })
                .map(|(n, _)| n.clone())
                .unwrap_or_default();
            let added = self.adding_commit(commit_id, &path);
            return Ok(Some(FoundRevision {
                revision: id.to_owned(),
                branch,
                commit: commit_id.to_string(),
                path,
                added,
                at_branch_tip: false,
                contents,
            }));
        }
        Ok(None)
    }

    /// If commit `oid` added, changed or deleted a file declaring `id` inside the
    /// revisions directory: the commit holding that file, its path and its text.
    fn changed_file_declaring(&self, oid: Oid, id: &str) -> Option<(Oid, String, String)> {
        let repo: &Repository = &self.repo;
        let commit = repo.find_commit(oid).ok()?;
        let new = super::history_dir_tree(repo, &commit, &self.dir_prefix);
        let parent = commit.parent(0).ok();
        let old = parent
            .as_ref()
            .and_then(|p| super::history_dir_tree(repo, p, &self.dir_prefix));
        if new.as_ref().map(Tree::id) == old.as_ref().map(Tree::id) {
            return None;
        }
        let diff = repo
            .diff_tree_to_tree(old.as_ref(), new.as_ref(), None)
            .ok()?;
        for delta in diff.deltas() {
            // The side that still has the file: new for adds and changes, old for deletes.
            let (file, holder) = match delta.status() {
                Delta::Deleted => (delta.old_file(), parent.as_ref()?.id()),
                _ => (delta.new_file(), oid),
            };
            let Some(rel) = file.path().map(super::git_path) else {
                continue;
            };
            let name = rel.rsplit('/').next().unwrap_or(&rel);
            if !is_revision_file(name) {
                continue;
            }
            let Ok(blob) = repo.find_blob(file.id()) else {
                continue;
            };
            let Ok(text) = std::str::from_utf8(blob.content()) else {
                continue;
            };
            if declares_revision_in(name, text, id) {
                return Some((holder, join_git(&self.dir_prefix, &rel), text.to_owned()));
            }
        }
        None
    }

    /// The commit that added `path` in the history of `from` (newest such add), with
    /// its author mapped through `.mailmap`.
    fn adding_commit(&self, from: Oid, path: &str) -> Option<CommitInfo> {
        let mut walk = self.repo.revwalk().ok()?;
        walk.set_sorting(Sort::TOPOLOGICAL).ok()?;
        walk.push(from).ok()?;
        let p = Path::new(path);
        for oid in walk.flatten() {
            let commit = self.repo.find_commit(oid).ok()?;
            let here = commit.tree().ok()?.get_path(p).is_ok();
            if !here {
                continue;
            }
            let in_parent = commit
                .parents()
                .any(|parent| parent.tree().is_ok_and(|t| t.get_path(p).is_ok()));
            if !in_parent {
                let mailmap = self.mailmap();
                return Some(apply_mailmap(
                    mailmap.as_ref(),
                    &CommitInfo::from_commit(&commit),
                ));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revision_is_recognised_by_its_revision_key_only() {
        let text = "revision: ab12\ndown_revision: null\nmessage: x\n";
        assert!(declares_revision(text, "ab12"));
        assert!(!declares_revision(text, "ab1"));
        assert!(!declares_revision(
            "revision: cd34\ndown_revision: ab12\n",
            "ab12"
        ));
        assert!(!declares_revision("not: [yaml", "ab12"));
    }

    #[test]
    fn file_names_match_the_written_pattern() {
        assert!(named_for("ab12_add_users.yaml", "ab12"));
        assert!(named_for("ab12.yml", "ab12"));
        assert!(!named_for("ab123_x.yaml", "ab12"));
    }
}
