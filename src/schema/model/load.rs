//! Loading `models.yaml`: the file, its errors with lines, the document's top level and
//! the foreign keys that need every table; one table's entries are read in `table`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_yaml_ng::Value;

use super::table::parse_table;
use super::{ForeignKey, Schema, Sequence, View};
use crate::core::Dialect;
use crate::schema::yaml_lines::{LineIndex, Seg};

/// One problem in a model file, with its line when it could be found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelError {
    pub file: PathBuf,
    pub line: Option<u32>,
    pub message: String,
}

impl fmt::Display for ModelError {
    /// Values quoted from the file are cut to a short excerpt, control characters escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = crate::files::load::excerpts(&self.message);
        match self.line {
            Some(l) => write!(f, "{}:{l}: {message}", self.file.display()),
            None => write!(f, "{}: {message}", self.file.display()),
        }
    }
}

/// The most errors of one model file shown; the rest are counted.
const SHOWN_ERRORS: usize = 20;

/// A construct of the model file that only some backends have, with where it is
/// declared: an error when the model is compared with a database of another backend.
#[derive(Debug, Clone)]
pub struct DialectRule {
    /// The backends that have it.
    pub on: &'static [Dialect],
    /// The error to report elsewhere (file, line, what and why).
    pub error: ModelError,
}

/// The [`DialectRule`]s of a model. Not part of the schema's value: two schemas are
/// equal whatever their rules.
#[derive(Debug, Clone, Default)]
pub struct DialectRules(pub Vec<DialectRule>);

impl PartialEq for DialectRules {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for DialectRules {}

impl Schema {
    /// The model's constructs that `dialect` lacks, as errors naming file and line
    /// (`using: gin` on MariaDB, a `TEXT` column indexed without a prefix length on
    /// MariaDB...). Called once the backend the model is compared with is known.
    pub fn check_for(&self, dialect: Dialect) -> Result<(), ModelErrors> {
        let mut errors: Vec<ModelError> = self
            .rules
            .0
            .iter()
            .filter(|r| !r.on.contains(&dialect))
            .map(|r| ModelError {
                message: format!("{} (the database is {dialect})", r.error.message),
                ..r.error.clone()
            })
            .collect();
        errors.sort_by_key(|e| e.line);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ModelErrors(errors))
        }
    }
}

/// Every problem found in a model file, in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ModelErrors(pub Vec<ModelError>);

impl fmt::Display for ModelErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().take(SHOWN_ERRORS).enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        if self.0.len() > SHOWN_ERRORS {
            write!(f, "\n… and {} more errors", self.0.len() - SHOWN_ERRORS)?;
        }
        Ok(())
    }
}

/// Reads and parses a model file.
pub fn load_models(path: &Path) -> Result<Schema, ModelErrors> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ModelErrors(vec![ModelError {
            file: path.to_owned(),
            line: None,
            message: format!("cannot read the model file: {e}"),
        }])
    })?;
    parse_models(&text, path)
}

/// An owned path into the document, turned into a line on error.
pub(super) type PathBufSegs = Vec<OwnedSeg>;

#[derive(Debug, Clone)]
pub(super) enum OwnedSeg {
    Key(String),
    Index(usize),
}

pub(super) struct Parser<'t> {
    file: PathBuf,
    lines: LineIndex<'t>,
    errors: Vec<ModelError>,
    rules: Vec<DialectRule>,
}

