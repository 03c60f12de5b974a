import pytest

from content import portal_cache


@pytest.fixture(autouse=True)
def empty_page_cache():
    portal_cache.clear_all()
    yield
    portal_cache.clear_all()
