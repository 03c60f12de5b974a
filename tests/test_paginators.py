"""Large admin lists page to their end: the count is exact up to EXACT_BELOW rows (a 30,000-row batch), and an
estimate beyond is said as one ("约")."""

from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string

from accounts.models import AuditLog
from govcms.paginators import EXACT_BELOW, EstimatedCountPaginator

pytestmark = pytest.mark.django_db

ROWS = 6_001  # more than the 5,000 at which the count used to stop (page 101 of a 29,429-row batch)


@pytest.fixture
def many_rows():
    AuditLog.objects.bulk_create(AuditLog(action="bulk.test", target_repr=str(n)) for n in range(ROWS))
    return AuditLog.objects.filter(action="bulk.test").order_by("id")


def test_a_filtered_list_of_thousands_is_counted_exactly_and_its_last_page_opens(many_rows):
    assert EXACT_BELOW >= 30_000
    paginator = EstimatedCountPaginator(many_rows, 50)
    assert (paginator.count, paginator.is_estimate, paginator.num_pages) == (ROWS, False, 121)
    assert [row.target_repr for row in paginator.page(121)] == [str(ROWS - 1)]


def test_beyond_the_exact_limit_the_count_is_an_estimate_and_says_so(many_rows):
    paginator = EstimatedCountPaginator(many_rows, 50)
    paginator.exact_below = 1_000
    assert paginator.count >= 1_001 and paginator.is_estimate
    bar = render_to_string("unfold/helpers/pagination_default.html", {"cl": SimpleNamespace(paginator=paginator,
                           result_count=12_345)})  # fmt: skip
    assert " ".join(bar.split()).endswith('<div class="py-4 result-count"> 约12345条 </div>')


def test_an_exact_count_says_how_many_in_all():
    bar = render_to_string("unfold/helpers/pagination_default.html", {"cl": SimpleNamespace(
        paginator=EstimatedCountPaginator([], 50), result_count=29_429)})  # fmt: skip
    assert " ".join(bar.split()).endswith('<div class="py-4 result-count"> 共29429条 </div>')
