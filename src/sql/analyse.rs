//! A revision's SQL script, statement by statement: where each statement is, what the
//! parser made of it, and which database objects it touches.
//!
//! [`analyse`] is the entry point every SQL-reading feature shares: `lint` applies its
//! rules to [`Analysed::parsed`], `conflicts` compares the [`Touch`]es of two branches.
//! The script is split with the executor's own splitter ([`crate::db::split`]), so a
//! statement number and line here are the ones `upgrade` reports when that statement
//! fails. A statement the parser can't read keeps its error in `parsed` and has no
//! touches: callers must report it as unknown, never treat it as harmless.

use sqlparser::ast::Statement;
use sqlparser::dialect::{
    Dialect as ParserDialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect,
};
use sqlparser::parser::Parser;

use crate::core::Dialect;
use crate::db::split::split_statements;

pub use super::touches::touches;

/// How deep the parser may nest (parentheses, subqueries, expressions) before it gives
/// up with an error. sqlparser's own default; hostile input deeper than this is an error,
/// never a stack overflow.
pub const RECURSION_LIMIT: usize = 50;

/// A whole script, analysed.
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    /// The script's statements in order; statements of only comments are dropped.
    pub statements: Vec<Analysed>,
}

/// One statement of a script.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysed {
    /// 1-based position among the script's statements (as `upgrade` numbers them).
    pub number: usize,
    /// 1-based line of the script where the statement's code starts (after any comments
    /// leading it).
    pub line: usize,
    /// 1-based line of the script where the statement (and its comments) begin: comments
    /// above the statement are part of it, so `-- migrate:allow` on the line above is read.
    pub first_line: usize,
    /// 1-based line of the script where the statement ends.
    pub last_line: usize,
    /// The statement's text, leading comments included, without the terminating `;`.
    pub text: String,
    /// A short one-line excerpt of the statement's code for messages (at most 120
    /// characters, leading comments left out).
    pub excerpt: String,
    /// The parsed statement, or the parser's error message.
    pub parsed: Result<Statement, String>,
    /// The objects the statement touches; empty when `parsed` is an error.
    pub touches: Vec<Touch>,
}

/// One object a statement touches, and how.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Touch {
    pub object: ObjectRef,
    pub action: Action,
}

/// A database object as a statement names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectRef {
    pub kind: ObjectKind,
    /// The name as written, normalised: unquoted identifiers lower-cased, quoted ones
    /// kept as they are, parts joined with `.` (schema-qualified where the SQL qualifies
    /// it). An unnamed constraint is named by its kind and columns (`unique(a, b)`).
    pub name: String,
    /// The owning table (normalised like `name`) of a column, index or constraint,
    /// when the statement says it.
    pub table: Option<String>,
}

/// What kind of object an [`ObjectRef`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectKind {
    Table,
    Column,
    Index,
    Constraint,
    View,
    Sequence,
    Type,
    Schema,
    Function,
    Trigger,
    Other,
}

impl ObjectKind {
    /// The word for it in messages: `table`, `column`, ..., `object`.
    pub fn name(self) -> &'static str {
        match self {
            ObjectKind::Table => "table",
            ObjectKind::Column => "column",
            ObjectKind::Index => "index",
            ObjectKind::Constraint => "constraint",
            ObjectKind::View => "view",
            ObjectKind::Sequence => "sequence",
            ObjectKind::Type => "type",
            ObjectKind::Schema => "schema",
            ObjectKind::Function => "function",
            ObjectKind::Trigger => "trigger",
            ObjectKind::Other => "object",
        }
    }
}

/// What a statement does to an object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Create,
    /// Changes the object's definition (for a table: any `ALTER TABLE`, and an index
    /// created on or dropped from it).
    Alter,
    Drop,
    /// Renamed; `to` is normalised like [`ObjectRef::name`].
    Rename {
        to: String,
    },
    Insert,
    Update,
    /// Deletes rows (`DELETE` and `TRUNCATE`).
    Delete,
    /// A foreign key points at the table.
    References,
    /// Read by a query (tables named in `FROM`/`JOIN` clauses, `INSERT ... SELECT`
    /// sources, views' queries).
    Reads,
}

/// The sqlparser dialect that reads SQL written for `dialect`'s backend.
pub fn parser_dialect(dialect: Dialect) -> Box<dyn ParserDialect> {
    match dialect {
        Dialect::Postgres => Box::new(PostgreSqlDialect {}),
        Dialect::Mysql => Box::new(MySqlDialect {}),
        Dialect::Sqlite => Box::new(SQLiteDialect {}),
    }
}

