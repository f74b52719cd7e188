//! `migrate test [-r RANGE] [--data]`: the stairway (src/stairway) on a scratch database,
//! a summary table, JSON, exit 1 on any failure. The file is named after the feature:
//! a `test.rs` reads as a test module to cargo users and tools.

use std::process::ExitCode;

use migrate::core::Body;
use migrate::db::DatabaseUrl;
use migrate::engine::Progress;
use migrate::stairway::scratch::Scratch;
use migrate::stairway::snapshot::ObjectChange;
use migrate::stairway::{self, Finding, Report, StairwayOptions, Status, DROP_TIMEOUT};
use serde::Serialize;

use super::context::Context;
use super::database::{self, StderrProgress, TransactionArg};
use super::history::RangeArg;
use super::output::{print_json, write_stdout, CmdResult, Failure, EXIT_PROBLEM};

#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Test only the revisions in START:END (those below are upgraded, not tested).
    #[command(flatten)]
    pub range: RangeArg,
    /// Also write rows into the tables each step does not touch, and check they survive
    /// its down-and-up.
    #[arg(long)]
    pub data: bool,
    /// Test on a scratch database created beside this PostgreSQL or MariaDB database
    /// (default: a temporary SQLite file; DATABASE_URL and the config are not used).
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    #[command(flatten)]
    pub out: super::output::FormatArg<super::output::TextJson>,
}

/// Exit code after SIGINT (128 + 2), once the scratch database is dropped.
const EXIT_SIGINT: u8 = 130;
/// Exit code after SIGTERM (128 + 15).
const EXIT_SIGTERM: u8 = 143;

/// The JSON of `migrate test`.
#[derive(Serialize)]
struct JsonReport<'a> {
    ok: bool,
    /// The scratch database (password redacted); already dropped.
    scratch_database: String,
    #[serde(flatten)]
    report: &'a Report,
    summary: Summary,
}

#[derive(Serialize, Default)]
struct Summary {
    passed: usize,
    failed: usize,
    not_tested: usize,
}

