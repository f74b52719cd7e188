//! `migrate conflicts [REV...] [--base REF]`: for every pair of heads, where they
//! parted, what each side adds, the objects each touches and a verdict (independent,
//! overlapping, unknown), proven on SQLite where both sides' SQL runs there.

use std::path::Path;
use std::process::ExitCode;

use migrate::conflicts::{self, Comparison, RevisionTouches, SharedObject, UnknownEntry, Verdict};
use migrate::core::heads_pair::{all_pairs, HeadsPair};
use migrate::core::{Body, Dialect, Ix, Resolver, Revision, RevisionGraph};
use migrate::files::alembic::ops;
use migrate::files::load::{read_bounded, MAX_FILE_BYTES};
use migrate::git::Authorship;
use migrate::schema::diff::diff;
use migrate::schema::Schema;
use serde::Serialize;

use super::context::Context;
use super::output::{print_json, write_stdout, CmdResult, Failure, EXIT_PROBLEM};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status: 0 when every pair of heads is independent (or there is one head); \
1 when any pair is overlapping or unknown, so a CI job fails where a merge needs a look."
)]
pub struct ConflictsArgs {
    /// Heads to compare (default: all heads).
    #[arg(value_name = "REV", id = "rev")]
    pub revisions: Vec<String>,
    /// Compare the heads the merge with REF (a branch, tag or commit) would make.
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
    /// Skip the SQLite replay that proves the verdict.
    #[arg(long)]
    pub no_proof: bool,
    #[command(flatten)]
    pub out: super::output::FormatArg<super::output::TextJson>,
    #[command(flatten)]
    pub db: super::output::DatabaseArg,
}

/// One pair of heads, judged.
#[derive(Debug, Serialize)]
pub struct PairReport {
    pub heads: [String; 2],
    pub merge_base: Vec<String>,
    pub verdict: Verdict,
    pub proven: bool,
    pub shared: Vec<SharedObject>,
    pub unknown: Vec<UnknownEntry>,
    /// What each side adds (text output only).
    #[serde(skip)]
    pub adds: [Vec<String>; 2],
    /// What the SQLite replay showed (text output only).
    #[serde(skip)]
    pub proof: Option<String>,
}

#[derive(Serialize)]
struct ConflictsJson<'a> {
    pairs: &'a [PairReport],
}

pub fn run(ctx: &Context, args: ConflictsArgs) -> CmdResult {
    let json = ctx.text_or_json("conflicts")?;
    let graph = match &args.base {
        None => ctx.load_graph()?,
        Some(base) => {
            let repo = super::premerge::repo(ctx)?;
            let mut ours = super::premerge::our_side(ctx, &repo, None)?;
            if !ours.problems.is_empty() {
                return Err(Failure::Problems(ours.problems));
            }
            let pm = super::premerge::check(ctx, &repo, base, &mut ours)?;
            pm.into_graph()?
        }
    };
    let heads = heads_of(&graph, &args.revisions)?;
    let reports = pair_reports(ctx, &graph, &heads, !args.no_proof)?;
    let printed = if json {
        print_json(&ConflictsJson { pairs: &reports })?
    } else if reports.is_empty() {
        write_stdout(&format!(
            "one head ({}): nothing can collide\n",
            heads.first().map_or("none", |&h| graph.id(h))
        ))?
    } else {
        let mut text = String::new();
        for r in &reports {
            text.push_str(&pair_text(r));
        }
        write_stdout(&text)?
    };
    Ok(if all_independent(&reports) {
        printed
    } else {
        ExitCode::from(EXIT_PROBLEM)
    })
}

/// Whether every pair is independent: the exit status, as `check`'s, says whether a
/// merge of these heads needs a look (overlapping or unknown: exit 1).
pub fn all_independent(reports: &[PairReport]) -> bool {
    reports.iter().all(|r| r.verdict == Verdict::Independent)
}

/// The heads named by `inputs` (default: all heads).
pub fn heads_of(graph: &RevisionGraph, inputs: &[String]) -> Result<Vec<Ix>, Failure> {
    if inputs.is_empty() {
        return Ok(graph.real_heads().to_vec());
    }
    let resolver = Resolver::new(graph);
    let mut out = Vec::new();
    for i in inputs {
        for ix in resolver
            .revisions(i)
            .map_err(|e| super::resolve_failure(e.into()))?
        {
            if !out.contains(&ix) {
                out.push(ix);
            }
        }
    }
    Ok(out)
}

