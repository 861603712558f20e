#!/usr/bin/env bash
# The package page in a real browser: builds and starts minimal-registry with a
# fresh data directory, creates a user and a token with the admin CLI, pushes a
# labelled image and a labelled two-platform index with skopeo (built with
# umoci), makes the package public through the REST API, then loads its page
# in headless Chromium and checks what a visitor sees: name, visibility,
# description (markup shown as text), licence, source link, tags, platforms and
# the pull commands, styled by its static style sheet. A private package's
# page must be a 404.
#
#   scripts/browser-test.sh                  build minimal-registry and test it
#   WHARF_BIN=path scripts/browser-test.sh   test a prebuilt binary
#
# Keeps screenshots and the DOM dumps in target/ci-artifacts/ (ARTIFACTS to
# move them): package-page.png, package-page.html, owner-packages.png. Needs
# root (or the tools already installed): it installs chromium, skopeo, umoci,
# jq and curl with apt-get. KEEP_TMP=1 keeps the temporary directory.
set -euo pipefail
shopt -s inherit_errexit

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib/harness.sh
source "$HERE/lib/harness.sh"

ARTIFACTS=${ARTIFACTS:-$REG_ROOT/target/ci-artifacts}
OWNER=octocat
PACKAGE=hello-wharf
PRIVATE_PACKAGE=private-thing
# A description with markup and a line break: the page must show both as text.
DESCRIPTION=$'Wharf browser-test image: <b>not bold</b> & "quoted"\nSecond line of the description'

# expect_in WHAT FILE NEEDLE: FILE contains NEEDLE (a fixed string).
expect_in() {
  if grep -qF -- "$3" "$2"; then ok "$1"; else fail "$1" "  expected $2 to contain: $3"; fi
}
# expect_not_in WHAT FILE NEEDLE: FILE does not contain NEEDLE.
expect_not_in() {
  if grep -qF -- "$3" "$2"; then fail "$1" "  expected $2 not to contain: $3"; else ok "$1"; fi
}

install_tools() {
  local missing
  mapfile -t missing < <(reg_missing_commands chromium skopeo umoci jq curl python3)
  reg_apt_install "${missing[@]}"
}

summary() {
  printf '\nall %d checks passed in %ds; screenshots in %s\n' "$CHECKS" "$((SECONDS - STARTED))" "$ARTIFACTS"
}
trap 'checks_on_exit 15' EXIT
trap 'exit 130' INT TERM

install_tools
BIN="$(reg_build_wharf)"
reg_mktemp browser WORK
mkdir -p "$ARTIFACTS"
DATA="$WORK/data"
ADDR="127.0.0.1:$(reg_free_port)"
BASE="http://$ADDR"
STARTED=$SECONDS # the runtime reported at the end leaves the build out

# ------------------------------------------------------------ registry ---

section "a registry with a user and a token made by the admin CLI"
"$BIN" --data-dir "$DATA" user create "$OWNER"
TOKEN="$("$BIN" --data-dir "$DATA" token create "$OWNER" \
  --scopes read:packages,write:packages,delete:packages --note browser-test --expires-in-days 1)"
[[ $TOKEN == wharf_pat_* ]] || fail "token create prints a token" "  actual: $TOKEN"
ok "admin CLI created user $OWNER and a token"
"$BIN" --data-dir "$DATA" token list "$OWNER" >"$WORK/tokens.txt"
expect_not_in "token list does not show the secret" "$WORK/tokens.txt" "$TOKEN"

# The public URL names this address, so pull commands and source links use it.
reg_start_wharf "$BIN" "$ADDR" "$DATA" "$WORK/registry.log" --public-url "$BASE" --log-level warn
reg_wait_ready "$ADDR" "$REG_LAST_PID" "$WORK/registry.log"
ok "minimal-registry listens on $BASE"

# --------------------------------------------------------------- images ---

push() { run_skopeo copy -q --dest-tls-verify=false --dest-creds "$OWNER:$TOKEN" "$@"; }

# build_image LAYOUT TAG ARCH: a small image built with umoci, labelled with
# the package metadata GitHub's registry shows.
build_image() {
  local arch=$3
  layout_image "$1" "$2" wharf 4096 "built for $arch by scripts/browser-test.sh" --os linux --architecture "$arch" \
    --config.label "org.opencontainers.image.description=$DESCRIPTION" \
    --config.label org.opencontainers.image.licenses=MIT \
    --config.label "org.opencontainers.image.source=$BASE/$OWNER/$PACKAGE"
}

