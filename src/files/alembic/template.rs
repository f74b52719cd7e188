//! The part of Mako that revision templates (`script.py.mako`) use, rendered without
//! Python: text, `${expr | filters}`, `% if`/`% elif`/`% else`/`% endif`, `% for x in
//! expr:`/`% endfor`, `## comments`, `<%doc>`, `<%! import … %>`, `<% name =
//! config.get_main_option("key") %>` and a trailing `\` joining lines. Expressions are
//! the small language the shipped templates and real projects write: names, string
//! literals, `repr(x)`, `a if c else b`, `"%s_x" % name`, `context.get(key, default)`,
//! `re.split(pattern, s)`. Anything else is an error naming the construct and its line,
//! never a wrong file.

use std::collections::HashMap;

/// A value as the template sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    None,
    /// Mako's `UNDEFINED`: falsy, an error when printed.
    Undefined,
    Str(String),
    Tuple(Vec<String>),
    List(Vec<String>),
}

impl Value {
    fn truthy(&self) -> bool {
        match self {
            Value::None | Value::Undefined => false,
            Value::Str(s) => !s.is_empty(),
            Value::Tuple(v) | Value::List(v) => !v.is_empty(),
        }
    }
}

/// Why a template can't be rendered: the construct, and its 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct TemplateError {
    pub line: usize,
    pub message: String,
}

/// What a template is rendered with: its variables and the ini's main options.
pub struct Vars<'a> {
    pub values: HashMap<String, Value>,
    pub main_options: &'a dyn Fn(&str) -> Option<String>,
}

/// Renders `template` with `vars`, as Mako would with Alembic's filters.
pub fn render(template: &str, vars: &Vars<'_>) -> Result<String, TemplateError> {
    let nodes = parse(template)?;
    let mut scope: Vec<HashMap<String, Value>> = vec![vars.values.clone()];
    let mut out = String::new();
    run(&nodes, vars, &mut scope, &mut out)?;
    Ok(out)
}

/// One arm of an `% if`: its condition (line, expression; `None` for `% else`) and body.
type Branch = (Option<(usize, String)>, Vec<Node>);

/// One piece of a template.
#[derive(Debug)]
enum Node {
    Text(String),
    Expr {
        line: usize,
        expr: String,
    },
    If {
        branches: Vec<Branch>,
    },
    For {
        line: usize,
        name: String,
        iter: String,
        body: Vec<Node>,
    },
    Assign {
        line: usize,
        name: String,
        expr: String,
    },
}

fn err(line: usize, message: impl Into<String>) -> TemplateError {
    TemplateError {
        line,
        message: message.into(),
    }
}

/// A flat list of tokens, then nested by control lines.
enum Tok {
    Text(String),
    Expr(usize, String),
    Control(usize, String),
    Assign(usize, String, String),
}

