#!/usr/bin/env bash
# Real clients against minimal-registry with authentication on (the GitHub
# Container registry model): skopeo logs in and pushes umoci-built images, the
# ORAS Python SDK pushes and pulls an artifact, curl checks the challenges, the
# token endpoint and the package REST API.
#
#   scripts/interop-auth.sh                   build and test minimal-registry
#   WHARF_BIN=path scripts/interop-auth.sh    test a prebuilt binary
#   scripts/interop-auth.sh --registry HOST:PORT --database URL
#                                             test a registry already running
#                                             (--public-url http://HOST:PORT),
#                                             whose package store is at URL
#
# Starts the registry on a free loopback port with a fresh data directory and
# `--public-url http://127.0.0.1:PORT`; users, personal access tokens and a
# workflow token come from the admin CLI (with --registry, run on --database:
# the registry's own, e.g. the PostgreSQL database replicas share). It checks, as the server's docs
# describe (crates/server: accounts.rs, token.rs, packages_api.rs):
#
#   1. skopeo login and pushes (auth file, --dest-creds); first publish private
#   2. anonymous pulls: 401 with a Bearer challenge; an anonymous token from
#      /token grants nothing, and a pull with it is still 401
#   3. another user: 404 NAME_UNKNOWN, the same answer as for a missing package
#   4. PATCH visibility public; then anonymous pulls work, digests intact
#   5. ORAS SDK: push and pull with a token; without one, or as an outsider, no
#   6. REST API: delete a version (the tag stops pulling), restore it
#   7. a read:packages token cannot push (403 DENIED), a token without
#      delete:packages cannot delete (REST 403, registry 403 DENIED)
#   8. a workflow token publishes a package linked to its repository; an
#      org.opencontainers.image.source label on the code host links one too
#
# Every check prints `ok N - WHAT`; the first failure prints what was expected
# and what came back, then the end of the registry log, and exits 1. Needs root
# (or the tools already installed): it installs skopeo, umoci, jq, curl and
# python3-venv with apt-get, and the ORAS SDK into target/interop-venv
# (INTEROP_VENV to move it; shared with scripts/interop.sh). KEEP_TMP=1 keeps
# the temporary directory.
set -euo pipefail
shopt -s inherit_errexit

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib/harness.sh
source "$HERE/lib/harness.sh"

REGISTRY=
DATABASE=
while (($#)); do
  case $1 in
    --registry) REGISTRY=${2:?--registry needs HOST:PORT}; shift 2 ;;
    --registry=*) REGISTRY=${1#*=}; shift ;;
    --database) DATABASE=${2:?--database needs a URL}; shift 2 ;;
    --database=*) DATABASE=${1#*=}; shift ;;
    -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) reg_die "unknown argument: $1 (see --help)" ;;
  esac
done
# The admin CLI must reach the package store of the registry under test.
[[ -z $REGISTRY || -n $DATABASE ]] || reg_die "--registry needs --database URL (where the admin CLI makes users and tokens)"

OWNER=octocat
OUTSIDER=hubot
CODE_REPO=app-repo # the source repository of the workflow token
OCI_MANIFEST=application/vnd.oci.image.manifest.v1+json
ACCEPT="$OCI_MANIFEST, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json"

# ---------------------------------------------------------------- checks ---

# expect_failure WHAT NEEDLE CMD...: CMD fails, and what it prints contains
# NEEDLE.
expect_failure() {
  local what=$1 needle=$2 out
  shift 2
  if out="$("$@" 2>&1)"; then
    fail "$what" "  expected: the command to fail with '$needle'" "  actual: it succeeded: $out"
  fi
  expect_contains "$what" "$out" "$needle"
}

# ------------------------------------------------------------------ setup ---

install_tools() {
  local missing
  mapfile -t missing < <(reg_missing_commands skopeo umoci jq curl)
  /usr/bin/python3 -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)
  reg_apt_install "${missing[@]}"
}

summary() { printf '\nall %d checks passed in %ds\n' "$CHECKS" "$((SECONDS - STARTED))"; }
trap 'checks_on_exit 15' EXIT
trap 'exit 130' INT TERM

install_tools
reg_oras_venv 1
BIN="$(reg_build_wharf)"
reg_mktemp interop-auth WORK
DATA="$WORK/data"
ADDR="${REGISTRY:-127.0.0.1:$(reg_free_port)}"
BASE="http://$ADDR"

