//! The pure core: revisions, the graph, identifier resolution and plans.
//!
//! Nothing here does I/O, prints, or knows about clap, sqlx or git2: every question
//! about the graph is a plain function over in-memory data, so it is tested with tiny
//! literal graphs and stays fast at 100,000 revisions.

pub mod audit;
mod cycles;
pub mod graph;
pub mod heads_pair;
pub mod order;
pub mod plan;
pub mod premerge;
pub mod problem;
pub mod rebase;
pub mod resolve;
pub mod revision;
pub mod rows;
pub mod stairway;
pub mod transactional;

#[cfg(test)]
mod tests;

pub use audit::AppliedStep;
pub use graph::{Ix, RevisionGraph};
pub use plan::{Direction, Plan, PlanError, Step, VersionOp};
pub use problem::{GraphProblems, Problem, ProblemKind, Severity};
pub use resolve::{Pos, ResolveError, Resolver};
pub use revision::{Body, Dialect, Origin, Revision, RevisionId, Sql};
pub use transactional::Transactional;
