"""Admin lists over millions of rows without a COUNT(*) on every page."""

import json

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

# Up to this many rows the exact count is cheap enough to take: counting stops at this row, and an index scan
# of 100,000 entries takes tens of milliseconds. So a batch of 30,000 disbursements is counted exactly and
# paged to its end; only larger results (a whole table of millions) fall back to the planner's estimate.
EXACT_BELOW = 100_000


def estimated_count(queryset) -> int:
    """The planner's row estimate for the queryset (EXPLAIN, no execution): for an unfiltered table
    it is pg_class.reltuples scaled to the current size, for a filtered one the planner's guess."""
    sql, params = queryset.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatedCountPaginator(Paginator):
    """Counts exactly up to `exact_below` rows, and takes the planner's estimate beyond.

    The admin then shows "about N" for big unfiltered lists (see `is_estimate`, read by the pagination bar
    govcms/templates/unfold/helpers/pagination_default.html), while every page still lists the right rows:
    paging is by OFFSET/LIMIT, which does not need the total.
    """

    @cached_property
    def count(self):
        queryset = self.object_list
        if not hasattr(queryset, "query"):
            return super().count
        queryset = queryset.order_by()
        # Counting stops after EXACT_BELOW rows, so a search with a few hits is exact and cheap,
        # and only a large result falls back to the planner's estimate.
        exact = queryset[: self.exact_below + 1].count()
        if exact <= self.exact_below:
            return exact
        self.is_estimate = True
        return max(estimated_count(queryset), exact)

    is_estimate = False
    exact_below = EXACT_BELOW
