//! What the database commands share: the URL in effect, connecting, the tokio runtime,
//! version rows as graph nodes, and progress output.

use std::io::IsTerminal;
use std::time::Duration;

use migrate::core::{Dialect, Ix, Problem, ProblemKind, RevisionGraph};
use migrate::db::{self, ConnectOptions, Database, DatabaseUrl, Tables, UrlInputs};
use migrate::engine::{Progress, RunContext, RunOptions, TransactionMode};

use super::context::Context;
use super::output::{ErrorKind, Failure};

/// Options shared by upgrade, downgrade and stamp.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// Seconds to wait for another migrate process's lock.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub lock_timeout: u64,
}

/// `--transaction` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TransactionArg {
    /// One transaction per revision (default).
    PerRevision,
    /// The whole run in one transaction (SQLite and PostgreSQL).
    All,
}

impl From<TransactionArg> for TransactionMode {
    fn from(t: TransactionArg) -> Self {
        match t {
            TransactionArg::PerRevision => TransactionMode::PerRevision,
            TransactionArg::All => TransactionMode::All,
        }
    }
}

/// The dialect of a `--sql` script: `--dialect`, else the database URL's scheme.
pub fn offline_dialect(ctx: &Context, flag: Option<&str>) -> Result<Dialect, Failure> {
    match flag {
        Some(d) => Dialect::parse(d).ok_or_else(|| {
            Failure::usage(format!(
                "unknown dialect '{d}'; use sqlite, postgres or mysql"
            ))
        }),
        None => Ok(database_url(ctx)?.dialect()),
    }
}

/// The database URL by precedence: flag, `DATABASE_URL`, config, default.
pub fn database_url(ctx: &Context) -> Result<DatabaseUrl, Failure> {
    let env = std::env::var("DATABASE_URL").ok().filter(|e| !e.is_empty());
    // An Alembic project's `sqlalchemy.url`, translated only when it is the one in
    // effect (the template's `driver://user:pass@localhost/dbname` placeholder must not
    // fail a command given --database-url).
    let translated = match (&ctx.config.alembic, &ctx.database_url, &env) {
        (Some(a), None, None) if ctx.config.settings.database_url.is_none() => {
            match a.sqlalchemy_url.as_deref() {
                Some(sqla) => Some(
                    db::sqlalchemy::from_sqlalchemy(sqla, &ctx.config.dir).map_err(|e| {
                        Failure::of_kind(
                            ErrorKind::Config,
                            format!("sqlalchemy.url in {}: {e}", config_name(ctx)),
                        )
                        .hint("pass --database-url or set DATABASE_URL to override it")
                    })?,
                ),
                None => None,
            }
        }
        _ => None,
    };
    let inputs = UrlInputs {
        flag: ctx.database_url.as_deref(),
        env: env.as_deref(),
        config: translated
            .as_deref()
            .or(ctx.config.settings.database_url.as_deref()),
        config_dir: ctx.config.path.as_ref().map(|_| ctx.config.dir.as_path()),
    };
    db::choose_url(&inputs).map_err(|e| Failure::usage(e.to_string()))
}

/// The config file's name, for messages.
fn config_name(ctx: &Context) -> String {
    ctx.config
        .path
        .as_deref()
        .map_or_else(|| "the config".to_owned(), |p| p.display().to_string())
}

/// The version and log table names from the config.
pub fn tables(ctx: &Context) -> Result<Tables, Failure> {
    let s = &ctx.config.settings;
    Tables::new(
        s.version_table
            .as_deref()
            .unwrap_or(db::DEFAULT_VERSION_TABLE),
        s.log_table.as_deref().unwrap_or(db::DEFAULT_LOG_TABLE),
    )
    .map_err(Failure::from)
}

/// A runtime for one command.
pub fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            Failure::of_kind(
                ErrorKind::Internal,
                format!("can't start the async runtime: {e}"),
            )
        })
}

/// Connects; `create: false` leaves a missing SQLite file missing (`Ok(None)`).
pub async fn connect(
    ctx: &Context,
    url: &DatabaseUrl,
    create: bool,
    lock_timeout: Duration,
) -> Result<Option<Database>, Failure> {
    let options = ConnectOptions {
        tables: tables(ctx)?,
        lock_timeout,
        create,
    };
    if let Some(path) = url.sqlite_path() {
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
        if let Some(dir) = dir.filter(|d| !d.is_dir()) {
            return Err(Failure::of_kind(
                ErrorKind::Database,
                format!(
                    "cannot open {url}: directory {} does not exist",
                    dir.display()
                ),
            ));
        }
    }
    let db = Database::connect(url, options).await?;
    if db.is_none() {
        eprintln!("note: no database at {url}; nothing applied");
    }
    Ok(db)
}

