"""The spine with the portal channel: dispatch, claim, lease expiry, lost tasks, a real worker."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditLog
from content.models import Article
from publishing.models import Delivery, DeliveryState, Platform, Schedule
from publishing.services import delivery_send, dispatch_due, schedule_create


@pytest.fixture
def due_portal_delivery(editor, approved, make_account):
    """A portal delivery booked for a minute from now, then made due (as if the minute passed)."""

    def _make(title="门户定时发布"):
        account = make_account("门户网站", platform=Platform.PORTAL)
        article = approved(title)
        schedule = schedule_create(
            actor=editor,
            schedule=Schedule(send_at=timezone.now() + timedelta(minutes=1)),
            articles=[article],
            accounts=[account],
        )
        delivery = schedule.deliveries.get()
        Delivery.objects.filter(pk=delivery.pk).update(due_at=timezone.now() - timedelta(seconds=1))
        return delivery, article

    return _make


@pytest.mark.django_db
def test_dispatch_takes_only_due_deliveries_and_rerunning_changes_nothing(due_portal_delivery, editor, approved):
    delivery, _ = due_portal_delivery()
    assert dispatch_due() == [delivery.pk]
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.QUEUED
    assert dispatch_due() == []
    assert AuditLog.objects.filter(action="delivery.queued", target_id=str(delivery.pk)).count() == 1


@pytest.mark.django_db
def test_a_delivery_is_claimed_once_and_the_portal_shows_the_article(due_portal_delivery):
    delivery, article = due_portal_delivery()
    dispatch_due()
    assert delivery_send(delivery_id=delivery.pk) == "sent"
    assert delivery_send(delivery_id=delivery.pk) == "not claimed"
    article.refresh_from_db()
    assert article.is_live
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SENT and delivery.attempts == 1


@pytest.mark.django_db
def test_expired_lease_is_reconciled_not_sent_twice(due_portal_delivery, settings):
    delivery, article = due_portal_delivery()
    dispatch_due()
    # The worker claimed it and died after publishing: state "sending", lease run out.
    from content.services import article_publish

    Delivery.objects.filter(pk=delivery.pk).update(
        state=DeliveryState.SENDING, lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    article_publish(actor=delivery.schedule.created_by, article=article)
    assert dispatch_due() == [delivery.pk]
    assert delivery_send(delivery_id=delivery.pk) == "sent"
    assert AuditLog.objects.get(action="delivery.sent", target_id=str(delivery.pk)).detail["reconciled"] is True
    assert AuditLog.objects.filter(action="article.publish", target_id=str(article.pk)).count() == 1


@pytest.mark.django_db
def test_task_lost_with_redis_is_handed_out_again(due_portal_delivery, settings):
    delivery, _ = due_portal_delivery()
    dispatch_due()  # queued; imagine Redis was flushed and the task is gone
    assert dispatch_due() == []
    settings.PUBLISHING_REQUEUE_AFTER_SECONDS = 0
    time.sleep(0.01)
    assert dispatch_due() == [delivery.pk]
    assert delivery_send(delivery_id=delivery.pk) == "sent"


@pytest.mark.django_db
def test_publish_failure_is_permanent_and_explained(due_portal_delivery, editor):
    delivery, article = due_portal_delivery()
    article.title = "送审后又改了标题"
    from content.services import article_update

    article_update(actor=editor, article=article, expected_version=article.version)  # back in review
    dispatch_due()
    assert delivery_send(delivery_id=delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.FAILED and "审核通过" in delivery.error_message


@pytest.mark.django_db(transaction=True)
def test_real_worker_and_beat_task_publish_on_time(due_portal_delivery, celery_worker):
    from publishing.tasks import dispatch_due as dispatch_task

    delivery, article = due_portal_delivery("真实任务队列发布")
    dispatch_task.delay()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        delivery.refresh_from_db()
        if delivery.state == DeliveryState.SENT:
            break
        time.sleep(0.2)
    assert delivery.state == DeliveryState.SENT
    assert Article.objects.get(pk=article.pk).is_live


@pytest.mark.django_db
def test_a_delivery_queued_long_ago_behind_a_backlog_is_not_enqueued_again(due_portal_delivery, settings):
    from publishing.tasks import broker_backlog

    delivery, _ = due_portal_delivery()
    dispatch_due()
    settings.PUBLISHING_REQUEUE_AFTER_SECONDS = 0
    time.sleep(0.01)
    # Tasks still wait in the broker: this one is behind them, not lost.
    assert dispatch_due(requeue_lost=False) == []
    # The queue is empty (Redis was flushed): the task is gone, and it is handed out again.
    assert dispatch_due(requeue_lost=True) == [delivery.pk]
    assert broker_backlog("govcms-test-empty-queue") == 0


@pytest.mark.django_db
def test_the_beat_task_counts_the_broker_queue(settings):
    from kombu import Connection

    from publishing.tasks import broker_backlog

    queue = f"govcms-test-backlog-{time.monotonic_ns()}"
    with Connection(settings.CELERY_BROKER_URL) as connection:
        simple = connection.SimpleQueue(queue)
        simple.put({"x": 1})
        simple.put({"x": 2})
        try:
            assert broker_backlog(queue) == 2
        finally:
            simple.clear()
            simple.close()
