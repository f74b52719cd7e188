//! Each rule: a revision that triggers it (rule, line and fix checked), the safe
//! variant that does not, and the allow comment that silences it.

use std::path::Path;

use super::engine::{lint_revisions, LintInput, LintRevision, Options};
use super::source::file_info;
use super::{rule, Finding, RULES};
use crate::core::Dialect;
use crate::files::load::parse_revision;

const PG_BASE: &str = "CREATE TABLE users (id bigint PRIMARY KEY, email text, name text, status text);\nCREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint);";
const MY_BASE: &str =
    "CREATE TABLE users (id bigint PRIMARY KEY, email varchar(255), bio text, name varchar(50));";
const LITE_BASE: &str = "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, name TEXT);";

/// The first script line is line 7 of the file.
const FIRST_LINE: u32 = 7;

fn yaml(
    id: &str,
    parent: Option<&str>,
    transactional: bool,
    upgrade: &str,
    downgrade: &str,
) -> String {
    let indent = |s: &str| -> String { s.lines().map(|l| format!("  {l}\n")).collect::<String>() };
    format!(
        "revision: {id}\ndown_revision: {}\nmessage: m\ncreate_date: 2026-01-01T00:00:00Z\ntransactional: {transactional}\nupgrade: |\n{}downgrade: |\n{}",
        parent.unwrap_or("null"),
        indent(upgrade),
        if downgrade.is_empty() { "  \n".to_owned() } else { indent(downgrade) }
    )
}

/// Lints `sql` as revision r2 on top of a base revision creating the tables.
fn lint(dialect: Dialect, transactional: bool, sql: &str) -> Vec<Finding> {
    lint_with_downgrade(dialect, transactional, sql, "SELECT 1;")
}

fn lint_with_downgrade(
    dialect: Dialect,
    transactional: bool,
    sql: &str,
    down: &str,
) -> Vec<Finding> {
    let base = match dialect {
        Dialect::Postgres => PG_BASE,
        Dialect::Mysql => MY_BASE,
        Dialect::Sqlite => LITE_BASE,
    };
    let texts = [
        yaml("r1", None, true, base, "DROP TABLE users;"),
        yaml("r2", Some("r1"), transactional, sql, down),
    ];
    let revisions: Vec<_> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            parse_revision(Path::new(&format!("r{}.yaml", i + 1)), t).expect("valid revision")
        })
        .collect();
    let input = LintInput {
        revisions: revisions
            .iter()
            .zip(&texts)
            .map(|(r, t)| LintRevision {
                revision: r,
                selected: r.id.as_str() == "r2",
                file: Some(file_info(t).expect("lint info")),
            })
            .collect(),
        options: Options {
            shared_dialects: vec![dialect],
            ..Options::default()
        },
    };
    let out = lint_revisions(&input);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    out.findings
}

struct Case {
    rule: &'static str,
    dialect: Dialect,
    transactional: bool,
    trigger: &'static str,
    /// The 1-based script line of the statement the rule flags.
    flagged: u32,
    safe: &'static str,
}

const fn case(
    rule: &'static str,
    dialect: Dialect,
    trigger: &'static str,
    flagged: u32,
    safe: &'static str,
) -> Case {
    Case {
        rule,
        dialect,
        transactional: true,
        trigger,
        flagged,
        safe,
    }
}

const PG: Dialect = Dialect::Postgres;
const MY: Dialect = Dialect::Mysql;
const LITE: Dialect = Dialect::Sqlite;

