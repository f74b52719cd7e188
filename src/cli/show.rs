//! `migrate show REV`: one revision in full, with its SQL.

use migrate::core::{Resolver, Sql};

use super::context::Context;
use super::entry::{self, Entry};
use super::output::{print_json, write_stdout, CmdResult, Failure};

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The revision: an id, a unique prefix, `head`, a branch label, `label@head`, `head-1`...
    pub revision: String,
    #[command(flatten)]
    pub out: super::output::FormatArg<super::output::TextJson>,
}

#[derive(serde::Serialize)]
struct ShowJson {
    #[serde(flatten)]
    entry: Entry,
    upgrade: serde_json::Value,
    downgrade: serde_json::Value,
    /// An Alembic revision: the whole module docstring.
    #[serde(skip_serializing_if = "Option::is_none")]
    docstring: Option<String>,
}

/// An Alembic revision's `upgrade()` and `downgrade()` source, read from its file.
fn python_functions(
    rev: &migrate::core::Revision,
) -> Result<(serde_json::Value, serde_json::Value), Failure> {
    let Some(path) = &rev.origin.path else {
        return Ok((serde_json::Value::Null, serde_json::Value::Null));
    };
    let text = migrate::files::load::read_bounded(path, migrate::files::load::MAX_FILE_BYTES)
        .map_err(|e| Failure::new(format!("{}: {e}", path.display())))?;
    let functions = migrate::files::alembic::python::function_sources(&text)
        .map_err(|e| Failure::new(format!("{}:{}: {}", path.display(), e.line, e.message)))?;
    let find = |name: &str| {
        functions
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map_or(serde_json::Value::Null, |(_, src)| src.clone().into())
    };
    Ok((find("upgrade"), find("downgrade")))
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
    let json = ctx.text_or_json("show")?;
    if args.revision.trim().is_empty() {
        return Err(Failure::usage("name a revision to show"));
    }
    let graph = ctx.load_graph()?;
    let ix = Resolver::new(&graph)
        .resolve_one(&args.revision)
        .map_err(|e| super::resolve_failure(e.into()))?
        .ok_or_else(|| Failure::new("'base' is not a revision; name one to show"))?;
    let rev = graph.revision(ix);
    let python = rev.body == migrate::core::Body::Python;
    if json {
        let (upgrade, downgrade) = if python {
            python_functions(rev)?
        } else {
            (
                entry::sql_json(rev.upgrade.as_ref()),
                entry::sql_json(rev.downgrade.as_ref()),
            )
        };
        return print_json(&ShowJson {
            entry: Entry::new(&graph, ix),
            upgrade,
            downgrade,
            docstring: python.then(|| rev.message.clone()),
        });
    }
    let mut text = entry::verbose(&graph, ix, ctx.paint);
    if python {
        // Alembic's `show`: the entry and a blank line; the code stays in the file.
        text.push('\n');
        return write_stdout(&text);
    }
    text.push_str("\nupgrade:\n");
    text.push_str(&sql_text(rev.upgrade.as_ref()));
    text.push_str("downgrade:\n");
    text.push_str(&sql_text(rev.downgrade.as_ref()));
    write_stdout(&text)
}
