//! `migrate revision`: write a new revision on the head.

use chrono::{SubsecRound, Utc};
use migrate::core::revision::validate_name;
use migrate::core::{Ix, ResolveError, Resolver, Revision, RevisionGraph, RevisionId, Sql};
use migrate::files;
use migrate::schema::autogen;

use super::context::{relative_to, Context};
use super::output::{print_json, write_stdout, CmdResult, Failure, Format};

#[derive(Debug, clap::Args)]
pub struct RevisionArgs {
    /// What the revision does (required; becomes the file name's slug).
    #[arg(short, long)]
    pub message: String,
    /// The revision to build on: default `head`; `base` starts a new root; `label@head`.
    #[arg(long, value_name = "REV")]
    pub head: Option<String>,
    /// Allow building on a revision that is not a head (starts a branch).
    #[arg(long)]
    pub splice: bool,
    /// Branch label for the new revision (repeatable).
    #[arg(long = "branch-label", value_name = "LABEL")]
    pub branch_labels: Vec<String>,
    /// Revision or branch label the new revision depends on (repeatable; prefixes resolve).
    #[arg(long = "depends-on", value_name = "REV")]
    pub depends_on: Vec<String>,
    /// Use this id instead of a random one.
    #[arg(long = "rev-id", value_name = "ID")]
    pub rev_id: Option<String>,
    /// Fill the revision with the SQL that turns the database (at head) into the
    /// models file's schema; writes nothing when there is no difference.
    #[arg(long)]
    pub autogenerate: bool,
    /// An Alembic project with several version locations: the one to write to.
    #[arg(long, value_name = "DIR")]
    pub version_path: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub out: super::output::FormatArg<super::output::TextJson>,
    #[command(flatten)]
    pub db: super::output::DatabaseArg,
}

/// Checks a new revision's id and labels against the graph.
pub fn new_identity(
    ctx: &Context,
    graph: &RevisionGraph,
    rev_id: Option<&str>,
    labels: &[String],
) -> Result<RevisionId, Failure> {
    // An Alembic project takes Alembic's ids and labels (any string), YAML its own.
    let alembic = ctx.source.is_alembic();
    let id = match rev_id {
        Some(id) if alembic => RevisionId::alembic(id).map_err(Failure::usage)?,
        Some(id) => RevisionId::parse(id).map_err(Failure::usage)?,
        None => loop {
            let id = RevisionId::generate();
            if graph.find(id.as_str()).is_none() {
                break id;
            }
        },
    };
    if let Some(existing) = graph.find(id.as_str()) {
        return Err(Failure::new(format!(
            "revision id {id} is already used by {}",
            graph.revision(existing).location(None)
        )));
    }
    for label in labels {
        if !alembic {
            validate_name(label, "branch label").map_err(Failure::usage)?;
        }
        if let Some(owner) = graph.label_owner(label) {
            return Err(Failure::new(format!(
                "branch label '{label}' is already used by revision {}",
                graph.id(owner)
            )));
        }
        if graph.find(label).is_some() {
            return Err(Failure::new(format!(
                "branch label '{label}' is the id of an existing revision"
            )));
        }
    }
    Ok(id)
}

/// Writes a new revision file (a `.py` module on an Alembic project) and reports its
/// path.
pub fn write_new(
    ctx: &Context,
    graph: &RevisionGraph,
    rev: &Revision,
    version_path: Option<&std::path::Path>,
) -> CmdResult {
    if let Some(a) = &ctx.config.alembic {
        return super::alembic_write::write(ctx, a, graph, rev, version_path);
    }
    let path = files::write_revision(&ctx.revisions_dir, rev).map_err(|e| {
        Failure::new(format!(
            "can't write a revision into {}: {e}",
            ctx.revisions_dir.display()
        ))
    })?;
    let path = relative_to(&path, &ctx.cwd);
    if ctx.format == Format::Json {
        return print_json(&serde_json::json!({"revision": rev.id, "path": path}));
    }
    eprintln!("Generating {} ... done", path.display());
    write_stdout(&format!("{}\n", path.display()))
}

