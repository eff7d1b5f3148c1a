#!/usr/bin/env bash
# A project-local Postgres cluster for development and tests: no Docker, no system service.
#
#   devtools/postgres.sh start|stop|status|url|destroy
#
# `destroy` stops the cluster and deletes its data directory.
# `start` and `url` print `DATABASE_URL=...` on stdout (everything else goes to stderr), so
# callers can capture it. When DATABASE_URL is already set, this script manages nothing and
# just echoes it back.
#
# Environment: PGPORT_LOCAL (default 54329), PG_BINDIR (directory holding initdb/pg_ctl),
# PG_LOCAL_DB (default app).
set -euo pipefail

PROJECT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
PORT="${PGPORT_LOCAL:-54329}"
DB_NAME="${PG_LOCAL_DB:-app}"
URL="postgres://postgres@127.0.0.1:${PORT}/${DB_NAME}"

log() { printf 'postgres: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    echo "usage: $0 start|stop|status|url|destroy" >&2
    exit 2
}

find_bindir() {
    local candidates=() dir
    [ -n "${PG_BINDIR:-}" ] && candidates+=("$PG_BINDIR")
    if command -v pg_config >/dev/null 2>&1; then
        candidates+=("$(pg_config --bindir 2>/dev/null || true)")
    fi
    for v in 17 16 15 14; do
        candidates+=(
            "/usr/lib/postgresql/$v/bin"                # Debian, Ubuntu
            "/usr/pgsql-$v/bin"                         # RHEL, Fedora (PGDG)
            "/opt/homebrew/opt/postgresql@$v/bin"       # Homebrew, Apple silicon
            "/usr/local/opt/postgresql@$v/bin"          # Homebrew, Intel
            "/Applications/Postgres.app/Contents/Versions/$v/bin"
        )
    done
    if command -v initdb >/dev/null 2>&1; then
        candidates+=("$(dirname "$(command -v initdb)")")
    fi
    for dir in "${candidates[@]}"; do
        if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

path_hash() {
    if command -v sha256sum >/dev/null 2>&1; then
        printf '%s' "$PROJECT_DIR" | sha256sum | cut -c1-12
    else
        printf '%s' "$PROJECT_DIR" | shasum -a 256 | cut -c1-12
    fi
}

# Postgres refuses to run as root, so root runs the server as the `postgres` system user.
if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 \
        || die "running as root needs a 'postgres' system user (install Postgres, or run as a normal user)"
    AS_PG=(runuser -u postgres --)
else
    AS_PG=()
fi

# Where the cluster lives: .pgdata/ in the project, unless root's postgres user cannot reach the
# project (a clone under /root, mode 700), in which case a directory under /tmp named after a hash
# of the project path, so each clone still gets its own cluster.
choose_base() {
    if [ "${#AS_PG[@]}" -gt 0 ] && ! "${AS_PG[@]}" test -x "$PROJECT_DIR" 2>/dev/null; then
        echo "${TMPDIR:-/tmp}/devpg-$(path_hash)"
    else
        echo "$PROJECT_DIR/.pgdata"
    fi
}

BASE="$(choose_base)"
DATA="$BASE/data"
LOGFILE="$BASE/postgres.log"
# A unix socket path must fit in ~107 bytes; a deep project path falls back to /tmp.
SOCKDIR="$BASE/run"
if [ "${#SOCKDIR}" -gt 80 ]; then
    SOCKDIR="${TMPDIR:-/tmp}/devpg-sock-$(path_hash)"
fi

# Run a Postgres binary as the server's user, from / (root's cwd may be unreadable to postgres),
# without the lock descriptor (the postmaster would otherwise hold the lock for its lifetime).
pg() { (cd / && "${AS_PG[@]}" "$BINDIR/$1" "${@:2}") 9>&-; }

make_dir() {
    # Create a directory owned by whoever runs the server. Under /tmp, refuse one that someone
    # else created first (anyone can create names there).
    local dir="$1"
    if [ ! -d "$dir" ]; then
        mkdir -p "$dir"
        [ "${#AS_PG[@]}" -eq 0 ] || chown postgres: "$dir"
    fi
    local owner
    owner="$(stat -c %U "$dir" 2>/dev/null || stat -f %Su "$dir")"
    local expected
    if [ "${#AS_PG[@]}" -gt 0 ]; then expected=postgres; else expected="$(id -un)"; fi
    [ "$owner" = "$expected" ] || die "$dir is owned by $owner, not $expected; remove it"
    chmod 700 "$dir"
}

# True when the postmaster named in postmaster.pid is alive. A leftover file from a crash or a
# reboot names a dead PID, or one reused by an unrelated process.
is_running() {
    local pidfile="$DATA/postmaster.pid" pid comm
    [ -f "$pidfile" ] || return 1
    pid="$(head -n 1 "$pidfile" 2>/dev/null || true)"
    [ -n "$pid" ] || return 1
    # A zombie (killed, never reaped: containers often lack an init that reaps) is dead too.
    comm="$(ps -p "$pid" -o stat=,comm= 2>/dev/null || true)"
    case "$comm" in
        Z*) return 1 ;;
        *postgres* | *postmaster*) return 0 ;;
        *) return 1 ;;
    esac
}

