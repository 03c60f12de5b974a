#!/usr/bin/env python3
"""Run GovCMS as PostgreSQL roles that are not superusers.

A superuser can switch triggers off (SET session_replication_role = replica) and so rewrite the
append-only audit log. GovCMS therefore uses two ordinary roles:

  <db>_owner  owns the database, the schema and every table; runs migrations (DATABASE_OWNER_URL).
  <db>_app    what the web process, the workers and beat connect as (DATABASE_URL): SELECT, INSERT,
              UPDATE and DELETE on the application's tables, temporary tables for the imports, and
              nothing else: no DDL, no TRUNCATE anywhere, only SELECT and INSERT on the audit log,
              only SELECT on django_migrations, and (not being a superuser) no session_replication_role.

Commands (run with .venv/bin/python; psycopg2 is needed):

  setup    as a superuser (ADMIN_URL, default $DATABASE_URL): create or fix both roles, hand the
           database and every object in schema public to the owner, grant the app role. Prints
           `export DATABASE_OWNER_URL=...` and `export DATABASE_URL=...` (the app role) for eval.
           Given a DATABASE_URL that is not a superuser, it assumes the roles are managed
           elsewhere, says so on stderr and prints nothing.
  migrate  `manage.py migrate` as the owner ($DATABASE_OWNER_URL), then `grant` (new tables
           reach the app role through default privileges; the audit log is narrowed again).
           Without DATABASE_OWNER_URL it migrates with $DATABASE_URL, as before.
  grant    re-apply the app role's privileges, as the owner or a superuser.

Passwords: GOVCMS_DB_OWNER_PASSWORD and GOVCMS_DB_APP_PASSWORD, when set, become the roles'
passwords and go into the printed URLs (needed wherever pg_hba.conf asks for passwords);
unset, the roles keep what they have (trust/peer set-ups need none). Role names can be
given with --owner/--app.

Every statement is idempotent: run `setup` and `migrate` as often as you like.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

PROJECT_DIR = Path(__file__).resolve().parent.parent
AUDIT_TABLE = "accounts_auditlog"
MIGRATIONS_TABLE = "django_migrations"


def log(message: str) -> None:
    print(f"db_roles: {message}", file=sys.stderr, flush=True)


def connect(url: str):
    import psycopg2

    conn = psycopg2.connect(url, connect_timeout=5)
    conn.autocommit = True
    return conn


def database_name(url: str) -> str:
    return unquote(urlsplit(url).path.lstrip("/"))


def url_for_role(url: str, role: str, password: str | None) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    userinfo = quote(role, safe="") + (":" + quote(password, safe="") if password else "")
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{host}"))


def default_role_names(url: str) -> tuple[str, str]:
    name = database_name(url)
    return f"{name}_owner", f"{name}_app"


def is_superuser(cursor) -> bool:
    cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    return bool(cursor.fetchone()[0])


def ensure_role(cursor, role: str, password: str | None) -> None:
    from psycopg2 import sql

    attributes = sql.SQL("LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT")
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
    verb = "ALTER" if cursor.fetchone() else "CREATE"
    statement = sql.SQL(verb + " ROLE {} {}").format(sql.Identifier(role), attributes)
    if password:
        statement = sql.SQL("{} PASSWORD {}").format(statement, sql.Literal(password))
    cursor.execute(statement)


def hand_over_ownership(cursor, database: str, owner: str) -> None:
    """The database, schema public and every object in it, owned by `owner` (extension members excepted)."""
    from psycopg2 import sql

    cursor.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(database), sql.Identifier(owner)))
    cursor.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(sql.Identifier(owner)))
    kinds = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW", "f": "FOREIGN TABLE", "S": "SEQUENCE"}
    # Tables first: their identity and serial sequences follow them and cannot be moved on their own.
    for relkinds in (("r", "p", "v", "m", "f"), ("S",)):
        cursor.execute(
            """
            SELECT c.relname, c.relkind FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = ANY(%s) AND pg_get_userbyid(c.relowner) <> %s
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                              AND d.objid = c.oid AND d.deptype IN ('e', 'a', 'i'))
            """,
            [list(relkinds), owner],
        )
        for name, kind in cursor.fetchall():
            cursor.execute(
                sql.SQL("ALTER " + kinds[kind] + " {} OWNER TO {}").format(sql.Identifier(name), sql.Identifier(owner))
            )
    cursor.execute(
        """
        SELECT p.oid::regprocedure::text FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> %s
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                          AND d.objid = p.oid AND d.deptype = 'e')
        """,
        [owner],
    )
    for (signature,) in cursor.fetchall():
        # regprocedure text is already a quoted, schema-resolvable signature.
        cursor.execute(sql.SQL("ALTER ROUTINE " + signature + " OWNER TO {}").format(sql.Identifier(owner)))


def grant_app(cursor, database: str, owner: str, app: str) -> None:
    """The app role's privileges, from nothing: DML on the tables, read-only where it must change nothing."""
    from psycopg2 import sql

    ids = {"db": sql.Identifier(database), "owner": sql.Identifier(owner), "app": sql.Identifier(app)}
    statements = [
        "REVOKE ALL ON DATABASE {db} FROM PUBLIC",
        "GRANT CONNECT, TEMPORARY ON DATABASE {db} TO {app}",
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
        "REVOKE CREATE ON SCHEMA public FROM {app}",
        "GRANT USAGE ON SCHEMA public TO {app}",
        # Only ever adds DML or takes away the rest, so re-running it under a live application is safe.
        "REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM PUBLIC, {app}",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {app}",
        "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {app}",
        "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}",
        "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {app}",
    ]
    for statement in statements:
        cursor.execute(sql.SQL(statement).format(**ids))
    narrowed = {AUDIT_TABLE: "SELECT, INSERT", MIGRATIONS_TABLE: "SELECT"}
    for table, allowed in narrowed.items():
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f"public.{table}"])
        if cursor.fetchone()[0]:
            cursor.execute(sql.SQL("GRANT " + allowed + " ON {} TO {app}").format(sql.Identifier(table), **ids))
            cursor.execute(
                sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER{} ON {} FROM PUBLIC, {app}").format(
                    sql.SQL(", INSERT" if "INSERT" not in allowed else ""), sql.Identifier(table), **ids
                )
            )