const CASES: &[Case] = &[
    case("pg-index-not-concurrent", PG, "CREATE INDEX users_email_idx ON users (email);", 1,
        "CREATE TABLE tags (id bigint, name text);\nCREATE INDEX tags_name_idx ON tags (name);"),
    case("pg-concurrently-in-transaction", PG, "SELECT 1;\nCREATE INDEX CONCURRENTLY users_email_idx ON users (email);", 2,
        "CREATE INDEX users_email_idx ON users (email);"),
    case("pg-add-column-not-null", PG, "ALTER TABLE users ADD COLUMN age int NOT NULL;", 1,
        "ALTER TABLE users ADD COLUMN age int NOT NULL DEFAULT 0;"),
    case("pg-volatile-default", PG, "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();", 1,
        "ALTER TABLE users ADD COLUMN created timestamptz DEFAULT now();"),
    case("pg-column-type-change", PG, "ALTER TABLE users ALTER COLUMN id TYPE numeric;", 1,
        "ALTER TABLE users ADD COLUMN id2 numeric;"),
    case("pg-set-not-null", PG, "ALTER TABLE users ALTER COLUMN email SET NOT NULL;", 1,
        "ALTER TABLE users ADD CONSTRAINT users_email_nn CHECK (email IS NOT NULL) NOT VALID;\nALTER TABLE users VALIDATE CONSTRAINT users_email_nn;\nALTER TABLE users ALTER COLUMN email SET NOT NULL;"),
    case("pg-constraint-not-valid", PG, "ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);", 1,
        "ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;"),
    case("pg-unique-without-index", PG, "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);", 1,
        "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;"),
    case("pg-lock-timeout", PG, "ALTER TABLE users ADD COLUMN nickname text;", 1,
        "SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN nickname text;"),
    case("pg-vacuum-full-cluster", PG, "SELECT 1;\nCLUSTER users USING users_pkey;", 2,
        "SELECT 1;\nANALYZE users;"),
    case("pg-prefer-identity", PG, "CREATE TABLE tags (id serial PRIMARY KEY);", 1,
        "CREATE TABLE tags (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);"),
    case("pg-prefer-jsonb", PG, "CREATE TABLE events (payload json);", 1,
        "CREATE TABLE events (payload jsonb);"),
    case("mysql-table-copy", MY, "ALTER TABLE users MODIFY COLUMN name varchar(100);", 1,
        "ALTER TABLE users MODIFY COLUMN name varchar(100), ALGORITHM=INPLACE;"),
    case("mysql-text-index-no-prefix", MY, "CREATE INDEX users_bio_idx ON users (bio);", 1,
        "CREATE INDEX users_bio_idx ON users (bio(191));"),
    case("mysql-several-ddl", MY, "ALTER TABLE users ADD COLUMN a int;\nALTER TABLE users ADD COLUMN b int;", 2,
        "ALTER TABLE users ADD COLUMN a int, ADD COLUMN b int;"),
    case("sqlite-unsupported-alter", LITE, "ALTER TABLE users ALTER COLUMN email SET NOT NULL;", 1,
        "ALTER TABLE users ADD COLUMN nickname TEXT;"),
    case("sqlite-add-column-restriction", LITE, "ALTER TABLE users ADD COLUMN created TEXT DEFAULT CURRENT_TIMESTAMP;", 1,
        "ALTER TABLE users ADD COLUMN created TEXT DEFAULT '1970-01-01';"),
    case("sqlite-table-rebuild", LITE,
        "CREATE TABLE users_new (id INTEGER PRIMARY KEY, email TEXT NOT NULL);\nINSERT INTO users_new SELECT id, email FROM users;\nDROP TABLE users;\nALTER TABLE users_new RENAME TO users;", 4,
        "ALTER TABLE users ADD COLUMN nickname TEXT;"),
    case("drop-table", PG, "DROP TABLE orders;", 1,
        "CREATE TABLE scratch (a int);\nDROP TABLE scratch;"),
    case("drop-column", MY, "ALTER TABLE users DROP COLUMN name;", 1,
        "CREATE TABLE scratch (a int, b int);\nALTER TABLE scratch DROP COLUMN b;"),
    case("rename-table", LITE, "ALTER TABLE users RENAME TO customers;", 1,
        "CREATE TABLE scratch (a INT);\nALTER TABLE scratch RENAME TO scratch2;"),
    case("rename-column", PG, "ALTER TABLE users RENAME COLUMN name TO full_name;", 1,
        "ALTER TABLE users ADD COLUMN full_name text;"),
    case("unparsed-statement", PG, "CREATE TABEL tags (id bigint);", 1,
        "CREATE TABLE tags (id bigint);"),
];

fn with_allow(sql: &str, line: u32, rule: &str) -> String {
    let mut lines: Vec<String> = sql.lines().map(str::to_owned).collect();
    lines.insert(
        line as usize - 1,
        format!("-- migrate:allow {rule} -- reviewed"),
    );
    lines.join("\n")
}

#[test]
fn every_rule_but_empty_downgrade_has_a_case() {
    for r in RULES {
        if r.id != "empty-downgrade" {
            assert!(CASES.iter().any(|c| c.rule == r.id), "no case for {}", r.id);
        }
    }
}

#[test]
fn each_rule_triggers_with_its_line_and_fix() {
    for c in CASES {
        let findings = lint(c.dialect, c.transactional, c.trigger);
        let f = findings
            .iter()
            .find(|f| f.rule == c.rule)
            .unwrap_or_else(|| panic!("{} not found in {findings:#?}", c.rule));
        assert_eq!(f.line, Some(FIRST_LINE + c.flagged - 1), "{}", c.rule);
        assert_eq!(f.path.as_deref(), Some(Path::new("r2.yaml")));
        assert_eq!(f.revision, "r2");
        assert_eq!(f.dialect, c.dialect);
        let r = rule(c.rule).expect("catalogued");
        assert_eq!(f.fix, r.fix);
        assert_eq!(f.severity, r.severity);
        assert!(f.why.ends_with(r.why), "{}: {}", c.rule, f.why);
        let flagged_text = c.trigger.lines().nth(c.flagged as usize - 1).expect("line");
        assert_eq!(
            f.statement.as_deref(),
            Some(flagged_text.trim_end_matches(';')),
            "{}",
            c.rule
        );
    }
}

