#!/usr/bin/env bash
# Side-by-side load benchmark: the Wharf registry (minimal-registry, release
# build) against CNCF Distribution (`docker-registry`), in one run, with the
# same load tools, on loopback.
#
#   benches/registry-vs-distribution.sh                  every server
#   benches/registry-vs-distribution.sh --only distribution
#                                                        Distribution alone
#   benches/registry-vs-distribution.sh --only wharf-shared,distribution-s3
#                                                        the two on S3
#   benches/registry-vs-distribution.sh --duration 5 --out FILE
#
# The servers (all by default; --only takes a comma-separated list):
#   wharf            Wharf on its embedded default (filesystem)
#   distribution     Distribution on filesystem storage
#   wharf-shared     Wharf as replicas run it: metadata in a throwaway
#                    PostgreSQL, blobs in moto's S3 server
#   distribution-s3  Distribution with its s3 storage driver on the same moto
#                    server (its own bucket), redirects off so that it serves
#                    blobs itself as wharf-shared does
# They start on free loopback ports with fresh storage in temporary
# directories (and buckets) and are seeded with the same content: a small OCI
# manifest referencing a 64 MiB layer, under 50 tags. Then, one measurement at
# a time and alternating between the servers (so background noise on this
# shared machine hits both alike):
#   - manifest GET: wrk --latency, 32 connections, requests/s and p99
#   - manifest HEAD: ab -k -i -c 32, requests/s and p99 (wrk cannot HEAD)
#   - tags/list: wrk, 32 connections, requests/s and p99
#   - blob pull MiB/s: one curl client, and 16 concurrent curl clients on the
#     same 64 MiB blob
#   - push MiB/s of a new 512 MiB blob (three each, all different):
#     monolithic (POST, then PUT ?digest= with the body, two curl calls) and
#     chunked (POST, 8 MiB PATCHes, PUT ?digest=, from one python3
#     http.client on one keep-alive connection)
#   - each server's peak RSS (VmHWM) at the end
# and when wharf runs, two more, on Wharf only:
#   - the ceiling: the same manifest GET against a bare axum server
#     answering with the same bytes and headers
#   - authentication overhead: manifest GET of one small image
#     against Wharf with --no-auth and against a second Wharf with accounts
#     on (the default), with a bearer token from /token and with Basic
#     username:personal-access-token, back to back
# The report's sections, each when its servers ran: Wharf against
# Distribution (both on filesystem storage); wharf-shared against Wharf
# embedded; "on S3", wharf-shared against distribution-s3 with issue 11's
# targets (push >= 1.5x, pull >= 1.0x, manifest GET >= 5x, RSS <= 0.5x); the
# ceiling; the authentication overhead. distribution-s3 adds 3.5 to 6
# minutes to a run on a busy 2-core machine, nearly all of it its six
# 512 MiB pushes through moto (see BENCHMARKS.md).
# The markdown goes to stdout and to --out (default
# target/bench-registry.md). Needs wrk, ab (apache2-utils), curl, jq, python3 and
# docker-registry; installs the missing ones with apt-get when run as root.
# Environment: WHARF_BIN (a prebuilt minimal-registry), KEEP_TMP=1.
set -euo pipefail
shopt -s inherit_errexit

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib/registry.sh
source "$HERE/../scripts/lib/registry.sh"
# shellcheck source=scripts/lib/servers.sh
source "$HERE/../scripts/lib/servers.sh"

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }

