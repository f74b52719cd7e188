//! The portable schema model and the `models.yaml` loader.
//!
//! One shape for the schema a team declares and the schema a database has, so the two
//! can be compared. Types are portable names (`bigint`, `string(255)`, `timestamptz`);
//! each backend's spelling lives in the renderer and the introspection adapters.
//! Parsing is a pure function of the text ([`parse_models`]); only [`load_models`]
//! touches the file system.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_yaml_ng::Value;
use sha2::{Digest, Sha256};

use super::yaml_lines::{LineIndex, Seg};
use crate::core::Dialect;

/// A whole schema: tables by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Schema {
    pub tables: BTreeMap<String, Table>,
}

/// One table with everything autogenerate compares.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Table {
    pub name: String,
    /// Columns in declaration order (order is kept for `CREATE TABLE`, not compared).
    pub columns: Vec<Column>,
    /// Primary-key columns in key order; empty when the table has none.
    pub primary_key: Vec<String>,
    /// The primary key constraint's name where the database reports one.
    #[serde(skip)]
    pub primary_key_name: Option<String>,
    pub indexes: Vec<Index>,
    pub uniques: Vec<UniqueConstraint>,
    pub foreign_keys: Vec<ForeignKey>,
    pub checks: Vec<CheckConstraint>,
}

/// One column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: ColumnType,
    pub nullable: bool,
    pub default: Option<DefaultValue>,
    pub autoincrement: bool,
}

/// A portable column type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ColumnType {
    SmallInt,
    Integer,
    BigInt,
    Boolean,
    Text,
    String(u32),
    Numeric(u32, u32),
    Float,
    Double,
    Date,
    Time,
    Timestamp,
    TimestampTz,
    Uuid,
    Json,
    Bytes,
    /// A type found in a database that has no portable name (never from a model file).
    Other(String),
}

impl ColumnType {
    /// Parses a portable type name as written in `models.yaml`.
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim().to_ascii_lowercase();
        let (name, args) = match t.find('(') {
            Some(open) => {
                let inner = t[open + 1..].strip_suffix(')')?;
                let args: Option<Vec<u32>> =
                    inner.split(',').map(|a| a.trim().parse().ok()).collect();
                (t[..open].trim().to_owned(), Some(args?))
            }
            None => (t.clone(), None),
        };
        let plain = |ty: ColumnType| args.is_none().then_some(ty);
        match name.as_str() {
            "smallint" => plain(ColumnType::SmallInt),
            "integer" | "int" => plain(ColumnType::Integer),
            "bigint" => plain(ColumnType::BigInt),
            "boolean" | "bool" => plain(ColumnType::Boolean),
            "text" => plain(ColumnType::Text),
            "string" | "varchar" => match args.as_deref() {
                Some([n]) if *n > 0 => Some(ColumnType::String(*n)),
                _ => None,
            },
            "numeric" | "decimal" => match args.as_deref() {
                Some([p, s]) if *p > 0 && s <= p => Some(ColumnType::Numeric(*p, *s)),
                Some([p]) if *p > 0 => Some(ColumnType::Numeric(*p, 0)),
                _ => None,
            },
            "float" => plain(ColumnType::Float),
            "double" => plain(ColumnType::Double),
            "date" => plain(ColumnType::Date),
            "time" => plain(ColumnType::Time),
            "timestamp" | "datetime" => plain(ColumnType::Timestamp),
            "timestamptz" => plain(ColumnType::TimestampTz),
            "uuid" => plain(ColumnType::Uuid),
            "json" => plain(ColumnType::Json),
            "bytes" | "binary" => plain(ColumnType::Bytes),
            _ => None,
        }
    }

    pub fn is_integer(&self) -> bool {
        matches!(
            self,
            ColumnType::SmallInt | ColumnType::Integer | ColumnType::BigInt
        )
    }

    fn is_decimal(&self) -> bool {
        matches!(
            self,
            ColumnType::Numeric(..) | ColumnType::Float | ColumnType::Double
        )
    }

    fn is_textual(&self) -> bool {
        matches!(
            self,
            ColumnType::Text | ColumnType::String(_) | ColumnType::Uuid | ColumnType::Json
        )
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ColumnType::SmallInt => f.write_str("smallint"),
            ColumnType::Integer => f.write_str("integer"),
            ColumnType::BigInt => f.write_str("bigint"),
            ColumnType::Boolean => f.write_str("boolean"),
            ColumnType::Text => f.write_str("text"),
            ColumnType::String(n) => write!(f, "string({n})"),
            ColumnType::Numeric(p, s) => write!(f, "numeric({p},{s})"),
            ColumnType::Float => f.write_str("float"),
            ColumnType::Double => f.write_str("double"),
            ColumnType::Date => f.write_str("date"),
            ColumnType::Time => f.write_str("time"),
            ColumnType::Timestamp => f.write_str("timestamp"),
            ColumnType::TimestampTz => f.write_str("timestamptz"),
            ColumnType::Uuid => f.write_str("uuid"),
            ColumnType::Json => f.write_str("json"),
            ColumnType::Bytes => f.write_str("bytes"),
            ColumnType::Other(raw) => write!(f, "{raw}"),
        }
    }
}

