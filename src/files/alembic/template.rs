//! A renderer for the subset of Mako that Alembic's `script.py.mako` templates use, so
//! `migrate` can write the revision module `alembic revision`/`alembic merge` would write
//! without running Python.
//!
//! What is covered, with Mako's own whitespace rules: literal text, `${expr}` with filters
//! (`n`, `h`, `trim`, `str` and callables such as Alembic's `comma`), `% if/elif/else/endif`,
//! `% for name in expr:`/`% endfor`, `<%! import re %>`, `<% name = expr %>`, `<%doc>`,
//! `<%text>`, `## comment` lines, `%%` escapes and `\` line continuations. A control or
//! comment line swallows its newline; blocks and tags do not. Expressions are the Python
//! subset in [`expr`]. Anything else is a [`TemplateError`] naming the construct and its line:
//! the whole template is parsed before rendering, so an unsupported construct in a branch that
//! would not run still refuses, and we never write a file that differs from Alembic's.

mod eval;
mod expr;
mod lex;
mod pyvalue;

use std::collections::{BTreeMap, BTreeSet};

pub use pyvalue::Value;

use eval::{eval, truthy, Obj};
use expr::{parse_assignment, parse_expr, parse_for, Expr};
use lex::{coding_comment_len, Lexer, Piece};
use pyvalue::{html_escape, py_str};

/// Why a template could not be rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateErrorKind {
    /// Valid Mako that this renderer does not implement.
    Unsupported,
    /// Not valid Mako or Python; Alembic would fail too.
    Syntax,
    /// Valid, but evaluating it fails (an undefined name, a type error); Alembic would fail too.
    Render,
}

/// A template construct that cannot be rendered, with its 1-based line in the template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("script.py.mako line {line}: {}: {construct}", match .kind {
    TemplateErrorKind::Unsupported => "unsupported template construct",
    TemplateErrorKind::Syntax => "template syntax error",
    TemplateErrorKind::Render => "template rendering failed",
})]
pub struct TemplateError {
    pub line: usize,
    pub construct: String,
    pub kind: TemplateErrorKind,
}

/// A failure before its line is known.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Failure {
    Unsupported(String),
    Syntax(String),
    Runtime(String),
}

impl Failure {
    fn at(self, line: usize) -> TemplateError {
        let (kind, construct) = match self {
            Failure::Unsupported(c) => (TemplateErrorKind::Unsupported, c),
            Failure::Syntax(c) => (TemplateErrorKind::Syntax, c),
            Failure::Runtime(c) => (TemplateErrorKind::Render, c),
        };
        TemplateError {
            line,
            construct,
            kind,
        }
    }
}

/// What a template is rendered with: Alembic's keyword arguments to `render_unicode`, and
/// the main section options `config.get_main_option` reads (already interpolated).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TemplateArgs {
    pub data: BTreeMap<String, Value>,
    pub main_options: BTreeMap<String, String>,
}

/// One filter after `|` in `${expr | ...}`.
#[derive(Debug, Clone, PartialEq)]
enum Filter {
    Html,
    Trim,
    Str,
    /// A name in scope called with the value, e.g. Alembic's `comma`.
    Call(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Text(String),
    Output {
        expr: Expr,
        /// Whether `n` turned off the default `str` filter.
        raw: bool,
        filters: Vec<Filter>,
        line: usize,
    },
    If {
        branches: Vec<(Option<Expr>, Vec<Node>)>,
        line: usize,
    },
    For {
        var: String,
        iter: Expr,
        body: Vec<Node>,
        line: usize,
    },
    Assign {
        var: String,
        expr: Expr,
        line: usize,
    },
}

/// A parsed `script.py.mako`.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    nodes: Vec<Node>,
    imports_re: bool,
    /// Names assigned in `<% %>` blocks or by `% for`: never read from the template data.
    locals: BTreeSet<String>,
}

fn parse_filters(text: &str, line: usize) -> Result<(bool, Vec<Filter>), TemplateError> {
    let mut raw = false;
    let mut filters = Vec::new();
    for f in text.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        match f {
            "n" => raw = true,
            "h" => filters.push(Filter::Html),
            "trim" => filters.push(Filter::Trim),
            "str" | "unicode" => filters.push(Filter::Str),
            "u" | "x" | "entity" => {
                return Err(Failure::Unsupported(format!("the `{f}` filter")).at(line))
            }
            name if name.chars().all(|c| c.is_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit()) =>
            {
                filters.push(Filter::Call(name.to_string()))
            }
            other => return Err(Failure::Unsupported(format!("the filter `{other}`")).at(line)),
        }
    }
    Ok((raw, filters))
}

