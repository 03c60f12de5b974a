"""WeChat's callback server: one URL per account (`/wechat/<account-id>/`), the URL check (GET) and the
pushes (POST) of followers' messages and events, in plaintext, compatible and safe (AES) mode.

Every call is checked before anything is processed: the signature (`msg_signature` over the ciphertext
for an encrypted push, `signature` otherwise, compared in constant time), the timestamp (at most
`CALLBACK_MAX_SKEW_SECONDS` off our clock) and the nonce (never seen before, SET NX in Redis), so a
captured call cannot be replayed. A wrong call gets 403 and leaves nothing behind.

The reply path does the minimum, so WeChat's 5 seconds hold even when the database is slow: the answer
comes from `answer_for` (memory), storing the message happens afterwards in a Celery task. WeChat
retries a push it got no answer to (3 tries in all, each with a new nonce): a push is recognised by
its MsgId (messages) or FromUserName + CreateTime + Event + EventKey (events) for
`DEDUPE_KEEP_SECONDS`, and a retry gets the very answer the first try got (or "success" while the
first is still being answered), never a second answer or a second stored message.

Nor does the reply path read the account row: what it needs of the account (token, AppID, EncodingAESKeys,
mode, welcome, default and acknowledgement texts) is held in process memory (`callback_account`). Each push
compares the account's version in Redis, which `ChannelAccount.save` bumps after commit, with the one the
process loaded; after `CALLBACK_SETTINGS_TTL_SECONDS` the row is read again anyway (a change made without
`save`, a bump lost while Redis was down), under a `CALLBACK_SETTINGS_RELOAD_TIMEOUT_MS` statement timeout, and
when that read fails (a locked or slow table) the copy in memory answers. So with the copy warm, a locked or
slow channel-account table delays no reply. The first push after a process starts (or after an account was
saved) reads the row without a timeout: that one may wait for the database, and if it waits past WeChat's 5
seconds WeChat retries the push, which the dedupe key answers once.
"""

import base64
import binascii
import hashlib
import hmac
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import redis
import xmltodict
from django.db import DatabaseError, connection, transaction
from django.http import Http404, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden, HttpResponseNotAllowed
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from wechatpy import parse_message
from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.replies import ArticlesReply, BaseReply, TextReply
from wechatpy.utils import WeChatSigner

from answers.replies import library_reply
from publishing.models import ChannelAccount, Platform, WeChatEncryptionMode
from shared import redis_client

logger = logging.getLogger(__name__)

CALLBACK_MAX_SKEW_SECONDS = 300
# A nonce is remembered while its timestamp could still be accepted (up to twice the skew after it
# arrived, for a timestamp ahead of our clock), and a little longer.
NONCE_KEEP_SECONDS = 2 * CALLBACK_MAX_SKEW_SECONDS + 60
NONCE_MAX_LENGTH = 64
# WeChat's retries come within about 15 seconds; keep a push's answer well beyond (at least 60 s).
DEDUPE_KEEP_SECONDS = 120
MAX_BODY_BYTES = 64 * 1024
PENDING = b"\x00pending"
# Events that stop at storing: nobody is waiting for an answer to them.
SILENT_EVENTS = {"unsubscribe", "view", "masssendjobfinish", "publishjobfinish", "templatesendjobfinish"}
WELCOME_EVENTS = {"subscribe", "subscribe_scan"}
# The account's callback settings in memory (see the module's docstring).
CALLBACK_SETTINGS_TTL_SECONDS = 60
CALLBACK_SETTINGS_RELOAD_TIMEOUT_MS = 500
CALLBACK_SETTINGS_VERSION_KEY = "publishing:wechat-callback-version:{account_id}"


# -- the account's settings, from memory ----------------------------------------------------------------


@dataclass(frozen=True)
class CallbackAccount:
    """What the callback path reads of a WeChat account: the model's field names, so `answer_for` and the
    checks take either this or a ChannelAccount."""

    pk: int
    wechat_app_id: str
    wechat_token: str
    wechat_aes_key: str
    wechat_aes_key_previous: str
    wechat_encryption_mode: str
    wechat_welcome_text: str
    wechat_default_reply: str
    wechat_acknowledgement: str

    @property
    def id(self) -> int:
        return self.pk

    @classmethod
    def of(cls, account: ChannelAccount) -> "CallbackAccount":
        return cls(pk=account.pk, **{name: getattr(account, name) or "" for name in CALLBACK_FIELDS})


