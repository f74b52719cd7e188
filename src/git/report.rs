//! Plain rows built from authorship, for the CLI to print as text, JSON or CSV:
//! blame entries, the origin of each head, audit filters and merge messages.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::Serialize;

use crate::core::{Ix, Revision, RevisionGraph};

use super::{Authorship, BranchRef, FileAuthorship, FileStatus};

/// One revision's authorship, as `migrate blame` reports it. The JSON keys are a
/// contract (issue 4); `message` and `history_incomplete` are for text output only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlameEntry {
    pub revision: String,
    pub path: Option<String>,
    pub author_name: Option<String>,
    pub author_email: Option<String>,
    /// RFC 3339, with the author's UTC offset.
    pub authored_at: Option<String>,
    pub commit: Option<String>,
    pub summary: Option<String>,
    pub last_commit: Option<String>,
    pub last_author_name: Option<String>,
    pub last_authored_at: Option<String>,
    pub status: FileStatus,
    #[serde(skip)]
    pub message: String,
    #[serde(skip)]
    pub history_incomplete: bool,
    #[serde(skip)]
    pub authored: Option<DateTime<FixedOffset>>,
}

impl BlameEntry {
    pub fn new(revision: &Revision, file: &FileAuthorship) -> Self {
        let path = file.path.clone().or_else(|| {
            revision
                .origin
                .path
                .as_ref()
                .map(|p| p.display().to_string())
        });
        let added = file.added.as_ref();
        let last = file.last_changed.as_ref();
        Self {
            revision: revision.id.to_string(),
            path,
            author_name: added.map(|c| c.author_name.clone()),
            author_email: added.map(|c| c.author_email.clone()),
            authored_at: added.map(|c| c.authored_at.to_rfc3339()),
            commit: added.map(|c| c.id.clone()),
            summary: added.map(|c| c.summary.clone()),
            last_commit: last.map(|c| c.id.clone()),
            last_author_name: last.map(|c| c.author_name.clone()),
            last_authored_at: last.map(|c| c.authored_at.to_rfc3339()),
            status: file.status,
            message: revision.summary().to_owned(),
            history_incomplete: file.history_incomplete,
            authored: added.map(|c| c.authored_at),
        }
    }

    /// Blame entries for `revisions` (graph indices), newest first: revisions never
    /// committed come first, then by the time their file was added, later first; ties
    /// keep the reverse of graph order.
    pub fn for_revisions(
        graph: &RevisionGraph,
        revisions: &[Ix],
        authorship: &Authorship,
    ) -> Vec<Self> {
        let mut rows: Vec<(Ix, Self)> = revisions
            .iter()
            .map(|&ix| {
                let rev = graph.revision(ix);
                let file = match &rev.origin.path {
                    Some(p) => authorship.for_file(p),
                    None => authorship.for_repo_path(""),
                };
                (ix, Self::new(rev, &file))
            })
            .collect();
        rows.sort_by(|(ia, a), (ib, b)| {
            let ka = a.authored.map(|t| t.timestamp());
            let kb = b.authored.map(|t| t.timestamp());
            // None (never committed) sorts first; then later times first.
            match (ka, kb) {
                (None, None) => ib.cmp(ia),
                (None, Some(_)) => std::cmp::Ordering::Less,
                (Some(_), None) => std::cmp::Ordering::Greater,
                (Some(x), Some(y)) => y.cmp(&x).then(ib.cmp(ia)),
            }
        });
        rows.into_iter().map(|(_, r)| r).collect()
    }

    /// `Name <email>` of the author, or `-` when unknown.
    pub fn author_display(&self) -> String {
        match (&self.author_name, &self.author_email) {
            (Some(n), Some(e)) if !e.is_empty() => format!("{n} <{e}>"),
            (Some(n), _) => n.clone(),
            _ => "-".to_owned(),
        }
    }
}

/// Where a head came from: who added it, in which commit, on which local branches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeadOrigin {
    pub revision: String,
    pub author_name: Option<String>,
    pub author_email: Option<String>,
    pub authored_at: Option<String>,
    pub commit: Option<String>,
    pub summary: Option<String>,
    pub status: FileStatus,
    /// Local branches whose tip is, or has in its history, the commit that added it.
    pub branches: Vec<BranchRef>,
}