/// A control line split into keyword and rest: `if x:` -> ("if", "x:").
fn keyword(text: &str) -> (&str, &str) {
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    (&text[..end], text[end..].trim())
}

fn strip_colon(rest: &str, kw: &str, line: usize) -> Result<String, TemplateError> {
    let rest = rest.trim_end();
    rest.strip_suffix(':')
        .map(|r| r.replace("\\\r\n", " ").replace("\\\n", " "))
        .ok_or_else(|| Failure::Syntax(format!("`% {kw}` line without a final `:`")).at(line))
}

/// Nests the pieces into a tree at control lines.
struct Builder {
    imports_re: bool,
    locals: BTreeSet<String>,
}

enum Frame {
    Root,
    If {
        branches: Vec<(Option<Expr>, Vec<Node>)>,
        cond: Option<Expr>,
        seen_else: bool,
        line: usize,
    },
    For {
        var: String,
        iter: Expr,
        line: usize,
    },
}

impl Builder {
    fn build(&mut self, pieces: Vec<Piece>) -> Result<Vec<Node>, TemplateError> {
        let mut stack: Vec<(Frame, Vec<Node>)> = vec![(Frame::Root, Vec::new())];
        for piece in pieces {
            match piece {
                Piece::Text(t) => push(&mut stack, Node::Text(t)),
                Piece::Output(code, filters, line) => {
                    let expr = parse_expr(&code).map_err(|f| f.at(line))?;
                    let (raw, filters) = parse_filters(&filters, line)?;
                    push(
                        &mut stack,
                        Node::Output {
                            expr,
                            raw,
                            filters,
                            line,
                        },
                    );
                }
                Piece::Code(code, module, line) => {
                    for node in self.code(&code, module, line)? {
                        push(&mut stack, node);
                    }
                }
                Piece::Control(text, line) => self.control(&mut stack, &text, line)?,
            }
        }
        let (frame, nodes) = stack.pop().expect("the root frame");
        match frame {
            Frame::Root => Ok(nodes),
            Frame::If { line, .. } | Frame::For { line, .. } => {
                Err(Failure::Syntax("a `%` control block without its `% end` line".into()).at(line))
            }
        }
    }

    fn control(
        &mut self,
        stack: &mut Vec<(Frame, Vec<Node>)>,
        text: &str,
        line: usize,
    ) -> Result<(), TemplateError> {
        let (kw, rest) = keyword(text);
        match kw {
            "if" => {
                let cond = parse_expr(&strip_colon(rest, kw, line)?).map_err(|f| f.at(line))?;
                stack.push((
                    Frame::If {
                        branches: Vec::new(),
                        cond: Some(cond),
                        seen_else: false,
                        line,
                    },
                    Vec::new(),
                ));
            }
            "elif" | "else" => {
                let new_cond = if kw == "elif" {
                    Some(parse_expr(&strip_colon(rest, kw, line)?).map_err(|f| f.at(line))?)
                } else {
                    if !strip_colon(rest, kw, line)?.trim().is_empty() {
                        return Err(Failure::Syntax("text after `else`".into()).at(line));
                    }
                    None
                };
                match stack.last_mut() {
                    Some((
                        Frame::If {
                            branches,
                            cond,
                            seen_else,
                            ..
                        },
                        body,
                    )) if !*seen_else => {
                        branches.push((cond.take(), std::mem::take(body)));
                        *cond = new_cond;
                        *seen_else = kw == "else";
                    }
                    Some((Frame::For { .. }, _)) => {
                        return Err(Failure::Unsupported(format!("`% {kw}` of a `% for`")).at(line))
                    }
                    _ => {
                        return Err(
                            Failure::Syntax(format!("`% {kw}` without a matching `% if`")).at(line),
                        )
                    }
                }
            }
            "for" => {
                let (var, iter) =
                    parse_for(&strip_colon(rest, kw, line)?).map_err(|f| f.at(line))?;
                self.locals.insert(var.clone());
                stack.push((Frame::For { var, iter, line }, Vec::new()));
            }
            "endif" | "endfor" => {
                let node = match stack.pop() {
                    Some((
                        Frame::If {
                            mut branches,
                            cond,
                            seen_else,
                            line,
                        },
                        body,
                    )) if kw == "endif" => {
                        let _ = seen_else;
                        branches.push((cond, body));
                        Node::If { branches, line }
                    }
                    Some((Frame::For { var, iter, line }, body)) if kw == "endfor" => Node::For {
                        var,
                        iter,
                        body,
                        line,
                    },
                    _ => {
                        return Err(
                            Failure::Syntax(format!("`% {kw}` without its opening line")).at(line),
                        )
                    }
                };
                push(stack, node);
            }
            "" => return Err(Failure::Syntax(format!("invalid control line `% {text}`")).at(line)),
            other => return Err(Failure::Unsupported(format!("`% {other}` control line")).at(line)),
        }
        Ok(())
    }

