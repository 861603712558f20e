# shellcheck shell=bash
# The harness of the scripts that test a registry with real clients
# (interop.sh, interop-auth.sh, browser-test.sh): registry.sh, checks.sh and
# clients.sh in one `source`.

# shellcheck source=scripts/lib/registry.sh
source "$(dirname "${BASH_SOURCE[0]}")/registry.sh"
# shellcheck source=scripts/lib/checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/checks.sh"
# shellcheck source=scripts/lib/clients.sh
source "$(dirname "${BASH_SOURCE[0]}")/clients.sh"
