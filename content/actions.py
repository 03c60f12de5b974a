"""The article workflow's transitions (DESIGN.md "Actions"): who may submit, review, publish, withdraw
or restore an article, and when, is written here once.

The admin's buttons (`ARTICLE_ACTIONS.available`), the dashboard's "waiting for my review" list
(content/selectors.py) and the services' transition functions (content/services.py, kept for the
demo, the portal channel and scripts) all ask these `check`s; `execute` runs the check again on the
locked row and does the write, the audit entry and the portal cache invalidation after commit.
"""

from django.db.models import F, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import ReviewLevel
from accounts.scoping import works_for
from accounts.services import audit_record
from content import services
from content.models import Article, ArticleRevision, ArticleState, ReviewDecision
from content.sanitize import html_to_text
from govcms.actions import Action, Actions
from shared.bigrams import bigrams, normalize

State = ArticleState


class ArticleAction(Action):
    def lock(self, article: Article) -> Article:
        # Concurrent transitions queue up on the row instead of racing.
        return Article.objects.select_for_update().get(pk=article.pk)

    def scope_refusal(self, user, article: Article) -> str:
        if works_for(user, article.department_id):
            return ""
        return _("This article belongs to a department you do not work for.")


class SubmitArticle(ArticleAction):
    """Draft -> in review at the first step of the column's review plan."""

    code = "submit"
    label = gettext_lazy("Submit for review")
    permission = "content.change_article"
    from_states = (State.DRAFT,)
    state_message = gettext_lazy("Only a draft can be submitted for review; this article is %(state)s.")

    def check_more(self, user, article):
        if not article.column.review_levels:
            return _("The column has no review steps configured; ask an administrator.")
        return ""

    def perform(self, user, article):
        plan = list(article.column.review_levels)
        article.state = State.IN_REVIEW
        article.review_plan = plan
        article.review_step = 0
        article.rejection_reason = ""
        article.save(update_fields=["state", "review_plan", "review_step", "rejection_reason", "updated_at"])
        audit_record(actor=user, action="article.submit", target=article, detail={"plan": plan})
        return article


class ReviewAction(ArticleAction):
    """A decision on the article's current review step, by a reviewer at that step's level who
    neither wrote nor last edited it."""

    permission = "content.review_article"

    def check_more(self, user, article):
        level = article.current_review_level
        if level is None:
            return _("This article is not waiting for review; it is %(state)s.") % {
                "state": article.get_state_display()
            }
        if user.review_level != level:
            return _("This step needs a reviewer at the %(level)s level.") % {"level": ReviewLevel(level).label}
        if user.pk in (article.created_by_id, article.updated_by_id):
            return _("You wrote or last edited this article, so someone else must review it.")
        return ""

    def candidates(self, queryset, user=None):
        """In review at a step of the user's level, neither written nor last edited by them."""
        queryset = queryset.filter(state=State.IN_REVIEW)
        if user is None:
            return queryset
        level = RawSQL("content_article.review_plan[content_article.review_step + 1]", [])
        return (
            queryset.annotate(current_level=level)
            .filter(current_level=user.review_level)
            .exclude(Q(created_by=user) | Q(updated_by=user))
        )

    def record(self, article, reviewer, decision: str, reason: str = "") -> int:
        """The reviewer's decision on the current step, tied to the revision they read."""
        level = article.current_review_level
        article.reviews.create(
            revision=article.revisions.order_by("-number").first(),
            step=article.review_step + 1,
            level=level,
            reviewer=reviewer,
            decision=decision,
            reason=reason,
        )
        return level


class ApproveArticle(ReviewAction):
    """Approve the current step; after the last step the article is approved for publishing.
    `expected_version` (the version the reviewer read) refuses a stale approval with EditConflict."""

    code = "approve"
    label = gettext_lazy("Approve")

    def perform(self, user, article, expected_version: int | None = None):
        if expected_version is not None and article.version != expected_version:
            raise services.EditConflict(_("The article changed while you were reading it; read the new version first."))
        level = self.record(article, user, ReviewDecision.APPROVED)
        article.review_step += 1
        if article.review_step >= len(article.review_plan):
            article.state = State.APPROVED
        article.save(update_fields=["state", "review_step", "updated_at"])
        audit_record(
            actor=user,
            action="article.approve",
            target=article,
            detail={"step": article.review_step, "level": level, "state": article.state},
        )
        return article


