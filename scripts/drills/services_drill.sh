#!/usr/bin/env bash
# Drill: prove that ensure_services.py falls back to project-local PostgreSQL and
# Redis when nothing listens on 127.0.0.1:5432/6379, that a second run reuses
# them, and that stop_services.py stops them again.
#
# It runs everything inside a fresh network namespace, whose loopback has no
# listeners, with GOVCMS_VAR_DIR pointing at a temporary directory, so neither the
# system services nor the project's own var/ are touched. Needs root (ip netns).
#
# Usage: sudo scripts/drills/services_drill.sh     exit 0 only when every check passes
set -euo pipefail

PROJECT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
NAMESPACE="govcms-drill-$$"
# mktemp makes it mode 0700; ensure_services.py has to make it reachable for the
# postgres user itself, which is part of what this drill checks.
VAR_DIR=$(mktemp -d /tmp/govcms-drill.XXXXXX)
EXPECTED_DATABASE_URL="postgres://postgres@127.0.0.1:54320/govcms"
EXPECTED_REDIS_URL="redis://127.0.0.1:63790/0"

step() { printf '\n== %s\n' "$*"; }
pass() { printf 'ok: %s\n' "$*"; }
fail() { printf 'DRILL FAILED: %s\n' "$*" >&2; exit 1; }

in_namespace() {
    ip netns exec "$NAMESPACE" env -u DATABASE_URL -u REDIS_URL GOVCMS_VAR_DIR="$VAR_DIR" "$@"
}

