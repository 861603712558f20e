#!/usr/bin/env bash
# The interoperability scripts against two replicas behind a load balancer:
# scripts/interop.sh (skopeo, umoci, the ORAS SDK, curl) and
# scripts/interop-auth.sh (skopeo login, tokens, the REST API, oras with
# authentication on), each run unchanged against a deployment of two
# minimal-registry processes sharing one PostgreSQL database and one S3
# bucket (moto), reached through nginx, which sends consecutive requests to
# the replicas by turns (round robin, one worker, request and response
# bodies streamed, not buffered).
#
#   scripts/interop-replicas.sh
#
# Two deployments one after the other, over the same PostgreSQL cluster and
# bucket: for interop.sh, whose clients push without credentials, replicas
# with --no-auth (database wharf_open, prefix open/); for interop-auth.sh,
# replicas with authentication on and a shared signing key (database
# wharf_auth, prefix auth/), its admin CLI run on the shared database. Both
# use --public-url, the balancer's URL. Besides the two scripts' checks, its
# own: the balancer alternates replicas, both served a fair share, and a
# package first published through one replica is pulled through the other
# at once (100 rounds, with authentication on).
#
# Needs root (or the tools installed): skopeo, umoci, jq, curl, nginx,
# postgresql, python3-venv (moto goes into target/moto-venv unless
# WHARF_MOTO names a moto_server; the ORAS SDK into target/interop-venv
# unless INTEROP_VENV names one). Environment: WHARF_BIN (a prebuilt
# minimal-registry), BIG_BLOB_MIB (interop.sh's large blob; 256 here, in
# four chunks that cross the replicas: interop.sh alone pushes 1024 MiB to
# the filesystem, and moto holds a blob three times over on disk while it
# assembles it), KEEP_TMP=1 (keep the temp dirs).
set -euo pipefail
shopt -s inherit_errexit

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib/harness.sh
source "$HERE/lib/harness.sh"
# shellcheck source=scripts/lib/servers.sh
source "$HERE/lib/servers.sh"

declare -A COUNT
summary() {
  printf '\nall passed in %ds: interop.sh %d checks, interop-auth.sh %d checks, %d checks of the deployments\n' \
    "$((SECONDS - STARTED))" "${COUNT[interop]}" "${COUNT[interop-auth]}" "$CHECKS"
}
# On failure, the end of the replicas' and the balancer's logs; always,
# every server stopped.
trap 'srv_on_exit "${WORK:-}"/*/replica-*.log "${WORK:-}"/*/nginx/error.log' EXIT
trap 'exit 130' INT TERM

srv_install_tools skopeo umoci jq curl nginx
BIN="$(reg_build_wharf)"
export WHARF_BIN=$BIN # the two scripts use it as is, building nothing
reg_oras_venv 1
export INTEROP_VENV=$VENV
reg_mktemp interop-replicas WORK
STARTED=$SECONDS

section "shared services: PostgreSQL and an S3 bucket"
srv_start_postgres PG
srv_start_s3 S3
BUCKET=wharf-interop
srv_make_bucket "$S3" "$BUCKET"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
export AWS_ENDPOINT="$S3" AWS_ALLOW_HTTP=true
ok "PostgreSQL at $PG, moto S3 at $S3, bucket $BUCKET"

# write_nginx_conf DIR LISTEN UPSTREAM...: a round-robin balancer on LISTEN
# over the UPSTREAMs. One worker, so that the turn is one counter; no
# buffering of request or response bodies (uploads and pulls stream, as big
# as they come); no retry on another replica (a failure shows); every
# request logged with the replica that answered it.
write_nginx_conf() {
  local dir=$1 listen=$2 upstream
  shift 2
  mkdir -p "$dir/temp"
  chmod 777 "$dir/temp" # the worker may run as nobody
  {
    cat <<EOF
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
  log_format replicas '\$request_method \$request_uri \$status \$upstream_addr';
  access_log $dir/access.log replicas;
  client_body_temp_path $dir/temp/body;
  proxy_temp_path $dir/temp/proxy;
  fastcgi_temp_path $dir/temp/fastcgi;
  uwsgi_temp_path $dir/temp/uwsgi;
  scgi_temp_path $dir/temp/scgi;
  upstream replicas {
EOF
    for upstream; do printf '    server %s;\n' "$upstream"; done
    cat <<EOF
    keepalive 16;
  }
  server {
    listen $listen;
    client_max_body_size 0;
    client_body_timeout 300s;
    large_client_header_buffers 4 64k;
    proxy_request_buffering off;
    proxy_buffering off;
    proxy_buffer_size 16k;
    proxy_buffers 4 16k;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host \$http_host;
    proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto \$scheme;
    proxy_set_header X-Forwarded-Host \$http_host;
    proxy_send_timeout 300s;
    proxy_read_timeout 300s;
    proxy_next_upstream off;
    location / { proxy_pass http://replicas; }
  }
}
EOF
  } >"$dir/nginx.conf"
}