/// Judges every pair of `heads`.
pub fn pair_reports(
    ctx: &Context,
    graph: &RevisionGraph,
    heads: &[Ix],
    proof: bool,
) -> Result<Vec<PairReport>, Failure> {
    let pairs = all_pairs(graph, heads);
    if pairs.is_empty() {
        return Ok(Vec::new());
    }
    let dialect = super::database::database_url(ctx)
        .map(|u| u.dialect())
        .unwrap_or(Dialect::Sqlite);
    let authorship = Authorship::load(ctx.source.primary_dir());
    let mut out = Vec::new();
    for p in &pairs {
        let side = |adds: &[Ix]| -> Vec<RevisionTouches> {
            adds.iter()
                .map(|&ix| touches_of(graph.revision(ix), dialect, &authorship))
                .collect()
        };
        let (a, b) = (side(&p.a_adds), side(&p.b_adds));
        let cmp = conflicts::compare(&a, &b);
        let (proven, proof_text) = if proof {
            prove(graph, p, &cmp)?
        } else {
            (false, None)
        };
        let ids = |v: &[Ix]| {
            v.iter()
                .map(|&i| graph.id(i).to_owned())
                .collect::<Vec<_>>()
        };
        out.push(PairReport {
            heads: [graph.id(p.a).to_owned(), graph.id(p.b).to_owned()],
            merge_base: ids(&p.merge_base),
            verdict: cmp.verdict,
            proven,
            shared: cmp.shared,
            unknown: cmp.unknown,
            adds: [ids(&p.a_adds), ids(&p.b_adds)],
            proof: proof_text,
        });
    }
    Ok(out)
}

/// What one revision's upgrade touches: its SQL for `dialect` (or another it has),
/// or its Alembic `op.*` calls.
fn touches_of(rev: &Revision, dialect: Dialect, authorship: &Authorship) -> RevisionTouches {
    let mut out = RevisionTouches {
        revision: rev.id.to_string(),
        path: rev.origin.path.clone(),
        author: rev
            .origin
            .path
            .as_deref()
            .and_then(|p| authorship.for_file(p).added.map(|c| c.author_name)),
        ..RevisionTouches::default()
    };
    let text = rev
        .origin
        .path
        .as_deref()
        .and_then(|p| read_bounded(p, MAX_FILE_BYTES).ok());
    match rev.body {
        Body::Python => {
            let Some(text) = text else {
                out.unknown
                    .push((None, "the module could not be read".into()));
                return out;
            };
            match ops::upgrade_ops(&text) {
                Err(e) => out.unknown.push((
                    Some(e.line),
                    format!("upgrade() could not be read: {}", e.message),
                )),
                Ok(statements) => {
                    for s in statements {
                        if let Some(why) = s.unknown {
                            out.unknown.push((Some(s.line), why));
                            continue;
                        }
                        out.touches
                            .extend(s.touches.into_iter().map(|t| (t, Some(s.line))));
                        if let Some(sql) = s.sql {
                            add_sql(&mut out, dialect, &sql, |_| Some(s.line));
                        }
                    }
                }
            }
        }
        _ => {
            let Some(sql) = rev.upgrade.as_ref() else {
                return out;
            };
            let (d, sql) = match sql.for_dialect(dialect) {
                Some(s) => (dialect, s),
                None => match Dialect::ALL
                    .iter()
                    .find_map(|&d| sql.for_dialect(d).map(|s| (d, s)))
                {
                    Some(found) => found,
                    None => return out,
                },
            };
            let start = text.as_deref().map(|t| sql_start_line(t, d));
            add_sql(&mut out, d, sql, |line| {
                start.flatten().map(|s| s + line as u32)
            });
        }
    }
    out
}