ALL_SERVERS=(wharf distribution wharf-shared distribution-s3)
SERVERS=("${ALL_SERVERS[@]}")
DURATION=10
CONNECTIONS=32
OUT="$REG_ROOT/target/bench-registry.md"
while (($#)); do
  case $1 in
    --only) IFS=, read -r -a SERVERS <<<"${2:?--only needs a comma-separated list of servers}"; shift 2 ;;
    --only=*) IFS=, read -r -a SERVERS <<<"${1#*=}"; shift ;;
    --duration) DURATION=${2:?--duration needs seconds}; shift 2 ;;
    --duration=*) DURATION=${1#*=}; shift ;;
    --out) OUT=${2:?--out needs a file}; shift 2 ;;
    --out=*) OUT=${1#*=}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; reg_die "unknown argument: $1" ;;
  esac
done
((${#SERVERS[@]})) || reg_die "--only needs at least one server"
for s in "${SERVERS[@]}"; do
  [[ " ${ALL_SERVERS[*]} " == *" $s "* ]] || reg_die "--only takes ${ALL_SERVERS[*]} (comma-separated), not '$s'"
done
[[ $DURATION =~ ^[1-9][0-9]*$ ]] || reg_die "--duration must be a whole number of seconds"

OCI_MANIFEST=application/vnd.oci.image.manifest.v1+json
REPO=bench/app
TAGS=50
PULL_BLOB_MIB=64
PUSH_BLOB_MIB=512
CHUNK_MIB=8
PULL_CLIENTS=16
PULLS_PER_CLIENT=4
PUSH_REPEATS=3

# ---------------------------------------------------------------- setup ---

install_tools() {
  local missing=()
  command -v wrk >/dev/null || missing+=(wrk)
  command -v ab >/dev/null || missing+=(apache2-utils)
  command -v curl >/dev/null || missing+=(curl)
  command -v python3 >/dev/null || missing+=(python3)
  command -v jq >/dev/null || missing+=(jq)
  command -v docker-registry >/dev/null || missing+=(docker-registry)
  ((${#missing[@]})) || return 0
  ((EUID == 0)) || reg_die "missing tools (${missing[*]}); install them or run as root"
  reg_log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

trap 'srv_cleanup; reg_cleanup' EXIT
trap 'exit 130' INT TERM
install_tools
reg_mktemp bench WORK

declare -A ADDR PID RESULT

# S3: moto's endpoint, started by the first server on S3; both use it.
S3=
shared_s3() {
  [[ -n $S3 ]] || srv_start_s3 S3
}

start_servers() {
  local s bin
  for s in "${SERVERS[@]}"; do
    ADDR[$s]="127.0.0.1:$(reg_free_port)"
    case $s in
      wharf)
        bin="$(reg_build_wharf)"
        # Errors only, as Distribution is configured: no access log.
        reg_start_wharf "$bin" "${ADDR[$s]}" "$WORK/wharf-data" "$WORK/wharf.log" --log-level error --no-auth
        ;;
      distribution)
        reg_start_distribution "${ADDR[$s]}" "$WORK/distribution" "$WORK/distribution.log"
        ;;
      wharf-shared)
        # The replicas' configuration: metadata in a throwaway PostgreSQL,
        # blobs in moto's S3 server, both on this machine.
        bin="$(reg_build_wharf)"
        local pg
        srv_start_postgres pg
        srv_createdb "$pg" bench
        shared_s3
        srv_make_bucket "$S3" bench
        export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
        export AWS_ENDPOINT="$S3" AWS_ALLOW_HTTP=true
        reg_start_wharf "$bin" "${ADDR[$s]}" "$WORK/shared-data" "$WORK/$s.log" \
          --log-level error --no-auth --database "$pg/bench" --blob-store s3://bench/registry
        ;;
      distribution-s3)
        # Everything in S3, Distribution's only shared storage. Parts of
        # 8 MiB as Wharf's (the driver's default is 10 MiB, its least
        # 5 MiB); redirects off, so blobs are served through the registry
        # as wharf-shared serves them (on by default with S3: a pull would
        # measure moto alone).
        # Without AWS_CA_BUNDLE: when set (for HTTPS, which moto does not
        # speak here), aws-sdk-go 1.x refuses the driver's own transport and
        # the registry panics at start-up.
        shared_s3
        srv_make_bucket "$S3" distribution
        AWS_CA_BUNDLE='' reg_start_distribution "${ADDR[$s]}" "$WORK/$s" "$WORK/$s.log" "  s3:
    regionendpoint: $S3
    region: us-east-1
    bucket: distribution
    rootdirectory: /registry
    accesskey: test
    secretkey: test
    secure: false
    v4auth: true
    chunksize: $((8 * 1048576))
  redirect:
    disable: true"
        ;;
    esac
    PID[$s]=$REG_LAST_PID
    reg_wait_ready "${ADDR[$s]}" "${PID[$s]}" "$WORK/$s.log"
    reg_log "$s is up on ${ADDR[$s]} (pid ${PID[$s]})"
  done
}

# --------------------------------------------------------------- helpers ---

sha256_file() { printf 'sha256:%s' "$(sha256sum <"$1" | cut -d' ' -f1)"; }

# location_of HEADERS_FILE ADDR: the absolute upload URL from a Location header.
location_of() {
  local loc
  loc="$(grep -i '^location:' "$1" | tail -n 1 | cut -d: -f2- | tr -d '\r' | sed 's/^ *//')"
  [[ -n $loc ]] || reg_die "no Location header in the upload response: $(cat "$1")"
  case $loc in
    http://* | https://*) printf '%s' "$loc" ;;
    *) printf 'http://%s%s' "$2" "$loc" ;;
  esac
}

with_query() {
  case $1 in
    *\?*) printf '%s&%s' "$1" "$2" ;;
    *) printf '%s?%s' "$1" "$2" ;;
  esac
}

# start_upload ADDR REPO: POST an upload session; prints its absolute URL.
start_upload() {
  local code
  code="$(curl -sS -X POST -H 'Content-Length: 0' -D "$WORK/post-headers" -o /dev/null -w '%{http_code}' \
    "http://$1/v2/$2/blobs/uploads/")"
  [[ $code == 202 ]] || reg_die "POST http://$1/v2/$2/blobs/uploads/ answered $code, expected 202"
  location_of "$WORK/post-headers" "$1"
}

# push_monolithic ADDR REPO FILE DIGEST: POST, then PUT ?digest= with the body.
push_monolithic() {
  local url code
  url="$(start_upload "$1" "$2")"
  code="$(curl -sS -X PUT -H 'Expect:' -H 'Content-Type: application/octet-stream' -T "$3" \
    -o "$WORK/put-body" -w '%{http_code}' "$(with_query "$url" "digest=$4")")"
  [[ $code == 201 ]] || reg_die "monolithic PUT of $4 to $1/$2 answered $code, expected 201: $(head -c 300 "$WORK/put-body")"
}

# push_chunked ADDR REPO DIGEST FILE: POST, one PATCH (with Content-Range)
# per CHUNK_MIB of FILE, in order, then PUT ?digest= with no body; prints the
# nanoseconds from the POST to the 201. One HTTP client on one keep-alive
# connection, as docker, containerd or skopeo push: a curl process (and a new
# TCP connection) per PATCH would add the same fixed cost to both servers and
# measure process start-up rather than the registry.
push_chunked() {
  python3 - "$1" "$2" "$3" "$4" $((CHUNK_MIB * 1048576)) <<'EOF'
import http.client, sys, time, urllib.parse

addr, repo, digest, path, chunk_size = sys.argv[1:6]
chunk_size = int(chunk_size)
host, port = addr.rsplit(":", 1)
conn = http.client.HTTPConnection(host, int(port), timeout=120)

def target(location):
    """The request target of a Location header, absolute or relative."""
    url = urllib.parse.urlsplit(location)
    if url.netloc not in ("", addr):
        sys.exit(f"error: upload Location points elsewhere: {location}")
    return url.path + ("?" + url.query if url.query else "")

def call(method, url, expected, body=b"", headers=()):
    headers = dict(headers, **{"Content-Length": str(len(body))})
    conn.request(method, url, body=body, headers=headers)
    response = conn.getresponse()
    text = response.read()
    if response.status != expected:
        sys.exit(f"error: {method} {url} on {addr} answered {response.status}, "
                 f"expected {expected}: {text[:300]!r}")
    return response

buffer = bytearray(chunk_size)
with open(path, "rb", buffering=0) as blob:
    t0 = time.perf_counter_ns()
    url = target(call("POST", f"/v2/{repo}/blobs/uploads/", 202).headers["Location"])
    offset = 0
    while n := blob.readinto(buffer):
        response = call("PATCH", url, 202, memoryview(buffer)[:n], {
            "Content-Type": "application/octet-stream",
            "Content-Range": f"{offset}-{offset + n - 1}",
        })
        url = target(response.headers["Location"])
        offset += n
    separator = "&" if "?" in url else "?"
    call("PUT", f"{url}{separator}digest={digest}", 201)
    t1 = time.perf_counter_ns()
print(t1 - t0)
EOF
}

# put_manifest ADDR REPO REF FILE
put_manifest() {
  local code
  code="$(curl -sS -X PUT -H "Content-Type: $OCI_MANIFEST" --data-binary "@$4" -o "$WORK/put-body" \
    -w '%{http_code}' "http://$1/v2/$2/manifests/$3")"
  [[ $code == 201 ]] || reg_die "PUT manifest $2:$3 on $1 answered $code, expected 201: $(head -c 300 "$WORK/put-body")"
}

now_ns() { date +%s%N; }

# mib_per_s BYTES NANOSECONDS
mib_per_s() { awk -v b="$1" -v ns="$2" 'BEGIN { printf "%.0f", b / 1048576 / (ns / 1e9) }'; }

median() { sort -g | awk '{ v[NR] = $1 } END { printf "%s", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# ---------------------------------------------------------------- seeding ---

seed() {
  reg_log "generating the seed content"
  head -c "${PULL_BLOB_MIB}M" /dev/urandom >"$WORK/layer.bin"
  LAYER_DIGEST="$(sha256_file "$WORK/layer.bin")"
  LAYER_SIZE="$(stat -c %s "$WORK/layer.bin")"
  printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["%s"]},"config":{"Labels":{"org.opencontainers.image.source":"https://github.com/wharf-rs/wharf"}}}' \
    "$LAYER_DIGEST" >"$WORK/config.json"
  CONFIG_DIGEST="$(sha256_file "$WORK/config.json")"
  jq -cn --arg mt "$OCI_MANIFEST" \
    --arg cd "$CONFIG_DIGEST" --argjson cs "$(stat -c %s "$WORK/config.json")" \
    --arg ld "$LAYER_DIGEST" --argjson ls "$LAYER_SIZE" '{
      schemaVersion: 2, mediaType: $mt,
      config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $cd, size: $cs},
      layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: $ld, size: $ls}],
      annotations: {"org.opencontainers.image.description": "Wharf benchmark image"}
    }' | tr -d '\n' >"$WORK/manifest.json"
  MANIFEST_DIGEST="$(sha256_file "$WORK/manifest.json")"

  local s i code
  for s in "${SERVERS[@]}"; do
    reg_log "seeding $s"
    push_monolithic "${ADDR[$s]}" "$REPO" "$WORK/config.json" "$CONFIG_DIGEST"
    push_monolithic "${ADDR[$s]}" "$REPO" "$WORK/layer.bin" "$LAYER_DIGEST"
    put_manifest "${ADDR[$s]}" "$REPO" latest "$WORK/manifest.json"
    for i in $(seq 1 "$TAGS"); do
      put_manifest "${ADDR[$s]}" "$REPO" "1.$i" "$WORK/manifest.json"
    done
    code="$(curl -sS -o "$WORK/got" -w '%{http_code}' -H "Accept: $OCI_MANIFEST" \
      "http://${ADDR[$s]}/v2/$REPO/manifests/latest")"
    [[ $code == 200 && "$(sha256_file "$WORK/got")" == "$MANIFEST_DIGEST" ]] ||
      reg_die "$s serves the seeded manifest wrongly: status $code, digest $(sha256_file "$WORK/got"), expected $MANIFEST_DIGEST"
    [[ "$(curl -sS "http://${ADDR[$s]}/v2/$REPO/tags/list" | jq '.tags | length')" == $((TAGS + 1)) ]] ||
      reg_die "$s does not list the $((TAGS + 1)) seeded tags"
  done
  rm -f "$WORK/layer.bin"
}

# ----------------------------------------------------------- measurements ---

# to_ms VALUE_WITH_UNIT (wrk prints 850.00us, 1.20ms, 1.05s)
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.2f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.2f", v }
    else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.2f", v * 1000 }
    else { print "NaN" }
  }'
}

