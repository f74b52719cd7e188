#!/usr/bin/env bash
# Benchmark: the pre-merge commands.
#
#   check --base origin/main   a repository of N revisions (default 10,000, one chain,
#                              committed on main = origin/main) and a branch adding 50
#                              revisions; warm (the parse cache written by a first run)
#   conflicts                  two heads of 200 revisions each on a 10-revision base,
#                              without and with the SQLite proof
#
# Beside it, what Alembic offers: no pre-merge check, so `alembic heads` on the merged
# checkout (the same 10,000 + 50 revisions as Alembic modules) is the nearest thing.
# Prints a markdown section for docs/benchmarks.md. Each time is the median of RUNS
# runs (default 5) of the whole process. Needs git, python3, cargo.
set -euo pipefail

N=${PREMERGE_BENCH_N:-10000}
NEW=${PREMERGE_BENCH_NEW:-50}
SIDE=${PREMERGE_BENCH_SIDE:-200}
RUNS=${PREMERGE_BENCH_RUNS:-5}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
GEN="$ROOT/tests/bench/gen_graph.py"
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
PYENV=${MIGRATE_PYENV:-$ROOT/target/pyenv}
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 NO_COLOR=1
export GIT_AUTHOR_NAME=Bench GIT_AUTHOR_EMAIL=bench@example.invalid
export GIT_COMMITTER_NAME=Bench GIT_COMMITTER_EMAIL=bench@example.invalid
export XDG_CACHE_HOME

cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml"
MIGRATE="$TARGET/release/migrate"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
XDG_CACHE_HOME="$WORK/cache"

# "wall cpu": medians over RUNS runs of "$@" (stdout discarded).
median() {
    local walls=() cpus=() out
    for _ in $(seq "$RUNS"); do
        /usr/bin/time -o "$WORK/time" -f "%e %U %S" "$@" > /dev/null 2> /dev/null || true
        out=$(tail -1 "$WORK/time")
        walls+=("$(echo "$out" | awk '{print $1 * 1000}')")
        cpus+=("$(echo "$out" | awk '{print ($2 + $3) * 1000}')")
    done
    local w c
    w=$(printf '%s\n' "${walls[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%d", a[int((NR+1)/2)]}')
    c=$(printf '%s\n' "${cpus[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%d", a[int((NR+1)/2)]}')
    echo "$w ms | $c ms"
}

# new_revisions DIR FIRST_PARENT PREFIX COUNT: a chain of COUNT revisions on FIRST_PARENT.
new_revisions() {
    python3 - "$@" <<'EOF'
import os, sys
out, parent, prefix, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
os.makedirs(out, exist_ok=True)
for i in range(count):
    rid = "%s%04d" % (prefix, i)
    with open(os.path.join(out, rid + ".yaml"), "w") as f:
        f.write("revision: %s\ndown_revision: %s\nmessage: %s\nupgrade: |\n  CREATE TABLE t_%s (id INTEGER PRIMARY KEY);\ndowngrade: |\n  DROP TABLE t_%s;\n" % (rid, parent, rid, rid, rid))
    parent = rid
EOF
}

# --- check --base ---------------------------------------------------------------
REPO="$WORK/repo"
mkdir -p "$REPO"
python3 "$GEN" "$N" chain "$REPO/revisions" --alembic "$WORK/alembic/versions" > /dev/null
git -C "$REPO" init -q -b main
git -C "$REPO" add -A
git -C "$REPO" commit -q -m "$N revisions"
git -C "$REPO" update-ref refs/remotes/origin/main main
cd "$REPO"
HEAD_ID=$("$MIGRATE" heads | awk '{print $1}')
git checkout -q -b feature
new_revisions "$REPO/revisions" "$HEAD_ID" feat "$NEW"
git add -A
git commit -q -m "$NEW new revisions"
# The parse cache trusts only files changed more than 2 s before it was written (a
# same-instant edit is never missed): let the new files age, as files in a real
# checkout have, before the run that fills the cache; else every timed run is cold.
sleep 2.5
"$MIGRATE" check --offline --base origin/main > /dev/null
# Plain `check` on the same checkout, for reference (its cache is the same one).
plain=$(median "$MIGRATE" check --offline)
clean=$(median "$MIGRATE" check --offline --base origin/main)
# Another branch started from the same head, after origin/main moved on: two heads
# once merged, each with its author.
git checkout -q -b stale main
new_revisions "$REPO/revisions" "$HEAD_ID" stal "$NEW"
git add -A
git commit -q -m "$NEW revisions on what is now an old head"
# origin/main moved on: it has the feature branch's $NEW revisions.
git update-ref refs/remotes/origin/main feature
sleep 2.5
"$MIGRATE" check --offline --base origin/main > /dev/null 2>&1 || true
stale=$(median "$MIGRATE" check --offline --base origin/main)

# Alembic: the merged checkout, as modules.
alembic_row="| \`alembic heads\` on the merged checkout (no pre-merge check) | not measured (no Alembic at $PYENV) |"
if [ -x "$PYENV/bin/alembic" ]; then
    A="$WORK/alembic"
    printf '[alembic]\nscript_location = %%(here)s\n' > "$A/alembic.ini"
    printf 'from alembic import context\n' > "$A/env.py"
    printf '<%%text>revision template</%%text>\n' > "$A/script.py.mako"
    RUNS_SAVED=$RUNS
    RUNS=1
    alembic_row="| \`alembic heads\` on the same $N revisions, merged checkout (Alembic has no pre-merge check) | $(cd "$A" && median "$PYENV/bin/alembic" heads) |"
    RUNS=$RUNS_SAVED
fi

# --- conflicts ------------------------------------------------------------------
C="$WORK/conflicts"
mkdir -p "$C"
new_revisions "$C/revisions" null base 10
new_revisions "$C/revisions" base0009 sidea "$SIDE"
new_revisions "$C/revisions" base0009 sideb "$SIDE"
cd "$C"
"$MIGRATE" conflicts --no-proof > /dev/null
noproof=$(median "$MIGRATE" conflicts --no-proof)
proof=$(median "$MIGRATE" conflicts)
verdict=$("$MIGRATE" conflicts | head -1)

cat <<EOF
## Before merging: check --base, conflicts

$(nproc) cores; medians of $RUNS runs, wall clock and CPU (user + system).

| command | wall | CPU |
|---|---|---|
| \`migrate check --offline --base origin/main\`, $N revisions + $NEW new on the branch's head, warm | $clean |
| plain \`migrate check --offline\` on the same checkout, warm (reference) | $plain |
| the same, the $NEW new revisions on an old head (two heads after the merge, authors looked up) | $stale |
$alembic_row
| \`migrate conflicts --no-proof\`, two heads of $SIDE revisions each | $noproof |
| \`migrate conflicts\` (replayed on SQLite in both orders) | $proof |

Targets: check --base ≤ 150 ms warm; conflicts ≤ 200 ms without the proof, ≤ 2 s with it.
The conflicts run says: \`$verdict\`.

EOF
