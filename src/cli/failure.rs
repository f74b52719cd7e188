//! Why a command failed: a kind (which decides the exit code and lets callers branch
//! without reading text), the message, hints, and the library error it came from.
//!
//! Library errors become failures only through the explicit conversions below, each
//! choosing a kind, so a new library error must say what it means to a user.

use std::error::Error;
use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use migrate::core::Problem;

/// Exit code for a problem the user can fix.
pub const EXIT_PROBLEM: u8 = 1;
/// Exit code for bad usage (clap uses it too).
pub const EXIT_USAGE: u8 = 2;

/// What went wrong, as a caller decides on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A problem in the revisions, the repository or the request that the user can fix.
    User,
    /// The configuration (`migrate.yaml`, `alembic.ini`, a database URL) is wrong.
    Config,
    /// The command line is wrong.
    Usage,
    /// The database can't be reached, refused a query, or its lock could not be had.
    Database,
    /// Something `migrate` itself got wrong (a bug), or the machine failed (I/O).
    Internal,
    /// A signal stopped the run; the exit status is the shell's for that signal.
    Interrupted(u8),
}

impl ErrorKind {
    fn exit_code(self) -> u8 {
        match self {
            ErrorKind::Usage => EXIT_USAGE,
            ErrorKind::Interrupted(code) => code,
            _ => EXIT_PROBLEM,
        }
    }
}

/// Why a command failed: what to print, and the exit code.
#[derive(Debug)]
pub enum Failure {
    /// One error, with optional hints.
    Error {
        kind: ErrorKind,
        message: String,
        hints: Vec<String>,
        source: Option<Box<dyn Error + Send + Sync>>,
    },
    /// Problems in the revisions, all listed.
    Problems(Vec<Problem>),
}

impl Failure {
    /// A failure the user can fix (exit 1).
    pub fn new(message: impl Into<String>) -> Self {
        Self::of_kind(ErrorKind::User, message)
    }

    /// Bad usage (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self::of_kind(ErrorKind::Usage, message)
    }

    pub fn of_kind(kind: ErrorKind, message: impl Into<String>) -> Self {
        Failure::Error {
            kind,
            message: message.into(),
            hints: Vec::new(),
            source: None,
        }
    }

    /// A failure of `kind` caused by the library error `e` (its message is `e`'s).
    pub fn caused_by(kind: ErrorKind, e: impl Error + Send + Sync + 'static) -> Self {
        Failure::Error {
            kind,
            message: e.to_string(),
            hints: Vec::new(),
            source: Some(Box::new(e)),
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        if let Failure::Error { hints, .. } = &mut self {
            hints.push(hint.into());
        }
        self
    }

    /// The kind; a list of problems is the user's to fix.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Failure::Error { kind, .. } => *kind,
            Failure::Problems(_) => ErrorKind::User,
        }
    }

    /// The message of a single error (`None` for a list of problems).
    pub fn message(&self) -> Option<&str> {
        match self {
            Failure::Error { message, .. } => Some(message),
            Failure::Problems(_) => None,
        }
    }

    /// Prints the failure on stderr and returns its exit code.
    pub fn report(self) -> ExitCode {
        let mut err = std::io::stderr().lock();
        match self {
            Failure::Error {
                kind,
                message,
                hints,
                source,
            } => {
                let _ = writeln!(err, "{} {}", prefix("error:"), printable(&message));
                // The causes a message does not already say (an I/O error under a
                // library error, say).
                let mut cause = source.as_deref().and_then(|s| s.source());
                while let Some(c) = cause {
                    let text = c.to_string();
                    if !message.contains(&text) {
                        let _ = writeln!(err, "caused by: {}", printable(&text));
                    }
                    cause = c.source();
                }
                for h in hints {
                    let _ = writeln!(err, "{} {}", prefix("hint:"), printable(&h));
                }
                ExitCode::from(kind.exit_code())
            }
            Failure::Problems(problems) => {
                for p in &problems {
                    let _ = writeln!(err, "{} {}", prefix("error:"), printable(&p.to_string()));
                }
                let _ = writeln!(
                    err,
                    "{} fix the {} above; `migrate check` lists every problem",
                    prefix("hint:"),
                    if problems.len() == 1 {
                        "problem"
                    } else {
                        "problems"
                    }
                );
                ExitCode::from(EXIT_PROBLEM)
            }
        }
    }
}

