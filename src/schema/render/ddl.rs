//! The SQL of single objects per dialect: identifiers, types, defaults, column
//! definitions, `CREATE TABLE`, indexes, foreign keys, `ALTER COLUMN`.

use std::fmt::Write as _;

use crate::core::Dialect;
use crate::schema::model::{
    Column, ColumnType, DefaultValue, FkAction, ForeignKey, Identity, Index, NullsOrder, Table,
};

/// Quotes an identifier for `dialect`.
pub fn quote(dialect: Dialect, name: &str) -> String {
    match dialect {
        Dialect::Mysql => format!("`{}`", name.replace('`', "``")),
        _ => format!("\"{}\"", name.replace('"', "\"\"")),
    }
}

/// Quotes a table or type name: on PostgreSQL `schema.name` (a table of `schema:` in
/// the model, or read from another schema) is quoted part by part.
pub fn quote_rel(dialect: Dialect, name: &str) -> String {
    match (dialect, name.split_once('.')) {
        (Dialect::Postgres, Some((schema, rel))) => {
            format!("{}.{}", quote(dialect, schema), quote(dialect, rel))
        }
        _ => quote(dialect, name),
    }
}

/// The schema of a qualified PostgreSQL table name (`billing.invoices` → `billing`).
pub fn schema_of(name: &str) -> Option<&str> {
    name.split_once('.').map(|(s, _)| s)
}

