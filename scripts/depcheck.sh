#!/usr/bin/env bash
# Dependency guard: each library crate's normal dependency set (default
# features, transitive, as `cargo tree -e normal` prints it) must stay within
# the list committed in scripts/depcheck/<crate>.txt. A new dependency fails
# CI until the list is updated in the same change, which makes the cost to
# every user of the crate visible in review. Without default features,
# wharf-storage must not reach rustix or tokio, nor wharf-packages SQLite,
# PostgreSQL or tokio, nor wharf-annotations (without its extract feature)
# the manifest parser, nor wharf-server (without its ghcr feature) SQLite or
# the package model. wharf-packages keeps package metadata but never parses a
# manifest: it must not reach wharf-manifest at all. Optional features that
# bring a client library (wharf-storage's and wharf-packages' postgres,
# wharf-storage's object-store and aws) or a TLS stack (wharf-server's tls:
# rustls on ring, never aws-lc) are checked the same way against
# scripts/depcheck/<crate>+<feature>.txt, and never reach the default set.
#
#   scripts/depcheck.sh            check
#   scripts/depcheck.sh --update   rewrite the lists from the current tree
set -euo pipefail
cd "$(dirname "$0")/.."
crates=(wharf-reference wharf-manifest wharf-annotations wharf-auth wharf-storage wharf-packages wharf-server)
# Optional features whose dependency sets are listed too, as crate:feature.
features=(wharf-storage:postgres wharf-packages:postgres wharf-server:tls wharf-storage:object-store wharf-storage:aws)
# Never allowed in the crates named, whatever the list says.
forbidden() {
  case "$1" in
    wharf-reference|wharf-manifest) echo "oci-spec regex tokio rusqlite libsqlite3-sys" ;;
    wharf-annotations|wharf-auth) echo "tokio rusqlite libsqlite3-sys axum hyper" ;;
    wharf-server) echo "tokio-rustls rustls ring" ;;
    wharf-packages) echo "axum hyper wharf-manifest tokio-postgres deadpool-postgres" ;;
    wharf-storage) echo "axum hyper tokio-postgres deadpool-postgres object_store reqwest" ;;
    *) echo "axum hyper" ;;
  esac
}
# Never allowed without default features: what the default features exist
# to make optional.
forbidden_without_defaults() {
  case "$1" in
    wharf-storage) echo "rustix tokio" ;;
    wharf-annotations) echo "wharf-manifest" ;;
    wharf-packages) echo "rusqlite libsqlite3-sys tokio wharf-manifest tokio-postgres deadpool-postgres" ;;
    wharf-server) echo "rusqlite libsqlite3-sys wharf-packages wharf-auth wharf-annotations" ;;
  esac
}
deps() {
  cargo tree -q -e normal -p "$1" "${@:2}" --prefix none --format '{p}' \
    | awk '{print $1}' | grep -v "^$1\$" | sort -u
}
status=0
# Fails (status 1) when `current`, the dependencies of $1, has any not in
# the list file $2.
within_list() {
  local name="$1" list="$2" current="$3" extra
  extra="$(comm -23 <(printf '%s\n' "$current") <(sort -u "$list"))"
  if [ -n "$extra" ]; then
    echo "depcheck: $name gained dependencies not in $list:" >&2
    printf '  %s\n' $extra >&2
    echo "  (if they earn their place, run scripts/depcheck.sh --update and say why in the commit)" >&2
    status=1
  else
    echo "depcheck: $name ok ($(printf '%s\n' "$current" | wc -l) dependencies)"
  fi
}
for crate in "${crates[@]}"; do
  list="scripts/depcheck/$crate.txt"
  current="$(deps "$crate")"
  if [ "${1:-}" = --update ]; then
    printf '%s\n' "$current" >"$list"
    echo "$crate: $(wc -l <"$list") dependencies written to $list"
    continue
  fi
  bare="$(deps "$crate" --no-default-features)"
  for banned in $(forbidden_without_defaults "$crate"); do
    if grep -qx "$banned" <<<"$bare"; then
      echo "depcheck: $crate depends on $banned without default features" >&2
      status=1
    fi
  done
  for banned in $(forbidden "$crate"); do
    if grep -qx "$banned" <<<"$current"; then
      echo "depcheck: $crate depends on $banned with default features" >&2
      status=1
    fi
  done
  within_list "$crate" "$list" "$current"
done
for entry in "${features[@]}"; do
  crate="${entry%%:*}" feature="${entry#*:}"
  list="scripts/depcheck/$crate+$feature.txt"
  current="$(deps "$crate" --features "$feature")"
  if [ "${1:-}" = --update ]; then
    printf '%s\n' "$current" >"$list"
    echo "$crate with $feature: $(wc -l <"$list") dependencies written to $list"
    continue
  fi
  within_list "$crate with $feature" "$list" "$current"
done
exit "$status"
