"""The reviewer's page of an article (/admin/content/article/<id>/review/): the article as the portal will show
it, beside the buttons its actions allow now, with what changed since the last review decision.

"The last reviewed version" is the revision an `ArticleReview` was recorded against (ReviewAction.record ties
each decision to the newest revision the reviewer read), so a re-review after a return shows exactly the
editor's fixes, and the next level sees what changed after the level before it decided.
The buttons are `ARTICLE_ACTIONS.available`: the page restates no rule, and its forms post to the same workflow
URLs as the change page, whose refusals are the actions' own.
"""

import difflib
from dataclasses import dataclass, field

from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from content.actions import APPROVE, ARTICLE_ACTIONS, REJECT
from content.models import Article, ArticleReview, ArticleRevision
from content.sanitize import html_to_text, sanitize_html
from govcms.admin_workflow import ReasonForm

# Paragraphs this alike are shown as one paragraph with the changed characters marked; less alike, as one
# deleted and one inserted paragraph (marking most of the characters of both would be harder to read).
INLINE_RATIO = 0.5
# Unchanged paragraphs shown around a change; longer unchanged runs are folded into a count.
CONTEXT = 1


@dataclass
class DiffBlock:
    """One paragraph of the comparison: `kind` is equal, insert, delete or change (then `parts` holds
    (kind, text) pieces of one paragraph), or skip (`count` unchanged paragraphs folded away)."""

    kind: str
    text: str = ""
    parts: list[tuple[str, str]] = field(default_factory=list)
    count: int = 0


def paragraphs(html: str) -> list[str]:
    return [line.strip() for line in html_to_text(html or "").splitlines() if line.strip()]


def inline_parts(old: str, new: str) -> list[tuple[str, str]]:
    """Character by character (Chinese has no spaces between words): equal, delete and insert pieces."""
    parts = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            parts.append(("equal", old[i1:i2]))
            continue
        if tag in ("delete", "replace"):
            parts.append(("delete", old[i1:i2]))
        if tag in ("insert", "replace"):
            parts.append(("insert", new[j1:j2]))
    return parts


def text_diff(old: list[str], new: list[str], *, context: int = CONTEXT) -> list[DiffBlock]:
    """Paragraph by paragraph; [] when nothing changed."""
    blocks: list[DiffBlock] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            blocks.extend(DiffBlock("equal", text) for text in old[i1:i2])
        elif tag == "delete":
            blocks.extend(DiffBlock("delete", text) for text in old[i1:i2])
        elif tag == "insert":
            blocks.extend(DiffBlock("insert", text) for text in new[j1:j2])
        else:
            blocks.extend(_replaced(old[i1:i2], new[j1:j2]))
    if all(block.kind == "equal" for block in blocks):
        return []
    return _fold(blocks, context)


def _replaced(old: list[str], new: list[str]) -> list[DiffBlock]:
    if len(old) == len(new):
        pairs = [(a, b) for a, b in zip(old, new, strict=True)]
        if all(difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() >= INLINE_RATIO for a, b in pairs):
            return [DiffBlock("change", parts=inline_parts(a, b)) for a, b in pairs]
    return [DiffBlock("delete", text) for text in old] + [DiffBlock("insert", text) for text in new]


def _fold(blocks: list[DiffBlock], context: int) -> list[DiffBlock]:
    changed = [i for i, block in enumerate(blocks) if block.kind != "equal"]
    shown = {j for i in changed for j in range(i - context, i + context + 1)}
    folded: list[DiffBlock] = []
    for i, block in enumerate(blocks):
        if block.kind != "equal" or i in shown:
            folded.append(block)
        elif folded and folded[-1].kind == "skip":
            folded[-1].count += 1
        else:
            folded.append(DiffBlock("skip", count=1))
    return folded


def last_review(article: Article) -> ArticleReview | None:
    """The latest decision on the article (approved or returned), with the revision it was made on."""
    return article.reviews.select_related("revision", "reviewer").order_by("-created_at", "-pk").first()


def changes_since(reviewed: ArticleRevision, current: ArticleRevision) -> list[tuple[str, list[DiffBlock]]]:
    """(label, blocks) of the title, digest and body that differ between the two revisions."""
    compared = [
        (gettext("Title"), [reviewed.title], [current.title]),
        (gettext("Digest"), [reviewed.digest] if reviewed.digest else [], [current.digest] if current.digest else []),
        (gettext("Body"), paragraphs(reviewed.body), paragraphs(current.body)),
    ]
    return [(label, blocks) for label, old, new in compared if (blocks := text_diff(old, new))]


def review_page(model_admin, request, article: Article):
    """GET only: the page posts its decisions to the workflow URLs (WorkflowButtonsMixin.workflow_view)."""
    revision = article.revisions.select_related("column", "created_by").order_by("-number").first()
    decided = last_review(article)
    changes = None
    if decided is not None and revision is not None and decided.revision_id != revision.pk:
        changes = changes_since(decided.revision, revision)
    here = reverse("admin:content_article_review", args=[article.pk])
    buttons = ARTICLE_ACTIONS.available(request.user, article)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "original": article,
        "title": gettext("Review “%(title)s”") % {"title": article.title},
        "revision": revision,
        # Stored bodies are cleaned on every write already (SanitizedHTMLField); cleaning again on the way out
        # keeps this page safe even for a row written before the allowlist last tightened.
        "body": mark_safe(sanitize_html(revision.body)) if revision is not None else "",  # noqa: S308 - nh3's output
        "last_review": decided,
        "changes": changes,
        "reviews": article.reviews.select_related("reviewer").order_by("created_at", "pk"),
        "approve": APPROVE if APPROVE in buttons else None,
        "reject": REJECT if REJECT in buttons else None,
        "reject_form": ReasonForm() if REJECT in buttons else None,
        "other_buttons": [action for action in buttons if action not in (APPROVE, REJECT)],
        "here": here,
        "change_url": reverse("admin:content_article_change", args=[article.pk]),
        "changelist_url": reverse("admin:content_article_changelist"),
    }
    return TemplateResponse(request, "admin/content/article/review.html", context)