impl Parser<'_> {
    /// Notes a construct only the backends `on` have, for [`Schema::check_for`].
    pub(super) fn rule(&mut self, at: &[OwnedSeg], on: &'static [Dialect], message: String) {
        let error = self.located(at, message);
        self.rules.push(DialectRule { on, error });
    }

    pub(super) fn error(&mut self, at: &[OwnedSeg], message: String) {
        let e = self.located(at, message);
        self.errors.push(e);
    }

    fn located(&self, at: &[OwnedSeg], message: String) -> ModelError {
        let segs: Vec<Seg<'_>> = at
            .iter()
            .map(|s| match s {
                OwnedSeg::Key(k) => Seg::Key(k.as_str()),
                OwnedSeg::Index(i) => Seg::Index(*i),
            })
            .collect();
        let line = self.lines.locate(&segs);
        ModelError {
            file: self.file.clone(),
            line,
            message,
        }
    }

    pub(super) fn mapping<'v>(
        &mut self,
        value: &'v Value,
        at: &[OwnedSeg],
        what: &str,
        allowed: &[&str],
    ) -> Option<Vec<(String, &'v Value)>> {
        let Value::Mapping(map) = value else {
            self.error(at, format!("{what} must be a mapping"));
            return None;
        };
        let mut out = Vec::new();
        for (k, v) in map {
            let Some(key) = k.as_str() else {
                self.error(at, format!("{what} has a key that is not a string"));
                continue;
            };
            if !allowed.is_empty() && !allowed.contains(&key) {
                let mut here = at.to_vec();
                here.push(OwnedSeg::Key(key.to_owned()));
                self.error(
                    &here,
                    format!(
                        "unknown key '{key}' in {what} (expected one of: {})",
                        allowed.join(", ")
                    ),
                );
                continue;
            }
            out.push((key.to_owned(), v));
        }
        Some(out)
    }

    pub(super) fn names(
        &mut self,
        value: &Value,
        at: &[OwnedSeg],
        what: &str,
    ) -> Option<Vec<String>> {
        match value {
            Value::Sequence(items) if !items.is_empty() => {
                let mut out = Vec::new();
                for item in items {
                    match item.as_str() {
                        Some(s) => out.push(s.to_owned()),
                        None => {
                            self.error(at, format!("{what} must list column names"));
                            return None;
                        }
                    }
                }
                Some(out)
            }
            Value::String(s) => Some(vec![s.clone()]),
            _ => {
                self.error(
                    at,
                    format!("{what} must be a non-empty list of column names"),
                );
                None
            }
        }
    }
}

pub(super) fn at(base: &[OwnedSeg], more: &[OwnedSeg]) -> PathBufSegs {
    let mut v = base.to_vec();
    v.extend_from_slice(more);
    v
}

pub(super) fn key(k: &str) -> OwnedSeg {
    OwnedSeg::Key(k.to_owned())
}

/// Where each declared object came from, for the checks that need the whole schema.
pub(super) struct Located {
    pub(super) table: String,
    pub(super) path: PathBufSegs,
    pub(super) fk: ForeignKey,
    /// The foreign key's columns were not given a name, references resolved later.
    pub(super) ref_columns_given: bool,
}