def setup(admin_url: str, owner: str, app: str, owner_password: str | None, app_password: str | None) -> dict | None:
    """Create both roles and hand everything to the owner; the URLs to use, or None when `admin_url` is
    not a superuser (roles managed elsewhere)."""
    database = database_name(admin_url)
    conn = connect(admin_url)
    try:
        with conn.cursor() as cursor:
            if not is_superuser(cursor):
                return None
            ensure_role(cursor, owner, owner_password)
            ensure_role(cursor, app, app_password)
            hand_over_ownership(cursor, database, owner)
            grant_app(cursor, database, owner, app)
    finally:
        conn.close()
    return {
        "DATABASE_OWNER_URL": url_for_role(admin_url, owner, owner_password),
        "DATABASE_URL": url_for_role(admin_url, app, app_password),
    }


def grant(owner_url: str, app: str) -> None:
    conn = connect(owner_url)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT current_user")
            owner = cursor.fetchone()[0]
            grant_app(cursor, database_name(owner_url), owner, app)
    finally:
        conn.close()


def app_role_from_environment() -> str:
    return unquote(urlsplit(os.environ["DATABASE_URL"]).username or "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["setup", "migrate", "grant"])
    parser.add_argument("--admin-url", help="a superuser's URL for setup (default: $DATABASE_URL)")
    parser.add_argument("--owner", help="owner role (default: <database>_owner)")
    parser.add_argument("--app", help="application role (default: <database>_app)")
    args = parser.parse_args(argv)

    if args.command == "setup":
        admin_url = args.admin_url or os.environ.get("DATABASE_URL")
        if not admin_url:
            raise SystemExit("db_roles: set DATABASE_URL or --admin-url to a superuser's URL")
        owner, app = default_role_names(admin_url)
        urls = setup(
            admin_url,
            args.owner or owner,
            args.app or app,
            os.environ.get("GOVCMS_DB_OWNER_PASSWORD") or None,
            os.environ.get("GOVCMS_DB_APP_PASSWORD") or None,
        )
        if urls is None:
            log("DATABASE_URL is not a superuser: using it as the application role, roles managed elsewhere")
            return 0
        log(f"the application connects as {args.app or app}, migrations run as {args.owner or owner}")
        for name, value in urls.items():
            print(f"export {name}={shlex.quote(value)}")
        return 0

    owner_url = os.environ.get("DATABASE_OWNER_URL")
    if args.command == "migrate":
        env = dict(os.environ, DATABASE_URL=owner_url) if owner_url else dict(os.environ)
        manage = [sys.executable, str(PROJECT_DIR / "manage.py"), "migrate", "--noinput"]
        result = subprocess.run(manage, env=env, cwd=PROJECT_DIR)
        if result.returncode != 0:
            return result.returncode
    if not owner_url:
        if args.command == "grant":
            log("DATABASE_OWNER_URL is not set: nothing to grant")
        return 0
    grant(owner_url, args.app or app_role_from_environment())
    return 0


if __name__ == "__main__":
    sys.exit(main())
