from celery import shared_task

from answers import services


@shared_task(name="answers.record_hit", ignore_result=True)
def record_hit(entry_id: int) -> None:
    # Not idempotent (a count): no acks_late, so a lost worker loses one hit rather than counting two.
    services.entry_record_hit(entry_id=entry_id)