impl HeadOrigin {
    /// One line for text output: `by Ada <ada@x> on 2026-01-02, commit 1a2b3c4d5e6f (branch feature-x)`.
    pub fn describe(&self) -> String {
        match (&self.author_name, &self.commit) {
            (Some(name), Some(commit)) => {
                let email = self
                    .author_email
                    .as_deref()
                    .filter(|e| !e.is_empty())
                    .map(|e| format!(" <{e}>"))
                    .unwrap_or_default();
                let date = self
                    .authored_at
                    .as_deref()
                    .and_then(|d| d.get(..10))
                    .unwrap_or("?");
                let short = commit.get(..12).unwrap_or(commit);
                let mut s = format!("by {name}{email} on {date}, commit {short}");
                if !self.branches.is_empty() {
                    let names: Vec<&str> = self.branches.iter().map(|b| b.name.as_str()).collect();
                    let word = if names.len() == 1 {
                        "branch"
                    } else {
                        "branches"
                    };
                    s.push_str(&format!(" ({word} {})", names.join(", ")));
                }
                if self.status == FileStatus::Modified {
                    s.push_str(", with uncommitted changes");
                }
                s
            }
            _ => match self.status {
                FileStatus::Unknown => "author unknown (no git repository)".to_owned(),
                _ => "not committed yet".to_owned(),
            },
        }
    }
}

/// The origin of revision `ix`: its adding commit and, with `with_branches`, the local
/// branches holding that commit (one ancestry query per branch, so keep it for heads).
pub fn head_origin(
    graph: &RevisionGraph,
    ix: Ix,
    authorship: &Authorship,
    with_branches: bool,
) -> HeadOrigin {
    let rev = graph.revision(ix);
    let file = match &rev.origin.path {
        Some(p) => authorship.for_file(p),
        None => authorship.for_repo_path(""),
    };
    let added = file.added.as_ref();
    let branches = match (authorship.repo(), added) {
        (Some(repo), Some(c)) if with_branches => {
            repo.branches_containing(&c.id).unwrap_or_default()
        }
        _ => Vec::new(),
    };
    HeadOrigin {
        revision: rev.id.to_string(),
        author_name: added.map(|c| c.author_name.clone()),
        author_email: added.map(|c| c.author_email.clone()),
        authored_at: added.map(|c| c.authored_at.to_rfc3339()),
        commit: added.map(|c| c.id.clone()),
        summary: added.map(|c| c.summary.clone()),
        status: file.status,
        branches,
    }
}

/// The default message of a merge revision: the heads it joins and who wrote them,
/// e.g. `merge 1a2b3c4d5e6f (Ada Lovelace) and 9f8e7d6c5b4a (Grace Hopper)`.
pub fn merge_message(heads: &[HeadOrigin]) -> String {
    let parts: Vec<String> = heads
        .iter()
        .map(|h| match &h.author_name {
            Some(name) => format!("{} ({name})", h.revision),
            None => h.revision.clone(),
        })
        .collect();
    match parts.as_slice() {
        [] => "merge".to_owned(),
        [one] => format!("merge {one}"),
        [init @ .., last] => format!("merge {} and {last}", init.join(", ")),
    }
}

pub use crate::core::AppliedStep;

/// Who wrote a revision and who applied it where and when: one row per log step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedRow {
    pub revision: String,
    pub message: Option<String>,
    pub author_name: Option<String>,
    pub author_email: Option<String>,
    pub authored_at: Option<String>,
    pub commit: Option<String>,
    pub status: FileStatus,
    pub direction: String,
    pub applied_at: String,
    pub applied_by: String,
    pub applied_from_commit: Option<String>,
    pub success: Option<bool>,
    /// The (password-redacted) database URL.
    pub database: String,
    /// False when the revision's file was never committed on the checked-out branch
    /// (uncommitted, unknown, or not in this checkout at all).
    pub on_main_line: bool,
}

