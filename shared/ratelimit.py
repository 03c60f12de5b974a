"""A fixed-window rate limiter in Redis, against scraping of the public search pages.

`hit(key, limit, window)` counts one request in the current window and says whether it is still
within the limit. The window is fixed (aligned on multiples of `window_seconds`), so one INCR and
one EXPIRE per request are all it costs; a client may get up to twice the limit across a window
boundary, which is fine for slowing scrapers down. `rate_limited` applies it to a view, keyed by
the client IP (`shared.client_ip.client_ip`, which trusts proxy headers only as configured).
Other keys (a phone number, say) are the caller's choice: `hit(f"complaint-phone:{phone}", ...)`.
"""

import time
from functools import wraps

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string

from shared import redis_client
from shared.client_ip import client_ip

PREFIX = "ratelimit:"


_client = redis_client.client


def _namespace() -> str:
    return f"{PREFIX}{settings.CACHES['default'].get('KEY_PREFIX', '')}:"


def seconds_left(window_seconds: int, now: float | None = None) -> int:
    """Seconds until the current window ends: what a refused client should wait."""
    now = time.time() if now is None else now
    return max(1, window_seconds - int(now) % window_seconds)


def hit(key: str, limit: int, window_seconds: int) -> bool:
    """Count one request for `key`; True while the key has made at most `limit` in this window."""
    redis_key = f"{_namespace()}{key}:{int(time.time()) // window_seconds}"
    with _client().pipeline() as pipe:
        pipe.incr(redis_key)
        # A little longer than the window, so a key never outlives it by much nor dies inside it.
        pipe.expire(redis_key, window_seconds + 1)
        count, _ = pipe.execute()
    return count <= limit


def count(key: str, window_seconds: int) -> int:
    """How many requests `key` has made in the current window, without counting one more."""
    return int(_client().get(f"{_namespace()}{key}:{int(time.time()) // window_seconds}") or 0)


def clear_all() -> int:
    """Forget every counter of this site (tests, or after raising a limit); returns how many keys went."""
    return redis_client.delete_matching(_namespace() + "*")


def rate_limited(scope: str, *, limit_setting: str, window_setting: str):
    """Refuse a client IP's requests beyond `settings.<limit_setting>` per `settings.<window_setting>`
    seconds with 429 and a page in Chinese. Settings are read per request, so tests can lower them."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            limit = getattr(settings, limit_setting)
            window = getattr(settings, window_setting)
            if not hit(f"{scope}:{client_ip(request) or 'unknown'}", limit, window):
                return too_many_requests(request, retry_after=seconds_left(window))
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def too_many_requests(request, *, retry_after: int) -> HttpResponse:
    body = render_to_string("govcms/rate_limited.html", {"retry_after": retry_after}, request=request)
    response = HttpResponse(body, status=429)
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response
