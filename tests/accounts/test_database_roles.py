"""The audit log holds against the roles GovCMS runs as (scripts/db_roles.py): the application role can add
entries and read them, but cannot change, delete or truncate them, cannot switch triggers off, and has no DDL;
TRUNCATE is refused by the database even to the owner and to a superuser (migration 0005)."""

import psycopg2
import pytest
from django.db import connection
from psycopg2 import errors

from accounts.models import AuditLog
from scripts import db_roles

pytestmark = pytest.mark.django_db(transaction=True)

# Connections opened here do not carry the test suite's permission to empty the audit log (pyproject PGOPTIONS).
STRICT = "-c govcms.allow_audit_truncate=off"


def _url(user: str) -> str:
    settings = connection.settings_dict
    return f"postgres://{user}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"


def _refused(conn, statement: str, error=errors.InsufficientPrivilege) -> str:
    with conn.cursor() as cursor, pytest.raises(error) as caught:
        cursor.execute(statement)
    return str(caught.value)


@pytest.fixture
def roles():
    """Both roles set up on the test database; afterwards everything goes back to the superuser."""
    admin_url = _url(connection.settings_dict["USER"] or "postgres")
    owner, app = db_roles.default_role_names(admin_url)
    urls = db_roles.setup(admin_url, owner, app, None, None)
    try:
        yield {"owner": owner, "app": app, **urls}
    finally:
        conn = psycopg2.connect(admin_url)
        conn.autocommit = True
        try:
            with conn.cursor() as cursor:
                cursor.execute("SELECT current_user")
                superuser = cursor.fetchone()[0]
                cursor.execute(f'REASSIGN OWNED BY "{owner}" TO "{superuser}"')
                # One role at a time: PostgreSQL 15 trips over the owner's default privileges naming the app.
                cursor.execute(f'DROP OWNED BY "{app}"')
                cursor.execute(f'DROP OWNED BY "{owner}"')
                cursor.execute(f'DROP ROLE "{app}", "{owner}"')
                cursor.execute(f'GRANT CONNECT, TEMPORARY ON DATABASE "{connection.settings_dict["NAME"]}" TO PUBLIC')
        finally:
            conn.close()


@pytest.fixture
def entry(db):
    return AuditLog.objects.create(action="test.entry", actor_username="tester")


def test_setup_prints_urls_of_roles_that_are_not_superusers(roles):
    assert roles["DATABASE_URL"].startswith(f"postgres://{roles['app']}@")
    assert roles["DATABASE_OWNER_URL"].startswith(f"postgres://{roles['owner']}@")
    conn = psycopg2.connect(roles["DATABASE_URL"])
    with conn.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == (False, False, False)
    conn.close()


def test_application_role_cannot_touch_the_audit_log(roles, entry):
    conn = psycopg2.connect(roles["DATABASE_URL"], options=STRICT)
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT action FROM accounts_auditlog WHERE id = %s", [entry.pk])
            assert cursor.fetchone() == ("test.entry",)
            cursor.execute(
                "INSERT INTO accounts_auditlog (created_at, actor_username, action, target_id, target_repr, detail)"
                " VALUES (now(), 'app', 'test.app', '', '', '{}')"
            )
            # It is a working application role: ordinary tables take DML.
            cursor.execute("UPDATE accounts_department SET name = name")
        _refused(conn, "UPDATE accounts_auditlog SET action = 'forged'")
        _refused(conn, "DELETE FROM accounts_auditlog")
        _refused(conn, "TRUNCATE accounts_auditlog")
        _refused(conn, "TRUNCATE accounts_department")
        _refused(conn, "SET session_replication_role = replica")
        _refused(conn, "ALTER TABLE accounts_auditlog DISABLE TRIGGER ALL")
        _refused(conn, "DROP TRIGGER accounts_auditlog_append_only ON accounts_auditlog")
        _refused(conn, "CREATE TABLE evil (id int)")
        _refused(conn, "DELETE FROM django_migrations")
    finally:
        conn.close()
    assert AuditLog.objects.get(pk=entry.pk).action == "test.entry"
    assert AuditLog.objects.filter(action="test.app").count() == 1


def test_truncate_of_the_audit_log_is_refused_to_the_owner_and_a_superuser(roles, entry):
    for url in (roles["DATABASE_OWNER_URL"], _url(connection.settings_dict["USER"] or "postgres")):
        conn = psycopg2.connect(url, options=STRICT)
        conn.autocommit = True
        try:
            assert "cannot be truncated" in _refused(conn, "TRUNCATE accounts_auditlog CASCADE")
        finally:
            conn.close()
    assert AuditLog.objects.filter(pk=entry.pk).exists()


def test_tables_a_later_migration_creates_reach_the_application_role(roles):
    owner = psycopg2.connect(roles["DATABASE_OWNER_URL"])
    owner.autocommit = True
    app = psycopg2.connect(roles["DATABASE_URL"])
    app.autocommit = True
    try:
        with owner.cursor() as cursor:
            cursor.execute("CREATE TABLE roles_probe (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY)")
        db_roles.grant(roles["DATABASE_OWNER_URL"], roles["app"])  # what `db_roles.py migrate` runs after migrating
        with app.cursor() as cursor:
            cursor.execute("INSERT INTO roles_probe DEFAULT VALUES")
            cursor.execute("DELETE FROM roles_probe")
        _refused(app, "DROP TABLE roles_probe", errors.InsufficientPrivilege)
    finally:
        with owner.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS roles_probe")
        owner.close()
        app.close()