/// Adds what `sql`'s statements touch; `line_of` maps a script line to a file line.
fn add_sql(
    out: &mut RevisionTouches,
    dialect: Dialect,
    sql: &str,
    line_of: impl Fn(usize) -> Option<u32>,
) {
    for st in migrate::sql::analyse(dialect, sql).statements {
        let line = line_of(st.line);
        match &st.parsed {
            Err(e) => out.unknown.push((
                line,
                format!(
                    "statement {} `{}`: {}",
                    st.number,
                    st.excerpt,
                    migrate::files::load::excerpt(e)
                ),
            )),
            Ok(_) => out
                .touches
                .extend(st.touches.into_iter().map(|t| (t, line))),
        }
    }
}

/// The file line just before a YAML revision's upgrade SQL starts: `upgrade: |` (the
/// SQL starts on the next line) or `upgrade:` with a `<dialect>: |` below it.
fn sql_start_line(text: &str, dialect: Dialect) -> Option<u32> {
    let lines: Vec<&str> = text.lines().collect();
    let at = lines.iter().position(|l| l.starts_with("upgrade:"))?;
    let rest = lines[at]["upgrade:".len()..].trim();
    let block = |rest: &str| rest.starts_with('|') || rest.starts_with('>');
    if !rest.is_empty() {
        return Some(if block(rest) {
            at as u32 + 1
        } else {
            at as u32
        });
    }
    let key = format!("{}:", dialect.name());
    for (i, l) in lines.iter().enumerate().skip(at + 1) {
        if !l.starts_with(' ') {
            break;
        }
        if let Some(r) = l.trim_start().strip_prefix(&key) {
            let r = r.trim();
            return Some(if block(r) || r.is_empty() {
                i as u32 + 1
            } else {
                i as u32
            });
        }
    }
    Some(at as u32 + 1)
}

/// Replays the merge base, then A then B, and B then A, on scratch SQLite databases
/// when every revision involved has SQLite SQL; proven when the replay agrees with the
/// verdict (independent: the same schema, no error; overlapping: the orders differ or
/// one fails).
fn prove(
    graph: &RevisionGraph,
    p: &HeadsPair,
    cmp: &Comparison,
) -> Result<(bool, Option<String>), Failure> {
    let all = p.common.iter().chain(&p.a_adds).chain(&p.b_adds);
    let runs_on_sqlite = |ix: &Ix| {
        let r = graph.revision(*ix);
        r.body != Body::Python
            && r.upgrade
                .as_ref()
                .is_none_or(|s| s.for_dialect(Dialect::Sqlite).is_some())
    };
    if let Some(bad) = all.clone().find(|ix| !runs_on_sqlite(ix)) {
        let r = graph.revision(*bad);
        let why = if r.body == Body::Python {
            "it is an Alembic revision (Python)"
        } else {
            "it has no SQLite SQL"
        };
        return Ok((
            false,
            Some(format!(
                "not proven: {} can't run on SQLite ({why}); read from the SQL alone",
                r.id
            )),
        ));
    }
    let seq = |first: &[Ix], second: &[Ix]| -> Vec<&Revision> {
        p.common
            .iter()
            .chain(first)
            .chain(second)
            .map(|&i| graph.revision(i))
            .collect()
    };
    let ab = seq(&p.a_adds, &p.b_adds);
    let ba = seq(&p.b_adds, &p.a_adds);
    let opts = migrate::schema::introspect::IntrospectOptions::default();
    let rt = super::database::runtime()?;
    let (r1, r2) = rt.block_on(async {
        (
            migrate::schema::autogen::replay_in_order_sqlite(&ab, &opts).await,
            migrate::schema::autogen::replay_in_order_sqlite(&ba, &opts).await,
        )
    });
    let (a, b) = (graph.id(p.a), graph.id(p.b));
    let (same, text) = match (r1, r2) {
        (Ok(s1), Ok(s2)) => {
            let d = diff(&s1, &s2);
            let reordered = column_order_differences(&s1, &s2);
            if !d.is_empty() {
                let tables: Vec<String> = d.changes.iter().map(|c| c.table().to_owned()).collect();
                (false, format!(
                    "{a} then {b}, and {b} then {a}, give different schemas on SQLite ({} difference(s), in {})",
                    d.changes.len(),
                    tables.join(", ")
                ))
            } else if !reordered.is_empty() {
                (false, format!(
                    "{a} then {b}, and {b} then {a}, give different schemas on SQLite (the columns of {} come in another order)",
                    reordered.join("; ")
                ))
            } else if s1 != s2 {
                (false, format!(
                    "{a} then {b}, and {b} then {a}, give different schemas on SQLite (in a property autogenerate does not compare: {})",
                    unequal_tables(&s1, &s2).join(", ")
                ))
            } else {
                (
                    true,
                    format!("{a} then {b}, and {b} then {a}, give the same schema on SQLite"),
                )
            }
        }
        (e1, e2) => {
            let mut parts = Vec::new();
            if let Err(e) = e1 {
                parts.push(format!("{a} then {b} fails: {e}"));
            }
            if let Err(e) = e2 {
                parts.push(format!("{b} then {a} fails: {e}"));
            }
            (false, parts.join("; "))
        }
    };
    let proven = match cmp.verdict {
        Verdict::Independent => same,
        Verdict::Overlapping => !same,
        Verdict::Unknown => false,
    };
    let lead = if proven { "proven" } else { "not proven" };
    Ok((proven, Some(format!("{lead}: {text}"))))
}

