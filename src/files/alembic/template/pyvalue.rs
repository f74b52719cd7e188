//! Python values as Alembic hands them to its template, and the three ways Python turns them
//! into text: `str()`, `repr()` and `%`-formatting; plus the one-pattern `re.split` the
//! multidb template calls.

use std::collections::BTreeMap;

use chrono::{Datelike, FixedOffset, NaiveDateTime, Timelike};

use super::Failure;

/// A Python value passed to a template.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    None,
    Bool(bool),
    Int(i64),
    Str(String),
    Tuple(Vec<Value>),
    List(Vec<Value>),
    /// A `datetime.datetime`: `offset` is `None` for a naive one.
    DateTime {
        wall: NaiveDateTime,
        offset: Option<FixedOffset>,
    },
}

/// Python's `str(value)`; refused only for a datetime nested in a container (its `repr`).
pub(crate) fn py_str(v: &Value) -> Result<String, Failure> {
    Ok(match v {
        Value::Str(s) => s.clone(),
        Value::DateTime { wall, offset } => datetime_str(wall, *offset),
        Value::Tuple(items) | Value::List(items)
            if items.iter().any(|i| matches!(i, Value::DateTime { .. })) =>
        {
            return Err(Failure::Unsupported("`repr` of a datetime".into()))
        }
        other => py_repr(other),
    })
}

/// Python's `str(datetime)`: `YYYY-MM-DD HH:MM:SS[.ffffff][+HH:MM[:SS]]`.
fn datetime_str(wall: &NaiveDateTime, offset: Option<FixedOffset>) -> String {
    let mut out = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        wall.year(),
        wall.month(),
        wall.day(),
        wall.hour(),
        wall.minute(),
        wall.second()
    );
    let micros = wall.nanosecond() / 1000 % 1_000_000;
    if micros != 0 {
        out.push_str(&format!(".{micros:06}"));
    }
    if let Some(offset) = offset {
        let secs = offset.local_minus_utc();
        let sign = if secs < 0 { '-' } else { '+' };
        let secs = secs.unsigned_abs();
        out.push_str(&format!("{sign}{:02}:{:02}", secs / 3600, secs / 60 % 60));
        if secs % 60 != 0 {
            out.push_str(&format!(":{:02}", secs % 60));
        }
    }
    out
}

/// Python's `repr(value)` (a datetime prints as its `str`; callers refuse it first).
pub(crate) fn py_repr(v: &Value) -> String {
    match v {
        Value::None => "None".into(),
        Value::Bool(b) => if *b { "True" } else { "False" }.into(),
        Value::Int(n) => n.to_string(),
        Value::Str(s) => repr_str(s),
        Value::Tuple(items) => {
            let inner: Vec<String> = items.iter().map(py_repr).collect();
            if inner.len() == 1 {
                format!("({},)", inner[0])
            } else {
                format!("({})", inner.join(", "))
            }
        }
        Value::List(items) => {
            let inner: Vec<String> = items.iter().map(py_repr).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::DateTime { wall, offset } => datetime_str(wall, *offset),
    }
}

/// `repr(str)`: single quotes unless the text has `'` and no `"`; escapes as CPython does.
fn repr_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_ascii() || printable(c) => out.push(c),
            c if (c as u32) <= 0xff => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) <= 0xffff => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push(quote);
    out
}

/// CPython's `str.isprintable` for non-ASCII characters, approximated without the Unicode
/// database: the separators, format characters, controls, private use and noncharacters are
/// escaped; unassigned code points are not known here and print as themselves.
fn printable(c: char) -> bool {
    let n = c as u32;
    let ranges: &[(u32, u32)] = &[
        (0x80, 0xa0),
        (0xad, 0xad),
        (0x600, 0x605),
        (0x61c, 0x61c),
        (0x6dd, 0x6dd),
        (0x70f, 0x70f),
        (0x890, 0x891),
        (0x8e2, 0x8e2),
        (0x1680, 0x1680),
        (0x180e, 0x180e),
        (0x2000, 0x200f),
        (0x2028, 0x202f),
        (0x205f, 0x2064),
        (0x2066, 0x206f),
        (0x3000, 0x3000),
        (0xd800, 0xf8ff),
        (0xfdd0, 0xfdef),
        (0xfeff, 0xfeff),
        (0xfff9, 0xfffb),
        (0x110bd, 0x110bd),
        (0x110cd, 0x110cd),
        (0x13430, 0x1343f),
        (0x1bca0, 0x1bca3),
        (0x1d173, 0x1d17a),
        (0xe0001, 0xe0001),
        (0xe0020, 0xe007f),
        (0xf0000, 0x10ffff),
    ];
    if n & 0xfffe == 0xfffe {
        return false;
    }
    !ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&n))
}

