"""The library's answer as WeChat's passive reply (a wechatpy reply object), for the callback server's
`publishing.channels.wechat_listen.answer_for`. Memory only, inside WeChat's 5 seconds: the match
comes from the compiled library, the hit is counted afterwards by a task.

A text answer is a text reply; an article, a published WeChat article or an image is a news reply of
one article (WeChat's rule since 2018) linking to it. An image is sent as the news item's picture, not as
an image reply: that would need the image uploaded to WeChat first (a media_id), which is not done on
the reply path.
"""

import logging

from django.conf import settings
from django.urls import reverse
from wechatpy.replies import ArticlesReply, BaseReply, TextReply

from answers import matching

logger = logging.getLogger(__name__)


def library_reply(account, message) -> BaseReply | None:
    """The reply to a follower's text message from the answer library, or None when nothing matches."""
    if getattr(message, "type", "") != "text":
        return None
    answer = matching.match(account, message.content or "")
    if answer is None:
        return None
    _count_hit(answer.entry_id)
    reply = reply_for(message, answer)
    # Which entry answered, for the stored message (publishing.channels.wechat_listen passes it on).
    reply.library_entry_id = answer.entry_id
    return reply


def reply_for(message, answer: matching.Answer) -> BaseReply:
    if answer.kind == "text":
        return TextReply(message=message, content=answer.text)
    url, image = "", ""
    if answer.kind == "article" and answer.article_id:
        url = settings.PORTAL_BASE_URL.rstrip("/") + reverse("portal:article", args=[answer.article_id])
    elif answer.kind == "wechat_article":
        url = answer.url
    elif answer.kind == "image" and answer.image:
        image = url = settings.SITE_URL + "/" + settings.MEDIA_URL.strip("/") + "/" + answer.image
    reply = ArticlesReply(message=message)
    reply.add_article({"title": answer.question, "description": answer.text, "image": image, "url": url})
    return reply


def _count_hit(entry_id: int) -> None:
    from answers.tasks import record_hit

    try:
        record_hit.delay(entry_id)
    except Exception:  # noqa: BLE001 (the follower's answer matters more than the count)
        logger.exception("Could not enqueue the hit of answer library entry %s", entry_id)
