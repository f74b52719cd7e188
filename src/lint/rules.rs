//! The catalogue of lint rules: id, severity, backend, why the statement is dangerous
//! and the safer way, with example SQL. Findings, `docs/lint.md` and the allow-list
//! check all read this one table.

use serde::Serialize;

use crate::core::Dialect;

/// How serious a finding is: an error fails `migrate lint` (exit 1), a warning is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One rule of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// The stable id used in findings and allow lists.
    pub id: &'static str,
    pub severity: Severity,
    /// The backend the rule is for; `None`: every backend.
    pub dialect: Option<Dialect>,
    /// One line: what the rule catches.
    pub summary: &'static str,
    /// Why it is dangerous.
    pub why: &'static str,
    /// The safer way, with example SQL.
    pub fix: &'static str,
}

macro_rules! rule {
    ($id:literal, $sev:ident, $dialect:expr, $summary:literal, $why:literal, $fix:literal) => {
        Rule {
            id: $id,
            severity: Severity::$sev,
            dialect: $dialect,
            summary: $summary,
            why: $why,
            fix: $fix,
        }
    };
}

const PG: Option<Dialect> = Some(Dialect::Postgres);
const MY: Option<Dialect> = Some(Dialect::Mysql);
const LITE: Option<Dialect> = Some(Dialect::Sqlite);

