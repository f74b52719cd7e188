//! `migrate lint` end to end: every rule through the binary (rule, line and fix text
//! exactly), exit codes, JSON and GitHub output, allow lists, `--base` on a real git
//! repository, and the PostgreSQL rules side by side with Squawk.

use std::path::Path;

use crate::git_fixture::{day, GitFixture, ADA};
use crate::support::{json, project, pyenv_tool, run};

const PG_BASE: &str = "CREATE TABLE users (id bigint PRIMARY KEY, email text, name text, status text);\nCREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint);";
const MY_BASE: &str =
    "CREATE TABLE users (id bigint PRIMARY KEY, email varchar(255), bio text, name varchar(50));";
const LITE_BASE: &str = "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, name TEXT);";

/// A revision file; its upgrade SQL starts on line 7.
fn revision(id: &str, down: Option<&str>, transactional: bool, upgrade: &str) -> String {
    let body: String = upgrade.lines().map(|l| format!("  {l}\n")).collect();
    format!(
        "revision: {id}\ndown_revision: {}\nmessage: m {id}\ncreate_date: 2026-01-01T00:00:00Z\ntransactional: {transactional}\nupgrade: |\n{body}downgrade: |\n  SELECT 1;\n",
        down.unwrap_or("null")
    )
}

fn base_for(dialect: &str) -> &'static str {
    match dialect {
        "postgres" => PG_BASE,
        "mysql" => MY_BASE,
        _ => LITE_BASE,
    }
}

/// A project with the base tables in r1 and `sql` in r2.
fn two_revisions(dialect: &str, transactional: bool, sql: &str) -> tempfile::TempDir {
    project(&[
        (
            "r1_base.yaml",
            &revision("r1", None, true, base_for(dialect)),
        ),
        (
            "r2_change.yaml",
            &revision("r2", Some("r1"), transactional, sql),
        ),
    ])
}

