"""Whole-page cache for the public disclosure searches, behind the rate limit.

The portal's page cache answers hits before Django runs; these pages cannot use it, because every
request, cached or not, must count against the client's rate limit (a cache in front of the limit
would let a scraper read every cached page for free). So the view checks the limit first, then
looks here. Keys hold a generation number that every change the public could see bumps (a batch
published or withdrawn, public fields or programmes changed): old pages are never served again
and simply expire. The same generation also keeps the few small values every search reads
(`memoized`) in each process.
"""

import hashlib
import time

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse

from shared import redis_client

GENERATION_KEY = "disclosure:generation"


_client = redis_client.client


def _namespace() -> str:
    return f"govcms-disclosure:{settings.CACHES['default'].get('KEY_PREFIX', '')}:"


# The generation is read from Redis at most this often per process: a change reaches the other
# processes within half a second, and a burst of searches costs one Redis read, not one each.
GENERATION_MEMO_SECONDS = 0.5
_generation = [0, -1.0]  # value, valid until (time.monotonic)
_memo: dict = {}


def generation() -> int:
    now = time.monotonic()
    if now < _generation[1]:
        return _generation[0]
    value = int(_client().get(_namespace() + GENERATION_KEY) or 0)
    _generation[:] = [value, now + GENERATION_MEMO_SECONDS]
    return value


def _incr() -> None:
    _client().incr(_namespace() + GENERATION_KEY)
    _generation[1] = -1.0


def bump() -> None:
    """Retire every cached page: now (so this transaction's own reads are not served stale) and again
    after commit (so a page cached by another request in between, from the old data, is retired)."""
    _incr()
    transaction.on_commit(_incr)


def memoized(key, compute):
    """A small value the public pages read on every request (published batch ids, public fields,
    programme choices), kept in this process until the generation changes."""
    current = generation()
    found = _memo.get(key)
    if found is not None and found[0] == current:
        return found[1]
    value = compute()
    _memo[key] = (current, value)
    return value


def _key(request, gen: int) -> str:
    digest = hashlib.sha256(request.get_full_path().encode()).hexdigest()[:32]
    return f"{_namespace()}page:{gen}:{request.method}:{digest}"


def cached_page(view):
    """Serve a GET from the cache when this generation already rendered the same address."""

    def wrapper(request, *args, **kwargs):
        seconds = settings.DISCLOSURE_PAGE_CACHE_SECONDS
        if request.method not in ("GET", "HEAD") or seconds <= 0:
            return view(request, *args, **kwargs)
        client = _client()
        key = _key(request, generation())
        stored = client.get(key)
        if stored is not None:
            content_type, _, body = stored.partition(b"\n")
            return HttpResponse(body, content_type=content_type.decode())
        response = view(request, *args, **kwargs)
        if hasattr(response, "render"):
            response.render()
        if response.status_code == 200 and not response.cookies:
            client.set(key, response["Content-Type"].encode() + b"\n" + response.content, ex=seconds)
        return response

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper
