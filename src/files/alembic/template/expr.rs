//! The subset of Python expressions Alembic's `script.py.mako` templates use, parsed into a
//! small syntax tree and evaluated with Python's rules (truthiness, `str`, `repr`,
//! `%`-formatting). Anything outside the subset is refused at parse time with the offending
//! construct, so an unusual template fails loudly instead of rendering a different file.

use super::pyvalue::{py_repr, Value};
use super::Failure;

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    Name(String),
    Const(Value),
    Tuple(Vec<Expr>),
    List(Vec<Expr>),
    Attr(Box<Expr>, String),
    Call(Box<Expr>, Vec<Expr>),
    Index(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Cond {
        test: Box<Expr>,
        body: Box<Expr>,
        orelse: Box<Expr>,
    },
    /// A (possibly chained) comparison: `a < b <= c`.
    Compare(Box<Expr>, Vec<(CmpOp, Expr)>),
    Add(Box<Expr>, Box<Expr>),
    Sub(Box<Expr>, Box<Expr>),
    Mod(Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
    Is,
    IsNot,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Name(String),
    Int(i64),
    Str(String),
    Op(&'static str),
}

const OPS: &[&str] = &[
    "**", "//", "==", "!=", "<=", ">=", "->", ":=", "(", ")", "[", "]", "{", "}", ",", ".", ":",
    "+", "-", "*", "/", "%", "<", ">", "=", "|", "&", "^", "~", "@", ";",
];

/// Splits Python source into tokens; string literals are decoded here.
fn tokenize(src: &str) -> Result<Vec<Tok>, Failure> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\\' && chars.get(i + 1) == Some(&'\n') {
            i += 2;
        } else if c == '#' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let text: String = chars[start..i].iter().filter(|c| **c != '_').collect();
            match text.parse::<i64>() {
                Ok(n) if !text.starts_with('0') || text.chars().all(|c| c == '0') => {
                    out.push(Tok::Int(n))
                }
                _ => {
                    return Err(Failure::Unsupported(format!(
                        "number literal `{}`",
                        chars[start..i].iter().collect::<String>()
                    )))
                }
            }
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            if matches!(chars.get(i), Some('\'') | Some('"')) {
                let lower = word.to_ascii_lowercase();
                let raw = match lower.as_str() {
                    "r" => true,
                    "u" => false,
                    _ => {
                        return Err(Failure::Unsupported(format!(
                            "`{word}` string literal prefix"
                        )))
                    }
                };
                let (s, next) = string_literal(&chars, i, raw)?;
                out.push(Tok::Str(s));
                i = next;
            } else {
                out.push(Tok::Name(word));
            }
        } else if c == '\'' || c == '"' {
            let (s, next) = string_literal(&chars, i, false)?;
            out.push(Tok::Str(s));
            i = next;
        } else {
            let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
            let op = OPS
                .iter()
                .find(|op| rest.starts_with(**op))
                .ok_or_else(|| Failure::Syntax(format!("unexpected character `{c}`")))?;
            out.push(Tok::Op(op));
            i += op.chars().count();
        }
    }
    Ok(out)
}

