#!/usr/bin/env bash
# Starts (or stops) a throwaway PostgreSQL cluster on 127.0.0.1 for the tests
# and benchmarks, and prints its URL. Installs Debian's postgresql when missing.
#   scripts/pg-test-server.sh start   -> postgres://postgres@127.0.0.1:55432/postgres?sslmode=disable
#   scripts/pg-test-server.sh stop
set -euo pipefail
port=${PGPORT:-55432}
dir=${PGTEST_DIR:-/tmp/ticketpager-pg}
action=${1:-start}

bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if [ "$action" = stop ]; then
  [ -d "$dir/data" ] && as_pg "$(bindir)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  exit 0
fi

if [ -z "$(bindir)" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq postgresql >/dev/null
fi
bin=$(bindir)
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
  useradd --system --home-dir "$dir" --shell /usr/sbin/nologin postgres
fi
[ -d "$dir/data" ] && as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
rm -rf "$dir"
mkdir -p "$dir"
[ "$(id -u)" = 0 ] && chown postgres "$dir"
as_pg "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 >/dev/null
# A throwaway cluster: durability settings off for speed, many connections for
# the replica tests.
as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w start -o \
  "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" >/dev/null
echo "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
