from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import connections
from django.db.models.sql import UpdateQuery
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from accounts.models import AuditLog
from accounts.request_info import current_ip
from accounts.roles import may_manage_user


def _entry(*, actor, action: str, target=None, detail: dict | None = None, ip: str | None = None) -> AuditLog:
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    entry = AuditLog(
        actor=actor,
        actor_username=actor.get_username() if actor else "",
        action=action,
        detail=detail or {},
        ip=ip if ip is not None else current_ip.get(),
    )
    if target is not None:
        entry.target_type = ContentType.objects.get_for_model(target, for_concrete_model=False)
        entry.target_id = str(target.pk)
        entry.target_repr = str(target)[:255]
    return entry


def audit_record(*, actor, action: str, target=None, detail: dict | None = None, ip: str | None = None) -> AuditLog:
    """Append one entry to the audit log.

    Runs inside the caller's transaction, so an action that rolls back leaves no entry and
    an entry never describes something that did not happen. The IP defaults to the current
    request's (set by AuditContextMiddleware); it is None outside a request (tasks, shell).
    """
    entry = _entry(actor=actor, action=action, target=target, detail=detail, ip=ip)
    entry.save()
    return entry


def audit_record_many(entries: list[dict]) -> None:
    """Append several entries (each dict holds audit_record's arguments) in one INSERT, for bulk work."""
    AuditLog.objects.bulk_create([_entry(**entry) for entry in entries])


def update_and_audit(queryset, values: dict, *, action: str, target, detail: dict | None = None, actor=None) -> bool:
    """Update the rows of `queryset` with `values` and, if any row changed, append one audit entry:
    a single SQL statement, so it is atomic on its own and costs one round trip (the sending path
    records every outcome this way). Returns whether a row was updated."""
    db = queryset.db
    connection = connections[db]
    query = queryset.query.chain(UpdateQuery)
    query.add_update_values(values)
    compiler = query.get_compiler(db)
    compiler.pre_sql_setup()
    update_sql, update_params = compiler.as_sql()
    entry = _entry(actor=actor, action=action, target=target, detail=detail)
    fields = [field for field in AuditLog._meta.concrete_fields if not field.primary_key]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    entry_params = [field.get_db_prep_save(getattr(entry, field.attname), connection) for field in fields]
    sql = (
        # Names come from model metadata; every value is a parameter.
        f"WITH changed AS ({update_sql} RETURNING 1) "  # noqa: S608
        f"INSERT INTO {connection.ops.quote_name(AuditLog._meta.db_table)} ({columns}) "
        f"SELECT {placeholders} FROM (SELECT 1 FROM changed LIMIT 1) AS one"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*update_params, *entry_params])
        return cursor.rowcount == 1


def password_reset_link_create(*, actor, user, base_url: str) -> str:
    """A one-time link with which `user` sets their own password (Django's reset token: it stops working
    once the password changes, at the next login or after PASSWORD_RESET_TIMEOUT). Nobody sets another
    person's password; the administrator hands this link over. Refused (PermissionDenied) unless the
    actor may manage the user. Audited."""
    if not may_manage_user(actor, user):
        raise PermissionDenied(_("You may not reset this user's password."))
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    path = reverse("password_reset_confirm", args=[uid, default_token_generator.make_token(user)])
    audit_record(actor=actor, action="user.password_reset_link", target=user)
    return base_url.rstrip("/") + path


def user_roles_changed(*, actor, user, old: set[str], new: set[str]) -> None:
    """Record a change of someone's roles with the roles before and after."""
    audit_record(
        actor=actor,
        action="user.roles_changed",
        target=user,
        detail={"old": sorted(old), "new": sorted(new), "added": sorted(new - old), "removed": sorted(old - new)},
    )
