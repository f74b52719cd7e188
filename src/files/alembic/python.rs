//! A static view of one Python module, read with tree-sitter-python: its docstring, its
//! module-level assignments and its imports. Nothing is imported or run: a revision
//! module may import the application or talk to a database when loaded.

use std::cell::RefCell;
use std::collections::HashMap;

use tree_sitter::{Node, Parser, Tree};

/// A value as written on the right of an assignment, as far as it can be read without
/// running anything.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    None,
    Str(String),
    /// A tuple or list.
    Seq(Vec<Spanned>),
    /// A bare name (`EXPAND_BRANCH`).
    Name(String),
    /// A dotted name (`cli.EXPAND_BRANCH`).
    Attr(Vec<String>),
    /// Anything else, with its source text (a call, an f-string, a number, …).
    Other(String),
}

/// An expression with its 1-based line.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned {
    pub expr: Expr,
    pub line: u32,
    /// Source text, for messages.
    pub text: String,
    /// Where the expression is in the source, in bytes (for edits in place).
    pub bytes: std::ops::Range<usize>,
}

/// A module-level `name = value` or `name: type = value`.
#[derive(Debug, Clone)]
pub struct Assignment {
    pub name: String,
    pub line: u32,
    pub value: Spanned,
}

/// Where a local name comes from: `from a.b import c [as d]` gives `d -> (a.b, Some(c))`,
/// `import a.b as d` gives `d -> (a.b, None)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Import {
    pub module: String,
    pub name: Option<String>,
}

/// What a module says at top level.
#[derive(Debug, Default)]
pub struct ModuleFacts {
    pub docstring: Option<String>,
    /// Where the docstring literal is in the source, in bytes.
    pub docstring_bytes: Option<std::ops::Range<usize>>,
    /// In source order; a later assignment to the same name wins, as in Python.
    pub assignments: Vec<Assignment>,
    pub imports: HashMap<String, Import>,
}

impl ModuleFacts {
    /// The last top-level assignment to `name`.
    pub fn get(&self, name: &str) -> Option<&Assignment> {
        self.assignments.iter().rev().find(|a| a.name == name)
    }
}

/// The source is not valid Python: where the parser first gave up (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

thread_local! {
    static PARSER: RefCell<Option<Parser>> = const { RefCell::new(None) };
}

/// Parses `source`; a parser that gives up (it has no tree to offer) is a syntax error
/// at the start of the file.
pub(crate) fn parse_tree(source: &str) -> Result<Tree, SyntaxError> {
    parse_with_parser(source).ok_or_else(|| SyntaxError {
        line: 1,
        column: 1,
        message: "the Python parser gave up on this file".into(),
    })
}

fn parse_with_parser(source: &str) -> Option<Tree> {
    PARSER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            let mut parser = Parser::new();
            parser
                .set_language(&tree_sitter_python::LANGUAGE.into())
                .ok()?;
            *slot = Some(parser);
        }
        slot.as_mut()?.parse(source, None)
    })
}

/// Parses `source` and collects its top-level facts.
pub fn read_module(source: &str) -> Result<ModuleFacts, SyntaxError> {
    let tree = parse_clean(source)?;
    let root = tree.root_node();
    let src = source.as_bytes();
    let mut facts = ModuleFacts::default();
    let mut cursor = root.walk();
    let mut first_statement = true;
    for stmt in root.named_children(&mut cursor) {
        if stmt.kind() == "comment" {
            continue;
        }
        let is_first = std::mem::replace(&mut first_statement, false);
        match stmt.kind() {
            "expression_statement" => {
                let Some(inner) = stmt.named_child(0) else {
                    continue;
                };
                match inner.kind() {
                    "assignment" => {
                        if let Some(a) = assignment(inner, src) {
                            facts.assignments.push(a);
                        }
                    }
                    "string" | "concatenated_string" if is_first => {
                        if let Expr::Str(s) = expr(inner, src).expr {
                            facts.docstring = Some(s);
                            facts.docstring_bytes = Some(inner.start_byte()..inner.end_byte());
                        }
                    }
                    _ => {}
                }
            }
            "import_from_statement" => import_from(stmt, src, &mut facts.imports),
            "import_statement" => import_plain(stmt, src, &mut facts.imports),
            _ => {}
        }
    }
    Ok(facts)
}

