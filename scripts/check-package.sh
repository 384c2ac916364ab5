#!/usr/bin/env bash
# Installs the erpsync .deb into a clean Debian 12 root and checks what an operator gets.
# Slow (a debootstrap the first time, then package downloads) and needs root: a documented
# command, not part of scripts/test.sh.
#
#   scripts/package.sh && sudo scripts/check-package.sh [path/to/erpsync_*.deb]
#
# Environment: WORK (default /var/tmp/erpsync-check; holds a pristine root, reused),
# MIRROR (default: the first Debian URI of apt's configured sources).
#
# Checks, in a copy of the pristine root plus the package's dependencies:
#   1. dpkg -i installs it: its files, the erpsync user/group, /srv/erpsync/drop;
#   2. `erpsyncd --check-config` passes on the shipped /etc/erpsync, and each *.example
#      connector passes once its secrets exist (Magento: refused as not supported yet, unless
#      this build supports it);
#   3. `systemd-analyze verify` accepts the unit; `systemd-analyze security` scores it;
#   4. a real sync of the example file drop into SQLite in /var/lib/erpsync;
#   5. purge removes every path the install added except the data (database, exports).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
deb=${1:-$(ls -t "$root"/build-deb/erpsync_*.deb 2>/dev/null | head -n1)}
[ -f "$deb" ] || { echo "no .deb: run scripts/package.sh first" >&2; exit 2; }
deb=$(readlink -f "$deb")
[ "$(id -u)" = 0 ] || { echo "check-package.sh needs root (debootstrap, chroot)" >&2; exit 2; }

