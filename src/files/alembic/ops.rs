//! What an Alembic revision's `upgrade()` does to the schema, read from the Python
//! syntax tree (tree-sitter-python), never by running it: each `op.*` call (and each
//! call in a `batch_alter_table` block) as the objects it touches, in the SQL
//! analyser's own terms ([`Touch`]), so `conflicts` compares Alembic and SQL revisions
//! alike. A call it can't read (a helper function, `conn.execute(...)`, `op.execute`
//! of an expression, a name it can't resolve) is named as unknown, never treated as
//! harmless. `op.execute` of a literal string hands the SQL back for the SQL analyser.

use std::collections::HashMap;

use tree_sitter::Node;

use super::python::{self, dotted, line_of, string_value, text, SyntaxError};
use crate::sql::{Action, ObjectKind, ObjectRef, Touch};

/// One statement of `upgrade()`, as far as it is read.
#[derive(Debug, Clone, PartialEq)]
pub struct OpStatement {
    /// 1-based line in the module.
    pub line: u32,
    /// The call as written, shortened (`op.add_column`, `batch_op.drop_column`).
    pub call: String,
    pub touches: Vec<Touch>,
    /// `op.execute` of a literal: the SQL, for the SQL analyser.
    pub sql: Option<String>,
    /// Why the statement could not be read; `None` when it was.
    pub unknown: Option<String>,
}

/// The statements of the module's top-level `upgrade()`; empty without one.
pub fn upgrade_ops(source: &str) -> Result<Vec<OpStatement>, SyntaxError> {
    let tree = python::parse_clean(source)?;
    let root = tree.root_node();
    let src = source.as_bytes();
    let mut reader = Reader {
        src,
        tables: HashMap::new(),
        out: Vec::new(),
    };
    // Module-level `accounts = sa.table('accounts', ...)` for bulk_insert.
    let mut cursor = root.walk();
    for stmt in root.named_children(&mut cursor) {
        reader.remember_table(stmt);
    }
    let mut cursor = root.walk();
    for stmt in root.named_children(&mut cursor) {
        let def = match stmt.kind() {
            "function_definition" => Some(stmt),
            "decorated_definition" => stmt.child_by_field_name("definition"),
            _ => None,
        };
        let Some(def) = def.filter(|d| d.kind() == "function_definition") else {
            continue;
        };
        if def
            .child_by_field_name("name")
            .is_some_and(|n| text(n, src) == "upgrade")
        {
            if let Some(body) = def.child_by_field_name("body") {
                reader.block(body, None);
            }
        }
    }
    Ok(reader.out)
}

struct Reader<'s> {
    src: &'s [u8],
    /// Names bound to `sa.table('name', ...)` / `op.create_table('name', ...)`.
    tables: HashMap<String, String>,
    out: Vec<OpStatement>,
}

/// A call's positional and keyword arguments.
struct Args<'t> {
    positional: Vec<Node<'t>>,
    keyword: HashMap<String, Node<'t>>,
}

fn args<'t>(call: Node<'t>, src: &[u8]) -> Args<'t> {
    let mut out = Args {
        positional: Vec::new(),
        keyword: HashMap::new(),
    };
    let Some(list) = call.child_by_field_name("arguments") else {
        return out;
    };
    let mut cursor = list.walk();
    for a in list.named_children(&mut cursor) {
        match a.kind() {
            "comment" => {}
            "keyword_argument" => {
                if let (Some(n), Some(v)) = (
                    a.child_by_field_name("name"),
                    a.child_by_field_name("value"),
                ) {
                    out.keyword.insert(text(n, src).to_owned(), v);
                }
            }
            _ => out.positional.push(a),
        }
    }
    out
}

fn touch(kind: ObjectKind, name: &str, table: Option<&str>, action: Action) -> Touch {
    Touch {
        object: ObjectRef {
            kind,
            name: name.to_owned(),
            table: table.map(str::to_owned),
        },
        action,
    }
}

/// The name of the callee: `op.add_column` → (["op", "add_column"]).
fn callee(call: Node<'_>, src: &[u8]) -> Option<Vec<String>> {
    dotted(call.child_by_field_name("function")?, src)
}

