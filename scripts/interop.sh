#!/usr/bin/env bash
# Interoperability tests of a registry with real clients: skopeo, umoci and
# the ORAS Python SDK, plus curl for the protocol details they do not show.
#
#   scripts/interop.sh                        build and test minimal-registry
#   scripts/interop.sh --target distribution  test CNCF Distribution instead
#   scripts/interop.sh --registry HOST:PORT   test a registry already running
#
# Each run starts the registry on a free loopback port with fresh storage in a
# temporary directory, and stops it at exit. Every check prints `ok - WHAT`;
# the first failure prints what was expected and what came back, and the
# script exits 1. Needs root (or the tools already installed): it installs
# skopeo, umoci, jq, curl and python3-venv with apt-get, and the ORAS SDK into
# a virtual environment under target/interop-venv (INTEROP_VENV to move it).
#
# Environment: WHARF_BIN (a prebuilt minimal-registry), BIG_BLOB_MIB (size of
# the large-blob round trip, default 1024), REGISTRY_USER/REGISTRY_PASSWORD
# (credentials, when the registry asks), KEEP_TMP=1 (keep the temp dirs).
set -euo pipefail
shopt -s inherit_errexit

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib/harness.sh
source "$HERE/lib/harness.sh"

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }

TARGET=wharf
REGISTRY=
INSTALL=1
while (($#)); do
  case $1 in
    --target) TARGET=${2:?--target needs wharf or distribution}; shift 2 ;;
    --target=*) TARGET=${1#*=}; shift ;;
    --registry) REGISTRY=${2:?--registry needs HOST:PORT}; TARGET=external; shift 2 ;;
    --registry=*) REGISTRY=${1#*=}; TARGET=external; shift ;;
    --no-install) INSTALL=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; reg_die "unknown argument: $1" ;;
  esac
done
case $TARGET in wharf | distribution | external) ;; *) reg_die "--target must be wharf or distribution, not '$TARGET'" ;; esac

BIG_BLOB_MIB=${BIG_BLOB_MIB:-1024}
CHUNK_MIB=64
OCI_MANIFEST=application/vnd.oci.image.manifest.v1+json
OCI_INDEX=application/vnd.oci.image.index.v1+json
DOCKER_MANIFEST=application/vnd.docker.distribution.manifest.v2+json
DOCKER_LIST=application/vnd.docker.distribution.manifest.list.v2+json
ACCEPT_ALL="$OCI_MANIFEST, $OCI_INDEX, $DOCKER_MANIFEST, $DOCKER_LIST"

# ------------------------------------------------------------------ setup ---

install_tools() {
  local tools=(skopeo umoci jq curl) missing
  [[ $TARGET != distribution ]] || tools+=(docker-registry)
  mapfile -t missing < <(reg_missing_commands "${tools[@]}")
  /usr/bin/python3 -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)
  ((${#missing[@]})) || return 0
  ((INSTALL)) || reg_die "missing tools (${missing[*]}) and --no-install given"
  reg_apt_install "${missing[@]}"
}

start_registry() {
  case $TARGET in
    external)
      ADDR=$REGISTRY
      code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$ADDR/v2/" || true)"
      [[ $code == 200 || $code == 401 ]] || reg_die "nothing answers on http://$ADDR/v2/ (status '$code')"
      ;;
    wharf)
      local bin
      bin="$(reg_build_wharf)"
      ADDR="127.0.0.1:$(reg_free_port)"
      # The clients push without credentials: authentication off.
      reg_start_wharf "$bin" "$ADDR" "$WORK/registry-data" "$WORK/registry.log" --no-auth
      reg_wait_ready "$ADDR" "$REG_LAST_PID" "$WORK/registry.log"
      ;;
    distribution)
      ADDR="127.0.0.1:$(reg_free_port)"
      reg_start_distribution "$ADDR" "$WORK/distribution" "$WORK/registry.log"
      reg_wait_ready "$ADDR" "$REG_LAST_PID" "$WORK/registry.log"
      ;;
  esac
  reg_log "testing $TARGET on http://$ADDR"
}

summary() {
  printf '\nall %d checks passed against %s in %ds (%d skipped)\n' \
    "$CHECKS" "$TARGET" "$((SECONDS - STARTED))" "$SKIPS"
}
trap 'checks_on_exit 10' EXIT
trap 'exit 130' INT TERM

