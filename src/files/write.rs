//! Writing revision files: readable YAML (SQL as literal blocks), never overwriting.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::core::{Revision, Sql};

/// `<revision>_<slug>.yaml`, the slug made from the message.
pub fn revision_file_name(id: &str, message: &str) -> String {
    let mut slug = String::new();
    // Letters beyond ASCII are transliterated (`ünïcode` → `unicode`), not dropped.
    for c in deunicode::deunicode(message).chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('_') && !slug.is_empty() {
            slug.push('_');
        }
        if slug.len() >= 40 {
            break;
        }
    }
    let slug = slug.trim_end_matches('_');
    if slug.is_empty() {
        format!("{id}.yaml")
    } else {
        format!("{id}_{slug}.yaml")
    }
}

/// A scalar as YAML writes it, quoted only when it must be.
pub(crate) fn scalar(text: &str) -> String {
    match serde_yaml_ng::to_string(text) {
        Ok(s) if !s.trim_end_matches('\n').contains('\n') => s.trim_end_matches('\n').to_owned(),
        // A JSON string is a valid double-quoted YAML scalar, on one line.
        _ => serde_json::Value::String(text.to_owned()).to_string(),
    }
}

pub(crate) fn list(items: &[impl AsRef<str>]) -> String {
    let inner: Vec<String> = items.iter().map(|i| scalar(i.as_ref())).collect();
    format!("[{}]", inner.join(", "))
}

/// SQL as a literal block when that round-trips, else as a quoted scalar.
fn sql_block(indent: &str, text: &str) -> String {
    let literal_ok = !text.is_empty()
        && !text.starts_with([' ', '\t', '\n'])
        && !text.contains('\t')
        && !text.contains('\r')
        && text.lines().all(|l| l == l.trim_end());
    if !literal_ok {
        return format!(" {}\n", scalar(text));
    }
    let chomp = if text.ends_with("\n\n") {
        "+"
    } else if text.ends_with('\n') {
        ""
    } else {
        "-"
    };
    let mut out = format!(" |{chomp}\n");
    for line in text.trim_end_matches('\n').split('\n') {
        if line.is_empty() {
            out.push('\n');
        } else {
            out.push_str(indent);
            out.push_str(line);
            out.push('\n');
        }
    }
    if chomp == "+" {
        for _ in 0..(text.len() - text.trim_end_matches('\n').len() - 1) {
            out.push('\n');
        }
    }
    out
}

fn sql_field(out: &mut String, key: &str, sql: &Sql) {
    match sql {
        Sql::All(text) => {
            out.push_str(key);
            out.push(':');
            out.push_str(&sql_block("  ", text));
        }
        Sql::PerDialect(map) => {
            out.push_str(key);
            out.push_str(":\n");
            for (dialect, text) in map {
                out.push_str("  ");
                out.push_str(dialect.name());
                out.push(':');
                out.push_str(&sql_block("    ", text));
            }
        }
    }
}

/// The YAML text of a revision file.
pub fn render_revision(rev: &Revision) -> String {
    let mut out = String::new();
    out.push_str(&format!("revision: {}\n", scalar(rev.id.as_str())));
    let down = match rev.down_revisions.as_slice() {
        [] => "null".to_owned(),
        [one] => scalar(one.as_str()),
        many => list(&many.iter().map(|d| d.as_str()).collect::<Vec<_>>()),
    };
    out.push_str(&format!("down_revision: {down}\n"));
    out.push_str(&format!("message: {}\n", scalar(&rev.message)));
    if let Some(date) = rev.create_date {
        out.push_str(&format!(
            "create_date: {}\n",
            date.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ));
    }
    if !rev.branch_labels.is_empty() {
        out.push_str(&format!("branch_labels: {}\n", list(&rev.branch_labels)));
    }
    if !rev.depends_on.is_empty() {
        out.push_str(&format!("depends_on: {}\n", list(&rev.depends_on)));
    }
    if let Some(value) = rev.transactional.to_yaml() {
        out.push_str(&format!("transactional: {value}\n"));
    }
    if let Some(sql) = &rev.upgrade {
        sql_field(&mut out, "upgrade", sql);
    }
    match &rev.downgrade {
        Some(sql) => sql_field(&mut out, "downgrade", sql),
        None if rev.upgrade.is_some() => out.push_str(
            "# downgrade: absent, so downgrading through this revision is refused once upgrade\n\
             # has SQL. Write its SQL here, or `downgrade: ''` for a deliberate no-op.\n",
        ),
        None => {}
    }
    out
}

