"""WeChat Official Account mass-send: images, draft, sendall, with the delivery's UUID as clientmsgid."""

import hashlib
import re
import threading
from functools import lru_cache

import redis
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import DatabaseError
from django.urls import reverse
from django.utils.translation import gettext as _

from publishing.channels import http, wechat_api
from publishing.channels.base import (
    AmbiguousError,
    PermanentError,
    Problem,
    SendPlan,
    SendResult,
    TransientError,
    approved_revision_id,
)
from publishing.models import Audience, WeChatMaterial

TITLE_MAX, AUTHOR_MAX, DIGEST_MAX = 32, 16, 128
CONTENT_MAX_CHARS, CONTENT_MAX_BYTES, SOURCE_URL_MAX_BYTES = 20_000, 1024 * 1024, 1024
IMG_SRC = re.compile(r'(<img\b[^>]*?\bsrc=")([^"]+)(")', re.IGNORECASE)


@lru_cache(maxsize=1)
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


# A burst sends the same articles to hundreds of accounts. What cannot change is remembered per
# process: uploaded files (names are unique), permanent media ids, revisions of a given version,
# and one HTTP client per account and thread (its connection pool is reused).
_local = threading.local()


@lru_cache(maxsize=64)
def _file(name: str) -> tuple[bytes, str]:
    with default_storage.open(name, "rb") as handle:
        data = handle.read()
    return data, hashlib.sha256(data).hexdigest()


@lru_cache(maxsize=1024)
def _revision(revision_id: int):
    from content.models import ArticleRevision

    return ArticleRevision.objects.get(pk=revision_id)


_materials: dict[tuple, str] = {}


def wechat_title(article) -> str:
    return article.short_title or article.title