/// Every rule, in the order `docs/lint.md` lists them.
pub const RULES: &[Rule] = &[
    // PostgreSQL
    rule!("pg-index-not-concurrent", Error, PG,
        "CREATE INDEX without CONCURRENTLY on a table that existed before this revision",
        "a plain CREATE INDEX holds a SHARE lock for the whole build: every INSERT, UPDATE and DELETE on the table waits until the index is built",
        "build it concurrently in a revision with `transactional: false`: CREATE INDEX CONCURRENTLY users_email_idx ON users (email);"),
    rule!("pg-concurrently-in-transaction", Error, PG,
        "CONCURRENTLY in a transactional revision",
        "CREATE/DROP INDEX CONCURRENTLY and REINDEX CONCURRENTLY cannot run inside a transaction block: the revision fails when it runs",
        "set `transactional: false` on the revision (and keep the concurrent statement alone in it): CREATE INDEX CONCURRENTLY users_email_idx ON users (email);"),
    rule!("pg-add-column-not-null", Error, PG,
        "ADD COLUMN ... NOT NULL without a DEFAULT on an existing table",
        "existing rows have no value for the new column, so the statement fails on any table that has rows",
        "give the column a default (no rewrite for a constant default since PostgreSQL 11), or add it nullable and backfill: ALTER TABLE users ADD COLUMN status text NOT NULL DEFAULT 'active';"),
    rule!("pg-volatile-default", Error, PG,
        "ADD COLUMN with a volatile default (or serial, or a stored generated column) on an existing table",
        "a volatile default (random(), gen_random_uuid(), clock_timestamp(), nextval()) is computed per row, so the whole table is rewritten under an ACCESS EXCLUSIVE lock that blocks reads and writes",
        "add the column without the default, set the default for new rows, then backfill in batches: ALTER TABLE users ADD COLUMN token uuid; ALTER TABLE users ALTER COLUMN token SET DEFAULT gen_random_uuid(); UPDATE users SET token = gen_random_uuid() WHERE id BETWEEN 1 AND 10000;"),
    rule!("pg-column-type-change", Error, PG,
        "ALTER COLUMN ... TYPE on an existing table",
        "changing a column's type rewrites the table and its indexes under an ACCESS EXCLUSIVE lock (except a few binary-compatible changes such as widening varchar)",
        "add a new column of the new type, backfill it in batches, switch the application, then drop the old one: ALTER TABLE users ADD COLUMN id_new bigint;"),
    rule!("pg-set-not-null", Error, PG,
        "SET NOT NULL without a validated CHECK (column IS NOT NULL) constraint first",
        "SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock to prove there is no NULL; with a validated check constraint PostgreSQL 12+ skips the scan",
        "add the check NOT VALID, validate it (a weaker lock), then set NOT NULL and drop the check: ALTER TABLE users ADD CONSTRAINT users_email_nn CHECK (email IS NOT NULL) NOT VALID; ALTER TABLE users VALIDATE CONSTRAINT users_email_nn; ALTER TABLE users ALTER COLUMN email SET NOT NULL;"),
    rule!("pg-constraint-not-valid", Error, PG,
        "ADD CONSTRAINT (foreign key, check) without NOT VALID on an existing table",
        "adding a foreign key or check constraint validates every row while holding a lock that blocks writes (a foreign key also locks the referenced table)",
        "add it NOT VALID, then validate it in a separate statement, which allows writes: ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID; ALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk;"),
    rule!("pg-unique-without-index", Error, PG,
        "a UNIQUE or PRIMARY KEY constraint not built from a concurrently created index",
        "ADD CONSTRAINT ... UNIQUE (or PRIMARY KEY) builds its index under an ACCESS EXCLUSIVE lock that blocks reads and writes for the whole build",
        "build the unique index concurrently (transactional: false), then attach it: CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email); ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;"),
    rule!("pg-lock-timeout", Warning, PG,
        "a statement that takes a strong lock on an existing table with no lock_timeout set in the revision",
        "the statement queues behind any long-running transaction on the table, and every other query on the table queues behind it: one slow report can stop the application",
        "set a lock timeout at the top of the revision and retry on timeout: SET lock_timeout = '2s';"),
    rule!("pg-vacuum-full-cluster", Error, PG,
        "VACUUM FULL or CLUSTER in a revision",
        "VACUUM FULL and CLUSTER rewrite the whole table under an ACCESS EXCLUSIVE lock; VACUUM also cannot run inside a transaction",
        "run maintenance outside migrations, or use an online tool such as pg_repack: pg_repack --table users mydb"),
    rule!("pg-prefer-identity", Warning, PG,
        "serial/bigserial/smallserial column",
        "serial types create a separately owned sequence whose permissions and ownership must be managed by hand; identity columns are the SQL-standard replacement",
        "use an identity column: CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);"),
    rule!("pg-prefer-jsonb", Warning, PG,
        "json column",
        "json stores the text as written: it can't be indexed with GIN, has no equality operator and is re-parsed on every access",
        "use jsonb: ALTER TABLE events ADD COLUMN payload jsonb;"),
    // MySQL / MariaDB
    rule!("mysql-table-copy", Error, MY,
        "ALTER TABLE that can't use ALGORITHM=INSTANT or INPLACE (the table is copied)",
        "changing a column's type, the primary key or the character set, or asking for ALGORITHM=COPY, copies the whole table while writes are blocked",
        "state the algorithm so MySQL refuses instead of copying, and use an online schema change tool for copying changes: ALTER TABLE users ADD COLUMN nickname varchar(64), ALGORITHM=INSTANT; (or gh-ost / pt-online-schema-change)"),
    rule!("mysql-text-index-no-prefix", Error, MY,
        "an index on a TEXT or BLOB column without a prefix length",
        "MySQL refuses to index a TEXT/BLOB column without a prefix length (error 1170): the revision fails when it runs",
        "index a prefix of the column: CREATE INDEX posts_body_idx ON posts (body(191));"),
    rule!("mysql-several-ddl", Warning, MY,
        "several DDL statements in one revision",
        "MySQL commits implicitly after each DDL statement, so a failure in the middle leaves the revision half applied and not recorded: it can neither be re-run nor rolled back",
        "put each DDL statement in its own revision: ALTER TABLE users ADD COLUMN nickname varchar(64);"),
    // SQLite
    rule!("sqlite-unsupported-alter", Error, LITE,
        "an ALTER TABLE form SQLite does not support",
        "SQLite's ALTER TABLE only renames the table, renames, adds or drops a column, one change per statement; anything else is a syntax error when the revision runs",
        "rebuild the table: CREATE TABLE users_new (id INTEGER PRIMARY KEY, email TEXT NOT NULL); INSERT INTO users_new SELECT id, email FROM users; DROP TABLE users; ALTER TABLE users_new RENAME TO users;"),
    rule!("sqlite-add-column-restriction", Error, LITE,
        "ADD COLUMN with a PRIMARY KEY, UNIQUE, NOT NULL without a default, or a non-constant default",
        "SQLite refuses ADD COLUMN with PRIMARY KEY or UNIQUE, with NOT NULL and no non-NULL default, with a non-constant default (CURRENT_TIMESTAMP, an expression) or with a STORED generated column: the revision fails when it runs",
        "add the column with a constant default (or rebuild the table for the rest): ALTER TABLE users ADD COLUMN status TEXT NOT NULL DEFAULT 'active';"),
    rule!("sqlite-table-rebuild", Warning, LITE,
        "a table rebuild (copy into a new table, drop the old, rename)",
        "a rebuild copies every row while holding the database's write lock, and the old table's indexes, triggers and views are dropped with it; with foreign keys on, DROP TABLE deletes or fails on referencing rows",
        "follow SQLite's 12-step procedure: turn foreign keys off outside the transaction (transactional: false, PRAGMA foreign_keys = OFF), rebuild, recreate indexes and triggers, run PRAGMA foreign_key_check; then PRAGMA foreign_keys = ON;"),
    // Every backend
    rule!("drop-table", Warning, None,
        "DROP TABLE on a table that existed before this revision",
        "the table's rows are gone for good, and the running application still reading or writing it fails",
        "stop using the table in the application first, keep a backup, and drop it in a later revision: ALTER TABLE old_orders RENAME TO old_orders_unused; -- then, later: DROP TABLE old_orders_unused;"),
    rule!("drop-column", Warning, None,
        "DROP COLUMN on a table that existed before this revision",
        "the column's data is gone for good, and the running application still selecting or inserting it fails",
        "stop reading and writing the column in the application first (deploy), then drop it in a later revision: ALTER TABLE users DROP COLUMN legacy_flag;"),
    rule!("rename-table", Warning, None,
        "renaming a table that existed before this revision",
        "the running application still uses the old name and fails from the moment the revision commits until it is redeployed",
        "create the new table (or a view with the new name), migrate readers and writers, then drop the old name later: CREATE VIEW customers AS SELECT * FROM users;"),
    rule!("rename-column", Warning, None,
        "renaming a column of a table that existed before this revision",
        "the running application still uses the old column name and fails from the moment the revision commits until it is redeployed",
        "add the new column, write both, backfill, switch reads, then drop the old column later: ALTER TABLE users ADD COLUMN full_name text;"),
    rule!("empty-downgrade", Warning, None,
        "an empty downgrade on a revision whose upgrade is not empty",
        "a rollback through this revision reports success and changes nothing, so the objects the upgrade created stay behind (the template's forgotten downgrade)",
        "write the downgrade that undoes the upgrade, or remove the key to mark the revision irreversible: downgrade: DROP TABLE roles;"),
    rule!("unparsed-statement", Error, None,
        "a statement the SQL parser can't read",
        "the statement could not be checked, so nothing is known about what it locks or changes; it may also be a typo that fails when the revision runs",
        "check the statement's syntax for this backend; if it is valid SQL the parser does not know, silence it: -- migrate:allow unparsed-statement"),
];

/// The rule with `id`, if there is one.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}
