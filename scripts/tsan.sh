#!/usr/bin/env bash
# ThreadSanitizer over the parts of erpsync that use threads (SPEC §10, issue 10 item 6):
#   http_client  the HTTP client against the fake-server kit (accept thread + one thread per
#                connection, stalls released from the test thread)
#   feed_http    HTTP feeds (auth, paging, cursors) against the same kit
#   unit_core    the sync engine, matcher and MemoryStore
# built with g++ -fsanitize=thread in their own tree (build-tsan). ODBC drivers stay out: no
# test run here opens a database connection (the drivers are dlopen'ed by unixODBC only on
# connect, and are not built with TSan, so their reports would be noise); tests/tsan.supp
# lists what remains, each line with its reason.
#
#   scripts/tsan.sh              build and run all three
#   scripts/tsan.sh http_client  only this one
# Env: ERPSYNC_TSAN_BUILD (default <repo>/build-tsan), JOBS (default 2).
# Exit status: 0 when every test passed with no TSan report; TSan makes a test exit 66.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
build="${ERPSYNC_TSAN_BUILD:-$repo/build-tsan}"
jobs="${JOBS:-2}"
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(http_client feed_http unit_core)

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" \
  -DCMAKE_CXX_FLAGS="-fsanitize=thread -fno-omit-frame-pointer" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" -DERPSYNC_BENCH=OFF >/dev/null
cmake --build "$build" --target "${targets[@]}" -j "$jobs"

export TSAN_OPTIONS="suppressions=$repo/tests/tsan.supp halt_on_error=0 exitcode=66 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
status=0
for t in "${targets[@]}"; do
  bin="$(find "$build/tests" -maxdepth 1 -type f -name "$t" -perm -u+x | head -n 1)"
  [ -n "$bin" ] || { echo "tsan.sh: $t was not built" >&2; status=1; continue; }
  echo "== $t under TSan"
  log="$build/$t.tsan.log"
  if "$bin" --gtest_brief=1 >"$log" 2>&1 && ! grep -q "WARNING: ThreadSanitizer" "$log"; then
    tail -n 2 "$log"
  else
    status=1
    grep -A 30 "WARNING: ThreadSanitizer" "$log" | head -n 80 || tail -n 40 "$log"
    echo "tsan.sh: $t FAILED (full log: $log)" >&2
  fi
done
[ "$status" -eq 0 ] && echo "tsan.sh: no data race reported"
exit "$status"
