//! `migrate heads` and `migrate branches`.

use std::path::PathBuf;

use migrate::core::Ix;
use migrate::git::HeadOrigin;
use serde::Serialize;

use super::authorship;
use super::context::Context;
use super::entry;
use super::output::{print_json, write_stdout, CmdResult};

#[derive(Debug, clap::Args)]
pub struct HeadsArgs {
    /// Show each head in full.
    #[arg(short, long)]
    pub verbose: bool,
    /// Only real heads: leave out revisions that are just dependency targets.
    #[arg(long)]
    pub resolve_dependencies: bool,
    #[command(flatten)]
    pub out: super::output::FormatArg<super::output::TextJson>,
}

#[derive(Serialize)]
struct HeadJson {
    revision: String,
    message: String,
    branch_labels: Vec<String>,
    path: Option<PathBuf>,
    /// With `--verbose`: who added the head, in which commit, on which branches.
    #[serde(skip_serializing_if = "Option::is_none")]
    origin: Option<HeadOrigin>,
}

pub fn run(ctx: &Context, args: HeadsArgs) -> CmdResult {
    let json = ctx.text_or_json("heads")?;
    let graph = ctx.load_graph()?;
    let heads: &[Ix] = if args.resolve_dependencies {
        graph.real_heads()
    } else {
        graph.heads()
    };
    let origins = if args.verbose {
        let authorship = authorship::load(ctx);
        authorship::origins(&graph, heads, &authorship, true)
    } else {
        Vec::new()
    };
    if json {
        let out: Vec<HeadJson> = heads
            .iter()
            .enumerate()
            .map(|(i, &h)| {
                let rev = graph.revision(h);
                HeadJson {
                    revision: rev.id.to_string(),
                    message: rev.summary().to_owned(),
                    branch_labels: graph.branch_labels(h).map(str::to_owned).collect(),
                    path: rev.origin.path.clone(),
                    origin: origins.get(i).cloned(),
                }
            })
            .collect();
        return print_json(&out);
    }
    let mut text = String::new();
    for (i, &h) in heads.iter().enumerate() {
        if args.verbose {
            let entry = entry::verbose(&graph, h, ctx.paint);
            match origins.get(i).filter(|_| !ctx.source.is_alembic()) {
                Some(o) => text.push_str(&authorship::with_author_line(entry, o)),
                None => text.push_str(&entry),
            }
            text.push('\n');
        } else {
            let parts = entry::LineParts {
                branches: true,
                ..Default::default()
            };
            text.push_str(&entry::one_line(&graph, h, ctx.paint, parts));
            text.push('\n');
        }
    }
    write_stdout(&text)
}

#[derive(Debug, clap::Args)]
pub struct BranchesArgs {
    /// Show each branch point in full.
    #[arg(short, long)]
    pub verbose: bool,
    #[command(flatten)]
    pub out: super::output::FormatArg<super::output::TextJson>,
}

#[derive(Serialize)]
struct BranchJson {
    revision: String,
    children: Vec<String>,
}

pub fn run_branches(ctx: &Context, args: BranchesArgs) -> CmdResult {
    let json = ctx.text_or_json("branches")?;
    let graph = ctx.load_graph()?;
    // In history order (newest first), as Alembic walks them.
    let order =
        migrate::core::plan::history(&graph, "base", "heads").map_err(super::resolve_failure)?;
    let points = order.into_iter().filter(|&i| graph.is_branch_point(i));
    if json {
        let out: Vec<BranchJson> = points
            .map(|b| BranchJson {
                revision: graph.id(b).to_owned(),
                children: graph
                    .children(b)
                    .iter()
                    .map(|&c| graph.id(c).to_owned())
                    .collect(),
            })
            .collect();
        return print_json(&out);
    }
    // Alembic's layout: the branch point, its children indented under it, a blank line.
    let mut text = String::new();
    let tree = entry::LineParts {
        branches: true,
        tree: true,
        ..Default::default()
    };
    for b in points {
        if args.verbose {
            text.push_str(&entry::verbose(&graph, b, ctx.paint));
        } else {
            text.push_str(&entry::one_line(&graph, b, ctx.paint, tree));
        }
        text.push('\n');
        let pad = " ".repeat(graph.id(b).len());
        let child = entry::LineParts {
            doc: args.verbose,
            ..tree
        };
        for &c in graph.children(b) {
            text.push_str(&format!(
                "{pad} -> {}\n",
                entry::one_line(&graph, c, ctx.paint, child)
            ));
        }
        text.push('\n');
    }
    write_stdout(&text)
}