/// (rule, dialect, transactional, SQL of r2, script line flagged, the fix exactly).
const RULES: &[(&str, &str, bool, &str, u64, &str)] = &[
    ("pg-index-not-concurrent", "postgres", true, "CREATE INDEX users_email_idx ON users (email);", 1,
        "build it concurrently in a revision with `transactional: false`: CREATE INDEX CONCURRENTLY users_email_idx ON users (email);"),
    ("pg-concurrently-in-transaction", "postgres", true, "CREATE INDEX CONCURRENTLY users_email_idx ON users (email);", 1,
        "set `transactional: false` on the revision (and keep the concurrent statement alone in it): CREATE INDEX CONCURRENTLY users_email_idx ON users (email);"),
    ("pg-add-column-not-null", "postgres", true, "ALTER TABLE users ADD COLUMN age int NOT NULL;", 1,
        "give the column a default (no rewrite for a constant default since PostgreSQL 11), or add it nullable and backfill: ALTER TABLE users ADD COLUMN status text NOT NULL DEFAULT 'active';"),
    ("pg-volatile-default", "postgres", true, "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();", 1,
        "add the column without the default, set the default for new rows, then backfill in batches: ALTER TABLE users ADD COLUMN token uuid; ALTER TABLE users ALTER COLUMN token SET DEFAULT gen_random_uuid(); UPDATE users SET token = gen_random_uuid() WHERE id BETWEEN 1 AND 10000;"),
    ("pg-column-type-change", "postgres", true, "ALTER TABLE users ALTER COLUMN id TYPE numeric;", 1,
        "add a new column of the new type, backfill it in batches, switch the application, then drop the old one: ALTER TABLE users ADD COLUMN id_new bigint;"),
    ("pg-set-not-null", "postgres", true, "ALTER TABLE users ALTER COLUMN email SET NOT NULL;", 1,
        "add the check NOT VALID, validate it (a weaker lock), then set NOT NULL and drop the check: ALTER TABLE users ADD CONSTRAINT users_email_nn CHECK (email IS NOT NULL) NOT VALID; ALTER TABLE users VALIDATE CONSTRAINT users_email_nn; ALTER TABLE users ALTER COLUMN email SET NOT NULL;"),
    ("pg-constraint-not-valid", "postgres", true, "ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);", 1,
        "add it NOT VALID, then validate it in a separate statement, which allows writes: ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID; ALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk;"),
    ("pg-unique-without-index", "postgres", true, "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);", 1,
        "build the unique index concurrently (transactional: false), then attach it: CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email); ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;"),
    ("pg-lock-timeout", "postgres", true, "SELECT 1;\nALTER TABLE users ADD COLUMN nickname text;", 2,
        "set a lock timeout at the top of the revision and retry on timeout: SET lock_timeout = '2s';"),
    ("pg-vacuum-full-cluster", "postgres", false, "VACUUM FULL users;", 1,
        "run maintenance outside migrations, or use an online tool such as pg_repack: pg_repack --table users mydb"),
    ("pg-prefer-identity", "postgres", true, "CREATE TABLE tags (id serial PRIMARY KEY);", 1,
        "use an identity column: CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);"),
    ("pg-prefer-jsonb", "postgres", true, "CREATE TABLE events (payload json);", 1,
        "use jsonb: ALTER TABLE events ADD COLUMN payload jsonb;"),
    ("mysql-table-copy", "mysql", true, "ALTER TABLE users MODIFY COLUMN name varchar(100);", 1,
        "state the algorithm so MySQL refuses instead of copying, and use an online schema change tool for copying changes: ALTER TABLE users ADD COLUMN nickname varchar(64), ALGORITHM=INSTANT; (or gh-ost / pt-online-schema-change)"),
    ("mysql-text-index-no-prefix", "mysql", true, "CREATE INDEX users_bio_idx ON users (bio);", 1,
        "index a prefix of the column: CREATE INDEX posts_body_idx ON posts (body(191));"),
    ("mysql-several-ddl", "mysql", true, "ALTER TABLE users ADD COLUMN a int;\nALTER TABLE users ADD COLUMN b int;", 2,
        "put each DDL statement in its own revision: ALTER TABLE users ADD COLUMN nickname varchar(64);"),
    ("sqlite-unsupported-alter", "sqlite", true, "ALTER TABLE users ALTER COLUMN email SET NOT NULL;", 1,
        "rebuild the table: CREATE TABLE users_new (id INTEGER PRIMARY KEY, email TEXT NOT NULL); INSERT INTO users_new SELECT id, email FROM users; DROP TABLE users; ALTER TABLE users_new RENAME TO users;"),
    ("sqlite-add-column-restriction", "sqlite", true, "ALTER TABLE users ADD COLUMN created TEXT DEFAULT CURRENT_TIMESTAMP;", 1,
        "add the column with a constant default (or rebuild the table for the rest): ALTER TABLE users ADD COLUMN status TEXT NOT NULL DEFAULT 'active';"),
    ("sqlite-table-rebuild", "sqlite", true, "CREATE TABLE users_new (id INTEGER PRIMARY KEY, email TEXT NOT NULL);\nINSERT INTO users_new SELECT id, email FROM users;\nDROP TABLE users;\nALTER TABLE users_new RENAME TO users;", 4,
        "follow SQLite's 12-step procedure: turn foreign keys off outside the transaction (transactional: false, PRAGMA foreign_keys = OFF), rebuild, recreate indexes and triggers, run PRAGMA foreign_key_check; then PRAGMA foreign_keys = ON;"),
    ("drop-table", "postgres", true, "DROP TABLE orders;", 1,
        "stop using the table in the application first, keep a backup, and drop it in a later revision: ALTER TABLE old_orders RENAME TO old_orders_unused; -- then, later: DROP TABLE old_orders_unused;"),
    ("drop-column", "mysql", true, "ALTER TABLE users DROP COLUMN name;", 1,
        "stop reading and writing the column in the application first (deploy), then drop it in a later revision: ALTER TABLE users DROP COLUMN legacy_flag;"),
    ("rename-table", "sqlite", true, "ALTER TABLE users RENAME TO customers;", 1,
        "create the new table (or a view with the new name), migrate readers and writers, then drop the old name later: CREATE VIEW customers AS SELECT * FROM users;"),
    ("rename-column", "postgres", true, "ALTER TABLE users RENAME COLUMN name TO full_name;", 1,
        "add the new column, write both, backfill, switch reads, then drop the old column later: ALTER TABLE users ADD COLUMN full_name text;"),
    ("unparsed-statement", "sqlite", true, "CREATE TABEL tags (id INTEGER);", 1,
        "check the statement's syntax for this backend; if it is valid SQL the parser does not know, silence it: -- migrate:allow unparsed-statement"),
];