/// Tables whose columns the two schemas list in another order (autogenerate's diff
/// leaves order out): `users (email, phone / phone, email)`.
fn column_order_differences(s1: &Schema, s2: &Schema) -> Vec<String> {
    let names = |t: &migrate::schema::Table| -> Vec<String> {
        t.columns.iter().map(|c| c.name.clone()).collect()
    };
    s1.tables
        .iter()
        .filter_map(|(name, t1)| {
            let (c1, c2) = (names(t1), names(s2.tables.get(name)?));
            (c1 != c2).then(|| format!("{name} ({} / {})", c1.join(", "), c2.join(", ")))
        })
        .collect()
}

/// Tables (and views) that differ between the two schemas in any introspected property.
fn unequal_tables(s1: &Schema, s2: &Schema) -> Vec<String> {
    let mut out: Vec<String> = s1
        .tables
        .iter()
        .filter(|(name, t)| s2.tables.get(*name) != Some(*t))
        .map(|(name, _)| name.clone())
        .collect();
    out.extend(
        s1.views
            .iter()
            .filter(|(name, v)| s2.views.get(*name) != Some(*v))
            .map(|(name, _)| format!("view {name}")),
    );
    if out.is_empty() {
        out.push("the schema as a whole".to_owned());
    }
    out
}

/// A pair in text.
pub fn pair_text(r: &PairReport) -> String {
    let [a, b] = &r.heads;
    let mut text = format!("heads {a} and {b}: {}", r.verdict.name());
    text.push_str(if r.proven {
        " (proven on SQLite)\n"
    } else {
        "\n"
    });
    let base = if r.merge_base.is_empty() {
        "none (no common history)".to_owned()
    } else {
        r.merge_base.join(", ")
    };
    text.push_str(&format!("  merge base: {base}\n"));
    for (head, adds) in [(a, &r.adds[0]), (b, &r.adds[1])] {
        text.push_str(&format!(
            "  {head} adds {} revision(s): {}\n",
            adds.len(),
            adds.join(", ")
        ));
    }
    for s in &r.shared {
        text.push_str(&format!("  shared {} {}:\n", s.kind, s.object));
        for (head, list) in [(a, &s.a), (b, &s.b)] {
            for e in list {
                text.push_str(&format!(
                    "    {head} side: {} {} ({}{})\n",
                    e.revision,
                    e.action,
                    place(e.path.as_deref(), e.line),
                    e.author
                        .as_deref()
                        .map(|x| format!(", {x}"))
                        .unwrap_or_default()
                ));
            }
        }
    }
    for u in &r.unknown {
        let head = if u.side == "a" { a } else { b };
        text.push_str(&format!(
            "  unknown ({head} side): {} at {}: {}\n",
            u.revision,
            place(u.path.as_deref(), u.line),
            u.statement
        ));
    }
    if let Some(p) = &r.proof {
        text.push_str(&format!("  {p}\n"));
    } else if !r.proven {
        text.push_str("  read from the SQL alone (no SQLite replay)\n");
    }
    text
}

fn place(path: Option<&Path>, line: Option<u32>) -> String {
    match (path, line) {
        (Some(p), Some(l)) => format!("{}:{l}", p.display()),
        (Some(p), None) => p.display().to_string(),
        _ => "?".to_owned(),
    }
}
