#!/usr/bin/env bash
# Garbage collection with real clients: skopeo pushes two images built with
# umoci that share their base layer; one is deleted; `minimal-registry gc`
# runs (in its own process, while the registry serves); the other still
# pulls byte-identical, the deleted one's own layers and config are gone
# from the store, and the shared layer stays.
#
#   scripts/gc-interop.sh [--no-install]
#
# Twice: on the embedded default (filesystem + SQLite) with authentication
# off, where a DELETE of the manifest removes it; and with authentication
# on, where a package deleted through the REST API stays restorable, its
# blobs kept, until the restore window (three seconds here) has passed and
# the registry's purge (every second here) has removed it.
#
# Needs root (or the tools installed): skopeo, umoci, jq, curl.
# Environment: WHARF_BIN (a prebuilt minimal-registry), KEEP_TMP=1.
set -euo pipefail
shopt -s inherit_errexit

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib/harness.sh
source "$HERE/lib/harness.sh"

INSTALL=1
[[ ${1:-} != --no-install ]] || INSTALL=0

summary() { printf '\nall %d checks passed in %ds\n' "$CHECKS" "$((SECONDS - STARTED))"; }
trap 'checks_on_exit 20' EXIT
trap 'exit 130' INT TERM

mapfile -t MISSING < <(reg_missing_commands skopeo umoci jq curl)
if ((${#MISSING[@]})); then
  ((INSTALL)) || reg_die "missing tools (${MISSING[*]}) and --no-install given"
  reg_apt_install "${MISSING[@]}"
fi
BIN="$(reg_build_wharf)"
reg_mktemp gc-interop WORK
STARTED=$SECONDS

copy() { run_skopeo copy -q --src-tls-verify=false --dest-tls-verify=false "$@"; }

# add_layer LAYOUT FROM TO: tag TO in LAYOUT as FROM plus a layer of random
# files.
add_layer() {
  local layout=$1 from=$2 to=$3 bundle="$WORK/bundle"
  umoci tag --image "$layout:$from" "$to"
  umoci unpack --image "$layout:$to" "$bundle" >/dev/null
  mkdir -p "$bundle/rootfs/opt/$to"
  head -c $((RANDOM * 8 + 4096)) /dev/urandom >"$bundle/rootfs/opt/$to/data.bin"
  umoci repack --image "$layout:$to" "$bundle"
  rm -rf "$bundle"
  umoci config --image "$layout:$to" --config.label "built-for=$to"
}

# blobs_of LAYOUT TAG: the config and layer digests of the image, one a line.
blobs_of() {
  local manifest
  manifest="$(layout_digest "$1" "$2")"
  jq -r '.config.digest, .layers[].digest' "$1/blobs/sha256/${manifest#sha256:}"
}

# stored DATA DIGEST: whether the embedded store under DATA holds the blob.
stored() {
  local hex=${2#sha256:}
  [[ -f $1/blobs/sha256/${hex:0:2}/$hex ]]
}

SRC="$WORK/src"
umoci init --layout "$SRC"
umoci new --image "$SRC:empty"
add_layer "$SRC" empty base
add_layer "$SRC" base one
add_layer "$SRC" base two
mapfile -t ONE < <(blobs_of "$SRC" one)
mapfile -t TWO < <(blobs_of "$SRC" two)
SHARED="${ONE[1]}"
expect_eq "the two images share their base layer" "$SHARED" "${TWO[1]}"
ONE_OWN=("${ONE[0]}" "${ONE[2]}")

# check_collected DATA REPO: after the collection, image two pulls
# byte-identical, image one's own blobs are gone, the shared one stays.
check_collected() {
  local data=$1 repo=$2 out="$WORK/out-$RANDOM" blob
  copy "${SKOPEO_PULL[@]}" "docker://$ADDR/$repo/two:1" "oci:$out:two"
  expect_eq "image two pulls with the digest it was pushed with" \
    "$(layout_digest "$SRC" two)" "$(layout_digest "$out" two)"
  for blob in "${TWO[@]}"; do
    cmp -s "$SRC/blobs/sha256/${blob#sha256:}" "$out/blobs/sha256/${blob#sha256:}" ||
      fail "blob $blob of image two pulls byte-identical"
  done
  ok "every blob of image two pulls byte-identical"
  stored "$data" "$SHARED" || fail "the shared base layer is still stored"
  ok "the shared base layer is still stored"
  for blob in "${ONE_OWN[@]}"; do
    ! stored "$data" "$blob" || fail "image one's own blob $blob is gone from the store"
  done
  ok "image one's own layer and config are gone from the store"
}

# gc DATA [--dry-run]: one collection with a grace period of zero; its
# report.
gc() {
  local data=$1
  shift
  "$BIN" --data-dir "$data" gc --grace 0s "$@" 2>"$WORK/gc.err" || {
    cat "$WORK/gc.err" >&2
    fail "minimal-registry gc succeeded"
  }
}

# ---------------------------------------------- authentication off ---

section "authentication off: a deleted image's own blobs are collected"
DATA="$WORK/open"
ADDR="127.0.0.1:$(reg_free_port)"
reg_start_wharf "$BIN" "$ADDR" "$DATA" "$WORK/registry.log" --no-auth
reg_wait_ready "$ADDR" "$REG_LAST_PID" "$WORK/registry.log"
SKOPEO_PULL=()
copy "oci:$SRC:one" "docker://$ADDR/gc/one:1"
copy "oci:$SRC:two" "docker://$ADDR/gc/two:1"
for blob in "${ONE[@]}" "${TWO[@]}"; do stored "$DATA" "$blob" || fail "pushed blob $blob stored"; done
ok "both images pushed, their blobs stored"

REPORT="$(gc "$DATA" --dry-run)"
printf '%s\n' "$REPORT"
for blob in "${ONE[@]}"; do stored "$DATA" "$blob" || fail "a dry run before the delete keeps $blob"; done
ok "a collection with both images stored removes nothing"

run_skopeo delete --tls-verify=false "docker://$ADDR/gc/one:1"
ok "image one deleted (skopeo delete)"
REPORT="$(gc "$DATA")"
printf '%s\n' "$REPORT"
expect_contains "the report counts the blobs removed" "$REPORT" "blobs removed: 2"
check_collected "$DATA" gc
reg_stop "$REG_LAST_PID"

# ----------------------------------------------- authentication on ---

section "authentication on: a deleted version goes when the restore window has passed"
DATA="$WORK/auth"
"$BIN" --data-dir "$DATA" user create alice >/dev/null
TOKEN="$("$BIN" --data-dir "$DATA" token create alice --scopes read:packages,write:packages,delete:packages)"
ADDR="127.0.0.1:$(reg_free_port)"
reg_start_wharf "$BIN" "$ADDR" "$DATA" "$WORK/registry-auth.log" --restore-window 3s --purge-interval 1s
reg_wait_ready "$ADDR" "$REG_LAST_PID" "$WORK/registry-auth.log"
SKOPEO_PULL=(--src-creds "alice:$TOKEN")
copy --dest-creds "alice:$TOKEN" "oci:$SRC:one" "docker://$ADDR/alice/one:1"
copy --dest-creds "alice:$TOKEN" "oci:$SRC:two" "docker://$ADDR/alice/two:1"
ok "both images pushed as alice"

CURL_AUTH=(-u "alice:$TOKEN")
http DELETE "http://$ADDR/user/packages/container/one"
expect_eq "DELETE the package one through the REST API" 204 "$HTTP_STATUS"
REPORT="$(gc "$DATA")"
for blob in "${ONE_OWN[@]}"; do stored "$DATA" "$blob" || fail "a restorable package keeps $blob"; done
ok "a deleted package inside its restore window keeps its blobs"
# The registry purges it once the window has passed (it looks every second).
sleep 5
REPORT="$(gc "$DATA")"
printf '%s\n' "$REPORT"
expect_contains "the report counts the blobs removed" "$REPORT" "blobs removed: 2"
check_collected "$DATA" alice
reg_stop "$REG_LAST_PID"