/// The source of each top-level function (`def name(...)`, decorators included), by
/// name in source order: what `show --format json` gives as `upgrade()`/`downgrade()`.
pub fn function_sources(source: &str) -> Result<Vec<(String, String)>, SyntaxError> {
    let tree = parse_clean(source)?;
    let src = source.as_bytes();
    Ok(top_level_functions(tree.root_node())
        .into_iter()
        .filter_map(|(stmt, def)| {
            let name = def.child_by_field_name("name")?;
            Some((text(name, src).to_owned(), text(stmt, src).to_owned()))
        })
        .collect())
}

/// [`parse_tree`], refusing a module with any syntax error.
pub(crate) fn parse_clean(source: &str) -> Result<Tree, SyntaxError> {
    let tree = parse_tree(source)?;
    let root = tree.root_node();
    if root.has_error() {
        return Err(first_error(root, source));
    }
    Ok(tree)
}

/// Each top-level `def` of a module: the statement (decorators included) and the
/// function definition in it.
fn top_level_functions(root: Node<'_>) -> Vec<(Node<'_>, Node<'_>)> {
    let mut cursor = root.walk();
    root.named_children(&mut cursor)
        .filter_map(|stmt| {
            let def = match stmt.kind() {
                "function_definition" => Some(stmt),
                "decorated_definition" => stmt
                    .child_by_field_name("definition")
                    .filter(|d| d.kind() == "function_definition"),
                _ => None,
            };
            def.map(|d| (stmt, d))
        })
        .collect()
}

/// The literal SQL strings passed to `op.execute(...)` inside the top-level function
/// `function` (e.g. `upgrade`), with the line each string starts on, in source order.
/// Calls with anything but a plain string literal (a variable, an f-string with
/// fields, `sa.text(...)`) are passed over. For `migrate lint`.
pub fn execute_strings(source: &str, function: &str) -> Result<Vec<(u32, String)>, SyntaxError> {
    let tree = parse_clean(source)?;
    let src = source.as_bytes();
    let mut out = Vec::new();
    for (_, def) in top_level_functions(tree.root_node()) {
        if def.child_by_field_name("name").map(|n| text(n, src)) != Some(function) {
            continue;
        }
        // An explicit stack: nesting in a hostile file can't overflow ours.
        let mut stack = vec![def];
        while let Some(node) = stack.pop() {
            if node.kind() == "call"
                && node.child_by_field_name("function").map(|f| text(f, src)) == Some("op.execute")
            {
                let first = node
                    .child_by_field_name("arguments")
                    .and_then(|a| a.named_child(0));
                if let Some(sql) = first.and_then(|a| string_value(a, src)) {
                    let line = first.map_or(line_of(node), line_of);
                    out.push((line, sql));
                }
            }
            let mut c = node.walk();
            let children: Vec<Node> = node.named_children(&mut c).collect();
            stack.extend(children.into_iter().rev());
        }
    }
    Ok(out)
}

/// The character a one-letter Python escape (`\\n`, `\\'`, …) stands for.
pub(crate) fn simple_escape(e: char) -> Option<char> {
    Some(match e {
        '\\' => '\\',
        '\'' => '\'',
        '"' => '"',
        'n' => '\n',
        't' => '\t',
        'r' => '\r',
        'a' => '\x07',
        'b' => '\x08',
        'f' => '\x0c',
        'v' => '\x0b',
        _ => return None,
    })
}

pub(crate) fn text<'a>(node: Node, src: &'a [u8]) -> &'a str {
    node.utf8_text(src).unwrap_or("")
}

pub(crate) fn line_of(node: Node) -> u32 {
    node.start_position().row as u32 + 1
}

