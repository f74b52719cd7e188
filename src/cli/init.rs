//! `migrate init [DIR]`: a config file, an empty revisions directory, and `.gitignore`
//! entries for the default SQLite database (`app.db` and its `-wal`, `-shm` and
//! `-journal` companions), so a local database is never committed by accident.

use std::path::PathBuf;

use super::context::{relative_to, Context};
use super::output::{print_json, write_stdout, CmdResult, Failure, Format};

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Project directory (created if missing).
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    #[command(flatten)]
    pub out: super::output::FormatArg<super::output::TextJson>,
}

const CONFIG_TEMPLATE: &str = "\
# migrate configuration. Paths are relative to this file.
revisions: revisions
# database_url: postgres://user@localhost/app   (else DATABASE_URL, else sqlite://app.db)
# version_table: migrate_version                (alembic_version takes over an Alembic database)
# log_table: migrate_log
";

/// The lines `init` makes sure `.gitignore` holds.
const GITIGNORE_LINES: [&str; 4] = ["app.db", "app.db-wal", "app.db-shm", "app.db-journal"];
const GITIGNORE_COMMENT: &str = "# migrate's default SQLite database";

/// `existing` (a `.gitignore`'s text, empty when there is none) with the lines of
/// [`GITIGNORE_LINES`] it lacks appended; `None` when it has them all.
fn gitignore_with_entries(existing: &str) -> Option<String> {
    let has = |line: &str| existing.lines().any(|l| l.trim() == line);
    let missing: Vec<&str> = GITIGNORE_LINES.into_iter().filter(|l| !has(l)).collect();
    if missing.is_empty() {
        return None;
    }
    let mut text = existing.to_owned();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    if !has(GITIGNORE_COMMENT) {
        text.push_str(GITIGNORE_COMMENT);
        text.push('\n');
    }
    for line in missing {
        text.push_str(line);
        text.push('\n');
    }
    Some(text)
}

pub fn run(ctx: &Context, args: InitArgs) -> CmdResult {
    let dir = ctx.cwd.join(&args.dir);
    let config = dir.join(migrate::files::config::CONFIG_FILE);
    let revisions = dir.join("revisions");
    if config.exists() {
        return Err(Failure::new(format!(
            "{} already exists; nothing was changed",
            relative_to(&config, &ctx.cwd).display()
        )));
    }
    let io = |what: &std::path::Path, e: std::io::Error| {
        Failure::new(format!("can't create {}: {e}", what.display()))
    };
    std::fs::create_dir_all(&revisions).map_err(|e| io(&revisions, e))?;
    std::fs::write(&config, CONFIG_TEMPLATE).map_err(|e| io(&config, e))?;
    let gitignore = dir.join(".gitignore");
    let (existing, had_gitignore) = match std::fs::read_to_string(&gitignore) {
        Ok(text) => (text, true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (String::new(), false),
        Err(e) => {
            return Err(Failure::new(format!(
                "can't read {}: {e}",
                gitignore.display()
            )))
        }
    };
    let updated = gitignore_with_entries(&existing);
    if let Some(text) = &updated {
        std::fs::write(&gitignore, text).map_err(|e| io(&gitignore, e))?;
    }
    let config = relative_to(&config, &ctx.cwd);
    let revisions = relative_to(&revisions, &ctx.cwd);
    let gitignore = relative_to(&gitignore, &ctx.cwd);
    if ctx.format == Format::Json {
        return print_json(&serde_json::json!({
            "config": config,
            "revisions": revisions,
            "gitignore": gitignore,
            "gitignore_changed": updated.is_some(),
        }));
    }
    let mut text = format!(
        "Created {} and {}/\n",
        config.display(),
        revisions.display()
    );
    if updated.is_some() {
        text.push_str(&format!(
            "{} {} for the default SQLite database (app.db and its -wal, -shm, -journal files)\n",
            if had_gitignore { "Updated" } else { "Created" },
            gitignore.display()
        ));
    }
    write_stdout(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gitignore_entries_are_added_once() {
        let fresh = gitignore_with_entries("").expect("a new file");
        assert_eq!(
            fresh,
            "# migrate's default SQLite database\napp.db\napp.db-wal\napp.db-shm\napp.db-journal\n"
        );
        assert_eq!(gitignore_with_entries(&fresh), None);
        let partial = gitignore_with_entries("target/\napp.db").expect("three lines missing");
        assert_eq!(
            partial,
            "target/\napp.db\n# migrate's default SQLite database\napp.db-wal\napp.db-shm\napp.db-journal\n"
        );
    }
}
