#!/usr/bin/env bash
# Autogenerate benchmark: introspection + diff of a 500-table PostgreSQL schema
# (10 columns, 3 indexes, 2 foreign keys each), beside Alembic's compare_metadata on
# the same schema. Prints a markdown section. Needs PostgreSQL at 127.0.0.1:5432
# (user postgres, trust) and python3; Alembic comes from PyPI into a venv in target/.
set -euo pipefail
cd "$(dirname "$0")/../.."

export PGOPTIONS="-c client_min_messages=warning"
PG_ADMIN=${MIGRATE_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres}
DB=migrate_bench_autogen
export MIGRATE_BENCH_PG_URL="${PG_ADMIN%/*}/$DB"
export MIGRATE_BENCH_TABLES=${MIGRATE_BENCH_TABLES:-500}
export MIGRATE_BENCH_RUNS=${MIGRATE_BENCH_RUNS:-5}

DB2=migrate_bench_autogen_constructs
for d in $DB $DB2; do
  psql "$PG_ADMIN" -qX -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" -c "CREATE DATABASE $d" >/dev/null
done
trap 'for d in $DB $DB2; do psql "$PG_ADMIN" -qX -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1 || true; done' EXIT

echo "## Autogenerate"
echo
echo "PostgreSQL, $MIGRATE_BENCH_TABLES tables × (10 columns, 3 indexes, 2 foreign keys); median of $MIGRATE_BENCH_RUNS runs, seconds. Target: ≤ 2 s. \"With every new construct\": each table also has a partial index, an expression index, a descending index with NULLS LAST, a covering index (INCLUDE), a check and a comment; 20 tables an enum column, a GIN index and an identity column with options; 20 views, 20 sequences, and the last 20 tables in another schema (target: within 2× of plain). Alembic runs on the plain schema."
echo
echo "| tool | median (s) | of which introspection (s) | best (s) |"
echo "| --- | ---: | ---: | ---: |"
# The Rust side creates the schema (with our renderer) on its first run, then times.
mkdir -p target
LOG=target/bench-autogen.log
if ! cargo test -q --release --test it autogen_bench -- --ignored --nocapture --test-threads=1 \
  >"$LOG" 2>&1; then
  echo "the Rust side failed; see $LOG:" >&2
  tail -20 "$LOG" >&2
  exit 1
fi
grep '^| migrate' "$LOG"
if ! MIGRATE_BENCH_CONSTRUCTS=1 MIGRATE_BENCH_PG_URL="${PG_ADMIN%/*}/$DB2" \
  cargo test -q --release --test it autogen_bench -- --ignored --nocapture --test-threads=1 \
  >"$LOG" 2>&1; then
  echo "the Rust side (with constructs) failed; see $LOG:" >&2
  tail -20 "$LOG" >&2
  exit 1
fi
grep '^| migrate' "$LOG"

VENV=target/bench-venv
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q alembic sqlalchemy psycopg2-binary
fi
"$VENV/bin/python" tests/bench/autogen_alembic.py