class RejectArticle(ReviewAction):
    """Return the article to its editor as a draft, with the reviewer's reason (required)."""

    code = "reject"
    label = gettext_lazy("Return to editor")
    needs_reason = True

    def perform(self, user, article, reason: str = ""):
        reason = (reason or "").strip()
        if not reason:
            raise services.WorkflowError(_("Say why the article is returned, so the editor knows what to fix."))
        level = self.record(article, user, ReviewDecision.REJECTED, reason)
        article.state = State.DRAFT
        article.review_step = 0
        article.rejection_reason = reason
        article.save(update_fields=["state", "review_step", "rejection_reason", "updated_at"])
        audit_record(actor=user, action="article.reject", target=article, detail={"level": level, "reason": reason})
        return article


class PublishArticle(ArticleAction):
    """Make the approved working copy the live copy on the portal, and index it for search."""

    code = "publish"
    label = gettext_lazy("Publish on the portal")
    confirm = gettext_lazy("Publish this article on the portal? The public will see it at once.")
    permission = "content.publish_article"
    from_states = (State.APPROVED,)
    state_message = gettext_lazy("Only an approved article can be published; this article is %(state)s.")

    def perform(self, user, article):
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
        audit_record(actor=user, action="article.publish", target=article, detail={"revision": revision.number})
        services.invalidate_after_commit(article, {revision.column_id, previous_column} - {None})
        return article


class WithdrawArticle(ArticleAction):
    """Take a published article off the portal at once (撤稿), with a reason kept for the record."""

    code = "withdraw"
    label = gettext_lazy("Withdraw")
    confirm = gettext_lazy("Take this article off the portal? The public will no longer see it.")
    permission = "content.withdraw_article"
    needs_reason = True

    def check_more(self, user, article):
        return "" if article.is_live else _("Only an article on the portal can be withdrawn.")

    def perform(self, user, article, reason: str = ""):
        reason = (reason or "").strip()
        if not reason:
            raise services.WorkflowError(_("Give the reason for withdrawing the article."))
        article.is_live = False
        article.state = State.WITHDRAWN
        article.withdrawn_at = timezone.now()
        article.withdraw_reason = reason
        article.search_title = ""
        article.search_text = ""
        article.search_bigrams = []
        article.save()
        audit_record(actor=user, action="article.withdraw", target=article, detail={"reason": reason})
        services.invalidate_after_commit(article, {article.live_column_id})
        return article


class RestoreRevision(ArticleAction):
    """Copy an old revision into the working copy as a new draft revision (history is kept).
    Shown on the revisions page, one button per revision, not among the change page's buttons."""

    code = "restore"
    label = gettext_lazy("Restore as new draft")
    permission = "content.change_article"

    def perform(self, user, article, revision: ArticleRevision):
        if revision.article_id != article.pk:
            raise services.WorkflowError(_("That revision belongs to another article."))
        for name in ("title", "short_title", "author", "digest", "body", "tags", "source_url", "comments_open"):
            setattr(article, name, getattr(revision, name))
        article.column_id = revision.column_id
        article.cover = revision.cover
        services.prepare_content(article)
        article.state = State.DRAFT
        article.review_step = 0
        article.updated_by = user
        article.version = F("version") + 1
        article.save()
        article.refresh_from_db()
        services.keep_revision(article, user, note=_("Restored from revision %(number)d") % {"number": revision.number})
        audit_record(actor=user, action="article.restore", target=article, detail={"revision": revision.number})
        return article


SUBMIT = SubmitArticle()
APPROVE = ApproveArticle()
REJECT = RejectArticle()
PUBLISH = PublishArticle()
WITHDRAW = WithdrawArticle()
RESTORE_REVISION = RestoreRevision()

# The change page's buttons, in order. Restoring needs a revision, so its buttons are on the revisions page.
ARTICLE_ACTIONS = Actions(SUBMIT, APPROVE, REJECT, PUBLISH, WITHDRAW)