impl Serialize for ColumnType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A column default: a literal, a portable expression, or raw SQL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DefaultValue {
    Bool(bool),
    Int(i64),
    /// A decimal literal in canonical form (no trailing zeros after the point).
    Decimal(String),
    Text(String),
    /// The current timestamp (`now` in models).
    Now,
    /// The current date (`current_date` in models).
    CurrentDate,
    /// Any other SQL expression, compared by its text without case or spaces.
    Expr(String),
}

impl fmt::Display for DefaultValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DefaultValue::Bool(b) => write!(f, "{b}"),
            DefaultValue::Int(i) => write!(f, "{i}"),
            DefaultValue::Decimal(d) => f.write_str(d),
            DefaultValue::Text(t) => write!(f, "'{}'", t.replace('\'', "''")),
            DefaultValue::Now => f.write_str("now"),
            DefaultValue::CurrentDate => f.write_str("current_date"),
            DefaultValue::Expr(e) => write!(f, "sql({e})"),
        }
    }
}

impl DefaultValue {
    /// Brings a default into the one form its column type implies, so `'5'` on an
    /// integer column equals `5`, `1` on a boolean equals `true`, `1.50` equals `1.5`.
    pub fn normalized(self, ty: &ColumnType) -> DefaultValue {
        use DefaultValue::*;
        match self {
            Expr(e) => match parse_sql_default(&e) {
                Some(Expr(e)) => Expr(e),
                Some(other) => other.normalized(ty),
                None => Expr(String::new()),
            },
            Text(t) if ty.is_integer() => t.trim().parse().map(Int).unwrap_or(Text(t)),
            Text(t) if ty.is_decimal() => canonical_decimal(&t).map(Decimal).unwrap_or(Text(t)),
            Text(t) if *ty == ColumnType::Boolean => match t.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "t" => Bool(true),
                "0" | "false" | "f" => Bool(false),
                _ => Text(t),
            },
            Int(i) if *ty == ColumnType::Boolean && (i == 0 || i == 1) => Bool(i == 1),
            Int(i) if ty.is_decimal() => Decimal(i.to_string()),
            Int(i) if ty.is_textual() => Text(i.to_string()),
            Decimal(d) if ty.is_integer() => d.parse().map(Int).unwrap_or(Decimal(d)),
            Decimal(d) if ty.is_textual() => Text(d),
            Decimal(d) => Decimal(canonical_decimal(&d).unwrap_or(d)),
            Bool(b) if ty.is_integer() => Int(i64::from(b)),
            other => other,
        }
    }
}

