from django.contrib.contenttypes.models import ContentType

from accounts.models import AuditLog
from accounts.request_info import current_ip


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