pub(crate) fn first_error(root: Node, source: &str) -> SyntaxError {
    let mut stack = vec![root];
    let mut found = None;
    // Pre-order: the first error or missing node in source order.
    while let Some(node) = stack.pop() {
        if node.is_error() || node.is_missing() {
            found = Some(node);
            break;
        }
        if node.has_error() {
            let mut cursor = node.walk();
            let children: Vec<Node> = node.children(&mut cursor).collect();
            stack.extend(children.into_iter().rev());
        }
    }
    let node = found.unwrap_or(root);
    let pos = node.start_position();
    let message = if node.is_missing() {
        format!("invalid Python syntax: expected '{}'", node.kind())
    } else {
        let token: String = source
            .get(node.start_byte()..node.end_byte())
            .unwrap_or("")
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(40)
            .collect();
        if token.trim().is_empty() {
            "invalid Python syntax".to_owned()
        } else {
            format!(
                "invalid Python syntax at '{}'",
                crate::files::load::excerpt(token.trim())
            )
        }
    };
    SyntaxError {
        line: pos.row as u32 + 1,
        column: pos.column as u32 + 1,
        message,
    }
}

fn assignment(node: Node, src: &[u8]) -> Option<Assignment> {
    let left = node.child_by_field_name("left")?;
    if left.kind() != "identifier" {
        return None;
    }
    // `name: type` without a value assigns nothing.
    let right = node.child_by_field_name("right")?;
    Some(Assignment {
        name: text(left, src).to_owned(),
        line: line_of(node),
        value: expr(right, src),
    })
}

fn expr(node: Node, src: &[u8]) -> Spanned {
    let spanned = |expr| Spanned {
        expr,
        line: line_of(node),
        text: text(node, src).to_owned(),
        bytes: node.start_byte()..node.end_byte(),
    };
    let other = || spanned(Expr::Other(text(node, src).to_owned()));
    match node.kind() {
        "none" => spanned(Expr::None),
        "string" => match string_value(node, src) {
            Some(s) => spanned(Expr::Str(s)),
            None => other(),
        },
        "concatenated_string" => {
            let mut out = String::new();
            let mut cursor = node.walk();
            for part in node.named_children(&mut cursor) {
                if part.kind() == "comment" {
                    continue;
                }
                match string_value(part, src) {
                    Some(s) => out.push_str(&s),
                    None => return other(),
                }
            }
            spanned(Expr::Str(out))
        }
        "tuple" | "list" => {
            let mut cursor = node.walk();
            let items = node
                .named_children(&mut cursor)
                .filter(|n| n.kind() != "comment")
                .map(|n| expr(n, src))
                .collect();
            spanned(Expr::Seq(items))
        }
        "parenthesized_expression" => {
            let mut cursor = node.walk();
            let inner: Vec<Node> = node
                .named_children(&mut cursor)
                .filter(|n| n.kind() != "comment")
                .collect();
            match inner.as_slice() {
                [one] => {
                    let mut e = expr(*one, src);
                    e.text = text(node, src).to_owned();
                    e.bytes = node.start_byte()..node.end_byte();
                    e
                }
                _ => other(),
            }
        }
        "identifier" => spanned(Expr::Name(text(node, src).to_owned())),
        "attribute" => match dotted(node, src) {
            Some(parts) => spanned(Expr::Attr(parts)),
            None => other(),
        },
        _ => other(),
    }
}

/// `a.b.c` as its parts, if it is only names.
pub(crate) fn dotted(node: Node, src: &[u8]) -> Option<Vec<String>> {
    match node.kind() {
        "identifier" => Some(vec![text(node, src).to_owned()]),
        "attribute" => {
            let mut parts = dotted(node.child_by_field_name("object")?, src)?;
            parts.push(text(node.child_by_field_name("attribute")?, src).to_owned());
            Some(parts)
        }
        _ => None,
    }
}

