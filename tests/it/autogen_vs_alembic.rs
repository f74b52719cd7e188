//! `migrate`'s autogenerate side by side with Alembic's on the same database.
//!
//! One schema is built in a live PostgreSQL and a live MariaDB database (from the
//! models, with our renderer). Each change below is made to the models and to the
//! same schema declared with SQLAlchemy (tests/it/autogen_vs_alembic.py); Alembic's
//! `compare_metadata` (compare_type and compare_server_default on) and migrate's diff
//! are asked whether the database differs. The findings make the table in
//! docs/models.md ("Side by side with Alembic"): the test fails when the page says
//! otherwise, and `MIGRATE_UPDATE_DOCS=1` rewrites the table from what it found.

use std::path::Path;

use migrate::core::Dialect;
use migrate::schema::model::parse_models;
use migrate::schema::render_migration;

use super::autogen_support::Fresh;
use super::support::pyenv_tool;

const BASE: &str = "tables:
  t:
    comment: base comment
    columns:
      id: {type: integer, primary_key: true}
      email: {type: string(100), nullable: false, comment: mail}
      score: {type: integer, default: 0}
      status: {type: \"enum(new, done)\"}
      created_at: {type: timestamp, default: now}
      bio: text
    indexes:
      - {name: ix_t_email_live, columns: [email], where: score > 0}
      - {name: ix_t_lower_email, expressions: [lower(email)]}
      - {name: ix_t_email_hash, columns: [email], using: hash}
      - {name: ix_t_email_cover, columns: [email], include: [score]}
      - {name: ix_t_score_desc, columns: [{name: score, order: desc}]}
      - {name: ix_t_bio, columns: [{name: bio, length: 50}]}
    checks:
      - {name: ck_t_score, expr: score >= 0}
";

/// The indexes MariaDB can't hold, cut from its base.
const PG_INDEXES: &str = "      - {name: ix_t_email_live, columns: [email], where: score > 0}
      - {name: ix_t_lower_email, expressions: [lower(email)]}
      - {name: ix_t_email_hash, columns: [email], using: hash}
      - {name: ix_t_email_cover, columns: [email], include: [score]}
";

/// PostgreSQL's identity options, a sequence and a table in another schema.
const PG_MORE: &str = "  s:
    columns:
      id: {type: bigint, primary_key: true, identity: {generated: always, start: 10}}
  ledger:
    schema: billing
    columns:
      id: {type: integer, primary_key: true}
sequences:
  invoice_no: {start: 1000, increment: 1}
";

/// MariaDB's `ON UPDATE CURRENT_TIMESTAMP`, added to its base.
const MARIADB_COLUMN: &str = "      updated_at: {type: timestamp, default: now, on_update: now}\n";

struct Case {
    what: &'static str,
    /// Whether the database differs from the changed models (what a tool should say).
    differs: bool,
    /// The one backend that has the construct (`None`: both).
    only: Option<Dialect>,
    /// The edit to models.yaml (find, replace) ...
    edit: (&'static str, &'static str),
    /// ... and the same edit to the SQLAlchemy schema, as its parameters.
    alembic: &'static str,
}

const CASES: &[Case] = &[
    Case {
        what: "nothing changed",
        differs: false,
        only: None,
        edit: ("", ""),
        alembic: "{}",
    },
    Case {
        what: "check constraint: expression changed, same name",
        differs: true,
        only: None,
        edit: ("expr: score >= 0", "expr: score >= 1"),
        alembic: r#"{"check": "score >= 1"}"#,
    },
    Case {
        what: "server default changed (0 → 1)",
        differs: true,
        only: None,
        edit: ("default: 0}", "default: 1}"),
        alembic: r#"{"score_default": "1"}"#,
    },
    Case {
        what: "server default written differently (now() → CURRENT_TIMESTAMP)",
        differs: false,
        only: None,
        edit: ("default: now}", "default: {sql: CURRENT_TIMESTAMP}}"),
        alembic: r#"{"created_default": "CURRENT_TIMESTAMP"}"#,
    },
    Case {
        what: "enum: value added",
        differs: true,
        only: None,
        edit: ("enum(new, done)", "enum(new, done, gone)"),
        alembic: r#"{"enum": ["new", "done", "gone"]}"#,
    },
    Case {
        what: "enum: value removed",
        differs: true,
        only: None,
        edit: ("enum(new, done)", "enum(new)"),
        alembic: r#"{"enum": ["new"]}"#,
    },
    Case {
        what: "table comment changed",
        differs: true,
        only: None,
        edit: ("comment: base comment", "comment: new comment"),
        alembic: r#"{"table_comment": "new comment"}"#,
    },
    Case {
        what: "column comment changed",
        differs: true,
        only: None,
        edit: ("comment: mail}", "comment: e-mail}"),
        alembic: r#"{"email_comment": "e-mail"}"#,
    },
    Case {
        what: "view added (SQLAlchemy has no views: its schema unchanged)",
        differs: true,
        only: None,
        edit: ("    checks:", "    checks:"),
        alembic: "{}",
    },
    Case {
        what: "partial index: condition changed (PostgreSQL)",
        differs: true,
        only: Some(Dialect::Postgres),
        edit: ("where: score > 0", "where: score > 1"),
        alembic: r#"{"where": "score > 1"}"#,
    },
    Case {
        what: "expression index: expression changed (PostgreSQL)",
        differs: true,
        only: Some(Dialect::Postgres),
        edit: ("[lower(email)]", "[upper(email)]"),
        alembic: r#"{"expr": "upper(email)"}"#,
    },
    Case {
        what: "index sort order changed (desc → asc)",
        differs: true,
        only: None,
        edit: ("[{name: score, order: desc}]", "[score]"),
        alembic: r#"{"score_desc": false}"#,
    },
    Case {
        what: "index nulls order changed (PostgreSQL)",
        differs: true,
        only: Some(Dialect::Postgres),
        edit: ("order: desc}]", "order: desc, nulls: last}]"),
        alembic: r#"{"score_nulls_last": true}"#,
    },
    Case {
        what: "index method changed (hash → btree, PostgreSQL)",
        differs: true,
        only: Some(Dialect::Postgres),
        edit: ("using: hash", "using: btree"),
        alembic: r#"{"using": "btree"}"#,
    },
    Case {
        what: "index included columns changed (PostgreSQL)",
        differs: true,
        only: Some(Dialect::Postgres),
        edit: ("include: [score]", "include: [score, id]"),
        alembic: r#"{"include": ["score", "id"]}"#,
    },
    Case {
        what: "index prefix length changed (MariaDB)",
        differs: true,
        only: Some(Dialect::Mysql),
        edit: ("length: 50", "length: 100"),
        alembic: r#"{"bio_length": 100}"#,
    },
    Case {
        what: "on update CURRENT_TIMESTAMP removed (MariaDB)",
        differs: true,
        only: Some(Dialect::Mysql),
        edit: (", on_update: now}", "}"),
        alembic: r#"{"on_update": false}"#,
    },
    Case {
        what: "identity: generated always → by default (PostgreSQL)",
        differs: true,
        only: Some(Dialect::Postgres),
        edit: ("generated: always", "generated: by_default"),
        alembic: r#"{"identity_always": false}"#,
    },
    Case {
        what: "identity: start changed (PostgreSQL)",
        differs: true,
        only: Some(Dialect::Postgres),
        edit: ("start: 10}", "start: 20}"),
        alembic: r#"{"identity_start": 20}"#,
    },
    Case {
        what: "sequence: increment changed (PostgreSQL)",
        differs: true,
        only: Some(Dialect::Postgres),
        edit: ("increment: 1}", "increment: 5}"),
        alembic: r#"{"seq_increment": 5}"#,
    },
    Case {
        what: "sequence added (PostgreSQL)",
        differs: true,
        only: Some(Dialect::Postgres),
        edit: ("sequences:\n", "sequences:\n  order_no: {start: 1}\n"),
        alembic: r#"{"new_sequence": true}"#,
    },
    Case {
        what: "table in another schema: column added (PostgreSQL)",
        differs: true,
        only: Some(Dialect::Postgres),
        edit: (
            "    schema: billing\n    columns:\n",
            "    schema: billing\n    columns:\n      note: text\n",
        ),
        alembic: r#"{"ledger_note": true}"#,
    },
];

fn applies(case: &Case, dialect: Dialect) -> bool {
    case.only.is_none_or(|d| d == dialect)
}

fn base_for(dialect: Dialect) -> String {
    match dialect {
        Dialect::Postgres => format!("{BASE}{PG_MORE}"),
        _ => BASE.replace(PG_INDEXES, "").replacen(
            "      bio: text\n",
            &format!("      bio: text\n{MARIADB_COLUMN}"),
            1,
        ),
    }
}

fn changed(dialect: Dialect, case: &Case) -> String {
    let mut text = base_for(dialect);
    if !case.edit.0.is_empty() {
        assert!(text.contains(case.edit.0), "{}: edit applies", case.what);
        text = text.replacen(case.edit.0, case.edit.1, 1);
    }
    if case.what.starts_with("view added") {
        text.push_str("views:\n  busy: {sql: \"SELECT id, email FROM t WHERE score > 10\"}\n");
    }
    text
}

/// Per case: (Alembic found a difference, migrate found one); `None` when the
/// server is unreachable and skipping is allowed.
async fn findings(dialect: Dialect) -> Option<Vec<(bool, bool)>> {
    let fresh = Fresh::new(dialect)?;
    let mut live = fresh.connect().await;
    let base = parse_models(&base_for(dialect), Path::new("models.yaml")).expect("base model");
    let m = render_migration(dialect, &live.introspect().await, &base);
    live.exec(&m.upgrade).await;
    let db = live.introspect().await;
    let cases: Vec<&Case> = CASES.iter().filter(|c| applies(c, dialect)).collect();
    let mut ours = Vec::new();
    for c in &cases {
        let model = parse_models(&changed(dialect, c), Path::new("models.yaml"))
            .unwrap_or_else(|e| panic!("{}: {e}", c.what));
        ours.push(!render_migration(dialect, &db, &model).is_empty());
    }
    // Alembic, on the same database.
    let params: String = cases
        .iter()
        .map(|c| format!("{:?}: {}", c.what, c.alembic))
        .collect::<Vec<_>>()
        .join(", ");
    let url = match dialect {
        Dialect::Postgres => fresh
            .url
            .replacen("postgres://", "postgresql+psycopg2://", 1),
        _ => fresh.url.replacen("mysql://", "mysql+pymysql://", 1),
    };
    let sa_dialect = if dialect == Dialect::Postgres {
        "postgresql"
    } else {
        "mysql"
    };
    let out = std::process::Command::new(pyenv_tool("python"))
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/autogen_vs_alembic.py"))
        .arg(&url)
        .arg(sa_dialect)
        .arg(format!("{{{params}}}"))
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "alembic side failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("the alembic side prints JSON");
    if std::env::var_os("MIGRATE_SHOW_ALEMBIC").is_some() {
        eprintln!("{dialect}: {found:#}");
    }
    // What Alembic reports for the unchanged schema is noise, not a finding.
    let noise: Vec<String> = found["nothing changed"]
        .as_array()
        .expect("a list")
        .iter()
        .map(ToString::to_string)
        .collect();
    let mut rows = Vec::new();
    for (c, ours) in cases.iter().zip(ours) {
        let theirs = found[c.what]
            .as_array()
            .unwrap_or_else(|| panic!("{} in the alembic output", c.what))
            .iter()
            .any(|d| !noise.contains(&d.to_string()));
        let theirs = if c.what == "nothing changed" {
            !noise.is_empty()
        } else {
            theirs
        };
        rows.push((theirs, ours));
    }
    Some(rows)
}

fn mark(found: bool, differs: bool) -> &'static str {
    match (found, differs) {
        (true, true) => "detected",
        (false, false) => "no change (right)",
        (false, true) => "**missed**",
        (true, false) => "**false change**",
    }
}