CALLBACK_FIELDS = [name for name in CallbackAccount.__dataclass_fields__ if name != "pk"]


def _load_account(account_id: int, *, timeout_ms: int | None) -> CallbackAccount | None:
    """The account's settings from the database (None: no such WeChat account). With `timeout_ms`, a read that
    waits longer (a lock, a slow server) raises DatabaseError instead of holding the reply up."""
    query = ChannelAccount.objects.filter(pk=account_id, platform=Platform.WECHAT).only("pk", *CALLBACK_FIELDS)
    if timeout_ms is None:
        account = query.first()
    else:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('statement_timeout', %s, true)", [str(timeout_ms)])
            account = query.first()
            # Rolled back, read-only as it is: the timeout ends with it, also inside a caller's transaction.
            transaction.set_rollback(True)
    return CallbackAccount.of(account) if account is not None else None


def _version(account_id: int) -> int | None:
    """The account's settings version in Redis (0 when never bumped or after a flush); None when unreadable."""
    try:
        return int(redis_client.client().get(CALLBACK_SETTINGS_VERSION_KEY.format(account_id=account_id)) or 0)
    except redis.RedisError:
        return None


class _CallbackAccounts:
    """This process's copy of each account's callback settings: (settings, version, loaded at)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.entries: dict[int, tuple[CallbackAccount, int | None, float]] = {}

    def get(self, account_id: int) -> CallbackAccount | None:
        version, now = _version(account_id), time.monotonic()
        entry = self.entries.get(account_id)
        if entry is not None:
            held, held_version, loaded_at = entry
            same_version = version is None or version == held_version
            if same_version and now - loaded_at < CALLBACK_SETTINGS_TTL_SECONDS:
                return held
        try:
            fresh = _load_account(account_id, timeout_ms=CALLBACK_SETTINGS_RELOAD_TIMEOUT_MS if entry else None)
        except DatabaseError:
            if entry is None:
                raise
            logger.warning("WeChat account %s: settings not re-read (database busy), answering from memory", account_id)
            return entry[0]
        with self.lock:
            if fresh is None:
                self.entries.pop(account_id, None)
            else:
                self.entries[account_id] = (fresh, version, now)
        return fresh

    def forget(self) -> None:
        with self.lock:
            self.entries.clear()


_accounts = _CallbackAccounts()


def callback_account(account_id: int) -> CallbackAccount | None:
    """The WeChat account's callback settings, from memory when the copy is current (module docstring);
    None when there is no such WeChat account."""
    return _accounts.get(account_id)


def forget_callback_accounts() -> None:
    """Drop this process's copies (tests; the next push of each account reads its row)."""
    _accounts.forget()


def callback_settings_changed(account_id: int) -> None:
    """Tell every process the account's callback settings changed: call after commit (ChannelAccount.save does).
    With Redis unreachable the processes notice within CALLBACK_SETTINGS_TTL_SECONDS."""
    try:
        redis_client.client().incr(CALLBACK_SETTINGS_VERSION_KEY.format(account_id=account_id))
    except redis.RedisError:
        logger.exception("WeChat account %s: could not bump its callback settings version", account_id)


# -- keys ----------------------------------------------------------------------------------------------


