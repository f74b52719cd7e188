#!/usr/bin/env bash
# Applying revisions: 1,000 trivial revisions, one transaction each, applied by
# `migrate upgrade head` (whole process) against the same statements in the same
# transactions run by the database's own client (sqlite3, psql), and Alembic beside them
# when a Python venv with Alembic can be made.
#
# Prints a markdown section; `make bench` calls it. Options via environment:
#   N=1000 RUNS=7 MIGRATE=target/release/migrate PG_URL=postgres://postgres@127.0.0.1:5432
set -euo pipefail

N=${N:-1000}
RUNS=${RUNS:-7}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MIGRATE=${MIGRATE:-$ROOT/target/release/migrate}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

if [ ! -x "$MIGRATE" ]; then
  (cd "$ROOT" && cargo build --release --quiet)
fi

# --- the revisions, and the same SQL as plain scripts --------------------------------
mkdir -p "$WORK/proj/revisions" "$WORK/alembic/versions"
python3 - "$N" "$WORK" <<'PY'
import sys, os
n, work = int(sys.argv[1]), sys.argv[2]
raw = []
for i in range(1, n + 1):
    rid = f"r{i:05d}"
    down = "null" if i == 1 else f"r{i-1:05d}"
    stmt = f"CREATE TABLE t{i} (id INTEGER PRIMARY KEY, v INTEGER)"
    with open(f"{work}/proj/revisions/{rid}.yaml", "w") as f:
        f.write(f"revision: {rid}\ndown_revision: {down}\nmessage: step {i}\n"
                f"upgrade: {stmt};\ndowngrade: DROP TABLE t{i};\n")
    with open(f"{work}/alembic/versions/{rid}.py", "w") as f:
        d = "None" if i == 1 else repr(f"r{i-1:05d}")
        f.write(f"from alembic import op\nrevision = {rid!r}\ndown_revision = {d}\n"
                f"branch_labels = None\ndepends_on = None\n"
                f"def upgrade():\n    op.execute({stmt!r})\n"
                f"def downgrade():\n    op.execute('DROP TABLE t{i}')\n")
    raw.append(f"BEGIN;\n{stmt};\nCOMMIT;\n")
open(f"{work}/raw.sql", "w").write("".join(raw))
PY

now() { date +%s.%N; }
# One timed run of "$@" after the reset command in $RESET; fails loudly.
once() {
  eval "$RESET"
  local t0 t1
  t0=$(now)
  "$@" >/dev/null 2>"$WORK/last.err" || { echo "benchmark command failed: $* : $(tail -3 "$WORK/last.err")" >&2; exit 1; }
  t1=$(now)
  python3 -c "print(f'{$t1-$t0:.3f}')"
}
minimum() { python3 -c "import sys; print(f'{min(map(float, sys.argv[1:])):.3f}')" "$@"; }
# Runs migrate, the client with the revision SQL only, and the client with migrate's own
# `--sql` script, in turn RUNS times; sets M, R and S to the best times. Disk speed
# drifts and a run can pay for the writeback of the one before it, so the tools take
# turns and each round starts with a different one.
# With USE_ALEMBIC set, Alembic takes its turn in the same rounds (A).
trio() {
  local ms=() rs=() ss=() as=() order=(m r s)
  if [ -n "${USE_ALEMBIC:-}" ]; then order+=(a); fi
  local round tool
  for round in $(seq "$RUNS"); do
    for tool in "${order[@]:round%${#order[@]}}" "${order[@]:0:round%${#order[@]}}"; do
      case $tool in
        m) ms+=("$(once "${MCMD[@]}")") ;;
        r) rs+=("$(once "${RCMD[@]}")") ;;
        s) ss+=("$(once "${SCMD[@]}")") ;;
        a) as+=("$(once alembic_run)") ;;
      esac
    done
  done
  M=$(minimum "${ms[@]}"); R=$(minimum "${rs[@]}"); S=$(minimum "${ss[@]}")
  # Ratios are the median of each round's own ratio: tools in one round ran back to back,
  # so a slow patch of disk or server that lasts a few runs cancels out.
  MS=$(paired "${ms[*]}" "${ss[*]}"); MR=$(paired "${ms[*]}" "${rs[*]}")
  ROUNDS=$(python3 -c "import sys; a, b = (list(map(float, x.split())) for x in sys.argv[1:3]); print(', '.join(f'{x / y:.2f}' for x, y in zip(a, b)))" "${ms[*]}" "${ss[*]}")
  A=""; AM=""
  if [ -n "${USE_ALEMBIC:-}" ]; then A=$(minimum "${as[@]}"); AM=$(paired "${as[*]}" "${ms[*]}"); fi
}
# Median over rounds of (first list's time / second list's time), lists space-separated.
paired() {
  python3 -c "import sys, statistics as st; a, b = (list(map(float, x.split())) for x in sys.argv[1:3]); print(f'{st.median(x / y for x, y in zip(a, b)):.2f}')" "$1" "$2"
}

