"""The project's one Redis connection pool (page caches, rate limits, tokens), and key clean-up."""

from functools import lru_cache

import redis
from django.conf import settings


@lru_cache(maxsize=1)
def client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def delete_matching(pattern: str) -> int:
    """Delete every key matching the glob `pattern` (SCAN, never KEYS); returns how many went."""
    keys = list(client().scan_iter(match=pattern, count=1000))
    if keys:
        client().delete(*keys)
    return len(keys)
