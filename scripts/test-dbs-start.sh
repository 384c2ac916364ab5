#!/usr/bin/env bash
# Starts throwaway PostgreSQL and MariaDB servers on free loopback ports for the ODBC
# integration tests, creates database "erp" and user "erp" (password "erp") in both,
# prepares a folder for SQLite files and writes an env file the tests can source:
#
#   TEST_DB_DIR=/tmp/erpsync-dbs bash scripts/test-dbs-start.sh
#   . /tmp/erpsync-dbs/env      # ODBC_PG, ODBC_MARIADB, ODBC_SQLITE_DIR, ...
#   build/tests/odbc_store
#   TEST_DB_DIR=/tmp/erpsync-dbs bash scripts/test-dbs-stop.sh [--purge]
#
# Needs (Debian 12): unixodbc odbc-postgresql odbc-mariadb libsqliteodbc postgresql mariadb-server.
# As root the servers run as the system users postgres / mysql (PostgreSQL refuses to run as
# root); as an ordinary user they run as that user. No system service, /etc file or
# /run/mysqld is touched: everything lives below TEST_DB_DIR.
#
# Knobs: TEST_DB_DIR (default /tmp/erpsync-test-dbs), PG_PORT (first port tried, default
# 55432), MARIADB_PORT (default 33306), PG_BIN (default: newest /usr/lib/postgresql/*/bin),
# SKIP_PG=1, SKIP_MARIADB=1.
#
# The test user may create databases (PostgreSQL CREATEDB; MariaDB rights on erp_t_% and
# erp), because the tests make a fresh database per test.
set -euo pipefail

BASE=${TEST_DB_DIR:-/tmp/erpsync-test-dbs}
PG_PORT=${PG_PORT:-55432}
MARIADB_PORT=${MARIADB_PORT:-33306}
DB_NAME=erp
DB_USER=erp
DB_PASS=erp

log() { echo "[test-dbs-start] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p=$1 n=0
  while port_in_use "$p"; do
    p=$((p + 1)); n=$((n + 1))
    [ $n -lt 200 ] || die "no free port near $1"
  done
  echo "$p"
}

if [ "$(id -u)" = 0 ]; then
  PG_OS_USER=postgres; MY_OS_USER=mysql
  id "$PG_OS_USER" >/dev/null 2>&1 || die "system user postgres missing (install postgresql)"
  id "$MY_OS_USER" >/dev/null 2>&1 || die "system user mysql missing (install mariadb-server)"
  as_pg() { runuser -u "$PG_OS_USER" -- "$@"; }
else
  PG_OS_USER=$(id -un); MY_OS_USER=$(id -un)
  as_pg() { "$@"; }
fi

if [ -z "${PG_BIN:-}" ]; then
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
fi

mkdir -p "$BASE"
chmod 755 "$BASE"  # the server users must be able to traverse it
ENV_FILE=$BASE/env.tmp.$$  # renamed at the end: a refused start keeps a running instance's env
: >"$ENV_FILE"
trap 'rm -f "$ENV_FILE"' EXIT

# ------------------------------------------------------------------ PostgreSQL
if [ "${SKIP_PG:-0}" != 1 ]; then
  [ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] || die "initdb not found (install postgresql or set PG_BIN)"
  PGD=$BASE/pg
  if [ -f "$PGD/data/postmaster.pid" ] && as_pg "$PG_BIN/pg_ctl" -D "$PGD/data" status >/dev/null 2>&1; then
    die "PostgreSQL already running from $PGD (run test-dbs-stop.sh first)"
  fi
  rm -rf "$PGD"
  mkdir -p "$PGD/sock"
  chown -R "$PG_OS_USER" "$PGD"
  PG_PORT=$(free_port "$PG_PORT")
  log "initdb PostgreSQL into $PGD/data"
  as_pg "$PG_BIN/initdb" -D "$PGD/data" -U postgres -E UTF8 --locale=C \
    --auth-local=trust --auth-host=scram-sha-256 >"$PGD/initdb.log" 2>&1 \
    || { cat "$PGD/initdb.log" >&2; die "initdb failed"; }
  log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
  as_pg "$PG_BIN/pg_ctl" -D "$PGD/data" -l "$PGD/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories=$PGD/sock" start >/dev/null \
    || { tail -20 "$PGD/server.log" >&2; die "pg_ctl start failed"; }
  as_pg "$PG_BIN/psql" -X -q -h "$PGD/sock" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE $DB_USER LOGIN CREATEDB PASSWORD '$DB_PASS'" \
    -c "CREATE DATABASE $DB_NAME OWNER $DB_USER" >/dev/null
  ODBC_PG="Driver={PostgreSQL Unicode};Server=127.0.0.1;Port=$PG_PORT;Database=$DB_NAME;Uid=$DB_USER;Pwd=$DB_PASS;"
  {
    echo "export PG_PORT=$PG_PORT"
    echo "export PG_SOCKDIR='$PGD/sock'"
    echo "export PG_BIN='$PG_BIN'"
    echo "export ODBC_PG='$ODBC_PG'"
  } >>"$ENV_FILE"