# wrk_run NAME SERVER URL [HEADER]: requests/s and p99 into RESULT.
wrk_run() {
  local name=$1 s=$2 url=$3 out
  local hdr=()
  [[ -n ${4:-} ]] && hdr=(-H "$4")
  out="$(wrk -t 2 -c "$CONNECTIONS" -d "${DURATION}s" --latency "${hdr[@]}" "$url")"
  if grep -q 'Non-2xx' <<<"$out"; then
    reg_die "$s answered errors under load on $url: $(grep 'Non-2xx' <<<"$out")"
  fi
  if grep -q 'Socket errors' <<<"$out"; then
    reg_log "warning: $s: $(grep 'Socket errors' <<<"$out" | sed 's/^ *//')"
  fi
  RESULT[$s.$name.rps]="$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")"
  RESULT[$s.$name.p99]="$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")"
  reg_log "$s $name: ${RESULT[$s.$name.rps]} req/s, p99 ${RESULT[$s.$name.p99]} ms"
}

# ab_head_run NAME SERVER URL HEADER: HEAD requests/s and p99 into RESULT.
ab_head_run() {
  local name=$1 s=$2 url=$3 out failed
  # -t before -n: -t alone would cap the run at 50000 requests.
  out="$(ab -k -i -q -c "$CONNECTIONS" -t "$DURATION" -n 1000000 -e "$WORK/ab.csv" -H "$4" "$url" 2>&1)" ||
    reg_die "ab failed against $s: $out"
  failed="$(awk -F: '/^Failed requests/ { gsub(/ /, "", $2); print $2 }' <<<"$out")"
  [[ $failed == 0 ]] || reg_die "$s: ab reports $failed failed HEAD requests"
  if grep -q '^Non-2xx' <<<"$out"; then
    reg_die "$s answered errors to HEAD: $(grep '^Non-2xx' <<<"$out")"
  fi
  RESULT[$s.$name.rps]="$(awk '/^Requests per second:/ { printf "%.0f", $4 }' <<<"$out")"
  RESULT[$s.$name.p99]="$(awk -F, '$1 == "99" { printf "%.2f", $2 }' "$WORK/ab.csv")"
  reg_log "$s $name: ${RESULT[$s.$name.rps]} req/s, p99 ${RESULT[$s.$name.p99]} ms"
}

