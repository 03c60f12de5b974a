"""The portal's page cache in Redis.

`PortalCacheWSGI` wraps Django in govcms/wsgi.py: a hit is answered from one Redis GET before
Django handles the request at all. A miss goes through to Django, where `PortalCacheMiddleware`
(first in MIDDLEWARE; it also answers hits when Django is served without the WSGI layer, as in
the tests) stores the finished response, all headers included, when the view marked it cacheable
with `portal_cacheable`, listing it under tags: the article it shows, the columns it lists, the
home page. Publishing and withdrawing invalidate those tags after the transaction commits, so
the next request renders fresh.
"""

import gzip
import json
from functools import wraps

from django.conf import settings
from django.http import HttpResponse

from shared import redis_client

PREFIX = "portal:"
GENERATION_KEY = PREFIX + "generation"
NOT_CACHED_PREFIXES = ("/admin/", "/static/", "/media/", "/ckeditor5/", "/search/")
# Headers that belong to one connection or are recomputed on the way out.
SKIPPED_HEADERS = {"content-length", "content-encoding", "set-cookie", "vary"}


_client = redis_client.client


def _namespace() -> str:
    return f"{PREFIX}{settings.CACHES['default'].get('KEY_PREFIX', '')}:"


def _page_key(environ) -> str:
    """Key of a page from the WSGI environ (Django's request.META is the same dict).

    The raw Host header is enough: a page is only ever stored after Django validated the host.
    """
    query = environ.get("QUERY_STRING", "")
    return f"{_namespace()}page:{environ.get('HTTP_HOST') or environ.get('SERVER_NAME', '')}{environ.get('PATH_INFO', '')}{'?' + query if query else ''}"


def _tag_key(tag: str) -> str:
    return f"{_namespace()}tag:{tag}"


def article_tag(article_id: int) -> str:
    return f"article:{article_id}"


def column_tag(column_id: int) -> str:
    return f"column:{column_id}"


HOME_TAG = "home"
SITEMAP_TAG = "sitemap"


def portal_cacheable(tags_for):
    """Mark the view's responses for the page cache, under the tags `tags_for(request, response)` names.

    Only canonical URLs are stored (no query string, unless the view sets
    `response.cache_query_ok = True` for one it recognises), so random query strings cannot
    fill the cache.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            response["Cache-Control"] = "no-cache"
            if response.status_code == 200:
                response.portal_cache_tags = tags_for(request, response)
            return response

        return wrapper

    return decorator


def current_generation() -> int:
    return int(_client().get(GENERATION_KEY) or 0)


def _store(key: str, response: HttpResponse, generation_at_start: int) -> None:
    headers = {name: value for name, value in response.items() if name.lower() not in SKIPPED_HEADERS}
    value = json.dumps(headers).encode() + b"\n" + gzip.compress(response.content, compresslevel=6)
    ttl = settings.PORTAL_CACHE_SECONDS
    client = _client()
    with client.pipeline() as pipe:
        pipe.set(key, value, ex=ttl)
        for tag in response.portal_cache_tags:
            pipe.sadd(_tag_key(tag), key)
            pipe.expire(_tag_key(tag), ttl * 2)
        pipe.get(GENERATION_KEY)
        *_, generation_now = pipe.execute()
    # An invalidation that ran while this page was rendering may have missed it: drop it.
    if int(generation_now or 0) != generation_at_start:
        client.delete(key)


def invalidate(tags: list[str]) -> None:
    client = _client()
    tag_keys = [_tag_key(tag) for tag in tags]
    with client.pipeline() as pipe:
        pipe.incr(GENERATION_KEY)
        for tag_key in tag_keys:
            pipe.smembers(tag_key)
        _, *members = pipe.execute()
    page_keys = {key for group in members for key in group}
    client.delete(*page_keys, *tag_keys)


def clear_all() -> int:
    """Drop every cached page and tag of this site (deploys, tests); returns how many keys went."""
    return redis_client.delete_matching(_namespace() + "*")


def _cached(value: bytes, accepts_gzip: bool) -> tuple[list[tuple[str, str]], bytes]:
    """Headers and body of a stored page, gzipped for clients that accept it."""
    headers, _, body = value.partition(b"\n")
    header_list = list(json.loads(headers).items())
    if accepts_gzip:
        header_list.append(("Content-Encoding", "gzip"))
    else:
        body = gzip.decompress(body)
    header_list += [("Vary", "Accept-Encoding"), ("X-Portal-Cache", "hit"), ("Content-Length", str(len(body)))]
    return header_list, body


def _servable(method: str, path: str, secure: bool) -> bool:
    # Over plain HTTP with SECURE_SSL_REDIRECT on, Django's SecurityMiddleware must redirect first.
    return (
        settings.PORTAL_CACHE_ENABLED
        and method in ("GET", "HEAD")
        and not path.startswith(NOT_CACHED_PREFIXES)
        and (secure or not getattr(settings, "SECURE_SSL_REDIRECT", False))
    )


class PortalCacheWSGI:
    """The page cache in front of Django itself (govcms/wsgi.py): a hit costs no Django request at all.

    Misses, and everything the cache does not serve, go to Django, where
    PortalCacheMiddleware stores what may be cached.
    """

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if _servable(environ.get("REQUEST_METHOD", ""), path, self._secure(environ)):
            hit = _client().get(_page_key(environ))
            if hit is not None:
                headers, body = _cached(hit, "gzip" in environ.get("HTTP_ACCEPT_ENCODING", ""))
                start_response("200 OK", headers)
                return [body]
        return self.application(environ, start_response)

    @staticmethod
    def _secure(environ) -> bool:
        proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
        if proxy_header:
            return environ.get(proxy_header[0], "").split(",")[0].strip() == proxy_header[1]
        return environ.get("wsgi.url_scheme") == "https"


class PortalCacheMiddleware:
    """Serves and stores public pages (the WSGI layer serves hits first when the app runs under a WSGI server)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not _servable(request.method, request.path, request.is_secure()):
            return self.get_response(request)
        key = _page_key(request.META)
        hit = _client().get(key)
        if hit is not None:
            headers, body = _cached(hit, "gzip" in request.META.get("HTTP_ACCEPT_ENCODING", ""))
            response = HttpResponse(body)
            for name, value in headers:
                response[name] = value
            return response
        generation = current_generation()
        response = self.get_response(request)
        if (
            getattr(response, "portal_cache_tags", None) is not None
            and response.status_code == 200
            and not response.streaming
            and not response.cookies
            and "Cookie" not in response.get("Vary", "")
            and (not request.META.get("QUERY_STRING") or getattr(response, "cache_query_ok", False))
        ):
            _store(key, response, generation)
        return response
