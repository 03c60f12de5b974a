"""Per-IP rate limiting of the public searches (shared.ratelimit), against scraping."""

import pytest
from django.utils.translation import gettext

from shared import ratelimit

pytestmark = pytest.mark.django_db

FUNDS = "/disclosure/funds/"


@pytest.fixture(autouse=True)
def low_limit(settings):
    settings.DISCLOSURE_SEARCH_RATE = 3
    settings.DISCLOSURE_SEARCH_RATE_WINDOW = 60
    ratelimit.clear_all()
    yield
    ratelimit.clear_all()


def test_hit_allows_up_to_the_limit_per_key_then_refuses():
    assert [ratelimit.hit("phone:13800000000", 2, 60) for _ in range(3)] == [True, True, False]
    assert ratelimit.hit("phone:13900000000", 2, 60)


def test_a_new_window_starts_a_new_count(monkeypatch):
    now = 1_800_000_000 - 1_800_000_000 % 60
    monkeypatch.setattr(ratelimit.time, "time", lambda: now + 59)
    assert [ratelimit.hit("k", 1, 60) for _ in range(2)] == [True, False]
    monkeypatch.setattr(ratelimit.time, "time", lambda: now + 60)
    assert ratelimit.hit("k", 1, 60)


def test_seconds_left_is_the_rest_of_the_window():
    assert ratelimit.seconds_left(60, now=1_800_000_000 - 1_800_000_000 % 60 + 45) == 15
    assert ratelimit.seconds_left(60, now=1_800_000_000 - 1_800_000_000 % 60) == 60


def test_search_over_the_limit_gets_429_with_retry_after_and_a_chinese_page(client):
    for _ in range(3):
        assert client.get(FUNDS, {"village": "石桥村"}).status_code == 200
    refused = client.get(FUNDS, {"village": "石桥村"})
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    page = refused.content.decode()
    assert 'lang="zh-CN"' in page and gettext("Too many requests") in page
    assert not refused.cookies and "Cookie" not in refused.get("Vary", "")
    assert client.get("/disclosure/staffing/").status_code == 429  # one budget for the searches
    assert client.get("/disclosure/").status_code == 200  # the guide is not limited


def test_limit_is_per_client_ip(client):
    for _ in range(3):
        client.get(FUNDS, REMOTE_ADDR="10.0.0.1")
    assert client.get(FUNDS, REMOTE_ADDR="10.0.0.1").status_code == 429
    assert client.get(FUNDS, REMOTE_ADDR="10.0.0.2").status_code == 200


def test_forged_forwarded_for_does_not_escape_the_limit(client, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    for n in range(3):
        client.get(FUNDS, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    assert client.get(FUNDS, HTTP_X_FORWARDED_FOR="192.0.2.99").status_code == 429


def test_behind_a_trusted_proxy_the_forwarded_address_is_limited(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(3):
        client.get(FUNDS, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert client.get(FUNDS, HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 429
    assert client.get(FUNDS, HTTP_X_FORWARDED_FOR="198.51.100.8").status_code == 200
