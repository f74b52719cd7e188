//! The project's configuration, found by searching upward: `migrate.yaml`, or an
//! Alembic project's `alembic.ini` / `pyproject.toml` (`[tool.alembic]`).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::alembic::project::{self as alembic_project, AlembicSettings};

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
    /// `migrate lint` settings.
    pub lint: Option<LintSettings>,
}

/// `lint:` in `migrate.yaml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LintSettings {
    /// Rule ids not reported anywhere in the project.
    #[serde(default)]
    pub allow: Vec<String>,
    /// The dialects SQL shared by every backend is linted as (default: the configured
    /// database's, else all three).
    #[serde(default)]
    pub dialects: Vec<String>,
}

/// A loaded configuration: where it came from and what it says.
#[derive(Debug, Clone)]
pub struct Config {
    /// The config file, when there is one.
    pub path: Option<PathBuf>,
    /// The project directory: the config file's directory, or the working directory.
    pub dir: PathBuf,
    pub settings: Settings,
    /// An Alembic project's settings (`None` for a `migrate.yaml` project or none).
    pub alembic: Option<AlembicSettings>,
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

/// Which kind of config file a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Yaml,
    /// `alembic.ini`, any `*.ini`, or a `pyproject.toml`.
    Alembic,
}

fn kind_of(path: &Path) -> Kind {
    let ini = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("ini"));
    if ini || alembic_project::is_pyproject(path) {
        Kind::Alembic
    } else {
        Kind::Yaml
    }
}

/// Whether `path` is a `pyproject.toml` with a `[tool.alembic]` table. One that can't
/// be parsed counts only if it mentions Alembic at all, so a broken file of an
/// unrelated project above this one is passed by, not reported.
fn pyproject_has_alembic(path: &Path) -> Result<bool, ConfigError> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(false);
    };
    match alembic_project::parse_pyproject(&text) {
        Ok(tool) => Ok(tool.is_some()),
        Err(_) if !text.contains("alembic") => Ok(false),
        Err(e) => Err(ConfigError::Invalid {
            path: path.to_path_buf(),
            line: e.line,
            message: e.message,
        }),
    }
}

/// The config file in `dir`, if any: `migrate.yaml`, then `alembic.ini`, then a
/// `pyproject.toml` with `[tool.alembic]`.
fn config_in(dir: &Path) -> Result<Option<(PathBuf, Kind)>, ConfigError> {
    let yaml = dir.join(CONFIG_FILE);
    if yaml.is_file() {
        return Ok(Some((yaml, Kind::Yaml)));
    }
    let ini = dir.join("alembic.ini");
    if ini.is_file() {
        return Ok(Some((ini, Kind::Alembic)));
    }
    let toml = dir.join("pyproject.toml");
    if toml.is_file() && pyproject_has_alembic(&toml)? {
        return Ok(Some((toml, Kind::Alembic)));
    }
    Ok(None)
}

/// Loads `explicit` if given (a `migrate.yaml`, an `alembic.ini` or other `*.ini`, or a
/// `pyproject.toml`), else the first config from `start` upward (in each directory
/// `migrate.yaml`, then `alembic.ini`, then a `pyproject.toml` with `[tool.alembic]`),
/// else defaults rooted at `start`. `name` is the Alembic ini section (`-n/--name`).
pub fn find_config(
    start: &Path,
    explicit: Option<&Path>,
    name: Option<&str>,
) -> Result<Config, ConfigError> {
    let found = match explicit {
        Some(p) => {
            let p = start.join(p);
            if !p.is_file() {
                return Err(ConfigError::NotFound(p));
            }
            let kind = kind_of(&p);
            Some((p, kind))
        }
        None => {
            let mut found = None;
            for dir in start.ancestors() {
                if let Some(f) = config_in(dir)? {
                    found = Some(f);
                    break;
                }
            }
            found
        }
    };
    let Some((path, kind)) = found else {
        return Ok(Config {
            path: None,
            dir: start.to_path_buf(),
            settings: Settings::default(),
            alembic: None,
        });
    };
    let dir = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| start.to_path_buf());
    let (settings, alembic) = match kind {
        Kind::Yaml => (read_yaml(&path)?, None),
        Kind::Alembic => (
            Settings::default(),
            Some(alembic_project::load(&path, name)?),
        ),
    };
    Ok(Config {
        path: Some(path),
        dir,
        settings,
        alembic,
    })
}