# --- Alembic (optional) ----------------------------------------------------------------
ALEMBIC=""
if [ -z "${SKIP_ALEMBIC:-}" ]; then
  VENV=${ALEMBIC_VENV:-$ROOT/target/bench-venv}
  if [ ! -x "$VENV/bin/alembic" ]; then
    (python3 -m venv "$VENV" && "$VENV/bin/pip" install -q alembic psycopg2-binary) >/dev/null 2>&1 || true
  fi
  if [ -x "$VENV/bin/alembic" ]; then
    ALEMBIC="$VENV/bin/alembic"
    cat > "$WORK/alembic/env.py" <<'PY'
from alembic import context
from sqlalchemy import create_engine
url = context.config.get_main_option("sqlalchemy.url")
with create_engine(url).connect() as connection:
    context.configure(connection=connection, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
PY
    printf '[alembic]\nscript_location = %s\n' "$WORK/alembic" > "$WORK/alembic.ini"
  fi
fi
alembic_run() { "$ALEMBIC" -c "$WORK/alembic.ini" upgrade head; }

echo "## Applying revisions"
echo
echo "$N trivial revisions (\`CREATE TABLE\`), one transaction each, whole-process wall time, best of $RUNS"
echo "rounds; the tools take turns, each round starting with a different one. Ratios are the median"
echo "of the rounds' own ratios (tools in one round ran back to back, so a slow patch of disk or"
echo "server lasting a few runs cancels out); the rounds' migrate / same ratios follow the table."
echo "*client, same statements* pipes \`migrate upgrade head --sql\` (each revision's SQL plus its"
echo "version-row and log statements, in the same \`BEGIN; ...; COMMIT;\` transactions) to the"
echo "database's own client; *client, revision SQL only* leaves the bookkeeping out."
echo
echo "| Backend | migrate upgrade head | client, same statements | migrate / same | client, revision SQL only | migrate / revision only | Alembic | Alembic / migrate |"
echo "|---|---|---|---|---|---|---|---|"

# --- SQLite --------------------------------------------------------------------------
DB=$WORK/bench.db
RESET="rm -f $DB"
"$MIGRATE" --revisions "$WORK/proj/revisions" upgrade head --sql --dialect sqlite > "$WORK/script_sqlite.sql"
MCMD=("$MIGRATE" --revisions "$WORK/proj/revisions" --database-url "sqlite://$DB" upgrade head)
RCMD=(sh -c "sqlite3 $DB < $WORK/raw.sql")
SCMD=(sh -c "sqlite3 -bail $DB < $WORK/script_sqlite.sql")
USE_ALEMBIC=""
if [ -n "$ALEMBIC" ]; then
  sed -i "/^sqlalchemy.url/d" "$WORK/alembic.ini"; echo "sqlalchemy.url = sqlite:///$DB" >> "$WORK/alembic.ini"
  USE_ALEMBIC=1
fi
trio; m=$M; r=$R; s=$S
a="n/a"; ar="n/a"
if [ -n "$A" ]; then ar="${AM}x"; a="$A s"; fi
echo "| SQLite | ${m} s | ${s} s (sqlite3) | $MS | ${r} s | $MR | ${a} | ${ar} |"
NOTES="- SQLite, migrate / same, by round: $ROUNDS"

# --- PostgreSQL ----------------------------------------------------------------------
if psql "$PG_URL/postgres" -Atqc 'select 1' >/dev/null 2>&1; then
  PGDB=migrate_bench_apply
  RESET="psql '$PG_URL/postgres' -qc 'DROP DATABASE IF EXISTS $PGDB' -c 'CREATE DATABASE $PGDB' >/dev/null 2>&1"
  "$MIGRATE" --revisions "$WORK/proj/revisions" upgrade head --sql --dialect postgres > "$WORK/script_pg.sql"
  MCMD=("$MIGRATE" --revisions "$WORK/proj/revisions" --database-url "$PG_URL/$PGDB" upgrade head)
  RCMD=(sh -c "psql -q -v ON_ERROR_STOP=1 '$PG_URL/$PGDB' < $WORK/raw.sql")
  SCMD=(sh -c "psql -q -v ON_ERROR_STOP=1 '$PG_URL/$PGDB' < $WORK/script_pg.sql")
  USE_ALEMBIC=""
  if [ -n "$ALEMBIC" ] && "$(dirname "$ALEMBIC")/python" -c 'import psycopg2' 2>/dev/null; then
    sed -i "/^sqlalchemy.url/d" "$WORK/alembic.ini"
    echo "sqlalchemy.url = postgresql+psycopg2://${PG_URL#postgres://}/$PGDB" >> "$WORK/alembic.ini"
    USE_ALEMBIC=1
  fi
  trio; m=$M; r=$R; s=$S
  a="n/a"; ar="n/a"
  if [ -n "$A" ]; then ar="${AM}x"; a="$A s"; fi
  echo "| PostgreSQL | ${m} s | ${s} s (psql) | $MS | ${r} s | $MR | ${a} | ${ar} |"
  NOTES="$NOTES
- PostgreSQL, migrate / same, by round: $ROUNDS"
  eval "psql '$PG_URL/postgres' -qc 'DROP DATABASE IF EXISTS $PGDB' >/dev/null 2>&1" || true
else
  echo "| PostgreSQL | skipped: server unreachable at $PG_URL | | | | | | |"
fi
echo
echo "$NOTES"
echo
