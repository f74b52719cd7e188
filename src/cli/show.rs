//! `migrate show REV`: one revision in full, with its SQL.

use migrate::core::{Resolver, Sql};

use super::context::Context;
use super::entry::{self, Entry};
use super::output::{print_json, text_or_json, write_stdout, CmdResult, Failure};

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The revision: an id, a unique prefix, `head`, a branch label, `label@head`, `head-1`...
    pub revision: String,
}

#[derive(serde::Serialize)]
struct ShowJson {
    #[serde(flatten)]
    entry: Entry,
    upgrade: serde_json::Value,
    downgrade: serde_json::Value,
}

fn sql_text(sql: Option<&Sql>) -> String {
    match sql {
        None => "    (none: irreversible)\n".to_owned(),
        Some(Sql::All(text)) => indent(text, "    "),
        Some(Sql::PerDialect(map)) => map
            .iter()
            .map(|(d, text)| format!("  {d}:\n{}", indent(text, "    ")))
            .collect(),
    }
}

fn indent(text: &str, pad: &str) -> String {
    if text.trim().is_empty() {
        return format!("{pad}(empty)\n");
    }
    text.lines().map(|l| format!("{pad}{l}\n")).collect()
}

pub fn run(ctx: &Context, args: ShowArgs) -> CmdResult {
    let json = text_or_json(ctx, "show")?;
    if args.revision.trim().is_empty() {
        return Err(Failure::usage("name a revision to show"));
    }
    let graph = ctx.load_graph()?;
    let ix = Resolver::new(&graph)
        .resolve_one(&args.revision)
        .map_err(|e| super::resolve_failure(e.into()))?
        .ok_or_else(|| Failure::new("'base' is not a revision; name one to show"))?;
    let rev = graph.revision(ix);
    if json {
        return print_json(&ShowJson {
            entry: Entry::new(&graph, ix),
            upgrade: entry::sql_json(rev.upgrade.as_ref()),
            downgrade: entry::sql_json(rev.downgrade.as_ref()),
        });
    }
    let mut text = entry::verbose(&graph, ix, ctx.paint);
    text.push_str("\nupgrade:\n");
    text.push_str(&sql_text(rev.upgrade.as_ref()));
    text.push_str("downgrade:\n");
    text.push_str(&sql_text(rev.downgrade.as_ref()));
    write_stdout(&text)
}
