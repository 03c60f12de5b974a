"""The benches' comparison setups answer the same pages as the portal, and a failed request gives no figure."""

import pytest

from bench.load import BenchFailed, refuse_failures

pytestmark = pytest.mark.django_db


@pytest.fixture
def baseline_urls(settings):
    settings.ROOT_URLCONF = "bench.baseline_urls"
    settings.PORTAL_CACHE_ENABLED = False


def test_cache_page_baseline_serves_article_column_and_home_pages(client, make_article, publish, baseline_urls):
    article = publish(make_article(column="news"))

    # Every page carries the navigation, which links to the disclosure and complaints pages.
    for path in (f"/articles/{article.pk}/", "/columns/zwdt/", "/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert b"/disclosure/" in response.content and b"/hudong/" in response.content


@pytest.mark.parametrize("failed", [1, 500])
def test_a_measurement_with_failed_requests_is_refused(failed):
    with pytest.raises(BenchFailed, match=f"{failed} of 1000 requests failed or answered non-2xx"):
        refuse_failures("portal, article pages", requests=1000, failed=failed)


def test_a_measurement_without_failures_passes():
    assert refuse_failures("portal, article pages", requests=1000, failed=0) is None
