//! What the audit log records about one step, as data: produced by the database
//! adapter, joined with git authorship by `audit --applied`.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// One step of the database's audit log (`migrate_log`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedStep {
    pub revision: String,
    /// `upgrade`, `downgrade` or `stamp`.
    pub direction: String,
    pub started_at: DateTime<Utc>,
    /// `None` for a step still running (or killed) outside a transaction.
    pub success: Option<bool>,
    /// OS user@host and database user.
    pub applied_by: String,
    /// The commit checked out where it was applied from.
    pub git_commit: Option<String>,
}