/// An expression's text without case or spaces, for comparing.
pub fn squash(expr: &str) -> String {
    expr.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// `1.50` → `1.5`, `2.0` → `2`, `+3` → `3`; `None` when `text` is not a decimal number.
pub fn canonical_decimal(text: &str) -> Option<String> {
    let t = text.trim();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty()
        || !int.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let mut out = String::new();
    if neg && !(int == "0" && frac.is_empty()) {
        out.push('-');
    }
    out.push_str(int);
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    Some(out)
}

/// Reads a default as a database reports it (`'abc'::character varying`, `now()`,
/// `current_timestamp()`, `(1)`, `NULL`); `None` means no default.
pub fn parse_sql_default(raw: &str) -> Option<DefaultValue> {
    let mut t = raw.trim();
    // Balanced outer parentheses: `(1)`, `((now()))`.
    while t.starts_with('(') && t.ends_with(')') && balanced_outer(t) {
        t = t[1..t.len() - 1].trim();
    }
    if t.is_empty()
        || t.eq_ignore_ascii_case("null")
        || t.to_ascii_lowercase().starts_with("null::")
    {
        return None;
    }
    if let Some(body) = t.strip_prefix('\'') {
        // A quoted literal, maybe followed by PostgreSQL casts.
        let mut out = String::new();
        let mut chars = body.char_indices().peekable();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            if c == '\'' {
                if chars.peek().map(|(_, c)| *c) == Some('\'') {
                    chars.next();
                    out.push('\'');
                } else {
                    end = Some(i);
                    break;
                }
            } else if c == '\\' && chars.peek().map(|(_, c)| *c) == Some('\\') {
                chars.next();
                out.push('\\');
            } else {
                out.push(c);
            }
        }
        let rest = end.map(|e| body[e + 1..].trim()).unwrap_or("");
        if rest.is_empty() || rest.starts_with("::") {
            return Some(DefaultValue::Text(out));
        }
        return Some(DefaultValue::Expr(t.to_owned()));
    }
    let mut bare = t;
    // `0::numeric`, `(-1)::integer`.
    if let Some((value, cast)) = bare.split_once("::") {
        if cast
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " _(),\"".contains(c))
        {
            bare = value.trim();
            while bare.starts_with('(') && bare.ends_with(')') && balanced_outer(bare) {
                bare = bare[1..bare.len() - 1].trim();
            }
        }
    }
    let mut lower = bare.to_ascii_lowercase();
    // `current_timestamp(6)`, `now(3)`: the precision doesn't change what it means.
    for f in ["current_timestamp(", "now(", "localtimestamp("] {
        if let Some(rest) = lower.strip_prefix(f) {
            if rest
                .trim_end_matches(')')
                .chars()
                .all(|c| c.is_ascii_digit())
                && rest.ends_with(')')
            {
                lower = format!("{}()", &f[..f.len() - 1]);
                break;
            }
        }
    }
    match lower.as_str() {
        "true" => return Some(DefaultValue::Bool(true)),
        "false" => return Some(DefaultValue::Bool(false)),
        "now()"
        | "current_timestamp"
        | "current_timestamp()"
        | "localtimestamp"
        | "transaction_timestamp()" => return Some(DefaultValue::Now),
        "current_date" | "curdate()" | "current_date()" => return Some(DefaultValue::CurrentDate),
        _ => {}
    }
    if let Ok(i) = bare.parse::<i64>() {
        return Some(DefaultValue::Int(i));
    }
    if let Some(d) = canonical_decimal(bare) {
        return Some(DefaultValue::Decimal(d));
    }
    Some(DefaultValue::Expr(t.to_owned()))
}

fn balanced_outer(t: &str) -> bool {
    // True when the first '(' closes at the very end.
    let mut depth = 0i32;
    for (i, c) in t.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 && i != t.len() - 1 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

/// A named index over one or more columns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Index {
    pub name: String,
    pub columns: Vec<String>,
    pub unique: bool,
}

/// A named unique constraint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UniqueConstraint {
    pub name: String,
    pub columns: Vec<String>,
}

/// What a foreign key does when the referenced row is deleted or updated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FkAction {
    #[default]
    NoAction,
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

impl FkAction {
    pub fn parse(text: &str) -> Option<Self> {
        match text
            .trim()
            .to_ascii_lowercase()
            .replace(['_', '-'], " ")
            .as_str()
        {
            "no action" => Some(FkAction::NoAction),
            "restrict" => Some(FkAction::Restrict),
            "cascade" => Some(FkAction::Cascade),
            "set null" => Some(FkAction::SetNull),
            "set default" => Some(FkAction::SetDefault),
            _ => None,
        }
    }

    pub fn sql(self) -> &'static str {
        match self {
            FkAction::NoAction => "NO ACTION",
            FkAction::Restrict => "RESTRICT",
            FkAction::Cascade => "CASCADE",
            FkAction::SetNull => "SET NULL",
            FkAction::SetDefault => "SET DEFAULT",
        }
    }
}

/// A named foreign key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForeignKey {
    pub name: String,
    pub columns: Vec<String>,
    pub ref_table: String,
    pub ref_columns: Vec<String>,
    pub on_delete: FkAction,
    pub on_update: FkAction,
}

impl ForeignKey {
    /// What identifies a foreign key when comparing: everything but its name, which
    /// SQLite does not keep.
    pub fn signature(&self) -> (&[String], &str, &[String], FkAction, FkAction) {
        (
            &self.columns,
            &self.ref_table,
            &self.ref_columns,
            self.on_delete,
            self.on_update,
        )
    }
}

/// A named check constraint; compared by name (backends rewrite the expression).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckConstraint {
    pub name: String,
    pub expr: String,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Tables this one references through its foreign keys (itself excluded).
    pub fn referenced_tables(&self) -> BTreeSet<&str> {
        self.foreign_keys
            .iter()
            .map(|f| f.ref_table.as_str())
            .filter(|t| *t != self.name)
            .collect()
    }

    fn sort(&mut self) {
        self.indexes.sort_by(|a, b| a.name.cmp(&b.name));
        self.uniques.sort_by(|a, b| a.columns.cmp(&b.columns));
        self.foreign_keys
            .sort_by(|a, b| a.signature().cmp(&b.signature()));
        self.checks.sort_by(|a, b| a.name.cmp(&b.name));
    }
}

