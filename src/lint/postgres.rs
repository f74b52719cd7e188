//! PostgreSQL rules: locks that stop a hot table (indexes without `CONCURRENTLY`,
//! rewrites, full scans under `ACCESS EXCLUSIVE`), statements that can't run in a
//! transaction, and the modern type choices.

use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, ColumnDef, ColumnOption, DataType, Expr,
    GeneratedAs, GeneratedExpressionMode, ObjectType, Statement, TableConstraint,
};

use super::{Direction, Hit, StatementCtx};
use crate::sql::{ident, object_name};

/// Functions whose value differs per row: a default calling one rewrites the table.
const VOLATILE: &[&str] = &[
    "random",
    "gen_random_uuid",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "uuidv4",
    "uuidv7",
    "clock_timestamp",
    "timeofday",
    "nextval",
    "txid_current",
];

const SERIAL: &[&str] = &[
    "serial",
    "serial2",
    "serial4",
    "serial8",
    "smallserial",
    "bigserial",
];

/// The PostgreSQL rules on one parsed statement.
pub fn check(ctx: &StatementCtx) -> Vec<Hit> {
    let mut hits = Vec::new();
    let upgrade = ctx.direction == Direction::Upgrade;
    match ctx.statement {
        Statement::CreateIndex(index) => {
            let table = object_name(&index.table_name);
            if index.concurrently && ctx.transactional {
                hits.push(in_transaction("CREATE INDEX CONCURRENTLY"));
            }
            if upgrade && !index.concurrently && ctx.existing(&table) {
                hits.push(Hit::new(
                    "pg-index-not-concurrent",
                    format!("CREATE INDEX on {table}, which existed before this revision, without CONCURRENTLY"),
                ));
            }
            if upgrade {
                lock_timeout(ctx, &table, !index.concurrently, &mut hits);
            }
        }
        Statement::CreateTable(create) if upgrade => {
            for c in &create.columns {
                types(
                    &c.data_type,
                    &object_name(&create.name),
                    &ident(&c.name),
                    &mut hits,
                );
            }
        }
        Statement::AlterTable(alter) if upgrade => {
            let table = object_name(&alter.name);
            let existing = ctx.existing(&table);
            for op in &alter.operations {
                alter_op(ctx, &table, existing, op, &mut hits);
            }
            lock_timeout(ctx, &table, true, &mut hits);
        }
        Statement::Drop {
            object_type: ObjectType::Table,
            names,
            ..
        } if upgrade => {
            if let Some(n) = names.first() {
                lock_timeout(ctx, &object_name(n), true, &mut hits);
            }
        }
        Statement::Truncate(t) if upgrade => {
            if let Some(target) = t.table_names.first() {
                lock_timeout(ctx, &object_name(&target.name), true, &mut hits);
            }
        }
        Statement::Vacuum(v) if v.full => hits.push(Hit::new(
            "pg-vacuum-full-cluster",
            "VACUUM FULL rewrites the table",
        )),
        _ => {}
    }
    hits
}

/// Rules for a statement the parser can't read, recognised by its leading keywords
/// (sqlparser does not parse `CLUSTER` or `REINDEX`). `None`: not one of these.
pub fn check_unparsed(words: &[String], transactional: bool) -> Option<Vec<Hit>> {
    let w = |i: usize| words.get(i).map(String::as_str);
    match (w(0), w(1)) {
        (Some("CLUSTER"), _) => Some(vec![Hit::new(
            "pg-vacuum-full-cluster",
            "CLUSTER rewrites the table",
        )]),
        (Some("VACUUM"), Some("FULL")) => Some(vec![Hit::new(
            "pg-vacuum-full-cluster",
            "VACUUM FULL rewrites the table",
        )]),
        (Some("REINDEX"), _) if words.iter().any(|x| x == "CONCURRENTLY") => Some(
            transactional
                .then(|| in_transaction("REINDEX CONCURRENTLY"))
                .into_iter()
                .collect(),
        ),
        (Some("DROP"), Some("INDEX")) if w(2) == Some("CONCURRENTLY") => Some(
            transactional
                .then(|| in_transaction("DROP INDEX CONCURRENTLY"))
                .into_iter()
                .collect(),
        ),
        _ => None,
    }
}

fn in_transaction(what: &str) -> Hit {
    Hit::new(
        "pg-concurrently-in-transaction",
        format!("{what} in a revision that runs in a transaction"),
    )
}

/// `pg-lock-timeout`, once per script: a locking statement on an existing table before
/// any `SET lock_timeout`.
fn lock_timeout(ctx: &StatementCtx, table: &str, locks: bool, hits: &mut Vec<Hit>) {
    if locks && ctx.existing(table) && !ctx.state.lock_timeout && !ctx.state.lock_timeout_reported {
        hits.push(Hit::new(
            "pg-lock-timeout",
            format!("this statement locks {table}, and no lock_timeout is set before it in the revision"),
        ));
    }
}

