"""Demo columns and articles (with covers) in every workflow state, made through the services."""

from datetime import timedelta

from django.core.files.base import ContentFile
from django.utils import timezone

from accounts.models import User
from content import portal_cache
from content.demo_data import ARTICLES, COLUMNS, make_cover
from content.models import Article, ArticleState, Column
from content.services import (
    article_approve,
    article_create,
    article_publish,
    article_submit,
    article_withdraw,
)


def seed(departments) -> int:
    """Create what is missing (matched by slug and title); returns how many articles the demo has."""
    columns = {}
    for spec in COLUMNS:
        columns[spec["slug"]], _ = Column.objects.update_or_create(
            slug=spec["slug"],
            defaults={
                "name": spec["name"],
                "parent": columns.get(spec["parent"]),
                "order": spec["order"],
                "show_on_home": spec["show_on_home"],
                "review_levels": spec["review_levels"],
            },
        )
    editor = User.objects.get(username="editor")
    reviewers = {user.review_level: user for user in User.objects.filter(username__startswith="reviewer")}
    now = timezone.now()
    for number, spec in enumerate(ARTICLES):
        if Article.objects.filter(title=spec["title"]).exists():
            continue
        article = Article(
            title=spec["title"],
            short_title=spec["short_title"],
            author=spec["author"],
            digest=spec["digest"],
            body=spec["body"],
            column=columns[spec["column"]],
            department=departments[spec["department"]],
            tags=spec["tags"],
            source_url=spec["source_url"],
        )
        article.cover.save(f"demo-{number}.jpg", ContentFile(make_cover(number)), save=False)
        article = article_create(actor=editor, article=article)
        _advance(article, spec, editor, reviewers)
        if spec["state"] in ("published", "withdrawn"):
            published = now - timedelta(days=spec["days_ago"], hours=number % 7)
            Article.objects.filter(pk=article.pk).update(published_at=published, first_published_at=published)
    portal_cache.clear_all()
    return Article.objects.filter(title__in=[spec["title"] for spec in ARTICLES]).count()


def _advance(article, spec, editor, reviewers) -> None:
    target = spec["state"]
    if target == ArticleState.DRAFT:
        return
    article_submit(actor=editor, article=article)
    if target == ArticleState.IN_REVIEW:
        return
    for level in article.column.review_levels:
        article_approve(actor=reviewers[level], article=article)
    if target == ArticleState.APPROVED:
        return
    article_publish(actor=editor, article=article)
    if target == ArticleState.WITHDRAWN:
        article_withdraw(actor=reviewers[max(reviewers)], article=article, reason=spec["withdraw_reason"])
