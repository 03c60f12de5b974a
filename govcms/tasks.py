import logging

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

logger = logging.getLogger(__name__)

HEARTBEAT_CACHE_KEY = "celery:heartbeat"


@shared_task(name="govcms.tasks.heartbeat")
def heartbeat() -> str:
    """Proves beat and a worker are alive: logs a line and leaves the time in the cache for the dashboard."""
    now = timezone.now().isoformat()
    cache.set(HEARTBEAT_CACHE_KEY, now, timeout=None)
    logger.info("heartbeat %s", now)
    return now