    fn code(&mut self, code: &str, module: bool, line: usize) -> Result<Vec<Node>, TemplateError> {
        let mut nodes = Vec::new();
        for (i, stmt) in code.lines().enumerate() {
            let line = line + i;
            let stmt = match stmt.find('#') {
                Some(h) if !stmt[..h].contains(['\'', '"']) => &stmt[..h],
                _ => stmt,
            }
            .trim();
            if stmt.is_empty() {
                continue;
            }
            if module {
                if stmt.split_whitespace().collect::<Vec<_>>() == ["import", "re"] {
                    self.imports_re = true;
                    continue;
                }
                return Err(
                    Failure::Unsupported(format!("`<%! {stmt} %>` (only `import re`)")).at(line),
                );
            }
            let (var, expr) = parse_assignment(stmt).map_err(|f| f.at(line))?;
            self.locals.insert(var.clone());
            nodes.push(Node::Assign { var, expr, line });
        }
        Ok(nodes)
    }
}

fn push(stack: &mut [(Frame, Vec<Node>)], node: Node) {
    stack.last_mut().expect("the root frame").1.push(node);
}

/// Name resolution while rendering.
pub(crate) struct Scope<'a> {
    args: &'a TemplateArgs,
    template: &'a Template,
    locals: BTreeMap<String, Value>,
}

impl Scope<'_> {
    pub(crate) fn lookup(&self, name: &str) -> Obj {
        if let Some(v) = self.locals.get(name) {
            return Obj::Val(v.clone());
        }
        if self.template.locals.contains(name) {
            return Obj::Undefined(format!("{name} (assigned later in the template)"));
        }
        match name {
            "context" => return Obj::Context,
            "config" => return Obj::Config,
            "comma" => return Obj::Builtin("comma"),
            "re" if self.template.imports_re => return Obj::ReModule,
            _ => {}
        }
        if let Some(v) = self.args.data.get(name) {
            return Obj::Val(v.clone());
        }
        match name {
            "repr" => Obj::Builtin("repr"),
            "str" => Obj::Builtin("str"),
            "len" => Obj::Builtin("len"),
            _ => Obj::Undefined(name.to_string()),
        }
    }

    pub(crate) fn data(&self, name: &str) -> Option<&Value> {
        self.args.data.get(name)
    }

    pub(crate) fn main_option(&self, name: &str) -> Option<&str> {
        self.args.main_options.get(name).map(String::as_str)
    }
}

impl Template {
    /// Parses the template text (as read from `script.py.mako`).
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let chars: Vec<char> = text.chars().collect();
        let skip = coding_comment_len(&chars);
        let pieces = Lexer {
            chars: &chars[skip..],
            pos: 0,
            line: 1 + usize::from(skip > 0),
        }
        .lex()?;
        let mut builder = Builder {
            imports_re: false,
            locals: BTreeSet::new(),
        };
        let nodes = builder.build(pieces)?;
        Ok(Template {
            nodes,
            imports_re: builder.imports_re,
            locals: builder.locals,
        })
    }

    /// Renders the template with `args`, as Mako's `render_unicode` would.
    pub fn render(&self, args: &TemplateArgs) -> Result<String, TemplateError> {
        let mut scope = Scope {
            args,
            template: self,
            locals: BTreeMap::new(),
        };
        let mut out = String::new();
        render_nodes(&self.nodes, &mut scope, &mut out)?;
        Ok(out)
    }
}