impl<'s> Reader<'s> {
    fn str_arg(&self, a: &Args<'_>, pos: usize, key: &str) -> Option<String> {
        a.keyword
            .get(key)
            .copied()
            .or_else(|| a.positional.get(pos).copied())
            .and_then(|n| string_value(n, self.src))
    }

    /// `schema.name` when the call has `schema=` (or `table_schema=`).
    fn qualified(&self, a: &Args<'_>, name: String, key: &str) -> String {
        match a.keyword.get(key).and_then(|n| string_value(*n, self.src)) {
            Some(s) => format!("{s}.{name}"),
            None => name,
        }
    }

    fn remember_table(&mut self, stmt: Node<'_>) {
        let node = match stmt.kind() {
            "expression_statement" => stmt.named_child(0),
            _ => Some(stmt),
        };
        let Some(a) = node.filter(|n| n.kind() == "assignment") else {
            return;
        };
        let (Some(left), Some(right)) = (
            a.child_by_field_name("left"),
            a.child_by_field_name("right"),
        ) else {
            return;
        };
        if left.kind() != "identifier" || right.kind() != "call" {
            return;
        }
        let Some(name) = callee(right, self.src) else {
            return;
        };
        let last = name.last().map(String::as_str);
        if matches!(last, Some("table" | "Table" | "create_table")) {
            let args = args(right, self.src);
            if let Some(t) = self.str_arg(&args, 0, "name") {
                let t = self.qualified(&args, t, "schema");
                self.tables.insert(text(left, self.src).to_owned(), t);
            }
        }
    }

    /// The statements of a block; `batch` is the table of an enclosing
    /// `batch_alter_table` and the name its operations object is bound to.
    fn block(&mut self, body: Node<'_>, batch: Option<(&str, &str)>) {
        let mut cursor = body.walk();
        let stmts: Vec<Node> = body.named_children(&mut cursor).collect();
        for stmt in stmts {
            self.statement(stmt, batch);
        }
    }

    fn unknown(&mut self, node: Node<'_>, why: &str) {
        let excerpt: String = text(node, self.src)
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(60)
            .collect();
        self.out.push(OpStatement {
            line: line_of(node),
            call: excerpt.clone(),
            touches: Vec::new(),
            sql: None,
            unknown: Some(format!("`{excerpt}`: {why}")),
        });
    }

    fn statement(&mut self, stmt: Node<'_>, batch: Option<(&str, &str)>) {
        match stmt.kind() {
            "comment" | "pass_statement" => {}
            "expression_statement" => {
                let Some(inner) = stmt.named_child(0) else {
                    return;
                };
                match inner.kind() {
                    "call" => self.call(inner, batch),
                    "string" | "concatenated_string" => {} // a docstring or a note
                    "assignment" => {
                        self.remember_table(inner);
                        if let Some(r) = inner
                            .child_by_field_name("right")
                            .filter(|r| r.kind() == "call")
                        {
                            if self.is_op_call(r, batch) {
                                self.call(r, batch);
                            }
                        }
                    }
                    _ => self.unknown(inner, "not an op.* call"),
                }
            }
            "with_statement" => self.with(stmt, batch),
            "if_statement" | "for_statement" | "while_statement" | "try_statement" => {
                // Each branch may run: everything in them counts.
                let mut cursor = stmt.walk();
                let parts: Vec<Node> = stmt.named_children(&mut cursor).collect();
                for part in parts {
                    match part.kind() {
                        "block" => self.block(part, batch),
                        "elif_clause" | "else_clause" | "except_clause" | "finally_clause" => {
                            let mut c = part.walk();
                            let blocks: Vec<Node> = part
                                .named_children(&mut c)
                                .filter(|n| n.kind() == "block")
                                .collect();
                            for b in blocks {
                                self.block(b, batch);
                            }
                        }
                        _ => {}
                    }
                }
            }
            "return_statement" => {}
            _ => self.unknown(stmt, "a statement migrate does not read"),
        }
    }

    fn is_op_call(&self, call: Node<'_>, batch: Option<(&str, &str)>) -> bool {
        callee(call, self.src).is_some_and(|n| {
            n.len() == 2 && (n[0] == "op" || batch.is_some_and(|(_, b)| n[0] == b))
        })
    }

