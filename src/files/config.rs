//! `migrate.yaml`: optional project settings, found by searching upward.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The default config file name.
pub const CONFIG_FILE: &str = "migrate.yaml";

/// Settings from `migrate.yaml`. Paths are relative to the file's directory.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The revisions directory (default `revisions`).
    pub revisions: Option<PathBuf>,
    /// Database URL, used when neither `--database-url` nor `DATABASE_URL` is set.
    pub database_url: Option<String>,
    /// Version table name (default `migrate_version`; `alembic_version` takes over an
    /// Alembic database).
    pub version_table: Option<String>,
    /// Audit log table name (default `migrate_log`).
    pub log_table: Option<String>,
    /// The declarative models file (default `models.yaml`).
    pub models: Option<PathBuf>,
}

/// A loaded configuration: where it came from and what it says.
#[derive(Debug, Clone)]
pub struct Config {
    /// The config file, when there is one.
    pub path: Option<PathBuf>,
    /// The project directory: the config file's directory, or the working directory.
    pub dir: PathBuf,
    pub settings: Settings,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {} not found", .0.display())]
    NotFound(PathBuf),
    #[error("can't read config file {}: {source}", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Invalid {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },
}

/// Loads `explicit` if given, else the first `migrate.yaml` from `start` upward, else
/// defaults rooted at `start`.
pub fn find_config(start: &Path, explicit: Option<&Path>) -> Result<Config, ConfigError> {
    let path = match explicit {
        Some(p) => {
            let p = start.join(p);
            if !p.is_file() {
                return Err(ConfigError::NotFound(p));
            }
            Some(p)
        }
        None => start
            .ancestors()
            .map(|d| d.join(CONFIG_FILE))
            .find(|p| p.is_file()),
    };
    let Some(path) = path else {
        return Ok(Config {
            path: None,
            dir: start.to_path_buf(),
            settings: Settings::default(),
        });
    };
    let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Unreadable {
        path: path.clone(),
        source,
    })?;
    let settings: Settings = if text.trim().is_empty() {
        Settings::default()
    } else {
        super::guard::check_yaml(&text).map_err(|e| ConfigError::Invalid {
            path: path.clone(),
            line: Some(e.line as usize),
            message: e.message,
        })?;
        serde_yaml_ng::from_str(&text).map_err(|e| {
            let mut message = e.to_string();
            if let Some(at) = message.find(" at line ") {
                message.truncate(at);
            }
            ConfigError::Invalid {
                path: path.clone(),
                line: e.location().map(|l| l.line()),
                message,
            }
        })?
    };
    let dir = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| start.to_path_buf());
    Ok(Config {
        path: Some(path),
        dir,
        settings,
    })
}

impl Config {
    /// The revisions directory: `override_dir` (from `--revisions`, relative to the
    /// working directory) or the configured one (relative to the config).
    pub fn revisions_dir(&self, cwd: &Path, override_dir: Option<&Path>) -> PathBuf {
        match override_dir {
            Some(d) => cwd.join(d),
            None => self.dir.join(
                self.settings
                    .revisions
                    .as_deref()
                    .unwrap_or(Path::new("revisions")),
            ),
        }
    }
}
