#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests, started as the postgres user on a private
# socket directory and port (loopback only, trust auth for the local role "app").
# Idempotent: installs the Debian package and psycopg only when missing, initialises the
# cluster once, starts it only when it is not running. Prints the SQLAlchemy URL on stdout
# (everything else goes to stderr), e.g.:
#     export JGZ_TEST_POSTGRES_URL="$(scripts/postgres.sh)"
# Stop it with: scripts/postgres.sh stop; `scripts/postgres.sh running` exits 0 when it runs.
# Settings: JGZ_PG_PORT (default 54329), JGZ_PG_DIR (default /tmp/jgz-gateway-pg-$JGZ_PG_PORT).
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${JGZ_PG_PORT:-54329}"
DIR="${JGZ_PG_DIR:-/tmp/jgz-gateway-pg-$PORT}"
URL="postgresql+psycopg://app@127.0.0.1:$PORT/postgres"

bin() {  # the newest installed server's binaries
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

running() {  # the server of $DIR runs (false when no PostgreSQL is installed)
    [ -n "$(bin)" ] && as_postgres "$(bin)/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1
}

if [ "${1:-}" = "running" ]; then
    running
    exit
fi

if [ -z "$(bin)" ]; then
    echo "installing PostgreSQL (Debian package postgresql)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
    # the package starts its own cluster on 5432; the tests use their own, so stop that one
    (service postgresql stop || true) >/dev/null 2>&1
fi
BIN="$(bin)"

if [ "${1:-}" = "stop" ]; then
    if running; then
        as_postgres "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >&2
    fi
    exit 0
fi

if [ -x .venv/bin/python ] && ! .venv/bin/python -c "import psycopg" 2>/dev/null; then
    echo "installing psycopg into .venv" >&2
    if command -v uv >/dev/null 2>&1; then
        VIRTUAL_ENV=.venv uv pip install --quiet 'psycopg[binary]>=3.1' >&2
    else
        .venv/bin/python -m pip install --quiet 'psycopg[binary]>=3.1' >&2
    fi
fi

if [ ! -f "$DIR/data/PG_VERSION" ]; then
    mkdir -p "$DIR"
    chown postgres: "$DIR" 2>/dev/null || true
    chmod 700 "$DIR"
    as_postgres "$BIN/initdb" -D "$DIR/data" -U app --auth=trust -E UTF8 --locale=C.UTF-8 >&2
fi

if ! running; then
    as_postgres "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
        -o "-k $DIR -p $PORT -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200" start >&2
fi

echo "$URL"