def aes_key_bytes(key: str) -> bytes | None:
    """The 32-byte AES key of an EncodingAESKey (43 base64 characters), or None when it is malformed.
    wechatpy asserts on a malformed key; this refuses it plainly instead."""
    if not isinstance(key, str) or len(key) != 43:
        return None
    try:
        raw = base64.b64decode(key + "=", validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 32 else None


def aes_key_problem(key: str) -> str | None:
    """Why an EncodingAESKey typed in the admin cannot be used (for the form), or None."""
    if not key:
        return None
    if len(key) != 43:
        return _("An EncodingAESKey is exactly 43 characters (letters and digits); this one has %(count)d.") % {
            "count": len(key)
        }
    if aes_key_bytes(key) is None:
        return _("This EncodingAESKey is not valid: copy it again from the WeChat platform (letters and digits only).")
    return None


def _usable_keys(account) -> list[str]:
    keys = [account.wechat_aes_key or "", account.wechat_aes_key_previous or ""]
    return [key for key in keys if aes_key_bytes(key) is not None]


# -- checks ---------------------------------------------------------------------------------------------


def signature(*parts: str) -> str:
    """WeChat's signature: sha1 of the sorted parts (token, timestamp, nonce[, ciphertext])."""
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


def same(expected: str, given) -> bool:
    # wechatpy compares with `!=`; a constant-time comparison does not tell how much of a guess was right.
    return hmac.compare_digest(expected.encode(), str(given or "").encode())


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _nonce_key(account_id: int, nonce: str) -> str:
    return f"publishing:wechat-nonce:{account_id}:{nonce}"


def _fresh(account, params) -> HttpResponse | None:
    """Refuse a call whose timestamp is off or whose nonce was seen; records the nonce (SET NX: two
    racing replays cannot both pass). Asked only after the signature matched."""
    sent_at = _int(params.get("timestamp"))
    if sent_at is None or abs(time.time() - sent_at) > CALLBACK_MAX_SKEW_SECONDS:
        return HttpResponseForbidden("timestamp too far from now")
    nonce = params.get("nonce", "")
    if not nonce or len(nonce) > NONCE_MAX_LENGTH:
        return HttpResponseBadRequest("bad nonce")
    if not redis_client.client().set(_nonce_key(account.pk, nonce), b"1", nx=True, ex=NONCE_KEEP_SECONDS):
        return HttpResponseForbidden("nonce already used")
    return None


def safe_xml(data: bytes | str) -> dict | None:
    """The <xml> element of a push as a dict, or None when it is not well-formed or not a push.
    No DTD at all (so no entities, no external references); expat never fetches anything."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    if "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
        return None
    try:
        parsed = xmltodict.parse(text, disable_entities=True)
    except Exception:  # noqa: BLE001 - expat's and xmltodict's errors alike: malformed input from outside
        return None
    root = parsed.get("xml") if isinstance(parsed, dict) else None
    return root if isinstance(root, dict) else None


# -- answers --------------------------------------------------------------------------------------------


def answer_for(account: ChannelAccount | CallbackAccount, message) -> BaseReply | None:
    """The passive reply to a follower's message or event (a wechatpy reply), or None for no answer.

    THE HOOK FOR THE ANSWER LIBRARY (口径库): this runs inside WeChat's 5 seconds, so it may read only
    memory (the account's settings from `callback_account`, an in-process matcher); never the database. A text
    message the library (answers/replies.py) knows gets the library's answer; a new follower gets the
    account's welcome message, a text message it does not know the account's acknowledgement (a person
    will answer), and every other message (known type or not) the account's default reply.
    """
    raw = getattr(message, "_data", {})  # wechatpy turns an event it does not know into type "unknown"
    if message.type == "event" or str(raw.get("MsgType", "")).lower() == "event":
        event = str(getattr(message, "event", None) or raw.get("Event") or "").lower()
        if event in WELCOME_EVENTS:
            return text_reply(message, account.wechat_welcome_text or account.wechat_default_reply)
        if event in SILENT_EVENTS:
            return None
    if message.type == "text":
        reply = library_reply(account, message)
        if reply is not None:
            return reply
        # Nobody's answer yet: the message becomes a citizen message (publishing/wechat_cases.py, after
        # the reply), and the follower is told when a person will answer.
        return text_reply(message, account.wechat_acknowledgement or account.wechat_default_reply)
    return text_reply(message, account.wechat_default_reply)


def text_reply(message, content: str) -> TextReply | None:
    return TextReply(message=message, content=content) if content else None


def news_reply(message, *, title: str, description: str = "", image: str = "", url: str = "") -> ArticlesReply:
    """A news reply: one article, WeChat's rule since 2018 (wechatpy's ArticlesReply allows ten)."""
    reply = ArticlesReply(message=message)
    reply.add_article({"title": title, "description": description, "image": image, "url": url})
    return reply


def render_reply(reply: BaseReply | None) -> str:
    """The reply's XML ("" for none). A news reply with more than one article keeps only the first:
    WeChat would drop the whole answer."""
    if reply is None:
        return ""
    if isinstance(reply, ArticlesReply) and len(reply.articles) > 1:
        logger.warning("A passive news reply carried %s articles; only the first is sent", len(reply.articles))
        reply.articles = reply.articles[:1]
    return reply.render()


def dedupe_key(fields: dict) -> str:
    """What makes WeChat's retry of one push the same push: MsgId for messages, sender + time + event
    for events (which have no MsgId)."""
    sender, created = str(fields.get("FromUserName", "")), str(fields.get("CreateTime", ""))
    if str(fields.get("MsgType", "")).lower() == "event":
        return f"event:{sender}:{created}:{fields.get('Event', '')}:{fields.get('EventKey') or ''}"
    msg_id = fields.get("MsgId") or fields.get("MsgID")
    return f"msg:{msg_id}" if msg_id else f"msg:{sender}:{created}"


def _dedupe_redis_key(account_id: int, key: str) -> str:
    return f"publishing:wechat-push:{account_id}:{hashlib.sha256(key.encode()).hexdigest()}"


# -- the view -------------------------------------------------------------------------------------------


@csrf_exempt
def callback(request, account_id):
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    account = callback_account(account_id)
    if account is None:
        raise Http404
    params = request.GET
    if not account.wechat_token:
        # Without a token the signature is a hash of public values: anyone could forge it.
        return HttpResponseForbidden("no callback token configured")
    if request.method == "GET":
        if not same(signature(account.wechat_token, params.get("timestamp", ""), params.get("nonce", "")),
                    params.get("signature")):  # fmt: skip
            return HttpResponseForbidden("invalid signature")
        return _fresh(account, params) or HttpResponse(params.get("echostr", ""), content_type="text/plain")
    length = _int(request.META.get("CONTENT_LENGTH")) or 0
    if length > MAX_BODY_BYTES:
        return HttpResponse("too large", status=413, content_type="text/plain")
    body = request.body
    if len(body) > MAX_BODY_BYTES:
        return HttpResponse("too large", status=413, content_type="text/plain")
    return _push(account, params, body)


def _push(account, params, body: bytes) -> HttpResponse:
    encrypt_type = params.get("encrypt_type", "raw")
    if encrypt_type not in ("raw", "aes"):
        return HttpResponseBadRequest("unknown encrypt_type")
    timestamp, nonce = params.get("timestamp", ""), params.get("nonce", "")
    if encrypt_type == "aes":
        keys = _usable_keys(account)
        if not keys:
            logger.warning("WeChat account %s got an encrypted push but has no usable EncodingAESKey", account.pk)
            return HttpResponseForbidden("encrypted push refused: no EncodingAESKey configured for this account")
        envelope = safe_xml(body)
        if envelope is None:
            return HttpResponseBadRequest("malformed XML")
        ciphertext = envelope.get("Encrypt")
        if not isinstance(ciphertext, str) or not ciphertext:
            return HttpResponseBadRequest("no Encrypt element")
        if not same(signature(account.wechat_token, timestamp, nonce, ciphertext), params.get("msg_signature")):
            return HttpResponseForbidden("invalid msg_signature")
    else:
        if account.wechat_encryption_mode == WeChatEncryptionMode.SAFE:
            return HttpResponseForbidden("unencrypted push refused: the account is in safe mode")
        if not same(signature(account.wechat_token, timestamp, nonce), params.get("signature")):
            return HttpResponseForbidden("invalid signature")
    refusal = _fresh(account, params)
    if refusal is not None:
        return refusal
    try:
        return _take_in(account, body, ciphertext if encrypt_type == "aes" else None)
    except Exception:
        # A push that was never taken in must not turn its retry into a "replay".
        redis_client.client().delete(_nonce_key(account.pk, nonce))
        raise


def _decrypt(account, ciphertext: str) -> tuple[bytes, str] | None:
    """The plaintext and the key that opened it: the current key first, then the previous one."""
    for key in _usable_keys(account):
        try:
            return PrpCrypto(aes_key_bytes(key)).decrypt(ciphertext, account.wechat_app_id), key
        except Exception:  # noqa: BLE001, S112 - wrong key, wrong AppID or broken padding: try the next key
            continue
    return None


def _take_in(account, body: bytes, ciphertext: str | None) -> HttpResponse:
    key = None
    if ciphertext is not None:
        opened = _decrypt(account, ciphertext)
        if opened is None:
            return HttpResponseForbidden("cannot decrypt")
        body, key = opened
    fields = safe_xml(body)
    if fields is None or not fields.get("MsgType") or not fields.get("FromUserName"):
        return HttpResponseBadRequest("malformed XML")
    try:
        message = parse_message(body)
    except Exception:  # noqa: BLE001 - a field of the wrong shape inside well-formed XML
        return HttpResponseBadRequest("malformed message")
    received_at = timezone.now()
    push_key = dedupe_key(fields)
    store = redis_client.client()
    redis_key = _dedupe_redis_key(account.pk, push_key)
    if not store.set(redis_key, PENDING, nx=True, ex=DEDUPE_KEEP_SECONDS):
        # WeChat's retry of a push we already have: the same answer again, or "success" (no answer,
        # stop retrying) while the first try is still being answered.
        cached = store.get(redis_key)
        reply_xml = "" if cached in (None, PENDING) else cached.decode()
        return _respond(account, reply_xml, key)
    try:
        reply = answer_for(account, message)
        reply_xml = render_reply(reply)
        if str(fields.get("Event", "")).upper() == "MASSSENDJOBFINISH":
            # The existing delivery report: idempotent, so WeChat's retries just write the same numbers again.
            # This event writes to the database anyway; nobody waits for an answer to it.
            from publishing.services import delivery_record_report_from_push

            delivery_record_report_from_push(account_id=account.pk, fields=fields)
    except Exception:
        # Not taken in: WeChat's retry must be handled afresh, not answered "success" from the marker.
        store.delete(redis_key)
        raise
    store.set(redis_key, reply_xml.encode(), ex=DEDUPE_KEEP_SECONDS)
    # Answered automatically means answered by the library: the welcome, the default reply and the
    # acknowledgement of a message handed to a person answer nothing (the answer library's statistics).
    entry_id = getattr(reply, "library_entry_id", None)
    _enqueue_storing(account, fields, push_key, received_at, answered=entry_id is not None, library_entry_id=entry_id)
    return _respond(account, reply_xml, key)


def _enqueue_storing(account, fields, push_key, received_at, *, answered, library_entry_id=None):
    from publishing.tasks import store_inbound_message

    try:
        store_inbound_message.delay(
            account_id=account.pk,
            fields=fields,
            dedupe_key=push_key,
            received_at=received_at.isoformat(),
            answered_automatically=answered,
            library_entry_id=library_entry_id,
        )
    except Exception:
        # The follower still gets the answer; the message is missing from the records (logged).
        logger.exception("Could not enqueue storing WeChat push %s of account %s", push_key, account.pk)


def _respond(account, reply_xml: str, key: str | None) -> HttpResponse:
    if not reply_xml:
        # "success" (or an empty body) tells WeChat the push arrived and stops its retries.
        return HttpResponse("success", content_type="text/plain")
    if key is not None:
        # Answer with the key that opened the push (WeChat's advice during a key rotation).
        crypto = WeChatCrypto(account.wechat_token, key, account.wechat_app_id)
        reply_xml = crypto.encrypt_message(reply_xml, secrets.token_hex(8), str(int(time.time())))
    return HttpResponse(reply_xml, content_type="application/xml; charset=utf-8")


def create_time(fields: dict) -> datetime | None:
    seconds = _int(fields.get("CreateTime"))
    return datetime.fromtimestamp(seconds, tz=UTC) if seconds is not None and seconds >= 0 else None