install_tools
reg_oras_venv "$INSTALL"
reg_mktemp interop WORK
start_registry
STARTED=$SECONDS # the runtime reported at the end leaves the build out

# --------------------------------------------------------------- helpers ---

SKOPEO_CREDS=()
if [[ -n ${REGISTRY_USER:-} ]]; then
  CURL_AUTH=(-u "$REGISTRY_USER:${REGISTRY_PASSWORD:-}")
  SKOPEO_CREDS=(--creds "$REGISTRY_USER:${REGISTRY_PASSWORD:-}")
fi
export REGISTRY_USER REGISTRY_PASSWORD

copy() { run_skopeo copy -q --src-tls-verify=false --dest-tls-verify=false "${SKOPEO_CREDS[@]/--creds/--dest-creds}" "$@"; }
copy_from_registry() { run_skopeo copy -q --src-tls-verify=false "${SKOPEO_CREDS[@]/--creds/--src-creds}" "$@"; }
inspect() { run_skopeo inspect --tls-verify=false "${SKOPEO_CREDS[@]}" "$@"; }

# absolute URL of a Location header value (registries may send a path).
absolute() {
  case $1 in
    http://* | https://*) printf '%s' "$1" ;;
    *) printf 'http://%s%s' "$ADDR" "$1" ;;
  esac
}

# with_query URL KEY=VALUE: URL with one more query parameter.
with_query() {
  case $1 in
    *\?*) printf '%s&%s' "$1" "$2" ;;
    *) printf '%s?%s' "$1" "$2" ;;
  esac
}

