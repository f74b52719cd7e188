//! Every bookkeeping statement (version rows, audit log, their tables), rendered in one
//! place for both the online batch and the `--sql` script, so the two can't drift.
//!
//! Two forms: statements with bind placeholders ([`BookSql`], built once per
//! connection), and statements with literals ([`version_op_sql`], [`log_insert_sql`],
//! [`log_finish_sql`]) for batches and scripts. Nothing taken from a file, a label or an
//! argument reaches a script except through [`literal`], which quotes it correctly for
//! each dialect whatever the session's settings, or [`comment`], whose text can't end
//! the comment.

use crate::core::{Dialect, VersionOp};

use super::{LogEntry, Tables};

/// The column list of the log INSERT, shared by every backend.
pub(crate) const LOG_COLUMNS: &str = "revision, direction, started_at, duration_ms, success, checksum, applied_by, tool_version, git_commit, error";

/// The log table's per-statement progress columns ([`crate::db::StepProgress`]), with
/// their types: added in place to log tables made by older releases.
pub const PROGRESS_COLUMNS: [(&str, &str); 3] = [
    ("statements_done", "BIGINT"),
    ("statement_in_doubt", "BIGINT"),
    ("statements_checksum", "VARCHAR(64)"),
];

/// The SQL texts of one backend for the bookkeeping tables, built once per connection.
#[derive(Debug, Clone)]
pub struct BookSql {
    pub create_version: String,
    pub create_log: String,
    pub table_exists: &'static str,
    /// The column names of a table (bound: the table name).
    pub log_columns: &'static str,
    pub select_versions: String,
    pub insert_version: String,
    pub delete_version: String,
    pub update_version: String,
    pub insert_log: String,
    pub finish_log: String,
    pub last_log: String,
    pub begin: &'static str,
    pub begin_locking: &'static str,
}

/// What differs between backends in the bookkeeping SQL; [`BookSql::new`] builds the rest.
pub struct BookDialect {
    /// The n-th (1-based) bind placeholder: `?1`, `$1` or `?`.
    pub placeholder: fn(usize) -> String,
    /// The log table's id column.
    pub log_id: &'static str,
    /// The log table's timestamp type.
    pub timestamp: &'static str,
    /// Appended to the log INSERT so it returns the new id (PostgreSQL).
    pub insert_log_suffix: &'static str,
    pub table_exists: &'static str,
    /// The column names of a table (bound: the table name).
    pub log_columns: &'static str,
    pub begin: &'static str,
    pub begin_locking: &'static str,
}

impl BookSql {
    /// The bookkeeping statements for the tables `t` on a backend described by `d`.
    pub fn new(t: &Tables, d: &BookDialect) -> Self {
        let (v, l) = (&t.version, &t.log);
        let p = d.placeholder;
        let short = v.rsplit('.').next().unwrap_or(v);
        let all: Vec<String> = (1..=10).map(p).collect();
        BookSql {
            create_version: format!(
                "CREATE TABLE IF NOT EXISTS {v} (version_num VARCHAR(32) NOT NULL, \
                 CONSTRAINT {short}_pkc PRIMARY KEY (version_num))"
            ),
            create_log: format!(
                "CREATE TABLE IF NOT EXISTS {l} ({}, \
                 revision VARCHAR(255) NOT NULL, direction VARCHAR(16) NOT NULL, \
                 started_at {} NOT NULL, duration_ms BIGINT NOT NULL, success BOOLEAN, \
                 checksum VARCHAR(64), applied_by VARCHAR(255) NOT NULL, \
                 tool_version VARCHAR(32) NOT NULL, git_commit VARCHAR(64), error TEXT, {})",
                d.log_id,
                d.timestamp,
                PROGRESS_COLUMNS.map(|(c, t)| format!("{c} {t}")).join(", ")
            ),
            table_exists: d.table_exists,
            log_columns: d.log_columns,
            select_versions: format!("SELECT version_num FROM {v}"),
            insert_version: format!("INSERT INTO {v} (version_num) VALUES ({})", p(1)),
            delete_version: format!("DELETE FROM {v} WHERE version_num = {}", p(1)),
            update_version: format!(
                "UPDATE {v} SET version_num = {} WHERE version_num = {}",
                p(1),
                p(2)
            ),
            insert_log: format!(
                "INSERT INTO {l} ({LOG_COLUMNS}) VALUES ({}){}",
                all.join(", "),
                d.insert_log_suffix
            ),
            finish_log: format!(
                "UPDATE {l} SET success = {}, duration_ms = {}, error = {} WHERE id = {}",
                p(1),
                p(2),
                p(3),
                p(4)
            ),
            // Every column: a log table of an older release has no progress columns.
            last_log: format!("SELECT * FROM {l} ORDER BY id DESC LIMIT 1"),
            begin: d.begin,
            begin_locking: d.begin_locking,
        }
    }
}

