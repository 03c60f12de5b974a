from datetime import datetime

from celery import current_app, shared_task
from django.conf import settings

from publishing import services


@shared_task(name="publishing.send_delivery", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def send_delivery(delivery_id: int) -> str:
    # Safe to run twice: only the run whose claim (queued -> sending) succeeds does anything.
    return services.delivery_send(delivery_id=delivery_id)


def broker_backlog(queue: str | None = None) -> int:
    """Tasks waiting in the broker's queue (not yet taken by a worker)."""
    with current_app.connection_for_read() as connection:
        name = queue or settings.CELERY_TASK_DEFAULT_QUEUE
        return connection.default_channel.queue_declare(queue=name).message_count


@shared_task(name="publishing.dispatch_due", ignore_result=True)
def dispatch_due() -> int:
    # While tasks still wait in the queue, a delivery queued long ago is behind them, not lost: only
    # an empty queue means its task is gone (Redis flushed) and must be handed out again. Otherwise a
    # burst that drains slower than PUBLISHING_REQUEUE_AFTER_SECONDS would be enqueued over and over.
    ids = services.dispatch_due(requeue_lost=broker_backlog() == 0)
    for delivery_id in ids:
        send_delivery.delay(delivery_id)  # after dispatch's transaction has committed
    return len(ids)


@shared_task(name="publishing.store_inbound_message", ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def store_inbound_message(
    *,
    account_id: int,
    fields: dict,
    dedupe_key: str,
    received_at: str,
    answered_automatically: bool,
    library_entry_id: int | None = None,
) -> bool:
    # Idempotent (one row per account and push, one citizen message per unanswered text), so running it
    # twice after a lost worker is harmless.
    return services.inbound_message_store(
        account_id=account_id,
        fields=fields,
        dedupe_key=dedupe_key,
        received_at=datetime.fromisoformat(received_at),
        answered_automatically=answered_automatically,
        library_entry_id=library_entry_id,
    )


@shared_task(name="publishing.notify_account_health", ignore_result=True)
def notify_account_health() -> int:
    # Safe to run twice a day: each account's notice of the day is claimed in the database first.
    from publishing import health

    return health.health_notify_all()


@shared_task(name="publishing.pull_wechat_statistics", ignore_result=True)
def pull_wechat_statistics() -> int:
    # A sweep of the days still missing: running it again changes nothing (publishing/wechat_stats.py).
    from publishing import wechat_stats

    return wechat_stats.stats_pull_all()


@shared_task(name="publishing.pull_wechat_statistics_of", ignore_result=True)
def pull_wechat_statistics_of(account_id: int) -> int:
    # The backfill of a new account: the same sweep over its missing days, so running it twice changes nothing.
    from publishing import wechat_stats
    from publishing.models import ChannelAccount

    account = ChannelAccount.objects.filter(pk=account_id, is_active=True).first()
    return wechat_stats.stats_pull(account=account) if account else 0


@shared_task(name="publishing.send_wechat_case_replies", ignore_result=True)
def send_wechat_case_replies() -> int:
    # Approved replies of WeChat citizen messages to their followers; a reply goes out at most once.
    from publishing import wechat_cases

    return wechat_cases.send_approved_replies()