#[test]
fn the_safe_variant_passes() {
    for c in CASES {
        let findings = lint(c.dialect, c.transactional, c.safe);
        assert!(
            findings.iter().all(|f| f.rule != c.rule),
            "{} fired on its safe variant: {findings:#?}",
            c.rule
        );
    }
}

#[test]
fn an_allow_comment_above_silences_only_that_rule() {
    for c in CASES {
        let sql = with_allow(c.trigger, c.flagged, c.rule);
        let findings = lint(c.dialect, c.transactional, &sql);
        assert!(
            findings.iter().all(|f| f.rule != c.rule),
            "{} not silenced: {findings:#?}",
            c.rule
        );
    }
}

#[test]
fn an_allow_comment_at_the_end_of_the_line_silences_that_statement_only() {
    let sql = "CREATE INDEX a_idx ON users (email); -- migrate:allow pg-index-not-concurrent\nCREATE INDEX b_idx ON users (name);";
    let findings: Vec<_> = lint(PG, true, sql)
        .into_iter()
        .filter(|f| f.rule == "pg-index-not-concurrent")
        .collect();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].line, Some(FIRST_LINE + 1));
}

#[test]
fn index_on_a_new_table_is_fine_on_an_existing_one_it_is_not() {
    let sql = "CREATE TABLE tags (id bigint, name text);\nCREATE INDEX tags_name_idx ON tags (name);\nCREATE INDEX users_name_idx ON users (name);";
    let lines: Vec<_> = lint(PG, true, sql)
        .into_iter()
        .filter(|f| f.rule == "pg-index-not-concurrent")
        .map(|f| f.line)
        .collect();
    assert_eq!(lines, [Some(FIRST_LINE + 2)]);
}

#[test]
fn a_check_validated_in_an_earlier_revision_counts_for_set_not_null() {
    // r1 (the base) has no check; add it validated in the same revision: no finding.
    let sql = "ALTER TABLE users ADD CONSTRAINT users_name_nn CHECK (name IS NOT NULL);\nALTER TABLE users ALTER COLUMN name SET NOT NULL;";
    assert!(lint(PG, true, sql)
        .iter()
        .all(|f| f.rule != "pg-set-not-null"));
    // NOT VALID and never validated: still a scan.
    let sql = "ALTER TABLE users ADD CONSTRAINT users_name_nn CHECK (name IS NOT NULL) NOT VALID;\nALTER TABLE users ALTER COLUMN name SET NOT NULL;";
    assert!(lint(PG, true, sql)
        .iter()
        .any(|f| f.rule == "pg-set-not-null"));
}

