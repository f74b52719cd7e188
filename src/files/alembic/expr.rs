//! The expressions of a revision template (see [`super::template`]), evaluated without
//! Python, and Python's `str`/`repr` of the values they give.

use std::collections::HashMap;

use super::template::{Value, Vars};

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Str(String),
    Name(String),
    Punct(char),
}

fn tokenize(src: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = src.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let raw = (c == 'r' || c == 'R') && matches!(chars.get(i + 1), Some('\'' | '"'));
        if raw || c == '\'' || c == '"' {
            if raw {
                i += 1;
            }
            let q = chars[i];
            i += 1;
            let mut s = String::new();
            loop {
                let Some(&c) = chars.get(i) else {
                    return Err(format!("unterminated string in `{src}`"));
                };
                i += 1;
                if c == q {
                    break;
                }
                if c == '\\' && !raw {
                    let Some(&e) = chars.get(i) else {
                        return Err(format!("unterminated string in `{src}`"));
                    };
                    i += 1;
                    s.push(match e {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        '0' => '\0',
                        other => other,
                    });
                } else {
                    s.push(c);
                }
            }
            out.push(Tok::Str(s));
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Tok::Name(chars[start..i].iter().collect()));
            continue;
        }
        if "().,%".contains(c) {
            out.push(Tok::Punct(c));
            i += 1;
            continue;
        }
        return Err(format!(
            "`{c}` in `{src}` is not supported in a template expression"
        ));
    }
    Ok(out)
}

struct Parser<'a, 'v> {
    toks: Vec<Tok>,
    at: usize,
    src: &'a str,
    vars: &'a Vars<'v>,
    scope: &'a [HashMap<String, Value>],
}

/// Evaluates one expression.
pub fn eval(src: &str, vars: &Vars<'_>, scope: &[HashMap<String, Value>]) -> Result<Value, String> {
    let mut p = Parser {
        toks: tokenize(src)?,
        at: 0,
        src,
        vars,
        scope,
    };
    let v = p.expr()?;
    if p.at != p.toks.len() {
        return Err(p.unsupported());
    }
    Ok(v)
}

impl Parser<'_, '_> {
    fn unsupported(&self) -> String {
        format!(
            "the expression `{}` is not supported in a revision template",
            self.src.trim()
        )
    }

    fn peek_name(&self, name: &str) -> bool {
        matches!(self.toks.get(self.at), Some(Tok::Name(n)) if n == name)
    }

