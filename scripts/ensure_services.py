#!/usr/bin/env python3
"""Make sure PostgreSQL and Redis are reachable for GovCMS, then write their URLs.

Standard library only: this runs with the system python3 before any package is
installed, and equally with .venv/bin/python.

For each service the first match wins:

  PostgreSQL  1. $DATABASE_URL, if set (must answer, or we stop with an error)
              2. the system server on 127.0.0.1:5432
              3. a project-local server in <var>/postgres on 127.0.0.1:54320,
                 created with initdb and started with pg_ctl when needed
  Redis       1. $REDIS_URL, if set (must answer, or we stop with an error)
              2. the system server on 127.0.0.1:6379
              3. a project-local server in <var>/redis on 127.0.0.1:63790

Missing binaries are installed with apt-get when running as root; otherwise the
script prints the command to run and exits 1. The database named in the URL is
created if it does not exist.

Outputs (<var> is $GOVCMS_VAR_DIR, default <project>/var):
  <var>/services.env          DATABASE_URL=... and REDIS_URL=..., for
                              `set -a; . var/services.env; set +a`
  <var>/started-by-this-run   "postgres" and/or "redis", one per line, for the
                              local instances this invocation started;
                              scripts/stop_services.py reads it

Progress goes to stderr; stdout stays empty.
"""

from __future__ import annotations

import glob
import os
import pwd
import shlex
import shutil
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import NoReturn
from urllib.parse import parse_qs, quote, unquote, urlsplit, urlunsplit

PROJECT_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("GOVCMS_VAR_DIR") or PROJECT_DIR / "var").resolve()

SERVICES_ENV = VAR_DIR / "services.env"
STARTED_FILE = VAR_DIR / "started-by-this-run"

SYSTEM_PG_PORT = 5432
SYSTEM_PG_URL = "postgres://postgres@127.0.0.1:5432/govcms"
LOCAL_PG_PORT = 54320
LOCAL_PG_URL = f"postgres://postgres@127.0.0.1:{LOCAL_PG_PORT}/govcms"
PG_DIR = VAR_DIR / "postgres"  # also the unix socket directory
PG_DATA = PG_DIR / "data"
PG_LOG = PG_DIR / "log"
PG_USER = "postgres"  # system user that owns and runs the local instance
PG_SUPERUSER = "postgres"  # database role named in LOCAL_PG_URL

SYSTEM_REDIS_PORT = 6379
SYSTEM_REDIS_URL = "redis://127.0.0.1:6379/0"
LOCAL_REDIS_PORT = 63790
LOCAL_REDIS_URL = f"redis://127.0.0.1:{LOCAL_REDIS_PORT}/0"
REDIS_DIR = VAR_DIR / "redis"
REDIS_PID = REDIS_DIR / "redis.pid"
REDIS_LOG = REDIS_DIR / "redis.log"

CONNECT_TIMEOUT = 2.0
MANUAL_INSTALL_COMMAND = "sudo apt-get install -y postgresql redis-server gettext"

# sun_path in struct sockaddr_un is 108 bytes including the terminating NUL.
MAX_UNIX_SOCKET_PATH = 107


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def fail(message: str) -> NoReturn:
    raise SystemExit(f"ensure_services: {message}")


def running_as_root() -> bool:
    return os.geteuid() == 0


# --- probes -------------------------------------------------------------------


def tcp_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT):
            return True
    except OSError:
        return False


def postgres_answers(host: str, port: int) -> bool:
    # An SSLRequest gets a one-byte 'S' or 'N' from any PostgreSQL server, so this
    # tells a real server apart from some other program that happens to hold the port.
    ssl_request = (8).to_bytes(4, "big") + (80877103).to_bytes(4, "big")
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT) as conn:
            conn.sendall(ssl_request)
            return conn.recv(1) in (b"S", b"N")
    except OSError:
        return False


