"""A real Celery worker, on the real Redis broker, runs the periodic heartbeat that beat schedules."""

import pytest
from django.conf import settings
from django.core.cache import cache

from govcms.tasks import HEARTBEAT_CACHE_KEY, heartbeat


def test_worker_runs_the_heartbeat_through_redis(celery_worker):
    cache.delete(HEARTBEAT_CACHE_KEY)
    stamp = heartbeat.delay().get(timeout=20)
    assert cache.get(HEARTBEAT_CACHE_KEY) == stamp


def test_beat_schedules_the_heartbeat_with_an_expiry():
    entry = settings.CELERY_BEAT_SCHEDULE["heartbeat"]
    assert entry["task"] == heartbeat.name
    assert entry["options"]["expires"] <= entry["schedule"]


@pytest.mark.django_db(transaction=True)
def test_dashboard_shows_when_the_worker_last_reported(celery_worker, administrator, login):
    heartbeat.delay().get(timeout=20)
    page = login(administrator).get("/admin/").content.decode()
    assert "后台任务进程最近一次报到" in page
