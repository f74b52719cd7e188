//! Splits a revision's SQL script into statements, so each runs on its own and a failure
//! names the statement that failed (number, line and text).
//!
//! The splitter knows enough SQL lexing to not split inside string literals, quoted
//! identifiers, comments, PostgreSQL dollar quotes, and `BEGIN ... END` bodies of
//! triggers, procedures and functions (SQLite and MySQL write them without dollar quotes).

use crate::core::Dialect;

/// One statement of a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The statement without its terminating `;`, trimmed.
    pub text: String,
    /// 1-based position among the script's statements.
    pub number: usize,
    /// 1-based line of the script where the statement starts.
    pub line: usize,
}

impl Statement {
    /// A one-line excerpt for error messages.
    pub fn excerpt(&self) -> String {
        let one_line: String = self.text.split_whitespace().collect::<Vec<_>>().join(" ");
        if one_line.chars().count() > 120 {
            let cut: String = one_line.chars().take(117).collect();
            format!("{cut}...")
        } else {
            one_line
        }
    }
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Splits `script` at top-level semicolons. Statements with only whitespace and comments
/// are dropped.
/// `dialect` decides whether a backslash escapes a quote in a string literal (MySQL).
pub fn split_statements(script: &str, dialect: Dialect) -> Vec<Statement> {
    let backslash = dialect == Dialect::Mysql;
    let s = script.as_bytes();
    let mut out = Vec::new();
    let mut start = 0usize;
    let mut i = 0usize;
    // Block depth inside a trigger/procedure body (BEGIN/CASE ... END).
    let mut depth = 0i32;
    // Whether the current statement creates a routine whose body uses BEGIN ... END.
    let mut routine = false;
    // The leading words of the current statement, to detect a routine.
    let mut lead_words = 0usize;
    let mut last_word = String::new();

    let push = |from: usize, to: usize, out: &mut Vec<Statement>| {
        let raw = &script[from..to];
        if has_code(raw) {
            let lead = raw.len() - raw.trim_start().len();
            let line = script[..from + lead].matches('\n').count() + 1;
            out.push(Statement {
                text: raw.trim().to_owned(),
                number: out.len() + 1,
                line,
            });
        }
    };

    while i < s.len() {
        let b = s[i];
        match b {
            b'\'' | b'"' | b'`' => {
                i = skip_quoted(s, i, b, backslash);
            }
            b'-' if s.get(i + 1) == Some(&b'-') => {
                i = skip_line(s, i);
            }
            b'#' => {
                // MySQL line comment; harmless elsewhere in DDL.
                i = skip_line(s, i);
            }
            b'/' if s.get(i + 1) == Some(&b'*') => {
                i = match script[i + 2..].find("*/") {
                    Some(p) => i + 2 + p + 2,
                    None => s.len(),
                };
            }
            b'$' if i == 0 || !is_ident(s[i - 1]) => {
                // PostgreSQL dollar quote: $tag$ ... $tag$
                let mut j = i + 1;
                while j < s.len() && is_ident(s[j]) && !s[j].is_ascii_digit() {
                    j += 1;
                }
                if j < s.len() && s[j] == b'$' {
                    let tag = &script[i..=j];
                    i = match script[j + 1..].find(tag) {
                        Some(p) => j + 1 + p + tag.len(),
                        None => s.len(),
                    };
                } else {
                    i += 1;
                }
            }
            b';' if depth <= 0 => {
                push(start, i, &mut out);
                i += 1;
                start = i;
                depth = 0;
                routine = false;
                lead_words = 0;
                last_word.clear();
            }
            _ if is_ident(b) && (i == 0 || !is_ident(s[i - 1])) => {
                let mut j = i;
                while j < s.len() && is_ident(s[j]) {
                    j += 1;
                }
                let word = script[i..j].to_ascii_uppercase();
                if lead_words < 6 {
                    lead_words += 1;
                    if matches!(
                        word.as_str(),
                        "TRIGGER" | "PROCEDURE" | "FUNCTION" | "EVENT"
                    ) && script[start..i].to_ascii_uppercase().contains("CREATE")
                    {
                        routine = true;
                    }
                }
                if routine {
                    match word.as_str() {
                        "CASE" if last_word == "END" => {}
                        "BEGIN" | "CASE" => depth += 1,
                        "IF" | "LOOP" | "WHILE" | "REPEAT" if last_word == "END" => {
                            // `END IF` etc. close blocks that weren't counted.
                            depth += 1;
                        }
                        "END" => depth -= 1,
                        _ => {}
                    }
                }
                last_word = word;
                i = j;
            }
            _ => i += 1,
        }
    }
    push(start, s.len(), &mut out);
    out
}

fn skip_quoted(s: &[u8], from: usize, quote: u8, backslash: bool) -> usize {
    let mut i = from + 1;
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
            return i + 1;
        }
        i += 1;
    }
    s.len()
}