# ---------------------------------------------------------------- helpers ---

ADMIN_FLAGS=(--data-dir "$DATA")
[[ -z $DATABASE ]] || ADMIN_FLAGS+=(--database "$DATABASE")
admin() { "$BIN" "${ADMIN_FLAGS[@]}" "$@"; }

# REGISTRY_AUTH_FILE keeps every skopeo call away from the machine's own
# credentials.
SKOPEO_ENV=(REGISTRY_AUTH_FILE="$WORK/no-auth.json")
push() { run_skopeo copy -q --dest-tls-verify=false "$@"; }
pull() { run_skopeo copy -q --src-tls-verify=false "$@"; }
inspect() { run_skopeo inspect --tls-verify=false "$@"; }

# error_code: the first OCI error code of the last response's body.
error_code() { jq -r '.errors[0].code // empty' "$WORK/body" 2>/dev/null || true; }

# expect_answer WHAT STATUS [CODE]: the last response had STATUS (and, for the
# registry API, the error code CODE).
expect_answer() {
  local what=$1 status=$2 code=${3:-}
  local actual="$HTTP_STATUS" expected="$status"
  if [[ -n $code ]]; then
    actual="$HTTP_STATUS $(error_code)"
    expected="$status $code"
  fi
  if [[ $actual == "$expected" ]]; then
    ok "$what"
  else
    fail "$what" "  request:  $LAST_REQUEST" "  expected: $expected" "  actual:   $actual" \
      "  headers:" "$(sed 's/^/    /' "$WORK/headers")" "  body: $(head -c 1000 "$WORK/body")"
  fi
}

# jwt_access TOKEN: the `access` claim of a registry token, as a sorted JSON
# list of TYPE:NAME:ACTIONS.
jwt_access() {
  python3 - "$1" <<'EOF'
import base64, json, sys
payload = sys.argv[1].split(".")[1]
claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
access = sorted("%s:%s:%s" % (a["type"], a["name"], ",".join(a["actions"])) for a in claims.get("access") or [])
print(json.dumps(access, separators=(",", ":")))
EOF
}

# token_for SCOPE [CURL ARGS...]: a registry token from /token for SCOPE.
token_for() {
  local scope=$1
  shift
  http GET "$BASE/token?service=$ADDR&scope=$scope" "$@"
  [[ $HTTP_STATUS == 200 ]] ||
    fail "GET /token for $scope" "  expected: 200" "  actual: $HTTP_STATUS $(head -c 500 "$WORK/body")"
  jq -r .token "$WORK/body"
}

# build_image LAYOUT TAG DESCRIPTION SOURCE: a small image built with umoci
# from random files, labelled with the package metadata GitHub's registry
# reads.
build_image() {
  local description=$3 source=$4
  layout_image "$1" "$2" interop-auth $((RANDOM * 4 + 1000)) "$description" --os linux --architecture amd64 \
    --config.label "org.opencontainers.image.description=$description" \
    --config.label org.opencontainers.image.licenses=Apache-2.0 \
    --config.label "org.opencontainers.image.source=$source"
}

OWNER_API="$BASE/users/$OWNER/packages/container"
APP="$OWNER/app"
IMAGE="docker://$ADDR/$APP"

# ---------------------------------------------------- registry and users ---

section "a registry with users and tokens made by the admin CLI"
admin user create "$OWNER" 2>/dev/null
admin user create "$OUTSIDER" 2>/dev/null
new_token() { admin token create "$1" --scopes "$2" --note "interop-auth $2" --expires-in-days 1 2>/dev/null; }
OWNER_TOKEN="$(new_token "$OWNER" read:packages,write:packages,delete:packages)"
OWNER_WRITE="$(new_token "$OWNER" read:packages,write:packages)"
OWNER_READ="$(new_token "$OWNER" read:packages)"
OUTSIDER_READ="$(new_token "$OUTSIDER" read:packages)"
CI_TOKEN="$(admin workflow-token create "$OWNER/$CODE_REPO" 2>/dev/null)"
for t in "$OWNER_TOKEN" "$OWNER_WRITE" "$OWNER_READ" "$OUTSIDER_READ" "$CI_TOKEN"; do
  [[ -n $t && $t != *[[:space:]]* ]] || fail "the admin CLI prints each new token alone" "  actual: '$t'"
done
ok "users $OWNER and $OUTSIDER, four personal access tokens and a workflow token for $OWNER/$CODE_REPO"