/// Reads and checks a `migrate.yaml`.
fn read_yaml(path: &Path) -> Result<Settings, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    if text.trim().is_empty() {
        return Ok(Settings::default());
    }
    super::guard::check_yaml(&text).map_err(|e| ConfigError::Invalid {
        path: path.to_path_buf(),
        line: Some(e.line as usize),
        message: e.message,
    })?;
    serde_yaml_ng::from_str(&text).map_err(|e| {
        let mut message = e.to_string();
        if let Some(at) = message.find(" at line ") {
            message.truncate(at);
        }
        ConfigError::Invalid {
            path: path.to_path_buf(),
            line: e.location().map(|l| l.line()),
            message: super::load::excerpts(&message),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        for (rel, text) in files {
            let p = tmp.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            if rel.ends_with('/') {
                std::fs::create_dir_all(&p).unwrap();
            } else {
                std::fs::write(p, text).unwrap();
            }
        }
        tmp
    }

    const INI: &str = "[alembic]\nscript_location = %(here)s/alembic\n[other]\nscript_location = %(here)s/other\n";
    const TOML: &str = "[tool.alembic]\nscript_location = \"%(here)s/alembic\"\n";

    #[test]
    fn yaml_comes_first_in_each_directory() {
        let tmp = tree(&[
            ("p/migrate.yaml", "revisions: revs\n"),
            ("p/alembic.ini", INI),
            ("p/alembic/", ""),
            ("p/sub/deeper/", ""),
        ]);
        let c = find_config(&tmp.path().join("p/sub/deeper"), None, None).unwrap();
        assert_eq!(c.path, Some(tmp.path().join("p/migrate.yaml")));
        assert_eq!(c.dir, tmp.path().join("p"));
        assert!(c.alembic.is_none());
        assert_eq!(c.settings.revisions.as_deref(), Some(Path::new("revs")));
    }

    #[test]
    fn alembic_ini_before_pyproject_and_before_going_up() {
        let tmp = tree(&[
            ("migrate.yaml", ""),
            ("p/alembic.ini", INI),
            ("p/pyproject.toml", TOML),
            ("p/alembic/", ""),
            ("p/other/", ""),
            ("q/pyproject.toml", TOML),
            ("q/alembic/", ""),
            ("r/pyproject.toml", "[project]\nname = 'r'\n"),
        ]);
        let root = tmp.path();
        let c = find_config(&root.join("p"), None, None).unwrap();
        assert_eq!(c.path, Some(root.join("p/alembic.ini")));
        let a = c.alembic.unwrap();
        assert_eq!(a.script_location, root.join("p/alembic"));
        assert_eq!(a.pyproject_path, Some(root.join("p/pyproject.toml")));
        let c = find_config(&root.join("p"), None, Some("other")).unwrap();
        assert_eq!(c.alembic.unwrap().script_location, root.join("p/other"));

        let c = find_config(&root.join("q"), None, None).unwrap();
        assert_eq!(c.path, Some(root.join("q/pyproject.toml")));
        assert!(c.alembic.is_some());
        // A pyproject.toml without [tool.alembic] is passed by.
        let c = find_config(&root.join("r"), None, None).unwrap();
        assert_eq!(c.path, Some(root.join("migrate.yaml")));
        assert!(c.alembic.is_none());
    }

    #[test]
    fn explicit_paths_of_each_kind() {
        let tmp = tree(&[
            ("custom.yaml", "version_table: vt\n"),
            ("conf/prod.ini", INI),
            ("conf/alembic/", ""),
            ("py/pyproject.toml", TOML),
            ("py/alembic/", ""),
        ]);
        let root = tmp.path();
        let c = find_config(root, Some(Path::new("custom.yaml")), None).unwrap();
        assert_eq!(c.settings.version_table.as_deref(), Some("vt"));
        assert!(c.alembic.is_none());
        let c = find_config(root, Some(Path::new("conf/prod.ini")), None).unwrap();
        assert_eq!(c.dir, root.join("conf"));
        assert_eq!(
            c.alembic.unwrap().script_location,
            root.join("conf/alembic")
        );
        let c = find_config(root, Some(Path::new("py/pyproject.toml")), None).unwrap();
        assert_eq!(c.alembic.unwrap().script_location, root.join("py/alembic"));
        let e = find_config(root, Some(Path::new("nope.ini")), None).unwrap_err();
        assert!(matches!(e, ConfigError::NotFound(_)));
    }

    #[test]
    fn a_broken_pyproject_that_mentions_alembic_is_reported() {
        let tmp = tree(&[
            ("a/pyproject.toml", "[tool.alembic\n"),
            ("b/pyproject.toml", "[project\n"),
        ]);
        let e = find_config(&tmp.path().join("a"), None, None).unwrap_err();
        assert!(e.to_string().contains("pyproject.toml:1"), "{e}");
        let c = find_config(&tmp.path().join("b"), None, None).unwrap();
        assert_ne!(c.path, Some(tmp.path().join("b/pyproject.toml")));
    }

    #[test]
    fn no_config_gives_defaults() {
        let tmp = tree(&[("x/", "")]);
        let c = find_config(&tmp.path().join("x"), None, None).unwrap();
        // A config above the temp dir could exist on this machine; only check ours.
        if c.path.is_none() {
            assert_eq!(c.dir, tmp.path().join("x"));
            assert!(c.alembic.is_none());
        }
    }
}