blob_url() { printf 'http://%s/v2/%s/blobs/%s' "${ADDR[$1]}" "$REPO" "$LAYER_DIGEST"; }

# One client, five pulls, the median speed.
pull_single() {
  local s=$1 i out code size speed
  for i in 1 2 3 4 5; do
    out="$(curl -sS -L -o /dev/null -w '%{http_code} %{size_download} %{speed_download}' "$(blob_url "$s")")"
    read -r code size speed <<<"$out"
    [[ $code == 200 && $size == "$LAYER_SIZE" ]] ||
      reg_die "$s: blob GET answered $code with $size bytes, expected 200 with $LAYER_SIZE (pull $i)"
    printf '%s\n' "$speed"
  done >"$WORK/speeds"
  RESULT[$s.pull1]="$(median <"$WORK/speeds" | awk '{ printf "%.0f", $1 / 1048576 }')"
  reg_log "$s blob pull, 1 client: ${RESULT[$s.pull1]} MiB/s"
}

# PULL_CLIENTS clients each pulling the blob PULLS_PER_CLIENT times; the
# aggregate rate over the wall-clock time of the whole run.
pull_concurrent() {
  local s=$1 c t0 t1 total expected
  local pids=()
  t0="$(now_ns)"
  for c in $(seq 1 "$PULL_CLIENTS"); do
    (
      for _ in $(seq 1 "$PULLS_PER_CLIENT"); do
        curl -sS -L -o /dev/null -w '%{size_download}\n' "$(blob_url "$s")"
      done >"$WORK/client-$c"
    ) &
    pids+=($!)
  done
  for c in "${pids[@]}"; do
    wait "$c" || reg_die "$s: a concurrent pull client failed"
  done
  t1="$(now_ns)"
  total="$(cat "$WORK"/client-* | awk '{ t += $1 } END { printf "%.0f", t }')"
  expected=$((PULL_CLIENTS * PULLS_PER_CLIENT * LAYER_SIZE))
  rm -f "$WORK"/client-*
  [[ $total == "$expected" ]] || reg_die "$s: concurrent pulls read $total bytes, expected $expected"
  RESULT[$s.pull16]="$(mib_per_s "$total" $((t1 - t0)))"
  reg_log "$s blob pull, $PULL_CLIENTS clients: ${RESULT[$s.pull16]} MiB/s"
}