    fn eat(&mut self, c: char) -> bool {
        if self.toks.get(self.at) == Some(&Tok::Punct(c)) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expr(&mut self) -> Result<Value, String> {
        let value = self.or_expr()?;
        if self.peek_name("if") {
            self.at += 1;
            let cond = self.or_expr()?;
            if !self.peek_name("else") {
                return Err(self.unsupported());
            }
            self.at += 1;
            let other = self.expr()?;
            return Ok(if truthy(&cond) { value } else { other });
        }
        Ok(value)
    }

    fn or_expr(&mut self) -> Result<Value, String> {
        let mut left = self.not_expr()?;
        loop {
            if self.peek_name("or") {
                self.at += 1;
                let right = self.not_expr()?;
                left = if truthy(&left) { left } else { right };
            } else if self.peek_name("and") {
                self.at += 1;
                let right = self.not_expr()?;
                left = if truthy(&left) { right } else { left };
            } else {
                return Ok(left);
            }
        }
    }

    fn not_expr(&mut self) -> Result<Value, String> {
        if self.peek_name("not") {
            self.at += 1;
            let v = self.not_expr()?;
            return Ok(if truthy(&v) {
                Value::Str(String::new())
            } else {
                Value::Str("True".into())
            });
        }
        let left = self.postfix()?;
        if self.eat('%') {
            let right = self.postfix()?;
            let Value::Str(fmt) = left else {
                return Err(self.unsupported());
            };
            let arg = to_str(&right)?;
            if fmt.matches("%s").count() != 1 {
                return Err(self.unsupported());
            }
            return Ok(Value::Str(fmt.replacen("%s", &arg, 1)));
        }
        Ok(left)
    }

    fn postfix(&mut self) -> Result<Value, String> {
        match self.toks.get(self.at).cloned() {
            Some(Tok::Str(s)) => {
                self.at += 1;
                Ok(Value::Str(s))
            }
            Some(Tok::Punct('(')) => {
                self.at += 1;
                let v = self.expr()?;
                if !self.eat(')') {
                    return Err(self.unsupported());
                }
                Ok(v)
            }
            Some(Tok::Name(first)) => {
                self.at += 1;
                let mut path = first;
                while self.eat('.') {
                    match self.toks.get(self.at).cloned() {
                        Some(Tok::Name(n)) => {
                            self.at += 1;
                            path.push('.');
                            path.push_str(&n);
                        }
                        _ => return Err(self.unsupported()),
                    }
                }
                if self.eat('(') {
                    let mut args = Vec::new();
                    if !self.eat(')') {
                        loop {
                            args.push(self.expr()?);
                            if self.eat(')') {
                                break;
                            }
                            if !self.eat(',') {
                                return Err(self.unsupported());
                            }
                        }
                    }
                    return self.call(&path, args);
                }
                self.name(&path)
            }
            _ => Err(self.unsupported()),
        }
    }

    fn name(&self, path: &str) -> Result<Value, String> {
        match path {
            "None" => return Ok(Value::None),
            "True" => return Ok(Value::Str("True".into())),
            "False" => return Ok(Value::Str(String::new())),
            _ => {}
        }
        if path.contains('.') {
            return Err(self.unsupported());
        }
        for frame in self.scope.iter().rev() {
            if let Some(v) = frame.get(path) {
                return Ok(v.clone());
            }
        }
        Ok(Value::Undefined)
    }

    fn call(&self, path: &str, args: Vec<Value>) -> Result<Value, String> {
        let arg = |i: usize| args.get(i).cloned().unwrap_or(Value::Undefined);
        match (path, args.len()) {
            ("repr", 1) => Ok(Value::Str(repr(&arg(0))?)),
            ("str", 1) => Ok(Value::Str(to_str(&arg(0))?)),
            ("comma", 1) => Ok(Value::Str(comma(&arg(0)))),
            ("context.get", 1 | 2) => {
                let key = to_str(&arg(0))?;
                Ok(match self.name(&key)? {
                    Value::Undefined => args.get(1).cloned().unwrap_or(Value::None),
                    v => v,
                })
            }
            ("config.get_main_option", 1 | 2) => {
                let key = to_str(&arg(0))?;
                Ok((self.vars.main_options)(&key)
                    .map(Value::Str)
                    .unwrap_or_else(|| args.get(1).cloned().unwrap_or(Value::None)))
            }
            ("re.split", 2) => {
                let (Value::Str(pattern), Value::Str(text)) = (arg(0), arg(1)) else {
                    return Err(self.unsupported());
                };
                let trim = match pattern.as_str() {
                    r",\s*" => true,
                    "," => false,
                    _ => {
                        return Err(format!(
                            "re.split pattern `{pattern}` is not supported in a revision template"
                        ))
                    }
                };
                Ok(Value::List(
                    text.split(',')
                        .enumerate()
                        .map(|(i, p)| {
                            if trim && i > 0 {
                                p.trim_start().to_owned()
                            } else {
                                p.to_owned()
                            }
                        })
                        .collect(),
                ))
            }
            _ => Err(format!(
                "`{path}(…)` is not supported in a revision template"
            )),
        }
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::None | Value::Undefined => false,
        Value::Str(s) => !s.is_empty(),
        Value::Tuple(x) | Value::List(x) => !x.is_empty(),
    }
}

/// Alembic's `comma` filter (`util.format_as_comma`).
fn comma(v: &Value) -> String {
    match v {
        Value::None | Value::Undefined => String::new(),
        Value::Str(s) => s.clone(),
        Value::Tuple(x) | Value::List(x) => x.join(", "),
    }
}

/// Python's `str()`.
fn to_str(v: &Value) -> Result<String, String> {
    match v {
        Value::Undefined => Err("a name the template uses is undefined".to_owned()),
        Value::Str(s) => Ok(s.clone()),
        other => repr(other),
    }
}

/// What `${…}` prints: the value through its filters; Mako's default `str` filter
/// unless `n` is among them.
pub fn print(v: &Value, filters: &[&str]) -> Result<String, String> {
    let mut v = v.clone();
    for f in filters {
        match *f {
            "n" => {}
            "comma" => v = Value::Str(comma(&v)),
            "str" => v = Value::Str(to_str(&v)?),
            other => {
                return Err(format!(
                    "the filter `{other}` is not supported in a revision template"
                ))
            }
        }
    }
    to_str(&v)
}

/// Python's `repr()` of a string, tuple, list or `None`.
pub fn repr(v: &Value) -> Result<String, String> {
    Ok(match v {
        Value::Undefined => return Err("a name the template uses is undefined".to_owned()),
        Value::None => "None".to_owned(),
        Value::Str(s) => repr_str(s),
        Value::Tuple(x) if x.len() == 1 => format!("({},)", repr_str(&x[0])),
        Value::Tuple(x) => format!(
            "({})",
            x.iter().map(|s| repr_str(s)).collect::<Vec<_>>().join(", ")
        ),
        Value::List(x) => format!(
            "[{}]",
            x.iter().map(|s| repr_str(s)).collect::<Vec<_>>().join(", ")
        ),
    })
}

/// Python's `repr()` of a `str`: single quotes unless the text holds `'` and no `"`.
pub fn repr_str(s: &str) -> String {
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
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if !printable(c) => {
                let n = c as u32;
                if n < 0x100 {
                    out.push_str(&format!("\\x{n:02x}"));
                } else if n < 0x10000 {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python's `str.isprintable()` for one character, for the characters revision text
/// holds: controls, separators other than the space, and format characters are not.
fn printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    !matches!(c as u32, 0xad | 0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x180e | 0x200b..=0x200f | 0x202a..=0x202e | 0x2060..=0x2064 | 0x2066..=0x206f | 0xfeff | 0xfff9..=0xfffb | 0xd800..=0xdfff | 0xe000..=0xf8ff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repr_follows_python() {
        assert_eq!(repr_str("abc"), "'abc'");
        assert_eq!(repr_str("it's"), "\"it's\"");
        assert_eq!(repr_str("a'b\"c"), "'a\\'b\"c'");
        assert_eq!(repr_str("ünï\u{7}\u{a0}"), "'ünï\\x07\\xa0'");
        assert_eq!(repr(&Value::Tuple(vec!["a".into()])).unwrap(), "('a',)");
        assert_eq!(
            repr(&Value::List(vec!["a".into(), "b".into()])).unwrap(),
            "['a', 'b']"
        );
    }
}
