#!/usr/bin/env bash
# Benchmark: git authorship (`migrate blame`) on a repository with N revision files
# added over N commits in one directory (default N=10000), against
# `git log --diff-filter=A --name-only -- revisions`, which lists the same adds.
#
#   cold: no authorship cache (.git/migrate removed): one pass over all history
#   warm: the cache was written at the previous HEAD and 3 commits were added since
#
# Prints a markdown section for docs/benchmarks.md. Each time is the median of RUNS
# runs (default 3) of the whole process. Needs git (for fast-import), python3, cargo.
set -euo pipefail

N=${BLAME_BENCH_N:-10000}
RUNS=${BLAME_BENCH_RUNS:-3}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
GEN="$ROOT/tests/bench/gen_blame_repo.py"
DATA="$ROOT/target/bench-data"
BASE="$DATA/blame-$N"
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 NO_COLOR=1

cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml"
MIGRATE="$ROOT/target/release/migrate"

# The generated repository is kept between runs (it takes a while to build).
stamp=$(sha256sum "$GEN" | cut -c1-16)
if [ ! -f "$BASE/.stamp-$stamp" ]; then
    rm -rf "$BASE"
    mkdir -p "$BASE"
    echo "generating $N commits with git fast-import..." >&2
    git -C "$BASE" init -q -b main
    python3 "$GEN" "$N" | git -C "$BASE" fast-import --done --quiet
    git -C "$BASE" reset -q --hard main
    touch "$BASE/.stamp-$stamp"
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cp -a "$BASE" "$WORK/repo"
REPO="$WORK/repo"
cd "$REPO"

# "wall cpu": medians over RUNS runs of "$@" (stdout discarded) of the wall-clock time
# and of the CPU time (user + system); SETUP runs before each run, untimed. The CPU
# column is what to compare when the machine is shared.
median() {
    local walls=() cpus=() out
    for _ in $(seq "$RUNS"); do
        eval "${SETUP:-true}"
        /usr/bin/time -o "$WORK/time" -f "%e %U %S" "$@" > /dev/null 2> /dev/null
        out=$(tail -1 "$WORK/time")
        walls+=("$(echo "$out" | awk '{print $1}')")
        cpus+=("$(echo "$out" | awk '{print $2 + $3}')")
    done
    local w c
    w=$(printf '%s\n' "${walls[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]}')
    c=$(printf '%s\n' "${cpus[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]}')
    echo "$w | $c"
}

git_log=$(median git log --diff-filter=A --name-only -- revisions)
SETUP='rm -rf .git/migrate'
cold=$(median "$MIGRATE" blame)
files=$("$MIGRATE" blame | wc -l)
[ "$files" -eq "$N" ] || { echo "blame listed $files revisions, expected $N" >&2; exit 1; }

# Warm: keep the cache written at this HEAD, add 3 commits, and restore that cache
# before each run so every run reads exactly the 3 new commits.
cp -a .git/migrate "$WORK/cache"
python3 "$GEN" 3 "$N" | git fast-import --done --quiet --force
git reset -q --hard main
SETUP='rm -rf .git/migrate && cp -a "$WORK/cache" .git/migrate'
warm=$(median "$MIGRATE" blame)
newest=$("$MIGRATE" blame | head -1 | cut -d' ' -f1)
[ "$newest" = "$(printf 'r%011d' $((N + 2)))" ] || { echo "warm blame missed the new commits ($newest)" >&2; exit 1; }
SETUP=true
heads=$(median "$MIGRATE" heads)

cat <<MD
## Authorship (git)

$N revision files added over $N commits in one directory (\`tests/bench/blame.sh\`,
repository built with \`git fast-import\`), whole process, median of $RUNS runs,
on $(nproc) cores shared with other work (load average at the end:
$(cut -d' ' -f1 /proc/loadavg)); CPU is user + system time.

| command | wall s | CPU s |
|---|---:|---:|
| \`git log --diff-filter=A --name-only -- revisions\` | $git_log |
| \`migrate blame\`, cold (no cache: one pass over all $N commits) | $cold |
| \`migrate blame\`, warm (cache valid, 3 new commits) | $warm |
| \`migrate heads\` (reference: loading the $N revision files, no git) | $heads |

MD