/// Splits `sql` into statements, parses each with `dialect`'s parser and lists what it
/// touches. Never panics, whatever the input.
pub fn analyse(dialect: Dialect, sql: &str) -> Script {
    let parser_dialect = parser_dialect(dialect);
    let statements = split_statements(sql, dialect)
        .into_iter()
        .map(|st| {
            let code = code_start(&st.text, dialect);
            let lead = st.text[..code].matches('\n').count();
            let excerpt = excerpt(&st.text[code..]);
            let last_line = st.line + st.text.matches('\n').count();
            let parsed = parse_one(parser_dialect.as_ref(), &st.text);
            let touches = match &parsed {
                Ok(statement) => touches(statement),
                Err(_) => Vec::new(),
            };
            Analysed {
                number: st.number,
                line: st.line + lead,
                first_line: st.line,
                last_line,
                text: st.text,
                excerpt,
                parsed,
                touches,
            }
        })
        .collect();
    Script { statements }
}

/// Parses one statement's text; more or fewer than one statement is an error.
pub fn parse_one(dialect: &dyn ParserDialect, text: &str) -> Result<Statement, String> {
    let mut parser = Parser::new(dialect)
        .with_recursion_limit(RECURSION_LIMIT)
        .try_with_sql(text)
        .map_err(|e| short_error(&e.to_string()))?;
    let mut statements = parser
        .parse_statements()
        .map_err(|e| short_error(&e.to_string()))?;
    match statements.len() {
        1 => Ok(statements.remove(0)),
        0 => Err("no statement".to_owned()),
        n => Err(format!("expected one statement, found {n}")),
    }
}

/// The parser's message, kept short: it may quote the offending token, which comes from
/// the file, so it is cut to one line of at most 160 characters.
fn short_error(message: &str) -> String {
    let one_line: String = message.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 160 {
        let cut: String = one_line.chars().take(157).collect();
        format!("{cut}...")
    } else {
        one_line
    }
}

/// A one-line excerpt of `code` of at most 120 characters.
pub fn excerpt(code: &str) -> String {
    let one_line: String = code.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 120 {
        let cut: String = one_line.chars().take(117).collect();
        format!("{cut}...")
    } else {
        one_line
    }
}

/// The byte offset of `text`'s first code, after the comments and blank lines leading it.
fn code_start(text: &str, dialect: Dialect) -> usize {
    let s = text.as_bytes();
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'-' if s.get(i + 1) == Some(&b'-') => i = skip_line(s, i),
            b'#' if dialect == Dialect::Mysql => i = skip_line(s, i),
            b'/' if s.get(i + 1) == Some(&b'*') => {
                i = match text[i + 2..].find("*/") {
                    Some(p) => i + 2 + p + 2,
                    None => s.len(),
                }
            }
            c if c.is_ascii_whitespace() => i += 1,
            _ => break,
        }
    }
    i.min(text.len())
}

fn skip_line(s: &[u8], from: usize) -> usize {
    let mut i = from;
    while i < s.len() && s[i] != b'\n' {
        i += 1;
    }
    i
}

impl Analysed {
    /// The comments written in this statement's text (leading ones and ones inside),
    /// each with its 1-based script line; for directives like `-- migrate:allow`.
    pub fn comments(&self, dialect: Dialect) -> Vec<(usize, &str)> {
        comments_in(&self.text, dialect)
            .into_iter()
            .map(|(offset, c)| {
                (
                    self.first_line + self.text[..offset].matches('\n').count(),
                    c,
                )
            })
            .collect()
    }
}

/// The comments of `text` with their byte offsets: `--` (and `#` on MySQL) line comments
/// without the newline, `/* */` block comments whole. Strings, quoted identifiers and
/// dollar quotes are skipped so text inside them is never read as a comment.
pub fn comments_in(text: &str, dialect: Dialect) -> Vec<(usize, &str)> {
    let s = text.as_bytes();
    let backslash = dialect == Dialect::Mysql;
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'\'' | b'"' | b'`' => {
                let quote = s[i];
                i += 1;
                while i < s.len() {
                    if backslash && s[i] == b'\\' && quote != b'`' {
                        i += 2;
                        continue;
                    }
                    if s[i] == quote {
                        if s.get(i + 1) == Some(&quote) {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'-' if s.get(i + 1) == Some(&b'-') => {
                let end = skip_line(s, i);
                out.push((i, &text[i..end]));
                i = end;
            }
            b'#' if dialect == Dialect::Mysql => {
                let end = skip_line(s, i);
                out.push((i, &text[i..end]));
                i = end;
            }
            b'/' if s.get(i + 1) == Some(&b'*') => {
                let end = match text[i + 2..].find("*/") {
                    Some(p) => i + 2 + p + 2,
                    None => s.len(),
                };
                out.push((i, &text[i..end]));
                i = end;
            }
            b'$' if dialect == Dialect::Postgres
                && (i == 0 || !(s[i - 1].is_ascii_alphanumeric() || s[i - 1] == b'_')) =>
            {
                let mut j = i + 1;
                while j < s.len() && (s[j].is_ascii_alphabetic() || s[j] == b'_') {
                    j += 1;
                }
                if j < s.len() && s[j] == b'$' {
                    let tag = &text[i..=j];
                    i = match text[j + 1..].find(tag) {
                        Some(p) => j + 1 + p + tag.len(),
                        None => s.len(),
                    };
                } else {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    out
}