#[test]
fn empty_downgrade_is_flagged_and_can_be_allowed() {
    let findings = lint_with_downgrade(LITE, true, "CREATE TABLE roles (id INTEGER);", "");
    let f = findings
        .iter()
        .find(|f| f.rule == "empty-downgrade")
        .expect("flagged");
    // The downgrade key's line.
    assert_eq!(f.line, Some(FIRST_LINE + 1));
    let findings = lint_with_downgrade(
        LITE,
        true,
        "CREATE TABLE roles (id INTEGER);",
        "-- migrate:allow empty-downgrade",
    );
    assert!(findings.iter().all(|f| f.rule != "empty-downgrade"));
    let findings = lint_with_downgrade(
        LITE,
        true,
        "CREATE TABLE roles (id INTEGER);",
        "DROP TABLE roles;",
    );
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn downgrades_are_read_for_what_can_not_run_only() {
    let findings = lint_with_downgrade(
        LITE,
        true,
        "ALTER TABLE users ADD COLUMN age INTEGER;",
        "ALTER TABLE users DROP COLUMN age;\nALTER TABLE users ALTER COLUMN name SET NOT NULL;",
    );
    let rules: Vec<_> = findings.iter().map(|f| (f.rule, f.line)).collect();
    // Line 7 upgrade, downgrade key on 8, its script from 9.
    assert_eq!(rules, [("sqlite-unsupported-alter", Some(10))]);
}

#[test]
fn unknown_ids_in_allow_comments_are_errors_with_file_and_line() {
    let texts = [yaml(
        "r1",
        None,
        true,
        "-- migrate:allow no-such-rule\nSELECT 1;",
        "SELECT 1;",
    )];
    let rev = parse_revision(Path::new("r1.yaml"), &texts[0]).expect("valid");
    let input = LintInput {
        revisions: vec![LintRevision {
            revision: &rev,
            selected: true,
            file: Some(file_info(&texts[0]).expect("info")),
        }],
        options: Options {
            shared_dialects: vec![LITE],
            ..Options::default()
        },
    };
    let out = lint_revisions(&input);
    assert_eq!(
        out.errors,
        ["r1.yaml:7: unknown lint rule 'no-such-rule' in a migrate:allow comment"]
    );
}

#[test]
fn revision_allow_list_silences_the_revision() {
    let text = yaml("r1", None, true, "DROP TABLE users;", "SELECT 1;")
        .replace("message: m\n", "message: m\nlint:\n  allow: [drop-table]\n");
    let rev = parse_revision(Path::new("r1.yaml"), &text).expect("lint key accepted");
    let info = file_info(&text).expect("info");
    assert_eq!(info.allow, [("drop-table".to_owned(), Some(5))]);
    let input = LintInput {
        revisions: vec![LintRevision {
            revision: &rev,
            selected: true,
            file: Some(info),
        }],
        options: Options {
            shared_dialects: vec![PG],
            ..Options::default()
        },
    };
    let out = lint_revisions(&input);
    assert!(
        out.findings.iter().all(|f| f.rule != "drop-table"),
        "{:#?}",
        out.findings
    );
}

#[test]
fn per_dialect_sql_is_read_with_its_own_backend_and_lines() {
    let text = "revision: r1\nmessage: m\nupgrade:\n  postgres: |\n    SELECT 1;\n    CREATE INDEX i ON users (email);\n  mysql: CREATE INDEX i ON users (bio)\ndowngrade: SELECT 1\n";
    let rev = parse_revision(Path::new("r1.yaml"), text).expect("valid");
    let input = LintInput {
        revisions: vec![LintRevision {
            revision: &rev,
            selected: true,
            file: Some(file_info(text).expect("info")),
        }],
        options: Options {
            shared_dialects: vec![LITE],
            ..Options::default()
        },
    };
    let out = lint_revisions(&input);
    let got: Vec<_> = out
        .findings
        .iter()
        .filter(|f| f.rule == "pg-index-not-concurrent")
        .map(|f| (f.dialect, f.line))
        .collect();
    assert_eq!(got, [(PG, Some(6))]);
    assert!(out.findings.iter().all(|f| f.dialect != LITE));
}

mod never_panics {
    use proptest::prelude::*;

    use super::super::engine::{lint_revisions, LintInput, LintRevision, Options};
    use crate::core::{Dialect, Revision, Sql};

    fn words() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just("CREATE"),
                Just("TABLE"),
                Just("INDEX"),
                Just("CONCURRENTLY"),
                Just("ALTER"),
                Just("DROP"),
                Just("COLUMN"),
                Just("ADD"),
                Just("CONSTRAINT"),
                Just("UNIQUE"),
                Just("NOT"),
                Just("NULL"),
                Just("DEFAULT"),
                Just("random()"),
                Just("SET"),
                Just("TYPE"),
                Just("RENAME"),
                Just("TO"),
                Just("ON"),
                Just("t"),
                Just("u"),
                Just("(a)"),
                Just("("),
                Just(")"),
                Just(","),
                Just(";"),
                Just("int"),
                Just("text"),
                Just("-- migrate:allow"),
                Just("drop-table"),
                Just("\n"),
                Just("'"),
                Just("VALID"),
                Just("REFERENCES"),
                Just("CLUSTER"),
                Just("VACUUM"),
            ],
            0..30,
        )
        .prop_map(|w| w.join(" "))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn lint_never_panics(up in words(), down in words(), tx in any::<bool>()) {
            let mut base = Revision::new("a", &[]).expect("id");
            base.upgrade = Some(Sql::All("CREATE TABLE t (a int, b text); CREATE TABLE u (a int)".into()));
            let mut rev = Revision::new("b", &["a"]).expect("id");
            rev.upgrade = Some(Sql::All(up));
            rev.downgrade = Some(Sql::All(down));
            rev.transactional = tx.into();
            let input = LintInput {
                revisions: vec![
                    LintRevision { revision: &base, selected: false, file: None },
                    LintRevision { revision: &rev, selected: true, file: None },
                ],
                options: Options { shared_dialects: Dialect::ALL.to_vec(), ..Options::default() },
            };
            let out = lint_revisions(&input);
            for f in &out.findings {
                prop_assert_eq!(f.line, None);
                prop_assert!(super::rule(f.rule).is_some());
            }
        }
    }
}
