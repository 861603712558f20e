#!/usr/bin/env bash
# The garbage-collection bench: how long a collection takes and how much
# memory it needs for a registry of MANIFESTS images of BLOBS blobs each
# (by default 10,000 manifests and 100,000 blobs, half of them deleted so
# that there is garbage to reclaim), and how much it slows the registry
# serving meanwhile: the p99 of a manifest GET (wrk, 16 connections) while
# a client keeps pushing, without a collection and during one.
#
#   benches/gc.sh [--manifests N] [--blobs N] [--s3-manifests N] [--only embedded|s3]
#
# Two backends: the embedded default (filesystem + SQLite) and S3 (moto) +
# PostgreSQL, the latter with --s3-manifests images (default 2,000: moto
# takes about as long per request as the collection itself, see the
# figures' note). The collection runs as `minimal-registry gc` in its own
# process, under /usr/bin/time for its peak RSS, with a grace period of 10
# seconds (the fill waits that long before collecting). Results go to
# stdout and target/bench-gc.md.
#
# Needs wrk, curl, jq, time (GNU), postgresql and python3-venv (moto) for
# the S3 run; WHARF_BIN names a prebuilt minimal-registry.
set -euo pipefail
shopt -s inherit_errexit

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib/harness.sh
source "$HERE/../scripts/lib/harness.sh"
# shellcheck source=scripts/lib/servers.sh
source "$HERE/../scripts/lib/servers.sh"

MANIFESTS=10000
BLOBS=10
S3_MANIFESTS=2000
ONLY=embedded,s3
while (($#)); do
  case $1 in
    --manifests) MANIFESTS=$2; shift 2 ;;
    --blobs) BLOBS=$2; shift 2 ;;
    --s3-manifests) S3_MANIFESTS=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    *) reg_die "unknown argument: $1" ;;
  esac
done
GRACE=10
CONNECTIONS=16

on_exit() {
  local rc=$?
  ((rc == 0)) || srv_log_tails 20
  srv_cleanup
  reg_cleanup
}
trap on_exit EXIT
trap 'exit 130' INT TERM

mapfile -t missing < <(reg_missing_commands wrk curl jq && srv_missing_packages)
[[ -x /usr/bin/time ]] || missing+=(time)
reg_apt_install "${missing[@]}"
BIN="$(reg_build_wharf)"
reg_log "building the populator (release)"
(cd "$REG_ROOT" && cargo build --release --quiet -p wharf-benches --example gc-populate >&2)
TARGET_DIR="$(cd "$REG_ROOT" && cargo metadata --format-version 1 --no-deps | jq -r .target_directory)"
POP="$TARGET_DIR/release/examples/gc-populate"
reg_mktemp gc-bench WORK
RESULTS="$WORK/results.md"
: >"$RESULTS"

# p99 WRK_OUTPUT: wrk's 99th percentile latency, in milliseconds.
p99() {
  awk '$1 == "99%" {
    v = $2
    if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v) }
    else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 }
    printf "%.2f", v
  }' "$1"
}

# bench NAME MANIFESTS STORE_FLAGS...: one backend's figures into RESULTS.
bench() {
  local name=$1 manifests=$2 addr dir pusher wrk gc_pid
  shift 2
  dir="$WORK/$name"
  mkdir -p "$dir"
  addr="127.0.0.1:$(reg_free_port)"
  reg_start_wharf "$BIN" "$addr" "$dir/data" "$dir/registry.log" --no-auth --gc-interval off --log-level warn "$@"
  reg_wait_ready "$addr" "$REG_LAST_PID" "$dir/registry.log"
  local server=$REG_LAST_PID url="http://$addr/v2/bench/r00/manifests/latest"
  local accept="Accept: application/vnd.oci.image.manifest.v1+json"

  reg_log "$name: filling with $manifests manifests of $BLOBS blobs"
  "$POP" fill "$addr" "$manifests" "$BLOBS" 50 16 | tee "$dir/fill.txt"
  sleep "$GRACE"

  reg_log "$name: manifest GET p99 while pushing, no collection"
  "$POP" push "$addr" 15 >"$dir/push-before.txt" &
  pusher=$!
  wrk -t 2 -c "$CONNECTIONS" -d 15s --latency -H "$accept" "$url" >"$dir/wrk-before.txt"
  wait "$pusher"

  reg_log "$name: a collection, while pushing and reading"
  "$POP" push "$addr" 3600 "$dir/stop" >"$dir/push-during.txt" &
  pusher=$!
  wrk -t 2 -c "$CONNECTIONS" -d 3600s --latency -H "$accept" "$url" >"$dir/wrk-during.txt" &
  wrk=$!
  sleep 1
  /usr/bin/time -v "$BIN" --data-dir "$dir/data" "$@" gc --grace "${GRACE}s" \
    >"$dir/gc.txt" 2>"$dir/gc.err" &
  gc_pid=$!
  wait "$gc_pid" || { cat "$dir/gc.err" >&2; reg_die "$name: the collection failed"; }
  kill -INT "$wrk"
  wait "$wrk" || true
  touch "$dir/stop"
  wait "$pusher"
  reg_stop "$server"

  local seconds rss before during
  seconds="$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s }' "$dir/gc.err")"
  rss="$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$dir/gc.err")"
  before="$(p99 "$dir/wrk-before.txt")"
  during="$(p99 "$dir/wrk-during.txt")"
  cat "$dir/gc.txt"
  {
    printf '\n### %s: %s manifests, %s blobs (half deleted)\n\n' "$name" "$manifests" "$((manifests * BLOBS))"
    printf -- '- fill: %s\n' "$(cat "$dir/fill.txt")"
    printf -- '- collection: %s s, peak RSS %s MiB\n' "$seconds" "$rss"
    printf -- '- its report:\n\n```\n%s\n```\n\n' "$(cat "$dir/gc.txt")"
    printf -- '- manifest GET p99 with pushes running: %s ms without a collection, %s ms during it (%s)\n' \
      "$before" "$during" "$(awk -v a="$before" -v b="$during" 'BEGIN { printf "%.2fx", b / a }')"
    printf -- '- pushes meanwhile: %s / %s\n' "$(cat "$dir/push-before.txt")" "$(cat "$dir/push-during.txt")"
  } | tee -a "$RESULTS"
}

if [[ ,$ONLY, == *,embedded,* ]]; then
  bench embedded "$MANIFESTS"
fi
if [[ ,$ONLY, == *,s3,* ]]; then
  srv_start_postgres PG
  srv_start_s3 S3
  srv_createdb "$PG" wharf_gc
  srv_make_bucket "$S3" wharf-gc
  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
  export AWS_ENDPOINT="$S3" AWS_ALLOW_HTTP=true
  bench s3-postgres "$S3_MANIFESTS" --database "$PG/wharf_gc" --blob-store s3://wharf-gc/bench
fi
mkdir -p "$REG_ROOT/target"
{
  printf '## Garbage collection (benches/gc.sh, %s)\n' "$(date -u +%Y-%m-%d)"
  cat "$RESULTS"
} >"$REG_ROOT/target/bench-gc.md"
reg_log "results in target/bench-gc.md"
