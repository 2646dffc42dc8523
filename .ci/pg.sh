#!/usr/bin/env bash
# Start a throw-away PostgreSQL cluster on 127.0.0.1 and print its URL (source-able helper).
# Usage: eval "$(.ci/pg.sh start DIR)"  /  .ci/pg.sh restart DIR  /  .ci/pg.sh stop DIR
set -euo pipefail
cmd=$1 dir=$2
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case $cmd in
  start)
    port=${PGPORT_TEST:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    as_pg "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >/dev/null
    as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
      -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c full_page_writes=off" start >/dev/null
    as_pg "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres returnee_test
    echo "export TEST_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:$port/returnee_test"
    echo "export TEST_PG_RESTART='$(realpath "$0") restart $dir'"
    ;;
  restart)
    as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast -w restart >/dev/null
    ;;
  stop)
    as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast stop >/dev/null || true
    ;;
esac