# push MODE SERVER: PUSH_REPEATS pushes of a PUSH_BLOB_MIB blob, each a new
# blob to a new repository (pushing the same bytes again measures a
# registry's handling of a blob it already has, not a push); the median
# rate, counted from the POST to the final 201 (the chunked client times
# itself, so its interpreter start is left out).
push() {
  local mode=$1 s=$2 r t0 t1 ns file digest
  for r in $(seq 1 "$PUSH_REPEATS"); do
    file="$WORK/push-$mode-$r.bin"
    digest=${PUSH_DIGEST[$mode-$r]}
    case $mode in
      mono)
        t0="$(now_ns)"
        push_monolithic "${ADDR[$s]}" "bench/push-$mode-$r" "$file" "$digest"
        t1="$(now_ns)"
        ns=$((t1 - t0))
        ;;
      chunked)
        ns="$(push_chunked "${ADDR[$s]}" "bench/push-$mode-$r" "$digest" "$file")" ||
          reg_die "chunked push to $s failed"
        ;;
    esac
    mib_per_s "$(stat -c %s "$file")" "$ns"
    printf '\n'
  done >"$WORK/speeds"
  RESULT[$s.push-$mode]="$(median <"$WORK/speeds")"
  reg_log "$s push $mode: ${RESULT[$s.push-$mode]} MiB/s (runs: $(tr '\n' ' ' <"$WORK/speeds"))"
}

# The blobs to push: PUSH_REPEATS distinct ones per mode, the same set for
# every server.
declare -A PUSH_DIGEST
prepare_push_blobs() {
  local mode r
  reg_log "generating $((2 * PUSH_REPEATS)) blobs of ${PUSH_BLOB_MIB} MiB to push"
  for mode in mono chunked; do
    for r in $(seq 1 "$PUSH_REPEATS"); do
      head -c "${PUSH_BLOB_MIB}M" /dev/urandom >"$WORK/push-$mode-$r.bin"
      PUSH_DIGEST[$mode-$r]="$(sha256_file "$WORK/push-$mode-$r.bin")"
    done
  done
}

# auth_overhead: a second Wharf with accounts on; the bootstrap token it
# prints pushes one small image to it (and the same to the --no-auth Wharf),
# then manifest GET is measured: auth off, bearer token, Basic PAT.
auth_overhead() {
  local addr bin token bearer basic path code port cfg layer man a f
  bin="$(reg_build_wharf)"
  addr="127.0.0.1:$(reg_free_port)"
  port=${addr##*:}
  reg_start_wharf "$bin" "$addr" "$WORK/wharf-auth-data" "$WORK/wharf-auth.log" --log-level error
  reg_wait_ready "$addr" "$REG_LAST_PID" "$WORK/wharf-auth.log"
  token="$(grep -o 'wharf_pat_[A-Za-z0-9]*' "$WORK/wharf-auth.log" | head -n 1)"
  [[ -n $token ]] || reg_die "the auth-on Wharf printed no bootstrap token: $(head -c 500 "$WORK/wharf-auth.log")"
  cfg="$WORK/auth-config.json" layer="$WORK/auth-layer.bin" man="$WORK/auth-manifest.json"
  printf '{"architecture":"amd64","os":"linux","config":{"Labels":{"org.opencontainers.image.description":"auth overhead"}}}' >"$cfg"
  head -c 4096 /dev/urandom >"$layer"
  jq -cn --arg mt "$OCI_MANIFEST" --arg cd "$(sha256_file "$cfg")" --argjson cs "$(stat -c %s "$cfg")" \
    --arg ld "$(sha256_file "$layer")" '{
      schemaVersion: 2, mediaType: $mt,
      config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $cd, size: $cs},
      layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: $ld, size: 4096}]
    }' | tr -d '\n' >"$man"
  path=/v2/admin/app/manifests/latest
  for a in "${ADDR[wharf]}" "$addr"; do
    for f in "$cfg" "$layer"; do
      code="$(curl -sS -u "admin:$token" -X POST --data-binary "@$f" -o /dev/null -w '%{http_code}' \
        "http://$a/v2/admin/app/blobs/uploads/?digest=$(sha256_file "$f")")"
      [[ $code == 201 ]] || reg_die "auth overhead: blob push to $a answered $code"
    done
    code="$(curl -sS -u "admin:$token" -X PUT -H "Content-Type: $OCI_MANIFEST" --data-binary "@$man" \
      -o /dev/null -w '%{http_code}' "http://$a$path")"
    [[ $code == 201 ]] || reg_die "auth overhead: manifest push to $a answered $code"
  done
  bearer="$(curl -sS -u "admin:$token" "http://$addr/token?service=localhost:$port&scope=repository:admin/app:pull" | jq -r .token)"
  [[ -n $bearer && $bearer != null ]] || reg_die "auth overhead: the token endpoint issued no token"
  basic="$(printf 'admin:%s' "$token" | base64 -w 0)"
  wrk -t 2 -c "$CONNECTIONS" -d 2s -H "Authorization: Bearer $bearer" "http://$addr$path" >/dev/null
  wrk_run off auth "http://${ADDR[wharf]}$path"
  wrk_run bearer auth "http://$addr$path" "Authorization: Bearer $bearer"
  wrk_run basic auth "http://$addr$path" "Authorization: Basic $basic"
}

