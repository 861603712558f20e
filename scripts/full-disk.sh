#!/usr/bin/env bash
# A full disk at the server level: minimal-registry (authentication on, its
# database and blobs on one small tmpfs) serves an image; the filesystem is
# then filled up. Pushes must get a clear error (507 INSUFFICIENT_STORAGE or
# 503, an OCI error body with a message), pulls must keep working, and once
# space is freed the registry must accept pushes again without a restart.
#
# Needs root (to mount a tmpfs); prints a skip line and exits 0 otherwise.
# Environment: WHARF_BIN (a prebuilt minimal-registry), KEEP_TMP=1.
set -euo pipefail
shopt -s inherit_errexit

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib/harness.sh
source "$HERE/lib/harness.sh"

reg_mktemp full-disk TMP
MNT="$TMP/mnt"
mkdir -p "$MNT"
if ! mount -t tmpfs -o size=48m tmpfs "$MNT" 2>/dev/null; then
  echo "skip - cannot mount a tmpfs here (needs root)"
  exit 0
fi
cleanup() {
  local pid
  for pid in "${REG_PIDS[@]}"; do reg_stop "$pid"; done
  umount "$MNT" 2>/dev/null || true
  reg_cleanup
}
trap cleanup EXIT
BIN="$(reg_build_wharf)"
DATA="$MNT/data"
PORT="$(reg_free_port)"
ADDR="127.0.0.1:$PORT"
BASE="http://$ADDR"
reg_start_wharf "$BIN" "$ADDR" "$DATA" "$TMP/log" --log-level warn
reg_wait_ready "$ADDR" "$REG_LAST_PID" "$TMP/log" 60

USER=diskfull
SECRET=$("$BIN" --data-dir "$DATA" user create "$USER" >/dev/null 2>&1 &&
  "$BIN" --data-dir "$DATA" token create "$USER" --scopes read:packages,write:packages 2>/dev/null | tr -d '\n')
CREDS="$USER:$SECRET"
REPO="$USER/app"
sha() { sha256sum "$1" | cut -d' ' -f1; }

# push_blob FILE: monolithic push; prints the status and keeps the body in $TMP/reply.
push_blob() {
  curl -s -u "$CREDS" -o "$TMP/reply" -w '%{http_code}' -X POST --data-binary "@$1" \
    -H 'Content-Type: application/octet-stream' "$BASE/v2/$REPO/blobs/uploads/?digest=sha256:$(sha "$1")"
}
push_image() { # CONFIG LAYER TAG
  local status
  for blob in "$1" "$2"; do
    status=$(push_blob "$blob")
    [[ $status == 201 ]] || { echo "$status"; return; }
  done
  cat >"$TMP/manifest" <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
 "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:$(sha "$1")","size":$(stat -c %s "$1")},
 "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:$(sha "$2")","size":$(stat -c %s "$2")}]}
JSON
  curl -s -u "$CREDS" -o "$TMP/reply" -w '%{http_code}' -X PUT --data-binary "@$TMP/manifest" \
    -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' "$BASE/v2/$REPO/manifests/$3"
}

printf '{"architecture":"amd64","os":"linux"}' >"$TMP/config"
head -c 2000000 /dev/urandom >"$TMP/layer"
status=$(push_image "$TMP/config" "$TMP/layer" v1)
[[ $status == 201 ]] || reg_die "the first push answered $status: $(cat "$TMP/reply")"
echo "ok - an image pushed while there is space"

# Fill the filesystem.
dd if=/dev/zero of="$MNT/filler" bs=1M 2>/dev/null || true
echo "ok - the data filesystem is full ($(df -h "$MNT" | awk 'NR==2{print $4}') left)"

head -c 8000000 /dev/urandom >"$TMP/big"
status=$(push_blob "$TMP/big")
case $status in
  507 | 503) ;;
  *) reg_die "a push to a full disk answered $status, not 507 or 503: $(cat "$TMP/reply")" ;;
esac
code=$(jq -r '.errors[0].code' "$TMP/reply")
message=$(jq -r '.errors[0].message' "$TMP/reply")
[[ -n $code && $code != null && -n $message && $message != null ]] ||
  reg_die "the error body is not an OCI error: $(cat "$TMP/reply")"
echo "ok - a push to the full disk answers $status $code: $message"

printf '{"architecture":"arm64","os":"linux"}' >"$TMP/config2"
head -c 4000000 /dev/urandom >"$TMP/layer2"
status=$(push_image "$TMP/config2" "$TMP/layer2" v2)
[[ $status == 507 || $status == 503 ]] || reg_die "an image push to a full disk answered $status: $(cat "$TMP/reply")"
echo "ok - an image push to the full disk answers $status"

pulled=$(curl -s -u "$CREDS" "$BASE/v2/$REPO/blobs/sha256:$(sha "$TMP/layer")" | sha256sum | cut -d' ' -f1)
[[ $pulled == "$(sha "$TMP/layer")" ]] || reg_die "a pull from the full disk did not return the layer"
status=$(curl -s -u "$CREDS" -o /dev/null -w '%{http_code}' \
  -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$BASE/v2/$REPO/manifests/v1")
[[ $status == 200 ]] || reg_die "the manifest pull on a full disk answered $status"
echo "ok - pulls keep working on the full disk"

rm -f "$MNT/filler"
status=$(push_image "$TMP/config2" "$TMP/layer2" v2)
[[ $status == 201 ]] || reg_die "once space was freed the push answered $status: $(cat "$TMP/reply")"
pulled=$(curl -s -u "$CREDS" "$BASE/v2/$REPO/blobs/sha256:$(sha "$TMP/layer2")" | sha256sum | cut -d' ' -f1)
[[ $pulled == "$(sha "$TMP/layer2")" ]] || reg_die "the layer pushed after recovery does not pull back"
kill -0 "$REG_LAST_PID" || reg_die "the registry died"
echo "ok - once space is freed the registry accepts pushes again, without a restart"