# deploy NAME FLAGS...: database wharf_NAME and prefix NAME/ of the bucket,
# two replicas started with FLAGS on them behind a fresh balancer; sets
# LB (its HOST:PORT), DEPLOYMENT (its directory) and DEPLOYMENT_PIDS.
deploy() {
  local name=$1 r addr upstreams=()
  shift
  DEPLOYMENT="$WORK/$name"
  mkdir -p "$DEPLOYMENT"
  LB="127.0.0.1:$(reg_free_port)"
  DATABASE="$PG/wharf_$name"
  srv_createdb "$PG" "wharf_$name"
  head -c 32 /dev/urandom >"$DEPLOYMENT/signing-key"
  chmod 600 "$DEPLOYMENT/signing-key"
  local shared=(--database "$DATABASE" --blob-store "s3://$BUCKET/$name"
    --signing-key-file "$DEPLOYMENT/signing-key" --public-url "http://$LB" "$@")
  "$BIN" "${shared[@]}" migrate >/dev/null
  DEPLOYMENT_PIDS=()
  for r in 1 2; do
    addr="127.0.0.1:$(reg_free_port)"
    reg_start_wharf "$BIN" "$addr" "$DEPLOYMENT/data-$r" "$DEPLOYMENT/replica-$r.log" "${shared[@]}"
    DEPLOYMENT_PIDS+=("$REG_LAST_PID")
    reg_wait_ready "$addr" "$REG_LAST_PID" "$DEPLOYMENT/replica-$r.log"
    upstreams+=("$addr")
  done
  REPLICAS=("${upstreams[@]}")
  write_nginx_conf "$DEPLOYMENT/nginx" "$LB" "${upstreams[@]}"
  nginx -c "$DEPLOYMENT/nginx/nginx.conf" -e "$DEPLOYMENT/nginx/error.log" &
  REG_PIDS+=("$!")
  DEPLOYMENT_PIDS+=("$!")
  reg_wait_ready "$LB" "$!" "$DEPLOYMENT/nginx/error.log"
  ok "$name: replicas on ${upstreams[*]} behind nginx on http://$LB"
}

# undeploy: stop the replicas and the balancer of the last deployment.
undeploy() {
  local pid
  for pid in "${DEPLOYMENT_PIDS[@]}"; do reg_stop "$pid"; done
}

# check_turns: consecutive requests of one client go to the replicas by
# turns (the access log in the order the requests finished).
check_turns() {
  local log="$DEPLOYMENT/nginx/access.log" i expected=() served
  for i in 1 2 3 4 5 6; do curl -s -o /dev/null "http://$LB/v2/"; done
  sleep 0.2 # the worker writes the log line after the answer
  for i in 1 2 3; do expected+=("${REPLICAS[@]}"); done
  served="$(tail -n 6 "$log" | cut -d' ' -f4 | tr '\n' ' ')"
  # Either replica may take the first of the six.
  if [[ $served != "${expected[*]} " && $served != "${expected[*]:1} ${REPLICAS[0]} " ]]; then
    fail "six requests in a row alternate the replicas" "  replicas: ${REPLICAS[*]}" "  served by: $served"
  fi
  ok "six requests in a row alternate the replicas"
}

