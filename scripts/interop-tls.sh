#!/usr/bin/env bash
# minimal-registry serving HTTPS (--tls-cert, --tls-key) to real clients, with
# a certificate authority and server certificates made here with openssl, and
# no client told to skip verification.
#
#   scripts/interop-tls.sh                  build and test minimal-registry
#   WHARF_BIN=path scripts/interop-tls.sh   test a prebuilt binary
#
# Starts the registry on a free loopback port with a fresh data directory,
# authentication on and the default public URL (https://localhost:PORT, so
# the token endpoint is reached over TLS too), and checks:
#
#   1. curl --cacert: GET /v2/ over HTTP/2 (ALPN h2) and over HTTP/1.1; the
#      challenge's realm is https; without the CA, or in cleartext, no answer
#   2. skopeo copies a umoci-built image to the registry with --dest-cert-dir
#      and back with --src-cert-dir, byte-identical; without the CA it fails
#   3. renewal while serving: new certificate files are served to new
#      connections within seconds while a download started before finishes
#      intact; a key that is not the certificate's is refused (the old pair
#      stays); SIGHUP reloads at once
#
# Every check prints `ok N - WHAT`; the first failure prints what was expected
# and what came back, then the end of the registry log, and exits 1. Needs
# root (or the tools already installed): it installs skopeo, umoci, jq, curl
# and openssl with apt-get. KEEP_TMP=1 keeps the temporary directory.
set -euo pipefail
shopt -s inherit_errexit

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib/harness.sh
source "$HERE/lib/harness.sh"

case ${1:-} in
  "") ;;
  -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
  *) reg_die "unknown argument: $1 (see --help)" ;;
esac

OWNER=octocat
LAYER_MIB=6 # the download that spans a renewal: 6 s at 1 MiB/s

# ------------------------------------------------------------------ setup ---

summary() { printf '\nall %d checks passed in %ds\n' "$CHECKS" "$((SECONDS - STARTED))"; }
trap 'checks_on_exit 15' EXIT
trap 'exit 130' INT TERM

mapfile -t missing < <(reg_missing_commands skopeo umoci jq curl openssl)
reg_apt_install "${missing[@]}"
BIN="$(reg_build_wharf)"
reg_mktemp interop-tls WORK
DATA="$WORK/data"
PKI="$WORK/pki"
CERTS="$WORK/certs.d" # skopeo's --*-cert-dir: the CA as ca.crt
PORT="$(reg_free_port)"
ADDR="127.0.0.1:$PORT"
BASE="https://$ADDR"
mkdir -p "$PKI" "$CERTS"

# ------------------------------------------------------------ certificates ---

# A certificate authority, then server certificates for localhost and
# 127.0.0.1 signed by it (TESTING.md, "TLS for tests").
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=wharf-interop-ca \
  -keyout "$PKI/ca.key" -out "$PKI/ca.pem" 2>/dev/null
cp "$PKI/ca.pem" "$CERTS/ca.crt"

# server_cert NAME: $PKI/NAME.pem and $PKI/NAME.key.
server_cert() {
  openssl req -newkey rsa:2048 -nodes -subj /CN=localhost \
    -keyout "$PKI/$1.key" -out "$PKI/$1.csr" 2>/dev/null
  openssl x509 -req -in "$PKI/$1.csr" -CA "$PKI/ca.pem" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 2 -extfile <(printf 'subjectAltName=DNS:localhost,IP:127.0.0.1') \
    -out "$PKI/$1.pem" 2>/dev/null
}
server_cert first
server_cert second
server_cert stranger # its key belongs to no certificate the registry gets

serial_of() { openssl x509 -noout -serial -in "$1"; }

# served_serial: the serial of the certificate a new connection gets,
# verified against the CA ('' when the handshake or verification fails).
served_serial() {
  openssl s_client -connect "$ADDR" -servername localhost -CAfile "$PKI/ca.pem" \
    -verify_return_error </dev/null 2>/dev/null | openssl x509 -noout -serial 2>/dev/null || true
}

