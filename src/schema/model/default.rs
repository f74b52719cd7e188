//! Column defaults: the model's values, the forms databases print, one comparable form.

use std::fmt;

use serde::Serialize;

use super::ColumnType;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