# verify_layout_blobs LAYOUT: every blob's content hashes to its file name.
verify_layout_blobs() {
  local blob bad=()
  for blob in "$1"/blobs/sha256/*; do
    [[ "$(sha256sum <"$blob" | cut -d' ' -f1)" == "$(basename "$blob")" ]] || bad+=("$blob")
  done
  expect_eq "every blob in $(basename "$1") hashes to its name" "" "${bad[*]}"
}

# build_image LAYOUT TAG ARCH: an image built with umoci from random bytes,
# labelled with the package metadata GitHub's registry shows.
build_image() {
  local arch=$3
  layout_image "$1" "$2" interop $((RANDOM * 48 + 3000)) "built for $arch by scripts/interop.sh" \
    --author "Wharf interop <interop@example.com>" \
    --os linux --architecture "$arch" \
    --config.label "org.opencontainers.image.description=Wharf interop test image ($arch)" \
    --config.label org.opencontainers.image.licenses=MIT \
    --config.label org.opencontainers.image.source=https://github.com/wharf-rs/wharf
}

REPO_IMAGE=interop/image
REPO_MULTI=interop/multi
REPO_ARTIFACT=interop/artifact
REPO_BIG=interop/big
SRC="$WORK/src"

# ------------------------------------------------ 1. OCI image, skopeo ---

section "1. an OCI image built with umoci, pushed and pulled with skopeo"
build_image "$SRC" amd64 amd64
AMD64_DIGEST="$(layout_digest "$SRC" amd64)"
SRC_LAYERS="$(inspect "oci:$SRC:amd64" | jq -c .Layers)"

copy "oci:$SRC:amd64" "docker://$ADDR/$REPO_IMAGE:1.0"
expect_eq "raw manifest served for the tag hashes to the pushed digest" \
  "$AMD64_DIGEST" "$(inspect --raw "docker://$ADDR/$REPO_IMAGE:1.0" | sha256_of_stdin)"
REMOTE="$(inspect "docker://$ADDR/$REPO_IMAGE:1.0")"
expect_eq "skopeo inspect Digest" "$AMD64_DIGEST" "$(jq -r .Digest <<<"$REMOTE")"
expect_eq "layer digests in the registry" "$SRC_LAYERS" "$(jq -c .Layers <<<"$REMOTE")"
expect_eq "config label org.opencontainers.image.licenses" \
  MIT "$(jq -r '.Labels["org.opencontainers.image.licenses"]' <<<"$REMOTE")"

http HEAD "http://$ADDR/v2/$REPO_IMAGE/manifests/1.0" -H "Accept: $ACCEPT_ALL"
expect_eq "HEAD manifest status" 200 "$HTTP_STATUS"
expect_eq "HEAD manifest Docker-Content-Digest" "$AMD64_DIGEST" "$(header Docker-Content-Digest)"
expect_eq "HEAD manifest Content-Type" "$OCI_MANIFEST" "$(header Content-Type)"

OUT1="$WORK/out-oci"
copy_from_registry "docker://$ADDR/$REPO_IMAGE:1.0" "oci:$OUT1:1.0"
expect_eq "manifest digest in the pulled oci: layout" "$AMD64_DIGEST" "$(layout_digest "$OUT1" 1.0)"
expect_eq "layer digests in the pulled oci: layout" "$SRC_LAYERS" "$(inspect "oci:$OUT1:1.0" | jq -c .Layers)"
verify_layout_blobs "$OUT1"

# ---------------------------------------- 2. Docker V2 Schema 2, skopeo ---

section "2. the same image as Docker V2 Schema 2"
copy --format v2s2 "oci:$SRC:amd64" "docker://$ADDR/$REPO_IMAGE:v2s2"
V2_RAW="$WORK/v2s2-manifest.json"
inspect --raw "docker://$ADDR/$REPO_IMAGE:v2s2" >"$V2_RAW"
V2_DIGEST="$(sha256_of_stdin <"$V2_RAW")"
expect_eq "v2s2 manifest mediaType" "$DOCKER_MANIFEST" "$(jq -r .mediaType "$V2_RAW")"
expect_eq "v2s2 skopeo inspect Digest" "$V2_DIGEST" "$(inspect "docker://$ADDR/$REPO_IMAGE:v2s2" | jq -r .Digest)"
expect_eq "v2s2 layer digests" "$SRC_LAYERS" "$(inspect "docker://$ADDR/$REPO_IMAGE:v2s2" | jq -c .Layers)"

http GET "http://$ADDR/v2/$REPO_IMAGE/manifests/v2s2" -H "Accept: $ACCEPT_ALL"
expect_eq "GET v2s2 manifest status" 200 "$HTTP_STATUS"
expect_eq "GET v2s2 manifest Content-Type is the Docker media type" "$DOCKER_MANIFEST" "$(header Content-Type)"
expect_eq "GET v2s2 manifest Docker-Content-Digest" "$V2_DIGEST" "$(header Docker-Content-Digest)"
expect_eq "GET v2s2 manifest body hashes to its digest" "$V2_DIGEST" "$(sha256_of_stdin <"$WORK/body")"

OUT2="$WORK/out-v2s2"
copy_from_registry "docker://$ADDR/$REPO_IMAGE:v2s2" "dir:$OUT2"
expect_eq "v2s2 manifest pulled into dir: keeps its digest" "$V2_DIGEST" "$(sha256_of_stdin <"$OUT2/manifest.json")"
for layer in $(jq -r '.layers[].digest' "$OUT2/manifest.json"); do
  expect_eq "v2s2 pulled layer $layer" "$layer" "$(sha256_of_stdin <"$OUT2/${layer#sha256:}")"
done

# ----------------------------------------------- 3. multi-arch index ---

section "3. a two-platform OCI index, copied with --all, one platform pulled"
build_image "$SRC" arm64 arm64
ARM64_DIGEST="$(layout_digest "$SRC" arm64)"
INDEX="$WORK/index.json"
jq -c --arg amd "$AMD64_DIGEST" --arg arm "$ARM64_DIGEST" --arg mt "$OCI_MANIFEST" --arg it "$OCI_INDEX" '
  [.manifests[] | select(.digest == $amd or .digest == $arm)] as $m
  | ($m[] | select(.digest == $amd)) as $a
  | ($m[] | select(.digest == $arm)) as $r
  | {
      schemaVersion: 2,
      mediaType: $it,
      manifests: [
        {mediaType: $mt, digest: $a.digest, size: $a.size, platform: {architecture: "amd64", os: "linux"}},
        {mediaType: $mt, digest: $r.digest, size: $r.size, platform: {architecture: "arm64", os: "linux", variant: "v8"}}
      ],
      annotations: {
        "org.opencontainers.image.description": "Wharf interop multi-arch image",
        "org.opencontainers.image.licenses": "MIT",
        "org.opencontainers.image.source": "https://github.com/wharf-rs/wharf"
      }
    }' "$SRC/index.json" | tr -d '\n' >"$INDEX"
INDEX_DIGEST="$(sha256_of_stdin <"$INDEX")"
cp "$INDEX" "$SRC/blobs/sha256/${INDEX_DIGEST#sha256:}"
jq --arg d "$INDEX_DIGEST" --argjson s "$(stat -c %s "$INDEX")" --arg it "$OCI_INDEX" \
  '.manifests += [{mediaType: $it, digest: $d, size: $s, annotations: {"org.opencontainers.image.ref.name": "multi"}}]' \
  "$SRC/index.json" >"$WORK/layout-index.json"
mv "$WORK/layout-index.json" "$SRC/index.json"

copy --all "oci:$SRC:multi" "docker://$ADDR/$REPO_MULTI:1.0"
expect_eq "index served for the tag hashes to the pushed digest" \
  "$INDEX_DIGEST" "$(inspect --raw "docker://$ADDR/$REPO_MULTI:1.0" | sha256_of_stdin)"
http GET "http://$ADDR/v2/$REPO_MULTI/manifests/1.0" -H "Accept: $ACCEPT_ALL"
expect_eq "GET index Content-Type" "$OCI_INDEX" "$(header Content-Type)"
for d in "$AMD64_DIGEST" "$ARM64_DIGEST"; do
  http HEAD "http://$ADDR/v2/$REPO_MULTI/manifests/$d" -H "Accept: $ACCEPT_ALL"
  expect_eq "child manifest $d present in $REPO_MULTI" 200 "$HTTP_STATUS"
done

OUT3="$WORK/out-arm64"
copy_from_registry --override-arch arm64 "docker://$ADDR/$REPO_MULTI:1.0" "oci:$OUT3:arm64"
expect_eq "--override-arch arm64 pulls the arm64 manifest" "$ARM64_DIGEST" "$(layout_digest "$OUT3" arm64)"
expect_eq "pulled arm64 image's architecture" arm64 "$(inspect --config "oci:$OUT3:arm64" | jq -r .architecture)"
expect_eq "--override-arch amd64 resolves to the amd64 image's layers" "$SRC_LAYERS" \
  "$(inspect --override-arch amd64 "docker://$ADDR/$REPO_MULTI:1.0" | jq -c .Layers)"
verify_layout_blobs "$OUT3"

OUT4="$WORK/out-multi"
copy_from_registry --all "docker://$ADDR/$REPO_MULTI:1.0" "oci:$OUT4:multi"
expect_eq "index pulled with --all keeps its digest" "$INDEX_DIGEST" "$(layout_digest "$OUT4" multi)"
verify_layout_blobs "$OUT4"
rm -rf "$OUT1" "$OUT2" "$OUT3" "$OUT4"

# ---------------------------------- 4. tags, digests, list-tags, delete ---

section "4. pull by tag and by digest, list tags, delete"
copy_from_registry "docker://$ADDR/$REPO_IMAGE@$AMD64_DIGEST" "oci:$WORK/out-digest:bydigest"
expect_eq "pull by digest" "$AMD64_DIGEST" "$(layout_digest "$WORK/out-digest" bydigest)"
rm -rf "$WORK/out-digest"

# Registry-to-registry copies: the same manifest under two more tags.
run_skopeo copy -q --src-tls-verify=false --dest-tls-verify=false \
  "${SKOPEO_CREDS[@]/--creds/--src-creds}" "${SKOPEO_CREDS[@]/--creds/--dest-creds}" \
  "docker://$ADDR/$REPO_IMAGE:1.0" "docker://$ADDR/$REPO_IMAGE:latest"
run_skopeo copy -q --src-tls-verify=false --dest-tls-verify=false \
  "${SKOPEO_CREDS[@]/--creds/--src-creds}" "${SKOPEO_CREDS[@]/--creds/--dest-creds}" \
  "docker://$ADDR/$REPO_IMAGE@$AMD64_DIGEST" "docker://$ADDR/$REPO_IMAGE:1"
expect_eq "tag latest points at the 1.0 manifest" "$AMD64_DIGEST" \
  "$(inspect "docker://$ADDR/$REPO_IMAGE:latest" | jq -r .Digest)"
expect_eq "skopeo list-tags" '["1","1.0","latest","v2s2"]' \
  "$(run_skopeo list-tags --tls-verify=false "${SKOPEO_CREDS[@]}" "docker://$ADDR/$REPO_IMAGE" | jq -c '.Tags | sort')"
http GET "http://$ADDR/v2/$REPO_IMAGE/tags/list?n=2"
if [[ $TARGET == distribution && "$(jq '.tags | length' "$WORK/body")" != 2 ]]; then
  skip "CNCF Distribution 2.8 ignores tags/list?n= (it returned $(jq -c .tags "$WORK/body"))"
else
  expect_eq "tags/list?n=2 returns the first two tags in lexical order" '["1","1.0"]' "$(jq -c .tags "$WORK/body")"
  expect_contains "tags/list?n=2 has a Link to the next page" "$(header Link)" 'rel="next"'
  next="$(header Link | sed -n 's/^<\([^>]*\)>.*/\1/p')"
  http GET "$(absolute "$next")"
  expect_eq "the Link's next page holds the remaining tags" '["latest","v2s2"]' "$(jq -c .tags "$WORK/body")"
fi

run_skopeo delete --tls-verify=false "${SKOPEO_CREDS[@]}" "docker://$ADDR/$REPO_IMAGE:v2s2"
ok "skopeo delete of $REPO_IMAGE:v2s2"
if out="$(inspect "docker://$ADDR/$REPO_IMAGE@$V2_DIGEST" 2>&1)"; then
  fail "pull of a deleted manifest fails" "  expected: an error" "  actual: $out"
fi
expect_contains "skopeo reports the deleted manifest as unknown" "$out" "manifest unknown"
http GET "http://$ADDR/v2/$REPO_IMAGE/manifests/$V2_DIGEST" -H "Accept: $ACCEPT_ALL"
expect_eq "GET deleted manifest status" 404 "$HTTP_STATUS"
expect_eq "GET deleted manifest error code" MANIFEST_UNKNOWN "$(jq -r '.errors[0].code' "$WORK/body")"
expect_eq "list-tags after delete" '["1","1.0","latest"]' \
  "$(run_skopeo list-tags --tls-verify=false "${SKOPEO_CREDS[@]}" "docker://$ADDR/$REPO_IMAGE" | jq -c '.Tags | sort')"
expect_eq "other tags still pull after the delete" "$AMD64_DIGEST" \
  "$(inspect "docker://$ADDR/$REPO_IMAGE:1.0" | jq -r .Digest)"

# ------------------------------------------ 5. ORAS artifacts, referrers ---

section "5. OCI 1.1 artifacts and referrers with the ORAS Python SDK"
"$VENV/bin/python" "$HERE/interop_oras.py" "$ADDR" "$REPO_ARTIFACT" "$WORK/oras" ||
  fail "the ORAS script pushed and pulled its artifacts" "  see its output above"
ORAS_RESULT="$(cat "$WORK/oras/result.json")"
field() { jq -r ".$1" <<<"$ORAS_RESULT"; }
ok "ORAS pushed and pulled an artifact and two referrers"

http GET "http://$ADDR/v2/$REPO_ARTIFACT/referrers/$(field artifact)"
if [[ $TARGET == distribution && $HTTP_STATUS == 404 ]]; then
  skip "CNCF Distribution 2.8 has no referrers API (GET referrers answered 404)"
else
  expect_eq "OCI-Subject header on the referrer's manifest PUT" "$(field artifact)" "$(field signature_oci_subject)"
  expect_eq "GET referrers status" 200 "$HTTP_STATUS"
  expect_eq "GET referrers Content-Type" "$OCI_INDEX" "$(header Content-Type)"
  expect_eq "referrers list both referrers" \
    "$(jq -cn --arg a "$(field signature)" --arg b "$(field sbom)" '[$a, $b] | sort')" \
    "$(jq -c '[.manifests[].digest] | sort' "$WORK/body")"
  expect_eq "the signature's artifactType is its manifest's artifactType" "$(field signature_type)" \
    "$(jq -r --arg d "$(field signature)" '.manifests[] | select(.digest == $d) | .artifactType' "$WORK/body")"
  expect_eq "the SBOM's artifactType falls back to its config mediaType" "$(field sbom_type)" \
    "$(jq -r --arg d "$(field sbom)" '.manifests[] | select(.digest == $d) | .artifactType' "$WORK/body")"
  expect_eq "referrer descriptors carry the manifest's annotations" interop \
    "$(jq -r --arg d "$(field signature)" '.manifests[] | select(.digest == $d) | .annotations["com.example.signed-by"]' "$WORK/body")"

  http GET "http://$ADDR/v2/$REPO_ARTIFACT/referrers/$(field artifact)?artifactType=$(field signature_type)"
  expect_eq "referrers?artifactType= status" 200 "$HTTP_STATUS"
  expect_eq "referrers?artifactType= keeps only the signature" "[\"$(field signature)\"]" \
    "$(jq -c '[.manifests[].digest]' "$WORK/body")"
  expect_eq "referrers?artifactType= sets OCI-Filters-Applied" artifactType "$(header OCI-Filters-Applied)"

  http GET "http://$ADDR/v2/$REPO_ARTIFACT/referrers/sha256:$(printf 'no such subject' | sha256sum | cut -d' ' -f1)"
  expect_eq "referrers of an unknown subject: status" 200 "$HTTP_STATUS"
  expect_eq "referrers of an unknown subject: empty list" '[]' "$(jq -c .manifests "$WORK/body")"
fi
rm -rf "$WORK/oras"

# ---------------------------------------------------- 6. a large blob ---

section "6. a ${BIG_BLOB_MIB} MiB blob in ${CHUNK_MIB} MiB chunks, pulled back"
BIG="$WORK/big.bin"
head -c "${BIG_BLOB_MIB}M" /dev/urandom >"$BIG"
BIG_SIZE="$(stat -c %s "$BIG")"
BIG_DIGEST="$(sha256_of_stdin <"$BIG")"
CHUNK=$((CHUNK_MIB * 1024 * 1024))

http POST "http://$ADDR/v2/$REPO_BIG/blobs/uploads/" -H 'Content-Length: 0'
expect_eq "POST upload status" 202 "$HTTP_STATUS"
location="$(absolute "$(header Location)")"
t0=$(date +%s%N)
offset=0
while ((offset < BIG_SIZE)); do
  len=$((BIG_SIZE - offset < CHUNK ? BIG_SIZE - offset : CHUNK))
  http PATCH "$location" --data-binary @- -H 'Content-Type: application/octet-stream' \
    -H "Content-Range: $offset-$((offset + len - 1))" \
    < <(dd if="$BIG" bs="$CHUNK" skip=$((offset / CHUNK)) count=1 iflag=fullblock status=none)
  [[ $HTTP_STATUS == 202 ]] || fail "PATCH chunk at offset $offset" "  expected: 202" "  actual: $HTTP_STATUS $(head -c 500 "$WORK/body")"
  [[ "$(header Range)" == "0-$((offset + len - 1))" ]] ||
    fail "PATCH chunk at offset $offset: Range header" "  expected: 0-$((offset + len - 1))" "  actual: $(header Range)"
  location="$(absolute "$(header Location)")"
  offset=$((offset + len))
done
ok "$((BIG_SIZE / CHUNK + (BIG_SIZE % CHUNK > 0))) PATCH chunks accepted, each answering the right Range"
http PUT "$(with_query "$location" "digest=$BIG_DIGEST")" -H 'Content-Length: 0'
expect_eq "PUT closing the upload status" 201 "$HTTP_STATUS"
expect_eq "PUT closing the upload Docker-Content-Digest" "$BIG_DIGEST" "$(header Docker-Content-Digest)"
t1=$(date +%s%N)
rm -f "$BIG"

http HEAD "http://$ADDR/v2/$REPO_BIG/blobs/$BIG_DIGEST"
expect_eq "HEAD large blob Content-Length" "$BIG_SIZE" "$(header Content-Length)"
pulled="$(curl -sS --fail "${CURL_AUTH[@]}" -L "http://$ADDR/v2/$REPO_BIG/blobs/$BIG_DIGEST" | sha256_of_stdin)"
t2=$(date +%s%N)
expect_eq "large blob pulled back hashes to its digest" "$BIG_DIGEST" "$pulled"
mib_per_s() { printf '%d' $(($1 * 1000 / ($2 / 1000000 + 1) / 1048576)); }
printf '  (chunked push %s MiB/s, pull and hash %s MiB/s)\n' \
  "$(mib_per_s "$BIG_SIZE" $((t1 - t0)))" "$(mib_per_s "$BIG_SIZE" $((t2 - t1)))"

http GET "http://$ADDR/v2/$REPO_BIG/blobs/$BIG_DIGEST" -H 'Range: bytes=1000-1999'
expect_eq "ranged GET of the large blob status" 206 "$HTTP_STATUS"
expect_eq "ranged GET of the large blob length" 1000 "$(stat -c %s "$WORK/body")"
