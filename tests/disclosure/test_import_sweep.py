"""A large import whose task went missing is queued again by the beat sweep; a running one is left alone."""

from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from disclosure import importing
from disclosure.models import BatchSource, DisclosureBatch

pytestmark = pytest.mark.django_db


def old_importing_batch(make_batch, minutes=10):
    batch = make_batch(source=BatchSource.LARGE_IMPORT)
    DisclosureBatch.objects.filter(pk=batch.pk).update(created_at=timezone.now() - timedelta(minutes=minutes))
    return batch


def test_an_import_nobody_is_running_is_found_again(make_batch):
    stalled = old_importing_batch(make_batch)
    just_uploaded = old_importing_batch(make_batch, minutes=1)  # its task may still be on its way
    assert importing.stalled_imports() == [stalled.pk]
    assert just_uploaded.pk not in importing.stalled_imports()


def test_an_import_in_progress_is_not_queued_twice(make_batch):
    batch = old_importing_batch(make_batch)
    worker = connections.create_connection("default")  # another session: the running import
    try:
        with worker.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [importing.LOCK_NAMESPACE, batch.pk])
        assert importing.stalled_imports() == []
    finally:
        worker.close()
    assert importing.stalled_imports() == [batch.pk]


def test_the_beat_sweep_queues_each_stalled_import(make_batch, monkeypatch, settings):
    from disclosure import tasks

    batch = old_importing_batch(make_batch)
    queued = []
    monkeypatch.setattr(tasks.import_batch, "delay", queued.append)
    assert tasks.resume_stalled_imports() == 1 and queued == [batch.pk]
    assert "disclosure.resume_stalled_imports" in {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