if [[ -n $REGISTRY ]]; then
  http GET "$BASE/v2/"
  expect_answer "the registry under test (authentication on) answers on $BASE" 401 UNAUTHORIZED
else
  reg_start_wharf "$BIN" "$ADDR" "$DATA" "$WORK/registry.log" --public-url "$BASE"
  reg_wait_ready "$ADDR" "$REG_LAST_PID" "$WORK/registry.log"
  ok "minimal-registry (authentication on) listens on $BASE"
fi
STARTED=$SECONDS # the runtime reported at the end leaves the build out

# ------------------------------------------------- 1. login, push, private ---

section "1. skopeo logs in and pushes labelled umoci images; the first publish is private"
SRC="$WORK/src"
build_image "$SRC" v1 "Wharf interop-auth app, first version" https://github.com/wharf-rs/wharf
build_image "$SRC" v2 "Wharf interop-auth app, second version" https://github.com/wharf-rs/wharf
V1="$(layout_digest "$SRC" v1)"
V2="$(layout_digest "$SRC" v2)"

expect_failure "skopeo login with a token the registry does not know is refused" "invalid username/password" \
  run_skopeo login --tls-verify=false --authfile "$WORK/bad-auth.json" -u "$OWNER" --password-stdin "$ADDR" \
  <<<"wharf_pat_00000000000000000000000000000000000000000000"
AUTHFILE="$WORK/auth.json"
expect_eq "skopeo login -u $OWNER --password-stdin" "Login Succeeded!" \
  "$(run_skopeo login --tls-verify=false --authfile "$AUTHFILE" -u "$OWNER" --password-stdin "$ADDR" <<<"$OWNER_TOKEN")"
expect_eq "the auth file holds $OWNER's credentials for $ADDR" "$OWNER:$OWNER_TOKEN" \
  "$(jq -r --arg a "$ADDR" '.auths[$a].auth | @base64d' "$AUTHFILE")"

push --dest-authfile "$AUTHFILE" "oci:$SRC:v1" "$IMAGE:1.0"
ok "skopeo copy with the login's auth file pushed $APP:1.0"
push --dest-creds "$OWNER:$OWNER_TOKEN" "oci:$SRC:v2" "$IMAGE:2.0"
ok "skopeo copy --dest-creds pushed $APP:2.0"

expect_eq "the owner pulls $APP:1.0 back: the manifest hashes to the pushed digest" "$V1" \
  "$(inspect --raw --creds "$OWNER:$OWNER_READ" "$IMAGE:1.0" | sha256_of_stdin)"
expect_eq "skopeo inspect with the login's auth file: the config label" "Wharf interop-auth app, second version" \
  "$(inspect --authfile "$AUTHFILE" "$IMAGE:2.0" | jq -r '.Labels["org.opencontainers.image.description"]')"

http GET "$OWNER_API/app" -u "$OWNER:$OWNER_READ"
expect_answer "REST: GET the package as its owner" 200
expect_eq "REST: the first publish is private" private "$(jq -r .visibility "$WORK/body")"
expect_eq "REST: two versions" 2 "$(jq -r .version_count "$WORK/body")"
expect_eq "REST: the description comes from the newest push's label" "Wharf interop-auth app, second version" \
  "$(jq -r .description "$WORK/body")"
expect_eq "REST: the licenses label" Apache-2.0 "$(jq -r .licenses "$WORK/body")"
expect_eq "REST: a source on another host links no repository" null "$(jq -c .repository "$WORK/body")"

# ------------------------------------------------------------ 2. anonymous ---

section "2. anonymous clients get a challenge, and an anonymous token that grants nothing"
expect_failure "anonymous skopeo inspect of the private image fails: unauthorized" "unauthorized" \
  inspect --no-creds "$IMAGE:1.0"
expect_failure "anonymous skopeo copy of the private image fails: unauthorized" "unauthorized" \
  pull --src-no-creds "$IMAGE:1.0" "oci:$WORK/anonymous:1.0"

CHALLENGE="Bearer realm=\"$BASE/token\",service=\"$ADDR\""
http GET "$BASE/v2/"
expect_answer "GET /v2/ without credentials" 401 UNAUTHORIZED
expect_eq "GET /v2/ challenge (no scope)" "$CHALLENGE" "$(header WWW-Authenticate)"

