from celery import shared_task
from django.db import connection

from disclosure import importing


# Safe to run twice, hence acks_late: a run that finds the batch imported (or another run at work on
# it, holding its advisory lock) does nothing, and a run killed midway leaves nothing behind (one
# transaction), so the redelivered task starts the file again from the top.
@shared_task(name="disclosure.import_batch", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def import_batch(batch_id: int) -> str:
    try:
        return importing.batch_import_file(batch_id=batch_id)
    finally:
        # A million-row import leaves a fat database session behind (temporary table buffers, caches);
        # a rare task can afford a fresh connection next time.
        connection.close()


@shared_task(name="disclosure.resume_stalled_imports", ignore_result=True)
def resume_stalled_imports() -> int:
    """Beat sweep: queue again every import whose task went missing (see importing.stalled_imports)."""
    stalled = importing.stalled_imports()
    for batch_id in stalled:
        import_batch.delay(batch_id)
    return len(stalled)
