//! The file adapter: revision YAML files and the `migrate.yaml` config.
//!
//! Loading reads every file in parallel and keeps load order deterministic: within a
//! directory, files sorted by name, then subdirectories sorted by name (Alembic's
//! recursive order). Every problem names the file, and the line where there is one.

pub mod alembic;
pub mod blob;
pub mod cache;
pub mod config;
pub mod edit;
pub mod format;
pub mod guard;
pub mod load;
pub mod source;
pub mod walk;
pub mod write;

pub use config::{find_config, Config, ConfigError, Settings};
pub use load::{load_graph, load_revisions, LoadError};
pub use write::{render_revision, revision_file_name, write_revision};