/// A SQL string literal for `dialect`, safe whatever the session's quoting settings.
///
/// `'` is doubled everywhere. A backslash is literal in SQLite, and in PostgreSQL only
/// while `standard_conforming_strings` is on, so PostgreSQL text holding one becomes an
/// escape string (`E'…'`, backslash doubled), read the same under either setting. MySQL
/// doubles the backslash: read back as one in the default mode, as two (but still inside
/// the literal) under `NO_BACKSLASH_ESCAPES`. A NUL, which no backend stores in text and
/// which cuts some clients' input short, becomes U+FFFD.
pub fn literal(text: &str, dialect: Dialect) -> String {
    let text = if text.contains('\0') {
        std::borrow::Cow::Owned(text.replace('\0', "\u{fffd}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    };
    let quoted = text.replace('\'', "''");
    match dialect {
        Dialect::Sqlite => format!("'{quoted}'"),
        Dialect::Postgres if quoted.contains('\\') => {
            format!("E'{}'", quoted.replace('\\', "\\\\"))
        }
        Dialect::Postgres => format!("'{quoted}'"),
        Dialect::Mysql => format!("'{}'", quoted.replace('\\', "\\\\")),
    }
}

/// `NULL`, or the literal of `text`.
pub(crate) fn opt_literal(text: Option<&str>, dialect: Dialect) -> String {
    text.map_or_else(|| "NULL".to_owned(), |t| literal(t, dialect))
}

/// The SQL boolean literal of `b` (`NULL` for none); SQLite stores 1 and 0.
pub fn bool_literal(b: Option<bool>, dialect: Dialect) -> &'static str {
    match (b, dialect) {
        (None, _) => "NULL",
        (Some(true), Dialect::Sqlite) => "1",
        (Some(false), Dialect::Sqlite) => "0",
        (Some(true), _) => "TRUE",
        (Some(false), _) => "FALSE",
    }
}

/// A `-- ` line comment holding `text`, ending in a newline. Every line break (CR, LF,
/// U+2028, U+2029, NEL, VT, FF) and every other control character becomes a space, so
/// the text can't end the comment and run as SQL.
pub fn comment(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
                ' '
            } else {
                c
            }
        })
        .collect();
    format!("-- {clean}\n")
}

/// One version-table change as a SQL statement with literals.
pub fn version_op_sql(op: &VersionOp, table: &str, d: Dialect) -> String {
    match op {
        VersionOp::Insert { version } => {
            format!(
                "INSERT INTO {table} (version_num) VALUES ({})",
                literal(version, d)
            )
        }
        VersionOp::Delete { version } => {
            format!(
                "DELETE FROM {table} WHERE version_num = {}",
                literal(version, d)
            )
        }
        VersionOp::Update { from, to } => format!(
            "UPDATE {table} SET version_num = {} WHERE version_num = {}",
            literal(to, d),
            literal(from, d)
        ),
    }
}

/// When a log row started, for [`log_insert_sql`].
pub enum StartedAt {
    /// The entry's own `started_at`, as a literal.
    Entry,
    /// The database's `CURRENT_TIMESTAMP` (the `--sql` script, run later).
    Now,
}

