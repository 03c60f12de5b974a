"""Sina Weibo: one post per delivery with the headline, a link to the portal article and the cover."""

from datetime import timedelta
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils.translation import gettext as _

from content.models import ArticleRevision
from publishing.channels import http, weibo_api
from publishing.channels.base import (
    AmbiguousError,
    PermanentError,
    Problem,
    SendPlan,
    SendResult,
    TransientError,
    approved_revision_id,
)

POST_MAX = 140
IMAGE_MAX_BYTES = 5 * 1024 * 1024
REPEAT_CONTENT = 20019
LOOKUP_COUNT = 50  # latest posts read to find one that may have been made
LOOKUP_MARGIN = timedelta(minutes=5)  # posts made before the schedule's time (minus this) are not ours


def portal_link(article) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + reverse("portal:article", args=[article.pk])


def post_text(article, revision=None) -> str:
    """Headline, the start of the digest and the portal link; "#" would make Weibo refuse the post."""
    revision = revision or article
    return f"【{revision.title}】{revision.digest[:60]} {portal_link(article)}".replace("#", "＃")


class WeiboChannel:
    # Weibo has no idempotency key: a post interrupted mid-way is never resent blindly.
    resend_is_safe = False

    def __init__(self, account):
        self.account = account

    def preflight(self, plan: SendPlan) -> list[Problem]:
        problems = []
        account = self.account
        if not account.weibo_access_token:
            problems.append(Problem(_("%(account)s has no access token yet.") % {"account": account}, account=account))
        portal_host = urlsplit(settings.PORTAL_BASE_URL).hostname or ""
        if account.weibo_safe_domain and portal_host != account.weibo_safe_domain:
            problems.append(
                Problem(
                    _("Weibo posts must link to %(domain)s (the app's safe domain), but the portal is at %(host)s.")
                    % {"domain": account.weibo_safe_domain, "host": portal_host},
                    account=account,
                )
            )
        headline = plan.articles[0] if plan.articles else None
        if headline is not None:
            length = weibo_api.weibo_length(post_text(headline))
            if length > POST_MAX:
                problems.append(
                    Problem(
                        _(
                            "The Weibo post for “%(title)s” would be %(length)d characters (at most 140); shorten the title or digest."
                        )
                        % {"title": headline.title, "length": length},
                        account=account,
                        article=headline,
                    )
                )
            if headline.cover and headline.cover.size > IMAGE_MAX_BYTES:
                problems.append(
                    Problem(
                        _("The cover of “%(title)s” is larger than Weibo accepts (5 MB).") % {"title": headline.title},
                        account=account,
                        article=headline,
                    )
                )
        return problems

    def send(self, delivery) -> SendResult:
        headline = delivery.schedule.ordered_articles()[0]
        revision = ArticleRevision.objects.get(pk=approved_revision_id(headline))
        image, image_name = None, ""
        if revision.cover:
            with default_storage.open(revision.cover, "rb") as handle:
                image, image_name = handle.read(), revision.cover.rsplit("/", 1)[-1]
        try:
            answer = weibo_api.share(
                self.account.base_url,
                self.account.weibo_access_token,
                post_text(headline, revision),
                image=image,
                image_name=image_name,
                rip=settings.WEIBO_OPERATOR_IP,
                timeout=(5, 30),
            )
        except requests.ConnectionError as error:
            if http.never_left(error):  # a connection never made carried no post
                raise TransientError("network", _("Weibo could not be reached."), detail=str(error)[:500]) from error
            raise AmbiguousError("network", _("The connection to Weibo broke during the post."),
                                 detail=str(error)[:500]) from error  # fmt: skip
        except requests.Timeout as error:
            raise AmbiguousError("timeout", _("Weibo did not answer in time."), detail=str(error)[:500]) from error
        except weibo_api.WeiboAPIError as error:
            raise _classified(error) from error
        return SendResult(sent=True, post_id=str(answer.get("idstr") or answer.get("id")))

    def status(self, delivery) -> SendResult | None:
        """Whether a post that may have been made is on the account: looked up among the account's
        latest posts (same text, made after the schedule's time). None when it is not there."""
        if delivery.platform_post_id:
            return SendResult(sent=True, post_id=delivery.platform_post_id)
        headline = delivery.schedule.ordered_articles()[0]
        text = post_text(headline, ArticleRevision.objects.get(pk=approved_revision_id(headline)))
        since = delivery.schedule.send_at - LOOKUP_MARGIN
        try:
            posts = weibo_api.recent_posts(
                self.account.base_url, self.account.weibo_access_token, count=LOOKUP_COUNT, timeout=(5, 30)
            )
        except requests.RequestException as error:
            raise TransientError("lookup", _("Weibo could not be asked whether the post arrived."),
                                 detail=str(error)[:500]) from error  # fmt: skip
        except weibo_api.WeiboAPIError as error:
            raise _classified(error, maybe_delivered=False) from error
        for post in posts:
            made = weibo_api.created_at(post)
            if weibo_api.same_text(text, str(post.get("text", ""))) and (made is None or made >= since):
                return SendResult(sent=True, post_id=str(post.get("idstr") or post.get("id")), detail={"found": True})
        return None

    def where_to_check(self, delivery) -> str:
        return _(
            "Open the Weibo account %(account)s and look for the post “%(title)s”. Then use “retry now”: "
            "GovCMS first looks the post up among the account's latest posts and records it as sent if it "
            "is there; only if it is not found is it posted again."
        ) % {"account": self.account.name, "title": delivery.schedule.title}


def _classified(error: "weibo_api.WeiboAPIError", *, maybe_delivered=None):
    kind = TransientError if error.transient else PermanentError
    if maybe_delivered is None:
        # No Weibo answer at all (an HTTP error page) may hide a post; so may "repeat content" (20019).
        maybe_delivered = error.code is None or error.code == REPEAT_CONTENT
    detail = f"{error.code} {error.message}".strip() if error.code is not None else error.message
    code = str(error.code) if error.code is not None else "no_answer"
    return kind(code, weibo_api.explain(error.code), detail=detail, maybe_delivered=maybe_delivered,
                rate_limited=error.code in weibo_api.RATE_LIMIT_CODES)  # fmt: skip