/// Joins authorship rows with audit-log steps, newest step first. Steps of revisions
/// outside `entries` are kept only when `keep_unknown` (no revision filter was given):
/// they are revisions applied from elsewhere, not on this branch.
pub fn join_applied(
    entries: &[BlameEntry],
    steps: &[AppliedStep],
    database: &str,
    keep_unknown: bool,
) -> Vec<AppliedRow> {
    let by_id: std::collections::HashMap<&str, &BlameEntry> =
        entries.iter().map(|e| (e.revision.as_str(), e)).collect();
    let mut rows: Vec<AppliedRow> = steps
        .iter()
        .filter_map(|s| {
            let e = by_id.get(s.revision.as_str()).copied();
            if e.is_none() && !keep_unknown {
                return None;
            }
            Some(AppliedRow {
                revision: s.revision.clone(),
                message: e.map(|e| e.message.clone()),
                author_name: e.and_then(|e| e.author_name.clone()),
                author_email: e.and_then(|e| e.author_email.clone()),
                authored_at: e.and_then(|e| e.authored_at.clone()),
                commit: e.and_then(|e| e.commit.clone()),
                status: e.map_or(FileStatus::Unknown, |e| e.status),
                direction: s.direction.clone(),
                applied_at: s.started_at.to_rfc3339(),
                applied_by: s.applied_by.clone(),
                applied_from_commit: s.git_commit.clone(),
                success: s.success,
                database: database.to_owned(),
                on_main_line: e.is_some_and(|e| e.commit.is_some()),
            })
        })
        .collect();
    rows.sort_by(|a, b| b.applied_at.cmp(&a.applied_at));
    rows
}

/// A bad `--author`, `--since` or `--until` value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error("invalid date '{0}': use YYYY-MM-DD or an RFC 3339 time such as 2026-01-02T10:00:00Z")]
    Date(String),
}

/// Filters of `migrate audit` over authorship (the graph filters live in the CLI).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Case-insensitive; `*` and `?` are wildcards, otherwise a substring of the
    /// author's name or email.
    pub author: Option<String>,
    /// Added at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Added at or before this time.
    pub until: Option<DateTime<Utc>>,
}

impl AuditFilter {
    /// Parses `--since`: a date means the start of that day (UTC).
    pub fn parse_since(text: &str) -> Result<DateTime<Utc>, PatternError> {
        parse_date(text, NaiveTime::MIN)
    }

    /// Parses `--until`: a date means the end of that day (UTC), so it is inclusive.
    pub fn parse_until(text: &str) -> Result<DateTime<Utc>, PatternError> {
        let end = NaiveTime::from_hms_opt(23, 59, 59).expect("a valid time");
        parse_date(text, end)
    }

    /// Whether an entry passes every filter; entries with no commit fail any filter.
    pub fn matches(&self, e: &BlameEntry) -> bool {
        if let Some(pattern) = &self.author {
            let name = e.author_name.as_deref().unwrap_or("");
            let email = e.author_email.as_deref().unwrap_or("");
            if e.author_name.is_none()
                || !(author_matches(pattern, name) || author_matches(pattern, email))
            {
                return false;
            }
        }
        if self.since.is_some() || self.until.is_some() {
            let Some(t) = e.authored.map(|t| t.with_timezone(&Utc)) else {
                return false;
            };
            if self.since.is_some_and(|s| t < s) || self.until.is_some_and(|u| t > u) {
                return false;
            }
        }
        true
    }
}

fn parse_date(text: &str, time: NaiveTime) -> Result<DateTime<Utc>, PatternError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    let d = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| PatternError::Date(text.to_owned()))?;
    Ok(Utc.from_utc_datetime(&d.and_time(time)))
}

/// Case-insensitive match: a glob when `pattern` has `*` or `?`, else a substring.
pub fn author_matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    if !p.iter().any(|&c| c == '*' || c == '?') {
        let needle: String = p.iter().collect();
        let hay: String = t.iter().collect();
        return hay.contains(&needle);
    }
    glob(&p, &t)
}