/// Parses `models.yaml` text. `file` is only used in error messages.
pub fn parse_models(text: &str, file: &Path) -> Result<Schema, ModelErrors> {
    let mut p = Parser {
        file: file.to_owned(),
        lines: LineIndex::new(text),
        errors: Vec::new(),
        rules: Vec::new(),
    };
    if let Err(e) = crate::files::guard::check_yaml(text) {
        return Err(ModelErrors(vec![ModelError {
            file: file.to_owned(),
            line: Some(e.line),
            message: e.message,
        }]));
    }
    let doc: Value = match serde_yaml_ng::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let mut line = e.location().map(|l| l.line() as u32);
            let msg = e.to_string();
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
            // A duplicate key is reported at its mapping: point at the second one.
            if let (Some(loc), Some(dup)) = (
                e.location(),
                msg.split("duplicate entry with key \"")
                    .nth(1)
                    .and_then(|r| r.split('"').next()),
            ) {
                line = p
                    .lines
                    .second_key_at(loc.line(), loc.column().saturating_sub(1), dup)
                    .or(line);
            }
            return Err(ModelErrors(vec![ModelError {
                file: file.to_owned(),
                line,
                message: format!("invalid YAML: {msg}"),
            }]));
        }
    };
    let mut schema = Schema::default();
    let mut fks: Vec<Located> = Vec::new();
    let root = if doc.is_null() {
        Vec::new()
    } else {
        p.mapping(
            &doc,
            &[],
            "the model file",
            &["tables", "views", "sequences"],
        )
        .unwrap_or_default()
    };
    let mut index_names: BTreeMap<String, String> = BTreeMap::new();
    let mut views_value = None;
    for (k, tables) in root {
        if k == "views" {
            views_value = Some(tables);
            continue;
        }
        if k == "sequences" {
            parse_sequences(&mut p, tables, &mut schema);
            continue;
        }
        let tables_at = vec![key("tables")];
        if tables.is_null() {
            continue;
        }
        let Some(entries) = p.mapping(tables, &tables_at, "tables", &[]) else {
            continue;
        };
        for (tname, tvalue) in entries {
            let t_at = at(&tables_at, &[key(&tname)]);
            if let Err(why) = check_identifier(&tname) {
                p.error(&t_at, format!("table name {why}"));
                continue;
            }
            let table = parse_table(&mut p, &tname, tvalue, &t_at, &mut fks, &mut index_names);
            if let Some(table) = table {
                schema.tables.insert(table.name.clone(), table);
            }
        }
    }
    if let Some(v) = views_value {
        parse_views(&mut p, v, &mut schema);
    }
    // Foreign keys need every table.
    let mut resolved: BTreeMap<String, Vec<ForeignKey>> = BTreeMap::new();
    for mut l in fks {
        let Some(target) = schema.tables.get(&l.fk.ref_table) else {
            let msg = format!(
                "foreign key on {}({}) references table '{}', which is not in the model",
                l.table,
                l.fk.columns.join(", "),
                l.fk.ref_table
            );
            p.error(&l.path, msg);
            continue;
        };
        if !l.ref_columns_given {
            l.fk.ref_columns = target.primary_key.clone();
            if l.fk.ref_columns.is_empty() {
                let msg = format!(
                    "foreign key on {}({}) names no columns of '{}', which has no primary key",
                    l.table,
                    l.fk.columns.join(", "),
                    l.fk.ref_table
                );
                p.error(&l.path, msg);
                continue;
            }
        }
        if let Some(missing) = l.fk.ref_columns.iter().find(|c| target.column(c).is_none()) {
            let msg = format!(
                "foreign key on {}({}) references column '{}.{missing}', which is not in the model",
                l.table,
                l.fk.columns.join(", "),
                l.fk.ref_table
            );
            p.error(&l.path, msg);
            continue;
        }
        if l.fk.ref_columns.len() != l.fk.columns.len() {
            let msg = format!(
                "foreign key on {}({}) has {} column(s) but references {}",
                l.table,
                l.fk.columns.join(", "),
                l.fk.columns.len(),
                l.fk.ref_columns.len()
            );
            p.error(&l.path, msg);
            continue;
        }
        resolved.entry(l.table.clone()).or_default().push(l.fk);
    }
    for (t, list) in resolved {
        if let Some(table) = schema.tables.get_mut(&t) {
            table.foreign_keys = list;
        }
    }
    for t in schema.tables.values_mut() {
        t.sort();
    }
    if p.errors.is_empty() {
        schema.rules = DialectRules(p.rules);
        Ok(schema)
    } else {
        p.errors.sort_by_key(|e| e.line);
        Err(ModelErrors(p.errors))
    }
}

/// `sequences: {name: {start: N, increment: N}}` (PostgreSQL): each name a new one.
fn parse_sequences(p: &mut Parser<'_>, value: &Value, schema: &mut Schema) {
    let seq_at = vec![key("sequences")];
    if value.is_null() {
        return;
    }
    let Some(entries) = p.mapping(value, &seq_at, "sequences", &[]) else {
        return;
    };
    for (name, v) in entries {
        let s_at = at(&seq_at, &[key(&name)]);
        if let Err(why) = check_identifier(&name) {
            p.error(&s_at, format!("sequence name {why}"));
            continue;
        }
        let mut seq = Sequence {
            name: name.clone(),
            start: 1,
            increment: 1,
        };
        if !v.is_null() {
            let what = format!("sequence '{name}'");
            let Some(props) = p.mapping(v, &s_at, &what, &["start", "increment"]) else {
                continue;
            };
            for (k, val) in props {
                let n = val.as_i64().filter(|n| k == "start" || *n != 0);
                match (k.as_str(), n) {
                    ("start", Some(n)) => seq.start = n,
                    ("increment", Some(n)) => seq.increment = n,
                    _ => p.error(
                        &at(&s_at, &[key(&k)]),
                        format!("the {k} of {what} must be a whole number (not 0)"),
                    ),
                }
            }
        }
        p.rule(
            &s_at,
            &[Dialect::Postgres],
            format!("sequence '{name}' is declared, which only PostgreSQL has here"),
        );
        schema.sequences.insert(name, seq);
    }
}

