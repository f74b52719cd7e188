//! The lint driver: revisions in upgrade order, each dialect's script statement by
//! statement through the rules, allow comments and lists applied, findings made.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use sqlparser::ast::{Set, Statement};

use super::rules::rule;
use super::schema::{table_key, KnownSchema};
use super::source::FileInfo;
use super::{common, mysql, postgres, sqlite, Direction, Finding, Hit, ScriptState, StatementCtx};
use crate::core::{Body, Dialect, Revision, Sql};
use crate::sql::analyse::{analyse, comments_in, Analysed};
use crate::sql::object_name;

/// Rules that also read a downgrade: it must at least be able to run.
const DOWNGRADE_RULES: &[&str] = &[
    "unparsed-statement",
    "pg-concurrently-in-transaction",
    "mysql-text-index-no-prefix",
    "sqlite-unsupported-alter",
    "sqlite-add-column-restriction",
];

/// One revision to walk.
pub struct LintRevision<'a> {
    pub revision: &'a Revision,
    /// Whether findings are reported for it (inside `-r`/`--base`); the others are only
    /// read to learn which tables exist.
    pub selected: bool,
    /// Lines of its SQL in the file and its `lint: {allow: [...]}`; `None` when the
    /// file could not be read again (findings then have no line).
    pub file: Option<FileInfo>,
}

/// How to lint.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The dialects SQL written once for every backend (`upgrade: |`) is read as.
    pub shared_dialects: Vec<Dialect>,
    /// Rules the project allows everywhere (`lint: {allow: [...]}` in migrate.yaml).
    pub project_allow: BTreeSet<String>,
}

/// Revisions in upgrade order (every revision, so the walk sees every table) and how to
/// lint them.
pub struct LintInput<'a> {
    pub revisions: Vec<LintRevision<'a>>,
    pub options: Options,
}

/// What lint found.
#[derive(Debug, Default)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    /// Selected Alembic (Python) revisions, which are not linted.
    pub python_revisions: Vec<String>,
    /// Selected revisions that were linted.
    pub linted: usize,
    /// Bad allow comments: an unknown rule id, with file and line.
    pub errors: Vec<String>,
}

/// Lints the selected revisions, walking all of them in the order given.
pub fn lint_revisions(input: &LintInput) -> Outcome {
    let mut out = Outcome::default();
    let mut schemas: BTreeMap<Dialect, KnownSchema> = BTreeMap::new();
    for lr in &input.revisions {
        let rev = lr.revision;
        if rev.body == Body::Python {
            if lr.selected {
                out.python_revisions.push(rev.id.to_string());
            }
            continue;
        }
        if lr.selected {
            out.linted += 1;
        }
        let mut allowed: BTreeSet<&str> = input
            .options
            .project_allow
            .iter()
            .map(String::as_str)
            .collect();
        if let Some(file) = &lr.file {
            allowed.extend(file.allow.iter().map(|(id, _)| id.as_str()));
        }
        let walk = RevisionWalk {
            lr,
            allowed: &allowed,
        };
        for dialect in targets(rev.upgrade.as_ref(), &input.options.shared_dialects) {
            let known = schemas.entry(dialect).or_default();
            walk.dialect(dialect, known, &mut out);
        }
        if lr.selected {
            for dialect in targets(rev.downgrade.as_ref(), &input.options.shared_dialects) {
                let known = schemas.entry(dialect).or_default();
                walk.downgrade(dialect, known, &mut out);
            }
        }
    }
    out
}

/// The dialects a script is read as.
fn targets(sql: Option<&Sql>, shared: &[Dialect]) -> Vec<Dialect> {
    match sql {
        None => Vec::new(),
        Some(Sql::All(_)) => shared.to_vec(),
        Some(Sql::PerDialect(map)) => map.keys().copied().collect(),
    }
}

struct RevisionWalk<'a> {
    lr: &'a LintRevision<'a>,
    allowed: &'a BTreeSet<&'a str>,
}