fn alter_op(
    ctx: &StatementCtx,
    table: &str,
    existing: bool,
    op: &AlterTableOperation,
    hits: &mut Vec<Hit>,
) {
    match op {
        AlterTableOperation::AddColumn { column_def, .. } => {
            types(&column_def.data_type, table, &ident(&column_def.name), hits);
            if existing {
                add_column(table, column_def, hits);
            }
        }
        AlterTableOperation::AlterColumn { column_name, op } if existing => {
            let column = ident(column_name);
            match op {
                AlterColumnOperation::SetDataType { data_type, .. } => {
                    types(data_type, table, &column, hits);
                    hits.push(Hit::new(
                        "pg-column-type-change",
                        format!("the type of {table}.{column} changes to {data_type}"),
                    ));
                }
                AlterColumnOperation::SetNotNull => {
                    let checked = ctx
                        .known
                        .table(table)
                        .is_some_and(|t| t.not_null_checked.contains(&column));
                    if !checked {
                        hits.push(Hit::new(
                            "pg-set-not-null",
                            format!("SET NOT NULL on {table}.{column} with no validated CHECK ({column} IS NOT NULL) before it"),
                        ));
                    }
                }
                _ => {}
            }
        }
        AlterTableOperation::AddConstraint {
            constraint,
            not_valid,
        } if existing => match constraint {
            TableConstraint::ForeignKey(fk) if !not_valid => hits.push(Hit::new(
                "pg-constraint-not-valid",
                format!(
                    "a foreign key from {table} to {} is added without NOT VALID",
                    object_name(&fk.foreign_table)
                ),
            )),
            TableConstraint::Check(_) if !not_valid => hits.push(Hit::new(
                "pg-constraint-not-valid",
                format!("a check constraint on {table} is added without NOT VALID"),
            )),
            TableConstraint::Unique(_) => hits.push(Hit::new(
                "pg-unique-without-index",
                format!(
                    "ADD CONSTRAINT ... UNIQUE on {table} builds its index under an exclusive lock"
                ),
            )),
            TableConstraint::PrimaryKey(_) => hits.push(Hit::new(
                "pg-unique-without-index",
                format!("ADD PRIMARY KEY on {table} builds its index under an exclusive lock"),
            )),
            _ => {}
        },
        _ => {}
    }
}

/// ADD COLUMN on an existing table: NOT NULL without a default, volatile defaults,
/// inline constraints that scan or build an index.
fn add_column(table: &str, column: &ColumnDef, hits: &mut Vec<Hit>) {
    let name = ident(&column.name);
    let type_name = column.data_type.to_string().to_lowercase();
    let serial = SERIAL.contains(&type_name.as_str());
    let mut not_null = false;
    let mut has_default = serial;
    for option in &column.options {
        match &option.option {
            ColumnOption::NotNull | ColumnOption::PrimaryKey(_) => not_null = true,
            ColumnOption::Default(expr) => {
                has_default = true;
                if let Some(f) = volatile_call(expr) {
                    hits.push(Hit::new(
                        "pg-volatile-default",
                        format!("{table}.{name} is added with the volatile default {f}()"),
                    ));
                }
            }
            ColumnOption::Generated {
                generated_as,
                generation_expr,
                generation_expr_mode,
                ..
            } => {
                has_default = true;
                let stored = generation_expr.is_some()
                    && (matches!(
                        generation_expr_mode,
                        Some(GeneratedExpressionMode::Stored) | None
                    ) || matches!(generated_as, GeneratedAs::ExpStored));
                if stored {
                    hits.push(Hit::new(
                        "pg-volatile-default",
                        format!("{table}.{name} is added as a stored generated column"),
                    ));
                } else if generation_expr.is_none() {
                    // An identity column fills every row from its sequence.
                    hits.push(Hit::new(
                        "pg-volatile-default",
                        format!("{table}.{name} is added as an identity column, filled per row"),
                    ));
                }
            }
            ColumnOption::ForeignKey(fk) => hits.push(Hit::new(
                "pg-constraint-not-valid",
                format!(
                    "{table}.{name} is added with a foreign key to {}, validated at once",
                    object_name(&fk.foreign_table)
                ),
            )),
            ColumnOption::Unique(_) => hits.push(Hit::new(
                "pg-unique-without-index",
                format!(
                    "{table}.{name} is added UNIQUE, building its index under an exclusive lock"
                ),
            )),
            _ => {}
        }
    }
    if serial {
        hits.push(Hit::new(
            "pg-volatile-default",
            format!(
                "{table}.{name} is added as {type_name}, whose nextval() default fills every row"
            ),
        ));
    }
    if not_null && !has_default {
        hits.push(Hit::new(
            "pg-add-column-not-null",
            format!("{table}.{name} is added NOT NULL without a default"),
        ));
    }
}

/// `serial` and `json` columns, wherever a type is written.
fn types(data_type: &DataType, table: &str, column: &str, hits: &mut Vec<Hit>) {
    let name = data_type.to_string().to_lowercase();
    if SERIAL.contains(&name.as_str()) {
        hits.push(Hit::new(
            "pg-prefer-identity",
            format!("{table}.{column} is {name}"),
        ));
    } else if name == "json" || name == "json[]" {
        hits.push(Hit::new(
            "pg-prefer-jsonb",
            format!("{table}.{column} is {name}"),
        ));
    }
}

/// The first volatile function `expr` calls, if any (by the parser's rendering of the
/// expression: a name followed by `(`).
fn volatile_call(expr: &Expr) -> Option<&'static str> {
    let text = expr.to_string().to_lowercase();
    VOLATILE.iter().copied().find(|f| {
        text.match_indices(f).any(|(at, _)| {
            let before_ok = at == 0 || {
                let b = text.as_bytes()[at - 1];
                !(b.is_ascii_alphanumeric() || b == b'_')
            };
            let after = text[at + f.len()..].trim_start();
            before_ok && after.starts_with('(')
        })
    })
}