#[tokio::test]
async fn autogenerate_beside_alembic_on_postgres_and_mariadb() {
    let Some(pg) = findings(Dialect::Postgres).await else {
        return;
    };
    let Some(my) = findings(Dialect::Mysql).await else {
        return;
    };
    let mut table = String::from(
        "| change | PostgreSQL: Alembic | PostgreSQL: migrate | MariaDB: Alembic | MariaDB: migrate |\n\
         | --- | --- | --- | --- | --- |\n",
    );
    let mut pg_rows = pg.iter();
    let mut my_rows = my.iter();
    for c in CASES {
        let mut cells = Vec::new();
        for (d, rows) in [
            (Dialect::Postgres, &mut pg_rows),
            (Dialect::Mysql, &mut my_rows),
        ] {
            if !applies(c, d) {
                cells.extend(["n/a".to_owned(), "n/a".to_owned()]);
                continue;
            }
            let (a, m) = rows.next().expect("a row per case that applies");
            cells.push(mark(*a, c.differs).to_owned());
            cells.push(mark(*m, c.differs).to_owned());
            // migrate gets every row right.
            assert_eq!(*m, c.differs, "{d}: migrate on '{}'", c.what);
        }
        table.push_str(&format!("| {} | {} |\n", c.what, cells.join(" | ")));
    }
    let doc_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/models.md");
    let doc = std::fs::read_to_string(&doc_path).expect("docs/models.md");
    let (start, end) = (
        "<!-- alembic-table:start -->\n",
        "<!-- alembic-table:end -->",
    );
    let (Some(a), Some(b)) = (doc.find(start), doc.find(end)) else {
        panic!("docs/models.md has no {start:?} ... {end:?} section");
    };
    let current = &doc[a + start.len()..b];
    if std::env::var_os("MIGRATE_UPDATE_DOCS").is_some() {
        let new = format!("{}{table}{}", &doc[..a + start.len()], &doc[b..]);
        std::fs::write(&doc_path, new).expect("docs/models.md written");
    } else {
        assert_eq!(
            current, table,
            "docs/models.md's table differs from the findings; rerun with MIGRATE_UPDATE_DOCS=1"
        );
    }
}
