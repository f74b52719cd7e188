//! The Alembic reader: revision modules (`versions/*.py`) read statically with a real
//! Python parser (tree-sitter-python), never by running Python and never by regexes.
//! It produces the same core [`crate::core::Revision`] as the YAML reader, with
//! [`crate::core::Body::Python`] recorded so commands that need SQL can refuse cleanly.

pub mod ini;
pub mod newfile;
pub mod ops;
pub mod project;
pub mod python;
pub mod revisions;
pub mod template;

pub use project::{load as load_project, AlembicSettings, SettingSource};
pub use revisions::{read_revisions, revision_files, ReadModules, VersionLocations};
