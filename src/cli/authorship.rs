//! Git authorship as the commands show it: loading it once per command (warnings and
//! the shallow-clone note on stderr) and the lines `heads`, `history`, `check` and
//! `merge` add about who wrote a revision.

use migrate::core::{Ix, RevisionGraph};
use migrate::git::{head_origin, Authorship, HeadOrigin};

use super::context::Context;

/// Reads authorship for the revisions directory; problems become warnings on stderr.
pub fn load(ctx: &Context) -> Authorship {
    let authorship = Authorship::load(&ctx.revisions_dir);
    for w in &authorship.warnings {
        eprintln!("{w}");
    }
    if let Some(note) = authorship.shallow_note() {
        eprintln!("note: {note}");
    }
    authorship
}

/// The origin of each of `revisions` (heads: with the branches holding them).
pub fn origins(
    graph: &RevisionGraph,
    revisions: &[Ix],
    authorship: &Authorship,
    with_branches: bool,
) -> Vec<HeadOrigin> {
    revisions
        .iter()
        .map(|&ix| head_origin(graph, ix, authorship, with_branches))
        .collect()
}

/// A verbose entry (from `entry::verbose`) with an `Author:` line added before the
/// message.
pub fn with_author_line(verbose: String, origin: &HeadOrigin) -> String {
    let line = format!("Author: {}\n", origin.describe());
    match verbose.find("\n\n") {
        Some(at) => format!("{}{line}{}", &verbose[..at + 1], &verbose[at + 1..]),
        None => format!("{verbose}{line}"),
    }
}
