//! Problems found in a revision set: every one is reported, none stops the search for others.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

/// What kind of problem: a stable name, part of `check --format json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// The file is not valid YAML, or has an unknown key, a missing field or a bad value.
    InvalidFile,
    DuplicateRevision,
    MissingDownRevision,
    MissingDependency,
    DuplicateBranchLabel,
    Cycle,
    DependencyCycle,
    MultipleHeads,
    ChecksumMismatch,
    MissingFile,
    FailedRevision,
    /// An Alembic revision's docstring `Revises:` line disagrees with its
    /// `down_revision` (a warning: the assignment is what counts).
    RevisesMismatch,
    /// `check --base`: more than one head once the two sides are merged.
    HeadsAfterMerge,
    /// `check --base`: this side's branch starts from a revision that is not the other
    /// side's head.
    BranchedFromOldHead,
    /// `check --base`: both sides added a revision with the same id (or the same file).
    AddedOnBothSides,
    /// `check --base`: this side edited a revision the other side already has.
    EditedSharedRevision,
    /// `check --base`: this side deleted a revision the other side has.
    DeletedSharedRevision,
    /// `check --base`: a branch label defined on both sides by different revisions.
    LabelOnBothSides,
}

impl ProblemKind {
    /// How serious a problem of this kind is.
    pub fn severity(self) -> Severity {
        match self {
            ProblemKind::RevisesMismatch => Severity::Warning,
            _ => Severity::Error,
        }
    }
}

/// Whether a problem fails `check` (an error) or is only reported (a warning).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem, with the file (and line) and revisions it concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub kind: ProblemKind,
    pub severity: Severity,
    pub message: String,
    pub path: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    pub revisions: Vec<String>,
}

impl Problem {
    pub fn new(kind: ProblemKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            severity: kind.severity(),
            message: message.into(),
            path: None,
            line: None,
            revisions: Vec::new(),
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    pub fn at(mut self, path: Option<PathBuf>, line: Option<u32>) -> Self {
        self.path = path;
        self.line = line;
        self
    }

    pub fn revisions<I, S>(mut self, revs: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.revisions = revs.into_iter().map(Into::into).collect();
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = match self.severity {
            Severity::Warning => "warning: ",
            Severity::Error => "",
        };
        match (&self.path, self.line) {
            (Some(p), Some(l)) => write!(f, "{}:{l}: {tag}{}", p.display(), self.message),
            (Some(p), None) => write!(f, "{}: {tag}{}", p.display(), self.message),
            _ => write!(f, "{tag}{}", self.message),
        }
    }
}

/// All the problems that kept a revision graph from being built.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{} problem(s) in the revisions: {}", .0.len(), .0.first().map(|p| p.to_string()).unwrap_or_default())]
pub struct GraphProblems(pub Vec<Problem>);
