#!/bin/sh
# A throwaway PostgreSQL server for the tests and benchmarks.
#
#   pg-test-server.sh start STATE   start a server, print its URL (also in STATE/url)
#   pg-test-server.sh stop STATE    stop it and remove its files
#   pg-test-server.sh restart STATE stop it (immediate, as a crash) and start it again
#   pg-test-server.sh run CMD...    start one, run CMD with DDATA_PG_URL set, stop it
#                                   (also when CMD fails or the script is interrupted)
#
# The cluster is initdb'ed into a fresh directory under /tmp, listens on a
# Unix socket in that directory and on a free loopback port, and trusts
# local connections (nothing else can reach it). PostgreSQL refuses to run
# as root, so under root the server runs as the system user `ddata-pg`,
# created when missing. STATE is a directory the caller owns; it only
# records where the cluster lives.
#
# With DDATA_PG_URL set, start and run use that server instead and stop
# leaves it alone.
set -eu

PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
PG_USER=ddata-pg

as_server() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u "$PG_USER" -- "$@"
    else
        "$@"
    fi
}

db_user() {
    if [ "$(id -u)" = 0 ]; then echo "$PG_USER"; else id -un; fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    state=$1
    mkdir -p "$state"
    if [ -n "${DDATA_PG_URL:-}" ]; then
        echo "$DDATA_PG_URL" >"$state/url"
        echo "$DDATA_PG_URL"
        return 0
    fi
    if [ ! -x "$PGBIN/initdb" ]; then
        echo "pg-test-server: no PostgreSQL server found (apt-get install postgresql)" >&2
        exit 1
    fi
    if [ "$(id -u)" = 0 ] && ! id "$PG_USER" >/dev/null 2>&1; then
        useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER" 2>/dev/null ||
            id "$PG_USER" >/dev/null
    fi
    dir=$(mktemp -d /tmp/ddata-pg.XXXXXX)
    echo "$dir" >"$state/dir"
    [ "$(id -u)" = 0 ] && chown "$PG_USER" "$dir"
    as_server "$PGBIN/initdb" -D "$dir/data" -A trust -U "$(db_user)" -E UTF8 --no-sync \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    for attempt in 1 2 3 4 5; do
        port=$(free_port)
        if as_server "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
            -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" \
            start >/dev/null 2>&1; then
            url="postgresql://$(db_user)@127.0.0.1:$port/postgres"
            echo "$url" >"$state/url"
            echo "$port" >"$state/port"
            echo "$url"
            return 0
        fi
    done
    cat "$dir/server.log" >&2
    exit 1
}

stop() {
    state=$1
    [ -f "$state/dir" ] || { rm -f "$state/url"; return 0; }
    dir=$(cat "$state/dir")
    as_server "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    rm -f "$state/dir" "$state/url" "$state/port"
}

restart() {
    state=$1
    dir=$(cat "$state/dir")
    # restart reuses the options the server was started with (same port).
    as_server "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m immediate -w -t 60 restart \
        >/dev/null 2>&1
}

case "${1:-}" in
start) start "$2" ;;
stop) stop "$2" ;;
restart) restart "$2" ;;
run)
    shift
    state=$(mktemp -d /tmp/ddata-pg-state.XXXXXX)
    trap 'stop "$state"; rm -rf "$state"' EXIT INT TERM
    DDATA_PG_URL=$(start "$state")
    export DDATA_PG_URL
    "$@"
    ;;
*)
    echo "usage: $0 start|stop|restart STATE | run CMD..." >&2
    exit 2
    ;;
esac
