"""The portal's page cache in Redis.

Public pages are stored whole (gzip-compressed) under their path, and each stored page is
listed under tags: the article it shows, the columns it lists, the home page. Publishing,
editing a live article and withdrawing invalidate those tags after the transaction commits,
so the next request renders fresh. `PortalCacheMiddleware` serves stored pages before the
session, CSRF and authentication layers run: a cached public page costs one Redis GET.
"""

import gzip
from functools import lru_cache, wraps

import redis
from django.conf import settings
from django.http import HttpResponse

PREFIX = "portal:"
GENERATION_KEY = PREFIX + "generation"
NOT_CACHED_PREFIXES = ("/admin/", "/static/", "/media/", "/ckeditor5/", "/search/")


@lru_cache(maxsize=1)
def _client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def _page_key(full_path: str) -> str:
    return f"{PREFIX}{settings.CACHES['default'].get('KEY_PREFIX', '')}:page:{full_path}"


def _tag_key(tag: str) -> str:
    return f"{PREFIX}{settings.CACHES['default'].get('KEY_PREFIX', '')}:tag:{tag}"


def article_tag(article_id: int) -> str:
    return f"article:{article_id}"


def column_tag(column_id: int) -> str:
    return f"column:{column_id}"


HOME_TAG = "home"
SITEMAP_TAG = "sitemap"


def store(full_path: str, response: HttpResponse, tags: list[str], generation_at_start: int) -> None:
    body = gzip.compress(response.content, compresslevel=6)
    value = response["Content-Type"].encode() + b"\n" + body
    key = _page_key(full_path)
    ttl = settings.PORTAL_CACHE_SECONDS
    client = _client()
    with client.pipeline() as pipe:
        pipe.set(key, value, ex=ttl)
        for tag in tags:
            pipe.sadd(_tag_key(tag), key)
            pipe.expire(_tag_key(tag), ttl * 2)
        pipe.get(GENERATION_KEY)
        *_, generation_now = pipe.execute()
    # An invalidation that ran while this page was rendering may have missed it: drop it.
    if int(generation_now or 0) != generation_at_start:
        client.delete(key)


def current_generation() -> int:
    return int(_client().get(GENERATION_KEY) or 0)


def invalidate(tags: list[str]) -> None:
    client = _client()
    tag_keys = [_tag_key(tag) for tag in tags]
    with client.pipeline() as pipe:
        pipe.incr(GENERATION_KEY)
        for tag_key in tag_keys:
            pipe.smembers(tag_key)
        _, *members = pipe.execute()
    page_keys = {key for group in members for key in group}
    if page_keys or tag_keys:
        client.delete(*page_keys, *tag_keys)


def cached_page(tags_for):
    """Store the view's 200 responses under their path, tagged with `tags_for(request, response)`.

    Only canonical URLs are stored (no query string other than what the view declares with
    `response.cache_query_ok = True`), so random query strings cannot fill the cache.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            generation = current_generation()
            response = view(request, *args, **kwargs)
            cacheable = (
                request.method in ("GET", "HEAD")
                and response.status_code == 200
                and not response.cookies
                and (not request.META.get("QUERY_STRING") or getattr(response, "cache_query_ok", False))
            )
            response["Cache-Control"] = "no-cache"
            if cacheable:
                store(request.get_full_path(), response, tags_for(request, response), generation)
            return response

        return wrapper

    return decorator


class PortalCacheMiddleware:
    """Answers public GET/HEAD requests from the page cache before the rest of the stack runs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("GET", "HEAD") and not request.path.startswith(NOT_CACHED_PREFIXES):
            hit = _client().get(_page_key(request.get_full_path()))
            if hit is not None:
                return self._response(request, hit)
        return self.get_response(request)

    @staticmethod
    def _response(request, value: bytes) -> HttpResponse:
        content_type, _, body = value.partition(b"\n")
        if "gzip" in request.META.get("HTTP_ACCEPT_ENCODING", ""):
            response = HttpResponse(body, content_type=content_type.decode())
            response["Content-Encoding"] = "gzip"
        else:
            response = HttpResponse(gzip.decompress(body), content_type=content_type.decode())
        response["Vary"] = "Accept-Encoding"
        response["Cache-Control"] = "no-cache"
        response["X-Portal-Cache"] = "hit"
        return response


def clear_all() -> int:
    """Drop every cached page and tag of this site (deploys, tests); returns how many keys went."""
    client = _client()
    pattern = f"{PREFIX}{settings.CACHES['default'].get('KEY_PREFIX', '')}:*"
    keys = list(client.scan_iter(match=pattern, count=1000))
    if keys:
        client.delete(*keys)
    return len(keys)
