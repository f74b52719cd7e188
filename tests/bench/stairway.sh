#!/usr/bin/env bash
# The stairway (`migrate test`): every revision up, down and up again on a scratch SQLite
# database, on the example project and on N trivial revisions (each creates a table,
# its downgrade drops it), beside pytest-alembic's `test_up_down_consistency` on the
# equivalent Alembic project (the same SQL through `op.execute`, a SQLite file).
#
# pytest-alembic's walk reloads the revisions at every step, so it is timed on SMALL
# revisions and on N only up to PA_TIMEOUT seconds.
#
# Prints a markdown section; `make bench` calls it. Options via environment:
#   N=1000 SMALL=100 RUNS=3 PA_TIMEOUT=600 MIGRATE=target/release/migrate MIGRATE_PYENV=target/pyenv
set -euo pipefail

N=${N:-1000}
SMALL=${SMALL:-100}
RUNS=${RUNS:-3}
PA_TIMEOUT=${PA_TIMEOUT:-600}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MIGRATE=${MIGRATE:-$ROOT/target/release/migrate}
PYENV=${MIGRATE_PYENV:-$ROOT/target/pyenv}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

if [ ! -x "$MIGRATE" ]; then
  (cd "$ROOT" && cargo build --release --quiet)
fi

# --- the projects ---------------------------------------------------------------------
mkdir -p "$WORK/example"
cp -r "$ROOT/revisions" "$WORK/example/revisions"
for size in "$SMALL" "$N"; do
mkdir -p "$WORK/$size/trivial/revisions" "$WORK/$size/alembic/versions"
python3 - "$size" "$WORK/$size" <<'PY'
import sys
n, work = int(sys.argv[1]), sys.argv[2]
for i in range(1, n + 1):
    rid = f"r{i:05d}"
    down = "null" if i == 1 else f"r{i-1:05d}"
    up = f"CREATE TABLE t{i} (id INTEGER PRIMARY KEY, v INTEGER)"
    with open(f"{work}/trivial/revisions/{rid}.yaml", "w") as f:
        f.write(f"revision: {rid}\ndown_revision: {down}\nmessage: step {i}\n"
                f"upgrade: {up};\ndowngrade: DROP TABLE t{i};\n")
    with open(f"{work}/alembic/versions/{rid}.py", "w") as f:
        d = "None" if i == 1 else repr(f"r{i-1:05d}")
        f.write(f"from alembic import op\nrevision = {rid!r}\ndown_revision = {d}\n"
                f"branch_labels = None\ndepends_on = None\n"
                f"def upgrade():\n    op.execute({up!r})\n"
                f"def downgrade():\n    op.execute('DROP TABLE t{i}')\n")
open(f"{work}/alembic/alembic.ini", "w").write(
    "[alembic]\nscript_location = %(here)s\nsqlalchemy.url = sqlite:///unused.db\n")
open(f"{work}/alembic/env.py", "w").write('''
from alembic import context
from sqlalchemy import engine_from_config, pool
from sqlalchemy.engine import Connection

config = context.config
# pytest-alembic hands over its engine (or a connection) in the config's attributes.
connectable = config.attributes.get("connection") or engine_from_config(
    config.get_section(config.config_ini_section), prefix="sqlalchemy.", poolclass=pool.NullPool)

def run(connection):
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()

if isinstance(connectable, Connection):
    run(connectable)
else:
    with connectable.connect() as connection:
        run(connection)
''')
# pytest-alembic on a SQLite file, as migrate uses one.
open(f"{work}/alembic/conftest.py", "w").write('''
import pytest
import sqlalchemy

@pytest.fixture
def alembic_engine(tmp_path):
    return sqlalchemy.create_engine(f"sqlite:///{tmp_path}/scratch.db")
''')
open(f"{work}/alembic/test_stairway.py", "w").write(
    "from pytest_alembic.tests import test_up_down_consistency  # noqa: F401\n")
