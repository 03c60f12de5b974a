from celery import shared_task

from publishing import services


@shared_task(name="publishing.send_delivery", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def send_delivery(delivery_id: int) -> str:
    # Safe to run twice: only the run whose claim (queued -> sending) succeeds does anything.
    return services.delivery_send(delivery_id=delivery_id)


@shared_task(name="publishing.dispatch_due", ignore_result=True)
def dispatch_due() -> int:
    ids = services.dispatch_due()
    for delivery_id in ids:
        send_delivery.delay(delivery_id)  # after dispatch's transaction has committed
    return len(ids)
