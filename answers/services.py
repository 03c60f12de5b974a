"""Writes to the answer library that are no person's decision: hit counts, the version bump."""

from django.db import transaction
from django.db.models import F

from answers import matching
from answers.models import AnswerEntry


def library_changed_on_commit() -> None:
    """Every process recompiles its library once the change is committed (never before: a process could
    rebuild from the old rows and keep them)."""
    transaction.on_commit(matching.library_changed)


def entry_record_hit(*, entry_id: int) -> None:
    """Count one answer given (after the reply, from the listening task). Not a library change."""
    AnswerEntry.objects.filter(pk=entry_id).update(hit_count=F("hit_count") + 1)