/// `views: {name: {sql: SELECT ...}}`: each name a new one, each query one `SELECT`.
fn parse_views(p: &mut Parser<'_>, value: &Value, schema: &mut Schema) {
    let views_at = vec![key("views")];
    if value.is_null() {
        return;
    }
    let Some(entries) = p.mapping(value, &views_at, "views", &[]) else {
        return;
    };
    for (name, v) in entries {
        let v_at = at(&views_at, &[key(&name)]);
        if let Err(why) = check_identifier(&name) {
            p.error(&v_at, format!("view name {why}"));
            continue;
        }
        if schema.tables.contains_key(&name) {
            p.error(&v_at, format!("view '{name}' has the name of a table"));
            continue;
        }
        let Some(props) = p.mapping(v, &v_at, &format!("view '{name}'"), &["sql"]) else {
            continue;
        };
        let Some(sql) = props
            .iter()
            .find(|(k, _)| k == "sql")
            .and_then(|(_, v)| v.as_str())
        else {
            p.error(&v_at, format!("view '{name}' needs sql: SELECT ..."));
            continue;
        };
        if let Err(e) = crate::sql::normalize::check_query(sql) {
            p.error(
                &at(&v_at, &[key("sql")]),
                format!("the sql of view '{name}' {e}"),
            );
            continue;
        }
        schema.views.insert(
            name.clone(),
            View {
                name,
                sql: sql.trim().trim_end_matches(';').trim().to_owned(),
            },
        );
    }
}