fn tokenize(src: &str) -> Result<Vec<Tok>, TemplateError> {
    let mut toks = Vec::new();
    let mut text = String::new();
    let mut line = 1usize;
    let mut rest = src;
    let mut at_line_start = true;
    let flush = |text: &mut String, toks: &mut Vec<Tok>| {
        if !text.is_empty() {
            toks.push(Tok::Text(std::mem::take(text)));
        }
    };
    while !rest.is_empty() {
        if at_line_start {
            let trimmed = rest.trim_start_matches([' ', '\t']);
            let (this, after) = match trimmed.find('\n') {
                Some(i) => (&trimmed[..i], &trimmed[i + 1..]),
                None => (trimmed, ""),
            };
            if let Some(ctl) = this.strip_prefix('%').filter(|c| !c.starts_with('%')) {
                flush(&mut text, &mut toks);
                toks.push(Tok::Control(line, ctl.trim().to_owned()));
                line += 1;
                rest = after;
                continue;
            }
            if this.starts_with("##") {
                flush(&mut text, &mut toks);
                line += 1;
                rest = after;
                continue;
            }
            if let Some(lit) = trimmed.strip_prefix("%%") {
                text.push_str(&rest[..rest.len() - trimmed.len()]);
                text.push('%');
                rest = lit;
                at_line_start = false;
                continue;
            }
        }
        at_line_start = false;
        if let Some(after) = rest.strip_prefix("${") {
            let end = find_close(after).ok_or_else(|| err(line, "`${` without its `}`"))?;
            flush(&mut text, &mut toks);
            toks.push(Tok::Expr(line, after[..end].to_owned()));
            line += after[..end].matches('\n').count();
            rest = &after[end + 1..];
            continue;
        }
        if let Some(after) = rest.strip_prefix("<%doc>") {
            let end = after
                .find("</%doc>")
                .ok_or_else(|| err(line, "`<%doc>` without `</%doc>`"))?;
            line += after[..end].matches('\n').count();
            rest = &after[end + 7..];
            continue;
        }
        if let Some(after) = rest.strip_prefix("<%!") {
            let end = after
                .find("%>")
                .ok_or_else(|| err(line, "`<%!` without `%>`"))?;
            for (i, l) in after[..end].lines().enumerate() {
                let l = l.trim();
                if !(l.is_empty() || l == "import re" || l.starts_with('#')) {
                    return Err(err(
                        line + i,
                        format!("module block statement `{l}` is not supported (only `import re`)"),
                    ));
                }
            }
            line += after[..end].matches('\n').count();
            rest = &after[end + 2..];
            continue;
        }
        if let Some(after) = rest.strip_prefix("<%") {
            if after.starts_with(|c: char| c.is_whitespace()) {
                let end = after
                    .find("%>")
                    .ok_or_else(|| err(line, "`<%` without `%>`"))?;
                flush(&mut text, &mut toks);
                for (i, l) in after[..end].lines().enumerate() {
                    let l = l.trim();
                    if l.is_empty() || l.starts_with('#') {
                        continue;
                    }
                    let (name, expr) = l
                        .split_once('=')
                        .filter(|(n, _)| is_name(n.trim()))
                        .ok_or_else(|| err(line + i, format!("Python block statement `{l}` is not supported (only `name = expression`)")))?;
                    toks.push(Tok::Assign(
                        line + i,
                        name.trim().to_owned(),
                        expr.trim().to_owned(),
                    ));
                }
                line += after[..end].matches('\n').count();
                rest = &after[end + 2..];
                continue;
            }
            let tag: String = after.chars().take_while(|c| !c.is_whitespace()).collect();
            return Err(err(line, format!("Mako tag `<%{tag}` is not supported")));
        }
        if let Some(after) = rest.strip_prefix("\\\n") {
            line += 1;
            at_line_start = true;
            rest = after;
            continue;
        }
        let c = rest.chars().next().expect("not empty");
        text.push(c);
        rest = &rest[c.len_utf8()..];
        if c == '\n' {
            line += 1;
            at_line_start = true;
        }
    }
    flush(&mut text, &mut toks);
    Ok(toks)
}

/// The index of the `}` closing an expression, skipping string literals and nesting.
fn find_close(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '{' | '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            '}' if depth == 0 => return Some(i),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}

fn parse(src: &str) -> Result<Vec<Node>, TemplateError> {
    let toks = tokenize(src)?;
    let mut iter = toks.into_iter().peekable();
    let nodes = parse_block(&mut iter, &[])?;
    if let Some(Tok::Control(line, c)) = iter.next() {
        return Err(err(line, format!("`% {c}` without its opening line")));
    }
    Ok(nodes)
}

type Toks = std::iter::Peekable<std::vec::IntoIter<Tok>>;