# install_pair NAME [KEY_NAME]: the registry's files become NAME's
# certificate and KEY_NAME's key (NAME's by default), each renamed into
# place as certificate tools do.
install_pair() {
  cp "$PKI/${2:-$1}.key" "$WORK/tls.key.new" && mv "$WORK/tls.key.new" "$WORK/tls.key"
  cp "$PKI/$1.pem" "$WORK/tls.pem.new" && mv "$WORK/tls.pem.new" "$WORK/tls.pem"
}

# await_serial WHAT SERIAL: new connections get SERIAL within 10 s.
await_serial() {
  local deadline=$((SECONDS + 10)) served
  while :; do
    served="$(served_serial)"
    [[ $served == "$2" ]] && break
    ((SECONDS < deadline)) || fail "$1" "  expected: $2" "  actual:   ${served:-no verified certificate}"
    sleep 0.2
  done
  ok "$1"
}

# ---------------------------------------------------------------- registry ---

section "a registry with authentication on, serving HTTPS on $BASE"
"$BIN" --data-dir "$DATA" user create "$OWNER" 2>/dev/null
TOKEN="$("$BIN" --data-dir "$DATA" token create "$OWNER" \
  --scopes read:packages,write:packages --note interop-tls --expires-in-days 1 2>/dev/null)"
CREDS="$OWNER:$TOKEN"
install_pair first
reg_start_wharf "$BIN" "$ADDR" "$DATA" "$WORK/registry.log" \
  --tls-cert "$WORK/tls.pem" --tls-key "$WORK/tls.key"
REGISTRY_PID=$REG_LAST_PID
deadline=$((SECONDS + 60))
until [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --cacert "$PKI/ca.pem" "$BASE/v2/" || true)" == 401 ]]; do
  kill -0 "$REGISTRY_PID" 2>/dev/null || fail "the registry started" "$(tail -n 20 "$WORK/registry.log")"
  ((SECONDS < deadline)) || fail "the registry answered on $BASE/v2/ within 60 s"
  sleep 0.2
done
ok "minimal-registry --tls-cert --tls-key answers on $BASE/v2/"
STARTED=$SECONDS # the runtime reported at the end leaves the build out

# ------------------------------------------------------------------ 1. curl ---

section "1. curl: HTTP/2 through ALPN, HTTP/1.1, an https realm"
# curl_v2 ARGS...: "HTTP-VERSION STATUS" of GET /v2/ with the CA and ARGS.
curl_v2() {
  curl -sS --cacert "$PKI/ca.pem" -D "$WORK/headers" -o /dev/null \
    -w '%{http_version} %{http_code}' "$@" "$BASE/v2/"
}
expect_eq "curl --http2: GET /v2/ over HTTP/2" "2 401" "$(curl_v2 --http2)"
expect_eq "the challenge's realm is the https token endpoint" \
  "Bearer realm=\"https://localhost:$PORT/token\",service=\"localhost:$PORT\"" "$(header WWW-Authenticate)"
expect_eq "curl --http1.1: GET /v2/ over HTTP/1.1" "1.1 401" "$(curl_v2 --http1.1)"
expect_eq "curl --http2 with credentials: GET /v2/ 200" "2 200" "$(curl_v2 --http2 -u "$CREDS")"
expect_eq "a token from the https realm over TLS" 200 \
  "$(curl -sS --cacert "$PKI/ca.pem" -u "$CREDS" -o /dev/null -w '%{http_code}' \
    "https://localhost:$PORT/token?service=localhost:$PORT&scope=repository:$OWNER/app:pull")"
rc=0
curl -sS -o /dev/null "$BASE/v2/" 2>/dev/null || rc=$?
expect_eq "curl without the CA refuses the certificate (exit 60)" 60 "$rc"
rc=0
curl -sS -o /dev/null --max-time 5 "http://$ADDR/v2/" 2>/dev/null || rc=$?
[[ $rc != 0 ]] || fail "a cleartext request to the TLS port gets no answer" "  actual: curl succeeded"
ok "a cleartext request to the TLS port gets no answer (curl exit $rc)"