/// `text` with control characters escaped line by line, so a file name or message from
/// a hostile file can't drive the terminal (ANSI escapes, carriage returns).
/// Whether `error:` and `hint:` are coloured (set once from `--color`, for stderr).
static COLOR: AtomicBool = AtomicBool::new(false);

/// Colours the `error:`/`hint:` prefixes from now on (`--color` as it applies to stderr).
pub fn colour_errors(on: bool) {
    COLOR.store(on, Ordering::Relaxed);
}

/// `label` (`error:` in bold red, `hint:` in cyan) when colour is on.
fn prefix(label: &str) -> String {
    if !COLOR.load(Ordering::Relaxed) {
        return label.to_owned();
    }
    let code = if label == "hint:" { "36" } else { "1;31" };
    format!("\x1b[{code}m{label}\x1b[0m")
}

fn printable(text: &str) -> String {
    text.split('\n')
        .map(super::entry::shown)
        .collect::<Vec<_>>()
        .join("\n")
}

/// `impl From<$error> for Failure` with one kind.
macro_rules! failure_kind {
    ($($error:ty => $kind:ident),* $(,)?) => {
        $(impl From<$error> for Failure {
            fn from(e: $error) -> Self {
                Failure::caused_by(ErrorKind::$kind, e)
            }
        })*
    };
}

failure_kind! {
    migrate::files::load::LoadError => User,
    migrate::files::config::ConfigError => Config,
    migrate::db::UrlError => Config,
    migrate::db::admin::AdminError => Database,
    migrate::core::ResolveError => User,
    migrate::git::GitError => User,
    migrate::engine::alembic::AlembicError => User,
    std::io::Error => Internal,
    migrate::files::alembic::newfile::UnknownTimezone => Config,
    migrate::schema::ModelErrors => User,
    migrate::schema::autogen::ReplayError => User,
    serde_json::Error => Internal,
}

impl From<migrate::db::DbError> for Failure {
    fn from(e: migrate::db::DbError) -> Self {
        use migrate::db::DbError;
        let kind = match e {
            DbError::BadTableName { .. } | DbError::TableNames { .. } => ErrorKind::Config,
            _ => ErrorKind::Database,
        };
        Failure::caused_by(kind, e)
    }
}

impl From<migrate::engine::EngineError> for Failure {
    fn from(e: migrate::engine::EngineError) -> Self {
        use migrate::engine::EngineError;
        match e {
            EngineError::Db(db) => db.into(),
            EngineError::Interrupted { signal, .. } => {
                Failure::caused_by(ErrorKind::Interrupted(signal.exit_code()), e)
            }
            other => Failure::caused_by(ErrorKind::User, other),
        }
    }
}

impl From<migrate::core::PlanError> for Failure {
    fn from(e: migrate::core::PlanError) -> Self {
        super::resolve_failure(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kind_comes_from_the_error_not_its_text() {
        let bad_name = migrate::db::Tables::new("bad name;", "log").expect_err("refused");
        assert_eq!(Failure::from(bad_name).kind(), ErrorKind::Config);
        let timeout = migrate::db::DbError::LockTimeout {
            url: "postgres://h/db".to_owned(),
            seconds: 1,
        };
        let f = Failure::from(timeout);
        assert_eq!(f.kind(), ErrorKind::Database);
        let Failure::Error { source, .. } = &f else {
            panic!("one error")
        };
        assert!(source
            .as_ref()
            .is_some_and(|s| s.is::<migrate::db::DbError>()));
        assert_eq!(Failure::usage("x").kind().exit_code(), EXIT_USAGE);
        assert_eq!(Failure::new("x").kind().exit_code(), EXIT_PROBLEM);
    }
}