fi

# ------------------------------------------------------------------ MariaDB
if [ "${SKIP_MARIADB:-0}" != 1 ]; then
  MARIADBD=$(command -v mariadbd 2>/dev/null || echo /usr/sbin/mariadbd)
  [ -x "$MARIADBD" ] || die "mariadbd not found (install mariadb-server)"
  MYD=$BASE/mariadb
  if [ -f "$MYD/mariadbd.pid" ] && kill -0 "$(cat "$MYD/mariadbd.pid")" 2>/dev/null; then
    die "MariaDB already running from $MYD (run test-dbs-stop.sh first)"
  fi
  rm -rf "$MYD"
  mkdir -p "$MYD/data" "$MYD/tmp"
  chown -R "$MY_OS_USER" "$MYD"
  MARIADB_PORT=$(free_port "$MARIADB_PORT")
  SOCK=$MYD/mariadb.sock
  log "mariadb-install-db into $MYD/data"
  # --no-defaults: Debian's /etc/mysql/*.cnf point at /run/mysqld and the system datadir.
  mariadb-install-db --no-defaults --datadir="$MYD/data" --user="$MY_OS_USER" \
    --auth-root-authentication-method=normal --skip-test-db >"$MYD/install.log" 2>&1 \
    || { cat "$MYD/install.log" >&2; die "mariadb-install-db failed"; }
  log "starting MariaDB on 127.0.0.1:$MARIADB_PORT"
  # setsid + nohup: the server outlives this script. --user drops privileges when run as root.
  setsid nohup "$MARIADBD" --no-defaults --datadir="$MYD/data" --socket="$SOCK" \
    --port="$MARIADB_PORT" --bind-address=127.0.0.1 --user="$MY_OS_USER" \
    --pid-file="$MYD/mariadbd.pid" --log-error="$MYD/error.log" --tmpdir="$MYD/tmp" \
    --skip-name-resolve --character-set-server=utf8mb4 \
    --collation-server=utf8mb4_unicode_ci </dev/null >"$MYD/stdout.log" 2>&1 &
  echo $! >"$MYD/launcher.pid"
  up=0
  for _ in $(seq 1 240); do
    if mariadb-admin --no-defaults -S "$SOCK" -uroot ping >/dev/null 2>&1; then up=1; break; fi
    kill -0 "$(cat "$MYD/launcher.pid")" 2>/dev/null || { tail -30 "$MYD/error.log" >&2; die "mariadbd exited"; }
    sleep 0.25  # polling a server start-up, not synchronising tests
  done
  [ $up = 1 ] || { tail -30 "$MYD/error.log" >&2; die "mariadbd did not come up in 60 s"; }
  mariadb --no-defaults -S "$SOCK" -uroot -e "
    CREATE DATABASE $DB_NAME CHARACTER SET utf8mb4;
    CREATE USER '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASS';
    CREATE USER '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASS';
    GRANT ALL ON \`$DB_NAME\`.* TO '$DB_USER'@'127.0.0.1';
    GRANT ALL ON \`$DB_NAME\`.* TO '$DB_USER'@'localhost';
    GRANT ALL ON \`erp\\_t\\_%\`.* TO '$DB_USER'@'127.0.0.1';
    GRANT ALL ON \`erp\\_t\\_%\`.* TO '$DB_USER'@'localhost';"
  ODBC_MARIADB="Driver={MariaDB Unicode};Server=127.0.0.1;Port=$MARIADB_PORT;Database=$DB_NAME;Uid=$DB_USER;Pwd=$DB_PASS;"
  {
    echo "export MARIADB_PORT=$MARIADB_PORT"
    echo "export MARIADB_SOCKET='$SOCK'"
    echo "export ODBC_MARIADB='$ODBC_MARIADB'"
  } >>"$ENV_FILE"
fi

# ------------------------------------------------------------------ SQLite (a folder for files)
mkdir -p "$BASE/sqlite"
{
  echo "export ODBC_SQLITE_DIR='$BASE/sqlite'"
  echo "export TEST_DB_DIR='$BASE'"
} >>"$ENV_FILE"

mv -f "$ENV_FILE" "$BASE/env"
trap - EXIT
log "ready; env file: $BASE/env"
cat "$BASE/env"
