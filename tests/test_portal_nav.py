"""Every public page, whichever app draws it, shows the portal's top-level columns: one context processor
(govcms/context_processors.py) gives them to the templates, so no app's view imports another's selector."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db
NAV = re.compile(r'<nav aria-label="[^"]*"><ul>(.*?)</ul></nav>', re.S)


@pytest.mark.parametrize(
    "url", ["/", "/columns/zwdt/", "/search/?q=政务", "/disclosure/", "/hudong/", "/hudong/write/"]
)
def test_every_public_page_shows_the_top_level_columns_and_only_those(client, columns, url):
    response = client.get(url)
    assert response.status_code == 200
    bar = NAV.search(response.content.decode()).group(1)
    assert re.findall(r'href="/columns/([a-z]+)/"', bar) == ["zwdt", "tzgg"]


def test_a_page_that_does_not_show_the_bar_does_not_read_it(client, columns):
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/admin/login/").status_code == 200
    assert [query["sql"] for query in queries if "content_column" in query["sql"]] == []
