#!/usr/bin/env bash
# The README's first command from a fresh clone in a new folder: clones this
# repository's committed HEAD, runs `cargo run --release -p minimal-registry`
# there with nothing else, and waits until /v2/ answers. It shares this
# checkout's target directory only to save the build time; the data
# directory is the relative default, created in the fresh folder.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
target="$(cd "$root" && cargo metadata --format-version 1 --no-deps | jq -r .target_directory)"
work="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
git clone -q "$root" "$work/wharf"
cd "$work/wharf"
CARGO_TARGET_DIR="$target" cargo build --release --quiet -p minimal-registry
CARGO_TARGET_DIR="$target" cargo run --release --quiet -p minimal-registry >"$work/out.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "the registry exited before serving:" >&2
    cat "$work/out.log" >&2
    exit 1
  fi
  status="$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:5000/v2/ || true)"
  if [ "$status" = 401 ] || [ "$status" = 200 ]; then
    [ -d registry-data/blobs ] || { echo "no registry-data/blobs in the fresh clone" >&2; exit 1; }
    echo "fresh clone: /v2/ answered $status; data in $(pwd)/registry-data"
    exit 0
  fi
  sleep 0.2
done
echo "the registry did not answer on 127.0.0.1:5000 within 60 s" >&2
cat "$work/out.log" >&2
exit 1
