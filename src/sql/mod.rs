//! The one SQL analyser: every feature that reads SQL (lint, conflicts, rebase's
//! safety check, autogenerate's expression comparison) asks here, never with regexes.
//!
//! It is built on `sqlparser` with the dialect of the backend the SQL is written for.
//! Statements the parser cannot read are reported as such, never treated as harmless.
//!
//! Layout (one job per file):
//! - `analyse`: a script, split into statements, each parsed and summarised as the
//!   objects it touches (tables, columns, indexes, constraints, views, sequences, types,
//!   data writes) and how it locks.
//! - `normalize`: one comparable form for SQL expressions (check constraints, defaults,
//!   view definitions) whatever each backend rewrote them into.

pub mod analyse;
pub mod normalize;
mod touches;

#[cfg(test)]
mod analyse_tests;

pub use analyse::{analyse, Action, Analysed, ObjectKind, ObjectRef, Script, Touch};
pub use touches::{ident, object_name};
