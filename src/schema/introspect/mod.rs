//! Reading a live database into the portable model, one module per backend.
//!
//! Each adapter asks the catalog a handful of set-wide questions (all columns of
//! all tables at once, not one query per table on the servers) and builds a
//! [`Schema`] in the same shape the model file gives, so the diff compares like
//! with like. Types are mapped back to portable names per dialect
//! ([`portable_type`]); defaults are kept as the database prints them and brought to
//! their portable form by [`DefaultValue::normalized`]. The tool's own tables are
//! skipped, as are objects the model can't express (expression and partial indexes).

pub mod mysql;
pub mod postgres;
pub mod sqlite;

use super::model::{ColumnType, Schema};
use crate::core::Dialect;

/// Which tables introspection reads and which it leaves out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntrospectOptions {
    /// The tool's own tables (version and log), compared without case and without
    /// their schema: wherever the config puts them, they are never read.
    pub ignore_tables: Vec<String>,
    /// PostgreSQL schemas read besides the connection's current one (the schemas the
    /// model names); their tables are named `schema.table`.
    pub schemas: Vec<String>,
}

impl Default for IntrospectOptions {
    fn default() -> Self {
        Self {
            ignore_tables: vec!["migrate_version".into(), "migrate_log".into()],
            schemas: Vec::new(),
        }
    }
}

impl IntrospectOptions {
    fn ignored(&self, table: &str) -> bool {
        let bare = |t: &str| t.rsplit('.').next().unwrap_or(t).to_owned();
        let table = bare(table);
        self.ignore_tables
            .iter()
            .any(|t| bare(t).eq_ignore_ascii_case(&table))
    }
}

/// A catalog query failed.
#[derive(Debug, thiserror::Error)]
#[error("reading the {dialect} schema failed ({what}): {source}")]
pub struct IntrospectError {
    pub dialect: Dialect,
    pub what: &'static str,
    #[source]
    pub source: sqlx::Error,
}

fn err(dialect: Dialect, what: &'static str) -> impl FnOnce(sqlx::Error) -> IntrospectError {
    move |source| IntrospectError {
        dialect,
        what,
        source,
    }
}

/// Maps a type as `dialect`'s catalog prints it back to a portable type; anything
/// without a portable name is kept as [`ColumnType::Other`].
pub fn portable_type(dialect: Dialect, raw: &str) -> ColumnType {
    let trimmed = raw.trim();
    if trimmed.len() > 5 && trimmed[..5].eq_ignore_ascii_case("enum(") {
        if let Some(values) = trimmed[5..]
            .strip_suffix(')')
            .and_then(super::model::parse_enum_values)
        {
            return ColumnType::Enum(values);
        }
    }
    let t = trimmed.to_ascii_lowercase();
    let (base, args) = match t.find('(') {
        Some(open) => {
            let close = t.rfind(')').unwrap_or(t.len());
            let inner = t.get(open + 1..close).unwrap_or("");
            let args: Vec<u32> = inner
                .split(',')
                .filter_map(|a| a.trim().parse().ok())
                .collect();
            let rest = t.get(close + 1..).unwrap_or("").trim().to_owned();
            let base = t[..open].trim().to_owned();
            // `timestamp(6) with time zone` and friends keep their words.
            let base = if rest.is_empty() {
                base
            } else {
                format!("{base} {rest}")
            };
            (base, Some(args))
        }
        None => (t.clone(), None),
    };
    let other = || ColumnType::Other(raw.trim().to_owned());
    use ColumnType as T;
    match (dialect, base.as_str(), args.as_deref()) {
        (Dialect::Mysql, "tinyint", Some([1])) => T::Boolean,
        (Dialect::Mysql, "tinyint", _) => other(),
        (Dialect::Mysql, "timestamp", _) => T::TimestampTz,
        (Dialect::Mysql, "char", Some([36])) => T::Uuid,
        (Dialect::Mysql, "longtext" | "mediumtext", _) => T::Text,
        (Dialect::Mysql, "longblob" | "blob" | "mediumblob", _) => T::Bytes,
        (_, "smallint" | "int2", _) => T::SmallInt,
        (_, "integer" | "int" | "int4", _) => T::Integer,
        (_, "bigint" | "int8", _) => T::BigInt,
        (_, "boolean" | "bool", None) => T::Boolean,
        (_, "text" | "clob", None) => T::Text,
        (_, "text", Some(_)) if dialect == Dialect::Mysql => T::Text,
        (_, "varchar" | "character varying" | "nvarchar", Some([n])) => T::String(*n),
        (_, "numeric" | "decimal", Some([p, s])) => T::Numeric(*p, *s),
        (_, "numeric" | "decimal", Some([p])) => T::Numeric(*p, 0),
        (Dialect::Mysql, "float", _) => T::Float,
        (_, "real" | "float" | "float4", None) => T::Float,
        (_, "double" | "double precision" | "float8", None) => T::Double,
        (_, "date", None) => T::Date,
        (_, "time" | "time without time zone", _) => T::Time,
        (_, "timestamp" | "datetime" | "timestamp without time zone", _) => T::Timestamp,
        (_, "timestamptz" | "timestamp with time zone", _) => T::TimestampTz,
        (_, "uuid", None) => T::Uuid,
        (_, "json" | "jsonb", None) => T::Json,
        (_, "blob" | "bytea", None) => T::Bytes,
        _ => other(),
    }
}

