//! Options every command accepts, and what they resolve to.

use std::path::{Path, PathBuf};

use migrate::core::RevisionGraph;
use migrate::files::source::Source;
use migrate::files::{self, Config};

use super::output::{ColorChoice, Failure, Format, Paint};

/// Global options, accepted before or after the subcommand. `--format` and
/// `--database-url` belong to the commands that have them (see [`super::output::FormatArg`]).
#[derive(Debug, Clone, clap::Args)]
pub struct GlobalArgs {
    /// Config file (default: migrate.yaml, searched upward from the working directory).
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        help_heading = "Global options"
    )]
    pub config: Option<PathBuf>,
    /// Revisions directory (default: `revisions` next to the config).
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        help_heading = "Global options"
    )]
    pub revisions: Option<PathBuf>,
    /// The section of an alembic.ini to read (default `alembic`), as `alembic -n` picks it.
    #[arg(
        short = 'n',
        long,
        global = true,
        value_name = "NAME",
        help_heading = "Global options"
    )]
    pub name: Option<String>,
    /// When to colour text output (NO_COLOR is honoured).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, help_heading = "Global options")]
    pub color: ColorChoice,
}

/// An Alembic project, as `alembic` itself is pointed at it.
#[derive(Debug, Clone)]
pub struct AlembicProject {
    /// The `alembic.ini` or `pyproject.toml` migrate read (Alembic's `-c`).
    pub config_file: PathBuf,
    /// `-n NAME`, the ini section, when not the default.
    pub name: Option<String>,
}

/// What every command works from.
#[derive(Debug)]
pub struct Context {
    pub cwd: PathBuf,
    pub config: Config,
    /// The revisions directory, relative to `cwd` when it lies below it (an Alembic
    /// project: its first version location).
    pub revisions_dir: PathBuf,
    /// Where the revision files are and which reader reads them.
    pub source: Source,
    /// An Alembic project: how to run Alembic on it.
    pub alembic: Option<AlembicProject>,
    pub format: Format,
    pub paint: Paint,
    /// `--database-url`, if given.
    pub database_url: Option<String>,
}

impl Context {
    /// `format` and `database_url`: the command's own flags (or the same flags given
    /// before the command).
    pub fn new(
        args: &GlobalArgs,
        format: Option<Format>,
        database_url: Option<String>,
    ) -> Result<Self, Failure> {
        let format = format.unwrap_or(Format::Text);
        let cwd = std::env::current_dir()
            .map_err(|e| Failure::new(format!("can't read the working directory: {e}")))?;
        let mut config = files::find_config(&cwd, args.config.as_deref(), args.name.as_deref())?;
        let (revisions_dir, source, alembic) = match &config.alembic {
            Some(a) => {
                if args.revisions.is_some() {
                    return Err(Failure::usage(
                        "--revisions is for migrate's YAML projects; an Alembic project's version locations come from its config",
                    ));
                }
                for w in &a.warnings {
                    eprintln!("warning: {w}");
                }
                let project = AlembicProject {
                    config_file: config.path.clone().unwrap_or_default(),
                    name: args.name.clone(),
                };
                (
                    relative_to(&a.script_location, &cwd),
                    Source::Alembic(a.version_locations.clone()),
                    Some(project),
                )
            }
            None => {
                if args.name.is_some() {
                    return Err(Failure::usage(
                        "-n/--name picks a section of an alembic.ini; this project has none",
                    ));
                }
                let dir = config.revisions_dir(&cwd, args.revisions.as_deref());
                let revisions_dir = relative_to(&dir, &cwd);
                (revisions_dir.clone(), Source::Yaml(revisions_dir), None)
            }
        };
        if let Some(a) = &config.alembic {
            if config.settings.version_table.is_none() {
                let table = a.version_table.as_deref().unwrap_or("alembic_version");
                // env.py's version_table_schema: the table in that schema.
                config.settings.version_table = Some(match &a.version_table_schema {
                    Some(schema) => format!("{schema}.{table}"),
                    None => table.to_owned(),
                });
            }
        }
        Ok(Self {
            cwd,
            config,
            revisions_dir,
            source,
            alembic,
            format,
            paint: Paint(args.color.enabled() && format == Format::Text),
            database_url,
        })
    }

    /// Refuses a format the command does not produce: `Ok(true)` for JSON.
    pub fn text_or_json(&self, command: &str) -> Result<bool, Failure> {
        super::output::text_or_json_format(self.format, command)
    }

    /// Loads the revisions and builds the graph; any problem fails the command, with
    /// every problem listed.
    pub fn load_graph(&self) -> Result<RevisionGraph, Failure> {
        match self.source.load_graph()? {
            Ok((graph, _warnings)) => Ok(graph),
            Err(problems) => Err(Failure::Problems(problems)),
        }
    }
}

/// `path` relative to `base` when it lies below it (shorter messages), else unchanged.
pub fn relative_to(path: &Path, base: &Path) -> PathBuf {
    match path.strip_prefix(base) {
        Ok(rel) if rel.as_os_str().is_empty() => PathBuf::from("."),
        Ok(rel) => rel.to_path_buf(),
        Err(_) => path.to_path_buf(),
    }
}