# bare_ceiling: the same manifest GET against a bare axum server that
# answers every request with the manifest's bytes and headers and does
# nothing else (benches/examples/bare-http.rs): the HTTP stack's ceiling for
# small responses on this machine, in the same run.
bare_ceiling() {
  local addr bin
  reg_log "building the bare HTTP ceiling (benches/examples/bare-http.rs)"
  (cd "$REG_ROOT" && cargo build -q --release -p wharf-benches --example bare-http) ||
    reg_die "cannot build the bare HTTP example"
  bin="${CARGO_TARGET_DIR:-$REG_ROOT/target}/release/examples/bare-http"
  addr="127.0.0.1:$(reg_free_port)"
  "$bin" "$addr" "$WORK/manifest.json" "$OCI_MANIFEST" "$MANIFEST_DIGEST" >"$WORK/bare.log" 2>&1 &
  REG_PIDS+=("$!")
  for _ in $(seq 50); do curl -s -o /dev/null "http://$addr/" && break; sleep 0.1; done
  wrk -t 2 -c "$CONNECTIONS" -d 2s "http://$addr/v2/$REPO/manifests/latest" >/dev/null
  wrk_run manifest-get bare "http://$addr/v2/$REPO/manifests/latest" "Accept: $OCI_MANIFEST"
}

# shared_row LABEL METRIC: Wharf on shared services against Wharf embedded.
shared_row() { pair_row wharf-shared wharf "$1" "$2" higher; }

# s3_row LABEL METRIC DIRECTION [LEAST TARGET]: Wharf on shared services
# against Distribution on S3; with LEAST, the target column says TARGET and
# whether Wharf's advantage is at least LEAST.
s3_row() {
  local met='' r
  if (($# > 3)); then
    r="$(ratio wharf-shared distribution-s3 "$2" "$3")"
    met="$(awk -v r="${r%×}" -v least="$4" 'BEGIN {
      if (r !~ /^[0-9.]+$/) print "pending"; else print (r + 0 >= least + 0) ? "met" : "missed"
    }')"
  fi
  pair_row wharf-shared distribution-s3 "$1" "$2" "$3" "${5:-}${met:+ ($met)}"
}

# auth_row LABEL NAME: one row of the authentication overhead table.
auth_row() {
  local off=${RESULT[auth.off.rps]:-} rps=${RESULT[auth.$2.rps]:-}
  printf '| %s | %s | %s | %s |\n' "$1" "${rps:-pending}" "${RESULT[auth.$2.p99]:-pending}" \
    "$(awk -v r="$rps" -v o="$off" 'BEGIN { if (r == "" || o == "" || o == 0) print "pending"; else printf "%.2f×", r / o }')"
}

# ---------------------------------------------------------------- report ---

# ratio A B METRIC DIRECTION: how much better server A is than server B on
# METRIC (>1 better; DIRECTION higher or lower says which way is better), or
# pending when a figure is missing.
ratio() {
  local a=${RESULT[$1.$3]:-} b=${RESULT[$2.$3]:-}
  if [[ -z $a || -z $b ]]; then
    printf 'pending'
    return
  fi
  awk -v a="$a" -v b="$b" -v dir="$4" 'BEGIN {
    if (a == 0 || b == 0) { print "n/a"; exit }
    r = (dir == "higher") ? a / b : b / a
    printf "%.2f×", r
  }'
}