/// Strips `CHECK (` ... `)` from a check constraint's definition.
fn check_body(def: &str) -> String {
    let d = def.trim();
    let d = d
        .strip_prefix("CHECK")
        .or_else(|| d.strip_prefix("check"))
        .unwrap_or(d)
        .trim();
    let d = d.strip_suffix("NOT VALID").unwrap_or(d).trim();
    match d.strip_prefix('(').and_then(|x| x.strip_suffix(')')) {
        Some(inner) => inner.trim().to_owned(),
        None => d.to_owned(),
    }
}

/// Finishes a schema read from a database: defaults into their portable form.
fn finish(mut schema: Schema) -> Schema {
    for t in schema.tables.values_mut() {
        for c in &mut t.columns {
            c.default = c.default.take().map(|d| d.normalized(&c.ty));
            if matches!(&c.default, Some(super::model::DefaultValue::Expr(e)) if e.is_empty()) {
                c.default = None;
            }
        }
    }
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_types_map_back_to_portable_types() {
        use ColumnType as T;
        let pg = |s| portable_type(Dialect::Postgres, s);
        assert_eq!(pg("character varying(255)"), T::String(255));
        assert_eq!(pg("timestamp with time zone"), T::TimestampTz);
        assert_eq!(pg("timestamp(3) without time zone"), T::Timestamp);
        assert_eq!(pg("numeric(10,2)"), T::Numeric(10, 2));
        assert_eq!(pg("double precision"), T::Double);
        assert_eq!(pg("jsonb"), T::Json);
        assert_eq!(pg("inet"), T::Other("inet".into()));
        let my = |s| portable_type(Dialect::Mysql, s);
        assert_eq!(my("tinyint(1)"), T::Boolean);
        assert_eq!(my("bigint(20)"), T::BigInt);
        assert_eq!(my("int(11)"), T::Integer);
        assert_eq!(my("timestamp"), T::TimestampTz);
        assert_eq!(my("datetime"), T::Timestamp);
        assert_eq!(my("char(36)"), T::Uuid);
        assert_eq!(my("decimal(10,2)"), T::Numeric(10, 2));
        assert_eq!(
            my("enum('new','it''s')"),
            T::Enum(vec!["new".into(), "it's".into()])
        );
        let lite = |s| portable_type(Dialect::Sqlite, s);
        assert_eq!(lite("VARCHAR(20)"), T::String(20));
        assert_eq!(lite("TIMESTAMP"), T::Timestamp);
        assert_eq!(lite("BLOB"), T::Bytes);
        assert_eq!(
            check_body("CHECK ((price > (0)::numeric))"),
            "(price > (0)::numeric)"
        );
    }
}