pub(super) fn quote_list(dialect: Dialect, names: &[String]) -> String {
    names
        .iter()
        .map(|n| quote(dialect, n))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The column type as `dialect` spells it.
pub fn sql_type(dialect: Dialect, ty: &ColumnType) -> String {
    use ColumnType as T;
    use Dialect as D;
    match (ty, dialect) {
        (T::SmallInt, _) => "SMALLINT".into(),
        (T::Integer, D::Mysql) => "INT".into(),
        (T::Integer, _) => "INTEGER".into(),
        (T::BigInt, _) => "BIGINT".into(),
        (T::Boolean, D::Mysql) => "TINYINT(1)".into(),
        (T::Boolean, _) => "BOOLEAN".into(),
        (T::Text, _) => "TEXT".into(),
        (T::String(n), _) => format!("VARCHAR({n})"),
        (T::Numeric(p, s), D::Mysql) => format!("DECIMAL({p},{s})"),
        (T::Numeric(p, s), _) => format!("NUMERIC({p},{s})"),
        (T::Float, D::Mysql) => "FLOAT".into(),
        (T::Float, _) => "REAL".into(),
        (T::Double, D::Mysql) => "DOUBLE".into(),
        (T::Double, _) => "DOUBLE PRECISION".into(),
        (T::Date, _) => "DATE".into(),
        (T::Time, _) => "TIME".into(),
        (T::Timestamp, D::Mysql) => "DATETIME".into(),
        (T::Timestamp, _) => "TIMESTAMP".into(),
        (T::TimestampTz, D::Mysql) => "TIMESTAMP".into(),
        (T::TimestampTz, _) => "TIMESTAMPTZ".into(),
        (T::Uuid, D::Mysql) => "CHAR(36)".into(),
        (T::Uuid, _) => "UUID".into(),
        (T::Json, D::Postgres) => "JSONB".into(),
        (T::Json, _) => "JSON".into(),
        (T::Bytes, D::Postgres) => "BYTEA".into(),
        (T::Bytes, D::Mysql) => "LONGBLOB".into(),
        (T::Bytes, D::Sqlite) => "BLOB".into(),
        (T::Enum(values), D::Mysql) => format!(
            "ENUM({})",
            values
                .iter()
                .map(|v| sql_literal(dialect, v))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        (T::Enum(_), _) => "TEXT".into(),
        (T::Other(raw), _) => raw.clone(),
    }
}

pub(super) fn sql_literal(dialect: Dialect, text: &str) -> String {
    let mut s = text.replace('\'', "''");
    if dialect == Dialect::Mysql {
        s = s.replace('\\', "\\\\");
    }
    format!("'{s}'")
}

/// The default as `dialect` spells it.
pub fn sql_default(dialect: Dialect, d: &DefaultValue) -> String {
    match d {
        DefaultValue::Bool(b) => match dialect {
            Dialect::Mysql => if *b { "1" } else { "0" }.into(),
            _ => if *b { "TRUE" } else { "FALSE" }.into(),
        },
        DefaultValue::Int(i) => i.to_string(),
        DefaultValue::Decimal(x) => x.clone(),
        DefaultValue::Text(t) => sql_literal(dialect, t),
        DefaultValue::Now => "CURRENT_TIMESTAMP".into(),
        DefaultValue::CurrentDate => match dialect {
            Dialect::Mysql => "(CURRENT_DATE)".into(),
            _ => "CURRENT_DATE".into(),
        },
        DefaultValue::Expr(e) => match dialect {
            Dialect::Postgres => e.clone(),
            _ => format!("({e})"),
        },
    }
}

/// One column's definition inside `CREATE TABLE` or `ADD COLUMN`.
pub(super) fn column_def(
    dialect: Dialect,
    table: &str,
    col: &Column,
    sqlite_inline_pk: bool,
) -> String {
    let ty = match (&col.ty, dialect) {
        (ColumnType::Enum(_), Dialect::Postgres) => super::enums::type_ref(table, &col.name),
        (ty, _) => sql_type(dialect, ty),
    };
    let mut s = format!("{} {ty}", quote(dialect, &col.name));
    if col.autoincrement && dialect == Dialect::Postgres {
        let _ = write!(s, " {}", pg_identity(col.identity));
    }
    // SQLite's `INTEGER PRIMARY KEY` is the rowid, never NULL: written as SQLite
    // documents it (and as introspection reads it back), without NOT NULL.
    if !col.nullable && !sqlite_inline_pk {
        s.push_str(" NOT NULL");
    } else if col.nullable && dialect == Dialect::Mysql {
        s.push_str(" NULL");
    }
    if sqlite_inline_pk {
        s.push_str(" PRIMARY KEY AUTOINCREMENT");
    }
    if let Some(d) = &col.default {
        let _ = write!(s, " DEFAULT {}", sql_default(dialect, d));
    }
    if col.on_update_now && dialect == Dialect::Mysql {
        s.push_str(" ON UPDATE CURRENT_TIMESTAMP");
    }
    if col.autoincrement && dialect == Dialect::Mysql {
        s.push_str(" AUTO_INCREMENT");
    }
    if let (ColumnType::Enum(values), Dialect::Sqlite) = (&col.ty, dialect) {
        let _ = write!(
            s,
            " CHECK ({} IN ({}))",
            quote(dialect, &col.name),
            values
                .iter()
                .map(|v| sql_literal(dialect, v))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if let (Some(c), Dialect::Mysql) = (&col.comment, dialect) {
        let _ = write!(s, " COMMENT {}", sql_literal(dialect, c));
    }
    s
}

/// `GENERATED ... AS IDENTITY`, with the options that are not the default.
fn pg_identity(id: Option<Identity>) -> String {
    let id = id.unwrap_or(Identity::PLAIN);
    let mut s = format!(
        "GENERATED {} AS IDENTITY",
        if id.always { "ALWAYS" } else { "BY DEFAULT" }
    );
    if id.start != 1 || id.increment != 1 {
        let _ = write!(
            s,
            " (START WITH {} INCREMENT BY {})",
            id.start, id.increment
        );
    }
    s
}

/// PostgreSQL's `COMMENT ON TABLE` (`column: None`) or `COMMENT ON COLUMN`.
pub(super) fn pg_comment(table: &str, column: Option<&str>, text: Option<&str>) -> String {
    let d = Dialect::Postgres;
    let what = match column {
        Some(c) => format!("COLUMN {}.{}", quote_rel(d, table), quote(d, c)),
        None => format!("TABLE {}", quote_rel(d, table)),
    };
    let value = text.map_or_else(|| "NULL".to_owned(), |t| sql_literal(d, t));
    format!("COMMENT ON {what} IS {value};")
}

/// The comments of a new PostgreSQL table, after its `CREATE TABLE`.
pub(super) fn pg_table_comments(t: &Table, out: &mut Vec<String>) {
    if let Some(c) = &t.comment {
        out.push(pg_comment(&t.name, None, Some(c)));
    }
    for col in &t.columns {
        if let Some(c) = &col.comment {
            out.push(pg_comment(&t.name, Some(&col.name), Some(c)));
        }
    }
}

pub(super) fn fk_clause(dialect: Dialect, k: &ForeignKey) -> String {
    let mut s = format!(
        "CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({})",
        quote(dialect, &k.name),
        quote_list(dialect, &k.columns),
        quote_rel(dialect, &k.ref_table),
        quote_list(dialect, &k.ref_columns)
    );
    for (word, action) in [("DELETE", k.on_delete), ("UPDATE", k.on_update)] {
        if action != FkAction::NoAction {
            let _ = write!(s, " ON {word} {}", action.sql());
        }
    }
    s
}

pub(super) fn create_index(dialect: Dialect, table: &str, ix: &Index) -> String {
    let keys: Vec<String> = if ix.expressions.is_empty() {
        ix.columns.iter().map(|c| quote(dialect, c)).collect()
    } else {
        ix.expressions.iter().map(|e| format!("({e})")).collect()
    };
    let key = keys
        .into_iter()
        .enumerate()
        .map(|(i, mut k)| {
            let p = ix.part(i);
            if let (Some(n), Dialect::Mysql) = (p.length, dialect) {
                let _ = write!(k, "({n})");
            }
            if p.desc {
                k.push_str(" DESC");
            }
            match (p.nulls, dialect) {
                (Some(NullsOrder::First), Dialect::Postgres) => k.push_str(" NULLS FIRST"),
                (Some(NullsOrder::Last), Dialect::Postgres) => k.push_str(" NULLS LAST"),
                _ => {}
            }
            k
        })
        .collect::<Vec<_>>()
        .join(", ");
    let using = match (&ix.using, dialect) {
        (Some(u), Dialect::Postgres) => format!(" USING {}", quote(dialect, u)),
        _ => String::new(),
    };
    let mut s = format!(
        "CREATE {}INDEX {} ON {}{using} ({key})",
        if ix.unique { "UNIQUE " } else { "" },
        quote(dialect, &ix.name),
        quote_rel(dialect, table),
    );
    if !ix.include.is_empty() && dialect == Dialect::Postgres {
        let _ = write!(s, " INCLUDE ({})", quote_list(dialect, &ix.include));
    }
    if let Some(w) = &ix.predicate {
        let _ = write!(s, " WHERE {w}");
    }
    s.push(';');
    s
}

pub(super) fn drop_index(dialect: Dialect, table: &str, ix: &Index) -> String {
    match dialect {
        Dialect::Mysql => format!(
            "DROP INDEX {} ON {};",
            quote(dialect, &ix.name),
            quote(dialect, table)
        ),
        // An index lives in its table's schema.
        _ => match (dialect, schema_of(table)) {
            (Dialect::Postgres, Some(schema)) => format!(
                "DROP INDEX {}.{};",
                quote(dialect, schema),
                quote(dialect, &ix.name)
            ),
            _ => format!("DROP INDEX {};", quote(dialect, &ix.name)),
        },
    }
}

/// `CREATE TABLE` for `t`, with the foreign keys `inline_fk` accepts inside it.
pub(super) fn create_table(
    dialect: Dialect,
    name_as: &str,
    t: &Table,
    inline_fk: &dyn Fn(&ForeignKey) -> bool,
) -> String {
    let q = |n: &str| quote(dialect, n);
    let sqlite_autoinc = dialect == Dialect::Sqlite
        && t.primary_key.len() == 1
        && t.columns.iter().any(|c| c.autoincrement);
    let mut parts: Vec<String> = t
        .columns
        .iter()
        .map(|c| column_def(dialect, &t.name, c, sqlite_autoinc && c.autoincrement))
        .collect();
    if !t.primary_key.is_empty() && !sqlite_autoinc {
        parts.push(format!(
            "PRIMARY KEY ({})",
            quote_list(dialect, &t.primary_key)
        ));
    }
    for u in &t.uniques {
        parts.push(format!(
            "CONSTRAINT {} UNIQUE ({})",
            q(&u.name),
            quote_list(dialect, &u.columns)
        ));
    }
    for k in t.foreign_keys.iter().filter(|k| inline_fk(k)) {
        parts.push(fk_clause(dialect, k));
    }
    for c in &t.checks {
        parts.push(format!("CONSTRAINT {} CHECK ({})", q(&c.name), c.expr));
    }
    let options = match (&t.comment, dialect) {
        (Some(c), Dialect::Mysql) => format!(" COMMENT={}", sql_literal(dialect, c)),
        _ => String::new(),
    };
    format!(
        "CREATE TABLE {} (\n    {}\n){options};",
        quote_rel(dialect, name_as),
        parts.join(",\n    ")
    )
}

/// `ALTER COLUMN` statements turning `a` into `b`; sets `non_transactional` when
/// they must run outside a transaction (an enum value added on PostgreSQL).
pub(super) fn alter_column(
    dialect: Dialect,
    table: &str,
    a: &Column,
    b: &Column,
    out: &mut Vec<String>,
    non_transactional: &mut bool,
) {
    let t = quote_rel(dialect, table);
    let c = quote(dialect, &b.name);
    match dialect {
        Dialect::Mysql => out.push(format!(
            "ALTER TABLE {t} MODIFY COLUMN {};",
            column_def(dialect, table, b, false)
        )),
        Dialect::Postgres => {
            let default_changes = !crate::schema::diff::same_default(&a.default, &b.default);
            if a.autoincrement && !b.autoincrement {
                out.push(format!(
                    "ALTER TABLE {t} ALTER COLUMN {c} DROP IDENTITY IF EXISTS;"
                ));
            }
            if a.default.is_some() && (default_changes || a.ty != b.ty) {
                out.push(format!("ALTER TABLE {t} ALTER COLUMN {c} DROP DEFAULT;"));
            }
            match (&a.ty, &b.ty) {
                _ if a.ty == b.ty => {}
                (ColumnType::Enum(old), ColumnType::Enum(new)) => {
                    *non_transactional |= super::enums::alter(table, &b.name, old, new, out);
                }
                (_, ColumnType::Enum(new)) => {
                    out.push(super::enums::create(table, &b.name, new));
                    let ty = super::enums::type_ref(table, &b.name);
                    out.push(format!(
                        "ALTER TABLE {t} ALTER COLUMN {c} TYPE {ty} USING {c}::text::{ty};"
                    ));
                }
                (old, new) => {
                    let ty = sql_type(dialect, new);
                    let via = if matches!(old, ColumnType::Enum(_)) {
                        "::text"
                    } else {
                        ""
                    };
                    out.push(format!(
                        "ALTER TABLE {t} ALTER COLUMN {c} TYPE {ty} USING {c}{via}::{ty};"
                    ));
                    if !via.is_empty() {
                        out.push(super::enums::drop(table, &b.name));
                    }
                }
            }
            if a.nullable != b.nullable {
                let verb = if b.nullable { "DROP" } else { "SET" };
                out.push(format!("ALTER TABLE {t} ALTER COLUMN {c} {verb} NOT NULL;"));
            }
            if let Some(d) = &b.default {
                if default_changes || a.ty != b.ty {
                    out.push(format!(
                        "ALTER TABLE {t} ALTER COLUMN {c} SET DEFAULT {};",
                        sql_default(dialect, d)
                    ));
                }
            }
            if b.autoincrement && !a.autoincrement {
                out.push(format!(
                    "ALTER TABLE {t} ALTER COLUMN {c} ADD {};",
                    pg_identity(b.identity)
                ));
            } else if a.autoincrement && b.autoincrement && a.identity != b.identity {
                let (x, y) = (
                    a.identity.unwrap_or(Identity::PLAIN),
                    b.identity.unwrap_or(Identity::PLAIN),
                );
                let mut set = Vec::new();
                if x.always != y.always {
                    set.push(if y.always {
                        "SET GENERATED ALWAYS".to_owned()
                    } else {
                        "SET GENERATED BY DEFAULT".to_owned()
                    });
                }
                if x.start != y.start {
                    set.push(format!("SET START WITH {}", y.start));
                }
                if x.increment != y.increment {
                    set.push(format!("SET INCREMENT BY {}", y.increment));
                }
                out.push(format!(
                    "ALTER TABLE {t} ALTER COLUMN {c} {};",
                    set.join(" ")
                ));
            }
            if a.comment != b.comment {
                out.push(pg_comment(table, Some(&b.name), b.comment.as_deref()));
            }
        }
        Dialect::Sqlite => {}
    }
}
