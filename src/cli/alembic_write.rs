//! `revision` and `merge` on an Alembic project: the `.py` file `alembic revision` or
//! `alembic merge` would write, rendered from the project's own `script.py.mako`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use migrate::core::{Revision, RevisionGraph};
use migrate::files::alembic::newfile::{module_file_name, render_module, CreateDate, NewModule};
use migrate::files::alembic::AlembicSettings;
use migrate::files::load::{read_bounded, MAX_FILE_BYTES};

use super::context::{relative_to, Context};
use super::output::{print_json, write_stdout, CmdResult, Failure, Format};

/// The version location a new revision goes to: `--version-path`, else the only
/// location, else the directory of its first parent's file.
fn version_dir(
    ctx: &Context,
    a: &AlembicSettings,
    graph: &RevisionGraph,
    rev: &Revision,
    flag: Option<&Path>,
) -> Result<PathBuf, Failure> {
    if let Some(p) = flag {
        let p = ctx.cwd.join(p);
        let known = a
            .version_locations
            .dirs
            .iter()
            .any(|d| std::path::absolute(d).ok() == std::path::absolute(&p).ok());
        if !known {
            return Err(Failure::usage(format!(
                "Path {} is not represented in current version locations",
                p.display()
            )));
        }
        return Ok(p);
    }
    match a.version_locations.dirs.as_slice() {
        [one] => Ok(one.clone()),
        _ => rev
            .down_revisions
            .first()
            .and_then(|d| graph.find(d.as_str()))
            .and_then(|ix| {
                graph
                    .revision(ix)
                    .origin
                    .path
                    .as_ref()?
                    .parent()
                    .map(Path::to_path_buf)
            })
            .ok_or_else(|| {
                Failure::usage("Multiple version locations present, please specify --version-path")
            }),
    }
}

/// The ini's main-section options, interpolated, for `config.get_main_option` in a
/// template (multidb's `databases`).
fn main_options(a: &AlembicSettings) -> BTreeMap<String, String> {
    let Some(ini) = a
        .ini_path
        .as_deref()
        .and_then(|p| read_bounded(p, MAX_FILE_BYTES).ok())
        .and_then(|t| migrate::files::alembic::ini::Ini::parse(&t).ok())
    else {
        return BTreeMap::new();
    };
    let here = a
        .ini_path
        .as_deref()
        .and_then(Path::parent)
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    ini.keys(&a.section)
        .into_iter()
        .filter_map(|key| {
            let v = ini
                .get(&a.section, key, &[("here", here.as_str())])
                .ok()??;
            Some((key.to_owned(), v.value))
        })
        .collect()
}

/// Writes `rev` as an Alembic module and reports its path.
pub fn write(
    ctx: &Context,
    a: &AlembicSettings,
    graph: &RevisionGraph,
    rev: &Revision,
    version_path: Option<&Path>,
) -> CmdResult {
    let template_path = a.script_location.join("script.py.mako");
    let template = read_bounded(&template_path, MAX_FILE_BYTES)
        .map_err(|e| Failure::new(format!("{}: {e}", template_path.display())))?;
    let create_date = CreateDate::now(a.timezone.as_deref()).map_err(Failure::from)?;
    let mut m = NewModule::new(rev.id.to_string(), create_date);
    m.down_revisions = rev.down_revisions.iter().map(|d| d.to_string()).collect();
    m.branch_labels = rev.branch_labels.clone();
    m.depends_on = rev.depends_on.clone();
    m.message = Some(rev.message.clone()).filter(|m| !m.is_empty());
    m.main_options = main_options(a);
    let text = render_module(&template, &m).map_err(|e| {
        Failure::new(format!("{}:{}: {e}", template_path.display(), e.line))
            .hint("write this revision with `alembic revision`, or simplify the template")
    })?;
    let name = module_file_name(&a.file_template, &m, a.truncate_slug_length)
        .map_err(|e| Failure::usage(e.to_string()))?;
    let dir = version_dir(ctx, a, graph, rev, version_path)?;
    let path = dir.join(&name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| Failure::new(format!("can't create {}: {e}", parent.display())))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| Failure::new(format!("can't write {}: {e}", path.display())))?;
    std::io::Write::write_all(&mut file, text.as_bytes())
        .map_err(|e| Failure::new(format!("can't write {}: {e}", path.display())))?;
    let shown = relative_to(&path, &ctx.cwd);
    if ctx.format == Format::Json {
        return print_json(&serde_json::json!({"revision": rev.id, "path": shown}));
    }
    eprintln!("Generating {} ... done", path.display());
    write_stdout(&format!("{}\n", shown.display()))
}