    /// `with op.batch_alter_table('t') as batch_op:` — the block's calls on `batch_op`
    /// are on table `t`.
    fn with(&mut self, stmt: Node<'_>, batch: Option<(&str, &str)>) {
        let src = self.src;
        let mut table = None;
        let mut alias = None;
        let mut stack = vec![stmt];
        // The with-item: `op.batch_alter_table(...) as name`.
        while let Some(n) = stack.pop() {
            if n.kind() == "block" {
                continue;
            }
            if n.kind() == "call" && table.is_none() {
                if let Some(c) = callee(n, src) {
                    if c.len() == 2 && c[0] == "op" && c[1] == "batch_alter_table" {
                        let a = args(n, src);
                        table = self
                            .str_arg(&a, 0, "table_name")
                            .map(|t| self.qualified(&a, t, "schema"));
                        if table.is_none() {
                            self.unknown(n, "batch_alter_table of a table name migrate can't read");
                        }
                        continue;
                    }
                }
            }
            if n.kind() == "as_pattern_target"
                || (n.kind() == "identifier" && table.is_some() && alias.is_none())
            {
                alias = Some(text(n, src).trim().to_owned());
                continue;
            }
            let mut c = n.walk();
            let kids: Vec<Node> = n.named_children(&mut c).collect();
            stack.extend(kids.into_iter().rev());
        }
        let Some(body) = stmt.child_by_field_name("body") else {
            return;
        };
        match (table, alias) {
            (Some(t), Some(a)) => {
                self.out.push(OpStatement {
                    line: line_of(stmt),
                    call: "op.batch_alter_table".into(),
                    touches: vec![touch(ObjectKind::Table, &t, None, Action::Alter)],
                    sql: None,
                    unknown: None,
                });
                self.block(body, Some((&t, &a)));
            }
            _ => self.block(body, batch),
        }
    }

