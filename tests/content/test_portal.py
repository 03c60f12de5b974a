import pytest
from django.db import transaction
from django.urls import reverse

from content.services import article_withdraw

pytestmark = pytest.mark.django_db
# Cache invalidation runs on commit: the tests that watch a cached page change need real commits
# (transaction=True, an emptied database afterwards, which is slow); the others run in a rolled-back
# transaction, where the page cache (emptied around every test) works all the same.
INVALIDATION = pytest.mark.django_db(transaction=True)


def test_published_article_appears_on_home_column_rss_and_sitemap(client, make_article, publish):
    article = publish(make_article(title="示范县召开防汛工作会议", column="dept_news"))
    home = client.get("/").content.decode()
    assert "示范县召开防汛工作会议" in home  # dept_news is under news, which is on the home page
    for url in ("/columns/bmdt/", "/columns/zwdt/", "/columns/zwdt/rss/", "/sitemap.xml"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert (f"/articles/{article.pk}/" in response.content.decode()) or "防汛" in response.content.decode(), url
    page = client.get(f"/articles/{article.pk}/")
    assert page.status_code == 200 and 'lang="zh-CN"' in page.content.decode()


def test_unpublished_article_is_not_found(client, make_article):
    article = make_article()
    assert client.get(f"/articles/{article.pk}/").status_code == 404


def test_public_pages_never_set_cookies_or_vary_on_them(client, make_article, publish):
    article = publish(make_article())
    for url in ("/", "/columns/tzgg/", f"/articles/{article.pk}/", "/search/?q=会议", "/sitemap.xml"):
        for _ in range(2):  # rendered, then from the cache
            response = client.get(url)
            assert response.status_code == 200, url
            assert "Cookie" not in response.get("Vary", ""), url
            assert not response.cookies, url


def test_second_request_is_served_from_the_page_cache(client, make_article, publish):
    article = publish(make_article())
    url = f"/articles/{article.pk}/"
    first = client.get(url)
    second = client.get(url)
    assert "X-Portal-Cache" not in first
    assert second["X-Portal-Cache"] == "hit"
    assert second.content == first.content


def test_cached_page_is_served_gzipped_to_clients_that_accept_it(client, make_article, publish):
    import gzip

    article = publish(make_article())
    url = f"/articles/{article.pk}/"
    plain = client.get(url).content
    zipped = client.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate")
    assert zipped["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.content) == plain


@INVALIDATION
def test_publishing_refreshes_cached_home_and_column_at_once(client, make_article, publish):
    publish(make_article(title="第一篇稿件"))
    assert "第一篇稿件" in client.get("/").content.decode()
    assert client.get("/")["X-Portal-Cache"] == "hit"
    publish(make_article(title="第二篇稿件"))
    assert "第二篇稿件" in client.get("/").content.decode()
    assert "第二篇稿件" in client.get("/columns/tzgg/").content.decode()


@INVALIDATION
def test_withdrawn_article_is_gone_at_once_even_when_cached(client, make_article, publish, reviewers):
    article = publish(make_article(title="将被撤回的稿件"))
    url = f"/articles/{article.pk}/"
    client.get(url)
    assert client.get(url)["X-Portal-Cache"] == "hit"
    assert "将被撤回的稿件" in client.get("/").content.decode()
    article_withdraw(actor=reviewers[1], article=article, reason="内容有误")
    assert client.get(url).status_code == 410
    assert "将被撤回的稿件" not in client.get("/").content.decode()
    assert "将被撤回的稿件" not in client.get("/columns/tzgg/").content.decode()


@INVALIDATION
def test_invalidation_waits_for_the_commit(client, make_article, publish, reviewers):
    article = publish(make_article())
    url = f"/articles/{article.pk}/"
    client.get(url)
    with transaction.atomic():
        article_withdraw(actor=reviewers[1], article=article, reason="内容有误")
        # Not committed yet: the cached page is still what the public sees.
        assert client.get(url)["X-Portal-Cache"] == "hit"
    assert client.get(url).status_code == 410


def test_column_pages_are_paginated(client, make_article, publish):
    for n in range(23):
        publish(make_article(title=f"通知第{n:02d}号"))
    first = client.get("/columns/tzgg/").content.decode()
    second = client.get("/columns/tzgg/?page=2").content.decode()
    assert first.count("/articles/") == 20 and second.count("/articles/") == 3
    assert "第 1 / 2 页" in first
    assert client.get("/columns/tzgg/?page=9").status_code == 404


def test_random_query_strings_are_not_cached(client, make_article, publish):
    publish(make_article())
    client.get("/columns/tzgg/?utm=1")
    assert "X-Portal-Cache" not in client.get("/columns/tzgg/?utm=1")


def test_admin_previews_show_the_working_copy(make_article, editor, login):
    article = make_article(title="尚未发布的稿件", short_title="短标题")
    client = login(editor)
    portal = client.get(reverse("admin:content_article_preview", args=[article.pk, "portal"]))
    wechat = client.get(reverse("admin:content_article_preview", args=[article.pk, "wechat"]))
    assert "尚未发布的稿件" in portal.content.decode() and "预览" in portal.content.decode()
    assert "短标题" in wechat.content.decode() and "375" in wechat.content.decode()
    client.logout()
    assert client.get(reverse("admin:content_article_preview", args=[article.pk, "portal"])).status_code == 302


def _environ(path, **extra):
    return {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "HTTP_HOST": "testserver",
            "wsgi.url_scheme": "http", **extra}  # fmt: skip


def test_wsgi_layer_answers_cached_pages_without_django(client, make_article, publish):
    from content.portal_cache import PortalCacheWSGI

    article = publish(make_article(title="缓存页面"))
    url = f"/articles/{article.pk}/"
    rendered = client.get(url).content
    calls = []
    layer = PortalCacheWSGI(lambda environ, start_response: calls.append(environ) or [b"django"])
    answered = {}
    body = b"".join(layer(_environ(url), lambda status, headers: answered.update(status=status, headers=dict(headers))))
    assert calls == [] and body == rendered
    assert answered["status"] == "200 OK" and answered["headers"]["X-Portal-Cache"] == "hit"
    assert answered["headers"]["X-Frame-Options"] == "DENY"  # stored with every header the stack added
    layer(_environ("/articles/999999/"), lambda *a: None)
    assert len(calls) == 1  # a miss goes to Django


def test_wsgi_layer_leaves_plain_http_to_django_when_https_is_enforced(client, make_article, publish, settings):
    from content.portal_cache import PortalCacheWSGI

    article = publish(make_article())
    client.get(f"/articles/{article.pk}/")
    settings.SECURE_SSL_REDIRECT = True
    calls = []
    layer = PortalCacheWSGI(lambda environ, start_response: calls.append(environ) or [b""])
    layer(_environ(f"/articles/{article.pk}/"), lambda *a: None)
    assert len(calls) == 1
    layer(_environ(f"/articles/{article.pk}/", **{"wsgi.url_scheme": "https"}), lambda *a: None)
    assert len(calls) == 1
