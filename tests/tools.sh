#!/usr/bin/env bash
# Installs the Python tools the tests compare migrate against into one virtualenv,
# target/pyenv, from the package index: Alembic (the oracle for Alembic behaviour),
# SQLAlchemy, the PostgreSQL and MySQL drivers Alembic needs to talk to the test
# servers, Squawk (the PostgreSQL migration linter), and pytest with pytest-alembic
# (the stairway benchmark runs its test_up_down_consistency). Versions are pinned so the
# byte-for-byte comparisons do not drift. Idempotent: a complete venv is left alone.
# Exits non-zero, loudly, if the venv can't be made.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${MIGRATE_PYENV:-$ROOT/target/pyenv}
PKGS=(alembic==1.20.1 "sqlalchemy>=2.0,<2.1" psycopg2-binary pymysql squawk-cli==2.70.0 pytest==9.2.0 pytest-alembic==0.13.1)
STAMP="$VENV/.installed"
want="${PKGS[*]}"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && [ -x "$VENV/bin/alembic" ]; then
  exit 0
fi
echo "tools.sh: installing ${PKGS[*]} into $VENV" >&2
command -v python3 >/dev/null || { echo "tools.sh: python3 is missing" >&2; exit 1; }
if ! python3 -m venv "$VENV" >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >&2
    python3 -m venv "$VENV"
  else
    echo "tools.sh: python3 -m venv failed; install python3-venv" >&2; exit 1
  fi
fi
"$VENV/bin/pip" install -q --disable-pip-version-check "${PKGS[@]}" >&2
"$VENV/bin/alembic" --version >&2
echo "$want" > "$STAMP"