impl Schema {
    /// The schema as `dialect` can hold it, so a model compares equal to what the
    /// database reports after creating it:
    /// - MariaDB/MySQL keeps unique constraints as unique indexes;
    /// - MariaDB/MySQL treats `NO ACTION` as `RESTRICT`;
    /// - SQLite's autoincrement key is always `INTEGER`;
    /// - primary-key columns are never nullable; defaults take their type's form.
    pub fn normalized_for(&self, dialect: Dialect) -> Schema {
        let mut out = self.clone();
        for table in out.tables.values_mut() {
            let pk = table.primary_key.clone();
            for col in &mut table.columns {
                if pk.contains(&col.name) {
                    col.nullable = false;
                }
                if col.autoincrement {
                    col.default = None;
                    if dialect == Dialect::Sqlite {
                        col.ty = ColumnType::Integer;
                    }
                }
                col.default = col.default.take().map(|d| d.normalized(&col.ty));
                if matches!(&col.default, Some(DefaultValue::Expr(e)) if e.is_empty()) {
                    col.default = None;
                }
            }
            if dialect == Dialect::Mysql {
                for u in std::mem::take(&mut table.uniques) {
                    if !table
                        .indexes
                        .iter()
                        .any(|i| i.unique && i.columns == u.columns)
                    {
                        table.indexes.push(Index {
                            name: u.name,
                            columns: u.columns,
                            unique: true,
                        });
                    }
                }
                for fk in &mut table.foreign_keys {
                    for action in [&mut fk.on_delete, &mut fk.on_update] {
                        if *action == FkAction::NoAction {
                            *action = FkAction::Restrict;
                        }
                    }
                }
            }
            table.sort();
        }
        out
    }
}

/// Makes a constraint or index name from its parts, at most 60 characters (PostgreSQL
/// cuts at 63); a long name keeps a hash of the full one so it stays unique.
pub fn conventional_name(prefix: &str, table: &str, columns: &[String]) -> String {
    let full = format!("{prefix}_{table}_{}", columns.join("_"));
    if full.len() <= 60 {
        return full;
    }
    let digest = Sha256::digest(full.as_bytes());
    let hex: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    let mut cut = 51;
    while !full.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{hex}", &full[..cut])
}

/// One problem in a model file, with its line when it could be found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelError {
    pub file: PathBuf,
    pub line: Option<u32>,
    pub message: String,
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{l}: {}", self.file.display(), self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// Every problem found in a model file, in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ModelErrors(pub Vec<ModelError>);

impl fmt::Display for ModelErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
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
type PathBufSegs = Vec<OwnedSeg>;

#[derive(Debug, Clone)]
enum OwnedSeg {
    Key(String),
    Index(usize),
}

struct Parser<'t> {
    file: PathBuf,
    lines: LineIndex<'t>,
    errors: Vec<ModelError>,
}

impl Parser<'_> {
    fn error(&mut self, at: &[OwnedSeg], message: String) {
        let segs: Vec<Seg<'_>> = at
            .iter()
            .map(|s| match s {
                OwnedSeg::Key(k) => Seg::Key(k.as_str()),
                OwnedSeg::Index(i) => Seg::Index(*i),
            })
            .collect();
        let line = self.lines.locate(&segs);
        self.errors.push(ModelError {
            file: self.file.clone(),
            line,
            message,
        });
    }

    fn mapping<'v>(
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

    fn names(&mut self, value: &Value, at: &[OwnedSeg], what: &str) -> Option<Vec<String>> {
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

fn at(base: &[OwnedSeg], more: &[OwnedSeg]) -> PathBufSegs {
    let mut v = base.to_vec();
    v.extend_from_slice(more);
    v
}

fn key(k: &str) -> OwnedSeg {
    OwnedSeg::Key(k.to_owned())
}

/// Where each declared object came from, for the checks that need the whole schema.
struct Located {
    table: String,
    path: PathBufSegs,
    fk: ForeignKey,
    /// The foreign key's columns were not given a name, references resolved later.
    ref_columns_given: bool,
}

/// Parses `models.yaml` text. `file` is only used in error messages.
pub fn parse_models(text: &str, file: &Path) -> Result<Schema, ModelErrors> {
    let mut p = Parser {
        file: file.to_owned(),
        lines: LineIndex::new(text),
        errors: Vec::new(),
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
        p.mapping(&doc, &[], "the model file", &["tables"])
            .unwrap_or_default()
    };
    let mut index_names: BTreeMap<String, String> = BTreeMap::new();
    for (k, tables) in root {
        debug_assert_eq!(k, "tables");
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
                schema.tables.insert(tname.clone(), table);
            }
        }
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
        Ok(schema)
    } else {
        p.errors.sort_by_key(|e| e.line);
        Err(ModelErrors(p.errors))
    }
}