# check_share SCRIPT: each replica answered at least a third of the
# requests the SCRIPT sent through the balancer. Lines without a replica
# are not requests: skopeo (--tls-verify=false) first tries TLS on the
# plain-HTTP port, which nginx answers 400 itself, then speaks HTTP.
check_share() {
  local log="$DEPLOYMENT/nginx/access.log" total addr n
  total="$(awk '$4 != "-"' "$log" | wc -l)"
  for addr in "${REPLICAS[@]}"; do
    n="$(awk -v a="$addr" '$4 == a' "$log" | wc -l)"
    ((n * 3 >= total)) || fail "replica $addr answered a fair share of $1's requests" "  $n of $total"
    ok "replica $addr answered $n of the $total requests of $1"
  done
}

# check_first_publish_seen ROUNDS: ROUNDS times, a package first published
# through the second replica is found by the first right away, though the
# first looked it up (and did not find it) just before: no replica keeps
# an answer that a package is missing, so a push through one replica and a
# pull through the other do not depend on the change notification arriving
# in between (with a cache of misses, a few rounds in a hundred failed).
check_first_publish_seen() {
  local rounds=$1 i name location token config='{}' config_digest manifest
  local admin=("$BIN" --database "$DATABASE" --data-dir "$DEPLOYMENT/admin")
  "${admin[@]}" user create racer 2>/dev/null
  token="$("${admin[@]}" token create racer --scopes read:packages,write:packages 2>/dev/null)"
  CURL_AUTH=(-u "racer:$token")
  config_digest="$(printf %s "$config" | sha256_of_stdin)"
  manifest="$(jq -cn --arg d "$config_digest" '{schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json", layers: [],
    config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $d, size: 2}}')"
  for ((i = 1; i <= rounds; i++)); do
    name="racer/first-$i"
    http HEAD "http://${REPLICAS[0]}/v2/$name/blobs/$config_digest"
    http POST "http://${REPLICAS[1]}/v2/$name/blobs/uploads/"
    location="$(header Location)"
    case $location in *\?*) location+='&' ;; *) location+='?' ;; esac
    http PUT "http://${REPLICAS[1]}${location}digest=$config_digest" \
      -H 'Content-Type: application/octet-stream' --data-binary "$config"
    http PUT "http://${REPLICAS[1]}/v2/$name/manifests/1" \
      -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary "$manifest"
    [[ $HTTP_STATUS == 201 ]] || fail "round $i: the first publish of $name" "  status: $HTTP_STATUS $(head -c 300 "$WORK/body")"
    http GET "http://${REPLICAS[0]}/v2/$name/manifests/1" -H 'Accept: application/vnd.oci.image.manifest.v1+json'
    [[ $HTTP_STATUS == 200 ]] ||
      fail "round $i: $name, first published through ${REPLICAS[1]}, pulled through ${REPLICAS[0]} at once" \
        "  status: $HTTP_STATUS $(head -c 300 "$WORK/body")"
  done
  CURL_AUTH=()
  ok "$rounds packages first published through one replica, each pulled through the other at once"
}

# run_script NAME ARGS...: scripts/NAME.sh with ARGS, its output shown and
# its check count kept in COUNT[NAME].
run_script() {
  local name=$1
  shift
  "$HERE/$name.sh" "$@" 2>&1 | tee "$WORK/$name.out"
  COUNT[$name]="$(sed -n 's/^all \([0-9]*\) checks passed.*/\1/p' "$WORK/$name.out")"
  [[ -n ${COUNT[$name]} ]] || fail "$name.sh reported its checks passed"
  ok "$name.sh: all ${COUNT[$name]} checks passed through the balancer"
}

section "interop.sh against two replicas with --no-auth"
deploy open --no-auth
check_turns
: >"$DEPLOYMENT/nginx/access.log"
BIG_BLOB_MIB=${BIG_BLOB_MIB:-256} run_script interop --registry "$LB"
check_share interop.sh
undeploy

section "interop-auth.sh against two replicas with authentication on"
deploy auth
check_turns
: >"$DEPLOYMENT/nginx/access.log"
run_script interop-auth --registry "$LB" --database "$DATABASE"
check_share interop-auth.sh
check_first_publish_seen 100
undeploy
