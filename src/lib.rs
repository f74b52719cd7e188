//! migrate: database schema revisions as a directed acyclic graph.
//!
//! Layers, in one direction: [`core`] is pure (graph, resolution, plans); the adapters
//! read and write revision files, talk to databases and read git; the binary's CLI
//! turns arguments into calls on them.

pub mod conflicts;
pub mod core;
pub mod db;
pub mod engine;
pub mod files;
pub mod git;
pub mod lint;
pub mod schema;
pub mod sql;
pub mod stairway;
