//! The portable schema model and the `models.yaml` loader.
//!
//! One shape for the schema a team declares and the schema a database has, so the two
//! can be compared. Types are portable names (`bigint`, `string(255)`, `timestamptz`);
//! each backend's spelling lives in the renderer and the introspection adapters.
//! Parsing is a pure function of the text ([`parse_models`]); only [`load_models`]
//! touches the file system.

//!
//! Layout: the types and their dialect normalisation here; defaults in `default`,
//! the loader in `load` (file, errors, the document) and `table` (one table's entries).

mod default;
mod index;
mod load;
mod table;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::core::Dialect;

pub use default::{canonical_decimal, parse_sql_default, squash, DefaultValue};
pub use load::{load_models, parse_models, ModelError, ModelErrors};
/// A whole schema: tables by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Schema {
    pub tables: BTreeMap<String, Table>,
    /// Views by name (`views:` in models).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub views: BTreeMap<String, View>,
    /// The dialect [`Schema::normalized_for`] brought the schema into; the diff reads
    /// SQL expressions (checks, index predicates) as that dialect writes them.
    #[serde(skip)]
    pub dialect: Option<Dialect>,
}

/// A view: its name and its query, compared in the query's comparable form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct View {
    pub name: String,
    pub sql: String,
}

impl View {
    /// The tables and views of `names` this view reads (itself excluded), by the
    /// words of its query.
    pub fn reads<'a>(&self, dialect: Dialect, names: &[&'a str]) -> Vec<&'a str> {
        let words = crate::sql::normalize::query_words(dialect, &self.sql);
        names
            .iter()
            .copied()
            .filter(|n| *n != self.name && words.iter().any(|w| w.eq_ignore_ascii_case(n)))
            .collect()
    }
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
    /// The table's comment (PostgreSQL, MariaDB; SQLite keeps none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
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
    /// The column's comment (PostgreSQL, MariaDB; SQLite keeps none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
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
    /// One of the listed values (`enum(a, b, c)`): a named type on PostgreSQL
    /// (`<table>_<column>`), `ENUM(...)` on MariaDB, text with a check on SQLite.
    Enum(Vec<String>),
    /// A type found in a database that has no portable name (never from a model file).
    Other(String),
}

/// The longest enum value PostgreSQL takes (bytes).
const MAX_ENUM_VALUE: usize = 63;

/// `a, 'b c', d` → the values, unquoted (`''` in a quoted one is `'`); `None` when a
/// value is empty, repeated, too long or holds a control character.
pub fn parse_enum_values(inner: &str) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    let mut chars = inner.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut v = String::new();
        if chars.peek() == Some(&'\'') {
            chars.next();
            loop {
                match chars.next()? {
                    '\'' if chars.peek() == Some(&'\'') => {
                        chars.next();
                        v.push('\'');
                    }
                    '\'' => break,
                    c => v.push(c),
                }
            }
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
        } else {
            while let Some(c) = chars.peek().copied() {
                if c == ',' {
                    break;
                }
                v.push(c);
                chars.next();
            }
            v = v.trim().to_owned();
        }
        if v.is_empty()
            || v.len() > MAX_ENUM_VALUE
            || v.chars().any(char::is_control)
            || out.contains(&v)
        {
            return None;
        }
        out.push(v);
        match chars.next() {
            None => return Some(out),
            Some(',') => continue,
            Some(_) => return None,
        }
    }
}

impl ColumnType {
    /// Parses a portable type name as written in `models.yaml`.
    pub fn parse(text: &str) -> Option<Self> {
        let trimmed = text.trim();
        if trimmed.len() > 5 && trimmed[..5].eq_ignore_ascii_case("enum(") {
            let inner = trimmed[5..].strip_suffix(')')?;
            return parse_enum_values(inner).map(ColumnType::Enum);
        }
        let t = trimmed.to_ascii_lowercase();
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
            ColumnType::Text
                | ColumnType::String(_)
                | ColumnType::Uuid
                | ColumnType::Json
                | ColumnType::Enum(_)
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
            ColumnType::Enum(values) => {
                f.write_str("enum(")?;
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    let plain = v
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                    if plain {
                        f.write_str(v)?;
                    } else {
                        write!(f, "'{}'", v.replace('\'', "''"))?;
                    }
                }
                f.write_str(")")
            }
            ColumnType::Other(raw) => write!(f, "{raw}"),
        }
    }
}

impl Serialize for ColumnType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A named index over columns or SQL expressions, maybe partial.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Index {
    pub name: String,
    /// The key columns; empty when the key is given as `expressions`.
    pub columns: Vec<String>,
    pub unique: bool,
    /// The key as SQL expressions (`lower(email)`), plain columns among them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expressions: Vec<String>,
    /// A partial index's condition (`where:` in models).
    #[serde(rename = "where", skip_serializing_if = "Option::is_none")]
    pub predicate: Option<String>,
}

