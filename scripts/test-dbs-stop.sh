#!/usr/bin/env bash
# Stops the servers test-dbs-start.sh started (same TEST_DB_DIR), by their own PID files
# only. --purge also deletes TEST_DB_DIR.
set -uo pipefail

BASE=${TEST_DB_DIR:-/tmp/erpsync-test-dbs}
PURGE=0
[ "${1:-}" = "--purge" ] && PURGE=1
log() { echo "[test-dbs-stop] $*" >&2; }

if [ "$(id -u)" = 0 ]; then as_pg() { runuser -u postgres -- "$@"; }; else as_pg() { "$@"; }; fi
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}

if [ -f "$BASE/pg/data/postmaster.pid" ]; then
  log "stopping PostgreSQL ($BASE/pg/data)"
  if ! as_pg "$PG_BIN/pg_ctl" -D "$BASE/pg/data" -m fast -w -t 60 stop >/dev/null 2>&1; then
    pid=$(head -1 "$BASE/pg/data/postmaster.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      log "pg_ctl stop failed; SIGQUIT to postmaster $pid"
      kill -QUIT "$pid" 2>/dev/null || true
    fi
  fi
fi

PIDF=$BASE/mariadb/mariadbd.pid
[ -f "$PIDF" ] || PIDF=$BASE/mariadb/launcher.pid
if [ -f "$PIDF" ]; then
  pid=$(cat "$PIDF" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    log "stopping MariaDB (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 240); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    if kill -0 "$pid" 2>/dev/null; then
      log "MariaDB did not stop in 60 s; SIGKILL $pid"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
fi

if [ $PURGE = 1 ]; then
  case "$BASE" in
    / | /tmp | /root | /home | "") log "refusing to purge $BASE" ;;
    *) log "removing $BASE"; rm -rf "$BASE" ;;
  esac
fi
log "done"
