#!/usr/bin/env bash
# Graph commands (issue 2): migrate heads/check/history on synthetic graphs, Alembic beside.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec python3 tests/bench/graph_bench.py "$@"
