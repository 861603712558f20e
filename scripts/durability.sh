#!/usr/bin/env bash
# Durability before acknowledgment: runs minimal-registry under strace, pushes
# a blob monolithically, a blob in chunks and a manifest by tag with curl,
# and checks in the trace that, before each 201 was sent, the data of the
# blob (and its repository link) or of the manifest (and its tag) was
# fsynced, renamed into place, and its directory fsynced
# (scripts/durability_check.py says exactly what is checked).
#
# Needs strace, curl, jq and python3 (installed with apt-get when root).
# Environment: WHARF_BIN (a prebuilt minimal-registry), KEEP_TMP=1.
set -euo pipefail
shopt -s inherit_errexit

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib/harness.sh
source "$HERE/lib/harness.sh"

if ! command -v strace >/dev/null; then
  [[ $(id -u) == 0 ]] || reg_die "strace is not installed"
  reg_apt_install strace
fi
trap reg_cleanup EXIT
BIN="$(reg_build_wharf)"
reg_mktemp durability TMP
PORT="$(reg_free_port)"
ADDR="127.0.0.1:$PORT"
BASE="http://$ADDR"
TRACE="$TMP/trace"
mkdir -p "$TMP/data"

strace -f -yy -s 120 -o "$TRACE" \
  -e trace=fsync,fdatasync,rename,renameat,renameat2,write,writev,sendto,sendmsg \
  "$BIN" --listen "$ADDR" --data-dir "$TMP/data" --no-auth --log-level warn >"$TMP/log" 2>&1 &
REG_PIDS+=("$!")
reg_wait_ready "$ADDR" "${REG_PIDS[-1]}" "$TMP/log" 60

REPO=durability/app
sha() { sha256sum "$1" | cut -d' ' -f1; }
head -c 300000 /dev/urandom >"$TMP/layer"
printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}' >"$TMP/config"
CONFIG=$(sha "$TMP/config")
LAYER=$(sha "$TMP/layer")

# 1. The config, monolithically: POST with the digest and the body.
status=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary "@$TMP/config" \
  -H 'Content-Type: application/octet-stream' "$BASE/v2/$REPO/blobs/uploads/?digest=sha256:$CONFIG")
[[ $status == 201 ]] || reg_die "monolithic push answered $status"

# 2. The layer in two chunks.
location=$(curl -s -D - -o /dev/null -X POST "$BASE/v2/$REPO/blobs/uploads/" |
  tr -d '\r' | awk -F': ' 'tolower($1)=="location"{print $2}')
[[ $location == /* ]] && location="$BASE$location"
head -c 150000 "$TMP/layer" >"$TMP/chunk1"
tail -c +150001 "$TMP/layer" >"$TMP/chunk2"
location=$(curl -s -D - -o /dev/null -X PATCH --data-binary "@$TMP/chunk1" \
  -H 'Content-Type: application/octet-stream' -H 'Content-Range: 0-149999' "$location" |
  tr -d '\r' | awk -F': ' 'tolower($1)=="location"{print $2}')
[[ $location == /* ]] && location="$BASE$location"
sep='?'; [[ $location == *\?* ]] && sep='&'
status=$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary "@$TMP/chunk2" \
  -H 'Content-Type: application/octet-stream' "$location${sep}digest=sha256:$LAYER")
[[ $status == 201 ]] || reg_die "chunked push answered $status"

# 3. The manifest, by tag.
cat >"$TMP/manifest" <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
 "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:$CONFIG","size":$(stat -c %s "$TMP/config")},
 "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:$LAYER","size":$(stat -c %s "$TMP/layer")}]}
JSON
MANIFEST=$(sha "$TMP/manifest")
status=$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary "@$TMP/manifest" \
  -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' "$BASE/v2/$REPO/manifests/v1")
[[ $status == 201 ]] || reg_die "manifest push answered $status"

reg_stop "${REG_PIDS[-1]}" 2>/dev/null || true
sleep 0.5
python3 "$HERE/durability_check.py" "$TRACE" "blob:$CONFIG" "blob:$LAYER" "manifest:$MANIFEST"
