#!/usr/bin/env bash
# Developer registry on 127.0.0.1:${REGISTRY_PORT:-15000}.
#
#   scripts/dev-registry.sh start|stop|status
#
# With USE_COMPOSE=1 and a usable Docker engine it runs docker-compose.yml;
# otherwise it runs Debian's docker-registry binary in the background, with data,
# config, log and pid under .dev-registry/ in the project root.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PORT="${REGISTRY_PORT:-15000}"
STATE_DIR="$ROOT/.dev-registry"
DATA_DIR="$STATE_DIR/data"
CONFIG="$STATE_DIR/config.yml"
LOG="$STATE_DIR/registry.log"
PID_FILE="$STATE_DIR/registry.pid"
MODE_FILE="$STATE_DIR/mode"
URL="http://127.0.0.1:$PORT/v2/"
READY_TRIES=150 # x 0.1 s

log() { echo "dev-registry: $*" >&2; }

use_compose() {
    [ "${USE_COMPOSE:-0}" = "1" ] && command -v docker >/dev/null 2>&1 &&
        docker info >/dev/null 2>&1
}

v2_answers() {
    if command -v curl >/dev/null 2>&1; then
        curl -fsS --noproxy '*' --max-time 2 -o /dev/null "$URL" 2>/dev/null
    else
        python3 - "$URL" <<'PY' 2>/dev/null
import sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
with opener.open(sys.argv[1], timeout=2) as response:
    sys.exit(0 if response.status == 200 else 1)
PY
    fi
}

wait_ready() {
    local i
    for ((i = 0; i < READY_TRIES; i++)); do
        if v2_answers; then
            return 0
        fi
        if [ -n "${1:-}" ] && ! kill -0 "$1" 2>/dev/null; then
            log "registry exited early; log follows"
            tail -n 50 "$LOG" >&2 || true
            return 1
        fi
        sleep 0.1
    done
    log "registry did not answer $URL in time; log follows"
    tail -n 50 "$LOG" >&2 || true
    return 1
}

running_pid() {
    local pid
    [ -f "$PID_FILE" ] || return 1
    pid="$(cat "$PID_FILE")"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    if [ -r "/proc/$pid/cmdline" ] && ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "serve $CONFIG"; then
        return 1 # the pid was reused by an unrelated process
    fi
    echo "$pid"
}

# The port the running registry was configured with (the `addr:` line of its config).
configured_port() {
    sed -n 's/^  addr: 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$CONFIG" 2>/dev/null
}

registry_binary() {
    if command -v docker-registry >/dev/null 2>&1; then
        command -v docker-registry
    elif [ -x /usr/bin/docker-registry ]; then
        echo /usr/bin/docker-registry
    else
        return 1
    fi
}

write_config() {
    mkdir -p "$DATA_DIR"
    cat >"$CONFIG" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $DATA_DIR
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$PORT
  secret: dev-registry-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
health:
  storagedriver:
    enabled: false
YAML
}

start() {
    mkdir -p "$STATE_DIR"
    if use_compose; then
        (cd "$ROOT" && REGISTRY_PORT="$PORT" docker compose -f docker-compose.yml up -d)
        echo compose >"$MODE_FILE"
        wait_ready
        log "running (compose) at http://127.0.0.1:$PORT"
        return 0
    fi

    local pid binary running_port
    if pid="$(running_pid)"; then
        running_port="$(configured_port)"
        if [ "$running_port" != "$PORT" ]; then
            log "already running (pid $pid) on port $running_port, not $PORT;" \
                "run \`make stop-registry\` first, or use REGISTRY_PORT=$running_port"
            return 1
        fi
        wait_ready "$pid"
        log "already running (pid $pid) at http://127.0.0.1:$PORT"
        return 0
    fi
    if v2_answers; then
        log "something else already answers $URL; not starting another registry"
        return 1
    fi
    if ! binary="$(registry_binary)"; then
        bash "$ROOT/scripts/install-system-deps.sh"
        binary="$(registry_binary)"
    fi
    write_config
    # docker-registry treats every REGISTRY_* variable as a config override.
    nohup setsid env -u REGISTRY_PORT "$binary" serve "$CONFIG" </dev/null >>"$LOG" 2>&1 &
    pid=$!
    echo "$pid" >"$PID_FILE"
    echo binary >"$MODE_FILE"
    if ! wait_ready "$pid"; then
        stop_binary
        return 1
    fi
    log "running (pid $pid) at http://127.0.0.1:$PORT; log: $LOG"
}

stop_binary() {
    local pid i
    if pid="$(running_pid)"; then
        kill "$pid" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            kill -9 "$pid" 2>/dev/null || true
        fi
        log "stopped (pid $pid)"
    fi
    rm -f "$PID_FILE"
}

stop() {
    if [ "$(cat "$MODE_FILE" 2>/dev/null || true)" = "compose" ] || use_compose; then
        if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
            (cd "$ROOT" && docker compose -f docker-compose.yml down)
        fi
    fi
    stop_binary
    rm -f "$MODE_FILE"
}

status() {
    local pid
    if pid="$(running_pid)"; then
        if v2_answers; then
            echo "running (pid $pid) at http://127.0.0.1:$PORT"
            return 0
        fi
        echo "process $pid alive but $URL does not answer"
        return 1
    fi
    if v2_answers; then
        echo "a registry answers at http://127.0.0.1:$PORT (not started by this script's pid file)"
        return 0
    fi
    echo "stopped"
    return 3
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
restart)
    stop
    start
    ;;
*)
    echo "usage: $0 start|stop|status|restart" >&2
    exit 2
    ;;
esac
