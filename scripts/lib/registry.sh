# shellcheck shell=bash
# Start, wait for and stop registries on loopback, for the scripts/ that test
# registries and benches/registry-vs-distribution.sh. Source it; it defines
# functions only.
#
# Every process started here is recorded in REG_PIDS and every directory made
# here in REG_TMPDIRS; the caller runs `reg_cleanup` from its EXIT trap.

REG_PIDS=()
REG_TMPDIRS=()
# The workspace root, whatever directory the caller runs from.
REG_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

reg_log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

reg_die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# reg_mktemp NAME VAR: make a fresh temporary directory, removed by
# reg_cleanup, and store its path in the variable VAR (not printed: a command
# substitution would run in a subshell and forget to record it). Honours
# REG_TMP (default: $TMPDIR or /tmp).
reg_mktemp() {
  local dir
  dir="$(mktemp -d "${REG_TMP:-${TMPDIR:-/tmp}}/wharf-$1.XXXXXX")"
  REG_TMPDIRS+=("$dir")
  printf -v "$2" '%s' "$dir"
}

# reg_free_port: a TCP port on 127.0.0.1 that nothing listens on right now.
reg_free_port() {
  python3 - <<'EOF'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

# reg_wait_ready ADDR PID LOG [TIMEOUT_S]: wait until http://ADDR/v2/ answers
# 200 (or 401: a registry that wants credentials is up too). Fails early, with
# the end of LOG, when PID exits.
reg_wait_ready() {
  local addr=$1 pid=$2 log=$3 timeout=${4:-60} code deadline
  deadline=$((SECONDS + timeout))
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      printf 'error: the registry (pid %s) exited before answering on %s; its log:\n' "$pid" "$addr" >&2
      tail -n 30 "$log" >&2 || true
      exit 1
    fi
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$addr/v2/" || true)"
    if [[ $code == 200 || $code == 401 ]]; then
      return 0
    fi
    sleep 0.2
  done
  printf 'error: the registry (pid %s) did not answer on http://%s/v2/ within %ss; its log:\n' "$pid" "$addr" "$timeout" >&2
  tail -n 30 "$log" >&2 || true
  exit 1
}

# reg_build_wharf: build minimal-registry in release mode (unless WHARF_BIN
# names a binary already) and print the binary's path.
reg_build_wharf() {
  if [[ -n ${WHARF_BIN:-} ]]; then
    [[ -x $WHARF_BIN ]] || reg_die "WHARF_BIN=$WHARF_BIN is not an executable"
    printf '%s\n' "$WHARF_BIN"
    return
  fi
  reg_log "building minimal-registry (release)"
  (cd "$REG_ROOT" && cargo build --release --quiet -p minimal-registry >&2) ||
    reg_die "cargo build --release -p minimal-registry failed"
  local target_dir
  target_dir="$(cd "$REG_ROOT" && cargo metadata --format-version 1 --no-deps | jq -r .target_directory)"
  [[ -x $target_dir/release/minimal-registry ]] ||
    reg_die "no binary at $target_dir/release/minimal-registry after the build"
  printf '%s\n' "$target_dir/release/minimal-registry"
}

# reg_start_wharf BIN ADDR DATA_DIR LOG [FLAGS...]: start minimal-registry in
# the background with more flags if given; sets REG_LAST_PID.
reg_start_wharf() {
  local bin=$1 addr=$2 data=$3 log=$4
  shift 4
  "$bin" --listen "$addr" --data-dir "$data" "$@" >"$log" 2>&1 &
  REG_LAST_PID=$!
  REG_PIDS+=("$REG_LAST_PID")
}

# reg_start_distribution ADDR DIR LOG [STORAGE]: write a CNCF Distribution
# config in DIR and start `docker-registry serve` in the background; sets
# REG_LAST_PID. STORAGE is the storage driver's YAML, lines indented by two
# spaces as they go under `storage:` (e.g. an `s3:` block and `redirect:`);
# by default filesystem storage under DIR/storage.
reg_start_distribution() {
  local addr=$1 dir=$2 log=$3 storage=${4:-}
  command -v docker-registry >/dev/null ||
    reg_die "docker-registry (CNCF Distribution) is not installed: apt-get install -y docker-registry"
  if [[ -z $storage ]]; then
    mkdir -p "$dir/storage"
    storage="  filesystem:
    rootdirectory: $dir/storage"
  fi
  mkdir -p "$dir"
  cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
$storage
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: $addr
  secret: wharf-interop-$RANDOM$RANDOM
validation:
  manifests:
    urls:
      allow: ['^https?://']
EOF
  docker-registry serve "$dir/config.yml" >"$log" 2>&1 &
  REG_LAST_PID=$!
  REG_PIDS+=("$REG_LAST_PID")
}

# reg_stop PID: stop one process started here, waiting up to 10 s.
reg_stop() {
  local pid=$1 _
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
}

# reg_cleanup: stop every process and remove every directory made here.
# KEEP_TMP=1 keeps the directories for a post-mortem.
reg_cleanup() {
  local pid dir
  for pid in "${REG_PIDS[@]}"; do
    reg_stop "$pid"
  done
  REG_PIDS=()
  if [[ ${KEEP_TMP:-0} == 1 ]]; then
    ((${#REG_TMPDIRS[@]} == 0)) || reg_log "kept: ${REG_TMPDIRS[*]}"
  else
    for dir in "${REG_TMPDIRS[@]}"; do
      rm -rf "$dir"
    done
  fi
  REG_TMPDIRS=()
}

# reg_log_tail LOG LINES: the last LINES lines of a registry's LOG on
# standard error, colours stripped and long lines cut, if LOG exists: what a
# failed check shows of the registry's side.
reg_log_tail() {
  [[ -f $1 ]] || return 0
  printf '\nlast lines of %s:\n' "$1" >&2
  tail -n "$2" "$1" | sed 's/\x1b\[[0-9;]*m//g' | cut -c 1-400 >&2 || true
}

# reg_peak_rss_kib PID: the process's peak resident set size (VmHWM), in KiB.
reg_peak_rss_kib() {
  awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"
}