/// Writes `rev` into `dir` as a new file (never overwriting one); returns its path.
pub fn write_revision(dir: &Path, rev: &Revision) -> std::io::Result<PathBuf> {
    let path = dir.join(revision_file_name(rev.id.as_str(), &rev.message));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)?;
    file.write_all(render_revision(rev).as_bytes())?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{Dialect, RevisionId};
    use crate::files::load::parse_revision;

    fn sample() -> Revision {
        let mut rev = Revision::new("4f2a9c1e7b3d", &["1a2b3c4d5e6f", "9c8d7e6f5a4b"]).unwrap();
        rev.message = "add roles: table #1 'quoted'".into();
        rev.branch_labels = vec!["auth".into()];
        rev.depends_on = vec!["billing".into()];
        rev.transactional = false.into();
        rev.create_date = Some("2026-11-23T10:04:00Z".parse().unwrap());
        rev.upgrade = Some(Sql::All(
            "CREATE TABLE roles (\n  id INTEGER PRIMARY KEY\n);\n\nINSERT INTO roles VALUES (1);\n"
                .into(),
        ));
        rev.downgrade = Some(Sql::PerDialect(
            [
                (Dialect::Sqlite, "DROP TABLE roles;".to_owned()),
                (
                    Dialect::Postgres,
                    "  DROP TABLE roles CASCADE;\n\n".to_owned(),
                ),
            ]
            .into(),
        ));
        rev
    }

    #[test]
    fn rendered_files_parse_back_to_the_same_revision() {
        let rev = sample();
        let text = render_revision(&rev);
        let mut back = parse_revision(Path::new("x.yaml"), &text).unwrap();
        back.origin = Default::default();
        assert_eq!(back, rev, "{text}");
        assert!(
            text.contains("upgrade: |\n  CREATE TABLE roles (\n    id INTEGER"),
            "{text}"
        );
    }

    #[test]
    fn per_dialect_transactional_writes_and_reads_back() {
        use crate::core::{Direction, Transactional};
        let mut rev = sample();
        for t in [
            Transactional::ALWAYS.with(Dialect::Sqlite, Direction::Downgrade, false),
            Transactional::ALWAYS
                .with(Dialect::Postgres, Direction::Upgrade, false)
                .with(Dialect::Mysql, Direction::Upgrade, false)
                .with(Dialect::Mysql, Direction::Downgrade, false),
            Transactional::ALWAYS,
        ] {
            rev.transactional = t;
            let text = render_revision(&rev);
            let mut back = parse_revision(Path::new("x.yaml"), &text).unwrap();
            back.origin = Default::default();
            assert_eq!(back.transactional, t, "{text}");
        }
    }

    #[test]
    fn transactional_mappings_are_checked_with_the_key_line() {
        let base = "revision: a1\nmessage: m\n";
        let read =
            |t: &str| parse_revision(Path::new("x.yaml"), &format!("{base}transactional: {t}\n"));
        let t = read("{downgrade: {sqlite: false}}").unwrap().transactional;
        assert!(!t.get(Dialect::Sqlite, crate::core::Direction::Downgrade));
        assert!(t.get(Dialect::Postgres, crate::core::Direction::Downgrade));
        for (bad, says) in [
            ("{sqlit: false}", "unknown key 'sqlit'"),
            (
                "{sqlite: {postgres: false}}",
                "under 'sqlite' name a direction",
            ),
            (
                "{sqlite: true, downgrade: false}",
                "disagree about sqlite downgrade",
            ),
        ] {
            let e = read(bad).unwrap_err().to_string();
            assert!(e.contains(says) && e.contains("x.yaml:3"), "{bad}: {e}");
        }
    }

    #[test]
    fn file_names_carry_id_and_slug() {
        assert_eq!(
            revision_file_name("ab12", "Add roles table!"),
            "ab12_add_roles_table.yaml"
        );
        assert_eq!(revision_file_name("ab12", "!!!"), "ab12.yaml");
        let id = RevisionId::generate();
        assert_eq!(id.as_str().len(), 12);
    }
}