http GET "$BASE/v2/$APP/manifests/1.0" -H "Accept: $ACCEPT"
expect_answer "GET the private manifest without credentials" 401 UNAUTHORIZED
expect_eq "its challenge names the realm, the service and the pull scope" \
  "$CHALLENGE,scope=\"repository:$APP:pull\"" "$(header WWW-Authenticate)"

http GET "$BASE/v2/$APP/blobs/$V1"
expect_answer "GET a private blob by its digest without credentials" 401 UNAUTHORIZED

http GET "$BASE/v2/$OWNER/nothing/manifests/1.0" -H "Accept: $ACCEPT"
expect_answer "a package that does not exist answers an anonymous client the same" 401 UNAUTHORIZED

ANON="$(token_for "repository:$APP:pull")"
ok "GET /token without credentials issues an anonymous token"
expect_eq "the anonymous token grants nothing on the private package" "[]" "$(jwt_access "$ANON")"
http GET "$BASE/v2/$APP/manifests/1.0" -H "Accept: $ACCEPT" -H "Authorization: Bearer $ANON"
expect_answer "GET the private manifest with the anonymous token" 401 UNAUTHORIZED
expect_contains "its challenge asks for the pull scope" "$(header WWW-Authenticate)" "scope=\"repository:$APP:pull\""

# ------------------------------------------------------------- 3. outsider ---

section "3. another user cannot see the private package"
expect_failure "outsider skopeo inspect fails: name unknown" "name unknown" \
  inspect --creds "$OUTSIDER:$OUTSIDER_READ" "$IMAGE:1.0"

http GET "$BASE/v2/$APP/manifests/1.0" -H "Accept: $ACCEPT" -u "$OUTSIDER:$OUTSIDER_READ"
expect_answer "outsider GET of the private manifest (Basic PAT)" 404 NAME_UNKNOWN
cp "$WORK/body" "$WORK/outsider-private.json"
http GET "$BASE/v2/$OWNER/nothing/manifests/1.0" -H "Accept: $ACCEPT" -u "$OUTSIDER:$OUTSIDER_READ"
expect_answer "outsider GET of a package that does not exist" 404 NAME_UNKNOWN
expect_eq "both answers have the same body: the private package's existence is not revealed" \
  "$(jq -c 'del(.errors[].detail)' "$WORK/body")" "$(jq -c 'del(.errors[].detail)' "$WORK/outsider-private.json")"

OUTSIDER_BEARER="$(token_for "repository:$APP:pull" -u "$OUTSIDER:$OUTSIDER_READ")"
expect_eq "the token endpoint grants the outsider nothing on the private package" "[]" "$(jwt_access "$OUTSIDER_BEARER")"
http GET "$BASE/v2/$APP/manifests/1.0" -H "Accept: $ACCEPT" -H "Authorization: Bearer $OUTSIDER_BEARER"
expect_answer "outsider GET of the private manifest (bearer token)" 404 NAME_UNKNOWN
http GET "$BASE/v2/$APP/blobs/$V1" -u "$OUTSIDER:$OUTSIDER_READ"
expect_answer "outsider GET of a private blob by its digest" 404 NAME_UNKNOWN

http GET "$OWNER_API/app" -u "$OUTSIDER:$OUTSIDER_READ"
expect_answer "REST: the outsider cannot read the package" 404
# Token scopes are checked before visibility (wharf_auth::authorize, rule 3):
# a read:packages token is refused a change with 403 whether the package
# exists or not, which reveals nothing either.
http PATCH "$OWNER_API/nothing" -u "$OUTSIDER:$OUTSIDER_READ" -H 'Content-Type: application/json' -d '{"visibility":"public"}'
cp "$WORK/body" "$WORK/outsider-patch-missing.json"
http PATCH "$OWNER_API/app" -u "$OUTSIDER:$OUTSIDER_READ" -H 'Content-Type: application/json' -d '{"visibility":"public"}'
expect_answer "REST: nor make it public with a read:packages token" 403
expect_eq "REST: the same answer as for a package that does not exist, but for its name" \
  "$(sed "s|$OWNER/nothing|$APP|g" "$WORK/outsider-patch-missing.json")" "$(cat "$WORK/body")"

# ------------------------------------------------------------ 4. public ---

