"""WeChat calls the account's server URL here: the URL check (GET) and event pushes (POST)."""

import logging

import xmltodict
from django.http import HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature

from publishing.models import ChannelAccount, Platform
from publishing.services import delivery_record_report

logger = logging.getLogger(__name__)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@csrf_exempt
@require_http_methods(["GET", "POST"])
def wechat_callback(request, account_id):
    account = get_object_or_404(ChannelAccount, pk=account_id, platform=Platform.WECHAT)
    params = request.GET
    try:
        check_signature(
            account.wechat_token, params.get("signature", ""), params.get("timestamp", ""), params.get("nonce", "")
        )
    except InvalidSignatureException:
        return HttpResponseForbidden("invalid signature")
    if request.method == "GET":
        return HttpResponse(params.get("echostr", ""), content_type="text/plain")

    body = request.body
    if params.get("encrypt_type") == "aes":
        crypto = WeChatCrypto(account.wechat_token, account.wechat_aes_key, account.wechat_app_id)
        try:
            body = crypto.decrypt_message(body, params.get("msg_signature", ""), params["timestamp"], params["nonce"])
        except Exception:  # noqa: BLE001 - any undecryptable push is refused the same way
            return HttpResponseForbidden("cannot decrypt")
    try:
        message = xmltodict.parse(body).get("xml", {})
    except Exception:  # noqa: BLE001 - malformed XML from the outside world
        return HttpResponse("", status=400)
    if message.get("MsgType") == "event" and message.get("Event") == "MASSSENDJOBFINISH":
        # Repeated pushes (WeChat retries 3 times) just write the same numbers again.
        delivery_record_report(
            account=account,
            msg_id=str(message.get("MsgID") or message.get("MsgId") or ""),
            status=str(message.get("Status", "")),
            counts={
                "total": _int(message.get("TotalCount")),
                "filter": _int(message.get("FilterCount")),
                "sent": _int(message.get("SentCount")),
                "error": _int(message.get("ErrorCount")),
            },
            extra={
                "copyright": message.get("CopyrightCheckResult"),
                "article_urls": message.get("ArticleUrlResult"),
            },
        )
    # An empty answer tells WeChat the push arrived and stops its retries.
    return HttpResponse("", content_type="text/plain")
