"""WeChat calls the account's server URL here: the URL check (GET) and event pushes (POST).

Every call is checked before anything is read: the signature (compared in constant time), the
timestamp (at most `CALLBACK_MAX_SKEW_SECONDS` off our clock) and the nonce (never seen before: kept
in Redis for longer than a timestamp stays acceptable), so a captured call cannot be replayed. A
push in safe mode (`encrypt_type=aes`) also carries `msg_signature` over the ciphertext; an account
without a usable EncodingAESKey refuses such pushes plainly instead of failing.
"""

import base64
import binascii
import hmac
import logging
import time

import xmltodict
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from publishing.models import ChannelAccount, Platform
from publishing.services import delivery_record_report
from shared import redis_client

logger = logging.getLogger(__name__)

CALLBACK_MAX_SKEW_SECONDS = 300
# A nonce is remembered while its timestamp could still be accepted (up to twice the skew after it
# arrived, for a timestamp ahead of our clock), and a little longer.
NONCE_KEEP_SECONDS = 2 * CALLBACK_MAX_SKEW_SECONDS + 60
NONCE_MAX_LENGTH = 64


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _signature(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


def _same(expected: str, given: str) -> bool:
    # wechatpy compares with `!=`; a constant-time comparison does not tell how much of a guess was right.
    return hmac.compare_digest(expected.encode(), str(given).encode())


def _fresh_nonce(account_id: int, nonce: str) -> bool:
    """Record the nonce; False when it was seen before (SET NX: two racing replays cannot both pass)."""
    key = f"publishing:wechat-nonce:{account_id}:{nonce}"
    return bool(redis_client.client().set(key, b"1", nx=True, ex=NONCE_KEEP_SECONDS))


def _forget_nonce(account_id: int, nonce: str) -> None:
    redis_client.client().delete(f"publishing:wechat-nonce:{account_id}:{nonce}")


def _usable_aes_key(key: str) -> bool:
    """An EncodingAESKey is 43 base64 characters for 32 bytes; wechatpy asserts instead of refusing."""
    if len(key) != 43:
        return False
    try:
        return len(base64.b64decode(key + "=", validate=True)) == 32
    except (binascii.Error, ValueError):
        return False


def _refusal(account, params) -> HttpResponse | None:
    """Why this call is refused, before its body is read; None when it is authentic and new."""
    if not account.wechat_token:
        # Without a token the signature is a hash of public values: anyone could forge it.
        return HttpResponseForbidden("no callback token configured")
    timestamp, nonce = params.get("timestamp", ""), params.get("nonce", "")
    if not _same(_signature(account.wechat_token, timestamp, nonce), params.get("signature", "")):
        return HttpResponseForbidden("invalid signature")
    sent_at = _int(timestamp)
    if sent_at is None or abs(time.time() - sent_at) > CALLBACK_MAX_SKEW_SECONDS:
        return HttpResponseForbidden("timestamp too far from now")
    if not nonce or len(nonce) > NONCE_MAX_LENGTH:
        return HttpResponseBadRequest("bad nonce")
    if not _fresh_nonce(account.pk, nonce):
        return HttpResponseForbidden("nonce already used")
    return None


def _decrypted(account, params, body: bytes) -> bytes | HttpResponse:
    """The plain XML of a safe-mode push, or the refusal."""
    if not _usable_aes_key(account.wechat_aes_key or ""):
        logger.warning("WeChat account %s got an encrypted push but has no usable EncodingAESKey", account.pk)
        return HttpResponseForbidden("encrypted push refused: no EncodingAESKey configured for this account")
    try:
        encrypt = xmltodict.parse(body).get("xml", {}).get("Encrypt") or ""
    except Exception:  # noqa: BLE001 - malformed XML from the outside world
        return HttpResponseBadRequest("")
    expected = _signature(account.wechat_token, params["timestamp"], params["nonce"], str(encrypt))
    if not encrypt or not _same(expected, params.get("msg_signature", "")):
        return HttpResponseForbidden("invalid msg_signature")
    crypto = WeChatCrypto(account.wechat_token, account.wechat_aes_key, account.wechat_app_id)
    try:
        # The signature is checked above in constant time; wechatpy's own check then passes by construction.
        return crypto.decrypt_message({"Encrypt": encrypt}, expected, params["timestamp"], params["nonce"])
    except Exception:  # noqa: BLE001 - any undecryptable push is refused the same way
        return HttpResponseForbidden("cannot decrypt")


@csrf_exempt
@require_http_methods(["GET", "POST"])
def wechat_callback(request, account_id):
    account = get_object_or_404(ChannelAccount, pk=account_id, platform=Platform.WECHAT)
    params = request.GET
    refusal = _refusal(account, params)
    if refusal is not None:
        return refusal
    if request.method == "GET":
        return HttpResponse(params.get("echostr", ""), content_type="text/plain")
    try:
        return _push(request, account, params)
    except Exception:
        # WeChat sends a push again when it gets no answer; the retry may carry the same nonce, and it
        # must not be refused as a replay of a push that was never taken in.
        _forget_nonce(account.pk, params["nonce"])
        raise


def _push(request, account, params):
    body = request.body
    encrypt_type = params.get("encrypt_type", "raw")
    if encrypt_type == "aes":
        body = _decrypted(account, params, body)
        if isinstance(body, HttpResponse):
            return body
    elif encrypt_type != "raw":
        return HttpResponseBadRequest("unknown encrypt_type")
    try:
        message = xmltodict.parse(body).get("xml", {})
    except Exception:  # noqa: BLE001 - malformed XML from the outside world
        return HttpResponseBadRequest("")
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