wait_ready() {
    local i
    for i in $(seq 1 100); do
        if pg pg_isready -q -h 127.0.0.1 -p "$PORT" -d postgres -U postgres; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

cmd_start() {
    if [ ! -f "$DATA/PG_VERSION" ]; then
        log "creating a cluster in $DATA"
        make_dir "$BASE"
        make_dir "$DATA"
        make_dir "$SOCKDIR"
        # -E UTF8 with the C locale: works whatever locales the machine has installed.
        pg initdb -D "$DATA" -U postgres --auth=trust -E UTF8 --no-locale >"$BASE/initdb.log" 2>&1 \
            || { tail -n 20 "$BASE/initdb.log" >&2; die "initdb failed (log: $BASE/initdb.log)"; }
        # Throwaway data: trade durability for speed (test databases are created on every run).
        (cd / && "${AS_PG[@]}" sh -c "cat >> '$DATA/postgresql.conf'") <<'EOF'

# devtools/postgres.sh: disposable development cluster
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
    fi
    make_dir "$SOCKDIR"

    if is_running; then
        log "already running ($DATA)"
    else
        if [ -f "$DATA/postmaster.pid" ]; then
            log "removing stale postmaster.pid left by a crash"
            rm -f "$DATA/postmaster.pid"
        fi
        # The socket's lock file may name the dead postmaster too (a zombie still passes kill -0).
        rm -f "$SOCKDIR/.s.PGSQL.$PORT" "$SOCKDIR/.s.PGSQL.$PORT.lock"
        log "starting on 127.0.0.1:$PORT (log: $LOGFILE)"
        if ! pg pg_ctl -D "$DATA" -l "$LOGFILE" -w -t 30 \
            -o "-c listen_addresses=127.0.0.1 -p $PORT -k $SOCKDIR" start >/dev/null; then
            tail -n 20 "$LOGFILE" >&2 || true
            die "could not start (is port $PORT taken? set PGPORT_LOCAL to use another)"
        fi
    fi
    wait_ready || die "server is not accepting connections on 127.0.0.1:$PORT (log: $LOGFILE)"

    # trust auth on 127.0.0.1, so any OS user may connect as postgres over TCP.
    local exists
    exists="$("$BINDIR/psql" -X -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -tA \
        -c "select 1 from pg_database where datname = '$DB_NAME'")"
    if [ "$exists" != 1 ]; then
        log "creating database $DB_NAME"
        "$BINDIR/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DB_NAME"
    fi
    echo "DATABASE_URL=$URL"
}

cmd_stop() {
    if is_running; then
        log "stopping ($DATA)"
        pg pg_ctl -D "$DATA" -m fast -w -t 30 stop >/dev/null
    else
        log "not running"
    fi
}

cmd_destroy() {
    cmd_stop
    if [ -d "$BASE" ]; then
        log "deleting $BASE"
        rm -rf "$BASE"
    fi
    if [ "$SOCKDIR" != "$BASE/run" ]; then
        rm -rf "$SOCKDIR"
    fi
}

cmd_status() {
    if is_running; then
        log "running on 127.0.0.1:$PORT, data in $DATA"
        echo "DATABASE_URL=$URL"
    else
        log "not running (data in $DATA)"
        return 3
    fi
}

[ $# -eq 1 ] || usage

if [ -n "${DATABASE_URL:-}" ]; then
    case "$1" in
        start | stop | status | url | destroy)
            log "DATABASE_URL is set: not managing a local cluster"
            case "$1" in stop | destroy) ;; *) echo "DATABASE_URL=$DATABASE_URL" ;; esac
            exit 0
            ;;
        *) usage ;;
    esac
fi

BINDIR="$(find_bindir)" || die "no Postgres binaries found (install Postgres 14-17, or set PG_BINDIR)"

case "$1" in
    start)
        # Serialise concurrent starts (make dev and make test at once) where flock exists.
        if command -v flock >/dev/null 2>&1; then
            mkdir -p "$PROJECT_DIR/.run"
            exec 9>"$PROJECT_DIR/.run/postgres.lock"
            flock -w 60 9 || die "timed out waiting for another start"
        fi
        cmd_start
        ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    destroy) cmd_destroy ;;
    url) echo "DATABASE_URL=$URL" ;;
    *) usage ;;
esac