section "4. made public through the REST API, the image pulls anonymously"
http PATCH "$OWNER_API/app" -u "$OWNER:$OWNER_READ" -H 'Content-Type: application/json' -d '{"visibility":"public"}'
expect_answer "REST: a read:packages token cannot change the visibility" 403
http PATCH "$OWNER_API/app" -u "$OWNER:$OWNER_TOKEN" -H 'Content-Type: application/json' -d '{"visibility":"public"}'
expect_answer "REST: PATCH {\"visibility\":\"public\"} with the owner's token" 200
expect_eq "REST: the answer shows the package public" public "$(jq -r .visibility "$WORK/body")"

OUT="$WORK/out-public"
pull --src-no-creds "$IMAGE:1.0" "oci:$OUT:1.0"
expect_eq "anonymous skopeo copy into an oci: layout keeps the digest" "$V1" "$(layout_digest "$OUT" 1.0)"
expect_eq "anonymous skopeo inspect" "$V2" "$(inspect --no-creds "$IMAGE:2.0" | jq -r .Digest)"
http GET "$BASE/v2/$APP/manifests/1.0" -H "Accept: $ACCEPT"
expect_answer "anonymous GET of the public manifest" 200
expect_eq "its Docker-Content-Digest" "$V1" "$(header Docker-Content-Digest)"
expect_eq "its body hashes to the digest" "$V1" "$(sha256_of_stdin <"$WORK/body")"
ANON="$(token_for "repository:$APP:pull,push")"
expect_eq "the anonymous token now grants pull, and only pull" "[\"repository:$APP:pull\"]" "$(jwt_access "$ANON")"
expect_eq "the outsider pulls it too" "$V1" "$(inspect --creds "$OUTSIDER:$OUTSIDER_READ" "$IMAGE:1.0" | jq -r .Digest)"
http POST "$BASE/v2/$APP/blobs/uploads/"
expect_answer "an anonymous push to the public package" 401 UNAUTHORIZED
expect_contains "its challenge asks for pull,push" "$(header WWW-Authenticate)" "scope=\"repository:$APP:pull,push\""
rm -rf "$OUT"

# ----------------------------------------------------------------- 5. ORAS ---

section "5. the ORAS Python SDK pushes and pulls an artifact with a token"
ARTIFACT="$OWNER/artifact"
mkdir -p "$WORK/oras-home"
HOME="$WORK/oras-home" ORAS_USER="$OWNER" ORAS_TOKEN="$OWNER_WRITE" \
  ORAS_OUTSIDER="$OUTSIDER" ORAS_OUTSIDER_TOKEN="$OUTSIDER_READ" \
  "$VENV/bin/python" "$HERE/interop_auth_oras.py" "$ADDR" "$ARTIFACT" "$WORK/oras" 2>"$WORK/oras.log" ||
  fail "the ORAS script pushed and pulled its artifact" "  its output:" "$(tail -n 20 "$WORK/oras.log")"
RESULT="$WORK/oras/result.json"
field() { jq -c ".$1" "$RESULT"; }
expect_eq "oras login()" '{"Status":"Login Succeeded"}' "$(field login)"
expect_eq "oras push() of $ARTIFACT:v1: manifest PUT status" 201 "$(field push_status)"
http GET "$BASE/v2/$ARTIFACT/manifests/v1" -H "Accept: $OCI_MANIFEST" -u "$OWNER:$OWNER_READ"
expect_answer "the owner GETs the artifact's manifest" 200
expect_eq "the digest oras was told is the digest of the manifest served" \
  "\"$(sha256_of_stdin <"$WORK/body")\"" "$(field push_digest)"
expect_eq "oras pull() wrote both files" '["notes.txt","payload.bin"]' "$(field pulled_names)"
for name in notes.txt payload.bin; do
  expect_eq "pulled $name is byte for byte the pushed one" \
    "$(jq -r --arg n "$name" '.files[$n].pushed' "$RESULT")" "$(jq -r --arg n "$name" '.files[$n].pulled' "$RESULT")"
done
expect_contains "oras pull() without a login fails" "$(field anonymous_pull_error)" "Unauthorized"
expect_eq "without a login, a manifest GET through the SDK (anonymous token) answers" \
  '401 "UNAUTHORIZED"' "$(field anonymous_status) $(field anonymous_code)"
expect_contains "oras pull() logged in as the outsider fails" "$(field outsider_pull_error)" "Not Found"
expect_eq "logged in as the outsider, a manifest GET through the SDK answers" \
  '404 "NAME_UNKNOWN"' "$(field outsider_status) $(field outsider_code)"