/// Version rows as graph nodes; a row with no revision file is an error naming it.
pub fn applied(graph: &RevisionGraph, rows: &[String], ctx: &Context) -> Result<Vec<Ix>, String> {
    migrate::core::rows::applied(graph, rows).map_err(|e| {
        format!(
            "the database is at revision {}, which has no file in {}; restore the file, run `migrate downgrade <target> --from-git` (its downgrade SQL read from git history), or `migrate stamp --purge <revision>`",
            e.version,
            ctx.revisions_dir.display()
        )
    })
}

pub fn run_options(ctx: &Context, transaction: TransactionMode) -> RunOptions {
    RunOptions {
        transaction,
        context: RunContext::detect(&ctx.revisions_dir),
        interrupt: super::signals::interrupt(),
    }
}

/// Progress on stderr: a bar on a terminal, one line per revision otherwise.
pub enum StderrProgress {
    Bar(Option<indicatif::ProgressBar>),
    Lines,
}

impl StderrProgress {
    pub fn new() -> Self {
        if std::io::stderr().is_terminal() {
            StderrProgress::Bar(None)
        } else {
            StderrProgress::Lines
        }
    }
}

impl Progress for StderrProgress {
    fn begin(&mut self, total: usize) {
        if let StderrProgress::Bar(bar) = self {
            let b = indicatif::ProgressBar::new(total as u64);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}",
            ) {
                b.set_style(style);
            }
            // Redrawn from indicatif's own thread, so the elapsed time moves during a long
            // statement too.
            b.enable_steady_tick(Duration::from_millis(200));
            *bar = Some(b);
        }
    }

    fn step_started(&mut self, _index: usize, _total: usize, label: &str) {
        if let StderrProgress::Bar(Some(b)) = self {
            b.set_message(label.to_owned());
        }
    }

    fn step_finished(&mut self, index: usize, total: usize, label: &str, took: Duration) {
        let line = format!("[{}/{total}] {label} ({} ms)", index + 1, took.as_millis());
        match self {
            // The record of what ran stays above the bar, as cargo keeps its lines.
            StderrProgress::Bar(Some(b)) => {
                b.println(line);
                b.inc(1);
            }
            StderrProgress::Bar(None) => {}
            StderrProgress::Lines => {
                // One write per line (stderr is unbuffered), and a closed stderr is no
                // reason to stop a run.
                let _ = std::io::Write::write_all(
                    &mut std::io::stderr(),
                    format!("{line}\n").as_bytes(),
                );
            }
        }
    }

    fn end(&mut self) {
        if let StderrProgress::Bar(Some(b)) = self {
            b.finish_and_clear();
        }
    }
}

/// The version rows of the configured database, for read-only commands: empty when the
/// SQLite file or the version table doesn't exist (nothing is created).
pub fn current_rows(ctx: &Context) -> Result<Vec<String>, Failure> {
    let url = database_url(ctx)?;
    runtime()?.block_on(async {
        match connect(ctx, &url, false, db::DEFAULT_LOCK_TIMEOUT).await? {
            Some(mut conn) => {
                let rows = conn.read_versions().await.map_err(Failure::from)?;
                conn.close().await;
                Ok(rows)
            }
            None => Ok(Vec::new()),
        }
    })
}

