#!/usr/bin/env bash
# The services the app needs (Postgres and the local Cognito stack), per profile:
#
#   devtools/services.sh up NAME           start them, write .run/NAME.env
#   devtools/services.sh down NAME         stop what `up NAME` started
#   devtools/services.sh status [NAME]
#   devtools/services.sh exec NAME -- CMD  up, run CMD with .run/NAME.env loaded, down (always);
#                                          exits with CMD's status
#
# Profiles (run side by side; both share the project's Postgres cluster):
#   dev   localcloud on 127.0.0.1:9229 (Cognito) and :9230 (S3), data in .localcloud/ (kept),
#         env in .run/dev.env
#   test  localcloud on 127.0.0.1:9239 (Cognito) and :9240 (S3), data in .localcloud-test/ (wiped
#         at each start), config tests/localcloud-test.json when it exists, env in .run/test.env,
#         with the fault switch on (localcloud --faults: operator-signed POST /_faults)
#
# Environment: DATABASE_URL (use that database, start no cluster), PGPORT_LOCAL (see postgres.sh),
# LOCALCLOUD_PORT (override the profile's Cognito port), LOCALCLOUD_S3_PORT (its S3 port; default
# LOCALCLOUD_PORT + 1), LOCALCLOUD_LATENCY_MS (delay every Cognito request, to try a slow network),
# LOCALCLOUD_TIMEOUT (seconds, default 20).
set -euo pipefail
# Everything written here (env files with secrets, logs, pids) is for this user only; the command
# `exec` runs gets the caller's umask back.
CALLER_UMASK="$(umask)"
umask 077

PROJECT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$PROJECT_DIR"
RUN_DIR=.run
PYTHON=.venv/bin/python
TIMEOUT="${LOCALCLOUD_TIMEOUT:-20}"
# As given by the caller: `exec` later exports the env file's DATABASE_URL into this shell.
GIVEN_DATABASE_URL="${DATABASE_URL:-}"

log() { printf 'services: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

profile() {
    NAME="$1"
    case "$NAME" in
        dev)
            LC_PORT="${LOCALCLOUD_PORT:-9229}"
            LC_S3_PORT="${LOCALCLOUD_S3_PORT:-$((LC_PORT + 1))}"
            LC_DATA=.localcloud
            LC_CONFIG=
            LC_FRESH=0
            LC_FAULTS=0
            ;;
        test)
            LC_PORT="${LOCALCLOUD_PORT:-9239}"
            LC_S3_PORT="${LOCALCLOUD_S3_PORT:-$((LC_PORT + 1))}"
            LC_DATA=.localcloud-test
            LC_CONFIG=tests/localcloud-test.json
            LC_FRESH=1
            LC_FAULTS=1
            ;;
        *) die "unknown profile '$NAME' (dev or test)" ;;
    esac
    LC_PID="$RUN_DIR/$NAME-localcloud.pid"
    LC_LOG="$RUN_DIR/$NAME-localcloud.log"
    ENV_FILE="$RUN_DIR/$NAME.env"
    UP_MARK="$RUN_DIR/$NAME.up"
}

# Set when one of our profiles started the cluster, so the last `down` stops it; a cluster the
# developer started by hand (devtools/postgres.sh start) is left alone.
PG_MARK="$RUN_DIR/postgres.started-by-services"

pid_alive() {
    local pid
    [ -f "$1" ] || return 1
    pid="$(cat "$1")"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ "$(ps -p "$pid" -o stat= | cut -c1)" != Z ]
}

healthy() {
    "$PYTHON" - "$1" <<'EOF' 2>/dev/null
import sys
import urllib.request

with urllib.request.urlopen(sys.argv[1], timeout=1) as response:
    sys.exit(0 if response.status == 200 else 1)
EOF
}

# Whether anything answers HTTP on a URL (the S3 origin answers 403 to an anonymous GET).
answers() {
    "$PYTHON" - "$1" <<'EOF' 2>/dev/null
import sys
import urllib.error
import urllib.request

try:
    urllib.request.urlopen(sys.argv[1], timeout=1).close()
except urllib.error.HTTPError:
    pass
EOF
}

start_postgres() {
    if [ -n "$GIVEN_DATABASE_URL" ]; then
        DB_LINE="DATABASE_URL=$GIVEN_DATABASE_URL"
        return
    fi
    if ! devtools/postgres.sh status >/dev/null 2>&1; then
        touch "$PG_MARK"
    fi
    DB_LINE="$(devtools/postgres.sh start)"
}