/// How the walk ended.
enum Ended {
    Walked(Result<Report, stairway::StairwayError>),
    Signal(&'static str, u8),
}

pub fn run(ctx: &Context, args: TestArgs) -> CmdResult {
    let json = ctx.text_or_json("test")?;
    if ctx.alembic.is_some() {
        return Err(alembic_refusal());
    }
    let graph = ctx.load_graph()?;
    let tested = match &args.range.range {
        Some(_) => {
            let mut marks = vec![false; graph.len()];
            for ix in args.range.revisions(&graph)? {
                marks[ix as usize] = true;
            }
            Some(marks)
        }
        None => None,
    };
    if let Some(rev) = graph.revisions().iter().find(|r| r.body == Body::Python) {
        return Err(Failure::new(format!(
            "revision {} ({}) is Python: `migrate test` runs SQL revisions only",
            rev.id,
            rev.location(None)
        )));
    }
    let named = match &ctx.database_url {
        Some(u) => Some(DatabaseUrl::parse(u).map_err(|e| Failure::usage(e.to_string()))?),
        None => None,
    };
    let options = StairwayOptions {
        data: args.data,
        run: database::run_options(ctx, TransactionArg::PerRevision.into()),
        introspect: super::autogen::introspect_options(ctx)?,
    };
    let tables = database::tables(ctx)?;
    let rt = database::runtime()?;
    let (ended, shown, dropped) = rt.block_on(async {
        let mut signals = Signals::install()?;
        let mut scratch = Scratch::create(named.as_ref())
            .await
            .map_err(|e| Failure::new(e.to_string()))?;
        let shown = scratch.url.to_string();
        eprintln!("scratch database: {shown}");
        let ended = match scratch.open(&tables).await {
            Ok(mut conns) => {
                let mut progress = StderrProgress::new();
                let walk = stairway::run(
                    &mut conns,
                    &graph,
                    tested.as_deref(),
                    &options,
                    &mut progress,
                );
                let ended = tokio::select! {
                    r = walk => Ended::Walked(r),
                    (name, code) = signals.next() => Ended::Signal(name, code),
                };
                if let Ended::Walked(_) = ended {
                    conns.close().await;
                } else {
                    // Cut short mid-statement: the sessions end with the drop below.
                    progress.end();
                    drop(conns);
                }
                Ok(ended)
            }
            Err(e) => Err(Failure::new(e.to_string())),
        };
        let dropped = scratch.drop(DROP_TIMEOUT).await;
        Ok::<_, Failure>((ended, shown, dropped))
    })?;
    if let Err(e) = &dropped {
        eprintln!("error: {e}");
    }
    let report = match ended? {
        Ended::Signal(name, code) => {
            if dropped.is_ok() {
                eprintln!("interrupted by {name}; dropped the scratch database {shown}");
            }
            return Ok(ExitCode::from(code));
        }
        Ended::Walked(r) => r.map_err(|e| Failure::new(e.to_string()))?,
    };
    let summary = summarize(&report);
    let printed = if json {
        print_json(&JsonReport {
            ok: report.passed(),
            scratch_database: shown,
            report: &report,
            summary,
        })?
    } else {
        write_stdout(&text(ctx, &report))?;
        eprintln!("{}", summary_line(&report, &summary));
        if let Some(why) = &report.stopped {
            eprintln!("note: {why}");
        }
        ExitCode::SUCCESS
    };
    if !report.passed() || dropped.is_err() {
        return Ok(ExitCode::from(EXIT_PROBLEM));
    }
    Ok(printed)
}

fn alembic_refusal() -> Failure {
    Failure::new(
        "`migrate test` runs SQL revisions through migrate's executor; this is an Alembic project, whose revisions are Python that only Alembic runs",
    )
    .hint("test an Alembic project's downgrades with pytest-alembic (`test_up_down_consistency`), or port the revisions to migrate's YAML format")
}

/// SIGINT and SIGTERM, listened for from before the scratch database exists.
struct Signals {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> Result<Self, Failure> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let fail = |e: std::io::Error| Failure::new(format!("can't listen for signals: {e}"));
            Ok(Signals {
                int: signal(SignalKind::interrupt()).map_err(fail)?,
                term: signal(SignalKind::terminate()).map_err(fail)?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    /// The next signal: its name and the exit code it ends the process with.
    async fn next(&mut self) -> (&'static str, u8) {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.int.recv() => ("SIGINT", EXIT_SIGINT),
                _ = self.term.recv() => ("SIGTERM", EXIT_SIGTERM),
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            ("Ctrl-C", EXIT_SIGINT)
        }
    }
}

fn summarize(report: &Report) -> Summary {
    let mut s = Summary::default();
    for r in &report.revisions {
        match r.status {
            Status::Passed => s.passed += 1,
            Status::Failed => s.failed += 1,
            Status::NotTested => s.not_tested += 1,
        }
    }
    s
}

fn summary_line(report: &Report, s: &Summary) -> String {
    let mut line = format!(
        "{} revision(s) on {}: {} passed, {} failed",
        report.revisions.len(),
        report.dialect,
        s.passed,
        s.failed
    );
    if s.not_tested > 0 {
        line.push_str(&format!(", {} not tested", s.not_tested));
    }
    line
}

/// The summary table, then each failed revision's findings.
fn text(ctx: &Context, report: &Report) -> String {
    const HEADER: [&str; 4] = ["REVISION", "RESULT", "TIME", "MESSAGE"];
    let cells: Vec<[String; 4]> = report
        .revisions
        .iter()
        .map(|r| {
            [
                r.revision.clone(),
                r.status.name().to_owned(),
                if r.status == Status::NotTested {
                    "-".to_owned()
                } else {
                    format!("{} ms", r.duration_ms)
                },
                super::entry::shown(r.message.lines().next().unwrap_or("")),
            ]
        })
        .collect();
    let mut widths = HEADER.map(|h| h.chars().count());
    for c in &cells {
        for (w, cell) in widths.iter_mut().zip(c.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String; 4], paint: bool| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let pad = widths[i] - cell.chars().count();
            text.push_str(&match i {
                0 if paint => ctx.paint.id(cell),
                1 if paint => ctx.paint.flag(cell),
                _ => cell.clone(),
            });
            if i + 1 < cells.len() {
                text.push_str(&" ".repeat(pad + 2));
            }
        }
        text.push('\n');
        text
    };
    let mut out = line(&HEADER.map(str::to_owned), false);
    for c in &cells {
        out.push_str(&line(c, true));
    }
    for r in report
        .revisions
        .iter()
        .filter(|r| r.status == Status::Failed)
    {
        out.push('\n');
        out.push_str(&format!(
            "{} ({}): {}\n",
            ctx.paint.id(&r.revision),
            r.path.as_deref().unwrap_or("no file"),
            super::entry::shown(r.message.lines().next().unwrap_or(""))
        ));
        for f in &r.findings {
            out.push_str(&format!("  {}\n", super::entry::shown(&f.to_string())));
            match f {
                Finding::SchemaNotRestored { objects } => {
                    for o in objects {
                        out.push_str(&format!("    {}\n", super::entry::shown(&o.to_string())));
                    }
                }
                Finding::ReupgradeDiffers { objects } => {
                    for o in objects {
                        out.push_str(&format!("    {}\n", reupgrade_line(o)));
                    }
                }
                _ => {}
            }
        }
        for n in &r.notes {
            out.push_str(&format!("  note: {}\n", super::entry::shown(n)));
        }
    }
    out
}

/// An object that differs between the first and the second upgrade.
fn reupgrade_line(o: &ObjectChange) -> String {
    use migrate::stairway::snapshot::ChangeKind;
    let side = match o.change {
        ChangeKind::LeftBehind => "only after the second upgrade",
        ChangeKind::Removed => "only after the first upgrade",
        ChangeKind::Changed => "changed",
    };
    super::entry::shown(&format!("{side}: {}", o.detail))
}
