# shellcheck shell=bash
# Throwaway PostgreSQL and S3 (moto) servers for the scripts that run Wharf
# over shared services (scripts/replicas.sh, the benches). Source it after
# registry.sh; it defines functions only. Servers are recorded in REG_PIDS
# (moto) or stopped by srv_cleanup (PostgreSQL, which daemonizes); the
# caller runs srv_cleanup then reg_cleanup from its EXIT trap (srv_on_exit).

SRV_PG_DIRS=()
SRV_PG_RUN=()
SRV_LOGS=()

# srv_missing_packages: the Debian packages these servers need that are not
# installed (postgresql; python3-venv for moto's environment), one a line,
# for reg_apt_install.
srv_missing_packages() {
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || echo postgresql
  /usr/bin/python3 -c 'import ensurepip' 2>/dev/null || echo python3-venv
}

# srv_install_tools COMMAND...: install (reg_apt_install) the COMMANDs not
# on PATH and the packages these servers need.
srv_install_tools() {
  local missing
  mapfile -t missing < <(reg_missing_commands "$@" && srv_missing_packages)
  reg_apt_install "${missing[@]}"
}

# srv_pg_bin: PostgreSQL's server binaries (WHARF_PG_BIN, else Debian's
# newest /usr/lib/postgresql/*/bin).
srv_pg_bin() {
  if [[ -n ${WHARF_PG_BIN:-} ]]; then
    printf '%s\n' "$WHARF_PG_BIN"
    return
  fi
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  [[ -x $dir/initdb ]] || reg_die "PostgreSQL is not installed (apt-get install postgresql, or set WHARF_PG_BIN)"
  printf '%s\n' "$dir"
}

# srv_start_postgres VAR: a fresh cluster on a free port, trust
# authentication on 127.0.0.1; stores postgres://postgres@127.0.0.1:PORT in
# VAR (append /DB for a database; `postgres` exists).
srv_start_postgres() {
  local bin srv_pg port run=()
  bin="$(srv_pg_bin)"
  reg_mktemp pg srv_pg
  port="$(reg_free_port)"
  if ((EUID == 0)); then
    chown postgres:postgres "$srv_pg"
    run=(runuser -u postgres --)
  fi
  "${run[@]}" "$bin/initdb" -D "$srv_pg/data" -A trust -U postgres --no-sync >"$srv_pg/initdb.log" 2>&1 ||
    reg_die "initdb failed: $(tail -n 5 "$srv_pg/initdb.log")"
  "${run[@]}" "$bin/pg_ctl" -D "$srv_pg/data" -l "$srv_pg/log" -w -o \
    "-c listen_addresses=127.0.0.1 -p $port -k $srv_pg -c fsync=off -c max_connections=300" start >/dev/null ||
    reg_die "PostgreSQL did not start: $(tail -n 5 "$srv_pg/log")"
  SRV_PG_DIRS+=("$srv_pg")
  SRV_PG_RUN=("${run[@]}")
  printf -v "$1" 'postgres://postgres@127.0.0.1:%s' "$port"
}

# srv_createdb URL NAME: create database NAME on the server at URL.
srv_createdb() {
  local port=${1##*:}
  "$(srv_pg_bin)/createdb" -h 127.0.0.1 -p "$port" -U postgres "$2"
}

# srv_moto_server: the moto_server command (WHARF_MOTO, else on PATH, else
# installed into target/moto-venv).
srv_moto_server() {
  if [[ -n ${WHARF_MOTO:-} ]]; then
    printf '%s\n' "$WHARF_MOTO"
  elif command -v moto_server >/dev/null; then
    command -v moto_server
  else
    local venv="$REG_ROOT/target/moto-venv"
    if ! [[ -x $venv/bin/moto_server ]]; then
      reg_log "installing moto's S3 server into $venv"
      /usr/bin/python3 -m venv "$venv"
      "$venv/bin/pip" install -q --disable-pip-version-check 'moto[server]>=5,<6'
    fi
    printf '%s\n' "$venv/bin/moto_server"
  fi
}

# srv_start_s3 VAR: moto's S3 server on a free port; stores its endpoint
# (http://127.0.0.1:PORT) in VAR. Moto spills objects over 16 MiB to
# temporary files: they go to its own temp dir (removed with it), and its
# log is one of srv_log_tails'.
srv_start_s3() {
  local port log srv_moto
  port="$(reg_free_port)"
  reg_mktemp moto srv_moto
  log="$srv_moto/moto.log"
  mkdir -p "$srv_moto/tmp"
  TMPDIR="$srv_moto/tmp" "$(srv_moto_server)" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
  REG_PIDS+=("$!")
  SRV_LOGS+=("$log")
  for _ in $(seq 150); do
    curl -s -o /dev/null "http://127.0.0.1:$port/" && break
    sleep 0.2
  done
  curl -s -o /dev/null "http://127.0.0.1:$port/" || reg_die "moto did not start: $(tail -n 5 "$log")"
  printf -v "$1" 'http://127.0.0.1:%s' "$port"
}

# srv_make_bucket ENDPOINT NAME: create bucket NAME.
srv_make_bucket() {
  local code
  code="$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/octet-stream' "$1/$2")"
  [[ $code == 200 ]] || reg_die "creating bucket $2 at $1 answered $code"
}

# srv_log_tails LINES: on a failure, the last LINES lines of each shared
# server's log (moto's, PostgreSQL's) and the free space of the temp dirs
# (a full disk shows up first as a 500 from moto).
srv_log_tails() {
  local log dir
  for log in "${SRV_LOGS[@]}"; do reg_log_tail "$log" "$1"; done
  for dir in "${SRV_PG_DIRS[@]}"; do reg_log_tail "$dir/log" "$1"; done
  df -h "${TMPDIR:-/tmp}" >&2 || true
}

# srv_on_exit LOG...: the EXIT trap of a script over these servers
# (`trap 'srv_on_exit "$WORK"/*.log' EXIT`, the LOGs expanded at exit): on
# failure the ends of the shared servers' logs and of each LOG; always,
# every server stopped (srv_cleanup, then reg_cleanup); on success the
# script's own `summary`.
srv_on_exit() {
  local rc=$? log
  ((rc == 0)) || srv_log_tails 40
  srv_cleanup
  if ((rc != 0)); then
    for log; do reg_log_tail "$log" 15; done
  fi
  reg_cleanup
  ((rc != 0)) || summary
}

# srv_cleanup: stop the PostgreSQL clusters started here.
srv_cleanup() {
  local dir
  for dir in "${SRV_PG_DIRS[@]}"; do
    "${SRV_PG_RUN[@]}" "$(srv_pg_bin)/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  done
  SRV_PG_DIRS=()
}