# ---------------------------------------------------------------- 2. skopeo ---

section "2. skopeo: push with --dest-cert-dir, pull with --src-cert-dir"
SRC="$WORK/src"
layout_image "$SRC" v1 interop-tls "${LAYER_MIB}M" "" --os linux --architecture amd64
DIGEST="$(layout_digest "$SRC" v1)"

SKOPEO_ENV=(REGISTRY_AUTH_FILE="$WORK/no-auth.json")
run_skopeo copy -q --dest-cert-dir "$CERTS" --dest-creds "$CREDS" "oci:$SRC:v1" "docker://$ADDR/$OWNER/app:1.0"
ok "skopeo copy --dest-cert-dir pushed $OWNER/app:1.0"
OUT="$WORK/out"
run_skopeo copy -q --src-cert-dir "$CERTS" --src-creds "$CREDS" "docker://$ADDR/$OWNER/app:1.0" "oci:$OUT:1.0"
expect_eq "the pulled manifest is the pushed one" "$DIGEST" "$(layout_digest "$OUT" 1.0)"
MANIFEST="$SRC/blobs/sha256/${DIGEST#sha256:}"
different=()
for blob in "$DIGEST" $(jq -r '.config.digest, .layers[].digest' "$MANIFEST"); do
  cmp -s "$SRC/blobs/sha256/${blob#sha256:}" "$OUT/blobs/sha256/${blob#sha256:}" || different+=("$blob")
done
expect_eq "the manifest, config and layers pulled back are byte-identical" "" "${different[*]}"
if out="$(run_skopeo inspect --creds "$CREDS" "docker://$ADDR/$OWNER/app:1.0" 2>&1)"; then
  fail "skopeo without the CA fails" "  actual: it succeeded"
fi
expect_contains "skopeo without the CA fails on the certificate" "$out" "certificate"

# --------------------------------------------------------------- 3. renewal ---

section "3. renewal while serving: new connections, open downloads, bad pairs, SIGHUP"
expect_eq "new connections get the first certificate" "$(serial_of "$PKI/first.pem")" "$(served_serial)"
LAYER="$(jq -r '.layers[0].digest' "$MANIFEST")"
DOWNLOAD="$WORK/download"
curl -sS --fail --cacert "$PKI/ca.pem" -u "$CREDS" --limit-rate 1M -o "$DOWNLOAD" \
  "$BASE/v2/$OWNER/app/blobs/$LAYER" &
DOWNLOAD_PID=$!
sleep 0.5
install_pair second
await_serial "new connections get the renewed certificate (files watched)" "$(serial_of "$PKI/second.pem")"
kill -0 "$DOWNLOAD_PID" 2>/dev/null ||
  fail "the download started before the renewal was still running when the renewal was served"
wait "$DOWNLOAD_PID" || fail "the download started before the renewal finished" "  curl exit: $?"
expect_eq "the download started before the renewal finished intact" "$LAYER" "$(sha256_of_stdin <"$DOWNLOAD")"

install_pair second stranger
sleep 3
expect_eq "a key that is not the certificate's is refused: the renewed certificate stays" \
  "$(serial_of "$PKI/second.pem")" "$(served_serial)"
expect_contains "the registry logs the refused pair" "$(cat "$WORK/registry.log")" "do not hold a valid pair"

install_pair first
kill -HUP "$REGISTRY_PID"
await_serial "after SIGHUP new connections get the first certificate again" "$(serial_of "$PKI/first.pem")"
sleep 0.5
expect_contains "the registry logs the SIGHUP reload" "$(cat "$WORK/registry.log")" "SIGHUP: reloaded the TLS certificate"
kill -0 "$REGISTRY_PID" 2>/dev/null || fail "the registry survives SIGHUP"
expect_eq "and still serves skopeo" "$DIGEST" \
  "$(run_skopeo inspect --cert-dir "$CERTS" --creds "$CREDS" --raw "docker://$ADDR/$OWNER/app:1.0" | sha256_of_stdin)"