work=${WORK:-/var/tmp/erpsync-check}
base=$work/base
chroot_dir=$work/root
if [ -z "${MIRROR:-}" ]; then
  MIRROR=$(grep -rhoE 'https?://[^ ]+/debian/?' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null |
           grep -v security | head -n1 || true)
  MIRROR=${MIRROR:-http://deb.debian.org/debian}
fi

failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
in_root() { chroot "$chroot_dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }

mounted=()
cleanup() {
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" 2>/dev/null || true; done
}
trap cleanup EXIT

# ---- a clean Debian 12 root -------------------------------------------------------------------
if [ ! -x "$base/usr/bin/apt-get" ]; then
  command -v debootstrap >/dev/null || apt-get install -y debootstrap
  echo "== debootstrap bookworm from $MIRROR into $base"
  rm -rf "$base"
  debootstrap --variant=minbase bookworm "$base" "$MIRROR"
fi
rm -rf "$chroot_dir"
cp -a "$base" "$chroot_dir"
cp /etc/resolv.conf "$chroot_dir/etc/resolv.conf"
for fs in proc dev; do
  mount --bind "/$fs" "$chroot_dir/$fs"
  mounted+=("$chroot_dir/$fs")
done
cp "$deb" "$chroot_dir/tmp/erpsync.deb"
cp "$root/tests/fixtures/feed/accounts-export.xml" "$chroot_dir/tmp/accounts.xml" 2>/dev/null ||
  cp "$root/examples/demo/accounts-export.xml" "$chroot_dir/tmp/accounts.xml"

# ---- the package's dependencies (and recommendations) first, so that the install and purge
# below are measured against a root that differs from clean Debian only by them --------------
deps=$(dpkg-deb -f "$deb" Depends Recommends | sed -E 's/^[A-Za-z-]+: //' | tr ',' '\n' |
       sed -E 's/\(.*\)//; s/\|.*//; s/[[:space:]]//g' | grep -v '^$' | sort -u | tr '\n' ' ')
echo "== installing dependencies: $deps"
in_root apt-get update -qq
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $deps >/dev/null

snapshot() {  # every path of the root outside the package manager's own state
  (cd "$chroot_dir" && find . -xdev \( -path ./proc -o -path ./dev -o -path ./tmp -o -path ./var/lib/dpkg \
    -o -path ./var/lib/apt -o -path ./var/cache -o -path ./var/log -o -path ./run \) -prune -o -print | sort)
}
snapshot > "$work/before"
cp "$chroot_dir/etc/passwd" "$work/passwd.before"

# ---- 1. install -------------------------------------------------------------------------------
echo "== dpkg -i"
if in_root dpkg -i /tmp/erpsync.deb; then pass "dpkg -i installs the package"; else fail "dpkg -i"; fi
echo "Depends: $(in_root dpkg-query -W -f='${Depends}' erpsync)"
echo "Recommends: $(in_root dpkg-query -W -f='${Recommends}' erpsync)"
in_root dpkg-query -L erpsync | sort > "$work/files"
for f in /usr/bin/erpsyncd /usr/lib/systemd/system/erpsyncd.service /usr/lib/sysusers.d/erpsync.conf \
         /usr/lib/tmpfiles.d/erpsync.conf /usr/share/man/man8/erpsyncd.8 /usr/share/erpsync/erpsync.schema.json \
         /etc/erpsync/erpsync.json /etc/erpsync/connectors.d/file-drop.json /etc/erpsync/connectors.d/odoo.json.example \
         /etc/erpsync/connectors.d/business-central.json.example /etc/erpsync/connectors.d/magento.json.example \
         /etc/erpsync/connectors.d/csv-export.json.example /usr/share/doc/erpsync/examples/csv/kunden.csv \
         /usr/share/doc/erpsync/examples/csv/ansprechpartner.csv; do
  if [ -e "$chroot_dir$f" ]; then pass "installed $f"; else fail "missing $f"; fi
done
conffiles=$(in_root dpkg-query -W -f='${Conffiles}' erpsync | awk 'NF {print $1}' | tr '\n' ' ')
echo "conffiles: $conffiles"
[ "$(echo "$conffiles" | wc -w)" = 6 ] && pass "6 conffiles under /etc/erpsync" || fail "conffiles: $conffiles"
in_root getent passwd erpsync >/dev/null && pass "user erpsync: $(in_root getent passwd erpsync)" || fail "no user erpsync"
in_root getent group erpsync >/dev/null && pass "group erpsync" || fail "no group erpsync"
drop=$(in_root stat -c '%a %U:%G' /srv/erpsync/drop 2>/dev/null || true)
[ "$drop" = "2770 erpsync:erpsync" ] && pass "/srv/erpsync/drop is $drop" || fail "/srv/erpsync/drop is '$drop'"
in_root /usr/bin/erpsyncd --version

# ---- 2. the shipped configuration -------------------------------------------------------------
if out=$(in_root /usr/bin/erpsyncd --config /etc/erpsync/erpsync.json --check-config 2>&1); then
  pass "--check-config on the shipped /etc/erpsync: $out"
else
  fail "--check-config on the shipped /etc/erpsync: $out"
fi
# Each example, enabled the way its comments say, with made-up secrets.
mkdir -p "$chroot_dir/tmp/creds"
for c in odoo-password bc-client-id bc-client-secret mg-ck mg-cs mg-at mg-ats; do echo "made-up-$c" > "$chroot_dir/tmp/creds/$c"; done
for ex in odoo business-central magento csv-export; do
  rm -rf "$chroot_dir/tmp/etc-$ex"
  cp -a "$chroot_dir/etc/erpsync" "$chroot_dir/tmp/etc-$ex"
  mv "$chroot_dir/tmp/etc-$ex/connectors.d/$ex.json.example" "$chroot_dir/tmp/etc-$ex/connectors.d/$ex.json"
  out=$(in_root env CREDENTIALS_DIRECTORY=/tmp/creds BC_TENANT=contoso BC_COMPANY=00000000-0000-0000-0000-000000000001 \
        /usr/bin/erpsyncd --config "/tmp/etc-$ex/erpsync.json" --check-config 2>&1) && rc=0 || rc=$?
  if [ "$rc" = 0 ]; then
    pass "$ex.json.example is valid once enabled: $out"
  elif [ "$ex" = magento ] && echo "$out" | grep -q 'not supported yet'; then
    pass "magento.json.example is refused as not supported yet by this build (rc=$rc)"
  else
    fail "$ex.json.example once enabled (rc=$rc): $out"
  fi
done

# ---- 3. the unit ------------------------------------------------------------------------------
# --man=no: a minimal root has no man-db to look up Documentation=man:erpsyncd(8) (the page is
# checked above as a file).
if out=$(in_root systemd-analyze verify --man=no /usr/lib/systemd/system/erpsyncd.service 2>&1); then
  pass "systemd-analyze verify erpsyncd.service${out:+: $out}"
else
  fail "systemd-analyze verify: $out"
fi
in_root systemd-analyze security --offline=true /usr/lib/systemd/system/erpsyncd.service 2>&1 | tail -n1
if in_root systemd-analyze security --offline=true --threshold=15 /usr/lib/systemd/system/erpsyncd.service >/dev/null 2>&1; then
  pass "exposure <= 1.5"
else
  fail "exposure above 1.5"
fi

# ---- 4. a real sync: data the purge must keep -------------------------------------------------
# As the service would have it: a state directory and an export older than stable_for.
mkdir -p "$chroot_dir/var/lib/erpsync"
install -m 0640 "$chroot_dir/tmp/accounts.xml" "$chroot_dir/srv/erpsync/drop/accounts.xml"
touch -d '-1 minute' "$chroot_dir/srv/erpsync/drop/accounts.xml"
if out=$(in_root /usr/bin/erpsyncd --config /etc/erpsync/erpsync.json --once 2>&1); then
  pass "--once synced the example file drop: $(echo "$out" | grep 'sync connector=' | head -n1)"
else
  fail "--once on the example file drop: $out"
fi
in_root /usr/bin/erpsyncd --config /etc/erpsync/erpsync.json report --last 1 | head -n 8 || true

# ---- 5. remove, then purge --------------------------------------------------------------------
in_root dpkg -r erpsync >/dev/null
[ -f "$chroot_dir/etc/erpsync/erpsync.json" ] && pass "remove keeps /etc/erpsync" || fail "remove deleted /etc/erpsync"
in_root dpkg -P erpsync >/dev/null
snapshot > "$work/after"
left=$(comm -13 "$work/before" "$work/after")
echo "paths left after purge that were not there before install:"
echo "$left" | sed 's/^/  /'
unexpected=$(echo "$left" | grep -vE '^\./var/lib/erpsync(/|$)|^\./srv/erpsync(/drop)?(/accounts\.xml)?$|^$' || true)
[ -z "$unexpected" ] && pass "purge removed everything the install added but the data" ||
  fail "purge left: $unexpected"
[ ! -e "$chroot_dir/etc/erpsync" ] && pass "purge removed /etc/erpsync" || fail "/etc/erpsync is still there"
[ -s "$chroot_dir/var/lib/erpsync/erpsync.db" ] && pass "purge kept /var/lib/erpsync/erpsync.db ($(stat -c %s "$chroot_dir/var/lib/erpsync/erpsync.db") bytes)" ||
  fail "the database is gone"
[ -f "$chroot_dir/srv/erpsync/drop/accounts.xml" ] && pass "purge kept the export in /srv/erpsync/drop" || fail "the export is gone"
gone=0
while read -r f; do
  [ -d "$chroot_dir$f" ] && continue  # shared folders such as /usr/bin
  [ -e "$chroot_dir$f" ] && { echo "  still there: $f"; gone=1; }
done < "$work/files"
[ "$gone" = 0 ] && pass "every file of the package is gone" || fail "package files left"
echo "user/group after purge (kept on purpose): $(in_root getent passwd erpsync || echo none)"

echo
if [ "$failures" = 0 ]; then echo "check-package: all checks passed"; else echo "check-package: $failures check(s) failed"; fi
[ "$failures" = 0 ]
