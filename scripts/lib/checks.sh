# shellcheck shell=bash
# Numbered checks for the scripts that test a registry with real clients
# (interop.sh, interop-auth.sh, browser-test.sh). Source it; it defines
# functions and the counters CHECKS, SKIPS and STARTED only.
#
# Every check prints `ok N - WHAT`; the first failure prints what was
# expected and what came back, and exits 1.

CHECKS=0
SKIPS=0
# shellcheck disable=SC2034 # the callers report the time since
STARTED=$SECONDS

ok() {
  CHECKS=$((CHECKS + 1))
  printf 'ok %d - %s\n' "$CHECKS" "$*"
}

# fail WHAT [LINE...]: report a failed check, with its details, and exit 1.
fail() {
  printf '\nFAIL: %s\n' "$1" >&2
  shift
  printf '%s\n' "$@" >&2
  exit 1
}

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
  if [[ $2 == "$3" ]]; then
    ok "$1"
  else
    fail "$1" "  expected: $2" "  actual:   $3"
  fi
}

# expect_contains WHAT HAYSTACK NEEDLE
expect_contains() {
  if [[ $2 == *"$3"* ]]; then
    ok "$1"
  else
    fail "$1" "  expected to contain: $3" "  actual: $2"
  fi
}

skip() {
  SKIPS=$((SKIPS + 1))
  printf 'skip - %s\n' "$*"
}

section() { printf '\n# %s\n' "$*"; }

# checks_on_exit LINES: the EXIT trap of a checking script
# (`trap 'checks_on_exit 15' EXIT`): on failure the last LINES lines of
# $WORK/registry.log; then reg_cleanup (registry.sh); on success the
# script's own `summary`.
checks_on_exit() {
  local rc=$?
  ((rc == 0)) || reg_log_tail "${WORK:-}/registry.log" "$1"
  reg_cleanup
  ((rc != 0)) || summary
}