section "push a labelled image and a labelled two-platform index with skopeo"
SRC="$WORK/src"
build_image "$SRC" amd64 amd64
build_image "$SRC" arm64 arm64
AMD64_DIGEST="$(layout_digest "$SRC" amd64)"
ARM64_DIGEST="$(layout_digest "$SRC" arm64)"

# An index of both, annotated as `docker buildx --annotation index:...` does.
INDEX="$WORK/index.json"
jq -c --arg amd "$AMD64_DIGEST" --arg arm "$ARM64_DIGEST" --arg desc "$DESCRIPTION" --arg src "$BASE/$OWNER/$PACKAGE" '
  (.manifests[] | select(.digest == $amd)) as $a
  | (.manifests[] | select(.digest == $arm)) as $r
  | {
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [
        {mediaType: $a.mediaType, digest: $a.digest, size: $a.size, platform: {architecture: "amd64", os: "linux"}},
        {mediaType: $r.mediaType, digest: $r.digest, size: $r.size, platform: {architecture: "arm64", os: "linux", variant: "v8"}}
      ],
      annotations: {
        "org.opencontainers.image.description": $desc,
        "org.opencontainers.image.licenses": "MIT",
        "org.opencontainers.image.source": $src
      }
    }' "$SRC/index.json" | tr -d '\n' >"$INDEX"
INDEX_DIGEST="$(sha256_of_stdin <"$INDEX")"
cp "$INDEX" "$SRC/blobs/sha256/${INDEX_DIGEST#sha256:}"
jq --arg d "$INDEX_DIGEST" --argjson s "$(stat -c %s "$INDEX")" \
  '.manifests += [{mediaType: "application/vnd.oci.image.index.v1+json", digest: $d, size: $s, annotations: {"org.opencontainers.image.ref.name": "multi"}}]' \
  "$SRC/index.json" >"$WORK/layout-index.json"
mv "$WORK/layout-index.json" "$SRC/index.json"

push "oci:$SRC:amd64" "docker://$ADDR/$OWNER/$PACKAGE:1.0"
ok "pushed $OWNER/$PACKAGE:1.0 (linux/amd64 image)"
# The index last, so that its tags are the newest.
push --all "oci:$SRC:multi" "docker://$ADDR/$OWNER/$PACKAGE:2.0"
push --all "oci:$SRC:multi" "docker://$ADDR/$OWNER/$PACKAGE:latest"
ok "pushed $OWNER/$PACKAGE:2.0 and :latest (index of linux/amd64 and linux/arm64/v8)"
push "oci:$SRC:arm64" "docker://$ADDR/$OWNER/$PRIVATE_PACKAGE:1.0"
ok "pushed $OWNER/$PRIVATE_PACKAGE:1.0 (stays private)"

# -------------------------------------------------------- visibility ---

section "visibility through the REST API"
PAGE_URL="$BASE/$OWNER/packages/container/$PACKAGE"
PRIVATE_URL="$BASE/$OWNER/packages/container/$PRIVATE_PACKAGE"
status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
expect_eq "first publish is private: anonymous page is 404" 404 "$(status "$PAGE_URL")"
expect_eq "the owner sees the private page" 200 "$(status -u "$OWNER:$TOKEN" "$PAGE_URL")"

API="$BASE/users/$OWNER/packages/container/$PACKAGE"
code="$(curl -s -o "$WORK/patch.json" -w '%{http_code}' -u "$OWNER:$TOKEN" -X PATCH \
  -H 'Content-Type: application/json' -d '{"visibility":"public"}' "$API")"
expect_eq "PATCH $API {visibility: public}" 200 "$code"
expect_eq "the package is public" public "$(jq -r .visibility "$WORK/patch.json")"
expect_eq "anonymous page of the public package" 200 "$(status "$PAGE_URL")"
expect_eq "anonymous page of the private package is 404" 404 "$(status "$PRIVATE_URL")"
expect_eq "nested-name form with %2F still finds nothing that is private" 404 \
  "$(status "$BASE/$OWNER/packages/container/${PRIVATE_PACKAGE}%2Fx")"

# ---------------------------------------------------------- Chromium ---

