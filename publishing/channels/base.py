"""What every channel offers the publishing spine (see DESIGN.md, "Channel interface")."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from django.utils.translation import gettext as _

from content.models import Article, ArticleState


@dataclass
class SendPlan:
    """What is about to be scheduled: enough for the pure preflight checks."""

    articles: list[Article]
    send_at: datetime
    audience: str = "all"
    wechat_tag_id: int | None = None
    schedule_id: int | None = None


@dataclass
class Problem:
    message: str
    account: object = None
    article: Article | None = None


@dataclass
class SendResult:
    sent: bool
    msg_id: str = ""
    msg_data_id: str = ""
    post_id: str = ""
    media_id: str = ""
    detail: dict = field(default_factory=dict)


class ChannelError(Exception):
    """A failed platform call.

    `message` is the explanation for the person who scheduled the send (Chinese, through gettext);
    `detail` keeps the platform's own code and raw text for whoever investigates. `maybe_delivered`
    says the request may have reached the platform and been carried out (no clear answer came
    back): such a delivery is never recorded as "not sent".
    """

    maybe_delivered_by_default = False

    def __init__(self, code: str, message: str, *, media_id: str = "", detail: str = "", maybe_delivered=None,
                 rate_limited: bool = False, quota_used: bool = False):  # fmt: skip
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.detail = str(code), message, detail
        # The platform's id of what was already uploaded (a WeChat draft): kept so a retry reuses it.
        self.media_id = media_id
        self.maybe_delivered = self.maybe_delivered_by_default if maybe_delivered is None else maybe_delivered
        # A rate limit clears slowly: the spine backs off much further.
        self.rate_limited = rate_limited
        # The platform says this period's quota is used (by us or from its own console): the slot stays taken.
        self.quota_used = quota_used


class TransientError(ChannelError):
    """Try again later: nothing was sent, or the platform will recognise a resend (clientmsgid)."""


class PermanentError(ChannelError):
    """Retrying cannot help; a person must act."""


class AmbiguousError(ChannelError):
    """The request may have reached the platform and we cannot ask it: never resend blindly."""

    maybe_delivered_by_default = True


class Channel(Protocol):
    # False where the platform has no idempotency key (Weibo): a send that may have happened is then
    # looked up (status) and, if not found, left to a person instead of being sent again.
    resend_is_safe: bool

    def preflight(self, plan: SendPlan) -> list[Problem]: ...

    def send(self, delivery) -> SendResult: ...

    def status(self, delivery) -> SendResult | None: ...

    def where_to_check(self, delivery) -> str: ...  # for a delivery that may have been sent


def approved_revision_id(article) -> int:
    """The text a reviewer approved: the live copy of a published article, the latest revision of an
    approved one. An article sent back to review since it was scheduled is not sent at all."""
    if article.state == ArticleState.PUBLISHED and article.live_revision_id:
        return article.live_revision_id
    if article.state == ArticleState.APPROVED:
        return article.revisions.order_by("-number").values_list("pk", flat=True).first()
    raise PermanentError(
        "not_approved",
        _("“%(title)s” is no longer approved (it was edited after scheduling); approve it again, then retry.")
        % {"title": article.title},
    )
