"""Article workflow: every write to an article is one of these functions.

Each checks the actor's permission and the article's state, changes the article in one
transaction, keeps a revision where content changed, and writes the audit log. Failures
raise `PermissionDenied` (not allowed) or `WorkflowError` (not possible now), both with a
message for the user.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ReviewLevel
from accounts.scoping import require_permission, works_for
from accounts.services import audit_record
from content import portal_cache
from content.models import Article, ArticleReview, ArticleRevision, ArticleState, ReviewDecision
from content.sanitize import html_to_text, images_missing_alt, sanitize_html
from content.search import bigrams, normalize

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


def _revision(article: Article, actor, note: str = "") -> ArticleRevision:
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


def _prepare_content(article: Article) -> None:
    article.body = sanitize_html(article.body or "")
    article.images_missing_alt = images_missing_alt(article.body)
    article.tags = [tag.strip() for tag in article.tags if tag.strip()]


def _invalidate_after_commit(article: Article, column_ids: set[int]) -> None:
    from content.models import Column

    tags = [portal_cache.article_tag(article.pk), portal_cache.HOME_TAG, portal_cache.SITEMAP_TAG]
    for column in Column.objects.filter(pk__in=column_ids):
        tags += [portal_cache.column_tag(ancestor) for ancestor in column.ancestor_ids]
    transaction.on_commit(lambda: portal_cache.invalidate(tags))


def article_create(*, actor, article: Article) -> Article:
    """Store a new draft (an unsaved Article carrying the editor's fields) with its first revision."""
    _require(actor, "content.add_article", department=article.department)
    with transaction.atomic():
        _prepare_content(article)
        article.created_by = article.updated_by = actor
        article.state = State.DRAFT
        article.version = 1
        article.save()
        _revision(article, actor)
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
        _prepare_content(article)
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
            _revision(article, actor)
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


def _transition(article: Article, allowed: tuple[str, ...], message: str) -> None:
    if article.state not in allowed:
        raise WorkflowError(message % {"state": article.get_state_display()})


def article_submit(*, actor, article: Article) -> Article:
    """Draft -> in review at the first step of the column's review plan."""
    _require(actor, "content.change_article", article)
    with transaction.atomic():
        article = _locked(article)
        _transition(article, (State.DRAFT,), _("Only a draft can be submitted for review; this article is %(state)s."))
        plan = list(article.column.review_levels)
        if not plan:
            raise WorkflowError(_("The column has no review steps configured; ask an administrator."))
        article.state = State.IN_REVIEW
        article.review_plan = plan
        article.review_step = 0
        article.rejection_reason = ""
        article.save(update_fields=["state", "review_plan", "review_step", "rejection_reason", "updated_at"])
        audit_record(actor=actor, action="article.submit", target=article, detail={"plan": plan})
    return article


def _check_reviewer(actor, article: Article) -> int:
    _require(actor, "content.review_article", article)
    level = article.current_review_level
    if article.state != State.IN_REVIEW or level is None:
        raise WorkflowError(
            _("This article is not waiting for review; it is %(state)s.") % {"state": article.get_state_display()}
        )
    if actor.review_level != level:
        raise PermissionDenied(
            _("This step needs a reviewer at the %(level)s level.") % {"level": ReviewLevel(level).label}
        )
    if actor.pk in (article.created_by_id, article.updated_by_id):
        raise PermissionDenied(_("You wrote or last edited this article, so someone else must review it."))
    return level


def _record_review(article: Article, reviewer, level: int, decision: str, reason: str = "") -> None:
    """The reviewer's decision on the article's current step, tied to the revision they read."""
    ArticleReview.objects.create(
        article=article,
        revision=article.revisions.order_by("-number").first(),
        step=article.review_step + 1,
        level=level,
        reviewer=reviewer,
        decision=decision,
        reason=reason,
    )


def article_approve(*, actor, article: Article, expected_version: int | None = None) -> Article:
    """Approve the current step; after the last step the article is approved for publishing."""
    with transaction.atomic():
        article = _locked(article)
        level = _check_reviewer(actor, article)
        if expected_version is not None and article.version != expected_version:
            raise EditConflict(_("The article changed while you were reading it; read the new version first."))
        _record_review(article, actor, level, ReviewDecision.APPROVED)
        article.review_step += 1
        if article.review_step >= len(article.review_plan):
            article.state = State.APPROVED
        article.save(update_fields=["state", "review_step", "updated_at"])
        audit_record(
            actor=actor,
            action="article.approve",
            target=article,
            detail={"step": article.review_step, "level": level, "state": article.state},
        )
    return article


def article_reject(*, actor, article: Article, reason: str) -> Article:
    """Return the article to its editor as a draft, with the reviewer's reason."""
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError(_("Say why the article is returned, so the editor knows what to fix."))
    with transaction.atomic():
        article = _locked(article)
        level = _check_reviewer(actor, article)
        _record_review(article, actor, level, ReviewDecision.REJECTED, reason)
        article.state = State.DRAFT
        article.review_step = 0
        article.rejection_reason = reason
        article.save(update_fields=["state", "review_step", "rejection_reason", "updated_at"])
        audit_record(actor=actor, action="article.reject", target=article, detail={"level": level, "reason": reason})
    return article


def article_publish(*, actor, article: Article) -> Article:
    """Make the approved working copy the live copy on the portal, and index it for search."""
    _require(actor, "content.publish_article", article)
    with transaction.atomic():
        article = _locked(article)
        _transition(
            article, (State.APPROVED,), _("Only an approved article can be published; this article is %(state)s.")
        )
        revision = article.revisions.order_by("-number").first()
        previous_column = article.live_column_id
        now = timezone.now()
        text = normalize(f"{revision.title}\n{html_to_text(revision.body)}")
        article.live_revision = revision
        article.live_column_id = revision.column_id
        article.is_live = True
        article.state = State.PUBLISHED
        article.published_at = now
        article.first_published_at = article.first_published_at or now
        article.withdrawn_at = None
        article.withdraw_reason = ""
        article.search_title = normalize(revision.title)
        article.search_text = text
        article.search_bigrams = bigrams(text)
        article.save()
        audit_record(actor=actor, action="article.publish", target=article, detail={"revision": revision.number})
        _invalidate_after_commit(article, {revision.column_id, previous_column} - {None})
    return article


def article_withdraw(*, actor, article: Article, reason: str) -> Article:
    """Take a published article off the portal at once (撤稿), with a reason kept for the record."""
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError(_("Give the reason for withdrawing the article."))
    _require(actor, "content.withdraw_article", article)
    with transaction.atomic():
        article = _locked(article)
        if not article.is_live:
            raise WorkflowError(_("Only an article on the portal can be withdrawn."))
        article.is_live = False
        article.state = State.WITHDRAWN
        article.withdrawn_at = timezone.now()
        article.withdraw_reason = reason
        article.search_title = ""
        article.search_text = ""
        article.search_bigrams = []
        article.save()
        audit_record(actor=actor, action="article.withdraw", target=article, detail={"reason": reason})
        _invalidate_after_commit(article, {article.live_column_id})
    return article


def article_restore_revision(*, actor, article: Article, revision: ArticleRevision) -> Article:
    """Copy an old revision into the working copy as a new draft revision (history is kept)."""
    _require(actor, "content.change_article", article)
    if revision.article_id != article.pk:
        raise WorkflowError(_("That revision belongs to another article."))
    with transaction.atomic():
        article = _locked(article)
        for name in ("title", "short_title", "author", "digest", "body", "tags", "source_url", "comments_open"):
            setattr(article, name, getattr(revision, name))
        article.column_id = revision.column_id
        article.cover = revision.cover
        _prepare_content(article)
        article.state = State.DRAFT
        article.review_step = 0
        article.updated_by = actor
        article.version = F("version") + 1
        article.save()
        article.refresh_from_db()
        _revision(article, actor, note=_("Restored from revision %(number)d") % {"number": revision.number})
        audit_record(actor=actor, action="article.restore", target=article, detail={"revision": revision.number})
    return article