def redis_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def wait_until(check, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return check()


# --- URLs ---------------------------------------------------------------------


def mask_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    userinfo, _, hostinfo = parts.netloc.rpartition("@")
    user = userinfo.partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{hostinfo}"))


def url_host_and_port(url: str, default_port: int) -> tuple[str, int | None]:
    """Host and port to TCP-check; host is "" when the URL points at a unix socket."""
    parts = urlsplit(url)
    # libpq lets ?host= override the netloc; either may name a socket directory,
    # which in the netloc has to be percent-encoded (%2Fvar%2Frun%2Fpostgresql).
    host = parse_qs(parts.query).get("host", [""])[0] or unquote(parts.hostname or "")
    if not host or host.startswith("/"):
        return "", None
    try:
        return host, parts.port or default_port
    except ValueError:
        fail(f"the URL {mask_password(url)} has a port that is not a number")


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    # Built by hand: urlunsplit drops the "//" of postgres:///name?host=/socket/dir.
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme}://{parts.netloc}/{quote(database)}{query}"


# --- system packages ----------------------------------------------------------

_apt_already_ran = False


def find_pg_tool(name: str, version: str | None = None) -> str | None:
    """A PostgreSQL program from PATH, else from the newest /usr/lib/postgresql/*/bin.

    With a version (from an existing data directory) that version wins, because
    pg_ctl refuses to start a data directory made by another major version.
    """
    if version and os.access(f"/usr/lib/postgresql/{version}/bin/{name}", os.X_OK):
        return f"/usr/lib/postgresql/{version}/bin/{name}"
    found = shutil.which(name)
    if found:
        return found

    def version_key(path: str) -> tuple[int, ...]:
        try:
            return tuple(int(piece) for piece in Path(path).parent.parent.name.split("."))
        except ValueError:
            return ()

    candidates = [p for p in glob.glob(f"/usr/lib/postgresql/*/bin/{name}") if os.access(p, os.X_OK)]
    return max(candidates, key=version_key) if candidates else None


def missing_packages() -> list[str]:
    present = {
        "postgresql": bool(find_pg_tool("initdb") and find_pg_tool("pg_ctl")),
        "redis-server": bool(shutil.which("redis-server")),
        "gettext": bool(shutil.which("msgfmt")),
    }
    return [package for package, ok in present.items() if not ok]


