//! Plans: which revisions an upgrade, downgrade or stamp runs, in which order, and how
//! the version table changes after each step.
//!
//! A plan is a pure function of (graph, applied heads, target). The executor, `--dry-run`,
//! `--sql` and `current`/`check` all consume the same [`Plan`]; none recomputes it.

use serde::Serialize;

use super::graph::Ix;

/// Which way a step moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Upgrade,
    Downgrade,
    Stamp,
}

impl Direction {
    pub fn name(self) -> &'static str {
        match self {
            Direction::Upgrade => "upgrade",
            Direction::Downgrade => "downgrade",
            Direction::Stamp => "stamp",
        }
    }
}

/// One change to the version table, in the order it is made.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum VersionOp {
    Insert { version: String },
    Delete { version: String },
    Update { from: String, to: String },
}

/// One step of a plan: run one revision's SQL in one direction (none for a stamp), then
/// make `version_ops`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The revision whose SQL runs; `None` for a stamp step.
    pub revision: Option<Ix>,
    pub direction: Direction,
    pub version_ops: Vec<VersionOp>,
}

/// An ordered list of steps, with the version rows before and after.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    pub steps: Vec<Step>,
    /// Version rows before the first step, as given.
    pub rows_before: Vec<String>,
    /// Version rows after the last step.
    pub rows_after: Vec<String>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}
