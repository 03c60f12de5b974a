"""Writes to an article: creating and editing the working copy (with its revisions), and the
workflow transitions, which are content/actions.py's actions (their rules live there; the
functions below hand off to them, for the demo, the portal channel and scripts).

Each changes the article in one transaction, keeps a revision where content changed, and writes
the audit log. A refused transition raises `govcms.actions.ActionRefused` (both PermissionDenied
and ValidationError); a refused edit raises `PermissionDenied` or `WorkflowError`, each with a
message for the user.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.scoping import require_permission, works_for
from accounts.services import audit_record
from content import actions, portal_cache
from content.models import Article, ArticleRevision, ArticleState
from content.sanitize import images_missing_alt, sanitize_html

State = ArticleState

# The fields an editor changes; everything else belongs to the workflow.
CONTENT_FIELDS = [
    "title", "short_title", "author", "digest", "body", "cover", "column", "department",
    "tags", "source_url", "comments_open",
]  # fmt: skip


class WorkflowError(ValidationError):
    """The action is not possible in the article's current state."""


class EditConflict(WorkflowError):
    """Someone saved the article after this editor loaded it."""


def _require(actor, perm: str, article: Article | None = None, department=None) -> None:
    require_permission(actor, perm)
    department_id = department.pk if department is not None else (article.department_id if article else None)
    if department_id is not None and not works_for(actor, department_id):
        raise PermissionDenied(_("This article belongs to a department you do not work for."))


def _locked(article: Article) -> Article:
    """Re-read the article under a row lock, so concurrent transitions queue up instead of racing."""
    return Article.objects.select_for_update().get(pk=article.pk)


def keep_revision(article: Article, actor, note: str = "") -> ArticleRevision:
    number = (article.revisions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    return ArticleRevision.objects.create(
        article=article,
        number=number,
        title=article.title,
        short_title=article.short_title,
        author=article.author,
        digest=article.digest,
        body=article.body,
        cover=article.cover.name if article.cover else "",
        column_id=article.column_id,
        tags=article.tags,
        source_url=article.source_url,
        comments_open=article.comments_open,
        note=note,
        created_by=actor,
    )


def prepare_content(article: Article) -> None:
    article.body = sanitize_html(article.body or "")
    article.images_missing_alt = images_missing_alt(article.body)
    article.tags = [tag.strip() for tag in article.tags if tag.strip()]


def invalidate_after_commit(article: Article, column_ids: set[int]) -> None:
    from content.models import Column

    tags = [portal_cache.article_tag(article.pk), portal_cache.HOME_TAG, portal_cache.SITEMAP_TAG]
    for column in Column.objects.filter(pk__in=column_ids):
        tags += [portal_cache.column_tag(ancestor) for ancestor in column.ancestor_ids]
    transaction.on_commit(lambda: portal_cache.invalidate(tags))


def article_create(*, actor, article: Article) -> Article:
    """Store a new draft (an unsaved Article carrying the editor's fields) with its first revision."""
    _require(actor, "content.add_article", department=article.department)
    with transaction.atomic():
        prepare_content(article)
        article.created_by = article.updated_by = actor
        article.state = State.DRAFT
        article.version = 1
        article.save()
        keep_revision(article, actor)
        audit_record(actor=actor, action="article.create", target=article, detail={"title": article.title})
    return article


def check_version(*, article: Article, expected_version: int | None) -> Article:
    """Lock the stored article and refuse with EditConflict unless it is still at `expected_version`."""
    current = _locked(article)
    if current.version != expected_version:
        raise EditConflict(
            _(
                "%(name)s saved this article at %(time)s (version %(version)d) after you opened it. "
                "Your changes were not saved: copy them, reload the page and edit again."
            )
            % {
                "name": current.updated_by,
                "time": timezone.localtime(current.updated_at).strftime("%H:%M:%S"),
                "version": current.version,
            }
        )
    return current


def article_update(*, actor, article: Article, expected_version: int) -> Article:
    """Save an editor's changes to `article` (an instance carrying the new field values).

    Refuses with EditConflict when the stored version is not the one the editor loaded.
    Editing an article that is in review, approved or published sends it back to the first
    review step (the portal keeps showing the published copy until the change is approved
    and published); editing a withdrawn one makes it a draft again.
    """
    _require(actor, "content.change_article", article)
    with transaction.atomic():
        current = check_version(article=article, expected_version=expected_version)
        _require(actor, "content.change_article", department=article.department)
        prepare_content(article)
        changed = [f for f in CONTENT_FIELDS if _field_value(article, f) != _field_value(current, f)]
        article.updated_by = actor
        article.version = current.version + 1
        if changed and current.state in (State.IN_REVIEW, State.APPROVED, State.PUBLISHED):
            article.state = State.IN_REVIEW
            article.review_plan = list(article.column.review_levels)
            article.review_step = 0
        elif changed and current.state == State.WITHDRAWN:
            article.state = State.DRAFT
        else:
            article.state = current.state
        article.save()
        if changed:
            keep_revision(article, actor)
        audit_record(
            actor=actor,
            action="article.update",
            target=article,
            detail={"changed": changed, "version": article.version, "state": article.state},
        )
    return article


def _field_value(article: Article, name: str):
    value = getattr(article, f"{name}_id" if name in ("column", "department") else name)
    return value.name if name == "cover" else value


def article_submit(*, actor, article: Article) -> Article:
    """Draft -> in review (content/actions.py SubmitArticle)."""
    return actions.SUBMIT.execute(actor, article)


def article_approve(*, actor, article: Article, expected_version: int | None = None) -> Article:
    """Approve the current review step (content/actions.py ApproveArticle)."""
    return actions.APPROVE.execute(actor, article, expected_version=expected_version)


def article_reject(*, actor, article: Article, reason: str) -> Article:
    """Return the article to its editor with the reason (content/actions.py RejectArticle)."""
    return actions.REJECT.execute(actor, article, reason=reason)


def article_publish(*, actor, article: Article) -> Article:
    """Make the approved working copy live (content/actions.py PublishArticle)."""
    return actions.PUBLISH.execute(actor, article)


def article_withdraw(*, actor, article: Article, reason: str) -> Article:
    """Take a published article off the portal (content/actions.py WithdrawArticle)."""
    return actions.WITHDRAW.execute(actor, article, reason=reason)


def article_restore_revision(*, actor, article: Article, revision: ArticleRevision) -> Article:
    """Copy an old revision into the working copy as a new draft (content/actions.py RestoreRevision)."""
    return actions.RESTORE_REVISION.execute(actor, article, revision=revision)