start_localcloud() {
    local url="http://127.0.0.1:$LC_PORT/_health" s3_url="http://127.0.0.1:$LC_S3_PORT/"
    if pid_alive "$LC_PID"; then
        log "$NAME: localcloud already running (pid $(cat "$LC_PID"))"
        return
    fi
    if healthy "$url"; then
        die "something else already answers on port $LC_PORT (another clone's localcloud?); stop it or set LOCALCLOUD_PORT"
    fi
    if answers "$s3_url"; then
        die "something else already answers on port $LC_S3_PORT (another clone's localcloud?); stop it or set LOCALCLOUD_S3_PORT"
    fi
    [ -x "$PYTHON" ] || die "$PYTHON not found: run 'make venv' first"

    local args=(-m localcloud --host 127.0.0.1 --port "$LC_PORT" --s3-port "$LC_S3_PORT" --data-dir "$LC_DATA")
    if [ -n "${LOCALCLOUD_LATENCY_MS:-}" ]; then
        args+=(--latency-ms "$LOCALCLOUD_LATENCY_MS")
    fi
    if [ "$LC_FAULTS" = 1 ]; then
        args+=(--faults) # the tests inject AWS's failures (localcloud/faults.py); never for dev
    fi
    if [ -n "$LC_CONFIG" ]; then
        if [ -f "$LC_CONFIG" ]; then
            args+=(--config "$LC_CONFIG")
        else
            log "$NAME: $LC_CONFIG not found, using localcloud's default config"
        fi
    fi
    if [ "$LC_FRESH" = 1 ]; then
        rm -rf "$LC_DATA"
    fi

    log "$NAME: starting localcloud on 127.0.0.1:$LC_PORT, S3 on :$LC_S3_PORT (log: $LC_LOG)"
    # Its own session: Ctrl-C in the terminal reaches the caller, whose trap stops it in order.
    local launcher=()
    command -v setsid >/dev/null 2>&1 && launcher=(setsid)
    rm -f "$LC_LOG" # an old log may have been created world-readable; this one is 0600 (umask)
    "${launcher[@]}" "$PYTHON" "${args[@]}" >"$LC_LOG" 2>&1 </dev/null &
    echo $! >"$LC_PID"

    local deadline=$((SECONDS + TIMEOUT))
    until healthy "$url" && answers "$s3_url" && [ -f "$LC_DATA/app.env" ]; do
        if ! pid_alive "$LC_PID"; then
            tail -n 30 "$LC_LOG" >&2 || true
            rm -f "$LC_PID"
            die "$NAME: localcloud exited during startup (log above, full log: $LC_LOG)"
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            tail -n 30 "$LC_LOG" >&2 || true
            stop_localcloud
            die "$NAME: localcloud not healthy at $url and $s3_url after ${TIMEOUT}s (log above, full log: $LC_LOG)"
        fi
        sleep 0.2
    done
}

stop_localcloud() {
    if ! pid_alive "$LC_PID"; then
        rm -f "$LC_PID"
        return
    fi
    local pid i
    pid="$(cat "$LC_PID")"
    log "$NAME: stopping localcloud (pid $pid)"
    # setsid made it a process-group leader: signal the group, so nothing it spawned survives.
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do
        pid_alive "$LC_PID" || break
        sleep 0.1
    done
    if pid_alive "$LC_PID"; then
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$LC_PID"
}

write_env() {
    local tmp="$ENV_FILE.tmp"
    (
        umask 077 # it holds the app client's secret
        {
            echo "# Written by devtools/services.sh up $NAME; load with: set -a; . $ENV_FILE; set +a"
            {
                echo "$DB_LINE"
                grep -E '^[A-Za-z_][A-Za-z0-9_]*=' "$LC_DATA/app.env"
            } | while IFS= read -r line; do
                # Single-quoted, so sourcing never expands a value (a URL's &, a secret's $).
                value="${line#*=}"
                printf "%s='%s'\n" "${line%%=*}" "${value//\'/\'\\\'\'}"
            done
        } >"$tmp"
    )
    mv "$tmp" "$ENV_FILE"
}

cmd_up() {
    profile "$1"
    mkdir -p -m 700 "$RUN_DIR"
    chmod 700 "$RUN_DIR" # made by an older version with the default mode
    start_postgres
    start_localcloud
    write_env
    touch "$UP_MARK"
    log "$NAME: up; environment in $ENV_FILE"
}

other_profiles_up() {
    local mark
    for mark in "$RUN_DIR"/*.up; do
        [ -e "$mark" ] && [ "$mark" != "$UP_MARK" ] && return 0
    done
    return 1
}

cmd_down() {
    profile "$1"
    stop_localcloud
    rm -f "$UP_MARK" "$ENV_FILE"
    if [ -f "$PG_MARK" ] && [ -z "$GIVEN_DATABASE_URL" ]; then
        if other_profiles_up; then
            log "$NAME: leaving Postgres running for the other profile"
        else
            DATABASE_URL= devtools/postgres.sh stop
            rm -f "$PG_MARK"
        fi
    fi
    log "$NAME: down"
}

cmd_status() {
    local names=("$@") name
    [ ${#names[@]} -gt 0 ] || names=(dev test)
    for name in "${names[@]}"; do
        profile "$name"
        if pid_alive "$LC_PID"; then
            log "$NAME: localcloud running on 127.0.0.1:$LC_PORT, S3 on :$LC_S3_PORT (pid $(cat "$LC_PID"))"
        else
            log "$NAME: localcloud not running"
        fi
    done
    DATABASE_URL="$GIVEN_DATABASE_URL" devtools/postgres.sh status >/dev/null || true
}

cmd_exec() {
    profile "$1"
    shift
    [ "${1:-}" = -- ] && shift
    [ $# -gt 0 ] || usage
    local name="$NAME"
    # Whatever happens from here (failure, Ctrl-C, kill), bring the services down again.
    # Expanded now: the trap may run after this function's locals are gone (set -u).
    trap "trap '' INT TERM; cmd_down $(printf %q "$name") || true" EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    cmd_up "$name"
    set -a
    # shellcheck disable=SC1090
    . "$ENV_FILE"
    set +a
    local status=0
    umask "$CALLER_UMASK"
    "$@" || status=$?
    exit "$status"
}

[ $# -ge 1 ] || usage
command="$1"
shift
case "$command" in
    up) [ $# -eq 1 ] || usage; cmd_up "$1" ;;
    down) [ $# -eq 1 ] || usage; cmd_down "$1" ;;
    status) cmd_status "$@" ;;
    exec) [ $# -ge 2 ] || usage; cmd_exec "$@" ;;
    *) usage ;;
esac
