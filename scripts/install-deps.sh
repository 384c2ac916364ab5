#!/usr/bin/env bash
# Installs the Debian 12 packages erpsync needs to build, test and run (as root, or via sudo).
# Usage: scripts/install-deps.sh [--runtime-only] [--with-servers]
#   --with-servers  also what the test suite needs: PostgreSQL and MariaDB servers (it starts
#                   throwaway ones), curl, and clang-14 for the fuzz corpus replay
set -euo pipefail

build_pkgs=(cmake ninja-build g++ pkg-config ccache
  libboost-dev libcurl4-openssl-dev libpugixml-dev nlohmann-json3-dev unixodbc-dev
  libspdlog-dev libfmt-dev libsystemd-dev libssl-dev libgtest-dev libgmock-dev)
runtime_pkgs=(unixodbc libsqliteodbc odbc-postgresql odbc-mariadb sqlite3)
# The test suite's own needs: database servers, curl, and clang for the fuzz targets' replay.
server_pkgs=(postgresql mariadb-server python3 curl clang-14 libclang-rt-14-dev)

pkgs=("${runtime_pkgs[@]}")
with_servers=0
runtime_only=0
for a in "$@"; do
  case "$a" in
    --with-servers) with_servers=1 ;;
    --runtime-only) runtime_only=1 ;;
    *) echo "install-deps.sh: unknown option $a" >&2; exit 2 ;;
  esac
done
[ "$runtime_only" = 1 ] || pkgs+=("${build_pkgs[@]}")
[ "$with_servers" = 1 ] && pkgs+=("${server_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "[install-deps] all ${#pkgs[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
echo "[install-deps] installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "[install-deps] done"
