"""The public portal. These views never touch the session or the CSRF token, so pages carry
no `Vary: Cookie` and can be served to everyone from the page cache."""

from urllib.parse import quote

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from content import portal_cache
from content.models import Article, Column
from content.selectors import live_articles_in, search_live_articles
from shared.bigrams import query_terms

PAGE_SIZE = 20
HOME_ITEMS = 8


def _column_tags(column: Column) -> list[str]:
    return [portal_cache.column_tag(ancestor) for ancestor in column.ancestor_ids]


@require_safe
@portal_cache.portal_cacheable(lambda request, response: [portal_cache.HOME_TAG])
def home(request):
    columns = list(
        Column.objects.filter(show_on_home=True, is_active=True, parent__isnull=True).order_by("order", "id")
    )
    sections = [(column, list(live_articles_in(column)[:HOME_ITEMS])) for column in columns]
    return TemplateResponse(request, "content/home.html", {"sections": sections}).render()


def _page_number(request) -> tuple[int, bool]:
    raw = request.GET.get("page")
    if raw is None:
        return 1, not request.GET
    try:
        number = int(raw)
    except ValueError:
        return 1, False
    return number, set(request.GET) == {"page"} and raw == str(number)


@require_safe
@portal_cache.portal_cacheable(lambda request, response: response.cache_tags)
def column(request, slug):
    column = get_object_or_404(Column, slug=slug, is_active=True)
    number, canonical = _page_number(request)
    paginator = Paginator(live_articles_in(column), PAGE_SIZE)
    try:
        page = paginator.page(number)
    except (EmptyPage, PageNotAnInteger):
        raise Http404(_("There is no such page.")) from None
    children = list(column.children.filter(is_active=True).order_by("order", "id"))
    response = TemplateResponse(
        request,
        "content/column.html",
        {"column": column, "page": page, "children": children},
    ).render()
    response.cache_tags = _column_tags(column)
    response.cache_query_ok = canonical
    return response


def render_article(request, article: Article, revision, *, preview: bool = False):
    context = {
        "article": article,
        "revision": revision,
        "column": revision.column,
        "preview": preview,
        "published_at": article.published_at,
    }
    return TemplateResponse(request, "content/article.html", context).render()


@require_safe
@portal_cache.portal_cacheable(lambda request, response: response.cache_tags)
def article(request, pk):
    article = get_object_or_404(Article.objects.select_related("live_revision__column"), pk=pk)
    if not article.is_live:
        if article.withdrawn_at:
            body = render_to_string("content/gone.html", request=request)
            return HttpResponse(body, status=410)
        raise Http404(_("There is no such article."))
    response = render_article(request, article, article.live_revision)
    response.cache_tags = [portal_cache.article_tag(article.pk), *_column_tags(article.live_revision.column)]
    return response


@require_safe
def search(request):
    query = request.GET.get("q", "").strip()[:50]
    terms = query_terms(query)
    error = None
    page = None
    if query and any(len(term) < 2 for term in terms):
        error = _("Type at least two characters for each word you search for.")
    elif terms:
        number, _canonical = _page_number(request)
        page = search_live_articles(terms, number, PAGE_SIZE)
    context = {"query": query, "page": page, "error": error, "query_prefix": f"q={quote(query)}&"}
    return TemplateResponse(request, "content/search.html", context)


class ColumnFeed(Feed):
    def get_object(self, request, slug):
        return get_object_or_404(Column, slug=slug, is_active=True)

    def title(self, column):
        return f"{column.name} - {settings.PORTAL_SITE_NAME}"

    def link(self, column):
        return reverse("portal:column", args=[column.slug])

    def description(self, column):
        return _("Latest articles in %(column)s") % {"column": column.name}

    def items(self, column):
        return live_articles_in(column)[:30]

    def item_title(self, item):
        return item.live_revision.title

    def item_description(self, item):
        return item.live_revision.digest

    def item_link(self, item):
        return reverse("portal:article", args=[item.pk])

    def item_pubdate(self, item):
        return item.published_at


@require_safe
@portal_cache.portal_cacheable(lambda request, response: response.cache_tags)
def column_feed(request, slug):
    response = ColumnFeed()(request, slug=slug)
    response.cache_tags = _column_tags(get_object_or_404(Column, slug=slug))
    return response


@require_safe
@portal_cache.portal_cacheable(lambda request, response: [portal_cache.SITEMAP_TAG])
def sitemap(request):
    """All live articles and columns. (Beyond 50,000 URLs this would need a sitemap index.)"""
    base = request.build_absolute_uri("/")[:-1]
    articles = Article.objects.filter(is_live=True).order_by("-published_at").values_list("pk", "published_at")[:50000]
    columns = Column.objects.filter(is_active=True).values_list("slug", flat=True)
    body = render_to_string(
        "content/sitemap.xml",
        {
            "base": base,
            "articles": [(reverse("portal:article", args=[pk]), published) for pk, published in articles],
            "columns": [reverse("portal:column", args=[slug]) for slug in columns],
        },
    )
    return HttpResponse(body, content_type="application/xml; charset=utf-8")
