#!/usr/bin/env bash
# Wharf as several stateless replicas over shared services: three
# minimal-registry processes on different ports sharing one PostgreSQL
# database (metadata and packages) and one S3 bucket (blobs and upload
# sessions), the way a registry runs behind a load balancer.
#
#   scripts/replicas.sh
#
# Starts a throwaway PostgreSQL cluster (initdb) and moto's S3 server,
# then checks, with real clients:
#   1. skopeo pushes an image to replica A and pulls it from B byte-identical
#   2. a chunked upload goes to A, B and A by turns and finishes on C
#   3. a token revoked through the admin CLI is refused by every replica
#      within one second
#   4. a package made public on A is pulled anonymously from B and C at once
#   5. A killed (SIGKILL) in the middle of a push loses nothing acknowledged;
#      the client's retry against B completes
# Needs root (or the tools installed): skopeo, umoci, jq, curl, postgresql,
# python3-venv (for moto, installed into target/moto-venv unless WHARF_MOTO
# names a moto_server). Environment: WHARF_BIN (a prebuilt minimal-registry),
# KEEP_TMP=1 (keep the temp dirs).
set -euo pipefail
shopt -s inherit_errexit

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib/harness.sh
source "$HERE/lib/harness.sh"
# shellcheck source=scripts/lib/servers.sh
source "$HERE/lib/servers.sh"

summary() { printf '\nall %d checks passed in %ds\n' "$CHECKS" "$((SECONDS - STARTED))"; }
# On failure, the end of each replica's log; always, every server stopped.
trap 'srv_on_exit "${WORK:-}"/{a,b,c}.log' EXIT
trap 'exit 130' INT TERM

srv_install_tools skopeo umoci jq curl
BIN="$(reg_build_wharf)"
reg_mktemp replicas WORK
STARTED=$SECONDS

section "shared services: PostgreSQL and an S3 bucket"
srv_start_postgres PG
srv_createdb "$PG" wharf
DATABASE="$PG/wharf"
srv_start_s3 S3
srv_make_bucket "$S3" wharf-replicas
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
export AWS_ENDPOINT="$S3" AWS_ALLOW_HTTP=true
ok "PostgreSQL at $DATABASE, moto S3 at $S3"

# Every replica is reached through one public URL in a real deployment (a
# load balancer); here that is replica C's (which stays up when A is
# killed), so that the token endpoint every challenge names is reachable
# and tokens issued by any replica name the same service. The signing key
# is shared like the rest.
declare -A ADDR PID
for r in a b c; do ADDR[$r]="127.0.0.1:$(reg_free_port)"; done
PUBLIC="http://${ADDR[c]}"
head -c 32 /dev/urandom >"$WORK/signing-key"
chmod 600 "$WORK/signing-key"
SHARED=(--database "$DATABASE" --blob-store s3://wharf-replicas/registry
  --signing-key-file "$WORK/signing-key" --public-url "$PUBLIC" --purge-interval 1s)

admin() { "$BIN" --database "$DATABASE" --data-dir "$WORK/admin" "$@"; }

start_replica() {
  local r=$1
  reg_start_wharf "$BIN" "${ADDR[$r]}" "$WORK/data-$r" "$WORK/$r.log" "${SHARED[@]}" --log-level info
  PID[$r]=$REG_LAST_PID
  reg_wait_ready "${ADDR[$r]}" "${PID[$r]}" "$WORK/$r.log"
}

"$BIN" "${SHARED[@]}" migrate >/dev/null
ok "minimal-registry migrate brings both schemas up to date"
start_replica a
METRICS="127.0.0.1:$(reg_free_port)"
TOKEN="$(grep -o 'wharf_pat_[A-Za-z0-9]*' "$WORK/a.log" | head -n 1)"
[[ -n $TOKEN ]] || fail "replica A printed the bootstrap token" "  log: $(head -c 800 "$WORK/a.log")"
start_replica_with() {
  local r=$1
  shift
  reg_start_wharf "$BIN" "${ADDR[$r]}" "$WORK/data-$r" "$WORK/$r.log" "${SHARED[@]}" "$@"
  PID[$r]=$REG_LAST_PID
  reg_wait_ready "${ADDR[$r]}" "${PID[$r]}" "$WORK/$r.log"
}
start_replica_with b --metrics-listen "$METRICS"
start_replica c
ok "three replicas up on ${ADDR[a]}, ${ADDR[b]} and ${ADDR[c]}, sharing everything"
grep -q wharf_pat_ "$WORK/b.log" "$WORK/c.log" && fail "only the first replica bootstraps an admin token"
ok "only the first replica bootstrapped the admin user"
scraped="$(curl -sS "http://$METRICS/metrics")"
for store in storage packages; do
  expect_contains "/metrics shows the $store database pool" "$scraped" \
    "wharf_database_pool_max_connections{store=\"$store\"}"