fn check_identifier(name: &str) -> Result<(), String> {
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

const TABLE_KEYS: &[&str] = &[
    "columns",
    "primary_key",
    "indexes",
    "unique_constraints",
    "foreign_keys",
    "checks",
];
const COLUMN_KEYS: &[&str] = &[
    "type",
    "nullable",
    "default",
    "primary_key",
    "autoincrement",
    "unique",
];

fn parse_table(
    p: &mut Parser<'_>,
    tname: &str,
    value: &Value,
    t_at: &[OwnedSeg],
    fks: &mut Vec<Located>,
    index_names: &mut BTreeMap<String, String>,
) -> Option<Table> {
    let entries = p.mapping(value, t_at, &format!("table '{tname}'"), TABLE_KEYS)?;
    let mut table = Table {
        name: tname.to_owned(),
        ..Table::default()
    };
    let mut names_used: BTreeSet<String> = BTreeSet::new();
    let mut claim = |p: &mut Parser<'_>, name: &str, here: &[OwnedSeg], global: bool| {
        let dup_table = !names_used.insert(name.to_owned());
        let dup_global = global
            && index_names
                .insert(name.to_owned(), tname.to_owned())
                .is_some_and(|other| other != tname);
        if dup_table || dup_global {
            p.error(here, format!("duplicate constraint or index name '{name}'"));
            return false;
        }
        true
    };
    let get = |k: &str| entries.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
    // Columns first: everything else refers to them.
    let cols_at = at(t_at, &[key("columns")]);
    let mut col_unique: Vec<(String, PathBufSegs)> = Vec::new();
    match get("columns") {
        None => p.error(t_at, format!("table '{tname}' has no columns")),
        Some(cols) => {
            let list = p.mapping(cols, &cols_at, &format!("columns of '{tname}'"), &[])?;
            for (cname, cvalue) in list {
                let c_at = at(&cols_at, &[key(&cname)]);
                if let Err(why) = check_identifier(&cname) {
                    p.error(&c_at, format!("column name {why}"));
                    continue;
                }
                let what = format!("column {tname}.{cname}");
                let repaired = repair_flow_type(cvalue);
                let cvalue = &repaired;
                let props = match cvalue {
                    // `email: string(255)` is short for `email: {type: string(255)}`.
                    Value::String(_) => vec![("type".to_owned(), cvalue)],
                    _ => match p.mapping(cvalue, &c_at, &what, COLUMN_KEYS) {
                        Some(v) => v,
                        None => continue,
                    },
                };
                let prop = |k: &str| props.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
                let ty = match prop("type") {
                    None => {
                        p.error(&c_at, format!("{what} has no type"));
                        continue;
                    }
                    Some(t) => match t.as_str().and_then(ColumnType::parse) {
                        Some(ty) => ty,
                        None => {
                            let shown = match t {
                                Value::String(s) => s.clone(),
                                other => serde_yaml_ng::to_string(other)
                                    .unwrap_or_default()
                                    .trim()
                                    .to_owned(),
                            };
                            p.error(
                                &at(&c_at, &[key("type")]),
                                format!(
                                    "unknown type '{shown}' for {what} (known: smallint, integer, \
                                     bigint, boolean, text, string(n), numeric(p,s), float, double, \
                                     date, time, timestamp, timestamptz, uuid, json, bytes)"
                                ),
                            );
                            continue;
                        }
                    },
                };
                let flag = |p: &mut Parser<'_>, k: &str, dflt: bool| match prop(k) {
                    None => dflt,
                    Some(Value::Bool(b)) => *b,
                    Some(_) => {
                        p.error(
                            &at(&c_at, &[key(k)]),
                            format!("{k} of {what} must be true or false"),
                        );
                        dflt
                    }
                };
                let is_pk = flag(p, "primary_key", false);
                let autoincrement = flag(p, "autoincrement", false);
                let unique = flag(p, "unique", false);
                let nullable = flag(p, "nullable", !is_pk);
                if is_pk && nullable {
                    p.error(
                        &at(&c_at, &[key("nullable")]),
                        format!("{what} is part of the primary key and can't be nullable"),
                    );
                }
                let default = match prop("default") {
                    None | Some(Value::Null) => None,
                    Some(v) => match parse_default(v, &ty) {
                        Ok(d) => Some(d),
                        Err(why) => {
                            p.error(
                                &at(&c_at, &[key("default")]),
                                format!("default of {what} {why}"),
                            );
                            None
                        }
                    },
                };
                if autoincrement && !ty.is_integer() {
                    p.error(
                        &at(&c_at, &[key("autoincrement")]),
                        format!("{what} is autoincrement but its type {ty} is not an integer type"),
                    );
                }
                if autoincrement && default.is_some() {
                    p.error(
                        &at(&c_at, &[key("default")]),
                        format!("{what} is autoincrement and can't have a default"),
                    );
                }
                if is_pk {
                    table.primary_key.push(cname.clone());
                }
                if unique {
                    col_unique.push((cname.clone(), at(&c_at, &[key("unique")])));
                }
                table.columns.push(Column {
                    name: cname,
                    ty,
                    nullable,
                    default,
                    autoincrement,
                });
            }
        }
    }
    let has_col = |t: &Table, c: &str| t.column(c).is_some();
    let check_cols =
        |p: &mut Parser<'_>, t: &Table, cols: &[String], here: &[OwnedSeg], what: &str| {
            let mut ok = true;
            let mut seen = BTreeSet::new();
            for c in cols {
                if !has_col(t, c) {
                    p.error(
                        here,
                        format!(
                            "{what} names column '{c}', which is not in table '{}'",
                            t.name
                        ),
                    );
                    ok = false;
                } else if !seen.insert(c) {
                    p.error(here, format!("{what} names column '{c}' twice"));
                    ok = false;
                }
            }
            ok
        };
    // The `columns` of an index, unique constraint or foreign key: present, a list of
    // names (read at `names_at`), each a column of the table once; `None` after reporting.
    let item_cols = |p: &mut Parser<'_>,
                     t: &Table,
                     columns: Option<&Value>,
                     names_at: &[OwnedSeg],
                     here: &[OwnedSeg],
                     what: &str,
                     list: &str|
     -> Option<Vec<String>> {
        let Some(value) = columns else {
            p.error(here, format!("{what} of table '{}' has no columns", t.name));
            return None;
        };
        let cols = p.names(value, names_at, list)?;
        check_cols(p, t, &cols, here, what).then_some(cols)
    };
    if let Some(pk) = get("primary_key") {
        let here = at(t_at, &[key("primary_key")]);
        if !table.primary_key.is_empty() {
            p.error(
                &here,
                format!(
                    "table '{tname}' declares its primary key both on columns and as primary_key"
                ),
            );
        } else if let Some(cols) = p.names(pk, &here, "primary_key") {
            if check_cols(p, &table, &cols, &here, "primary_key") {
                for c in &mut table.columns {
                    if cols.contains(&c.name) {
                        c.nullable = false;
                    }
                }
                table.primary_key = cols;
            }
        }
    }
    let autos: Vec<&Column> = table.columns.iter().filter(|c| c.autoincrement).collect();
    if let Some(auto) = autos.first() {
        if autos.len() > 1 || table.primary_key != [auto.name.clone()] {
            let here = at(&cols_at, &[key(&auto.name)]);
            let msg = format!(
                "column {tname}.{} is autoincrement, which needs it to be the table's only \
                 primary-key column",
                auto.name
            );
            p.error(&here, msg);
        }
    }
    for (cname, here) in col_unique {
        let name = conventional_name("uq", tname, std::slice::from_ref(&cname));
        if claim(p, &name, &here, false) {
            table.uniques.push(UniqueConstraint {
                name,
                columns: vec![cname],
            });
        }
    }
    let list_items = |p: &mut Parser<'_>, k: &str| -> Vec<(PathBufSegs, Value)> {
        let Some(v) = get(k) else { return Vec::new() };
        let here = at(t_at, &[key(k)]);
        match v {
            Value::Sequence(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| (at(&here, &[OwnedSeg::Index(i)]), item.clone()))
                .collect(),
            Value::Null => Vec::new(),
            _ => {
                p.error(&here, format!("{k} of table '{tname}' must be a list"));
                Vec::new()
            }
        }
    };
    for (here, item) in list_items(p, "indexes") {
        let Some(props) = p.mapping(&item, &here, "an index", &["name", "columns", "unique"])
        else {
            continue;
        };
        let prop = |k: &str| props.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
        let columns_at = at(&here, &[key("columns")]);
        let Some(cols) = item_cols(
            p,
            &table,
            prop("columns"),
            &columns_at,
            &here,
            "an index",
            "index columns",
        ) else {
            continue;
        };
        let unique = match prop("unique") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                p.error(
                    &at(&here, &[key("unique")]),
                    "unique of an index must be true or false".into(),
                );
                false
            }
        };
        let name = match prop("name") {
            Some(Value::String(s)) => s.clone(),
            None => conventional_name(if unique { "ux" } else { "ix" }, tname, &cols),
            Some(_) => {
                p.error(
                    &at(&here, &[key("name")]),
                    "an index name must be a string".into(),
                );
                continue;
            }
        };
        if let Err(why) = check_identifier(&name) {
            p.error(&here, format!("index name {why}"));
            continue;
        }
        if claim(p, &name, &here, true) {
            table.indexes.push(Index {
                name,
                columns: cols,
                unique,
            });
        }
    }
    for (here, item) in list_items(p, "unique_constraints") {
        let Some(props) = p.mapping(&item, &here, "a unique constraint", &["name", "columns"])
        else {
            continue;
        };
        let prop = |k: &str| props.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
        let Some(cols) = item_cols(
            p,
            &table,
            prop("columns"),
            &here,
            &here,
            "a unique constraint",
            "unique columns",
        ) else {
            continue;
        };
        let name = match prop("name").and_then(Value::as_str) {
            Some(s) => s.to_owned(),
            None => conventional_name("uq", tname, &cols),
        };
        if claim(p, &name, &here, true) {
            table.uniques.push(UniqueConstraint {
                name,
                columns: cols,
            });
        }
    }
    for (here, item) in list_items(p, "foreign_keys") {
        let Some(props) = p.mapping(
            &item,
            &here,
            "a foreign key",
            &["name", "columns", "references", "on_delete", "on_update"],
        ) else {
            continue;
        };
        let prop = |k: &str| props.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
        let Some(cols) = item_cols(
            p,
            &table,
            prop("columns"),
            &here,
            &here,
            "a foreign key",
            "foreign key columns",
        ) else {
            continue;
        };
        let Some((ref_table, ref_columns)) = prop("references")
            .and_then(Value::as_str)
            .and_then(parse_reference)
        else {
            p.error(
                &here,
                format!("a foreign key of table '{tname}' needs references: table(column, ...)"),
            );
            continue;
        };
        let mut actions = [FkAction::NoAction; 2];
        for (slot, k) in actions.iter_mut().zip(["on_delete", "on_update"]) {
            if let Some(v) = prop(k) {
                match v.as_str().and_then(FkAction::parse) {
                    Some(a) => *slot = a,
                    None => p.error(
                        &at(&here, &[key(k)]),
                        format!("{k} must be one of: cascade, restrict, set null, set default, no action"),
                    ),
                }
            }
        }
        if actions.contains(&FkAction::SetNull) {
            if let Some(c) = cols
                .iter()
                .find(|c| table.column(c).is_some_and(|c| !c.nullable))
            {
                p.error(
                    &here,
                    format!("a foreign key of table '{tname}' sets column '{c}' to NULL, but the column is not nullable"),
                );
                continue;
            }
        }
        let name = match prop("name").and_then(Value::as_str) {
            Some(s) => s.to_owned(),
            None => conventional_name("fk", tname, &[cols.join("_"), ref_table.clone()]),
        };
        if !claim(p, &name, &here, true) {
            continue;
        }
        let given = !ref_columns.is_empty();
        fks.push(Located {
            table: tname.to_owned(),
            path: here,
            ref_columns_given: given,
            fk: ForeignKey {
                name,
                columns: cols,
                ref_table,
                ref_columns,
                on_delete: actions[0],
                on_update: actions[1],
            },
        });
    }
    for (i, (here, item)) in list_items(p, "checks").into_iter().enumerate() {
        let Some(props) = p.mapping(&item, &here, "a check constraint", &["name", "expr"]) else {
            continue;
        };
        let prop = |k: &str| props.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
        let Some(expr) = prop("expr").and_then(Value::as_str) else {
            p.error(
                &here,
                format!("a check constraint of table '{tname}' needs expr: SQL"),
            );
            continue;
        };
        let name = match prop("name").and_then(Value::as_str) {
            Some(s) => s.to_owned(),
            None => format!("ck_{tname}_{}", i + 1),
        };
        if claim(p, &name, &here, true) {
            table.checks.push(CheckConstraint {
                name,
                expr: expr.to_owned(),
            });
        }
    }
    Some(table)
}

