"""The workbench's articles (govcms/workbench.py): an editor's drafts, articles returned with the reviewer's reason,
approved articles waiting to be published, and a reviewer's queue with its age; the 已办 tab shows what the editor
submitted and published and what the reviewer decided. Each "may act on now" list is an action's candidates
(content/actions.py), counted in SQL."""

from django.db.models import Max, Prefetch, Q
from django.urls import reverse
from django.utils.translation import gettext

from accounts.scoping import scope_to_department
from content.actions import APPROVE, PUBLISH, SUBMIT
from content.admin_work import REVIEWED, review_work
from content.models import Article, ArticleReview, ArticleState, ReviewDecision
from govcms.workbench import DONE, Row, panel, section, waiting


def _articles(user):
    return (
        scope_to_department(Article.objects.all(), user)
        .select_related("column")
        .defer("body", "search_text", "search_bigrams")
    )


def _row(article, url="", details_more=(), **more) -> Row:
    return Row(
        url=url or reverse("admin:content_article_change", args=[article.pk]),
        title=article.title,
        details=[article.column.name, *details_more],
        **more,
    )


def _returned_row(article) -> Row:
    # The last return decision says who returned it; the reason is the article's own (cleared on resubmission).
    last = article.returns[0] if article.returns else None
    return _row(article, note=article.rejection_reason, note_by=str(last.reviewer) if last else "",
                since=last.created_at if last else article.updated_at)  # fmt: skip


def articles_panel(request):
    user = request.user
    if not user.has_perm("content.view_article"):
        return None
    changelist = reverse("admin:content_article_changelist")
    articles = _articles(user)
    sections = []
    if user.has_perm(SUBMIT.permission):
        drafts = articles.filter(state=ArticleState.DRAFT).order_by("-updated_at", "-id")
        returns = Prefetch(
            "reviews",
            ArticleReview.objects.filter(decision=ReviewDecision.REJECTED).select_related("reviewer").order_by("-id"),
            to_attr="returns",
        )
        sections += [
            waiting("drafts", gettext("Drafts"), SUBMIT, user, drafts.filter(rejection_reason=""),
                    lambda a: _row(a, since=a.updated_at, age=False),
                    url=f"{changelist}?state__exact={ArticleState.DRAFT}&rejection_reason="),
            waiting("returned", gettext("Returned with the reviewer's reason"), SUBMIT, user,
                    drafts.exclude(rejection_reason="").prefetch_related(returns), _returned_row,
                    url=f"{changelist}?state__exact={ArticleState.DRAFT}&rejection_reason__gt="),
        ]  # fmt: skip
    sections.append(
        waiting(
            "to_publish",
            gettext("Approved, waiting to be published"),
            PUBLISH,
            user,
            articles.order_by("updated_at", "id"),
            lambda a: _row(a, since=a.updated_at),
            url=f"{changelist}?state__exact={ArticleState.APPROVED}",
        )  # fmt: skip
    )
    if user.review_level:
        sections.append(
            waiting(
                "to_review",
                gettext("Waiting for my review"),
                APPROVE,
                user,
                articles.order_by("updated_at", "id"),
                lambda a: _row(a, since=a.updated_at, url=reverse("admin:content_article_review", args=[a.pk])),
                url=f"{changelist}?review=waiting",
                badge="articles_waiting_for_review",  # the same rows: govcms.navigation counts them no more
            )  # fmt: skip
        )
    if user.has_perm(SUBMIT.permission):
        mine = articles.filter(created_by=user)
        sections += [
            section("submitted", gettext("Submitted, in review"), mine.filter(state=ArticleState.IN_REVIEW)
                    .order_by("-updated_at", "-id"), lambda a: _row(a, since=a.updated_at), tab=DONE,
                    url=f"{changelist}?state__exact={ArticleState.IN_REVIEW}&created_by__id__exact={user.pk}"),
            section("published", gettext("Published"), mine.filter(state=ArticleState.PUBLISHED)
                    .order_by("-published_at", "-id"), lambda a: _row(a, since=a.published_at), tab=DONE,
                    url=f"{changelist}?state__exact={ArticleState.PUBLISHED}&created_by__id__exact={user.pk}"),
        ]  # fmt: skip
    if user.review_level:
        # The articles the list's "reviewed by me" filter shows, each with my last decision on it.
        mine = Prefetch("reviews", ArticleReview.objects.filter(reviewer=user).order_by("-id"), to_attr="my_reviews")
        reviewed = (
            review_work(articles, user, REVIEWED)
            .annotate(last_decided=Max("reviews__created_at", filter=Q(reviews__reviewer=user)))
            .order_by("-last_decided", "-id")
            .prefetch_related(mine)
        )
        sections.append(
            section(
                "reviewed",
                gettext("Reviewed by me"),
                reviewed,
                _decision_row,
                tab=DONE,
                url=f"{changelist}?review={REVIEWED}",
            )  # fmt: skip
        )
    return panel("articles", gettext("Articles"), sections)


def _decision_row(article) -> Row:
    review = article.my_reviews[0]
    return _row(article, note=review.reason, since=review.created_at, details_more=[review.get_decision_display()])