/// A string literal's value; `None` for bytes and f-strings with fields.
pub(crate) fn string_value(node: Node, src: &[u8]) -> Option<String> {
    if node.kind() != "string" {
        return None;
    }
    let mut start = None;
    let mut end = None;
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        match child.kind() {
            "string_start" => start = Some(child),
            "string_end" => end = Some(child),
            "interpolation" => return None,
            _ => {}
        }
    }
    let (start, end) = (start?, end?);
    let prefix = text(start, src).to_ascii_lowercase();
    if prefix.contains('b') {
        return None;
    }
    let body = std::str::from_utf8(src.get(start.end_byte()..end.start_byte())?).ok()?;
    if prefix.contains('r') {
        Some(body.to_owned())
    } else {
        Some(unescape(body))
    }
}

/// Python's escapes in a non-raw string literal.
fn unescape(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else {
            out.push('\\');
            break;
        };
        if let Some(c) = simple_escape(e) {
            out.push(c);
            continue;
        }
        match e {
            '\n' => {}
            'x' | 'u' | 'U' => {
                let n = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let hex: String = (0..n).filter_map(|_| chars.next()).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) => out.push(ch),
                    None => {
                        out.push('\\');
                        out.push(e);
                        out.push_str(&hex);
                    }
                }
            }
            '0'..='7' => {
                let mut digits = String::from(e);
                while digits.len() < 3 {
                    match chars.peek() {
                        Some(d @ '0'..='7') => {
                            digits.push(*d);
                            chars.next();
                        }
                        _ => break,
                    }
                }
                if let Some(ch) = u32::from_str_radix(&digits, 8)
                    .ok()
                    .and_then(char::from_u32)
                {
                    out.push(ch);
                }
            }
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    out
}

fn import_from(node: Node, src: &[u8], imports: &mut HashMap<String, Import>) {
    let Some(module) = node.child_by_field_name("module_name") else {
        return;
    };
    let module = text(module, src).to_owned();
    let mut cursor = node.walk();
    for name in node.children_by_field_name("name", &mut cursor) {
        let (original, local) = match name.kind() {
            "aliased_import" => {
                let (Some(n), Some(a)) = (
                    name.child_by_field_name("name"),
                    name.child_by_field_name("alias"),
                ) else {
                    continue;
                };
                (text(n, src).to_owned(), text(a, src).to_owned())
            }
            _ => (text(name, src).to_owned(), text(name, src).to_owned()),
        };
        imports.insert(
            local,
            Import {
                module: module.clone(),
                name: Some(original),
            },
        );
    }
}

fn import_plain(node: Node, src: &[u8], imports: &mut HashMap<String, Import>) {
    let mut cursor = node.walk();
    for name in node.children_by_field_name("name", &mut cursor) {
        match name.kind() {
            "aliased_import" => {
                let (Some(n), Some(a)) = (
                    name.child_by_field_name("name"),
                    name.child_by_field_name("alias"),
                ) else {
                    continue;
                };
                imports.insert(
                    text(a, src).to_owned(),
                    Import {
                        module: text(n, src).to_owned(),
                        name: None,
                    },
                );
            }
            _ => {
                // `import a.b` binds `a`; `a.b.X` is then read as module `a.b`, name `X`.
                let full = text(name, src).to_owned();
                let first = full.split('.').next().unwrap_or("").to_owned();
                imports.insert(
                    first.clone(),
                    Import {
                        module: first,
                        name: None,
                    },
                );
            }
        }
    }
}

