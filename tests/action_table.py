"""The harness of the per-app action tables (tests/<app>/test_actions.py): for one object and one
person, which buttons the admin shows, and which actions `execute` lets through.

A refused `execute` must change nothing and write no audit entry; an allowed one is rolled back,
so every person tries every action on the same object. Each person's turn runs in a savepoint that is
rolled back too (`each_person`), so one set-up per state serves every person."""

from collections.abc import Iterable, Iterator, Mapping

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


def each_person(people: Mapping, names: Iterable | None = None) -> Iterator[tuple]:
    """(name, user) for every person in turn, each inside a savepoint rolled back afterwards: whatever one
    person's turn wrote (a session, a last login, an action let through) is gone before the next one's."""
    for name in people if names is None else names:
        with transaction.atomic():
            yield name, people[name]
            transaction.set_rollback(True)


def shown(page: str, urls: dict[str, str]) -> set[str]:
    """The codes whose button (its URL or marker) is on the page."""
    return {code for code, url in urls.items() if url in page}
