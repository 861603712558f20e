#!/usr/bin/env bash
# The long fuzzing run reported in RUNS.md: each target for SECONDS (600)
# of wall time, two at a time, at low priority, from its seeds and its
# corpus. Prints one table row per target:
# | target | executions | exec/s | cov | ft | corpus | seeds | crashes |
# Usage: fuzz/long-run.sh [SECONDS] [TARGET...]
set -uo pipefail
cd "$(dirname "$0")"
seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)
mkdir -p logs
cargo fuzz build --sanitizer none >/dev/null 2>&1 || { echo "build failed" >&2; exit 1; }

run() {
  local target=$1
  mkdir -p "corpus/$target"
  nice -n 19 cargo fuzz run "$target" "corpus/$target" "seeds/$target" --sanitizer none -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 \
    >"logs/$target.log" 2>&1
  echo $? >"logs/$target.rc"
}

row() {
  local target=$1 log="logs/$1.log"
  local execs rate last cov ft corp seeds
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  last=$(grep -E '^#[0-9]+' "$log" | grep ' cov: ' | tail -n 1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(find "corpus/$target" -type f | wc -l)
  seeds=$(find "seeds/$target" -type f | wc -l)
  local result="none"
  [ "$(cat "logs/$target.rc")" = 0 ] || result="CRASH (exit $(cat "logs/$target.rc"))"
  printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' \
    "$target" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$corp" "$seeds" "$result"
}

i=0
while [ $i -lt ${#targets[@]} ]; do
  pair=("${targets[@]:i:2}")
  for t in "${pair[@]}"; do run "$t" & done
  wait
  for t in "${pair[@]}"; do row "$t"; done
  i=$((i + 2))
done
