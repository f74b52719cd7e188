//! What `revision --autogenerate` and `check` share: the models file, and the
//! database's schema and version rows read together.

use std::collections::BTreeSet;
use std::path::PathBuf;

use migrate::core::{Dialect, RevisionGraph};
use migrate::db;
use migrate::schema::autogen;
use migrate::schema::introspect::IntrospectOptions;
use migrate::schema::model::{load_models, Schema};

use super::context::{relative_to, Context};
use super::database;
use super::output::Failure;

/// The models file as the user would name it, and its parsed schema.
pub fn models(ctx: &Context) -> Result<(PathBuf, Schema), Failure> {
    let path = autogen::models_path(
        &ctx.config.dir,
        &ctx.cwd.join(&ctx.revisions_dir),
        ctx.config.settings.models.as_deref(),
    );
    let shown = relative_to(&path, &ctx.cwd);
    let schema = load_models(&shown).map_err(Failure::from)?;
    Ok((shown, schema))
}

/// Whether a models file is there to compare with.
pub fn models_exist(ctx: &Context) -> bool {
    autogen::models_path(
        &ctx.config.dir,
        &ctx.cwd.join(&ctx.revisions_dir),
        ctx.config.settings.models.as_deref(),
    )
    .exists()
}

/// The tool's own tables, left out of every comparison.
pub fn introspect_options(ctx: &Context) -> Result<IntrospectOptions, Failure> {
    let t = database::tables(ctx)?;
    Ok(IntrospectOptions {
        ignore_tables: vec![t.version, t.log],
        ..IntrospectOptions::default()
    })
}

/// A database as autogenerate sees it.
pub struct LiveState {
    pub dialect: Dialect,
    pub schema: Schema,
    pub rows: Vec<String>,
}

/// Reads the version rows and the schema (with the PostgreSQL schemas `models` names),
/// on one connection; `None` for a SQLite file that doesn't exist.
pub fn read_database(ctx: &Context, models: &Schema) -> Result<Option<LiveState>, Failure> {
    let url = database::database_url(ctx)?;
    let mut opts = introspect_options(ctx)?;
    opts.schemas = models.schemas();
    let rt = database::runtime()?;
    rt.block_on(async {
        let Some(mut db) = database::connect(ctx, &url, false, db::DEFAULT_LOCK_TIMEOUT).await?
        else {
            return Ok(None);
        };
        let rows = db.read_versions().await.map_err(Failure::from);
        let schema = match rows {
            Ok(_) => Some(db.introspect(&opts).await),
            Err(_) => None,
        };
        db.close().await;
        let rows = rows?;
        let schema = match schema {
            Some(Ok(s)) => s,
            Some(Err(e)) => return Err(Failure::new(url.scrub(&e.to_string()))),
            None => Schema::default(),
        };
        Ok(Some(LiveState {
            dialect: url.dialect(),
            schema,
            rows,
        }))
    })
}

/// Refuses a database that is not at every head: the comparison would be meaningless.
pub fn require_at_head(graph: &RevisionGraph, rows: &[String]) -> Result<(), Failure> {
    let heads: BTreeSet<&str> = graph.real_heads().iter().map(|&h| graph.id(h)).collect();
    let at: BTreeSet<&str> = rows.iter().map(String::as_str).collect();
    if heads == at {
        return Ok(());
    }
    Err(
        Failure::new("Target database is not up to date.").hint(format!(
            "the database is at {}; run `migrate upgrade heads` first",
            if at.is_empty() {
                "base".to_owned()
            } else {
                at.into_iter().collect::<Vec<_>>().join(", ")
            }
        )),
    )
}
