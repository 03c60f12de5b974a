from django.core.paginator import Paginator
from django.db import connection, transaction

from accounts.scoping import scope_to_department
from content.actions import APPROVE
from content.models import Article, Column
from content.search import search_filter, title_match_first


def portal_nav() -> list[Column]:
    """The top-level columns in the portal's navigation bar (every public page shows it)."""
    return list(Column.objects.filter(parent__isnull=True, is_active=True).order_by("order", "id"))


def articles_awaiting_review(user, limit: int = 20) -> list[Article]:
    """The oldest in-review articles this user may approve now: APPROVE narrows the query to its candidates
    (in the user's departments), and its check decides each one."""
    if not user.review_level:
        return []
    candidates = APPROVE.candidates(scope_to_department(Article.objects.all(), user), user)
    candidates = candidates.select_related("column", "updated_by").order_by("updated_at")[:limit]
    return [article for article in candidates if APPROVE.allowed(user, article)]


def live_articles():
    return (
        Article.objects.filter(is_live=True)
        .select_related("live_revision", "live_column")
        .only(
            "id",
            "live_column_id",
            "published_at",
            "live_column__name",
            "live_column__slug",
            "live_revision__title",
            "live_revision__digest",
            "live_revision__cover",
            "live_revision__author",
        )  # fmt: skip
        .order_by("-published_at", "-id")
    )


def live_articles_in(column: Column):
    """Live articles of the column and its sub-columns."""
    return live_articles().filter(live_column_id__in=list(column.subtree().values_list("id", flat=True)))


def search_live_articles(terms: list[str], page_number: int, page_size: int):
    """One page of live articles holding every term, title matches first, then the newest; with the total."""
    results = (
        live_articles()
        .filter(search_filter(terms))
        .annotate(title_match=title_match_first(terms))
        .order_by("-title_match", "-published_at", "-id")
    )
    with transaction.atomic():
        # For a common bigram the planner prefers a sequential scan, not knowing that testing
        # each row means de-TOASTing its bigram array: 40x slower than the GIN bitmap scan.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
        page = Paginator(results, page_size).get_page(page_number)
        page.object_list = list(page.object_list)
    return page