http GET "$OWNER_API/artifact" -u "$OWNER:$OWNER_READ"
expect_answer "REST: the artifact is a package" 200
expect_eq "REST: its first publish is private" private "$(jq -r .visibility "$WORK/body")"

# ----------------------------------------------------- 6. delete, restore ---

section "6. a version deleted and restored through the REST API"
http GET "$OWNER_API/app/versions" -u "$OWNER:$OWNER_READ"
expect_answer "REST: list the versions" 200
expect_eq "REST: the versions, newest first" "[\"$V2\",\"$V1\"]" "$(jq -c '[.[].name]' "$WORK/body")"
V1_ID="$(jq -r --arg d "$V1" '.[] | select(.name == $d) | .id' "$WORK/body")"
expect_eq "REST: the version $V1_ID carries the tag 1.0" '["1.0"]' \
  "$(jq -c --arg d "$V1" '.[] | select(.name == $d) | .metadata.container.tags' "$WORK/body")"

http DELETE "$OWNER_API/app/versions/$V1_ID" -u "$OWNER:$OWNER_TOKEN"
expect_answer "REST: DELETE the version of 1.0 with delete:packages" 204
expect_failure "skopeo inspect of $APP:1.0 after the delete: manifest unknown" "manifest unknown" \
  inspect --creds "$OWNER:$OWNER_READ" "$IMAGE:1.0"
http GET "$BASE/v2/$APP/manifests/$V1" -H "Accept: $ACCEPT" -u "$OWNER:$OWNER_READ"
expect_answer "GET the deleted version by digest" 404 MANIFEST_UNKNOWN
http GET "$OWNER_API/app/versions?state=deleted" -u "$OWNER:$OWNER_READ"
expect_eq "REST: the deleted versions list it" "[$V1_ID]" "$(jq -c '[.[].id]' "$WORK/body")"
expect_eq "REST: with its deletion time" true "$(jq -r '.[0].deleted_at | test("Z$")' "$WORK/body")"
http GET "$OWNER_API/app/versions" -u "$OWNER:$OWNER_READ"
expect_eq "REST: the active versions no longer do" "[\"$V2\"]" "$(jq -c '[.[].name]' "$WORK/body")"
expect_eq "$APP:2.0 still pulls" "$V2" "$(inspect --no-creds "$IMAGE:2.0" | jq -r .Digest)"

http POST "$OWNER_API/app/versions/$V1_ID/restore" -u "$OWNER:$OWNER_TOKEN"
expect_answer "REST: POST .../versions/$V1_ID/restore" 204
OUT="$WORK/out-restored"
pull --src-no-creds "$IMAGE:1.0" "oci:$OUT:1.0"
expect_eq "$APP:1.0 pulls again after the restore, with the same digest" "$V1" "$(layout_digest "$OUT" 1.0)"
http GET "$OWNER_API/app/versions" -u "$OWNER:$OWNER_READ"
expect_eq "REST: both versions are active again, 1.0 tagged" '["1.0"]' \
  "$(jq -c --arg d "$V1" '.[] | select(.name == $d) | .metadata.container.tags' "$WORK/body")"
rm -rf "$OUT"

# ---------------------------------------------------- 7. token scopes ---

section "7. a read:packages token cannot push; a token without delete:packages cannot delete"
expect_failure "skopeo copy with a read:packages token fails: denied" "denied" \
  push --dest-creds "$OWNER:$OWNER_READ" "oci:$SRC:v2" "$IMAGE:3.0"
http POST "$BASE/v2/$APP/blobs/uploads/" -u "$OWNER:$OWNER_READ"
expect_answer "POST an upload with a read:packages token (Basic)" 403 DENIED
READ_BEARER="$(token_for "repository:$APP:pull,push" -u "$OWNER:$OWNER_READ")"
expect_eq "the token endpoint grants a read:packages token pull only" "[\"repository:$APP:pull\"]" "$(jwt_access "$READ_BEARER")"
http POST "$BASE/v2/$APP/blobs/uploads/" -H "Authorization: Bearer $READ_BEARER"
expect_answer "POST an upload with that bearer token" 403 DENIED
expect_contains "its challenge says insufficient_scope" "$(header WWW-Authenticate)" 'error="insufficient_scope"'
http GET "$BASE/v2/$APP/manifests/3.0" -H "Accept: $ACCEPT" -u "$OWNER:$OWNER_READ"
expect_answer "no tag 3.0 was made" 404 MANIFEST_UNKNOWN