/// Decodes the string literal whose opening quote is at `start`; returns it and the index after it.
fn string_literal(chars: &[char], start: usize, raw: bool) -> Result<(String, usize), Failure> {
    let q = chars[start];
    let triple = chars.get(start + 1) == Some(&q) && chars.get(start + 2) == Some(&q);
    let mut i = start + if triple { 3 } else { 1 };
    let mut out = String::new();
    loop {
        let Some(&c) = chars.get(i) else {
            return Err(Failure::Syntax("unterminated string literal".into()));
        };
        if c == q && (!triple || (chars.get(i + 1) == Some(&q) && chars.get(i + 2) == Some(&q))) {
            return Ok((out, i + if triple { 3 } else { 1 }));
        }
        if c == '\n' && !triple {
            return Err(Failure::Syntax("unterminated string literal".into()));
        }
        if c != '\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let Some(&e) = chars.get(i + 1) else {
            return Err(Failure::Syntax("unterminated string literal".into()));
        };
        if raw {
            out.push('\\');
            out.push(e);
            i += 2;
            continue;
        }
        i += 2;
        if let Some(c) = crate::files::alembic::python::simple_escape(e) {
            out.push(c);
            continue;
        }
        match e {
            '\n' => {}
            '0'..='7' => {
                let mut n = e.to_digit(8).expect("octal digit");
                for _ in 0..2 {
                    match chars.get(i).and_then(|c| c.to_digit(8)) {
                        Some(d) => {
                            n = n * 8 + d;
                            i += 1;
                        }
                        None => break,
                    }
                }
                out.push(char::from_u32(n).expect("octal escapes stay below 0o777"));
            }
            'x' | 'u' | 'U' => {
                let len = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let hex: String = chars.iter().skip(i).take(len).collect();
                let ch = (hex.chars().count() == len)
                    .then(|| u32::from_str_radix(&hex, 16).ok())
                    .flatten()
                    .and_then(char::from_u32)
                    .ok_or_else(|| Failure::Syntax(format!("bad `\\{e}` escape")))?;
                out.push(ch);
                i += len;
            }
            'N' => return Err(Failure::Unsupported("`\\N{...}` string escape".into())),
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
}

/// A recursive-descent parser over the token list, following Python's grammar precedence.
struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Some(Tok::Op(o)) if *o == op)
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Name(n)) if n == kw)
    }

    fn eat_op(&mut self, op: &str) -> bool {
        let hit = self.is_op(op);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        let hit = self.is_kw(kw);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn expect_op(&mut self, op: &str) -> Result<(), Failure> {
        if self.eat_op(op) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("`{op}`")))
        }
    }

    fn unexpected(&self, wanted: &str) -> Failure {
        match self.peek() {
            None => Failure::Syntax(format!("expected {wanted}, found the end")),
            Some(Tok::Op(o))
                if matches!(
                    *o,
                    "**" | "//" | "*" | "/" | "&" | "^" | "~" | "@" | "{" | "|" | ":=" | "->" | ";"
                ) =>
            {
                Failure::Unsupported(format!("operator `{o}`"))
            }
            Some(Tok::Name(n)) if matches!(n.as_str(), "lambda" | "for" | "await" | "yield") => {
                Failure::Unsupported(format!("`{n}` expression"))
            }
            Some(t) => Failure::Syntax(format!("expected {wanted}, found {}", describe(t))),
        }
    }

    fn test(&mut self) -> Result<Expr, Failure> {
        if self.is_kw("lambda") {
            return Err(self.unexpected("an expression"));
        }
        let body = self.or_test()?;
        if self.eat_kw("if") {
            let test = self.or_test()?;
            if !self.eat_kw("else") {
                return Err(self.unexpected("`else`"));
            }
            let orelse = self.test()?;
            return Ok(Expr::Cond {
                test: Box::new(test),
                body: Box::new(body),
                orelse: Box::new(orelse),
            });
        }
        Ok(body)
    }

    fn or_test(&mut self) -> Result<Expr, Failure> {
        let mut left = self.and_test()?;
        while self.eat_kw("or") {
            left = Expr::Or(Box::new(left), Box::new(self.and_test()?));
        }
        Ok(left)
    }

    fn and_test(&mut self) -> Result<Expr, Failure> {
        let mut left = self.not_test()?;
        while self.eat_kw("and") {
            left = Expr::And(Box::new(left), Box::new(self.not_test()?));
        }
        Ok(left)
    }

    fn not_test(&mut self) -> Result<Expr, Failure> {
        if self.eat_kw("not") {
            return Ok(Expr::Not(Box::new(self.not_test()?)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, Failure> {
        let first = self.arith()?;
        let mut rest = Vec::new();
        loop {
            let op = if self.eat_op("==") {
                CmpOp::Eq
            } else if self.eat_op("!=") {
                CmpOp::Ne
            } else if self.eat_op("<=") {
                CmpOp::Le
            } else if self.eat_op(">=") {
                CmpOp::Ge
            } else if self.eat_op("<") {
                CmpOp::Lt
            } else if self.eat_op(">") {
                CmpOp::Gt
            } else if self.eat_kw("in") {
                CmpOp::In
            } else if self.is_kw("not")
                && matches!(self.toks.get(self.pos + 1), Some(Tok::Name(n)) if n == "in")
            {
                self.pos += 2;
                CmpOp::NotIn
            } else if self.eat_kw("is") {
                if self.eat_kw("not") {
                    CmpOp::IsNot
                } else {
                    CmpOp::Is
                }
            } else {
                break;
            };
            rest.push((op, self.arith()?));
        }
        if rest.is_empty() {
            Ok(first)
        } else {
            Ok(Expr::Compare(Box::new(first), rest))
        }
    }

    fn arith(&mut self) -> Result<Expr, Failure> {
        let mut left = self.term()?;
        loop {
            if self.eat_op("+") {
                left = Expr::Add(Box::new(left), Box::new(self.term()?));
            } else if self.eat_op("-") {
                left = Expr::Sub(Box::new(left), Box::new(self.term()?));
            } else {
                return Ok(left);
            }
        }
    }

    fn term(&mut self) -> Result<Expr, Failure> {
        let mut left = self.factor()?;
        while self.eat_op("%") {
            left = Expr::Mod(Box::new(left), Box::new(self.factor()?));
        }
        Ok(left)
    }

    fn factor(&mut self) -> Result<Expr, Failure> {
        if self.eat_op("-") {
            return Ok(Expr::Neg(Box::new(self.factor()?)));
        }
        self.postfix()
    }

    fn postfix(&mut self) -> Result<Expr, Failure> {
        let mut e = self.atom()?;
        loop {
            if self.eat_op(".") {
                match self.toks.get(self.pos) {
                    Some(Tok::Name(n)) => {
                        e = Expr::Attr(Box::new(e), n.clone());
                        self.pos += 1;
                    }
                    _ => return Err(self.unexpected("an attribute name")),
                }
            } else if self.eat_op("(") {
                let mut args = Vec::new();
                while !self.eat_op(")") {
                    if matches!(self.peek(), Some(Tok::Name(_)))
                        && matches!(self.toks.get(self.pos + 1), Some(Tok::Op("=")))
                    {
                        return Err(Failure::Unsupported("keyword arguments".into()));
                    }
                    if self.is_op("*") || self.is_op("**") {
                        return Err(Failure::Unsupported("`*`/`**` arguments".into()));
                    }
                    args.push(self.test()?);
                    if !self.eat_op(",") {
                        self.expect_op(")")?;
                        break;
                    }
                }
                e = Expr::Call(Box::new(e), args);
            } else if self.eat_op("[") {
                let index = self.test()?;
                if self.is_op(":") {
                    return Err(Failure::Unsupported("slices".into()));
                }
                self.expect_op("]")?;
                e = Expr::Index(Box::new(e), Box::new(index));
            } else {
                return Ok(e);
            }
        }
    }

    fn atom(&mut self) -> Result<Expr, Failure> {
        let Some(tok) = self.peek().cloned() else {
            return Err(self.unexpected("an expression"));
        };
        match tok {
            Tok::Int(n) => {
                self.pos += 1;
                Ok(Expr::Const(Value::Int(n)))
            }
            Tok::Str(mut s) => {
                self.pos += 1;
                while let Some(Tok::Str(more)) = self.peek() {
                    s.push_str(more);
                    self.pos += 1;
                }
                Ok(Expr::Const(Value::Str(s)))
            }
            Tok::Name(n) => match n.as_str() {
                "None" => {
                    self.pos += 1;
                    Ok(Expr::Const(Value::None))
                }
                "True" | "False" => {
                    self.pos += 1;
                    Ok(Expr::Const(Value::Bool(n == "True")))
                }
                "if" | "else" | "and" | "or" | "not" | "in" | "is" | "lambda" | "for" | "await"
                | "yield" => Err(self.unexpected("an expression")),
                _ => {
                    self.pos += 1;
                    Ok(Expr::Name(n))
                }
            },
            Tok::Op("(") | Tok::Op("[") => {
                let list = tok == Tok::Op("[");
                let close = if list { "]" } else { ")" };
                self.pos += 1;
                let mut items = Vec::new();
                let mut trailing_comma = false;
                while !self.eat_op(close) {
                    items.push(self.test()?);
                    if self.is_kw("for") {
                        return Err(Failure::Unsupported("comprehensions".into()));
                    }
                    trailing_comma = self.eat_op(",");
                    if !trailing_comma {
                        self.expect_op(close)?;
                        break;
                    }
                }
                Ok(if list {
                    Expr::List(items)
                } else if items.len() == 1 && !trailing_comma {
                    items.pop().expect("one item")
                } else {
                    Expr::Tuple(items)
                })
            }
            _ => Err(self.unexpected("an expression")),
        }
    }

    fn finish(&self) -> Result<(), Failure> {
        if self.pos == self.toks.len() {
            Ok(())
        } else {
            Err(self.unexpected("the end of the expression"))
        }
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Name(n) => format!("`{n}`"),
        Tok::Int(n) => format!("`{n}`"),
        Tok::Str(s) => py_repr(&Value::Str(s.clone())),
        Tok::Op(o) => format!("`{o}`"),
    }
}

/// Parses one whole expression.
pub(crate) fn parse_expr(src: &str) -> Result<Expr, Failure> {
    let mut p = Parser {
        toks: tokenize(src)?,
        pos: 0,
    };
    let e = p.test()?;
    if p.is_op(",") {
        return Err(Failure::Unsupported("a bare tuple expression".into()));
    }
    p.finish()?;
    Ok(e)
}

/// Parses `NAME in EXPR` (the text of a `% for` line between `for` and `:`).
pub(crate) fn parse_for(src: &str) -> Result<(String, Expr), Failure> {
    let toks = tokenize(src)?;
    let (Some(Tok::Name(var)), Some(Tok::Name(kw))) = (toks.first(), toks.get(1)) else {
        return Err(Failure::Unsupported(
            "a `for` target other than one name".into(),
        ));
    };
    if kw != "in" {
        return Err(Failure::Unsupported(
            "a `for` target other than one name".into(),
        ));
    }
    let var = var.clone();
    let mut p = Parser { toks, pos: 2 };
    let e = p.test()?;
    p.finish()?;
    Ok((var, e))
}

/// Parses `NAME = EXPR` (one statement of a `<% %>` block).
pub(crate) fn parse_assignment(src: &str) -> Result<(String, Expr), Failure> {
    let toks = tokenize(src)?;
    match (toks.first(), toks.get(1)) {
        (Some(Tok::Name(var)), Some(Tok::Op("="))) => {
            let var = var.clone();
            let mut p = Parser { toks, pos: 2 };
            let e = p.test()?;
            p.finish()?;
            Ok((var, e))
        }
        _ => Err(Failure::Unsupported(format!(
            "Python statement `{}` (only `name = expression`)",
            src.trim()
        ))),
    }
}
