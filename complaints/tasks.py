from celery import shared_task

from complaints import digest


# Beat runs it every morning (settings.CELERY_BEAT_SCHEDULE, with an expiry); running it again the same day sends
# nothing twice (digest.digest_send_all marks each department sent in the database), so acks_late is safe.
@shared_task(name="complaints.send_daily_digests", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def send_daily_digests() -> int:
    return digest.digest_send_all()