fn skip_line(s: &[u8], from: usize) -> usize {
    let mut i = from;
    while i < s.len() && s[i] != b'\n' {
        i += 1;
    }
    i
}

/// Whether `text` has anything besides whitespace and comments.
fn has_code(text: &str) -> bool {
    let s = text.as_bytes();
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'-' if s.get(i + 1) == Some(&b'-') => i = skip_line(s, i),
            b'#' => i = skip_line(s, i),
            b'/' if s.get(i + 1) == Some(&b'*') => {
                i = match text[i + 2..].find("*/") {
                    Some(p) => i + 2 + p + 2,
                    None => s.len(),
                }
            }
            c if c.is_ascii_whitespace() => i += 1,
            _ => return true,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<String> {
        split_statements(sql, Dialect::Sqlite)
            .into_iter()
            .map(|s| s.text)
            .collect()
    }

    #[test]
    fn splits_at_top_level_semicolons_only() {
        let sql = "CREATE TABLE a (x TEXT DEFAULT 'a;b');\n-- c; d\nINSERT INTO a VALUES ('it''s; ok');\n/* e; */ SELECT \"f;g\" FROM a";
        assert_eq!(
            texts(sql),
            [
                "CREATE TABLE a (x TEXT DEFAULT 'a;b')",
                "-- c; d\nINSERT INTO a VALUES ('it''s; ok')",
                "/* e; */ SELECT \"f;g\" FROM a"
            ]
        );
    }

    #[test]
    fn numbers_and_lines_point_at_the_statement() {
        let st = split_statements(
            "\n\nCREATE TABLE a (x INT);\n\n  DROP TABLE b;\n-- only a comment;\n",
            Dialect::Postgres,
        );
        assert_eq!(st.len(), 2);
        assert_eq!((st[0].number, st[0].line), (1, 3));
        assert_eq!((st[1].number, st[1].line), (2, 5));
    }

    #[test]
    fn dollar_quotes_and_trigger_bodies_stay_whole() {
        let pg = "CREATE FUNCTION f() RETURNS trigger AS $body$ BEGIN x := 1; RETURN NEW; END $body$ LANGUAGE plpgsql; SELECT 1";
        assert_eq!(texts(pg).len(), 2);
        let sqlite = "CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE a SET x = CASE WHEN 1 THEN 2 END; DELETE FROM b; END; SELECT 2;";
        let st = texts(sqlite);
        assert_eq!(st.len(), 2, "{st:?}");
        assert!(st[0].ends_with("END"));
        let mysql = "CREATE PROCEDURE p() BEGIN IF 1 THEN SELECT 1; END IF; END; SELECT 3";
        assert_eq!(texts(mysql).len(), 2);
    }

    #[test]
    fn excerpt_is_one_short_line() {
        let st = &split_statements("INSERT INTO t\n   VALUES (1)", Dialect::Mysql)[0];
        assert_eq!(st.excerpt(), "INSERT INTO t VALUES (1)");
        let long = format!("SELECT '{}'", "x".repeat(300));
        assert!(split_statements(&long, Dialect::Mysql)[0].excerpt().len() <= 120);
    }
}