/// The right-hand side of Python's `%` operator.
pub(crate) enum FormatArgs<'a> {
    Positional(&'a [Value]),
    Mapping(&'a BTreeMap<String, Value>),
}

/// Python's `format % args` for the conversions `s`, `r`, `d`, `i` and `%%`, with flags,
/// width and precision; `%(key)s` needs a mapping.
pub(crate) fn percent_format(fmt: &str, args: &FormatArgs<'_>) -> Result<String, Failure> {
    let chars: Vec<char> = fmt.chars().collect();
    let mut out = String::new();
    let mut next_arg = 0;
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '%' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        i += 1;
        let mut key = None;
        if chars.get(i) == Some(&'(') {
            let close = chars[i..]
                .iter()
                .position(|c| *c == ')')
                .ok_or_else(|| Failure::Runtime("incomplete format key".into()))?;
            key = Some(chars[i + 1..i + close].iter().collect::<String>());
            i += close + 1;
        }
        let mut flags = String::new();
        while let Some(c) = chars.get(i).filter(|c| "-+ #0".contains(**c)) {
            flags.push(*c);
            i += 1;
        }
        let number = |i: &mut usize| -> Result<Option<usize>, Failure> {
            if chars.get(*i) == Some(&'*') {
                return Err(Failure::Unsupported("`*` width in a %-format".into()));
            }
            let start = *i;
            while chars.get(*i).is_some_and(|c| c.is_ascii_digit()) {
                *i += 1;
            }
            Ok((*i > start).then(|| {
                chars[start..*i]
                    .iter()
                    .collect::<String>()
                    .parse()
                    .expect("digits")
            }))
        };
        let width = number(&mut i)?;
        let precision = if chars.get(i) == Some(&'.') {
            i += 1;
            Some(number(&mut i)?.unwrap_or(0))
        } else {
            None
        };
        while chars.get(i).is_some_and(|c| "hlL".contains(*c)) {
            i += 1;
        }
        let Some(&conv) = chars.get(i) else {
            return Err(Failure::Runtime("incomplete format".into()));
        };
        i += 1;
        if conv == '%' {
            out.push('%');
            continue;
        }
        let arg = match (&key, args) {
            (Some(k), FormatArgs::Mapping(map)) => map
                .get(k)
                .ok_or_else(|| Failure::Runtime(format!("unknown format key `{k}`")))?,
            (Some(_), FormatArgs::Positional(_)) => {
                return Err(Failure::Runtime("format requires a mapping".into()))
            }
            (None, FormatArgs::Mapping(_)) => {
                return Err(Failure::Unsupported(
                    "a %-format without a `(key)` against a mapping".into(),
                ))
            }
            (None, FormatArgs::Positional(items)) => {
                let a = items.get(next_arg).ok_or_else(|| {
                    Failure::Runtime("not enough arguments for format string".into())
                })?;
                next_arg += 1;
                a
            }
        };
        let left = flags.contains('-');
        let body = match conv {
            's' | 'r' => {
                let mut s = if conv == 's' {
                    py_str(arg)?
                } else {
                    py_repr(arg)
                };
                if let Some(p) = precision {
                    s = s.chars().take(p).collect();
                }
                s
            }
            'd' | 'i' | 'u' => {
                let n = match arg {
                    Value::Int(n) => *n,
                    Value::Bool(b) => i64::from(*b),
                    other => {
                        return Err(Failure::Runtime(format!(
                            "%{conv} format: a real number is required, not {}",
                            py_repr(other)
                        )))
                    }
                };
                let mut digits = n.unsigned_abs().to_string();
                if let Some(p) = precision {
                    while digits.len() < p {
                        digits.insert(0, '0');
                    }
                }
                let sign = if n < 0 {
                    "-"
                } else if flags.contains('+') {
                    "+"
                } else if flags.contains(' ') {
                    " "
                } else {
                    ""
                };
                if flags.contains('0') && !left {
                    let w = width.unwrap_or(0);
                    while sign.len() + digits.len() < w {
                        digits.insert(0, '0');
                    }
                }
                format!("{sign}{digits}")
            }
            other => {
                return Err(Failure::Unsupported(format!(
                    "`%{other}` conversion in a %-format"
                )))
            }
        };
        let pad = width.unwrap_or(0).saturating_sub(body.chars().count());
        if left {
            out.push_str(&body);
            out.extend(std::iter::repeat_n(' ', pad));
        } else {
            out.extend(std::iter::repeat_n(' ', pad));
            out.push_str(&body);
        }
    }
    if let FormatArgs::Positional(items) = args {
        if next_arg < items.len() {
            return Err(Failure::Runtime(
                "not all arguments converted during string formatting".into(),
            ));
        }
    }
    Ok(out)
}