/// The log row `e` for `table` as an INSERT with literals, its `duration_ms` given as SQL.
pub fn log_insert_sql(
    table: &str,
    d: Dialect,
    e: &LogEntry,
    started: StartedAt,
    duration_ms: &str,
) -> String {
    let started = match started {
        StartedAt::Now => "CURRENT_TIMESTAMP".to_owned(),
        StartedAt::Entry => literal(&started_at_text(e, d), d),
    };
    format!(
        "INSERT INTO {table} ({LOG_COLUMNS}) VALUES ({}, {}, {started}, {duration_ms}, {}, {}, {}, {}, {}, {})",
        literal(&e.revision, d),
        literal(e.direction.name(), d),
        bool_literal(e.success, d),
        opt_literal(e.checksum.as_deref(), d),
        literal(&e.applied_by, d),
        literal(&e.tool_version, d),
        opt_literal(e.git_commit.as_deref(), d),
        opt_literal(e.error.as_deref(), d),
    )
}

/// `started_at` as the backend's timestamp column reads it.
pub(crate) fn started_at_text(e: &LogEntry, d: Dialect) -> String {
    match d {
        Dialect::Mysql => e.started_at.format("%Y-%m-%d %H:%M:%S%.6f").to_string(),
        _ => e.started_at.to_rfc3339(),
    }
}

/// Completes the log row `id` (written before its step ran) as an UPDATE with literals.
pub fn log_finish_sql(
    table: &str,
    d: Dialect,
    id: i64,
    success: bool,
    duration_ms: i64,
    error: Option<&str>,
) -> String {
    format!(
        "UPDATE {table} SET success = {}, duration_ms = {duration_ms}, error = {} WHERE id = {id}",
        bool_literal(Some(success), d),
        opt_literal(error, d),
    )
}

/// Records the progress `p` of the step of pending log row `id` (numbers and hex only).
pub fn progress_sql(table: &str, id: i64, p: &super::StepProgress) -> String {
    let in_doubt = p
        .in_doubt
        .map_or_else(|| "NULL".to_owned(), |n| n.to_string());
    let checksum: String = p.checksum.chars().filter(char::is_ascii_hexdigit).collect();
    format!(
        "UPDATE {table} SET statements_done = {}, statement_in_doubt = {in_doubt}, \
         statements_checksum = '{checksum}' WHERE id = {id}",
        p.done
    )
}

/// The query for the newest successful upgrade's checksum of each revision.
pub fn applied_checksums_sql(log: &str, d: Dialect) -> String {
    format!(
        "SELECT revision, checksum FROM {log} WHERE id IN (SELECT MAX(id) FROM {log} \
         WHERE direction = 'upgrade' AND success = {} GROUP BY revision)",
        bool_literal(Some(true), d)
    )
}

/// How a step's log row is written by [`Database::record_step`].
#[derive(Debug, Clone)]
pub enum LogWrite<'a> {
    /// Append this row.
    Insert(&'a LogEntry),
    /// Complete the row written before the step ran.
    Finish {
        id: i64,
        success: bool,
        duration_ms: i64,
        error: Option<String>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_quote_for_each_dialect() {
        assert_eq!(literal("a'b", Dialect::Sqlite), "'a''b'");
        assert_eq!(literal("a\\'b", Dialect::Sqlite), "'a\\''b'");
        assert_eq!(literal("plain", Dialect::Postgres), "'plain'");
        assert_eq!(literal("a\\'b", Dialect::Postgres), "E'a\\\\''b'");
        assert_eq!(literal("a\\'b", Dialect::Mysql), "'a\\\\''b'");
        assert_eq!(literal("a\0b", Dialect::Sqlite), "'a\u{fffd}b'");
    }

    #[test]
    fn comments_hold_no_line_break_or_control_character() {
        let hostile = "x\nDROP TABLE t;\r\u{2028}\u{2029}\u{85}\u{b}\u{c}\u{1b}\u{7f}y";
        let c = comment(hostile);
        assert!(c.starts_with("-- x DROP TABLE t;"), "{c:?}");
        assert!(c.ends_with("y\n"), "{c:?}");
        let body = &c[..c.len() - 1];
        assert!(
            !body
                .chars()
                .any(|ch| ch.is_control() || ch == '\u{2028}' || ch == '\u{2029}'),
            "{c:?}"
        );
        assert_eq!(
            comment("Running upgrade a -> b, ok"),
            "-- Running upgrade a -> b, ok\n"
        );
    }
}