def install_missing_packages() -> None:
    """Install every missing package in one apt-get run, or tell the user how to."""
    global _apt_already_ran
    missing = missing_packages()
    if not missing or _apt_already_ran:
        return
    if not running_as_root() or not shutil.which("apt-get"):
        log(f"ensure_services: missing system packages ({', '.join(missing)}). Install them with:")
        log(MANUAL_INSTALL_COMMAND)
        raise SystemExit(1)

    _apt_already_ran = True
    log(f"Installing {', '.join(missing)} with apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
    # apt's chatter goes to stderr so stdout stays clean for callers.
    if subprocess.run(install, env=env, stdout=sys.stderr).returncode == 0:
        return
    # Fresh containers often have no package lists yet; only then is an update worth it.
    log("apt-get install failed; running apt-get update and trying again")
    subprocess.run(["apt-get", "update"], env=env, stdout=sys.stderr)
    if subprocess.run(install, env=env, stdout=sys.stderr).returncode != 0:
        fail(f"apt-get install {' '.join(missing)} failed; see the apt output above")


# --- SQL without a driver -----------------------------------------------------


def run_sql(url: str, sql: str) -> tuple[bool, str, str] | None:
    """Run one statement; return (ok, first column of the rows, error text).

    Uses psql when it exists, otherwise psycopg2 when it is importable (e.g. under
    .venv/bin/python). Returns None when neither is available.
    """
    psql = find_pg_tool("psql")
    if psql:
        env = dict(os.environ, PGCONNECT_TIMEOUT="5")
        result = subprocess.run(
            # -w: fail instead of prompting for a password nobody is there to type.
            [psql, "-X", "-w", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            cwd="/",  # psql may run as a user that cannot read the caller's cwd
        )
        return result.returncode == 0, result.stdout.strip(), result.stderr.strip()

    try:
        import psycopg2
    except ImportError:
        return None
    try:
        conn = psycopg2.connect(url, connect_timeout=5)
    except psycopg2.Error as exc:
        return False, "", str(exc).strip()
    try:
        conn.autocommit = True  # CREATE DATABASE cannot run inside a transaction
        with conn.cursor() as cursor:
            cursor.execute(sql)
            rows = cursor.fetchall() if cursor.description else []
        return True, "\n".join(str(row[0]) for row in rows), ""
    except psycopg2.Error as exc:
        return False, "", str(exc).strip()
    finally:
        conn.close()


def first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "(no error message)"


def sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def sql_identifier(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


# --- PostgreSQL ---------------------------------------------------------------


def system_postgres_usable() -> bool:
    if not postgres_answers("127.0.0.1", SYSTEM_PG_PORT):
        return False
    # Stock Debian asks for a password on 127.0.0.1; a URL without one would only
    # fail later inside Django, so prefer the local instance in that case.
    result = run_sql(with_database(SYSTEM_PG_URL, "postgres"), "SELECT 1")
    if result is not None and not result[0]:
        log(
            f"PostgreSQL: 127.0.0.1:{SYSTEM_PG_PORT} answers but refuses user postgres without a password "
            f"({first_line(result[2])}); using a project-local instance instead "
            "(set DATABASE_URL to use the system server)"
        )
        return False
    return True


def run_as_postgres(command: list[str]) -> subprocess.CompletedProcess:
    # initdb, pg_ctl and postgres refuse to run as root.
    if running_as_root():
        command = ["runuser", "-u", PG_USER, "--", *command]
    # cwd must be readable by the postgres user, or the tools complain about it.
    return subprocess.run(command, cwd=PG_DIR, capture_output=True, text=True)


def ensure_postgres_user() -> None:
    try:
        pwd.getpwnam(PG_USER)
        return
    except KeyError:
        pass
    log(f"PostgreSQL: creating system user {PG_USER}")
    home = "/var/lib/postgresql"
    subprocess.run(["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", home, PG_USER], check=True)


def make_reachable_by_postgres_user() -> None:
    """Let the postgres user reach PG_DIR and own everything in it.

    Only directories of this project (the checkout and the var dir) get o+x added;
    for anything above them we stop and say which directory needs it.
    """
    user = pwd.getpwnam(PG_USER)
    groups = set(os.getgrouplist(PG_USER, user.pw_gid))

    def is_ours(directory: Path) -> bool:
        return any(directory == root or root in directory.parents for root in (PROJECT_DIR, VAR_DIR))

    for directory in reversed(PG_DIR.parents):
        info = directory.stat()
        if info.st_uid == user.pw_uid and info.st_mode & stat.S_IXUSR:
            continue
        if info.st_gid in groups and info.st_mode & stat.S_IXGRP:
            continue
        if info.st_mode & stat.S_IXOTH:
            continue
        if not is_ours(directory):
            fail(
                f"the {PG_USER} user cannot enter {directory}, which it needs to reach {PG_DIR}; "
                f"run `chmod o+x {directory}` or point GOVCMS_VAR_DIR somewhere it can reach"
            )
        log(f"PostgreSQL: adding o+x to {directory} so the {PG_USER} user can reach {PG_DIR}")
        os.chmod(directory, stat.S_IMODE(info.st_mode) | stat.S_IXOTH)

    for root, dirs, files in os.walk(PG_DIR):
        for name in [root, *(os.path.join(root, entry) for entry in dirs + files)]:
            info = os.lstat(name)
            if (info.st_uid, info.st_gid) != (user.pw_uid, user.pw_gid):
                os.lchown(name, user.pw_uid, user.pw_gid)


def existing_cluster_version() -> str | None:
    try:
        return (PG_DATA / "PG_VERSION").read_text().strip()
    except OSError:
        return None


def init_local_cluster(initdb: str) -> None:
    log(f"PostgreSQL: initdb {PG_DATA}")
    base = [initdb, "-D", str(PG_DATA), "--auth=trust", "-U", PG_SUPERUSER]
    result = run_as_postgres([*base, "-E", "UTF8", "--locale=C.UTF-8"])
    if result.returncode == 0:
        return
    log(f"PostgreSQL: initdb with C.UTF-8 failed ({first_line(result.stderr)}); retrying with --no-locale")
    # A failed initdb removes what it created, so the retry starts clean.
    result = run_as_postgres([*base, "--no-locale", "-E", "UTF8"])
    if result.returncode != 0:
        fail(f"initdb failed: {first_line(result.stderr)}")


def start_local_postgres(started: list[str]) -> str:
    version = existing_cluster_version()
    initdb = find_pg_tool("initdb", version)
    pg_ctl = find_pg_tool("pg_ctl", version)
    if not (initdb and pg_ctl):
        fail("initdb/pg_ctl not found on PATH or in /usr/lib/postgresql/*/bin")

    PG_DIR.mkdir(parents=True, exist_ok=True)
    if running_as_root():
        ensure_postgres_user()
        make_reachable_by_postgres_user()

    if version is None:
        init_local_cluster(initdb)

    if postgres_answers("127.0.0.1", LOCAL_PG_PORT):
        log(f"PostgreSQL: reusing local instance on 127.0.0.1:{LOCAL_PG_PORT} ({PG_DATA})")
        return LOCAL_PG_URL

    socket_path = PG_DIR / f".s.PGSQL.{LOCAL_PG_PORT}"
    if len(str(socket_path)) > MAX_UNIX_SOCKET_PATH:
        fail(f"the socket path {socket_path} is too long for unix sockets; set GOVCMS_VAR_DIR to a shorter path")

    log(f"PostgreSQL: starting local instance on 127.0.0.1:{LOCAL_PG_PORT} (log: {PG_LOG})")
    # pg_ctl hands -o to a shell, hence the quoting of the socket directory.
    server_options = f"-p {LOCAL_PG_PORT} -k {shlex.quote(str(PG_DIR))} -c listen_addresses=127.0.0.1"
    result = run_as_postgres([pg_ctl, "start", "-w", "-D", str(PG_DATA), "-l", str(PG_LOG), "-o", server_options])
    if result.returncode != 0:
        fail(f"pg_ctl start failed: {first_line(result.stderr or result.stdout)}; see {PG_LOG}")
    started.append("postgres")
    if not wait_until(lambda: postgres_answers("127.0.0.1", LOCAL_PG_PORT), 10):
        fail(f"PostgreSQL started but 127.0.0.1:{LOCAL_PG_PORT} does not answer; see {PG_LOG}")
    return LOCAL_PG_URL


def create_database(url: str) -> None:
    name = unquote(urlsplit(url).path.lstrip("/"))
    if not name or name == "postgres":
        return
    maintenance_url = with_database(url, "postgres")

    # psql -c takes no bind parameters, so the name is quoted by sql_literal() instead.
    result = run_sql(maintenance_url, f"SELECT 1 FROM pg_database WHERE datname = {sql_literal(name)}")  # noqa: S608
    if result is None:
        fail(
            f"cannot check that database {name!r} exists: neither psql nor psycopg2 is available; "
            "install postgresql-client or run this script with .venv/bin/python"
        )
    ok, rows, error = result
    if not ok:
        fail(f"cannot connect to {mask_password(maintenance_url)}: {first_line(error)}")
    if rows == "1":
        log(f"PostgreSQL: database {name} exists")
        return

    log(f"PostgreSQL: creating database {name}")
    ok, _, error = run_sql(
        maintenance_url, f"CREATE DATABASE {sql_identifier(name)} ENCODING 'UTF8' TEMPLATE template0"
    )
    # Another process may have created it between the check and now.
    if not ok and "already exists" not in error:
        fail(f"CREATE DATABASE {name} failed: {first_line(error)}")


def pick_postgres_url(started: list[str]) -> str:
    """DATABASE_URL when none was given: system server, else a local instance."""
    if system_postgres_usable():
        log(f"PostgreSQL: using 127.0.0.1:{SYSTEM_PG_PORT}")
        return SYSTEM_PG_URL
    if not (find_pg_tool("initdb") and find_pg_tool("pg_ctl")):
        install_missing_packages()
        # The Debian package may have started its own cluster on 5432.
        if system_postgres_usable():
            log(f"PostgreSQL: using 127.0.0.1:{SYSTEM_PG_PORT} (started by the postgresql package)")
            return SYSTEM_PG_URL
    return start_local_postgres(started)


def ensure_postgres(started: list[str]) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        if urlsplit(url).scheme not in ("postgres", "postgresql"):
            fail(f"DATABASE_URL must start with postgres:// or postgresql://, got {mask_password(url)}")
        host, port = url_host_and_port(url, SYSTEM_PG_PORT)
        if host and not tcp_answers(host, port):
            fail(f"PostgreSQL at DATABASE_URL={mask_password(url)} is not reachable ({host}:{port})")
        log(f"PostgreSQL: using DATABASE_URL={mask_password(url)}")
    else:
        url = pick_postgres_url(started)
    create_database(url)
    return url


# --- Redis --------------------------------------------------------------------


def start_local_redis(started: list[str]) -> str:
    if redis_answers("127.0.0.1", LOCAL_REDIS_PORT):
        log(f"Redis: reusing local instance on 127.0.0.1:{LOCAL_REDIS_PORT}")
        return LOCAL_REDIS_URL

    redis_server = shutil.which("redis-server")
    if not redis_server:
        fail("redis-server not found on PATH")
    REDIS_DIR.mkdir(parents=True, exist_ok=True)
    log(f"Redis: starting local instance on 127.0.0.1:{LOCAL_REDIS_PORT} (log: {REDIS_LOG})")
    options = {
        "port": str(LOCAL_REDIS_PORT),
        "bind": "127.0.0.1",
        "daemonize": "yes",
        "dir": str(REDIS_DIR),
        "pidfile": str(REDIS_PID),
        "logfile": str(REDIS_LOG),
        "save": "",  # a cache and broker for development: never write snapshots
        "appendonly": "no",
    }
    command = [redis_server]
    for name, value in options.items():
        command += [f"--{name}", value]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        fail(f"redis-server failed to start: {first_line(result.stderr or result.stdout)}; see {REDIS_LOG}")
    started.append("redis")
    # --daemonize returns before the server listens.
    if not wait_until(lambda: redis_answers("127.0.0.1", LOCAL_REDIS_PORT), 10):
        fail(f"redis-server started but 127.0.0.1:{LOCAL_REDIS_PORT} does not answer PING; see {REDIS_LOG}")
    return LOCAL_REDIS_URL


def ensure_redis(started: list[str]) -> str:
    url = os.environ.get("REDIS_URL")
    if url:
        scheme = urlsplit(url).scheme
        if scheme not in ("redis", "rediss", "unix"):
            fail(f"REDIS_URL must start with redis://, rediss:// or unix://, got {mask_password(url)}")
        host, port = ("", None) if scheme == "unix" else url_host_and_port(url, SYSTEM_REDIS_PORT)
        if host and not tcp_answers(host, port):
            fail(f"Redis at REDIS_URL={mask_password(url)} is not reachable ({host}:{port})")
        log(f"Redis: using REDIS_URL={mask_password(url)}")
        return url
    if redis_answers("127.0.0.1", SYSTEM_REDIS_PORT):
        log(f"Redis: using 127.0.0.1:{SYSTEM_REDIS_PORT}")
        return SYSTEM_REDIS_URL
    if not shutil.which("redis-server"):
        install_missing_packages()
        # The Debian package may have started its own server on 6379.
        if redis_answers("127.0.0.1", SYSTEM_REDIS_PORT):
            log(f"Redis: using 127.0.0.1:{SYSTEM_REDIS_PORT} (started by the redis-server package)")
            return SYSTEM_REDIS_URL
    return start_local_redis(started)


# --- main ---------------------------------------------------------------------


def write_file(path: Path, text: str) -> None:
    # Write then rename, so a reader never sees half a file.
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    # services.env may carry a database password from the user's DATABASE_URL.
    temporary.chmod(0o600)
    os.replace(temporary, path)


def main() -> int:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    started: list[str] = []
    try:
        database_url = ensure_postgres(started)
        redis_url = ensure_redis(started)
    finally:
        # Record what we started even when a later step fails, so
        # stop_services.py can still clean it up.
        write_file(STARTED_FILE, "".join(f"{name}\n" for name in started))

    # GNU gettext is only needed to extract new messages (and by the test that checks the
    # catalogue is complete); install it when we can, otherwise just say so.
    if not shutil.which("xgettext"):
        if running_as_root() and shutil.which("apt-get"):
            install_missing_packages()
        else:
            log("Note: GNU gettext is missing (needed to extract messages): sudo apt-get install -y gettext")

    write_file(
        SERVICES_ENV,
        f"DATABASE_URL={shlex.quote(database_url)}\nREDIS_URL={shlex.quote(redis_url)}\n",
    )
    log(f"Wrote {SERVICES_ENV}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
