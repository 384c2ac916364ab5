#!/usr/bin/env bash
# Builds the Debian package with CPack: BUILD_DIR/erpsync_<version>_<arch>.deb.
#
#   scripts/package.sh            # build dir: build-deb (Release, prefix /usr, no tests)
#   BUILD_DIR=/tmp/b JOBS=4 scripts/package.sh
#
# Dependencies come from dpkg-shlibdeps (CPACK_DEBIAN_PACKAGE_SHLIBDEPS, packaging/CMakeLists.txt).
# Check the result in a clean Debian 12 root with scripts/check-package.sh (slow; root).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-deb}
jobs=${JOBS:-2}

launcher=()
if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi

# The /usr prefix puts the example configuration in /etc/erpsync and the unit's ExecStart at
# /usr/bin/erpsyncd.
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
  -DERPSYNC_TESTS=OFF -DERPSYNC_BENCH=OFF "${launcher[@]}"
cmake --build "$build" -j"$jobs"
(cd "$build" && cpack -G DEB)

deb=$(ls -t "$build"/erpsync_*.deb | head -n1)
echo "built $deb"
dpkg-deb --info "$deb" | sed -n '/Package:/,$p'
