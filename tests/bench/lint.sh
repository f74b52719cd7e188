#!/usr/bin/env bash
# Benchmark: `migrate lint` on N revisions (default 10000) of PostgreSQL SQL in one
# chain, against Squawk (squawk-cli, from the pyenv) on the same upgrade SQL as one
# .sql file per revision, in the same run. Prints a markdown section for
# docs/benchmarks.md; each time is the median of RUNS runs (default 3) of the whole
# process, after one untimed warm-up run (files in the page cache, the revision cache
# written).
set -euo pipefail

N=${LINT_BENCH_N:-10000}
RUNS=${LINT_BENCH_RUNS:-3}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
MIGRATE=${MIGRATE:-$TARGET/release/migrate}
SQUAWK=${MIGRATE_PYENV:-$ROOT/target/pyenv}/bin/squawk
export NO_COLOR=1

[ -n "${MIGRATE_SKIP_BUILD:-}" ] || cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml"
[ -x "$SQUAWK" ] || { echo "squawk missing at $SQUAWK: run tests/tools.sh" >&2; exit 1; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
python3 "$ROOT/tests/bench/gen_lint.py" "$N" "$WORK/p"
cd "$WORK/p"

median() {
    local walls=() cpus=() out
    "$@" > /dev/null 2>&1 || true
    for _ in $(seq "$RUNS"); do
        /usr/bin/time -o "$WORK/time" -f "%e %U %S" "$@" > /dev/null 2> /dev/null || true
        out=$(tail -1 "$WORK/time")
        walls+=("$(echo "$out" | awk '{print $1}')")
        cpus+=("$(echo "$out" | awk '{print $2 + $3}')")
    done
    local w c
    w=$(printf '%s\n' "${walls[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]}')
    c=$(printf '%s\n' "${cpus[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]}')
    echo "$w | $c"
}

ours=$(median "$MIGRATE" lint --format json)
found=$( ("$MIGRATE" lint --format json 2>/dev/null || true) | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["findings"]))')
theirs=$(median "$SQUAWK" --reporter json 'sql/*.sql')
theirs_found=$( ("$SQUAWK" --reporter json 'sql/*.sql' 2>/dev/null || true) | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' || echo "?")
version=$("$SQUAWK" --version | awk '{print $2}')

cat <<MD
## Lint (issue 11)

\`migrate lint\` on $N revisions of PostgreSQL SQL in one chain (tables, indexes,
columns, constraints, updates; \`tests/bench/gen_lint.py\`), against Squawk $version on
the same upgrade SQL as $N \`.sql\` files, same run. Median of $RUNS runs after a warm-up.

| tool | wall s | cpu s | findings |
|---|---|---|---|
| \`migrate lint --format json\` | $ours | $found |
| \`squawk --reporter json 'sql/*.sql'\` | $theirs | $theirs_found |

Findings are not comparable one to one: Squawk's default rules include ones migrate
does not have (\`prefer-robust-stmts\`, \`require-statement-timeout\`, ...), and it
can't know which tables earlier files created. migrate walks the graph in upgrade
order and reads each selected revision file a second time for lines and allow lists.

MD
