#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the PostgreSQL store tests.
#
#   scripts/pg-test-cluster.sh start          prints a connection string
#   scripts/pg-test-cluster.sh stop [URL|DIR] stops it and deletes its files
#
# `start` installs PostgreSQL from Debian's packages when no server binaries
# are found, runs initdb in a fresh temporary directory, and starts the
# server on 127.0.0.1 only, on a free port, with trust authentication (the
# cluster is reachable from this machine only and holds test data only).
# The connection string is the only line written to stdout, so callers can
# do: export DUCKQUEUE_PG_URL="$(scripts/pg-test-cluster.sh start)".
# `stop` takes that string (or $DUCKQUEUE_PG_URL when no argument is given),
# or the data directory printed on stderr by `start`.
#
# Durability is switched off (fsync, synchronous_commit): a crash of this
# cluster loses nothing that matters, and tests run much faster without it.
set -euo pipefail

log() { echo "pg-test-cluster: $*" >&2; }
die() { log "$*"; exit 1; }

# Server binaries live outside PATH on Debian (/usr/lib/postgresql/N/bin).
find_bindir() {
  local candidate
  if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1
  then
    dirname "$(readlink -f "$(command -v pg_ctl)")"
    return 0
  fi
  for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r)
  do
    if [[ -x "$candidate/pg_ctl" && -x "$candidate/initdb" ]]; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

install_postgres() {
  [[ $(id -u) -eq 0 ]] ||
    die "PostgreSQL is not installed and installing needs root:" \
        "run 'apt-get install -y postgresql' as root, then retry"
  log "PostgreSQL not found; installing it from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
}

# initdb refuses to run as root, so as root the cluster belongs to the
# 'postgres' account that Debian's package creates.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    # runuser lives in /usr/sbin, which a minimal PATH may leave out.
    "$(command -v runuser || echo /usr/sbin/runuser)" -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  node -e '
    const s = require("net").createServer();
    s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });
  '
}

start() {
  local bindir dir port attempt
  bindir=$(find_bindir) || { install_postgres; bindir=$(find_bindir); } ||
    die "no pg_ctl/initdb found even after installing postgresql"
  if [[ $(id -u) -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
    die "running as root but there is no 'postgres' user to own the" \
        "cluster; create one (useradd -r postgres) or run as a normal user"
  fi

  dir=$(mktemp -d "${TMPDIR:-/tmp}/duckqueue-pg.XXXXXX")
  chmod 755 "$dir"
  mkdir "$dir/data" "$dir/run"
  if [[ $(id -u) -eq 0 ]]; then chown -R postgres: "$dir"; fi

  as_owner "$bindir/initdb" -D "$dir/data" -U postgres -A trust \
    -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
    die "initdb failed; see $dir/initdb.log"

  # Another process may take the port between our probe and the server's
  # bind; pick a new one and retry rather than fail the run.
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    cat >"$dir/data/postgresql.auto.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir/run'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
    if [[ $(id -u) -eq 0 ]]; then
      chown postgres: "$dir/data/postgresql.auto.conf"
    fi
    if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" \
         -w -t 60 start >/dev/null 2>&1; then
      echo "$port" >"$dir/port"
      log "started PostgreSQL on 127.0.0.1:$port (data in $dir)"
      echo "postgres://postgres@127.0.0.1:$port/postgres"
      return 0
    fi
    log "start on port $port failed (attempt $attempt); retrying"
  done
  die "could not start PostgreSQL; see $dir/server.log"
}

# Find the directory of a cluster from a connection string's port.
dir_for_url() {
  local port candidate
  port=$(sed -E 's|^[a-z]+://[^/]*:([0-9]+)/.*$|\1|' <<<"$1")
  [[ $port =~ ^[0-9]+$ ]] || die "no port in connection string '$1'"
  for candidate in "${TMPDIR:-/tmp}"/duckqueue-pg.*; do
    if [[ -f "$candidate/port" && $(cat "$candidate/port") == "$port" ]]
    then
      echo "$candidate"
      return 0
    fi
  done
  die "no cluster started by this script listens on port $port"
}

stop() {
  local target=${1:-${DUCKQUEUE_PG_URL:-}} dir bindir
  [[ -n $target ]] ||
    die "usage: $0 stop <connection string | data dir> (or set DUCKQUEUE_PG_URL)"
  if [[ -d $target ]]; then dir=$target; else dir=$(dir_for_url "$target"); fi
  [[ -d $dir/data ]] || die "'$dir' is not a cluster made by this script"
  bindir=$(find_bindir) || die "no pg_ctl found"
  as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop \
    >/dev/null 2>&1 || log "server in $dir was not running"
  rm -rf "$dir"
  log "stopped and removed $dir"
}

case "${1:-}" in
  start) start ;;
  stop) shift; stop "${1:-}" ;;
  *) die "usage: $0 start | stop [connection string | data dir]" ;;
esac