section "the package page in headless Chromium"
chrome() {
  timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$(mktemp -d "$WORK/chrome.XXXXXX")" --window-size=1200,1000 \
    --hide-scrollbars "$@" 2>>"$WORK/chromium.log"
}
DOM="$ARTIFACTS/package-page.html"
chrome --dump-dom "$PAGE_URL" >"$DOM"
[[ -s $DOM ]] || fail "Chromium dumped the page's DOM" "  see $WORK/chromium.log"
ok "Chromium loaded $PAGE_URL"

expect_in "title names the package" "$DOM" "<title>$OWNER/$PACKAGE · Wharf</title>"
expect_in "heading shows OWNER / NAME" "$DOM" ">$PACKAGE</span></h1>"
expect_in "visibility badge" "$DOM" '<span class="badge public">public</span>'
expect_in "description, markup shown as text" "$DOM" 'Wharf browser-test image: &lt;b&gt;not bold&lt;/b&gt; &amp; "quoted"'
expect_not_in "description markup is not rendered" "$DOM" '<b>not bold</b>'
expect_in "description keeps its line break" "$DOM" $'"quoted"\nSecond line of the description'
expect_in "licence" "$DOM" '>MIT</a>'
expect_in "licence is marked as SPDX" "$DOM" '>SPDX</span>'
expect_in "source repository link" "$DOM" "href=\"$BASE/$OWNER/$PACKAGE\""
expect_in "tag 1.0" "$DOM" '<span class="tag">1.0</span>'
expect_in "tag 2.0" "$DOM" '<span class="tag">2.0</span>'
expect_in "tag latest" "$DOM" '<span class="tag">latest</span>'
expect_in "platform linux/amd64" "$DOM" '<span class="platform">linux/amd64</span>'
expect_in "platform linux/arm64/v8" "$DOM" '<span class="platform">linux/arm64/v8</span>'
expect_in "pull command by tag" "$DOM" "docker pull $ADDR/$OWNER/$PACKAGE:latest"
expect_in "pull command by digest" "$DOM" "docker pull $ADDR/$OWNER/$PACKAGE@$INDEX_DIGEST"
expect_in "the index's digest in the tag table" "$DOM" "title=\"$INDEX_DIGEST\""
expect_in "the image's digest in the tag table" "$DOM" "title=\"$AMD64_DIGEST\""
pos() { grep -ob -- "$2" "$1" | head -n 1 | cut -d: -f1; }
if (($(pos "$DOM" '<span class="tag">2.0</span>') < $(pos "$DOM" '<span class="tag">1.0</span>'))); then
  ok "tags are listed newest first (2.0 before 1.0)"
else
  fail "tags are listed newest first" "  1.0 comes before 2.0 in $DOM"
fi
expect_not_in "no script on the page" "$DOM" "<script"
expect_in "the page links its style sheet" "$DOM" '<link rel="stylesheet" href="/_wharf/style.css?v='
expect_eq "the style sheet is served as CSS" "text/css; charset=utf-8" \
  "$(curl -s -o /dev/null -w '%{content_type}' "$BASE/_wharf/style.css")"

SHOT="$ARTIFACTS/package-page.png"
rm -f "$SHOT"
chrome --screenshot="$SHOT" "$PAGE_URL" >/dev/null
[[ -s $SHOT ]] || fail "Chromium wrote a screenshot" "  see $WORK/chromium.log"
expect_eq "the screenshot is a PNG" "PNG" "$(head -c 4 "$SHOT" | tail -c 3)"
ok "screenshot of the package page: $SHOT ($(stat -c %s "$SHOT") bytes)"

section "the owner's package list"
LIST_DOM="$WORK/owner.html"
chrome --dump-dom "$BASE/$OWNER/packages" >"$LIST_DOM"
expect_in "the list links to the public package" "$LIST_DOM" "href=\"/$OWNER/packages/container/$PACKAGE\""
expect_not_in "the list hides the private package from visitors" "$LIST_DOM" "$PRIVATE_PACKAGE"
chrome --screenshot="$ARTIFACTS/owner-packages.png" "$BASE/$OWNER?tab=packages" >/dev/null
[[ -s $ARTIFACTS/owner-packages.png ]] || fail "Chromium wrote the list's screenshot"
ok "screenshot of the owner's package list: $ARTIFACTS/owner-packages.png"
