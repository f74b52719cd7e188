#!/usr/bin/env bash
# `make bench`: runs every area's benchmark and writes docs/benchmarks.md.
# Each tests/bench/<area>.sh prints one markdown section on stdout.
set -uo pipefail
cd "$(dirname "$0")/../.."
mkdir -p target/bench
out=target/bench/benchmarks.md
{
  echo "# Benchmarks"
  echo
  echo "Written by \`make bench\` ($(date -u +%Y-%m-%dT%H:%MZ)) on $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB,"
  echo "$(uname -sr). Times are whole-process wall clock (median of several runs unless noted)."
  echo
} > "$out"
for area in graph apply blame autogen lint premerge stairway; do
  script="tests/bench/$area.sh"
  [ -f "$script" ] || continue
  echo "bench: $area" >&2
  if ! bash "$script" >> "$out"; then
    echo "bench: $area FAILED (see above); its section may be incomplete" >&2
    printf '\n_The %s benchmark failed in this run._\n\n' "$area" >> "$out"
  fi
done
cp "$out" docs/benchmarks.md
echo "bench: wrote docs/benchmarks.md" >&2
