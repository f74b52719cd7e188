//! `migrate graph`: the DAG as Graphviz DOT, a Mermaid flowchart, or ASCII lanes.

use migrate::core::{plan, Ix, RevisionGraph};

use super::context::Context;
use super::entry;
use super::output::{write_stdout, CmdResult, Failure, Format, Paint};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphOutput {
    Dot,
    Mermaid,
    Ascii,
}

#[derive(Debug, clap::Args)]
pub struct GraphArgs {
    /// Drawing format.
    #[arg(long, short, value_enum, default_value_t = GraphOutput::Ascii)]
    pub output: GraphOutput,
}

pub fn run(ctx: &Context, args: GraphArgs) -> CmdResult {
    if ctx.format != Format::Text {
        return Err(Failure::usage(
            "`graph` draws with --output dot|mermaid|ascii; --format does not apply",
        ));
    }
    let graph = ctx.load_graph()?;
    let text = match args.output {
        GraphOutput::Dot => dot(&graph),
        GraphOutput::Mermaid => mermaid(&graph),
        GraphOutput::Ascii => ascii(&graph, ctx.paint)?,
    };
    write_stdout(&text)
}

fn quote_dot(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Graphviz DOT: edges point from parent to child; dependencies are dashed; heads bold,
/// merge points double-bordered.
pub fn dot(graph: &RevisionGraph) -> String {
    let mut out = String::from(
        "digraph revisions {\n  rankdir=BT;\n  node [shape=box, fontname=\"monospace\"];\n",
    );
    for ix in 0..graph.len() as Ix {
        let rev = graph.revision(ix);
        let mut attrs = vec![format!(
            "label=\"{}\\n{}\"",
            quote_dot(rev.id.as_str()),
            quote_dot(rev.summary())
        )];
        if graph.is_head(ix) {
            attrs.push("style=bold".into());
        }
        if graph.is_merge_point(ix) {
            attrs.push("peripheries=2".into());
        }
        out.push_str(&format!("  \"{}\" [{}];\n", rev.id, attrs.join(", ")));
    }
    for ix in 0..graph.len() as Ix {
        for &p in graph.parents(ix) {
            out.push_str(&format!("  \"{}\" -> \"{}\";\n", graph.id(p), graph.id(ix)));
        }
        for &d in graph.dependencies(ix) {
            out.push_str(&format!(
                "  \"{}\" -> \"{}\" [style=dashed, label=\"depends_on\"];\n",
                graph.id(d),
                graph.id(ix)
            ));
        }
    }
    out.push_str("}\n");
    out
}

fn quote_mermaid(text: &str) -> String {
    text.replace('"', "#quot;")
}

/// A Mermaid flowchart, bottom to top; dependencies are dotted.
pub fn mermaid(graph: &RevisionGraph) -> String {
    let mut out = String::from("flowchart BT\n");
    for ix in 0..graph.len() as Ix {
        let rev = graph.revision(ix);
        let shape = if graph.is_merge_point(ix) {
            ("{{", "}}")
        } else if graph.is_head(ix) {
            ("([", "])")
        } else {
            ("[", "]")
        };
        out.push_str(&format!(
            "  {}{}\"{}: {}\"{}\n",
            rev.id,
            shape.0,
            rev.id,
            quote_mermaid(rev.summary()),
            shape.1
        ));
    }
    for ix in 0..graph.len() as Ix {
        for &p in graph.parents(ix) {
            out.push_str(&format!("  {} --> {}\n", graph.id(p), graph.id(ix)));
        }
        for &d in graph.dependencies(ix) {
            out.push_str(&format!(
                "  {} -.->|depends_on| {}\n",
                graph.id(d),
                graph.id(ix)
            ));
        }
    }
    out
}

/// Lanes like `git log --graph`: newest first, `*` the revision, `|` lanes passing by,
/// `\` a lane opened by a merge, `/` a lane closed at a branch point.
pub fn ascii(graph: &RevisionGraph, paint: Paint) -> Result<String, Failure> {
    let order = plan::history(graph, "base", "heads").map_err(Failure::from)?;
    // Each lane waits for the revision it will reach next.
    let mut lanes: Vec<Option<Ix>> = Vec::new();
    let mut out = String::new();
    let row = |lanes: &[Option<Ix>], mark: &dyn Fn(usize) -> Option<char>| -> String {
        let mut s = String::new();
        for (i, lane) in lanes.iter().enumerate() {
            let c = mark(i).unwrap_or(if lane.is_some() { '|' } else { ' ' });
            s.push(c);
            s.push(' ');
        }
        s.trim_end().to_owned()
    };
    for ix in order {
        let waiting: Vec<usize> = lanes
            .iter()
            .enumerate()
            .filter(|(_, l)| **l == Some(ix))
            .map(|(i, _)| i)
            .collect();
        let col = match waiting.first() {
            Some(&c) => c,
            None => match lanes.iter().position(Option::is_none) {
                Some(free) => free,
                None => {
                    lanes.push(None);
                    lanes.len() - 1
                }
            },
        };
        // Lanes that also waited for this revision join it here (a branch point).
        let closing: Vec<usize> = waiting.iter().copied().filter(|&w| w != col).collect();
        if !closing.is_empty() {
            out.push_str(&row(&lanes, &|i| closing.contains(&i).then_some('/')));
            out.push('\n');
            for c in closing {
                lanes[c] = None;
            }
        }
        lanes[col] = Some(ix);
        let node_row = row(&lanes, &|i| (i == col).then_some('*'));
        out.push_str(&format!(
            "{node_row} {}{} {}\n",
            paint.id(graph.id(ix)),
            entry::flags(graph, ix, paint),
            graph.revision(ix).summary()
        ));
        // The first parent continues this lane; further parents open lanes.
        let parents = graph.parents(ix);
        lanes[col] = parents.first().copied();
        let mut opened = Vec::new();
        for &p in parents.iter().skip(1) {
            let slot = match lanes.iter().position(Option::is_none) {
                Some(free) => free,
                None => {
                    lanes.push(None);
                    lanes.len() - 1
                }
            };
            lanes[slot] = Some(p);
            opened.push(slot);
        }
        if !opened.is_empty() {
            out.push_str(&row(&lanes, &|i| opened.contains(&i).then_some('\\')));
            out.push('\n');
        }
        while lanes.last() == Some(&None) {
            lanes.pop();
        }
    }
    Ok(out)
}