fn render_nodes(
    nodes: &[Node],
    scope: &mut Scope<'_>,
    out: &mut String,
) -> Result<(), TemplateError> {
    for node in nodes {
        match node {
            Node::Text(t) => out.push_str(t),
            Node::Output {
                expr,
                raw,
                filters,
                line,
            } => out.push_str(&output(expr, *raw, filters, scope).map_err(|f| f.at(*line))?),
            Node::Assign { var, expr, line } => {
                let v = match eval(expr, scope).map_err(|f| f.at(*line))? {
                    Obj::Val(v) => v,
                    other => {
                        return Err(
                            Failure::Unsupported(format!("assigning {other:?} to `{var}`"))
                                .at(*line),
                        )
                    }
                };
                scope.locals.insert(var.clone(), v);
            }
            Node::If { branches, line } => {
                for (cond, body) in branches {
                    let taken = match cond {
                        None => true,
                        Some(c) => truthy(&eval(c, scope).map_err(|f| f.at(*line))?),
                    };
                    if taken {
                        render_nodes(body, scope, out)?;
                        break;
                    }
                }
            }
            Node::For {
                var,
                iter,
                body,
                line,
            } => {
                let items = match eval(iter, scope).map_err(|f| f.at(*line))? {
                    Obj::Val(Value::Tuple(items) | Value::List(items)) => items,
                    Obj::Val(Value::Str(s)) => s.chars().map(|c| Value::Str(c.into())).collect(),
                    Obj::Undefined(n) => {
                        return Err(Failure::Runtime(format!("`{n}` is undefined")).at(*line))
                    }
                    other => {
                        return Err(Failure::Runtime(format!("{other:?} is not iterable")).at(*line))
                    }
                };
                for item in items {
                    scope.locals.insert(var.clone(), item);
                    render_nodes(body, scope, out)?;
                }
            }
        }
    }
    Ok(())
}

/// Evaluates a `${...}`: the default `str` filter unless `n`, then the filters left to right.
fn output(
    expr: &Expr,
    raw: bool,
    filters: &[Filter],
    scope: &Scope<'_>,
) -> Result<String, Failure> {
    let mut value = eval(expr, scope)?;
    let as_str = |v: Obj| -> Result<String, Failure> {
        match v {
            Obj::Val(v) => py_str(&v),
            Obj::Undefined(n) => Err(Failure::Runtime(format!("`{n}` is undefined"))),
            other => Err(Failure::Unsupported(format!("printing {other:?}"))),
        }
    };
    if !raw {
        value = Obj::Val(Value::Str(as_str(value)?));
    }
    for f in filters {
        value = match f {
            Filter::Str => Obj::Val(Value::Str(as_str(value)?)),
            Filter::Html => Obj::Val(Value::Str(html_escape(&as_str(value)?))),
            Filter::Trim => Obj::Val(Value::Str(as_str(value)?.trim().to_string())),
            Filter::Call(name) => {
                let call = Expr::Call(
                    Box::new(Expr::Name(name.clone())),
                    vec![Expr::Name("\u{0}".into())],
                );
                let mut inner = Scope {
                    args: scope.args,
                    template: scope.template,
                    locals: scope.locals.clone(),
                };
                match value {
                    Obj::Val(v) => {
                        inner.locals.insert("\u{0}".into(), v);
                    }
                    Obj::Undefined(n) => {
                        return Err(Failure::Runtime(format!("`{n}` is undefined")))
                    }
                    other => return Err(Failure::Unsupported(format!("filtering {other:?}"))),
                }
                eval(&call, &inner)?
            }
        };
    }
    match value {
        Obj::Val(Value::Str(s)) => Ok(s),
        other => Err(Failure::Runtime(format!(
            "the expression gave {other:?}, not a str (with the `n` filter)"
        ))),
    }
}

/// Python's `template % mapping` over `keys` (used for `file_template`).
pub(crate) fn format_mapping(
    template: &str,
    keys: &BTreeMap<String, Value>,
) -> Result<String, String> {
    pyvalue::percent_format(template, &pyvalue::FormatArgs::Mapping(keys)).map_err(|f| match f {
        Failure::Unsupported(s) | Failure::Syntax(s) | Failure::Runtime(s) => s,
    })
}
