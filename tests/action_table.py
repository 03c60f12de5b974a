"""The harness of the per-app action tables (tests/<app>/test_actions.py): for one object and one
person, which buttons the admin shows, and which actions `execute` lets through.

A refused `execute` must change nothing and write no audit entry; an allowed one is rolled back,
so every person tries every action on the same object."""

from django.db import transaction

from accounts.models import AuditLog
from govcms.actions import ActionRefused


class _Undo(Exception):
    pass


def executes(action, user, obj, snapshot, **params) -> bool:
    """Whether `action.execute` succeeds; when refused, assert it left `snapshot()` and the audit log alone."""
    before, audits = snapshot(), AuditLog.objects.count()
    try:
        with transaction.atomic():
            action.execute(user, type(obj).objects.get(pk=obj.pk), **params)
            raise _Undo
    except _Undo:
        return True
    except ActionRefused as refusal:
        assert refusal.reason, f"{action.code}: refused without a reason"
        assert snapshot() == before, f"{action.code} refused for {user} but changed the object"
        assert AuditLog.objects.count() == audits, f"{action.code} refused for {user} but wrote an audit entry"
        return False


def shown(page: str, urls: dict[str, str]) -> set[str]:
    """The codes whose button (its URL or marker) is on the page."""
    return {code for code, url in urls.items() if url in page}