/// What `check` adds with a reachable database: applied revisions whose file changed
/// since (checksum mismatch), applied revisions with no file, and a step left failed.
/// `Ok(None)` when there is no database to look at (a missing SQLite file) or it can't be
/// reached (said on stderr; the graph checks still count).
pub fn database_problems(
    ctx: &Context,
    graph: &RevisionGraph,
) -> Result<Option<Vec<Problem>>, Failure> {
    let url = match database_url(ctx) {
        Ok(url) => url,
        // An Alembic project whose sqlalchemy.url can't be used (the template's
        // placeholder, say): the graph is still checked, as in CI without a database.
        Err(f)
            if ctx.config.alembic.is_some()
                && matches!(f.kind(), ErrorKind::Config | ErrorKind::Usage) =>
        {
            eprintln!(
                "note: skipped the database checks: {}",
                f.message().unwrap_or_default()
            );
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    let dialect = url.dialect();
    // A bad setting (say, a version table name that is not an identifier) is an error
    // like anywhere else; only a database that can't be reached skips these checks.
    tables(ctx)?;
    let read = runtime()?.block_on(async {
        let mut conn = match connect(ctx, &url, false, db::DEFAULT_LOCK_TIMEOUT).await {
            Ok(Some(conn)) => conn,
            Ok(None) => return Ok(None),
            Err(f) if f.kind() == ErrorKind::Database => {
                eprintln!(
                    "note: skipped the database checks: {}",
                    f.message().unwrap_or_default()
                );
                return Ok(None);
            }
            Err(other) => return Err(other),
        };
        let read = async {
            let rows = conn.read_versions().await?;
            let sums = conn.applied_checksums().await?;
            let caps = db::Backend::capabilities(&conn);
            let last = conn
                .last_log()
                .await?
                .map(|l| (l, caps, db::Backend::dialect(&conn)));
            Ok::<_, db::DbError>((rows, sums, last))
        }
        .await;
        conn.close().await;
        read.map(Some).map_err(Failure::from)
    });
    let Some((rows, sums, last)) = read? else {
        return Ok(None);
    };
    let mut problems = Vec::new();
    let mut applied_ix = Vec::new();
    for r in &rows {
        match graph.find(r) {
            Some(ix) => applied_ix.push(ix),
            None => problems.push(
                Problem::new(
                    ProblemKind::MissingFile,
                    format!(
                        "the database is at revision {r}, which has no file in {}",
                        ctx.revisions_dir.display()
                    ),
                )
                .revisions([r.clone()]),
            ),
        }
    }
    let mut applied = graph.ancestors(&applied_ix, true);
    for &ix in &applied_ix {
        applied[ix as usize] = true;
    }
    for (revision, sum) in sums {
        let (Some(ix), Some(sum)) = (graph.find(&revision), sum) else {
            continue;
        };
        if !applied[ix as usize] {
            continue;
        }
        let rev = graph.revision(ix);
        let now = rev.upgrade.as_ref().and_then(|s| s.for_dialect(dialect));
        if !db::checksum_matches(&sum, now) {
            problems.push(
                Problem::new(
                    ProblemKind::ChecksumMismatch,
                    format!(
                        "revision {revision} changed since it was applied to {url} (its {dialect} upgrade SQL no longer matches the checksum in the log)"
                    ),
                )
                .at(rev.origin.path.clone(), rev.origin.revision_line)
                .revisions([revision.clone()]),
            );
        }
    }
    if let Some((last, caps, dialect)) = last {
        if let Some(line) = migrate::engine::last_step(&last, graph, caps, dialect).describe() {
            let path = graph
                .find(&last.revision)
                .and_then(|ix| graph.revision(ix).origin.path.clone());
            problems.push(
                Problem::new(ProblemKind::FailedRevision, line)
                    .at(path, None)
                    .revisions([last.revision.clone()]),
            );
        }
    }
    Ok(Some(problems))
}

/// Revisions the configured database has run, by id, each with how it is known (its
/// version rows stand on it, or `migrate_log` has an upgrade of it). `Err` with a note
/// when there is no database to ask (none configured, or it can't be reached); a
/// SQLite file that doesn't exist has run nothing.
pub fn applied_revisions(
    ctx: &Context,
    graph: &RevisionGraph,
) -> Result<std::collections::HashMap<String, String>, String> {
    let url = database_url(ctx).map_err(|f| match f {
        Failure::Error { message, .. } => format!("no database configured ({message})"),
        Failure::Problems(_) => "no database configured".to_owned(),
    })?;
    let rt = runtime().map_err(|_| "can't start the async runtime".to_owned())?;
    let read = rt.block_on(async {
        let mut conn = match connect(ctx, &url, false, db::DEFAULT_LOCK_TIMEOUT).await {
            Ok(Some(conn)) => conn,
            Ok(None) => return Ok(None),
            Err(Failure::Error { message, .. }) => {
                return Err(format!("can't reach the database: {message}"))
            }
            Err(Failure::Problems(_)) => return Err("can't reach the database".to_owned()),
        };
        let read = async {
            let rows = conn.read_versions().await?;
            let log = conn.read_log().await?;
            Ok::<_, db::DbError>((rows, log))
        }
        .await;
        conn.close().await;
        read.map(Some)
            .map_err(|e| format!("can't read the database: {e}"))
    })?;
    let mut out = std::collections::HashMap::new();
    let Some((rows, log)) = read else {
        return Ok(out);
    };
    let (at, _) = migrate::core::rows::split_known(graph, &rows);
    let under = graph.ancestors(&at, true);
    for (ix, yes) in under.iter().enumerate() {
        if *yes {
            out.insert(
                graph.id(ix as Ix).to_owned(),
                format!("at or below its version rows {}", rows.join(", ")),
            );
        }
    }
    for step in log {
        if step.direction == "upgrade" && step.success != Some(false) {
            out.entry(step.revision.clone()).or_insert_with(|| {
                format!(
                    "migrate_log: upgraded at {} by {}",
                    step.started_at.to_rfc3339(),
                    step.applied_by
                )
            });
        }
    }
    Ok(out)
}