    fn call(&mut self, call: Node<'_>, batch: Option<(&str, &str)>) {
        let Some(name) = callee(call, self.src) else {
            return self.unknown(call, "a call migrate can't read");
        };
        let in_batch = batch.filter(|(_, b)| name.len() == 2 && name[0] == *b);
        if !(name.len() == 2 && name[0] == "op") && in_batch.is_none() {
            return self.unknown(
                call,
                "not an op.* call: what it does to the database can't be read",
            );
        }
        let method = name[1].as_str();
        let a = args(call, self.src);
        let shown = format!("{}.{method}", name[0]);
        let mut touches = Vec::new();
        let mut sql = None;
        let line = line_of(call);
        let bt = in_batch.map(|(t, _)| t.to_owned());
        // The table argument: batch operations have it implied.
        let table_at = |this: &Self, pos: usize, key: &str| -> Option<String> {
            match &bt {
                Some(t) => Some(t.clone()),
                None => this
                    .str_arg(&a, pos, key)
                    .map(|t| this.qualified(&a, t, "schema")),
            }
        };
        let shift = usize::from(bt.is_none());
        let ok = match method {
            "create_table" => {
                let t = self
                    .str_arg(&a, 0, "table_name")
                    .map(|t| self.qualified(&a, t, "schema"));
                match t {
                    Some(t) => {
                        touches.push(touch(ObjectKind::Table, &t, None, Action::Create));
                        for item in a.positional.iter().skip(1) {
                            self.schema_item(*item, &t, Action::Create, &mut touches);
                        }
                        true
                    }
                    None => false,
                }
            }
            "drop_table" => match self.str_arg(&a, 0, "table_name") {
                Some(t) => {
                    let t = self.qualified(&a, t, "schema");
                    touches.push(touch(ObjectKind::Table, &t, None, Action::Drop));
                    true
                }
                None => false,
            },
            "rename_table" => match (
                self.str_arg(&a, 0, "old_table_name"),
                self.str_arg(&a, 1, "new_table_name"),
            ) {
                (Some(old), Some(new)) => {
                    let old = self.qualified(&a, old, "schema");
                    let new = self.qualified(&a, new, "schema");
                    touches.push(touch(
                        ObjectKind::Table,
                        &old,
                        None,
                        Action::Rename { to: new.clone() },
                    ));
                    touches.push(touch(ObjectKind::Table, &new, None, Action::Create));
                    true
                }
                _ => false,
            },
            "add_column" => match table_at(self, 0, "table_name") {
                Some(t) => {
                    touches.push(touch(ObjectKind::Table, &t, None, Action::Alter));
                    match a.positional.get(shift) {
                        Some(col) => {
                            let before = touches.len();
                            self.schema_item(*col, &t, Action::Create, &mut touches);
                            touches.len() > before
                        }
                        None => false,
                    }
                }
                None => false,
            },
            "drop_column" | "alter_column" => {
                let action = if method == "drop_column" {
                    Action::Drop
                } else {
                    Action::Alter
                };
                match (
                    table_at(self, 0, "table_name"),
                    self.str_arg(&a, shift, "column_name"),
                ) {
                    (Some(t), Some(c)) => {
                        touches.push(touch(ObjectKind::Table, &t, None, Action::Alter));
                        let action = match (
                            &action,
                            a.keyword
                                .get("new_column_name")
                                .and_then(|n| string_value(*n, self.src)),
                        ) {
                            (Action::Alter, Some(to)) => Action::Rename { to },
                            _ => action,
                        };
                        touches.push(touch(ObjectKind::Column, &c, Some(&t), action));
                        true
                    }
                    _ => false,
                }
            }
            "create_index" | "drop_index" => {
                let action = if method == "create_index" {
                    Action::Create
                } else {
                    Action::Drop
                };
                let ix = self.str_arg(&a, 0, "index_name");
                let t = match &bt {
                    Some(t) => Some(t.clone()),
                    None => self
                        .str_arg(&a, 1, "table_name")
                        .map(|t| self.qualified(&a, t, "schema")),
                };
                match ix {
                    Some(ix) => {
                        if let Some(t) = &t {
                            touches.push(touch(ObjectKind::Table, t, None, Action::Alter));
                        }
                        touches.push(touch(ObjectKind::Index, &ix, t.as_deref(), action));
                        // drop_index without a table still names the index.
                        t.is_some() || method == "drop_index"
                    }
                    None => false,
                }
            }
            "create_foreign_key" => {
                let fk = self.str_arg(&a, 0, "constraint_name");
                let (src_t, referent) = match &bt {
                    Some(t) => (Some(t.clone()), self.str_arg(&a, 1, "referent_table")),
                    None => (
                        self.str_arg(&a, 1, "source_table")
                            .map(|t| self.qualified(&a, t, "source_schema")),
                        self.str_arg(&a, 2, "referent_table"),
                    ),
                };
                match (src_t, referent) {
                    (Some(s), Some(r)) => {
                        let r = self.qualified(&a, r, "referent_schema");
                        let name = fk.unwrap_or_else(|| format!("foreign key to {r}"));
                        touches.push(touch(ObjectKind::Table, &s, None, Action::Alter));
                        touches.push(touch(
                            ObjectKind::Constraint,
                            &name,
                            Some(&s),
                            Action::Create,
                        ));
                        touches.push(touch(ObjectKind::Table, &r, None, Action::References));
                        true
                    }
                    _ => false,
                }
            }
            "create_unique_constraint"
            | "create_check_constraint"
            | "create_primary_key"
            | "drop_constraint" => {
                let action = if method == "drop_constraint" {
                    Action::Drop
                } else {
                    Action::Create
                };
                let c = self.str_arg(&a, 0, "constraint_name");
                match (c, table_at(self, 1, "table_name")) {
                    (Some(c), Some(t)) => {
                        touches.push(touch(ObjectKind::Table, &t, None, Action::Alter));
                        touches.push(touch(ObjectKind::Constraint, &c, Some(&t), action));
                        true
                    }
                    (None, Some(t)) if method != "drop_constraint" => {
                        touches.push(touch(ObjectKind::Table, &t, None, Action::Alter));
                        touches.push(touch(
                            ObjectKind::Constraint,
                            &format!("unnamed {method}"),
                            Some(&t),
                            action,
                        ));
                        true
                    }
                    _ => false,
                }
            }
            "bulk_insert" => match a.positional.first().and_then(|n| self.table_of(*n)) {
                Some(t) => {
                    touches.push(touch(ObjectKind::Table, &t, None, Action::Insert));
                    true
                }
                None => false,
            },
            "execute" => match a
                .keyword
                .get("sqltext")
                .copied()
                .or_else(|| a.positional.first().copied())
                .and_then(|n| self.literal_sql(n))
            {
                Some(s) => {
                    sql = Some(s);
                    true
                }
                None => {
                    return self.unknown(
                        call,
                        "op.execute of something other than a literal SQL string",
                    );
                }
            },
            "get_bind" | "get_context" | "f" | "inline_literal" => true,
            _ => false,
        };
        if !ok {
            return self.unknown(call, &format!("{shown} with arguments migrate can't read"));
        }
        self.out.push(OpStatement {
            line,
            call: shown,
            touches,
            sql,
            unknown: None,
        });
    }

