//! The autogenerate benchmark's Rust side, run by `tests/bench/autogen.sh`:
//! `MIGRATE_BENCH_PG_URL=... cargo test --release --test it autogen_bench -- --ignored`.
//!
//! Builds a 500-table schema (10 columns, 3 indexes, 2 foreign keys each) in the
//! given PostgreSQL database with our own renderer, then times introspection + diff.
//! With `MIGRATE_BENCH_CONSTRUCTS=1` every table also has a partial index, an
//! expression index, a descending index with NULLS LAST, a covering index (INCLUDE), a
//! check and a comment; 20 tables an enum column, a GIN index and an identity with
//! options; 20 views read them, 20 sequences beside them, and the last 20 tables are
//! in another schema.

use std::time::{Duration, Instant};

use migrate::core::Dialect;
use migrate::schema::introspect::{postgres, IntrospectOptions};
use migrate::schema::model::parse_models;
use migrate::schema::{diff, render_migration};
use sqlx::Connection;

/// The benchmark schema as models.yaml text; tests/bench/autogen_alembic.py declares
/// the same tables with SQLAlchemy.
pub fn bench_models(tables: usize, constructs: bool) -> String {
    let mut y = String::from("tables:\n");
    // With the constructs, the last 20 tables are in schema bench_other.
    let other = |i: usize| constructs && i + 20 >= tables;
    let qualified = |i: usize| {
        if other(i) {
            format!("bench_other.t{i}")
        } else {
            format!("t{i}")
        }
    };
    for i in 0..tables {
        let extra = if constructs {
            format!(
                "    comment: table {i}
    checks:
      - {{name: ck_t{i}_amount, expr: amount >= 0 AND amount < 1000000}}
",
            )
        } else {
            String::new()
        };
        let extra_indexes = if constructs {
            format!(
                "      - {{name: ix_t{i}_live, columns: [created_at], where: active AND note IS NULL}}
      - {{name: ix_t{i}_lower_name, expressions: [lower(name)]}}
      - {{name: ix_t{i}_recent, columns: [{{name: created_at, order: desc, nulls: last}}, id]}}
      - {{name: ix_t{i}_cover, columns: [code], include: [name]}}
{}",
                if i < 20 {
                    format!("      - {{name: ix_t{i}_payload, columns: [payload], using: gin}}\n")
                } else {
                    String::new()
                }
            )
        } else {
            String::new()
        };
        let status = if constructs && i < 20 {
            "      status: {type: \"enum(new, open, closed)\", nullable: false, default: new}\n"
        } else {
            ""
        };
        let a = if i >= 1 { i - 1 } else { tables - 1 };
        let b = if i >= 2 { i - 2 } else { tables - 2 + i };
        let (ra, rb) = (qualified(a), qualified(b));
        let schema = if other(i) {
            "    schema: bench_other\n"
        } else {
            ""
        };
        let id = if constructs && i < 20 {
            "{type: bigint, primary_key: true, identity: {generated: always, start: 100}}"
        } else {
            "{type: bigint, primary_key: true, autoincrement: true}"
        };
        y.push_str(&format!(
            "  t{i}:
{schema}    columns:
      id: {id}
      ref_a: {{type: bigint}}
      ref_b: {{type: bigint}}
      name: {{type: string(100), nullable: false}}
      code: {{type: string(20), nullable: false}}
      amount: {{type: \"numeric(12,2)\", nullable: false, default: 0}}
      active: {{type: boolean, nullable: false, default: true}}
      note: {{type: text}}
      created_at: {{type: timestamptz, nullable: false, default: now}}
      payload: {{type: json}}
{status}{extra}    indexes:
      - {{name: ix_t{i}_name, columns: [name]}}
      - {{name: ix_t{i}_code_created, columns: [code, created_at]}}
      - {{name: ux_t{i}_code, columns: [code], unique: true}}
{extra_indexes}    foreign_keys:
      - {{name: fk_t{i}_ref_a, columns: [ref_a], references: {ra}(id)}}
      - {{name: fk_t{i}_ref_b, columns: [ref_b], references: {rb}(id), on_delete: set null}}
"
        ));
    }
    if constructs {
        y.push_str("views:\n");
        for i in 0..20.min(tables) {
            y.push_str(&format!(
                "  v{i}: {{sql: \"SELECT id, name, amount FROM t{i} WHERE active = TRUE AND amount > 0\"}}\n"
            ));
        }
        y.push_str("sequences:\n");
        for i in 0..20 {
            y.push_str(&format!(
                "  seq{i}: {{start: {}, increment: 5}}\n",
                1000 * i + 1
            ));
        }
    }
    y
}

#[tokio::test]
#[ignore = "benchmark: run by tests/bench/autogen.sh"]
async fn autogen_bench() {
    let url = std::env::var("MIGRATE_BENCH_PG_URL").expect("MIGRATE_BENCH_PG_URL is set");
    let tables: usize = std::env::var("MIGRATE_BENCH_TABLES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(500);
    let runs: usize = std::env::var("MIGRATE_BENCH_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5);
    let constructs = std::env::var("MIGRATE_BENCH_CONSTRUCTS").is_ok_and(|v| v == "1");
    let text = bench_models(tables, constructs);
    let model = parse_models(&text, std::path::Path::new("bench-models.yaml")).expect("valid");
    let mut conn = sqlx::PgConnection::connect(&url).await.expect("connects");
    let opts = IntrospectOptions {
        schemas: model.schemas(),
        ..IntrospectOptions::default()
    };
    let existing = postgres::introspect(&mut conn, &opts)
        .await
        .expect("introspects");
    if existing.tables.is_empty() {
        let m = render_migration(Dialect::Postgres, &existing, &model);
        sqlx::raw_sql(sqlx::AssertSqlSafe(m.upgrade))
            .execute(&mut conn)
            .await
            .expect("the schema is created");
    }
    let mut times: Vec<Duration> = Vec::new();
    let mut intro_times: Vec<Duration> = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let db = postgres::introspect(&mut conn, &opts)
            .await
            .expect("introspects");
        let mid = Instant::now();
        let d = diff(
            &db.normalized_for(Dialect::Postgres),
            &model.normalized_for(Dialect::Postgres),
        );
        let end = Instant::now();
        assert_eq!(db.tables.len(), tables);
        assert_eq!(db.views.len(), if constructs { 20.min(tables) } else { 0 });
        assert!(
            d.is_empty(),
            "the schema matches its model: {:?}",
            d.changes.first()
        );
        times.push(end - start);
        intro_times.push(mid - start);
    }
    times.sort();
    intro_times.sort();
    let median = times[times.len() / 2];
    let intro = intro_times[intro_times.len() / 2];
    let what = if constructs {
        "with every new construct"
    } else {
        "plain"
    };
    println!(
        "| migrate (Rust): introspect + diff, {tables} tables, {what} | {:.3} | {:.3} | {:.3} |",
        median.as_secs_f64(),
        intro.as_secs_f64(),
        times[0].as_secs_f64()
    );
}