done

SKOPEO_ENV=(REGISTRY_AUTH_FILE="$WORK/no-auth.json")
push() { run_skopeo copy -q --dest-tls-verify=false "$@"; }
pull() { run_skopeo copy -q --src-tls-verify=false "$@"; }

# build_image LAYOUT TAG [BYTES]: an image of BYTES (default 100000) random
# bytes.
build_image() {
  layout_image "$1" "$2" replicas "${3:-100000}" "" --os linux --architecture amd64 \
    --config.label "org.opencontainers.image.description=replicas $2"
}

# ------------------------------------------------------- 1. push A, pull B --

section "1. skopeo pushes to A and pulls from B"
SRC="$WORK/src"
build_image "$SRC" v1
push --dest-creds "admin:$TOKEN" "oci:$SRC:v1" "docker://${ADDR[a]}/admin/app:1.0"
pull --src-creds "admin:$TOKEN" "docker://${ADDR[b]}/admin/app:1.0" "oci:$WORK/out:1.0"
expect_eq "the manifest pulled from B is the one pushed to A" \
  "$(layout_digest "$SRC" v1)" "$(layout_digest "$WORK/out" 1.0)"
for blob in "$WORK"/out/blobs/sha256/*; do
  cmp -s "$blob" "$SRC/blobs/sha256/$(basename "$blob")" ||
    fail "blob $(basename "$blob") pulled from B is byte-identical to the one pushed"
done
ok "every blob pulled from B is byte-identical to what was pushed to A"

# ------------------------------------------------ 2. chunks across replicas --

section "2. a chunked upload alternates replicas and finishes on the third"
CURL_AUTH=(-u "admin:$TOKEN")
head -c $((3 * 1024 * 1024 + 123)) /dev/urandom >"$WORK/chunked.bin"
CHUNKED_DIGEST="$(sha256_of_stdin <"$WORK/chunked.bin")"
split -b 1048576 -d "$WORK/chunked.bin" "$WORK/chunk-"
http POST "http://${ADDR[a]}/v2/admin/app/blobs/uploads/"
[[ $HTTP_STATUS == 202 ]] || fail "POST on A starts an upload" "  status: $HTTP_STATUS $(head -c 300 "$WORK/body")"
LOCATION="$(header Location)"
offset=0
turn=(b a b a)
i=0
for chunk in "$WORK"/chunk-*; do
  size=$(stat -c %s "$chunk")
  r=${turn[$((i % 4))]}
  http PATCH "http://${ADDR[$r]}$LOCATION" -H 'Content-Type: application/octet-stream' \
    -H "Content-Range: $offset-$((offset + size - 1))" --data-binary "@$chunk"
  [[ $HTTP_STATUS == 202 ]] || fail "chunk $i on replica $r" "  status: $HTTP_STATUS $(head -c 300 "$WORK/body")"
  LOCATION="$(header Location)"
  offset=$((offset + size))
  i=$((i + 1))
done
ok "$i chunks appended through A and B by turns"
http PUT "http://${ADDR[c]}$LOCATION&digest=$CHUNKED_DIGEST"
[[ $LOCATION == *\?* ]] || http PUT "http://${ADDR[c]}$LOCATION?digest=$CHUNKED_DIGEST"
expect_eq "C finishes the upload" 201 "$HTTP_STATUS"
curl -sS -u "admin:$TOKEN" -L "http://${ADDR[b]}/v2/admin/app/blobs/$CHUNKED_DIGEST" -o "$WORK/chunked.out"
cmp -s "$WORK/chunked.bin" "$WORK/chunked.out" || fail "the blob read back from B is the uploaded bytes"
ok "the blob read back from B is byte-identical"
# B stored chunks and served blobs: its /metrics counts those requests.
scraped="$(curl -sS "http://$METRICS/metrics")"
for series in 'requests_total\{operation="put",outcome="ok"\}' \
  'requests_total\{operation="get(_range)?",outcome="ok"\}' \
  'bytes_total\{direction="sent"\}' 'bytes_total\{direction="received"\}'; do
  grep -Eq "^wharf_object_store_$series [1-9]" <<<"$scraped" ||
    fail "/metrics shows B's object-store $series above 0" \
      "  scraped: $(grep '^wharf_object_store_[rb]' <<<"$scraped" | head -c 2000)"
done
ok "/metrics shows B's object-store requests (puts, gets) and bytes"

# ------------------------------------------------- 3. revocation everywhere --

section "3. a revoked token is refused by every replica within one second"
NEW="$(admin token create admin --scopes read:packages --note replicas 2>"$WORK/created")"
ID="$(grep -o 'token [0-9][0-9]*' "$WORK/created" | head -n 1 | cut -d' ' -f2)"
[[ -n $NEW && -n $ID ]] || fail "the admin CLI creates a token on the shared database" "  $(cat "$WORK/created")"
for r in a b c; do
  code="$(curl -s -o /dev/null -w '%{http_code}' -u "admin:$NEW" "http://${ADDR[$r]}/v2/admin/app/manifests/1.0")"
  expect_eq "the new token works on replica $r" 200 "$code"
done
admin token revoke "$ID" 2>/dev/null
sleep 1
for r in a b c; do
  code="$(curl -s -o /dev/null -w '%{http_code}' -u "admin:$NEW" "http://${ADDR[$r]}/v2/admin/app/manifests/1.0")"
  expect_eq "one second after revoking it, replica $r refuses the token" 401 "$code"
done

# --------------------------------------------------- 4. visibility anywhere --

section "4. a package made public on A is pulled anonymously from B and C"
code="$(curl -s -o /dev/null -w '%{http_code}' "http://${ADDR[b]}/v2/admin/app/manifests/1.0")"
expect_eq "before: B refuses an anonymous pull of the private package" 401 "$code"
http PATCH "http://${ADDR[a]}/users/admin/packages/container/app" -H 'Content-Type: application/json' \
  -d '{"visibility":"public"}'
expect_eq "PATCH visibility public on A" 200 "$HTTP_STATUS"
sleep 1
for r in b c; do
  pull --src-no-creds "docker://${ADDR[$r]}/admin/app:1.0" "oci:$WORK/anon-$r:1.0"
  expect_eq "anonymous skopeo pull from $r" "$(layout_digest "$SRC" v1)" "$(layout_digest "$WORK/anon-$r" 1.0)"
done

# ------------------------------------------------ 5. a replica dies mid-push --

section "5. A killed mid-push loses nothing acknowledged; the retry on B completes"
build_image "$SRC" v2 $((40 * 1024 * 1024))
# A slow push to A (curl's rate limit on an upload of the big layer), killed
# with SIGKILL half way.
http POST "http://${ADDR[a]}/v2/admin/app/blobs/uploads/"
LOCATION="$(header Location)"
layer="$(ls -S "$SRC"/blobs/sha256/ | head -n 1)"
curl -sS -u "admin:$TOKEN" -X PATCH -H 'Content-Type: application/octet-stream' --limit-rate 4M \
  --data-binary "@$SRC/blobs/sha256/$layer" -o /dev/null "http://${ADDR[a]}$LOCATION" 2>/dev/null &
slow=$!
sleep 2
kill -9 "${PID[a]}"
wait "$slow" 2>/dev/null || true
ok "replica A killed with SIGKILL in the middle of a 40 MiB layer upload"
push --dest-creds "admin:$TOKEN" "oci:$SRC:v2" "docker://${ADDR[b]}/admin/app:2.0"
pull --src-creds "admin:$TOKEN" "docker://${ADDR[c]}/admin/app:2.0" "oci:$WORK/out2:2.0"
expect_eq "the retried push through B is pulled whole from C" \
  "$(layout_digest "$SRC" v2)" "$(layout_digest "$WORK/out2" 2.0)"
pull --src-creds "admin:$TOKEN" "docker://${ADDR[c]}/admin/app:1.0" "oci:$WORK/out3:1.0"
expect_eq "what A acknowledged before it died is still there" \
  "$(layout_digest "$SRC" v1)" "$(layout_digest "$WORK/out3" 1.0)"

# ---------------------------------------------- 6. redirects to the bucket --

section "6. with --blob-redirects, blob pulls go to presigned URLs of the bucket"
ADDR[d]="127.0.0.1:$(reg_free_port)"
start_replica_with d --blob-redirects 2m
layer="$(jq -r '.layers[0].digest' "$WORK/out/blobs/sha256/$(layout_digest "$WORK/out" 1.0 | cut -d: -f2)")"
http GET "http://${ADDR[d]}/v2/admin/app/blobs/$layer"
expect_eq "an anonymous pull of a public layer is redirected" 307 "$HTTP_STATUS"
expect_contains "to a presigned URL of the bucket" "$(header Location)" "$S3/wharf-replicas/registry/blobs/sha256/"
http GET "http://${ADDR[d]}/v2/admin/secret/blobs/$layer" -u "admin:$TOKEN"
expect_eq "the same digest through a repository that does not hold it: 404" 404 "$HTTP_STATUS"
expect_eq "and no URL" "" "$(header Location)"
pull --src-no-creds "docker://${ADDR[d]}/admin/app:1.0" "oci:$WORK/redirected:1.0"
for blob in "$WORK"/redirected/blobs/sha256/*; do
  cmp -s "$blob" "$SRC/blobs/sha256/$(basename "$blob")" ||
    fail "blob $(basename "$blob") pulled through the redirect is byte-identical"
done
ok "skopeo follows the redirects and pulls every blob byte-identical"