/// Nodes up to (not including) a control line whose keyword is in `until`.
fn parse_block(iter: &mut Toks, until: &[&str]) -> Result<Vec<Node>, TemplateError> {
    let mut nodes = Vec::new();
    while let Some(tok) = iter.peek() {
        if let Tok::Control(_, c) = tok {
            let kw = keyword(c);
            if until.contains(&kw) {
                return Ok(nodes);
            }
        }
        match iter.next().expect("peeked") {
            Tok::Text(t) => nodes.push(Node::Text(t)),
            Tok::Expr(line, expr) => nodes.push(Node::Expr { line, expr }),
            Tok::Assign(line, name, expr) => nodes.push(Node::Assign { line, name, expr }),
            Tok::Control(line, c) => match keyword(&c) {
                "if" => {
                    let mut branches = Vec::new();
                    let mut cond = Some((line, condition(&c, "if", line)?));
                    loop {
                        let body = parse_block(iter, &["elif", "else", "endif"])?;
                        branches.push((cond.take(), body));
                        match iter.next() {
                            Some(Tok::Control(l, c)) if keyword(&c) == "elif" => {
                                cond = Some((l, condition(&c, "elif", l)?));
                            }
                            Some(Tok::Control(_, c)) if keyword(&c) == "else" => {
                                let body = parse_block(iter, &["endif"])?;
                                branches.push((None, body));
                                iter.next();
                                break;
                            }
                            Some(Tok::Control(_, _)) => break,
                            _ => return Err(err(line, "`% if` without `% endif`")),
                        }
                    }
                    nodes.push(Node::If { branches });
                }
                "for" => {
                    let head = c
                        .strip_prefix("for")
                        .and_then(|h| h.trim().strip_suffix(':'))
                        .and_then(|h| h.split_once(" in "))
                        .filter(|(n, _)| is_name(n.trim()))
                        .ok_or_else(|| {
                            err(line, format!("`% {c}` is not `% for NAME in EXPR:`"))
                        })?;
                    let body = parse_block(iter, &["endfor"])?;
                    if iter.next().is_none() {
                        return Err(err(line, "`% for` without `% endfor`"));
                    }
                    nodes.push(Node::For {
                        line,
                        name: head.0.trim().to_owned(),
                        iter: head.1.trim().to_owned(),
                        body,
                    });
                }
                _ => return Err(err(line, format!("control line `% {c}` is not supported"))),
            },
        }
    }
    Ok(nodes)
}

fn keyword(c: &str) -> &str {
    let end = c.find(|ch: char| !ch.is_alphabetic()).unwrap_or(c.len());
    &c[..end]
}

fn condition(c: &str, kw: &str, line: usize) -> Result<String, TemplateError> {
    c.strip_prefix(kw)
        .map(str::trim)
        .and_then(|r| r.strip_suffix(':'))
        .map(|r| r.trim().to_owned())
        .ok_or_else(|| err(line, format!("`% {c}` must end with `:`")))
}

fn run(
    nodes: &[Node],
    vars: &Vars<'_>,
    scope: &mut Vec<HashMap<String, Value>>,
    out: &mut String,
) -> Result<(), TemplateError> {
    for node in nodes {
        match node {
            Node::Text(t) => out.push_str(t),
            Node::Expr { line, expr } => {
                let (expr, filters) = split_filters(expr);
                let value = super::expr::eval(expr, vars, scope).map_err(|m| err(*line, m))?;
                out.push_str(&super::expr::print(&value, &filters).map_err(|m| err(*line, m))?);
            }
            Node::Assign { line, name, expr } => {
                let value = super::expr::eval(expr, vars, scope).map_err(|m| err(*line, m))?;
                scope
                    .last_mut()
                    .expect("a scope")
                    .insert(name.clone(), value);
            }
            Node::If { branches } => {
                for (cond, body) in branches {
                    let take = match cond {
                        None => true,
                        Some((line, c)) => super::expr::eval(c, vars, scope)
                            .map_err(|m| err(*line, m))?
                            .truthy(),
                    };
                    if take {
                        run(body, vars, scope, out)?;
                        break;
                    }
                }
            }
            Node::For {
                line,
                name,
                iter,
                body,
            } => {
                let items = match super::expr::eval(iter, vars, scope).map_err(|m| err(*line, m))? {
                    Value::Tuple(v) | Value::List(v) => v,
                    Value::Str(s) => s.chars().map(String::from).collect(),
                    other => return Err(err(*line, format!("can't loop over {other:?}"))),
                };
                for item in items {
                    let mut frame = HashMap::new();
                    frame.insert(name.clone(), Value::Str(item));
                    scope.push(frame);
                    let r = run(body, vars, scope, out);
                    scope.pop();
                    r?;
                }
            }
        }
    }
    Ok(())
}

/// `expr | f1, f2` → (`expr`, [`f1`, `f2`]); a `|` inside a string or brackets is not
/// a filter bar.
fn split_filters(expr: &str) -> (&str, Vec<&str>) {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (i, c) in expr.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(' | '[' | '{') => depth += 1,
            (None, ')' | ']' | '}') => depth = depth.saturating_sub(1),
            (None, '|') if depth == 0 => {
                let filters = expr[i + 1..].split(',').map(str::trim).collect();
                return (expr[..i].trim(), filters);
            }
            _ => {}
        }
    }
    (expr.trim(), Vec::new())
}