/// Iterative wildcard match with backtracking to the last `*`.
fn glob(p: &[char], t: &[char]) -> bool {
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(rev: &str, author: Option<&str>) -> HeadOrigin {
        HeadOrigin {
            revision: rev.into(),
            author_name: author.map(Into::into),
            author_email: None,
            authored_at: None,
            commit: None,
            summary: None,
            status: FileStatus::Committed,
            branches: vec![],
        }
    }

    fn entry(rev: &str, commit: Option<&str>) -> BlameEntry {
        BlameEntry {
            revision: rev.into(),
            path: None,
            author_name: commit.map(|_| "Ada".to_owned()),
            author_email: None,
            authored_at: None,
            commit: commit.map(Into::into),
            summary: None,
            last_commit: None,
            last_author_name: None,
            last_authored_at: None,
            status: if commit.is_some() {
                FileStatus::Committed
            } else {
                FileStatus::Uncommitted
            },
            message: format!("{rev} message"),
            history_incomplete: false,
            authored: None,
        }
    }

    fn step(rev: &str, hour: u32) -> AppliedStep {
        AppliedStep {
            revision: rev.into(),
            direction: "upgrade".into(),
            started_at: Utc.with_ymd_and_hms(2026, 2, 1, hour, 0, 0).unwrap(),
            success: Some(true),
            applied_by: "ci@runner (postgres)".into(),
            git_commit: Some("c0ffee".into()),
        }
    }

    #[test]
    fn applied_steps_join_authorship_newest_first_and_flag_the_main_line() {
        let entries = [entry("a1", Some("abc")), entry("b2", None)];
        let steps = [step("a1", 8), step("b2", 9), step("zz", 10)];
        let rows = join_applied(&entries, &steps, "postgres://db/app", true);
        let got: Vec<(&str, bool, Option<&str>)> = rows
            .iter()
            .map(|r| {
                (
                    r.revision.as_str(),
                    r.on_main_line,
                    r.author_name.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("zz", false, None),
                ("b2", false, None),
                ("a1", true, Some("Ada"))
            ]
        );
        assert_eq!(rows[2].applied_at, "2026-02-01T08:00:00+00:00");
        assert_eq!(rows[2].applied_from_commit.as_deref(), Some("c0ffee"));
        assert_eq!(rows[0].status, FileStatus::Unknown);
        let filtered = join_applied(&entries, &steps, "postgres://db/app", false);
        assert_eq!(filtered.len(), 2);
    }

    #[test]
    fn merge_message_names_each_head_and_its_author() {
        let heads = [
            origin("aaa1", Some("Ada")),
            origin("bbb2", Some("Grace")),
            origin("ccc3", None),
        ];
        assert_eq!(
            merge_message(&heads),
            "merge aaa1 (Ada), bbb2 (Grace) and ccc3"
        );
        assert_eq!(
            merge_message(&heads[..2]),
            "merge aaa1 (Ada) and bbb2 (Grace)"
        );
        assert_eq!(merge_message(&heads[..1]), "merge aaa1 (Ada)");
    }

    #[test]
    fn author_patterns_are_substrings_or_globs_ignoring_case() {
        assert!(author_matches("ada", "Ada Lovelace"));
        assert!(author_matches("*@example.com", "ada@example.com"));
        assert!(!author_matches("*@example.org", "ada@example.com"));
        assert!(author_matches("a?a*", "Ada Lovelace"));
        assert!(!author_matches("grace", "Ada Lovelace"));
        assert!(author_matches("*", ""));
    }

    #[test]
    fn dates_are_whole_days_or_rfc3339() {
        let since = AuditFilter::parse_since("2026-01-02").expect("a date");
        assert_eq!(since.to_rfc3339(), "2026-01-02T00:00:00+00:00");
        let until = AuditFilter::parse_until("2026-01-02").expect("a date");
        assert_eq!(until.to_rfc3339(), "2026-01-02T23:59:59+00:00");
        let t = AuditFilter::parse_since("2026-01-02T10:00:00+02:00").expect("a time");
        assert_eq!(t.to_rfc3339(), "2026-01-02T08:00:00+00:00");
        assert_eq!(
            AuditFilter::parse_since("yesterday").unwrap_err().to_string(),
            "invalid date 'yesterday': use YYYY-MM-DD or an RFC 3339 time such as 2026-01-02T10:00:00Z"
        );
    }
}