PY
done

now() { date +%s.%N; }
# Best of RUNS whole-process times of "$@" in directory $1; fails loudly.
best() {
  local dir=$1; shift
  local b="" t0 t1 t
  for _ in $(seq "$RUNS"); do
    t0=$(now)
    (cd "$dir" && "$@") >/dev/null 2>"$WORK/last.err" || {
      echo "benchmark command failed in $dir: $* : $(tail -5 "$WORK/last.err")" >&2; exit 1; }
    t1=$(now)
    t=$(python3 -c "print(f'{$t1-$t0:.3f}')")
    if [ -z "$b" ] || python3 -c "import sys; sys.exit(0 if $t < $b else 1)"; then b=$t; fi
  done
  echo "$b"
}
fmt() { python3 -c "import sys; v=float(sys.argv[1]); print(f'{v*1000:.0f} ms' if v < 10 else f'{v:.1f} s')" "$1"; }

have_pa=""
if [ -x "$PYENV/bin/pytest" ] && "$PYENV/bin/python" -c "import pytest_alembic" 2>/dev/null; then
  have_pa=1
fi
# pytest-alembic once, cut off after PA_TIMEOUT seconds (then "> PA_TIMEOUT s").
pytest_alembic() {
  local dir=$1 t0 t1
  t0=$(now)
  if (cd "$dir" && timeout "$PA_TIMEOUT" "$PYENV/bin/pytest" -q -p no:cacheprovider test_stairway.py) >/dev/null 2>"$WORK/last.err"; then
    t1=$(now)
    fmt "$(python3 -c "print($t1-$t0)")"
  elif [ $? -eq 124 ]; then
    echo "> $PA_TIMEOUT s (cut off)"
  else
    echo "pytest-alembic failed in $dir: $(tail -5 "$WORK/last.err")" >&2; exit 1
  fi
}

(cd "$WORK/example" && "$MIGRATE" heads >/dev/null)
ex=$(best "$WORK/example" "$MIGRATE" test)
exd=$(best "$WORK/example" "$MIGRATE" test --data)
declare -A mt pa
for size in "$SMALL" "$N"; do
  (cd "$WORK/$size/trivial" && "$MIGRATE" heads >/dev/null)
  mt[$size]=$(fmt "$(best "$WORK/$size/trivial" "$MIGRATE" test)")
  if [ -n "$have_pa" ]; then
    pa[$size]=$(pytest_alembic "$WORK/$size/alembic")
  else
    pa[$size]="(not installed: run tests/tools.sh)"
  fi
done

echo "## The stairway: \`migrate test\` (issue 11)"
echo
echo "Each revision upgraded, downgraded and upgraded again on a scratch SQLite file, the schema compared after each downgrade (best of $RUNS, whole process). *trivial*: $SMALL and $N revisions in a chain, each creating a table that its downgrade drops. pytest-alembic: \`test_up_down_consistency\` (pytest-alembic $("$PYENV/bin/python" -c 'import importlib.metadata as m; print(m.version("pytest-alembic"))' 2>/dev/null || echo '?'), Alembic $("$PYENV/bin/python" -c 'import importlib.metadata as m; print(m.version("alembic"))' 2>/dev/null || echo '?')) on the same revisions as an Alembic project (\`op.execute\` of the same SQL), on a SQLite file, run once; it walks up and down but compares no schema."
echo
echo "| project | revisions | migrate test | migrate test --data | pytest-alembic | target |"
echo "|---|---:|---:|---:|---:|---|"
echo "| example (revisions/) | 10 | $(fmt "$ex") | $(fmt "$exd") |  | ≤ 1 s |"
echo "| trivial | $SMALL | ${mt[$SMALL]} |  | ${pa[$SMALL]} |  |"
echo "| trivial | $N | ${mt[$N]} |  | ${pa[$N]} | ≤ 20 s |"
echo