# pair_row A B LABEL METRIC DIRECTION [CELL...]: a table row of A's and B's
# figures, the ratio, then the extra cells.
pair_row() {
  local a=$1 b=$2 label=$3 metric=$4 dir=$5 cell
  shift 5
  printf '| %s | %s | %s | %s |' "$label" \
    "${RESULT[$a.$metric]:-pending}" "${RESULT[$b.$metric]:-pending}" "$(ratio "$a" "$b" "$metric" "$dir")"
  for cell; do printf ' %s |' "$cell"; done
  printf '\n'
}

# row LABEL METRIC DIRECTION: Wharf against Distribution, on filesystem storage.
row() { pair_row wharf distribution "$@"; }

ran() { [[ " ${SERVERS[*]} " == *" $1 "* ]]; }

report() {
  local rev dist_version only
  rev="$(git -C "$REG_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  dist_version="$(docker-registry --version 2>/dev/null | awk '{ print $3 }')"
  {
    printf 'Measured %s on %s (%s cores, %s), Wharf tree at %s, CNCF Distribution %s;\n' \
      "$(date -u +%Y-%m-%d)" "$(uname -m)" "$(nproc)" \
      "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)" "$rev" "$dist_version"
    printf 'both on filesystem storage unless said otherwise, loopback only, load generators on the same cores.\n'
    # shellcheck disable=SC2016 # the backquotes are markdown
    only=
    [[ ${SERVERS[*]} == "${ALL_SERVERS[*]}" ]] || only=" --only $(IFS=,; printf '%s' "${SERVERS[*]}")"
    printf 'Command: `benches/registry-vs-distribution.sh%s` (%d s per wrk/ab run, %d connections).\n' \
      "$only" "$DURATION" "$CONNECTIONS"
    if ran wharf || ran distribution; then
      printf '\n| measurement | Wharf | Distribution | Wharf advantage (>1 = better) |\n'
      printf '|---|---:|---:|---:|\n'
      row "manifest GET, requests/s ($CONNECTIONS connections)" manifest-get.rps higher
      row "manifest GET, p99 latency (ms)" manifest-get.p99 lower
      row "manifest HEAD, requests/s ($CONNECTIONS connections)" manifest-head.rps higher
      row "manifest HEAD, p99 latency (ms)" manifest-head.p99 lower
      row "tags/list ($((TAGS + 1)) tags), requests/s ($CONNECTIONS connections)" tags.rps higher
      row "tags/list, p99 latency (ms)" tags.p99 lower
      row "blob pull, 1 client (MiB/s, ${PULL_BLOB_MIB} MiB blob)" pull1 higher
      row "blob pull, $PULL_CLIENTS clients on one blob (MiB/s, aggregate)" pull16 higher
      row "push ${PUSH_BLOB_MIB} MiB, monolithic POST + PUT (MiB/s)" push-mono higher
      row "push ${PUSH_BLOB_MIB} MiB, chunked ${CHUNK_MIB} MiB PATCHes (MiB/s)" push-chunked higher
      row "peak RSS at the end (MiB)" rss lower
    fi
    if ran wharf-shared && ran wharf; then
      printf '\nWharf as replicas run it: metadata in PostgreSQL, blobs in S3 (a throwaway PostgreSQL\n'
      printf 'and moto'"'"'s S3 server on the same cores), against Wharf on its embedded default.\n\n'
      printf '| measurement | Wharf on S3 + PostgreSQL | Wharf embedded | shared / embedded |\n'
      printf '|---|---:|---:|---:|\n'
      shared_row "manifest GET, requests/s" manifest-get.rps
      shared_row "manifest HEAD, requests/s" manifest-head.rps
      shared_row "tags/list, requests/s" tags.rps
      shared_row "blob pull, 1 client (MiB/s)" pull1
      shared_row "blob pull, $PULL_CLIENTS clients (MiB/s)" pull16
      shared_row "push, monolithic (MiB/s)" push-mono
      shared_row "push, chunked (MiB/s)" push-chunked
      shared_row "peak RSS (MiB)" rss
    fi
    if ran wharf-shared || ran distribution-s3; then
      printf '\nOn S3: Wharf as replicas run it (metadata in a throwaway PostgreSQL, blobs in S3) against\n'
      printf 'Distribution with its s3 driver (everything in S3, %d MiB parts, redirects off), both on the\n' "$CHUNK_MIB"
      printf 'same moto server (a bucket each) on the same cores, measured alternately. Issue 11'"'"'s targets;\n'
      printf 'peak RSS leaves out PostgreSQL and moto.\n\n'
      printf '| measurement | Wharf on S3 + PostgreSQL | Distribution on S3 | Wharf advantage (>1 = better) | target |\n'
      printf '|---|---:|---:|---:|---|\n'
      s3_row "manifest GET, requests/s ($CONNECTIONS connections)" manifest-get.rps higher 5 "≥ 5×"
      s3_row "manifest GET, p99 latency (ms)" manifest-get.p99 lower
      s3_row "manifest HEAD, requests/s ($CONNECTIONS connections)" manifest-head.rps higher
      s3_row "tags/list ($((TAGS + 1)) tags), requests/s ($CONNECTIONS connections)" tags.rps higher
      s3_row "blob pull, 1 client (MiB/s, ${PULL_BLOB_MIB} MiB blob)" pull1 higher 1 "≥ 1×"
      s3_row "blob pull, $PULL_CLIENTS clients on one blob (MiB/s, aggregate)" pull16 higher 1 "≥ 1×"
      s3_row "push ${PUSH_BLOB_MIB} MiB, monolithic POST + PUT (MiB/s)" push-mono higher 1.5 "≥ 1.5×"
      s3_row "push ${PUSH_BLOB_MIB} MiB, chunked ${CHUNK_MIB} MiB PATCHes (MiB/s)" push-chunked higher 1.5 "≥ 1.5×"
      s3_row "peak RSS at the end (MiB)" rss lower 2 "RSS ≤ 0.5×, so ≥ 2×"
    fi
    if [[ -n ${RESULT[bare.manifest-get.rps]:-} ]]; then
      printf '\nThe ceiling for small responses: the same manifest GET against a bare axum server\n'
      printf 'answering every request with its bytes and headers (benches/examples/bare-http.rs).\n\n'
      printf '| manifest GET | requests/s | p99 latency (ms) | share of the ceiling |\n'
      printf '|---|---:|---:|---:|\n'
      printf '| bare axum | %s | %s | 1.00× |\n' "${RESULT[bare.manifest-get.rps]}" "${RESULT[bare.manifest-get.p99]}"
      printf '| Wharf (--no-auth) | %s | %s | %s |\n' "${RESULT[wharf.manifest-get.rps]}" "${RESULT[wharf.manifest-get.p99]}" \
        "$(awk -v w="${RESULT[wharf.manifest-get.rps]}" -v b="${RESULT[bare.manifest-get.rps]}" 'BEGIN { printf "%.2f×", w / b }')"
      if [[ -n ${RESULT[wharf-shared.manifest-get.rps]:-} ]]; then
        printf '| Wharf on S3 + PostgreSQL (--no-auth) | %s | %s | %s |\n' "${RESULT[wharf-shared.manifest-get.rps]}" \
          "${RESULT[wharf-shared.manifest-get.p99]}" \
          "$(awk -v w="${RESULT[wharf-shared.manifest-get.rps]}" -v b="${RESULT[bare.manifest-get.rps]}" 'BEGIN { printf "%.2f×", w / b }')"
      fi
    fi
    if [[ -n ${RESULT[auth.off.rps]:-} ]]; then
      printf '\nAuthentication overhead: manifest GET (%d connections) of one small image, Wharf with\n' "$CONNECTIONS"
      printf -- '--no-auth against Wharf with accounts on, measured back to back.\n\n'
      printf '| manifest GET | requests/s | p99 latency (ms) | vs auth off |\n'
      printf '|---|---:|---:|---:|\n'
      auth_row "auth off (--no-auth)" off
      auth_row "auth on, bearer token from /token" bearer
      auth_row "auth on, Basic username:personal access token" basic
    fi
  } >"$WORK/report.md"
  mkdir -p "$(dirname "$OUT")"
  cp "$WORK/report.md" "$OUT"
  printf '\n'
  cat "$WORK/report.md"
  printf '\n(written to %s)\n' "$OUT"
}

