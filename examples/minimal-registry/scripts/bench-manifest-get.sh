#!/usr/bin/env bash
# Manifest GET/HEAD throughput of minimal-registry against CNCF Distribution
# (Debian's docker-registry), measured in the same run on this machine.
#
#   cargo build --release -p minimal-registry
#   apt-get install -y docker-registry wrk apache2-utils curl
#   examples/minimal-registry/scripts/bench-manifest-get.sh [seconds] [connections]
#
# Both servers get the same image; wrk and ab share the machine's cores with
# the server under test, so only the ratio between the two is meaningful.
set -euo pipefail
cd "$(dirname "$0")/../../.."
DURATION=${1:-10}
CONNECTIONS=${2:-64}
BIN=target/release/minimal-registry
WORK=$(mktemp -d)
WHARF_PORT=5181
DIST_PORT=5182
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

"$BIN" --listen 127.0.0.1:$WHARF_PORT --data-dir "$WORK/wharf" --log-level "${WHARF_LOG:-info}" --no-auth >"$WORK/wharf.log" 2>&1 &
pids+=($!)
cat >"$WORK/dist.yml" <<YAML
version: 0.1
log:
  level: ${DIST_LOG:-info}
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $WORK/dist
  cache:
    blobdescriptor: inmemory
http:
  addr: 127.0.0.1:$DIST_PORT
YAML
docker-registry serve "$WORK/dist.yml" >"$WORK/dist.log" 2>&1 &
pids+=($!)

wait_up() { for _ in $(seq 100); do curl -fs "http://127.0.0.1:$1/v2/" >/dev/null && return; sleep 0.1; done; echo "port $1 not up" >&2; exit 1; }
wait_up $WHARF_PORT
wait_up $DIST_PORT

config='{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
layer=$(head -c 4096 /dev/urandom | base64 -w0)
sha() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
cd_=$(sha "$config"); ld=$(sha "$layer")
manifest=$(printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%d}]}' "$cd_" "${#config}" "$ld" "${#layer}")
for port in $WHARF_PORT $DIST_PORT; do
  for blob in "$config" "$layer"; do
    loc=$(curl -fsS -D - -o /dev/null -X POST "http://127.0.0.1:$port/v2/bench/app/blobs/uploads/" | tr -d '\r' | awk 'tolower($1)=="location:"{print $2}')
    case "$loc" in http*) ;; *) loc="http://127.0.0.1:$port$loc";; esac
    sep='?'; case "$loc" in *\?*) sep='&';; esac
    curl -fsS -X PUT -H 'Content-Type: application/octet-stream' --data-binary "$blob" "$loc${sep}digest=sha256:$(sha "$blob")" >/dev/null
  done
  curl -fsS -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary "$manifest" "http://127.0.0.1:$port/v2/bench/app/manifests/latest" >/dev/null
done

ACCEPT='Accept: application/vnd.oci.image.manifest.v1+json'
run_wrk() {
  local out; out=$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" -H "$ACCEPT" "$1")
  if grep -q "Non-2xx" <<<"$out"; then echo "non-2xx responses from $1" >&2; exit 1; fi
  awk '/Requests\/sec/{print $2}' <<<"$out"
}
run_ab() { ab -k -i -q -c"$CONNECTIONS" -t"$DURATION" -n 100000000 -H "$ACCEPT" "$1" 2>/dev/null | awk '/Requests per second/{print $4}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }

printf '%-32s %12s %12s %8s\n' "request" "wharf req/s" "dist req/s" "ratio"
for ref in latest "sha256:$(sha "$manifest")"; do
  w=$(run_wrk "http://127.0.0.1:$WHARF_PORT/v2/bench/app/manifests/$ref")
  d=$(run_wrk "http://127.0.0.1:$DIST_PORT/v2/bench/app/manifests/$ref")
  printf '%-32s %12s %12s %8s\n' "GET manifest ${ref:0:20}" "$w" "$d" "$(ratio "$w" "$d")"
done
w=$(run_ab "http://127.0.0.1:$WHARF_PORT/v2/bench/app/manifests/latest")
d=$(run_ab "http://127.0.0.1:$DIST_PORT/v2/bench/app/manifests/latest")
printf '%-32s %12s %12s %8s\n' "HEAD manifest latest" "$w" "$d" "$(ratio "$w" "$d")"