cleanup() {
    local status=$?
    set +e
    if ip netns list | grep -qw "$NAMESPACE"; then
        # Whatever is still running in the namespace was started by this drill.
        in_namespace python3 "$PROJECT_DIR/scripts/stop_services.py" >/dev/null 2>&1
        local pids
        pids=$(ip netns pids "$NAMESPACE" | xargs)
        if [ -n "$pids" ]; then
            echo "cleanup: terminating leftover processes in $NAMESPACE: $pids"
            kill -TERM $pids 2>/dev/null
            sleep 3
            pids=$(ip netns pids "$NAMESPACE" | xargs)
            [ -n "$pids" ] && kill -KILL $pids 2>/dev/null
        fi
        ip netns delete "$NAMESPACE"
    fi
    rm -rf "$VAR_DIR"
    if [ "$status" -eq 0 ]; then
        echo; echo "DRILL PASSED"
    else
        echo "drill aborted (exit $status); namespace and temporary directory removed" >&2
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" -eq 0 ] || fail "run as root (ip netns needs it)"

step "network namespace $NAMESPACE, var dir $VAR_DIR"
ip netns add "$NAMESPACE" || fail "ip netns add failed"
ip netns exec "$NAMESPACE" ip link set lo up
in_namespace python3 - <<'EOF' || fail "something listens on 127.0.0.1:5432 or :6379 inside the namespace"
import socket, sys
for port in (5432, 6379, 54320, 63790):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        sys.exit(f"port {port} answers")
    except OSError:
        pass
EOF
pass "nothing listens on 127.0.0.1:5432/6379/54320/63790 in the namespace"

pg_query() {  # pg_query URL SQL -> prints the single value
    in_namespace psql -X -A -t -q -v ON_ERROR_STOP=1 -d "$1" -c "$2"
}
redis_ping() {
    in_namespace redis-cli -u "$1" ping 2>/dev/null
}
load_urls() {
    [ -f "$VAR_DIR/services.env" ] || fail "services.env was not written"
    [ "$(wc -l <"$VAR_DIR/services.env")" -eq 2 ] || fail "services.env does not have exactly two lines"
    DATABASE_URL=$(set -a; . "$VAR_DIR/services.env"; printf '%s' "$DATABASE_URL")
    REDIS_URL=$(set -a; . "$VAR_DIR/services.env"; printf '%s' "$REDIS_URL")
}
alive() {  # a zombie nobody has reaped yet counts as gone
    [ -e "/proc/$1" ] && [ "$(ps -o stat= -p "$1" | cut -c1)" != "Z" ]
}
postmaster_pid() { head -n1 "$VAR_DIR/postgres/data/postmaster.pid" 2>/dev/null; }
redis_pid() { cat "$VAR_DIR/redis/redis.pid" 2>/dev/null; }

step "first run: expect local instances to be created and started"
(cd "$PROJECT_DIR" && in_namespace python3 scripts/ensure_services.py) || fail "first ensure_services.py run failed"
load_urls
[ "$DATABASE_URL" = "$EXPECTED_DATABASE_URL" ] || fail "DATABASE_URL is $DATABASE_URL, expected $EXPECTED_DATABASE_URL"
[ "$REDIS_URL" = "$EXPECTED_REDIS_URL" ] || fail "REDIS_URL is $REDIS_URL, expected $EXPECTED_REDIS_URL"
pass "services.env: $DATABASE_URL, $REDIS_URL"
[ "$(sort "$VAR_DIR/started-by-this-run" | tr '\n' ' ')" = "postgres redis " ] \
    || fail "started-by-this-run is '$(cat "$VAR_DIR/started-by-this-run")', expected postgres and redis"
pass "started-by-this-run lists postgres and redis"
[ "$(pg_query "$DATABASE_URL" 'select 1')" = "1" ] || fail "select 1 against $DATABASE_URL failed"
pass "psql select 1 against $DATABASE_URL"
encoding=$(pg_query "$DATABASE_URL" "select pg_encoding_to_char(encoding) from pg_database where datname = 'govcms'")
[ "$encoding" = "UTF8" ] || fail "database govcms has encoding '$encoding', expected UTF8"
pass "database govcms exists with encoding UTF8"
[ "$(redis_ping "$REDIS_URL")" = "PONG" ] || fail "Redis PING against $REDIS_URL failed"
pass "Redis PING -> PONG"
if ss -ltn | grep -qE '127\.0\.0\.1:(54320|63790)\b'; then
    fail "a local instance leaked into the host network namespace"
fi
pass "nothing on 54320/63790 in the host namespace (the instances are isolated)"
first_postmaster=$(postmaster_pid)
first_redis=$(redis_pid)
first_started=$(cat "$VAR_DIR/started-by-this-run")

step "second run: expect the running instances to be reused"
(cd "$PROJECT_DIR" && in_namespace python3 scripts/ensure_services.py) || fail "second ensure_services.py run failed"
load_urls
[ "$DATABASE_URL" = "$EXPECTED_DATABASE_URL" ] && [ "$REDIS_URL" = "$EXPECTED_REDIS_URL" ] \
    || fail "second run wrote different URLs: $DATABASE_URL $REDIS_URL"
[ ! -s "$VAR_DIR/started-by-this-run" ] || fail "second run claims it started: $(cat "$VAR_DIR/started-by-this-run")"
[ "$(postmaster_pid)" = "$first_postmaster" ] || fail "postmaster pid changed ($first_postmaster -> $(postmaster_pid))"
[ "$(redis_pid)" = "$first_redis" ] || fail "redis pid changed ($first_redis -> $(redis_pid))"
[ "$(pg_query "$DATABASE_URL" 'select 1')" = "1" ] && [ "$(redis_ping "$REDIS_URL")" = "PONG" ] \
    || fail "services stopped answering after the second run"
pass "same URLs, same postmaster pid $first_postmaster and redis pid $first_redis, nothing newly started"

step "stop_services.py: expect both local instances to stop"
# The second run rightly recorded nothing; stop what the first run started.
printf '%s\n' "$first_started" >"$VAR_DIR/started-by-this-run"
in_namespace python3 "$PROJECT_DIR/scripts/stop_services.py" || fail "stop_services.py failed"
if pg_query "$DATABASE_URL" 'select 1' >/dev/null 2>&1; then fail "PostgreSQL still answers"; fi
[ ! -e "$VAR_DIR/postgres/data/postmaster.pid" ] || fail "postmaster.pid still exists"
if alive "$first_postmaster"; then fail "postmaster $first_postmaster still running"; fi
pass "PostgreSQL is gone"
if [ "$(redis_ping "$REDIS_URL")" = "PONG" ]; then fail "Redis still answers"; fi
if alive "$first_redis"; then fail "redis $first_redis still running"; fi
pass "Redis is gone"
[ ! -s "$VAR_DIR/started-by-this-run" ] || fail "started-by-this-run was not emptied"
pass "started-by-this-run is empty"
[ -z "$(ip netns pids "$NAMESPACE")" ] || fail "processes left in the namespace: $(ip netns pids "$NAMESPACE")"
pass "no processes left in the namespace"
