# Sourced by demo.sh and bench-lib.sh (for bench.sh and bench-s3.sh): start and stop a
# throwaway PostgreSQL in a temp directory, on a free port of 127.0.0.1, as an unprivileged
# user when run as root.
#   pg_start            sets PG_BIN, PG_DIR, PG_PORT, PG_RUN; registers cleanup on exit
#   pg_psql DB ARGS…     psql as the superuser
#   pg_dsn DB            the connection URL

pg_find_bin() {
    if [ -n "${DRIFTGATE_TEST_PG_BIN:-}" ]; then echo "$DRIFTGATE_TEST_PG_BIN"; return; fi
    local newest
    newest=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [ -n "$newest" ] && [ -x "$newest/initdb" ]; then echo "$newest"; return; fi
    if command -v initdb >/dev/null 2>&1; then dirname "$(readlink -f "$(command -v initdb)")"; return; fi
    echo "no PostgreSQL server binaries found (run scripts/setup.sh)" >&2
    return 1
}

pg_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
        || echo $((20000 + RANDOM % 20000))
}

pg_start() {
    PG_BIN=$(pg_find_bin)
    PG_DIR=$(mktemp -d -t driftgate-demo-pg.XXXXXX)
    PG_RUN=()
    if [ "$(id -u)" -eq 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
        chown -R postgres "$PG_DIR"
        PG_RUN=(runuser -u postgres --)
    fi
    "${PG_RUN[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C -N >/dev/null
    {
        echo "fsync = off"
        echo "synchronous_commit = off"
        echo "max_connections = 100"
        echo "${PG_EXTRA_CONF:-}"
    } >>"$PG_DIR/data/postgresql.auto.conf"
    local attempt
    for attempt in 1 2 3; do
        PG_PORT=$(pg_free_port)
        if "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
            -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1" start >/dev/null; then
            trap pg_stop EXIT
            return 0
        fi
    done
    cat "$PG_DIR/server.log" >&2
    return 1
}

pg_stop() {
    if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ]; then
        "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast stop >/dev/null 2>&1 || true
        rm -rf "$PG_DIR"
    fi
}

pg_psql() {
    local db=$1; shift
    psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$db" "$@"
}

pg_dsn() {
    echo "postgresql://postgres@127.0.0.1:$PG_PORT/$1"
}
