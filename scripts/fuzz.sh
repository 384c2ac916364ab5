#!/usr/bin/env bash
# libFuzzer targets of fuzz/ (config loader, XML-RPC codec, feed mappers XML, JSON and CSV with the
# transcoder, bounded parsers, Magento page parser and mappers), built with clang and
# -fsanitize=fuzzer,address,undefined in their own tree.
#
#   scripts/fuzz.sh                 fuzz every target for 1 minute (new inputs kept in
#                                   build-fuzz/corpus-work/<target>, crashes in build-fuzz/artifacts/)
#   scripts/fuzz.sh --minutes 30    ... for 30 minutes each
#   scripts/fuzz.sh --target fuzz_xmlrpc --minutes 10
#   scripts/fuzz.sh --replay        run each target once over its seed corpus (and over the
#                                   kept corpus if any): seconds; what CI runs
#   scripts/fuzz.sh --merge         fold build-fuzz/corpus-work/<target> into fuzz/corpus/<target>
#                                   (only inputs that add coverage), to commit
#
# Env: CLANG_VERSION (default 14), ERPSYNC_FUZZ_BUILD (default <repo>/build-fuzz), JOBS (2).
# Needs: clang-14 and libclang-rt-14-dev (Debian 12: apt-get install clang-14 libclang-rt-14-dev).
# A crash is written to build-fuzz/artifacts/<target>/; reproduce with
#   build-fuzz/fuzz/<target> build-fuzz/artifacts/<target>/crash-...
# and keep the input as a regression seed in fuzz/corpus/<target>/ once fixed.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
build="${ERPSYNC_FUZZ_BUILD:-$repo/build-fuzz}"
ver="${CLANG_VERSION:-14}"
jobs="${JOBS:-2}"
minutes=1
mode=fuzz
only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --target) only="$2"; shift 2 ;;
    --replay) mode=replay; shift ;;
    --merge) mode=merge; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "fuzz.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

command -v "clang++-$ver" >/dev/null || { echo "fuzz.sh: clang++-$ver not found (apt-get install clang-$ver libclang-rt-$ver-dev)" >&2; exit 2; }

targets=(fuzz_config fuzz_xmlrpc fuzz_feed_json fuzz_feed_xml fuzz_feed_csv fuzz_bounded_parse fuzz_magento_page)
[ -n "$only" ] && targets=("$only")

# Every library is instrumented for coverage (fuzzer-no-link) and ASan/UBSan; only the targets
# link libFuzzer's main. Tests, benchmark and packaging are left out of this tree.
flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -gline-tables-only"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER="clang-$ver" -DCMAKE_CXX_COMPILER="clang++-$ver" "${launcher[@]}" \
  -DCMAKE_CXX_FLAGS="$flags" -DERPSYNC_FUZZ=ON -DERPSYNC_TESTS=OFF -DERPSYNC_BENCH=OFF >/dev/null
cmake --build "$build" --target "${targets[@]}" -j "$jobs"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
status=0
for t in "${targets[@]}"; do
  seeds="$repo/fuzz/corpus/$t"
  work="$build/corpus-work/$t"
  artifacts="$build/artifacts/$t"
  mkdir -p "$work" "$artifacts"
  case "$mode" in
    replay)
      echo "== replay $t ($(ls "$seeds" | wc -l) seeds)"
      "$build/fuzz/$t" -runs=0 -rss_limit_mb=2048 -artifact_prefix="$artifacts/" "$seeds" "$work" 2>&1 | tail -n 3 || status=1
      ;;
    merge)
      echo "== merge $t"
      "$build/fuzz/$t" -merge=1 -rss_limit_mb=2048 "$seeds" "$work" 2>&1 | tail -n 2 || status=1
      ;;
    fuzz)
      echo "== fuzz $t for $minutes min"
      "$build/fuzz/$t" -max_total_time=$((minutes * 60)) -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$artifacts/" "$work" "$seeds" 2>&1 | tail -n 12 || status=1
      ;;
  esac
done
[ "$status" -eq 0 ] && echo "fuzz.sh: $mode ok" || echo "fuzz.sh: $mode FAILED (see $build/artifacts/)" >&2
exit "$status"