/// `{type: numeric(10,2)}` is split by YAML at the comma into `type: numeric(10` and a
/// key `2)`; put the two halves back together.
fn repair_flow_type(v: &Value) -> Value {
    let Value::Mapping(map) = v else {
        return v.clone();
    };
    let Some(Value::String(ty)) = map.get("type") else {
        return v.clone();
    };
    if !ty.contains('(') || ty.contains(')') {
        return v.clone();
    }
    let tail = map.iter().find_map(|(k, val)| match (k.as_str(), val) {
        (Some(k), Value::Null) if k.ends_with(')') && !k.contains('(') => Some(k.to_owned()),
        _ => None,
    });
    let Some(tail) = tail else {
        return v.clone();
    };
    let mut out = map.clone();
    out.remove(tail.as_str());
    out.insert(Value::from("type"), Value::from(format!("{ty},{tail}")));
    Value::Mapping(out)
}

/// `users(id)` → (`users`, [`id`]); `users` → (`users`, []) meaning its primary key.
fn parse_reference(text: &str) -> Option<(String, Vec<String>)> {
    let text = text.trim();
    match text.split_once('(') {
        None => check_identifier(text)
            .ok()
            .map(|_| (text.to_owned(), Vec::new())),
        Some((t, rest)) => {
            let inner = rest.strip_suffix(')')?;
            let cols: Vec<String> = inner.split(',').map(|c| c.trim().to_owned()).collect();
            if cols.iter().any(|c| c.is_empty()) {
                return None;
            }
            Some((t.trim().to_owned(), cols))
        }
    }
}