class WeChatChannel:
    # The delivery's UUID is the clientmsgid: WeChat refuses a repeat within 24 hours with 45065 and the
    # original msg_id, so a send that may have happened is settled by sending it again.
    resend_is_safe = True

    def __init__(self, account):
        self.account = account

    # -- preflight -----------------------------------------------------------------------------
    def preflight(self, plan: SendPlan) -> list[Problem]:
        problems = []
        account = self.account
        if plan.audience == Audience.TAG and not plan.wechat_tag_id:
            problems.append(Problem(_("Sending to a tag needs the WeChat tag id."), account=account))
        if not (account.wechat_app_id and account.wechat_app_secret):
            problems.append(
                Problem(_("%(account)s has no AppID/AppSecret yet.") % {"account": account}, account=account)
            )
        for article in plan.articles:
            problems += [
                Problem(message, account=account, article=article) for message in self.article_problems(article)
            ]
        return problems

    @staticmethod
    def article_problems(article) -> list[str]:
        name = {"title": article.title}
        problems = []
        if len(wechat_title(article)) > TITLE_MAX:
            problems.append(
                _("WeChat titles have at most 32 characters: give “%(title)s” a short title of 32 characters or fewer.")
                % name
            )
        if len(article.author) > 16:
            problems.append(_("WeChat allows at most 16 characters for the author of “%(title)s”; shorten it.") % name)
        if len(article.digest) > DIGEST_MAX:
            problems.append(
                _("WeChat allows at most 128 characters of digest; shorten the digest of “%(title)s”.") % name
            )
        if not article.cover:
            problems.append(_("WeChat needs a cover image: add one to “%(title)s”.") % name)
        if len(article.body) >= CONTENT_MAX_CHARS or len(article.body.encode()) >= CONTENT_MAX_BYTES:
            problems.append(
                _("The body of “%(title)s” is too long for WeChat (under 20,000 characters and 1 MB); split it.") % name
            )
        if len(article.source_url.encode()) > SOURCE_URL_MAX_BYTES:
            problems.append(_("The original source URL of “%(title)s” is longer than WeChat accepts (1 KB).") % name)
        return problems

    # -- sending -------------------------------------------------------------------------------
    def client(self) -> wechat_api.GovWeChatClient:
        clients = getattr(_local, "clients", None)
        if clients is None:
            clients = _local.clients = {}
        key = (self.account.wechat_app_id, self.account.wechat_app_secret, self.account.base_url)
        if key not in clients:
            if len(clients) > 5000:  # one burst reaches every account: keep them all
                clients.clear()
            client = wechat_api.GovWeChatClient(
                appid=self.account.wechat_app_id,
                secret=self.account.wechat_app_secret,
                api_base_url=self.account.base_url + "cgi-bin/",
                redis_client=_redis(),
            )
            # All accounts of a thread share one connection pool: the API host is the same.
            client._http = http.session_for(self.account.base_url)
            clients[key] = client
        return clients[key]

    def send(self, delivery) -> SendResult:
        media_id = delivery.platform_media_id
        try:
            client = self.client()
            if not media_id:
                media_id = client.draft.add(
                    [self._news_item(client, article) for article in delivery.schedule.article_refs()]
                )
        except wechat_api.WeChatAPIError as error:
            # The draft's id goes with the outcome, so a retry sends that draft instead of making another.
            raise _classified(error, media_id=media_id) from error
        except (OSError, DatabaseError) as error:
            # Storage or database trouble while preparing (PostgreSQL restarting, a file unreadable):
            # sendall was not reached, so nothing can have gone out.
            raise TransientError("internal", _("GovCMS could not prepare the articles for WeChat."),
                                 detail=repr(error)[:500], media_id=media_id or "") from error  # fmt: skip
        schedule = delivery.schedule
        tag_id = schedule.wechat_tag_id if schedule.audience == Audience.TAG else None
        try:
            answer = client.mass.send_all(media_id, tag_id=tag_id, clientmsgid=delivery.uuid.hex)
        except wechat_api.WeChatAPIError as error:
            # No usable answer to sendall (timeout, broken connection, an HTTP error page): WeChat
            # may have sent it. A clear error code means it did not.
            raise _classified(error, media_id=media_id, maybe_delivered=error.code is None) from error
        return SendResult(
            sent=True,
            msg_id=str(answer["msg_id"]),
            msg_data_id=str(answer.get("msg_data_id") or ""),
            media_id=media_id,
            detail={"duplicate": bool(answer.get("duplicate"))},
        )

    def send_service_text(self, openid: str, content: str) -> None:
        """One customer-service text (message/custom/send) to a follower. WeChat has no idempotency key for
        it, so a failure says whether the text may have gone out: TransientError (nothing was sent: WeChat
        busy or rate-limited, or the connection never made), AmbiguousError (no usable answer after the
        request left: it may have been delivered; never resend it blindly), PermanentError (WeChat refused,
        e.g. 45015 window closed, 45047 count used up, 40003 unknown openid, 43004 unfollowed)."""
        client = self.client()
        try:
            client.access_token  # noqa: B018 (a token failure happens before anything is sent)
        except wechat_api.WeChatAPIError as error:
            raise _classified(error) from error
        try:
            client.message.send_text(openid, content)
        except wechat_api.WeChatAPIError as error:
            if error.code is None and not http.never_left(error.__cause__):
                raise AmbiguousError("no_answer", wechat_api.explain(None), detail=error.message[:500],
                                     maybe_delivered=True) from error  # fmt: skip
            raise _classified(error) from error

    def where_to_check(self, delivery) -> str:
        return _(
            "Check the mass-send records of %(account)s on the WeChat Official Accounts Platform "
            "(mp.weixin.qq.com → 内容与互动 → 发表记录) for a send of “%(title)s”. If it is there, it "
            "reached the followers; if it is missing, use “retry now”: within 24 hours of the first try "
            "WeChat recognises a repeat of this send and only confirms it, so nothing goes out twice."
        ) % {"account": self.account.name, "title": delivery.schedule.title}

    def status(self, delivery) -> SendResult | None:
        """What WeChat knows of this delivery; None when it has no record (a resend is then safe)."""
        if not delivery.platform_msg_id:
            # No msg_id was recorded, but the clientmsgid makes a resend safe: WeChat answers a
            # repeat within 24 hours with 45065 and the original msg_id instead of sending again.
            return None
        try:
            answer = self.client().mass.get(delivery.platform_msg_id)
        except wechat_api.WeChatAPIError as error:
            raise _classified(error) from error
        if answer.get("msg_status") in ("SEND_SUCCESS", "SENDING"):
            return SendResult(sent=True, msg_id=delivery.platform_msg_id)
        return None

    def _news_item(self, client, article) -> dict:
        revision = _revision(approved_revision_id(article))
        return {
            "title": revision.short_title or revision.title,
            "author": revision.author,
            "digest": revision.digest,
            "content": self._body_with_wechat_images(client, revision.body),
            "content_source_url": revision.source_url or self._portal_url(article),
            "thumb_media_id": self._material(client, "thumb", revision.cover),
            "need_open_comment": int(revision.comments_open),
            "only_fans_can_comment": 0,
        }

    def _portal_url(self, article) -> str:
        return settings.PORTAL_BASE_URL.rstrip("/") + reverse("portal:article", args=[article.pk])

    def _body_with_wechat_images(self, client, body: str) -> str:
        """WeChat drops images hosted elsewhere: upload ours (media/uploadimg) and point the body at them."""

        def replace(match):
            src = match.group(2)
            if not src.startswith(settings.MEDIA_URL) and not src.startswith("/" + settings.MEDIA_URL.lstrip("/")):
                return ""  # not ours: WeChat would drop it anyway
            name = src.split(settings.MEDIA_URL.rstrip("/") + "/", 1)[-1]
            return match.group(1) + self._material(client, "body", name) + match.group(3)

        return IMG_SRC.sub(replace, body)

    def _material(self, client, kind: str, name: str) -> str:
        """The media id (cover) or URL (body image) of a file on this account, uploading it only once."""
        data, digest = _file(name)
        key = (self.account.pk, kind, digest)
        if key not in _materials:
            known = WeChatMaterial.objects.filter(account=self.account, kind=kind, content_hash=digest).first()
            if known is None:
                filename = name.rsplit("/", 1)[-1]
                if kind == "thumb":
                    media_id, url = client.add_image_material(data, filename)
                else:
                    media_id, url = "", client.upload_body_image(data, filename)
                known, _ = WeChatMaterial.objects.get_or_create(
                    account=self.account, kind=kind, content_hash=digest, defaults={"media_id": media_id, "url": url}
                )
            if len(_materials) > 100_000:
                _materials.clear()
            _materials[key] = known.media_id if kind == "thumb" else known.url
        return _materials[key]


def _classified(error: "wechat_api.WeChatAPIError", *, media_id: str = "", maybe_delivered: bool = False):
    kind = TransientError if error.transient else PermanentError
    detail = f"{error.code} {error.message}".strip() if error.code is not None else error.message
    code = str(error.code) if error.code is not None else "no_answer"
    return kind(code, wechat_api.explain(error.code), media_id=media_id or "", detail=detail,
                maybe_delivered=maybe_delivered, rate_limited=error.code in wechat_api.RATE_LIMIT_CODES,
                quota_used=error.code == wechat_api.NO_MASS_SEND_QUOTA)  # fmt: skip
