//! Output conventions: data on stdout, messages on stderr, colour only when wanted,
//! stable exit codes (0 success, 1 a problem the user can fix, 2 bad usage).

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use serde::Serialize;

/// Output format of commands that report data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Csv,
    /// GitHub Actions workflow annotations (`check`).
    Github,
}

impl Format {
    /// The name `--format` takes.
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Github => "github",
        }
    }
}

/// The values one command's `--format` takes: each command lists only what it prints,
/// so `--help` never advertises a format the command refuses.
pub trait FormatValues: clap::ValueEnum + Clone + Copy + Send + Sync + 'static {
    fn format(self) -> Format;
}

macro_rules! format_values {
    ($(#[$doc:meta])* $name:ident: $($variant:ident),+) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
        pub enum $name {
            $($variant),+
        }

        impl FormatValues for $name {
            fn format(self) -> Format {
                match self {
                    $($name::$variant => Format::$variant),+
                }
            }
        }
    };
}

format_values!(
    /// `text` or `json`.
    TextJson: Text, Json
);
format_values!(
    /// `text`, `json` or `csv`.
    TextJsonCsv: Text, Json, Csv
);
format_values!(
    /// `text`, `json` or `github` (workflow annotations on the pull request's diff).
    TextJsonGithub: Text, Json, Github
);
format_values!(
    /// Every format.
    AnyFormat: Text, Json, Csv, Github
);

/// `--format`, with the values command `T` prints.
#[derive(Debug, Clone, clap::Args)]
pub struct FormatArg<T: FormatValues> {
    /// Output format [default: text].
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<T>,
}

impl<T: FormatValues> FormatArg<T> {
    pub fn get(&self) -> Option<Format> {
        self.format.map(FormatValues::format)
    }
}

/// `--database-url`, on the commands that connect to a database.
#[derive(Debug, Clone, clap::Args)]
pub struct DatabaseArg {
    /// Database URL (else DATABASE_URL, then the config's database_url, then sqlite://app.db).
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

/// `--dialect`'s values (aliases accepted, the canonical name returned).
pub fn dialect_values() -> clap::builder::PossibleValuesParser {
    use clap::builder::PossibleValue;
    clap::builder::PossibleValuesParser::new([
        PossibleValue::new("sqlite"),
        PossibleValue::new("postgres").alias("postgresql"),
        PossibleValue::new("mysql").alias("mariadb"),
    ])
}

/// When to colour text output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour stdout: `--color`, then `NO_COLOR`, then whether it is a terminal.
    pub fn enabled(self) -> bool {
        self.enabled_on(std::io::stdout().is_terminal())
    }

    /// The same for stderr, where errors go.
    pub fn enabled_on_stderr(self) -> bool {
        self.enabled_on(std::io::stderr().is_terminal())
    }

    fn enabled_on(self, terminal: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && terminal
            }
        }
    }
}

pub use super::failure::{ErrorKind, Failure, EXIT_PROBLEM};

/// The result type of every command.
pub type CmdResult = Result<ExitCode, Failure>;

/// Prints `value` as pretty JSON on stdout.
pub fn print_json<T: Serialize + ?Sized>(value: &T) -> CmdResult {
    let text = serde_json::to_string_pretty(value).map_err(Failure::from)?;
    write_stdout(&format!("{text}\n"))
}

/// Writes to stdout; a closed pipe (e.g. `| head`) is not an error.
pub fn write_stdout(text: &str) -> CmdResult {
    let mut out = std::io::stdout().lock();
    written(out.write_all(text.as_bytes()).and_then(|()| out.flush()))
}

/// The outcome of writing to stdout: a closed pipe (e.g. `| head`) is not an error.
fn written(result: std::io::Result<()>) -> CmdResult {
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(Failure::new(format!("can't write output: {e}"))),
    }
}

/// Writes lines to stdout as they come, buffered; a closed pipe ends quietly.
pub fn write_lines<I: IntoIterator<Item = String>>(lines: I) -> CmdResult {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    written(
        lines
            .into_iter()
            .try_for_each(|l| out.write_all(l.as_bytes()))
            .and_then(|()| out.flush()),
    )
}

/// Refuses a format a command does not produce: `Ok(true)` for JSON.
pub fn text_or_json_format(format: Format, command: &str) -> Result<bool, Failure> {
    match format {
        Format::Text => Ok(false),
        Format::Json => Ok(true),
        Format::Csv | Format::Github => Err(Failure::usage(format!(
            "`{command}` prints text or json, not {}",
            format.name()
        ))),
    }
}

/// ANSI styling that is a no-op when colour is off.
#[derive(Debug, Clone, Copy)]
pub struct Paint(pub bool);

impl Paint {
    fn wrap(self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
    pub fn id(self, text: &str) -> String {
        self.wrap("33", text)
    }
    pub fn flag(self, text: &str) -> String {
        self.wrap("36", text)
    }
}