/// Literal keyword arguments of every `context.configure(...)` call anywhere in the
/// module (env.py calls it inside functions): `version_table="x"` and the like.
pub fn configure_kwargs(source: &str) -> Result<HashMap<String, String>, SyntaxError> {
    let tree = parse_tree(source)?;
    let src = source.as_bytes();
    let mut out = HashMap::new();
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        if node.kind() == "call" {
            let is_configure = node
                .child_by_field_name("function")
                .and_then(|f| dotted(f, src))
                .is_some_and(|p| p.last().map(String::as_str) == Some("configure"));
            if is_configure {
                if let Some(args) = node.child_by_field_name("arguments") {
                    let mut cursor = args.walk();
                    for arg in args.named_children(&mut cursor) {
                        if arg.kind() != "keyword_argument" {
                            continue;
                        }
                        let (Some(k), Some(v)) = (
                            arg.child_by_field_name("name"),
                            arg.child_by_field_name("value"),
                        ) else {
                            continue;
                        };
                        if let Expr::Str(s) = expr(v, src).expr {
                            out.insert(text(k, src).to_owned(), s);
                        }
                    }
                }
            }
        }
        let mut cursor = node.walk();
        stack.extend(node.children(&mut cursor));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_plain_and_annotated_assignments_and_the_docstring() {
        let src = r#""""add users

Revision ID: ae10
Revises:
Create Date: 2024-01-02 03:04:05.123456

"""
from typing import Sequence, Union
revision: str = 'ae10'
down_revision: Union[str, Sequence[str], None] = ("a1", 'b\x32')
#branch_labels = ('x',)
branch_labels = None
depends_on: str | None = None
"#;
        let facts = read_module(src).expect("valid");
        assert!(facts
            .docstring
            .as_deref()
            .unwrap()
            .starts_with("add users\n"));
        assert_eq!(
            facts.get("revision").unwrap().value.expr,
            Expr::Str("ae10".into())
        );
        assert_eq!(facts.get("revision").unwrap().line, 9);
        let Expr::Seq(items) = &facts.get("down_revision").unwrap().value.expr else {
            panic!("a tuple")
        };
        assert_eq!(items[1].expr, Expr::Str("b2".into()));
        assert_eq!(facts.get("branch_labels").unwrap().value.expr, Expr::None);
        assert_eq!(facts.get("branch_labels").unwrap().line, 12);
    }

    #[test]
    fn names_attributes_and_calls_are_kept_apart() {
        let src = "from neutron.db.migration import cli\nbranch_labels = (cli.EXPAND_BRANCH,)\ndown_revision = get_down(revision)\n";
        let facts = read_module(src).unwrap();
        let Expr::Seq(items) = &facts.get("branch_labels").unwrap().value.expr else {
            panic!()
        };
        assert_eq!(
            items[0].expr,
            Expr::Attr(vec!["cli".into(), "EXPAND_BRANCH".into()])
        );
        assert!(matches!(
            facts.get("down_revision").unwrap().value.expr,
            Expr::Other(_)
        ));
        assert_eq!(
            facts.imports["cli"],
            Import {
                module: "neutron.db.migration".into(),
                name: Some("cli".into())
            }
        );
    }

    #[test]
    fn invalid_python_has_a_line_and_column() {
        let err = read_module("revision = 'a'\ndown_revision = (\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.column >= 1);
    }

    #[test]
    fn execute_strings_are_the_literal_sql_of_one_function() {
        let src = "def upgrade():\n    op.execute(\"CREATE INDEX i ON t (a)\")\n    if x:\n        op.execute(\n            '''\nDROP TABLE u'''\n        )\n    op.execute(sql)\n    op.execute(f\"DROP {x}\")\n\ndef downgrade():\n    op.execute('DROP INDEX i')\n";
        assert_eq!(
            execute_strings(src, "upgrade").expect("parses"),
            [
                (2, "CREATE INDEX i ON t (a)".to_owned()),
                (5, "\nDROP TABLE u".to_owned())
            ]
        );
        assert_eq!(
            execute_strings(src, "downgrade").expect("parses"),
            [(12, "DROP INDEX i".to_owned())]
        );
    }

    #[test]
    fn configure_kwargs_are_found_inside_functions() {
        let src = "def run():\n    context.configure(connection=c, version_table='vt', version_table_schema=\"s\")\n";
        let kw = configure_kwargs(src).unwrap();
        assert_eq!(kw["version_table"], "vt");
        assert_eq!(kw["version_table_schema"], "s");
    }
}