/// One regular-expression atom of the tiny subset `re.split` accepts here.
#[derive(Debug, Clone, Copy)]
enum Atom {
    Lit(char),
    Space,
    Digit,
    Word,
    Any,
}

impl Atom {
    fn matches(self, c: char) -> bool {
        match self {
            Atom::Lit(l) => c == l,
            Atom::Space => c.is_whitespace() || ('\x1c'..='\x1f').contains(&c),
            Atom::Digit => c.is_numeric(),
            Atom::Word => c.is_alphanumeric() || c == '_',
            Atom::Any => c != '\n',
        }
    }
}

/// Parses literal characters, `\s \d \w .` and the quantifiers `* + ?`; anything else
/// (groups, classes, alternation, anchors) is refused.
fn compile(pattern: &str) -> Result<Vec<(Atom, usize, usize)>, Failure> {
    let unsupported = |what: &str| {
        Failure::Unsupported(format!(
            "regular expression {what} in `re.split` pattern {pattern:?}"
        ))
    };
    let mut items = Vec::new();
    let mut it = pattern.chars().peekable();
    while let Some(c) = it.next() {
        let atom = match c {
            '\\' => match it.next() {
                Some('s') => Atom::Space,
                Some('d') => Atom::Digit,
                Some('w') => Atom::Word,
                Some(e) if !e.is_alphanumeric() => Atom::Lit(e),
                Some(e) => return Err(unsupported(&format!("`\\{e}`"))),
                None => return Err(unsupported("trailing `\\`")),
            },
            '.' => Atom::Any,
            '(' | ')' | '[' | ']' | '{' | '}' | '|' | '^' | '$' | '*' | '+' | '?' => {
                return Err(unsupported(&format!("`{c}`")))
            }
            c => Atom::Lit(c),
        };
        let (min, max) = match it.peek() {
            Some('*') => (0, usize::MAX),
            Some('+') => (1, usize::MAX),
            Some('?') => (0, 1),
            _ => (1, 1),
        };
        if (min, max) != (1, 1) {
            it.next();
            if matches!(it.peek(), Some('?' | '+' | '*')) {
                return Err(unsupported("lazy or possessive quantifier"));
            }
        }
        items.push((atom, min, max));
    }
    Ok(items)
}

/// Greedy backtracking match of `items` at `pos`; returns the end.
fn match_at(items: &[(Atom, usize, usize)], text: &[char], pos: usize) -> Option<usize> {
    let Some(&(atom, min, max)) = items.first() else {
        return Some(pos);
    };
    let mut n = 0;
    while n < max && pos + n < text.len() && atom.matches(text[pos + n]) {
        n += 1;
    }
    loop {
        if n < min {
            return None;
        }
        if let Some(end) = match_at(&items[1..], text, pos + n) {
            return Some(end);
        }
        if n == 0 {
            return None;
        }
        n -= 1;
    }
}

/// Python 3.7+ `re.split(pattern, text, maxsplit)` for the pattern subset of [`compile`],
/// including its rule that an empty match may not directly follow another at one spot.
pub(crate) fn re_split(pattern: &str, text: &str, maxsplit: i64) -> Result<Vec<String>, Failure> {
    let items = compile(pattern)?;
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut last = 0;
    let mut pos = 0;
    let mut must_advance = false;
    while pos <= chars.len() && (maxsplit <= 0 || (out.len() as i64) < maxsplit) {
        let found = (pos..=chars.len()).find_map(|start| {
            let end = match_at(&items, &chars, start)?;
            // An empty match right where the previous match ended is skipped.
            if must_advance && start == pos && end == start {
                return None;
            }
            Some((start, end))
        });
        let Some((start, end)) = found else { break };
        out.push(chars[last..start].iter().collect());
        last = end;
        must_advance = end == start;
        pos = end;
    }
    out.push(chars[last..].iter().collect());
    Ok(out)
}

/// Mako's `h` filter (markupsafe's escape).
pub(crate) fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