fn findings(dir: &Path, args: &[&str]) -> (i32, Vec<serde_json::Value>) {
    let mut all = vec!["lint"];
    all.extend(args);
    let (code, v) = json(dir, &all);
    let list = v["findings"].as_array().cloned().unwrap_or_default();
    (code, list)
}

#[test]
fn every_rule_through_the_binary_with_line_and_fix() {
    for &(rule, dialect, tx, sql, line, fix) in RULES {
        let dir = two_revisions(dialect, tx, sql);
        let (code, list) = findings(dir.path(), &["--dialect", dialect]);
        let f = list
            .iter()
            .find(|f| f["rule"] == rule)
            .unwrap_or_else(|| panic!("{rule} not reported: {list:#?}"));
        assert_eq!(f["line"], 6 + line, "{rule}");
        assert_eq!(f["fix"], fix, "{rule}");
        assert_eq!(f["revision"], "r2");
        assert_eq!(f["dialect"], dialect);
        assert_eq!(f["path"], "revisions/r2_change.yaml");
        let error = f["severity"] == "error";
        let any_error = list.iter().any(|f| f["severity"] == "error");
        assert_eq!(code, i32::from(any_error), "{rule}");
        if error {
            assert_eq!(code, 1, "{rule}: an error-level finding exits 1");
        }
    }
}

