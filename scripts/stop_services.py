#!/usr/bin/env python3
"""Stop the project-local PostgreSQL/Redis that ensure_services.py started.

Reads <var>/started-by-this-run ($GOVCMS_VAR_DIR, default <project>/var) and stops
only the instances listed there, then empties the file. It only ever addresses
the data directory <var>/postgres/data and the Redis on port 63790 with pidfile
<var>/redis/redis.pid, so the system services on 5432/6379 are never touched.
Standard library only.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

# Paths, ports and helpers are shared with the script that started the services.
# No bytecode: importing it should not leave a __pycache__ in scripts/.
sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))
import ensure_services as services  # noqa: E402
from ensure_services import log  # noqa: E402


def process_alive(pid: int) -> bool:
    # A daemon whose parent never reaps it stays a zombie; that counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as stat_file:
            return stat_file.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
            return True
        except ProcessLookupError:
            return False


def wait_for_exit(pid: int, seconds: float = 15) -> bool:
    return services.wait_until(lambda: not process_alive(pid), seconds)


def read_pid(path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def stop_postgres() -> bool:
    if services.existing_cluster_version() is None:
        log(f"PostgreSQL: no local cluster in {services.PG_DATA}; nothing to stop")
        return True
    pg_ctl = services.find_pg_tool("pg_ctl", services.existing_cluster_version())
    if pg_ctl:
        # Exit status 3 means the server is not running.
        if services.run_as_postgres([pg_ctl, "status", "-D", str(services.PG_DATA)]).returncode == 3:
            log("PostgreSQL: local instance is not running")
            return True
        log(f"PostgreSQL: stopping local instance ({services.PG_DATA})")
        result = services.run_as_postgres([pg_ctl, "stop", "-D", str(services.PG_DATA), "-m", "fast", "-w"])
        if result.returncode != 0:
            log(f"PostgreSQL: pg_ctl stop failed: {services.first_line(result.stderr or result.stdout)}")
            return False
        return True

    # Without pg_ctl, SIGINT to the postmaster is the same "fast" shutdown.
    pid = read_pid(services.PG_DATA / "postmaster.pid")
    if pid is None or not process_alive(pid):
        log("PostgreSQL: local instance is not running")
        return True
    log(f"PostgreSQL: pg_ctl not found; sending SIGINT to postmaster {pid}")
    os.kill(pid, signal.SIGINT)
    if not wait_for_exit(pid, 60):
        log(f"PostgreSQL: postmaster {pid} is still running")
        return False
    return True


def is_local_redis(pid: int) -> bool:
    # Guard against a stale pidfile whose number now belongs to something else.
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            title = cmdline.read().decode(errors="replace")
    except OSError:
        return False
    return "redis-server" in title and f":{services.LOCAL_REDIS_PORT}" in title


def stop_redis() -> bool:
    pid = read_pid(services.REDIS_PID)
    if pid is not None and process_alive(pid) and is_local_redis(pid):
        # The signal works even from outside the network namespace the server runs in.
        log(f"Redis: stopping local instance (pid {pid})")
        os.kill(pid, signal.SIGTERM)
        if not wait_for_exit(pid):
            log(f"Redis: pid {pid} is still running")
            return False
        return True

    if not services.redis_answers("127.0.0.1", services.LOCAL_REDIS_PORT):
        log("Redis: local instance is not running")
        return True
    redis_cli = shutil.which("redis-cli")
    if not redis_cli:
        log(f"Redis: something answers on port {services.LOCAL_REDIS_PORT} but there is no usable pidfile or redis-cli")
        return False
    log(f"Redis: stopping local instance on port {services.LOCAL_REDIS_PORT} with redis-cli")
    subprocess.run(
        [redis_cli, "-h", "127.0.0.1", "-p", str(services.LOCAL_REDIS_PORT), "shutdown", "nosave"],
        capture_output=True,
    )
    if not services.wait_until(lambda: not services.redis_answers("127.0.0.1", services.LOCAL_REDIS_PORT), 10):
        log(f"Redis: port {services.LOCAL_REDIS_PORT} still answers")
        return False
    return True


STOPPERS = {"postgres": stop_postgres, "redis": stop_redis}


def main() -> int:
    try:
        names = services.STARTED_FILE.read_text().split()
    except FileNotFoundError:
        names = []
    if not names:
        log("Nothing to stop")
        return 0

    still_running = []
    for name in names:
        stopper = STOPPERS.get(name)
        if stopper is None:
            log(f"Ignoring unknown entry {name!r} in {services.STARTED_FILE}")
        elif not stopper():
            still_running.append(name)

    # Keep what failed to stop, so running this again can retry it.
    services.write_file(services.STARTED_FILE, "".join(f"{name}\n" for name in still_running))
    return 1 if still_running else 0


if __name__ == "__main__":
    sys.exit(main())