# ------------------------------------------------------------------ main ---

start_servers
seed
prepare_push_blobs

for s in "${SERVERS[@]}"; do
  reg_log "warming up $s"
  wrk -t 2 -c "$CONNECTIONS" -d 2s -H "Accept: $OCI_MANIFEST" "http://${ADDR[$s]}/v2/$REPO/manifests/latest" >/dev/null
done
for s in "${SERVERS[@]}"; do
  wrk_run manifest-get "$s" "http://${ADDR[$s]}/v2/$REPO/manifests/latest" "Accept: $OCI_MANIFEST"
done
if [[ -n ${ADDR[wharf]:-} ]]; then
  bare_ceiling
  auth_overhead
fi
for s in "${SERVERS[@]}"; do
  ab_head_run manifest-head "$s" "http://${ADDR[$s]}/v2/$REPO/manifests/latest" "Accept: $OCI_MANIFEST"
done
for s in "${SERVERS[@]}"; do
  wrk_run tags "$s" "http://${ADDR[$s]}/v2/$REPO/tags/list"
done
for s in "${SERVERS[@]}"; do pull_single "$s"; done
for s in "${SERVERS[@]}"; do pull_concurrent "$s"; done
for s in "${SERVERS[@]}"; do push mono "$s"; done
for s in "${SERVERS[@]}"; do push chunked "$s"; done
rm -f "$WORK"/push-*.bin

for s in "${SERVERS[@]}"; do
  kill -0 "${PID[$s]}" 2>/dev/null || reg_die "$s (pid ${PID[$s]}) died during the benchmark; see $WORK/$s.log"
  RESULT[$s.rss]="$(($(reg_peak_rss_kib "${PID[$s]}") / 1024))"
done
report
