#!/usr/bin/env bash
# Configures and builds erpsync. Usage: scripts/build.sh [release|asan] [extra cmake args...]
# Build trees: build/release, build/asan.
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-release}
shift || true
case "$kind" in
  release) args=(-DCMAKE_BUILD_TYPE=Release) ;;
  asan) args=(-DCMAKE_BUILD_TYPE=Debug -DERPSYNC_SANITIZE=ON) ;;
  *) echo "build.sh: unknown build kind $kind (release|asan)" >&2; exit 2 ;;
esac
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B "build/$kind" -G Ninja "${args[@]}" "${launcher[@]}" "$@" >/dev/null
cmake --build "build/$kind" -j "$(nproc)"
