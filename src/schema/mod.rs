//! Declarative schemas: the portable model, reading it from `models.yaml` and from a
//! live database, diffing two models and rendering the SQL that turns one into the other.
//!
//! The model ([`model::Schema`]) is the one shape both sides are brought into, so the
//! diff is a pure function over two values and is tested without a database. Each
//! backend's quirks (MariaDB has no unique constraints apart from unique indexes,
//! SQLite can't tell `bigint` from `integer` on an autoincrement key...) are absorbed by
//! [`model::Schema::normalized_for`] before comparing, never in the diff itself.

pub mod autogen;
pub mod diff;
pub mod introspect;
pub mod model;
pub mod render;
pub(crate) mod yaml_lines;

pub use diff::{diff, Change, SchemaDiff};
pub use model::{
    CheckConstraint, Column, ColumnType, DefaultValue, FkAction, ForeignKey, Identity, Index,
    KeyPart, ModelError, ModelErrors, NullsOrder, Schema, Sequence, Table, UniqueConstraint, View,
};
pub use render::{render_migration, RenderedMigration};
