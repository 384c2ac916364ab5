#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs the packages (build tools,
# ODBC drivers, PostgreSQL and MariaDB servers), builds a release and an ASan+UBSan tree,
# starts throwaway PostgreSQL and MariaDB servers on loopback, and runs every test in both.
# Usage: scripts/test.sh [--quick]    (--quick: release tree only)
# Environment: ERPSYNC_TEST_DBS=DIR reuses servers already started by scripts/test-dbs-start.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
quick=0
[ "${1:-}" = "--quick" ] && quick=1

t0=$(date +%s)
stamp() { echo "[test.sh] $(( $(date +%s) - t0 ))s: $*"; }

scripts/install-deps.sh --with-servers
stamp "packages ready"

if [ -n "${ERPSYNC_TEST_DBS:-}" ]; then
  dbdir=$ERPSYNC_TEST_DBS
else
  dbdir=$(mktemp -d /tmp/erpsync-test-dbs.XXXXXX)
  TEST_DB_DIR=$dbdir scripts/test-dbs-start.sh >/dev/null
  trap 'TEST_DB_DIR=$dbdir scripts/test-dbs-stop.sh >/dev/null 2>&1 || true; rm -rf "$dbdir"' EXIT
fi
# shellcheck disable=SC1091
source "$dbdir/env"
stamp "database servers ready"

run_tree() {
  local kind=$1
  scripts/build.sh "$kind"
  stamp "$kind build done"
  ctest --test-dir "build/$kind" --output-on-failure -j 2 --timeout 600
  stamp "$kind tests done"
}

export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
run_tree release
[ "$quick" = 1 ] || run_tree asan
# The libFuzzer targets over their committed corpora (seconds once built); fuzzing for
# minutes is `scripts/fuzz.sh --minutes N` (docs/reliability.md).
[ "$quick" = 1 ] || { scripts/fuzz.sh --replay; stamp "fuzz replay done"; }
stamp "all tests passed"
