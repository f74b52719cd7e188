//! Mako's lexer rules, as `mako/lexer.py` applies them: which construct starts where, and which
//! newlines belong to the output.

use super::{Failure, TemplateError};

/// A lexed piece of the template, before control lines are nested.
#[derive(Debug)]
pub(super) enum Piece {
    Text(String),
    Output(String, String, usize),
    Control(String, usize),
    Code(String, bool, usize),
}

pub(super) struct Lexer<'a> {
    pub(super) chars: &'a [char],
    pub(super) pos: usize,
    pub(super) line: usize,
}

impl Lexer<'_> {
    fn at(&self, s: &str) -> bool {
        s.chars()
            .enumerate()
            .all(|(k, c)| self.chars.get(self.pos + k) == Some(&c))
    }

    fn advance(&mut self, to: usize) {
        self.line += self.chars[self.pos..to]
            .iter()
            .filter(|c| **c == '\n')
            .count();
        self.pos = to;
    }

    fn text(&self, from: usize, to: usize) -> String {
        self.chars[from..to].iter().collect()
    }

    fn line_start(&self, p: usize) -> bool {
        p == 0 || self.chars[p - 1] == '\n'
    }

    /// Whether, from `p`, `[ \t]*` is followed by `%` or `##`.
    fn control_ahead(&self, mut p: usize) -> bool {
        while matches!(self.chars.get(p), Some(' ' | '\t')) {
            p += 1;
        }
        self.chars.get(p) == Some(&'%')
            || (self.chars.get(p) == Some(&'#') && self.chars.get(p + 1) == Some(&'#'))
    }

    /// Scans Python source from `p` to the first of `stops` outside strings and comments
    /// (and, with `nested`, outside brackets); returns the stop's position and which one.
    fn scan_python(&self, mut p: usize, stops: &[&str], nested: bool) -> Option<(usize, usize)> {
        let mut depth = 0i32;
        while p < self.chars.len() {
            let c = self.chars[p];
            if !nested || depth <= 0 {
                for (k, stop) in stops.iter().enumerate() {
                    if stop
                        .chars()
                        .enumerate()
                        .all(|(j, s)| self.chars.get(p + j) == Some(&s))
                    {
                        return Some((p, k));
                    }
                }
            }
            match c {
                '#' => {
                    while p < self.chars.len() && self.chars[p] != '\n' {
                        p += 1;
                    }
                }
                '\'' | '"' => {
                    let triple =
                        self.chars.get(p + 1) == Some(&c) && self.chars.get(p + 2) == Some(&c);
                    let quote_len = if triple { 3 } else { 1 };
                    p += quote_len;
                    loop {
                        match self.chars.get(p) {
                            None => return None,
                            Some('\\') => p += 2,
                            Some(&q)
                                if q == c
                                    && (!triple
                                        || (self.chars.get(p + 1) == Some(&c)
                                            && self.chars.get(p + 2) == Some(&c))) =>
                            {
                                p += quote_len;
                                break;
                            }
                            Some(_) => p += 1,
                        }
                    }
                    continue;
                }
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => depth -= 1,
                _ => {}
            }
            p += 1;
        }
        None
    }

    pub(super) fn lex(mut self) -> Result<Vec<Piece>, TemplateError> {
        let mut out = Vec::new();
        while self.pos < self.chars.len() {
            let line = self.line;
            if self.at("${") {
                let start = self.pos + 2;
                let unterminated =
                    || Failure::Syntax("unterminated `${` expression".into()).at(line);
                let (end, which) = self
                    .scan_python(start, &["|", "}"], true)
                    .ok_or_else(unterminated)?;
                let code = self.text(start, end);
                let (filters, close) = if which == 0 {
                    let (close, _) = self
                        .scan_python(end + 1, &["}"], true)
                        .ok_or_else(unterminated)?;
                    (self.text(end + 1, close), close)
                } else {
                    (String::new(), end)
                };
                out.push(Piece::Output(code, filters, line));
                self.advance(close + 1);
            } else if self.line_start(self.pos)
                && self.control_ahead(self.pos)
                && !self.percent_escape()
            {
                let mut p = self.pos;
                while matches!(self.chars.get(p), Some(' ' | '\t')) {
                    p += 1;
                }
                let comment = self.chars[p] == '#';
                p += if comment { 2 } else { 1 };
                while matches!(self.chars.get(p), Some(' ' | '\t')) {
                    p += 1;
                }
                let start = p;
                loop {
                    match self.chars.get(p) {
                        None | Some('\n') => break,
                        Some('\r') if self.chars.get(p + 1) == Some(&'\n') => break,
                        Some('\\') if self.chars.get(p + 1) == Some(&'\n') => p += 2,
                        Some('\\')
                            if self.chars.get(p + 1) == Some(&'\r')
                                && self.chars.get(p + 2) == Some(&'\n') =>
                        {
                            p += 3
                        }
                        Some(_) => p += 1,
                    }
                }
                let text = self.text(start, p);
                if self.chars.get(p) == Some(&'\r') {
                    p += 1;
                }
                if self.chars.get(p) == Some(&'\n') {
                    p += 1;
                }
                if !comment {
                    out.push(Piece::Control(text, line));
                }
                self.advance(p);
            } else if self.at("<%doc>") {
                let end = self
                    .find("</%doc>", self.pos)
                    .ok_or_else(|| Failure::Syntax("unclosed `<%doc>`".into()).at(line))?;
                self.advance(end + "</%doc>".len());
            } else if self.at("<%text>") {
                let start = self.pos + "<%text>".len();
                let end = self
                    .find("</%text>", start)
                    .ok_or_else(|| Failure::Syntax("unclosed `<%text>`".into()).at(line))?;
                out.push(Piece::Text(self.text(start, end)));
                self.advance(end + "</%text>".len());
            } else if self.at("</%") {
                return Err(Failure::Unsupported("a closing `</%...>` tag".into()).at(line));
            } else if self.at("<%")
                && self
                    .chars
                    .get(self.pos + 2)
                    .is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | ':'))
            {
                let mut p = self.pos + 2;
                while self
                    .chars
                    .get(p)
                    .is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | ':'))
                {
                    p += 1;
                }
                let tag = self.text(self.pos, p);
                return Err(Failure::Unsupported(format!("`{tag}>` tag")).at(line));
            } else if self.at("<%") {
                let module = self.chars.get(self.pos + 2) == Some(&'!');
                let start = self.pos + if module { 3 } else { 2 };
                let (end, _) = self
                    .scan_python(start, &["%>"], false)
                    .ok_or_else(|| Failure::Syntax("unterminated `<%` block".into()).at(line))?;
                out.push(Piece::Code(self.text(start, end), module, line));
                self.advance(end + 2);
            } else if self.line_start(self.pos) && self.percent_escape() {
                let mut p = self.pos;
                while matches!(self.chars.get(p), Some(' ' | '\t')) {
                    p += 1;
                }
                let mut text = self.text(self.pos, p);
                p += 2;
                text.push('%');
                while self.chars.get(p) == Some(&'%') {
                    text.push('%');
                    p += 1;
                }
                out.push(Piece::Text(text));
                self.advance(p);
            } else {
                // Plain text up to the next construct; `\` + newline is dropped.
                let start = self.pos;
                let mut p = start;
                let mut skip = 0;
                while p < self.chars.len() {
                    if p > start && self.line_start(p) && self.control_ahead(p) {
                        break;
                    }
                    if self.chars[p] == '$' && self.chars.get(p + 1) == Some(&'{') && p > start
                        || self.chars[p] == '<' && self.chars.get(p + 1) == Some(&'%') && p > start
                        || self.chars[p] == '<'
                            && self.chars.get(p + 1) == Some(&'/')
                            && self.chars.get(p + 2) == Some(&'%')
                            && p > start
                    {
                        break;
                    }
                    if self.chars[p] == '\\' {
                        if self.chars.get(p + 1) == Some(&'\n') {
                            skip = 2;
                            break;
                        }
                        if self.chars.get(p + 1) == Some(&'\r')
                            && self.chars.get(p + 2) == Some(&'\n')
                        {
                            skip = 3;
                            break;
                        }
                    }
                    p += 1;
                }
                if p > start {
                    out.push(Piece::Text(self.text(start, p)));
                }
                self.advance(p + skip);
            }
        }
        Ok(out)
    }

    /// Whether `[ \t]*%%` starts here (Mako's escaped percent at a line start).
    fn percent_escape(&self) -> bool {
        let mut p = self.pos;
        while matches!(self.chars.get(p), Some(' ' | '\t')) {
            p += 1;
        }
        self.chars.get(p) == Some(&'%') && self.chars.get(p + 1) == Some(&'%')
    }

    fn find(&self, needle: &str, from: usize) -> Option<usize> {
        let n: Vec<char> = needle.chars().collect();
        (from..self.chars.len().saturating_sub(n.len() - 1))
            .find(|&p| self.chars[p..p + n.len()] == n[..])
    }
}

/// Skips Mako's magic encoding comment (a first line like `# -*- coding: utf-8 -*-`), which
/// Mako consumes and does not output.
pub(super) fn coding_comment_len(chars: &[char]) -> usize {
    if chars.first() != Some(&'#') {
        return 0;
    }
    let Some(nl) = chars.iter().position(|c| *c == '\n') else {
        return 0;
    };
    let line: String = chars[..nl].iter().collect();
    let has_decl = line.match_indices("coding").any(|(i, _)| {
        let mut rest = line[i + "coding".len()..].chars();
        matches!(rest.next(), Some(':' | '='))
            && rest
                .find(|c| !c.is_whitespace())
                .is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
    });
    if has_decl {
        nl + 1
    } else {
        0
    }
}