#[test]
fn a_clean_project_exits_0_and_warnings_alone_do_not_fail() {
    let dir = two_revisions("postgres", true, "CREATE TABLE tags (id bigint);");
    let (code, out, err) = run(dir.path(), &["lint", "--dialect", "postgres"]);
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    assert!(err.contains("0 errors, 0 warnings in 2 revisions"), "{err}");
    // rename-column is a warning.
    let dir = two_revisions(
        "postgres",
        true,
        "SET lock_timeout = '1s';\nALTER TABLE users RENAME COLUMN name TO full_name;",
    );
    let (code, out, _) = run(dir.path(), &["lint", "--dialect", "postgres"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with(
            "revisions/r2_change.yaml:8: warning[rename-column] (postgres, revision r2)\n"
        ),
        "{out}"
    );
}

#[test]
fn text_output_names_statement_why_and_fix() {
    let dir = two_revisions(
        "postgres",
        true,
        "SET lock_timeout = '1s';\nCREATE INDEX users_email_idx ON users (email);",
    );
    let (code, out, _) = run(dir.path(), &["lint", "--dialect", "postgres"]);
    assert_eq!(code, 1);
    assert_eq!(
        out,
        "revisions/r2_change.yaml:8: error[pg-index-not-concurrent] (postgres, revision r2)\n  \
         statement: CREATE INDEX users_email_idx ON users (email)\n  \
         why: CREATE INDEX on users, which existed before this revision, without CONCURRENTLY: a plain CREATE INDEX holds a SHARE lock for the whole build: every INSERT, UPDATE and DELETE on the table waits until the index is built\n  \
         fix: build it concurrently in a revision with `transactional: false`: CREATE INDEX CONCURRENTLY users_email_idx ON users (email);\n"
    );
}

#[test]
fn github_annotations_are_escaped() {
    let dir = two_revisions(
        "postgres",
        true,
        "SET lock_timeout = '1s';\nCREATE INDEX users_email_idx ON users (email);",
    );
    let (code, out, _) = run(
        dir.path(),
        &["lint", "--dialect", "postgres", "--format", "github"],
    );
    assert_eq!(code, 1);
    assert_eq!(
        out,
        "::error file=revisions/r2_change.yaml,line=8,title=pg-index-not-concurrent (postgres)::\
         CREATE INDEX on users, which existed before this revision, without CONCURRENTLY: a plain CREATE INDEX holds a SHARE lock for the whole build: every INSERT, UPDATE and DELETE on the table waits until the index is built%0A\
         Fix: build it concurrently in a revision with `transactional: false`: CREATE INDEX CONCURRENTLY users_email_idx ON users (email);\n"
    );
}

#[test]
fn json_output_has_counts_and_findings() {
    let dir = two_revisions(
        "mysql",
        true,
        "ALTER TABLE users ADD COLUMN a int;\nALTER TABLE users DROP COLUMN name;",
    );
    let (code, v) = json(dir.path(), &["lint", "--dialect", "mysql"]);
    assert_eq!(code, 0);
    assert_eq!(v["ok"], true);
    assert_eq!(v["errors"], 0);
    assert_eq!(v["warnings"], 2);
    assert_eq!(v["revisions_linted"], 2);
    let rules: Vec<_> = v["findings"]
        .as_array()
        .expect("list")
        .iter()
        .map(|f| f["rule"].as_str().unwrap_or("").to_owned())
        .collect();
    // Per statement: the rules for every backend, then the backend's own.
    assert_eq!(rules, ["drop-column", "mysql-several-ddl"]);
    assert_eq!(
        v["findings"][1]["statement"],
        "ALTER TABLE users DROP COLUMN name"
    );
}

#[test]
fn allow_comment_revision_list_and_project_list_silence() {
    let sql = "SET lock_timeout = '1s';\n-- migrate:allow pg-index-not-concurrent -- users is tiny\nCREATE INDEX users_email_idx ON users (email);";
    let dir = two_revisions("postgres", true, sql);
    assert_eq!(
        findings(dir.path(), &["--dialect", "postgres"]),
        (0, vec![])
    );

    let text = revision(
        "r2",
        Some("r1"),
        true,
        "SET lock_timeout = '1s';\nCREATE INDEX users_email_idx ON users (email);",
    )
    .replace(
        "message: m r2\n",
        "message: m r2\nlint:\n  allow: [pg-index-not-concurrent]\n",
    );
    let dir = project(&[
        ("r1_base.yaml", &revision("r1", None, true, PG_BASE)),
        ("r2_change.yaml", &text),
    ]);
    assert_eq!(
        findings(dir.path(), &["--dialect", "postgres"]),
        (0, vec![])
    );

    let dir = two_revisions(
        "postgres",
        true,
        "SET lock_timeout = '1s';\nCREATE INDEX users_email_idx ON users (email);",
    );
    std::fs::write(dir.path().join("migrate.yaml"), "revisions: revisions\nlint:\n  allow:\n    - pg-index-not-concurrent\n  dialects: [postgres]\n").expect("config");
    assert_eq!(findings(dir.path(), &[]), (0, vec![]));
}

#[test]
fn unknown_rule_ids_are_errors_naming_file_and_line() {
    let dir = two_revisions("postgres", true, "SELECT 1;");
    std::fs::write(
        dir.path().join("migrate.yaml"),
        "revisions: revisions\nlint:\n  allow:\n    - drop-table\n    - no-such-rule\n",
    )
    .expect("config");
    let (code, out, err) = run(dir.path(), &["lint"]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(
        err.contains("error: migrate.yaml:5: unknown lint rule 'no-such-rule' in lint.allow"),
        "{err}"
    );

    let text = revision("r2", Some("r1"), true, "SELECT 1;")
        .replace("message: m r2\n", "message: m r2\nlint: {allow: [bogus]}\n");
    let dir = project(&[
        ("r1_base.yaml", &revision("r1", None, true, PG_BASE)),
        ("r2_change.yaml", &text),
    ]);
    let (code, _, err) = run(dir.path(), &["lint", "--dialect", "postgres"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("error: revisions/r2_change.yaml:4: unknown lint rule 'bogus' in lint.allow"),
        "{err}"
    );

    let dir = two_revisions("postgres", true, "SELECT 1; -- migrate:allow nope");
    let (code, _, err) = run(dir.path(), &["lint", "--dialect", "postgres"]);
    assert_eq!(code, 1);
    assert!(err.contains("error: revisions/r2_change.yaml:7: unknown lint rule 'nope' in a migrate:allow comment"), "{err}");
}

#[test]
fn shared_sql_is_linted_as_every_backend_unless_one_is_configured() {
    let dir = two_revisions(
        "sqlite",
        true,
        "ALTER TABLE users RENAME COLUMN name TO full_name;",
    );
    let (_, list) = findings(dir.path(), &[]);
    let mut dialects: Vec<_> = list
        .iter()
        .filter(|f| f["rule"] == "rename-column")
        .map(|f| f["dialect"].as_str().unwrap_or("").to_owned())
        .collect();
    dialects.sort();
    assert_eq!(dialects, ["mysql", "postgres", "sqlite"]);
    let (_, list) = findings(dir.path(), &["--database-url", "sqlite://app.db"]);
    let dialects: Vec<_> = list
        .iter()
        .map(|f| f["dialect"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(dialects, ["sqlite"]);
}

#[test]
fn range_selects_revisions_but_the_walk_sees_every_table() {
    // r1 creates users; -r r1:r2 would include both, r2 alone still knows users existed.
    let dir = two_revisions(
        "postgres",
        true,
        "SET lock_timeout = '1s';\nCREATE INDEX users_email_idx ON users (email);",
    );
    let (_, list) = findings(dir.path(), &["--dialect", "postgres", "-r", "r1:r2"]);
    assert_eq!(list.len(), 1);
    let (code, v) = json(
        dir.path(),
        &["lint", "--dialect", "postgres", "-r", "r1:r1"],
    );
    assert_eq!((code, v["revisions_linted"].as_u64()), (0, Some(1)));
}

#[test]
fn base_lints_only_the_revisions_this_branch_adds_or_changes() {
    let g = GitFixture::new();
    g.write(
        "migrate.yaml",
        "revisions: revisions\nlint:\n  dialects: [postgres]\n",
    );
    // On main: r1 creates users and drops an old table (a warning nobody wants again).
    g.write(
        "revisions/r1_base.yaml",
        &revision("r1", None, true, &format!("{PG_BASE}\nDROP TABLE legacy;")),
    );
    g.commit(ADA, day(0, 0), "base");
    g.branch("feature");
    g.checkout("feature");
    g.write(
        "revisions/r2_change.yaml",
        &revision(
            "r2",
            Some("r1"),
            true,
            "SET lock_timeout = '1s';\nCREATE INDEX users_email_idx ON users (email);",
        ),
    );
    g.commit(ADA, day(1, 0), "add index");
    let (code, list) = findings(g.path(), &["--base", "main"]);
    assert_eq!(code, 1);
    let got: Vec<_> = list
        .iter()
        .map(|f| {
            (
                f["revision"].as_str().unwrap_or("").to_owned(),
                f["rule"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [("r2".to_owned(), "pg-index-not-concurrent".to_owned())]
    );
    // Without --base both revisions are linted.
    let (_, all) = findings(g.path(), &[]);
    assert!(
        all.iter()
            .any(|f| f["revision"] == "r1" && f["rule"] == "drop-table"),
        "{all:#?}"
    );
    // Compared with its own tip, the branch adds nothing; an edit in the working tree counts.
    assert_eq!(findings(g.path(), &["--base", "feature"]), (0, vec![]));
    let edited = std::fs::read_to_string(g.file("revisions/r1_base.yaml"))
        .expect("read")
        .replace("DROP TABLE legacy;", "DROP TABLE legacy2;");
    g.write("revisions/r1_base.yaml", &edited);
    let (_, list) = findings(g.path(), &["--base", "feature"]);
    let mut revs: Vec<_> = list
        .iter()
        .map(|f| f["revision"].as_str().unwrap_or("").to_owned())
        .collect();
    revs.dedup();
    assert_eq!(revs, ["r1"]);
    // A ref that does not exist is an error.
    let (code, _, err) = run(g.path(), &["lint", "--base", "no-such-branch"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("unknown git revision 'no-such-branch'"),
        "{err}"
    );
}

/// (our rule, Squawk's rules, SQL that should be flagged, SQL that should pass), each run
/// as a transactional revision.
const SQUAWK: &[(&str, &[&str], &str, &str)] = &[
    ("pg-index-not-concurrent", &["require-concurrent-index-creation"],
        "CREATE INDEX users_email_idx ON users (email);",
        "CREATE TABLE tags (id bigint, name text);\nCREATE INDEX tags_name_idx ON tags (name);"),
    ("pg-add-column-not-null", &["adding-required-field"],
        "ALTER TABLE users ADD COLUMN age int NOT NULL;",
        "ALTER TABLE users ADD COLUMN age int NOT NULL DEFAULT 0;"),
    ("pg-volatile-default", &["adding-field-with-default"],
        "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();",
        "ALTER TABLE users ADD COLUMN created timestamptz DEFAULT now();"),
    ("pg-column-type-change", &["changing-column-type"],
        "ALTER TABLE users ALTER COLUMN id TYPE numeric;",
        "ALTER TABLE users ADD COLUMN id2 numeric;"),
    ("pg-set-not-null", &["adding-not-nullable-field"],
        "ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
        "ALTER TABLE users ADD COLUMN email2 text;"),
    ("pg-constraint-not-valid", &["constraint-missing-not-valid", "adding-foreign-key-constraint"],
        "ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);",
        "ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;"),
    ("pg-unique-without-index", &["disallowed-unique-constraint"],
        "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);",
        "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;"),
    ("pg-lock-timeout", &["require-lock-timeout"],
        "ALTER TABLE users ADD COLUMN nickname text;",
        "SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN nickname text;"),
    ("pg-prefer-identity", &["prefer-identity"],
        "CREATE TABLE tags (id serial PRIMARY KEY);",
        "CREATE TABLE tags (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);"),
    ("drop-table", &["ban-drop-table"], "DROP TABLE orders;", "SELECT 1;"),
    ("drop-column", &["ban-drop-column"], "ALTER TABLE users DROP COLUMN name;", "ALTER TABLE users ADD COLUMN nick text;"),
    ("rename-table", &["renaming-table"], "ALTER TABLE users RENAME TO customers;", "ALTER TABLE users ADD COLUMN nick text;"),
    ("rename-column", &["renaming-column"], "ALTER TABLE users RENAME COLUMN name TO full_name;", "ALTER TABLE users ADD COLUMN full_name text;"),
];

/// Whether Squawk reports any of `rules` on `sql`. A transactional revision runs in one
/// transaction, so Squawk is shown the SQL inside `BEGIN; ... COMMIT;` (its
/// `--assume-in-transaction` does not trigger its concurrent-index rule).
fn squawk_flags(dir: &Path, sql: &str, rules: &[&str], in_transaction: bool) -> bool {
    let file = dir.join("change.sql");
    let text = if in_transaction {
        format!("BEGIN;\n{sql}\nCOMMIT;\n")
    } else {
        sql.to_owned()
    };
    std::fs::write(&file, text).expect("write sql");
    let mut cmd = std::process::Command::new(pyenv_tool("squawk"));
    cmd.args(["--reporter", "json"]).arg(&file);
    let out = cmd.output().expect("squawk runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "squawk printed no JSON ({e}): {stdout} {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    v.as_array()
        .expect("a list of violations")
        .iter()
        .any(|x| rules.iter().any(|r| x["rule_name"] == *r))
}

fn migrate_flags(sql: &str, rule: &str, transactional: bool) -> bool {
    let dir = two_revisions("postgres", transactional, sql);
    let (_, list) = findings(dir.path(), &["--dialect", "postgres"]);
    list.iter().any(|f| f["rule"] == rule)
}

#[test]
fn postgres_rules_agree_with_squawk() {
    let scratch = tempfile::tempdir().expect("dir");
    let mut disagreements = Vec::new();
    for &(rule, squawk_rules, bad, good) in SQUAWK {
        for (sql, expected) in [(bad, true), (good, false)] {
            let ours = migrate_flags(sql, rule, true);
            let theirs = squawk_flags(scratch.path(), sql, squawk_rules, true);
            assert_eq!(ours, expected, "migrate lint on {sql:?} for {rule}");
            if ours != theirs {
                disagreements.push(format!(
                    "{rule} on {sql:?}: migrate {ours}, squawk {theirs}"
                ));
            }
        }
    }
    // CONCURRENTLY in a transaction: Squawk needs to be told the file runs in one.
    let concurrent = "CREATE INDEX CONCURRENTLY users_email_idx ON users (email);";
    for transactional in [true, false] {
        let ours = migrate_flags(concurrent, "pg-concurrently-in-transaction", transactional);
        let theirs = squawk_flags(
            scratch.path(),
            concurrent,
            &["ban-concurrent-index-creation-in-transaction"],
            transactional,
        );
        assert_eq!(ours, transactional);
        if ours != theirs {
            disagreements.push(format!("pg-concurrently-in-transaction (transactional {transactional}): migrate {ours}, squawk {theirs}"));
        }
    }
    assert!(disagreements.is_empty(), "{disagreements:#?}");
}

#[test]
fn alembic_revisions_are_read_for_their_op_execute_sql() {
    let (_tmp, root) = crate::alembic_cli::init("generic");
    crate::alembic_cli::alembic(&root, &["revision", "-m", "one", "--rev-id", "0001"]);
    let (code, out, err) = run(&root, &["lint", "--dialect", "postgres"]);
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    assert!(
        err.contains("note: 1 Alembic (Python) revision: only the literal SQL passed to op.execute() is linted"),
        "{err}"
    );
    let file = std::fs::read_dir(root.join("migrations/versions"))
        .expect("versions")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "py"))
        .expect("the revision module");
    let text = std::fs::read_to_string(&file).expect("read");
    let text = text.replacen(
        "    pass\n",
        "    op.execute(\"SET lock_timeout = '1s'\")\n    op.execute(\"CREATE INDEX users_email_idx ON users (email)\")\n",
        1,
    );
    std::fs::write(&file, &text).expect("write");
    let line = text
        .lines()
        .position(|l| l.contains("CREATE INDEX"))
        .expect("the call") as u64
        + 1;
    let (code, v) = json(&root, &["lint", "--dialect", "postgres"]);
    assert_eq!(code, 1);
    assert_eq!(v["op_execute_only"], serde_json::json!(["0001"]));
    let f = &v["findings"][0];
    assert_eq!(f["rule"], "pg-index-not-concurrent");
    assert_eq!(f["line"], line);
    assert_eq!(
        f["statement"],
        "CREATE INDEX users_email_idx ON users (email)"
    );
    assert_eq!(v["findings"].as_array().map(Vec::len), Some(1));
    let (_, out, _) = run(
        &root,
        &["lint", "--dialect", "postgres", "--format", "github"],
    );
    assert!(
        out.starts_with("::notice title=migrate lint::1 Alembic (Python) revisions: only the literal SQL passed to op.execute() is linted\n::error file="),
        "{out}"
    );
}

#[test]
fn hostile_sql_is_one_unparsed_finding_with_a_short_excerpt() {
    let deep = format!("SELECT {}1{};", "(".repeat(10_000), ")".repeat(10_000));
    let dir = two_revisions("postgres", true, &deep);
    let (code, list) = findings(dir.path(), &["--dialect", "postgres"]);
    assert_eq!(code, 1);
    assert_eq!(list.len(), 1, "{list:#?}");
    assert_eq!(list[0]["rule"], "unparsed-statement");
    let excerpt = list[0]["statement"].as_str().expect("excerpt");
    assert!(excerpt.chars().count() <= 120, "{excerpt}");
    assert!(list[0]["why"].as_str().expect("why").len() < 600);
}