impl RevisionWalk<'_> {
    fn rev(&self) -> &Revision {
        self.lr.revision
    }

    /// The upgrade script for `dialect`: checked when selected, always learnt from.
    fn dialect(&self, dialect: Dialect, known: &mut KnownSchema, out: &mut Outcome) {
        let Some(sql) = self
            .rev()
            .upgrade
            .as_ref()
            .and_then(|s| s.for_dialect(dialect))
        else {
            return;
        };
        let script = analyse(dialect, sql);
        let mut state = ScriptState::default();
        let directives = self.lr.selected.then(|| Directives::read(sql, dialect));
        for st in &script.statements {
            if let Some(directives) = &directives {
                let hits =
                    statement_hits(dialect, Direction::Upgrade, self.rev(), st, &state, known);
                // The lock-timeout finding is made once per script, at the first
                // locking statement; later ones are the same problem.
                if hits.iter().any(|h| h.rule == "pg-lock-timeout") {
                    state.lock_timeout_reported = true;
                }
                self.report(dialect, Direction::Upgrade, st, hits, directives, out);
            }
            learn(self.rev().id.as_str(), st, &mut state, known);
        }
        if let Some(directives) = directives {
            self.directive_errors(dialect, Direction::Upgrade, &directives, out);
        }
        if self.lr.selected && !script.statements.is_empty() {
            self.empty_downgrade(dialect, out);
        }
    }

    fn downgrade(&self, dialect: Dialect, known: &KnownSchema, out: &mut Outcome) {
        let Some(sql) = self
            .rev()
            .downgrade
            .as_ref()
            .and_then(|s| s.for_dialect(dialect))
        else {
            return;
        };
        let script = analyse(dialect, sql);
        let directives = Directives::read(sql, dialect);
        let mut state = ScriptState::default();
        for st in &script.statements {
            let hits: Vec<Hit> =
                statement_hits(dialect, Direction::Downgrade, self.rev(), st, &state, known)
                    .into_iter()
                    .filter(|h| DOWNGRADE_RULES.contains(&h.rule))
                    .collect();
            self.report(dialect, Direction::Downgrade, st, hits, &directives, out);
            // What the downgrade does is not remembered: the next revision's upgrade
            // runs after this revision's upgrade, not its downgrade.
            learn_script(st, &mut state);
        }
        self.directive_errors(dialect, Direction::Downgrade, &directives, out);
    }

    /// `empty-downgrade`: the upgrade for `dialect` has statements, the downgrade none.
    fn empty_downgrade(&self, dialect: Dialect, out: &mut Outcome) {
        let Some(down) = self
            .rev()
            .downgrade
            .as_ref()
            .and_then(|s| s.for_dialect(dialect))
        else {
            return;
        };
        if !analyse(dialect, down).statements.is_empty()
            || self.allowed.contains("empty-downgrade")
            || Directives::read(down, dialect).mentions("empty-downgrade")
        {
            return;
        }
        let line = self.lr.file.as_ref().and_then(|f| f.downgrade.key);
        out.findings.push(self.finding(
            dialect,
            Hit::new("empty-downgrade", "the downgrade has no statement"),
            line,
            None,
        ));
    }

    fn finding(
        &self,
        dialect: Dialect,
        hit: Hit,
        line: Option<u32>,
        statement: Option<String>,
    ) -> Finding {
        let r = rule(hit.rule).expect("every hit names a rule of the catalogue");
        Finding {
            rule: r.id,
            severity: r.severity,
            revision: self.rev().id.to_string(),
            dialect,
            path: self.rev().origin.path.clone(),
            line,
            statement,
            why: format!("{}: {}", hit.detail, r.why),
            fix: r.fix,
        }
    }

    /// The file line of script line `line`.
    fn file_line(&self, direction: Direction, dialect: Dialect, line: usize) -> Option<u32> {
        let file = self.lr.file.as_ref()?;
        let lines = match direction {
            Direction::Upgrade => &file.upgrade,
            Direction::Downgrade => &file.downgrade,
        };
        lines.base(dialect).map(|b| b + line as u32 - 1)
    }

    fn report(
        &self,
        dialect: Dialect,
        direction: Direction,
        st: &Analysed,
        hits: Vec<Hit>,
        directives: &Directives,
        out: &mut Outcome,
    ) {
        for hit in hits {
            if self.allowed.contains(hit.rule) || directives.allows(st, hit.rule) {
                continue;
            }
            let line = self.file_line(direction, dialect, st.line);
            out.findings
                .push(self.finding(dialect, hit, line, Some(st.excerpt.clone())));
        }
    }

    fn directive_errors(
        &self,
        dialect: Dialect,
        direction: Direction,
        d: &Directives,
        out: &mut Outcome,
    ) {
        for (line, id) in &d.unknown {
            let at = match (
                &self.rev().origin.path,
                self.file_line(direction, dialect, *line),
            ) {
                (Some(p), Some(l)) => format!("{}:{l}", p.display()),
                (Some(p), None) => p.display().to_string(),
                (None, _) => format!("revision {}", self.rev().id),
            };
            let message = format!(
                "{at}: unknown lint rule '{}' in a migrate:allow comment",
                crate::files::load::excerpt(id)
            );
            if !out.errors.contains(&message) {
                out.errors.push(message);
            }
        }
    }
}