/// A revision with no SQL yet, created now.
pub fn blank_revision(id: RevisionId, parents: Vec<RevisionId>, message: &str) -> Revision {
    Revision {
        id,
        down_revisions: parents,
        depends_on: Vec::new(),
        branch_labels: Vec::new(),
        message: message.to_owned(),
        create_date: Some(Utc::now().trunc_subsecs(0)),
        transactional: migrate::core::Transactional::ALWAYS,
        upgrade: Some(Sql::All(String::new())),
        // Absent, not '': a downgrade through the revision is refused until its author
        // writes one (an empty string would be a reversible no-op). The file says so.
        downgrade: None,
        body: migrate::core::Body::Sql,
        origin: Default::default(),
    }
}

fn parent_of(graph: &RevisionGraph, head: &str, splice: bool) -> Result<Option<Ix>, Failure> {
    let resolver = Resolver::new(graph);
    match resolver.revision(head) {
        Ok(None) => Ok(None),
        Ok(Some(ix)) => {
            if !graph.is_head(ix) && !splice {
                return Err(Failure::new(format!(
                    "Revision {} is not a head revision; please specify --splice to create a new branch from this revision",
                    graph.id(ix)
                )));
            }
            Ok(Some(ix))
        }
        Err(ResolveError::MultipleHeads { heads, .. }) => Err(Failure::new(format!(
            "Multiple heads are present ({}); please specify the head revision on which the new revision should be based, or perform a merge",
            heads.join(", ")
        ))
        .hint("pass --head <rev> (or <label>@head), or run `migrate merge` first")),
        Err(e) => Err(super::resolve_failure(e.into())),
    }
}

pub fn run(ctx: &Context, args: RevisionArgs) -> CmdResult {
    if args.message.trim().is_empty() {
        return Err(Failure::usage(
            "the message (-m) is empty; say what the revision does",
        ));
    }
    let graph = ctx.load_graph()?;
    let head = args.head.as_deref().unwrap_or("head");
    let parent = parent_of(&graph, head, args.splice)?;
    if args.autogenerate && ctx.source.is_alembic() {
        return Err(Failure::usage(
            "--autogenerate compares migrate's models.yaml; on an Alembic project, whose models are SQLAlchemy's, run `alembic revision --autogenerate`",
        ));
    }
    let id = new_identity(ctx, &graph, args.rev_id.as_deref(), &args.branch_labels)?;
    let resolver = Resolver::new(&graph);
    let mut depends_on = Vec::new();
    for dep in &args.depends_on {
        if graph.label_owner(dep).is_some() {
            depends_on.push(dep.clone());
        } else {
            let ix = resolver
                .revision_for_ident(dep, None)
                .map_err(|e| super::resolve_failure(e.into()))?;
            depends_on.push(graph.id(ix).to_owned());
        }
    }
    let parents = parent
        .map(|p| graph.revision(p).id.clone())
        .into_iter()
        .collect();
    let mut rev = blank_revision(id, parents, &args.message);
    rev.branch_labels = args.branch_labels;
    rev.depends_on = depends_on;
    if args.autogenerate {
        let (_, models) = super::autogen::models(ctx)?;
        let live = match super::autogen::read_database(ctx, &models)? {
            Some(live) => live,
            None => super::autogen::LiveState {
                dialect: migrate::core::Dialect::Sqlite,
                schema: Default::default(),
                rows: Vec::new(),
            },
        };
        super::autogen::require_at_head(&graph, &live.rows)?;
        models.check_for(live.dialect).map_err(Failure::from)?;
        let rendered = autogen::render_all(live.dialect, &live.schema, &models);
        if rendered[0].is_empty() {
            eprintln!("No changes detected");
            if ctx.format == Format::Json {
                return print_json(&serde_json::json!({"revision": null, "changes": []}));
            }
            return Ok(std::process::ExitCode::SUCCESS);
        }
        for line in autogen::summary(&rendered[0]) {
            eprintln!("{line}");
        }
        autogen::fill_revision(&mut rev, &rendered);
        if ctx.format == Format::Json {
            let path = files::write_revision(&ctx.revisions_dir, &rev).map_err(|e| {
                Failure::new(format!(
                    "can't write a revision into {}: {e}",
                    ctx.revisions_dir.display()
                ))
            })?;
            return print_json(&serde_json::json!({
                "revision": rev.id,
                "path": relative_to(&path, &ctx.cwd),
                "changes": rendered[0].changes,
                "suspected_renames": rendered[0].suspected_renames,
            }));
        }
    }
    write_new(ctx, &graph, &rev, args.version_path.as_deref())
}