pub(super) fn check_identifier(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("is empty".into());
    }
    if name.len() > 63 {
        return Err(format!("'{name}' is longer than 63 characters"));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        || name.starts_with(|c: char| c.is_ascii_digit())
    {
        return Err(format!(
            "'{name}' must be letters, digits and _ and not start with a digit"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::model::{ColumnType, DefaultValue, FkAction};

    fn parse(text: &str) -> Result<Schema, ModelErrors> {
        parse_models(text, Path::new("models.yaml"))
    }

    fn first_error(text: &str) -> (Option<u32>, String) {
        let e = parse(text).expect_err("the model is invalid");
        (e.0[0].line, e.0[0].message.clone())
    }

    const EXAMPLE: &str = "\
tables:
  users:
    columns:
      id: {type: bigint, primary_key: true, autoincrement: true}
      email: {type: string(255), nullable: false}
      is_active: {type: boolean, default: true}
      created_at: {type: timestamp, default: now}
      score: {type: numeric(10,2), default: 1.50}
    indexes:
      - {columns: [email], unique: true}
  user_roles:
    columns:
      user_id: {type: bigint, primary_key: true}
      role_id: {type: bigint, primary_key: true}
    foreign_keys:
      - {columns: [user_id], references: users(id), on_delete: cascade}
    checks:
      - {name: ck_positive, expr: role_id > 0}
";

    #[test]
    fn the_issue_example_parses() {
        let s = parse(EXAMPLE).expect("valid");
        let users = &s.tables["users"];
        assert_eq!(users.primary_key, ["id"]);
        let id = users.column("id").expect("id");
        assert!(id.autoincrement && !id.nullable);
        assert_eq!(
            users.column("email").map(|c| c.ty.clone()),
            Some(ColumnType::String(255))
        );
        assert!(users.column("is_active").expect("col").nullable);
        assert_eq!(
            users.column("created_at").and_then(|c| c.default.clone()),
            Some(DefaultValue::Now)
        );
        assert_eq!(
            users.column("score").and_then(|c| c.default.clone()),
            Some(DefaultValue::Decimal("1.5".into()))
        );
        assert_eq!(users.indexes[0].name, "ux_users_email");
        let ur = &s.tables["user_roles"];
        assert_eq!(ur.primary_key, ["user_id", "role_id"]);
        assert_eq!(ur.foreign_keys[0].ref_columns, ["id"]);
        assert_eq!(ur.foreign_keys[0].on_delete, FkAction::Cascade);
        assert_eq!(ur.checks[0].name, "ck_positive");
    }

    #[test]
    fn bad_models_name_file_and_line() {
        let (line, msg) = first_error("tables:\n  t:\n    columns:\n      a: {type: strin(5)}\n");
        assert_eq!(line, Some(4));
        assert!(msg.contains("unknown type 'strin(5)'"), "{msg}");

        let (line, msg) = first_error(
            "tables:\n  t:\n    columns:\n      a: integer\n    foreign_keys:\n      - {columns: [a], references: nope(id)}\n",
        );
        assert_eq!(line, Some(6));
        assert!(msg.contains("'nope'"), "{msg}");

        let (line, msg) = first_error(
            "tables:\n  u:\n    columns:\n      id: integer\n  t:\n    columns:\n      a: integer\n    foreign_keys:\n      - columns: [a]\n        references: u(idx)\n",
        );
        assert_eq!(line, Some(9));
        assert!(msg.contains("'u.idx'"), "{msg}");

        let (line, msg) =
            first_error("tables:\n  t:\n    columns:\n      a: integer\n      a: text\n");
        assert_eq!(line, Some(5));
        assert!(msg.contains("duplicate"), "{msg}");

        let (line, msg) = first_error(
            "tables:\n  t:\n    columns:\n      a: integer\n    indexes:\n      - {name: ix, columns: [a]}\n      - {name: ix, columns: [a]}\n",
        );
        assert_eq!(line, Some(7));
        assert!(
            msg.contains("duplicate constraint or index name 'ix'"),
            "{msg}"
        );

        let (line, msg) =
            first_error("tables:\n  t:\n    columns:\n      a: {type: integer, nulable: true}\n");
        assert_eq!(line, Some(4));
        assert!(msg.contains("unknown key 'nulable'"), "{msg}");

        let e = parse("tables:\n  t:\n    colums:\n      a: integer\n").expect_err("invalid");
        assert!(
            e.0.iter()
                .any(|e| e.line == Some(3) && e.message.contains("unknown key 'colums'")),
            "{e}"
        );
        assert_eq!(
            e.0[0].to_string(),
            "models.yaml:2: table 't' has no columns"
        );
    }

    /// Indexes, unique constraints and foreign keys check their `columns` alike.
    #[test]
    fn list_items_need_existing_distinct_columns() {
        let text = "tables:\n  u:\n    columns:\n      id: {type: integer, primary_key: true}\n  t:\n    columns:\n      a: integer\n      b: integer\n    indexes:\n      - {unique: true}\n      - {columns: [a, nope]}\n    unique_constraints:\n      - {name: uq_t}\n      - {columns: [b, b]}\n    foreign_keys:\n      - {references: u(id)}\n      - {columns: [], references: u(id)}\n";
        let e = parse(text).expect_err("invalid");
        let all: Vec<String> = e.0.iter().map(ToString::to_string).collect();
        for expected in [
            "models.yaml:10: an index of table 't' has no columns",
            "models.yaml:11: an index names column 'nope', which is not in table 't'",
            "models.yaml:13: a unique constraint of table 't' has no columns",
            "models.yaml:14: a unique constraint names column 'b' twice",
            "models.yaml:16: a foreign key of table 't' has no columns",
            "models.yaml:17:",
        ] {
            assert!(
                all.iter().any(|m| m.starts_with(expected)),
                "{expected:?} not in {all:#?}"
            );
        }
        assert_eq!(all.len(), 6, "{all:#?}");
    }
}