/// Every rule's hits on one statement.
fn statement_hits(
    dialect: Dialect,
    direction: Direction,
    rev: &Revision,
    st: &Analysed,
    state: &ScriptState,
    known: &KnownSchema,
) -> Vec<Hit> {
    let statement = match &st.parsed {
        Ok(s) => s,
        Err(e) => {
            if dialect == Dialect::Postgres {
                let words: Vec<String> = st
                    .excerpt
                    .split_whitespace()
                    .take(8)
                    .map(|w| {
                        w.trim_matches(|c: char| !c.is_ascii_alphanumeric())
                            .to_ascii_uppercase()
                    })
                    .collect();
                if let Some(hits) = postgres::check_unparsed(
                    &words,
                    rev.transactional.get(dialect, direction.into()),
                ) {
                    return hits;
                }
            }
            return vec![Hit::new(
                "unparsed-statement",
                format!("the {dialect} parser can't read it ({e})"),
            )];
        }
    };
    let ctx = StatementCtx {
        dialect,
        direction,
        transactional: rev.transactional.get(dialect, direction.into()),
        analysed: st,
        statement,
        state,
        known,
    };
    let mut hits = common::check(&ctx);
    hits.extend(match dialect {
        Dialect::Postgres => postgres::check(&ctx),
        Dialect::Mysql => mysql::check(&ctx),
        Dialect::Sqlite => sqlite::check(&ctx),
    });
    hits
}

/// Records what a statement did, for the statements and revisions after it.
fn learn(revision: &str, st: &Analysed, state: &mut ScriptState, known: &mut KnownSchema) {
    learn_script(st, state);
    if let Ok(statement) = &st.parsed {
        known.apply(revision, statement);
    }
}

/// Records what a statement did for the rest of its script.
fn learn_script(st: &Analysed, state: &mut ScriptState) {
    let Ok(statement) = &st.parsed else { return };
    match statement {
        Statement::CreateTable(create) => {
            let key = table_key(&object_name(&create.name));
            state.dropped_here.remove(&key);
            state.created_here.insert(key);
        }
        Statement::Set(Set::SingleAssignment { variable, .. })
            if object_name(variable).ends_with("lock_timeout") =>
        {
            state.lock_timeout = true;
        }
        _ => {}
    }
    state.dropped_here.extend(sqlite::dropped_tables(statement));
    if let Statement::AlterTable(alter) = statement {
        // A table renamed into a new name is new if its old name was.
        for op in &alter.operations {
            if let sqlparser::ast::AlterTableOperation::RenameTable { table_name } = op {
                let (sqlparser::ast::RenameTableNameKind::As(to)
                | sqlparser::ast::RenameTableNameKind::To(to)) = table_name;
                if state
                    .created_here
                    .remove(&table_key(&object_name(&alter.name)))
                {
                    state.created_here.insert(table_key(&object_name(to)));
                }
            }
        }
    }
    if mysql::is_ddl(statement) {
        state.ddl_count += 1;
    }
}

/// The `migrate:allow` comments of one script.
pub struct Directives {
    /// (script line, rule id, whether code precedes the comment on its line).
    allows: Vec<(usize, String, bool)>,
    /// (script line, id) of ids that name no rule.
    unknown: Vec<(usize, String)>,
}

impl Directives {
    pub fn read(script: &str, dialect: Dialect) -> Self {
        let mut allows = Vec::new();
        let mut unknown = Vec::new();
        for (offset, comment) in comments_in(script, dialect) {
            let Some(at) = comment.find("migrate:allow") else {
                continue;
            };
            let line = script[..offset].matches('\n').count() + 1;
            let line_start = script[..offset].rfind('\n').map_or(0, |i| i + 1);
            let after_code = !script[line_start..offset].trim().is_empty();
            let rest = comment[at + "migrate:allow".len()..].trim_end_matches("*/");
            let list = rest.split(['(', ':']).next().unwrap_or("");
            let list = list.split("--").next().unwrap_or("");
            for id in list
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|s| !s.is_empty())
            {
                if rule(id).is_some() {
                    allows.push((line, id.to_owned(), after_code));
                } else {
                    unknown.push((line, id.to_owned()));
                }
            }
        }
        Self { allows, unknown }
    }

    /// Whether any comment of the script allows `rule` (for findings about a script
    /// with no statement).
    pub fn mentions(&self, rule: &str) -> bool {
        self.allows.iter().any(|(_, id, _)| id == rule)
    }

    /// Whether a comment on or above `st` allows `rule`: a comment inside the
    /// statement's text (its leading comments included), or one after code on the
    /// statement's last line.
    pub fn allows(&self, st: &Analysed, rule: &str) -> bool {
        self.allows.iter().any(|(line, id, after_code)| {
            id == rule
                && ((st.first_line..=st.last_line).contains(line)
                    && !(*after_code && *line == st.first_line && *line < st.line)
                    || (*after_code && *line == st.last_line))
        })
    }
}

/// Where a finding points, for messages: file and line.
pub fn location(path: Option<&PathBuf>, line: Option<u32>) -> String {
    match (path, line) {
        (Some(p), Some(l)) => format!("{}:{l}", p.display()),
        (Some(p), None) => p.display().to_string(),
        _ => String::new(),
    }
}
