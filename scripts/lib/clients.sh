# shellcheck shell=bash
# Real clients against a registry, for the scripts that source harness.sh:
# installing them, skopeo without its blob cache, curl with the answer kept
# for inspection, and OCI layouts. Source it after
# registry.sh; it defines functions and the (empty) arrays CURL_AUTH and
# SKOPEO_ENV only. The helpers that write files use the caller's WORK
# directory.

# Extra curl arguments for every `http` request (`-u USER:PASSWORD`).
CURL_AUTH=()
# Extra environment for every `run_skopeo` call (`REGISTRY_AUTH_FILE=...`).
SKOPEO_ENV=()

# reg_missing_commands COMMAND...: the COMMANDs that are not on PATH, one a
# line (each is also the name of the Debian package that has it).
reg_missing_commands() {
  local command
  for command; do
    command -v "$command" >/dev/null || printf '%s\n' "$command"
  done
}

# reg_apt_install PACKAGE...: install the missing tools the caller found
# with apt-get (as root); nothing to do without any.
reg_apt_install() {
  (($#)) || return 0
  ((EUID == 0)) || reg_die "missing tools ($*); install them or run as root"
  reg_log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# reg_oras_venv INSTALL: a Python virtual environment with the ORAS SDK in
# VENV (INTEROP_VENV, default target/interop-venv), created unless it exists
# already; with INSTALL 0 (--no-install) its absence is an error instead.
reg_oras_venv() {
  VENV=${INTEROP_VENV:-$REG_ROOT/target/interop-venv}
  if [[ -x $VENV/bin/python ]] && "$VENV/bin/python" -c 'import oras.client' 2>/dev/null; then
    return
  fi
  (($1)) || reg_die "no ORAS SDK in $VENV and --no-install given"
  reg_log "creating $VENV with the ORAS Python SDK"
  rm -rf "$VENV"
  local python=python3
  [[ -x /usr/bin/python3 ]] && python=/usr/bin/python3
  "$python" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check 'oras>=0.2.25,<0.3'
}

# run_skopeo ARGS...: skopeo with SKOPEO_ENV, and without the blob-info
# cache in which it remembers which blobs it has seen where (it would skip
# or mount them instead of transferring them): every call starts from none.
SKOPEO_CACHE=/var/lib/containers/cache/blob-info-cache-v1.boltdb
run_skopeo() {
  if ((EUID == 0)); then rm -f "$SKOPEO_CACHE"; fi
  # Non-root skopeo keeps the cache under XDG_DATA_HOME: point it at ours.
  env XDG_DATA_HOME="$WORK/xdg" "${SKOPEO_ENV[@]}" skopeo "$@"
}

sha256_of_stdin() { printf 'sha256:%s' "$(sha256sum | cut -d' ' -f1)"; }

# layout_image LAYOUT TAG DIR BYTES README [CONFIG ARGS...]: a new image TAG
# in the OCI layout LAYOUT (made if missing), built with umoci: one layer
# holding /opt/DIR/random.bin (BYTES random bytes, as `head -c` counts
# them) and, unless README is empty, /opt/DIR/README with that line; then
# `umoci config` with the CONFIG ARGS (platform, labels).
layout_image() {
  local layout=$1 tag=$2 dir=$3 bytes=$4 readme=$5 bundle="$WORK/bundle-$2"
  shift 5
  [[ -d $layout ]] || umoci init --layout "$layout"
  umoci new --image "$layout:$tag"
  umoci unpack --image "$layout:$tag" "$bundle" >/dev/null
  mkdir -p "$bundle/rootfs/opt/$dir"
  head -c "$bytes" /dev/urandom >"$bundle/rootfs/opt/$dir/random.bin"
  [[ -z $readme ]] || printf '%s\n' "$readme" >"$bundle/rootfs/opt/$dir/README"
  umoci repack --image "$layout:$tag" "$bundle"
  rm -rf "$bundle"
  umoci config --image "$layout:$tag" "$@"
}

# layout_digest LAYOUT REF: the manifest digest an OCI layout tags as REF.
layout_digest() {
  jq -r --arg ref "$2" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $ref) | .digest' "$1/index.json"
}

# http METHOD URL [CURL ARGS...]: one request (with CURL_AUTH); the status
# goes to HTTP_STATUS, headers to $WORK/headers, the body to $WORK/body, and
# "METHOD URL" to LAST_REQUEST.
http() {
  local method=$1 url=$2
  shift 2
  local how=(-X "$method")
  [[ $method == HEAD ]] && how=(-I)
  # shellcheck disable=SC2034 # the callers' results
  LAST_REQUEST="$method $url"
  # shellcheck disable=SC2034
  HTTP_STATUS="$(curl -sS "${CURL_AUTH[@]}" "${how[@]}" -D "$WORK/headers" -o "$WORK/body" \
    -w '%{http_code}' "$@" "$url")"
}

# header NAME: the value of a header of the last http response ('' if none).
header() {
  { grep -i "^$1:" "$WORK/headers" || true; } | tail -n 1 | cut -d: -f2- | tr -d '\r' | sed 's/^ *//'
}
