#!/usr/bin/env bash
# The demo: installs what erpsync needs, builds it, and syncs the bundled example exports
# (examples/demo/) into a local SQLite database through the SQLite ODBC driver — twice, to
# show that a second run over the same data writes nothing. Then shows what landed.
# Usage: scripts/demo.sh        (as root, or with sudo available, on Debian 12)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

scripts/install-deps.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release \
  $(command -v ccache >/dev/null && echo -DCMAKE_CXX_COMPILER_LAUNCHER=ccache) >/dev/null
cmake --build build/release --target erpsyncd -j "$(nproc)"

demo=$root/build/demo
rm -rf "$demo" && mkdir -p "$demo"
cp examples/demo/accounts-export.xml examples/demo/webshop-accounts.json "$demo/"
sed -e "s|@DEMO_DIR@|$demo|g" -e "s|@DB@|$demo/crm.db|g" examples/demo/erpsync.json.in > "$demo/erpsync.json"
bin=build/release/daemon/erpsyncd

echo; echo "== first run: erpsyncd --config $demo/erpsync.json --once"
"$bin" --config "$demo/erpsync.json" --once
echo; echo "== second run over the same exports (nothing to write)"
"$bin" --config "$demo/erpsync.json" --once

echo; echo "== what the CRM database holds ($demo/crm.db)"
sqlite3 -header -column "$demo/crm.db" \
  "SELECT a.external_code AS code, a.name, a.owner, a.relationship, a.active, p.external_code AS member_of
     FROM accounts a LEFT JOIN accounts p ON p.id = a.member_of_id ORDER BY a.external_code;"
echo
sqlite3 -header -column "$demo/crm.db" \
  "SELECT connector, remote_id, external_code AS code, reason, existing_owner, incoming_owner, times_seen
     FROM sync_rejections WHERE resolved_at IS NULL ORDER BY connector, remote_id;"
echo
"$bin" --config "$demo/erpsync.json" report --last 2 || true