    /// A string literal, or `sa.text('...')` of one.
    fn literal_sql(&self, node: Node<'_>) -> Option<String> {
        if let Some(s) = string_value(node, self.src) {
            return Some(s);
        }
        if node.kind() == "concatenated_string" {
            let mut out = String::new();
            let mut c = node.walk();
            for part in node.named_children(&mut c) {
                out.push_str(&string_value(part, self.src)?);
            }
            return Some(out);
        }
        if node.kind() == "call" {
            let name = callee(node, self.src)?;
            if name.last().map(String::as_str) == Some("text") {
                let a = args(node, self.src);
                return a.positional.first().and_then(|n| self.literal_sql(*n));
            }
        }
        None
    }

    /// The table a `bulk_insert` writes: a name bound to `sa.table('t', ...)`, or the
    /// call itself.
    fn table_of(&self, node: Node<'_>) -> Option<String> {
        match node.kind() {
            "identifier" => self.tables.get(text(node, self.src)).cloned(),
            "call" => {
                let name = callee(node, self.src)?;
                if matches!(name.last().map(String::as_str), Some("table" | "Table")) {
                    let a = args(node, self.src);
                    self.str_arg(&a, 0, "name")
                        .map(|t| self.qualified(&a, t, "schema"))
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    /// A `sa.Column(...)`, `sa.ForeignKeyConstraint(...)`, `sa.UniqueConstraint(...)`,
    /// `sa.PrimaryKeyConstraint(...)`, `sa.CheckConstraint(...)` or `sa.Index(...)` of
    /// table `t`, and the foreign keys in it.
    fn schema_item(&self, node: Node<'_>, t: &str, action: Action, out: &mut Vec<Touch>) {
        if node.kind() != "call" {
            return;
        }
        let Some(name) = callee(node, self.src) else {
            return;
        };
        let a = args(node, self.src);
        match name.last().map(String::as_str) {
            Some("Column") => {
                if let Some(c) = self.str_arg(&a, 0, "name") {
                    out.push(touch(ObjectKind::Column, &c, Some(t), action.clone()));
                }
                for item in a.positional.iter().skip(1) {
                    self.schema_item(*item, t, action.clone(), out);
                }
            }
            Some("ForeignKey") => {
                if let Some(target) = self.str_arg(&a, 0, "column") {
                    // 'users.id' (or 'schema.users.id'): the table is all but the column.
                    if let Some((table, _)) = target.rsplit_once('.') {
                        out.push(touch(ObjectKind::Table, table, None, Action::References));
                    }
                }
            }
            Some("ForeignKeyConstraint") => {
                let refcols = a
                    .keyword
                    .get("refcolumns")
                    .copied()
                    .or_else(|| a.positional.get(1).copied());
                if let Some(list) = refcols {
                    let mut c = list.walk();
                    let firsts: Vec<Node> = list.named_children(&mut c).collect();
                    for item in firsts {
                        if let Some((table, _)) = string_value(item, self.src)
                            .as_deref()
                            .and_then(|s| s.rsplit_once('.'))
                        {
                            out.push(touch(ObjectKind::Table, table, None, Action::References));
                        }
                    }
                }
                let cname = self
                    .str_arg(&a, usize::MAX, "name")
                    .unwrap_or_else(|| "foreign key".to_owned());
                out.push(touch(ObjectKind::Constraint, &cname, Some(t), action));
            }
            Some("UniqueConstraint" | "PrimaryKeyConstraint" | "CheckConstraint") => {
                let cname = self
                    .str_arg(&a, usize::MAX, "name")
                    .unwrap_or_else(|| name.last().cloned().unwrap_or_default());
                out.push(touch(ObjectKind::Constraint, &cname, Some(t), action));
            }
            Some("Index") => {
                if let Some(ix) = self.str_arg(&a, 0, "name") {
                    out.push(touch(ObjectKind::Index, &ix, Some(t), action));
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
#[path = "ops_tests.rs"]
mod tests;