impl Index {
    /// The same index for the diff: name, uniqueness, key and condition, SQL
    /// compared in its comparable form for `dialect`.
    pub fn same_as(&self, other: &Index, dialect: Option<Dialect>) -> bool {
        let same = |a: &str, b: &str| same_sql(dialect, a, b);
        self.name == other.name
            && self.unique == other.unique
            && self.columns == other.columns
            && self.expressions.len() == other.expressions.len()
            && self
                .expressions
                .iter()
                .zip(&other.expressions)
                .all(|(a, b)| same(a, b))
            && match (&self.predicate, &other.predicate) {
                (None, None) => true,
                (Some(a), Some(b)) => same(a, b),
                _ => false,
            }
    }
}

/// Two SQL expressions mean the same for `dialect` (without one: the same text
/// without case or spaces).
pub fn same_sql(dialect: Option<Dialect>, a: &str, b: &str) -> bool {
    match dialect {
        Some(d) => crate::sql::normalize::same_expr(d, a, b),
        None => squash(a) == squash(b),
    }
}

/// A plain (unquoted or quoted) identifier, as an expression index may list a column.
fn plain_column(expr: &str) -> Option<String> {
    let t = expr.trim();
    let t = ['"', '`']
        .iter()
        .find_map(|q| t.strip_prefix(*q).and_then(|x| x.strip_suffix(*q)))
        .unwrap_or(t);
    let ok = !t.is_empty()
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        && !t.starts_with(|c: char| c.is_ascii_digit());
    ok.then(|| t.to_owned())
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

/// A named check constraint; compared by name and by the expression's comparable
/// form ([`crate::sql::normalize`]), as backends rewrite the expression.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckConstraint {
    pub name: String,
    pub expr: String,
}

impl Table {
    /// The PostgreSQL type name of an enum column: `<table>_<column>`.
    pub fn enum_type_name(&self, column: &str) -> String {
        enum_type_name(&self.name, column)
    }

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

    pub(super) fn sort(&mut self) {
        self.indexes.sort_by(|a, b| a.name.cmp(&b.name));
        self.uniques.sort_by(|a, b| a.columns.cmp(&b.columns));
        self.foreign_keys
            .sort_by(|a, b| a.signature().cmp(&b.signature()));
        self.checks.sort_by(|a, b| a.name.cmp(&b.name));
    }
}

impl Schema {
    /// What `dialect` can't hold of this schema, one line each: on MariaDB/MySQL
    /// expression indexes and unique partial indexes are left out, and a plain partial
    /// index covers the whole table.
    pub fn left_out_on(&self, dialect: Dialect) -> Vec<String> {
        let mut out = Vec::new();
        if dialect != Dialect::Mysql {
            return out;
        }
        for t in self.tables.values() {
            for ix in &t.indexes {
                if !ix.expressions.is_empty() {
                    out.push(format!(
                        "expression index '{}' on '{}' is left out: MariaDB has no expression indexes",
                        ix.name, t.name
                    ));
                } else if ix.predicate.is_some() && ix.unique {
                    out.push(format!(
                        "unique partial index '{}' on '{}' is left out: MariaDB has no partial indexes",
                        ix.name, t.name
                    ));
                } else if ix.predicate.is_some() {
                    out.push(format!(
                        "partial index '{}' on '{}' covers every row: MariaDB has no partial indexes",
                        ix.name, t.name
                    ));
                }
            }
        }
        out
    }

    /// The schema as `dialect` can hold it, so a model compares equal to what the
    /// database reports after creating it:
    /// - MariaDB/MySQL keeps unique constraints as unique indexes;
    /// - MariaDB/MySQL treats `NO ACTION` as `RESTRICT`;
    /// - SQLite's autoincrement key is always `INTEGER`;
    /// - primary-key columns are never nullable; defaults take their type's form;
    /// - SQLite keeps no comments.
    pub fn normalized_for(&self, dialect: Dialect) -> Schema {
        let mut out = self.clone();
        out.dialect = Some(dialect);
        for table in out.tables.values_mut() {
            let pk = table.primary_key.clone();
            if dialect == Dialect::Sqlite || table.comment.as_deref() == Some("") {
                table.comment = None;
            }
            for col in &mut table.columns {
                // An empty comment is no comment on both servers.
                if dialect == Dialect::Sqlite || col.comment.as_deref() == Some("") {
                    col.comment = None;
                }
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
            for ix in &mut table.indexes {
                // An expression index whose key is only columns is a plain index.
                if !ix.expressions.is_empty() {
                    let plain: Option<Vec<String>> =
                        ix.expressions.iter().map(|e| plain_column(e)).collect();
                    if let Some(cols) = plain {
                        ix.columns = cols;
                        ix.expressions.clear();
                    }
                }
            }
            if dialect == Dialect::Mysql {
                // MariaDB has neither partial nor expression indexes: a plain partial
                // index is kept over its columns, the others are left out (see
                // [`Schema::left_out_on`]).
                table.indexes.retain(|ix| {
                    ix.expressions.is_empty() && !(ix.unique && ix.predicate.is_some())
                });
                for ix in &mut table.indexes {
                    ix.predicate = None;
                }
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
                            ..Index::default()
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

/// The PostgreSQL type name of an enum column: `<table>_<column>`, cut as names are.
pub fn enum_type_name(table: &str, column: &str) -> String {
    conventional_name(table, column, &[])
        .trim_end_matches('_')
        .to_owned()
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

#[cfg(test)]
mod tests {
    use super::*;

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