/// A default as written in the model, checked against the column's type.
fn parse_default(v: &Value, ty: &ColumnType) -> Result<DefaultValue, String> {
    use ColumnType as T;
    use DefaultValue as D;
    let d = match v {
        Value::Bool(b) => D::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => D::Int(i),
            None => D::Decimal(canonical_decimal(&n.to_string()).ok_or("is not a number")?),
        },
        Value::String(s) => {
            let lower = s.trim().to_ascii_lowercase();
            let temporal = matches!(ty, T::Timestamp | T::TimestampTz | T::Date | T::Time);
            match lower.as_str() {
                "now" | "current_timestamp" | "now()" if temporal => D::Now,
                "current_date" | "today" if temporal => D::CurrentDate,
                _ => D::Text(s.clone()),
            }
        }
        Value::Mapping(m) if m.len() == 1 => {
            let (k, inner) = m.iter().next().ok_or("is empty")?;
            match (k.as_str(), inner) {
                (Some("sql"), Value::String(s)) => D::Expr(s.clone()),
                (Some("value"), Value::String(s)) => D::Text(s.clone()),
                (Some("value"), other) => return parse_default(other, ty),
                _ => return Err("must be a literal, now, {sql: EXPR} or {value: TEXT}".into()),
            }
        }
        _ => return Err("must be a literal, now, {sql: EXPR} or {value: TEXT}".into()),
    };
    let ok = match (&d, ty) {
        (D::Expr(_), _) => true,
        (D::Now, T::Timestamp | T::TimestampTz) => true,
        (D::CurrentDate, T::Date) => true,
        (D::Now | D::CurrentDate, _) => false,
        (D::Bool(_), T::Boolean) => true,
        (D::Int(i), T::Boolean) => *i == 0 || *i == 1,
        (D::Int(_), t) => t.is_integer() || t.is_decimal() || t.is_textual(),
        (D::Decimal(_), t) => t.is_decimal() || t.is_textual(),
        (D::Text(s), t) if t.is_integer() => s.trim().parse::<i64>().is_ok(),
        (D::Text(s), t) if t.is_decimal() => canonical_decimal(s).is_some(),
        (D::Text(_), T::Boolean) => false,
        (D::Text(_), _) => true,
        (D::Bool(_), _) => false,
    };
    if !ok {
        return Err(format!("({d}) does not fit type {ty}"));
    }
    Ok(d.normalized(ty))
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn defaults_normalise_by_type() {
        let t = ColumnType::Boolean;
        assert_eq!(
            DefaultValue::Int(1).normalized(&t),
            DefaultValue::Bool(true)
        );
        assert_eq!(
            DefaultValue::Text("0".into()).normalized(&t),
            DefaultValue::Bool(false)
        );
        assert_eq!(
            DefaultValue::Expr("'7'::integer".into()).normalized(&ColumnType::Integer),
            DefaultValue::Int(7)
        );
        assert_eq!(
            DefaultValue::Expr("'abc'::character varying".into()).normalized(&ColumnType::Text),
            DefaultValue::Text("abc".into())
        );
        assert_eq!(
            DefaultValue::Expr("current_timestamp()".into()).normalized(&ColumnType::Timestamp),
            DefaultValue::Now
        );
        assert_eq!(
            DefaultValue::Expr("(0)::numeric".into()).normalized(&ColumnType::Numeric(10, 2)),
            DefaultValue::Decimal("0".into())
        );
        assert_eq!(
            DefaultValue::Text("2.50".into()).normalized(&ColumnType::Numeric(10, 2)),
            DefaultValue::Decimal("2.5".into())
        );
        assert_eq!(parse_sql_default("NULL"), None);
        assert_eq!(
            parse_sql_default("current_timestamp(6)"),
            Some(DefaultValue::Now)
        );
        assert_eq!(parse_sql_default("now()"), Some(DefaultValue::Now));
        assert_eq!(
            parse_sql_default("'it''s'"),
            Some(DefaultValue::Text("it's".into()))
        );
    }

    #[test]
    fn long_names_are_cut_with_a_hash() {
        let cols = vec!["a_very_long_column_name".to_owned(); 3];
        let n = conventional_name("ix", "some_table_with_a_long_name", &cols);
        assert!(n.len() <= 60, "{n}");
        assert_ne!(
            n,
            conventional_name("ix", "some_table_with_a_long_name", &cols[..2])
        );
    }
}
