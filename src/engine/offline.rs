//! `--sql`: the script a plan would run, version-table and log statements included,
//! rendered without a connection. It walks the same [`Plan`] and uses the same statement
//! splitting and SQL selection as the executor.

use crate::core::{Dialect, Plan, RevisionGraph};
use crate::db::split::split_statements;
use crate::db::{
    comment, log_insert_sql, mysql, postgres, sqlite, version_op_sql, LogEntry, StartedAt, Tables,
};

use super::prepare::prepare;
use super::EngineError;

/// What the script is for.
#[derive(Debug, Clone)]
pub struct OfflineOptions {
    pub dialect: Dialect,
    pub tables: Tables,
    /// Emit `CREATE TABLE` for the version and log tables (the range starts at base).
    pub create_tables: bool,
}

/// Renders the plan as one SQL script for `options.dialect`.
pub fn render(
    graph: &RevisionGraph,
    plan: &Plan,
    options: &OfflineOptions,
) -> Result<String, EngineError> {
    let d = options.dialect;
    let prepared = prepare(graph, plan, d)?;
    let book = match d {
        Dialect::Sqlite => sqlite::book_sql(&options.tables),
        Dialect::Postgres => postgres::book_sql(&options.tables),
        Dialect::Mysql => mysql::book_sql(&options.tables),
    };
    let mut out = String::new();
    out.push_str(&format!(
        "-- migrate {} offline script for {d}\n",
        env!("CARGO_PKG_VERSION")
    ));
    if options.create_tables {
        out.push_str(&format!(
            "\n{};\n\n{};\n",
            book.create_version, book.create_log
        ));
    }
    let begin = if d == Dialect::Mysql {
        "START TRANSACTION"
    } else {
        "BEGIN"
    };
    for p in &prepared {
        out.push('\n');
        out.push_str(&comment(&format!(
            "Running {} {}",
            p.step.direction.name(),
            p.label
        )));
        if p.transactional {
            out.push_str(&format!("{begin};\n"));
        }
        if let Some(sql) = super::step_sql(graph, p.step, d)? {
            for st in split_statements(sql, d) {
                out.push_str(&st.text);
                out.push_str(";\n");
            }
        }
        for op in &p.step.version_ops {
            out.push_str(&version_op_sql(op, &options.tables.version, d));
            out.push_str(";\n");
        }
        let entry = LogEntry {
            revision: p.id.clone(),
            direction: p.step.direction,
            started_at: chrono::DateTime::UNIX_EPOCH,
            duration_ms: 0,
            success: Some(true),
            checksum: p.checksum.clone(),
            applied_by: "offline script".to_owned(),
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            git_commit: None,
            error: None,
        };
        out.push_str(&log_insert_sql(
            &options.tables.log,
            d,
            &entry,
            StartedAt::Now,
            "0",
        ));
        out.push_str(";\n");
        if p.transactional {
            out.push_str("COMMIT;\n");
        }
    }
    Ok(out)
}