http GET "$OWNER_API/app/versions" -u "$OWNER:$OWNER_READ"
V2_ID="$(jq -r --arg d "$V2" '.[] | select(.name == $d) | .id' "$WORK/body")"
http DELETE "$OWNER_API/app/versions/$V2_ID" -u "$OWNER:$OWNER_WRITE"
expect_answer "REST: DELETE a version with a token without delete:packages" 403
expect_failure "skopeo delete with a token without delete:packages fails: 403 DENIED" "DENIED" \
  run_skopeo delete --tls-verify=false --creds "$OWNER:$OWNER_WRITE" "$IMAGE:2.0"
http DELETE "$BASE/v2/$APP/manifests/$V2" -u "$OWNER:$OWNER_WRITE"
expect_answer "DELETE the manifest with a token without delete:packages" 403 DENIED
expect_eq "$APP:2.0 still pulls, unchanged" "$V2" "$(inspect --no-creds "$IMAGE:2.0" | jq -r .Digest)"

run_skopeo delete --tls-verify=false --creds "$OWNER:$OWNER_TOKEN" "$IMAGE:2.0"
ok "skopeo delete of $APP:2.0 with delete:packages"
http GET "$OWNER_API/app/versions?state=deleted" -u "$OWNER:$OWNER_READ"
expect_eq "REST: the version skopeo deleted is listed as deleted (restorable)" "[\"$V2\"]" "$(jq -c '[.[].name]' "$WORK/body")"

# ------------------------------------------------------ 8. workflow token ---

section "8. a workflow token publishes a package linked to its repository"
CI_SOURCE="$BASE/$OWNER/$CODE_REPO"
build_image "$SRC" ci "Wharf interop-auth image built by a workflow" "$CI_SOURCE"
CI="$(layout_digest "$SRC" ci)"
push --dest-creds "$OWNER:$CI_TOKEN" "oci:$SRC:ci" "docker://$ADDR/$OWNER/ci-image:1.0"
ok "skopeo copy with the workflow token of $OWNER/$CODE_REPO pushed $OWNER/ci-image:1.0"
expect_eq "the workflow token pulls it back" "$CI" \
  "$(inspect --creds "$OWNER:$CI_TOKEN" "docker://$ADDR/$OWNER/ci-image:1.0" | jq -r .Digest)"

http GET "$OWNER_API/ci-image" -u "$OWNER:$OWNER_READ"
expect_answer "REST: the owner sees the workflow's package" 200
expect_eq "REST: it is linked to $OWNER/$CODE_REPO" "$OWNER/$CODE_REPO" "$(jq -r .repository.full_name "$WORK/body")"
expect_eq "REST: the linked repository's URL is on the code host" "$CI_SOURCE" "$(jq -r .repository.html_url "$WORK/body")"
expect_eq "REST: its source is the label" "$CI_SOURCE" "$(jq -r .source "$WORK/body")"
expect_eq "REST: its first publish is private" private "$(jq -r .visibility "$WORK/body")"
http GET "$BASE/v2/$OWNER/ci-image/manifests/1.0" -H "Accept: $ACCEPT" -u "$OUTSIDER:$OUTSIDER_READ"
expect_answer "the outsider cannot see it" 404 NAME_UNKNOWN

expect_failure "the workflow token cannot push to $APP, which is not linked to its repository: denied" "denied" \
  push --dest-creds "$OWNER:$CI_TOKEN" "oci:$SRC:ci" "$IMAGE:ci"
http POST "$BASE/v2/$APP/blobs/uploads/" -u "$OWNER:$CI_TOKEN"
expect_answer "POST an upload to $APP with the workflow token" 403 DENIED

push --dest-creds "$OWNER:$OWNER_WRITE" "oci:$SRC:ci" "docker://$ADDR/$OWNER/labelled:1.0"
http GET "$OWNER_API/labelled" -u "$OWNER:$OWNER_READ"
expect_answer "REST: a personal push of the same labelled image makes a package" 200
expect_eq "REST: the source label on the code host links it to $OWNER/$CODE_REPO" "$OWNER/$CODE_REPO" \
  "$(jq -r .repository.full_name "$WORK/body")"
expect_eq "the workflow token pulls that package too: it is linked to its repository" "$CI" \
  "$(inspect --creds "$OWNER:$CI_TOKEN" "docker://$ADDR/$OWNER/labelled:1.0" | jq -r .Digest)"
