"""The WeChat Official Account API as our channels use it: wechatpy's client plus what 1.8.18 lacks.

wechatpy 1.8.18 has no draft/add, no stable_token and no tag-based mass send (its
send_mass_article sends group_id); its fetch_access_token goes to the official host whatever
API_BASE_URL says; its session storages cache the token without a lock; and its auto_retry on
40001/40014/42001 re-enters _request without bound and re-sends already-read upload files.
GovWeChatClient fills those gaps through wechatpy's own extension points (API classes,
fetch_access_token, _request), so the rest of wechatpy (media, material, ...) keeps working.

Errors: every failure is a WeChatAPIError with `code` (WeChat's errcode, or None when no usable
answer came: network error, timeout, HTTP error, non-JSON body) and `transient`.
"""

import logging
import mimetypes
import time

import requests
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from redis.exceptions import LockError
from redis.lock import Lock
from wechatpy import WeChatClient
from wechatpy.client.api.base import BaseWeChatAPI
from wechatpy.exceptions import WeChatClientException
from wechatpy.session.redisstorage import RedisStorage
from wechatpy.utils import json

logger = logging.getLogger(__name__)

OFFICIAL_API_BASE_URL = "https://api.weixin.qq.com/"
TIMEOUT = (5, 30)  # (connect, read) seconds, for every call including the token fetch
SESSION_PREFIX = "govcms:wechat"
TOKEN_LIFETIME = 7200
# The cached token disappears from Redis this long before WeChat's expiry, for every process at
# once (wechatpy keeps the same 60 s margin, but only in one process's memory).
TOKEN_EARLY_EXPIRY = 60
TOKEN_MEMO_SECONDS = 20  # must stay below TOKEN_EARLY_EXPIRY
TOKEN_LOCK_TIMEOUT = 15  # a crashed holder blocks the others at most this long
TOKEN_LOCK_WAIT = 40  # longer than one fetch at its worst (5 s connect + 30 s read)

TOKEN_ERROR_CODES = frozenset({40001, 40014, 42001})
DUPLICATE_CLIENTMSGID = 45065
TRANSIENT_CODES = frozenset({-1, 45009, 45066})
RATE_LIMIT_CODES = frozenset({45009})  # API call limits: they clear slowly
NO_MASS_SEND_QUOTA = 45028
# Customer-service messages (message/custom/send): the window after the follower's last message is closed, or
# its message count is used up. Both clear with the follower's next message.
SERVICE_WINDOW_CLOSED, SERVICE_COUNT_USED_UP = 45015, 45047
# Known codes where retrying cannot help; any other code is treated the same way (a person looks).
PERMANENT_CODES = frozenset(
    {
        40001,
        40003,
        40005,
        40007,
        40009,
        40013,
        40097,
        40125,
        40164,
        42001,
        43004,
        44003,
        45002,
        45003,
        45004,
        45005,
        45008,
        45028,
        45067,
        45110,
        45159,
        47001,
        48001,
    }
)

EXPLANATIONS = {
    None: _("WeChat could not be reached or gave no usable answer (network error or timeout)."),
    -1: _("WeChat was busy (-1)."),
    40001: _(
        "WeChat refused the access token even after a refresh (40001); make sure no other system fetches tokens for this account."
    ),
    40003: _("WeChat does not know this follower's openid for this account (40003)."),
    40005: _("WeChat accepts only JPEG or PNG images here (40005)."),
    40007: _(
        "WeChat does not know this media id (40007): the cover, draft or message is missing or belongs to another account."
    ),
    40009: _("An image is larger than WeChat accepts (40009): body images under 1 MB, covers under 10 MB."),
    40013: _("WeChat does not know this AppID (40013); check the account settings."),
    40097: _("WeChat refused a parameter of the request (40097)."),
    40125: _("The AppSecret is wrong (40125); check the account settings."),
    40164: _("This server's IP address is not on the account's IP allowlist in the WeChat console (40164)."),
    42001: _("The WeChat access token expired (42001)."),
    43004: _("The follower has unfollowed the account (43004): WeChat delivers nothing to them."),
    44003: _("An article has no title or no body (44003)."),
    45002: _("An article body is too long for WeChat: under 20,000 characters and 1 MB (45002)."),
    45003: _("An article title is longer than WeChat allows: at most 32 characters (45003)."),
    45004: _("An article digest is longer than WeChat allows: at most 128 characters (45004)."),
    45005: _("An article's original-source link is longer than WeChat allows: at most 1 KB (45005)."),
    45008: _("WeChat takes 1 to 8 articles in one mass-send (45008)."),
    45009: _("WeChat's API call limit was reached (45009)."),
    45015: _("The follower last wrote to the account too long ago, or has unfollowed it (45015)."),
    45028: _("WeChat has no mass-send quota left for this account in this period (45028)."),
    45047: _("The customer-service messages WeChat allows since the follower's last message are used up (45047)."),
    45065: _("WeChat already received this mass-send in the last 24 hours (45065)."),
    45066: _("The mass-send was retried too quickly (45066)."),
    45067: _("The mass-send id is longer than WeChat accepts: at most 64 bytes (45067)."),
    45110: _("An article author is longer than WeChat allows: at most 16 characters (45110)."),
    45159: _("WeChat does not know this tag (45159); check the tag id."),
    47001: _("WeChat could not read the request (47001)."),
    48001: _(
        "This account may not use this WeChat API (48001): mass-sending and customer-service messages need a "
        "verified account with that permission."
    ),
}


def is_transient(code: int | None) -> bool:
    """No usable answer, or a code WeChat documents as 'busy' / 'too fast': worth retrying later."""
    return code is None or code in TRANSIENT_CODES


def explain(code: int | None) -> str:
    """A short explanation of a WeChat error code for the person who scheduled the send."""
    message = EXPLANATIONS.get(code)
    if message is None:
        return gettext("WeChat answered with error %(code)s.") % {"code": code}
    return str(message)


class WeChatAPIError(WeChatClientException):
    """A failed WeChat call. `result` is WeChat's JSON answer when there was one."""

    def __init__(self, code, message, *, result=None, client=None, request=None, response=None):
        super().__init__(code, message, client=client, request=request, response=response)
        self.result = result or {}

    @property
    def code(self) -> int | None:
        return self.errcode

    @property
    def message(self) -> str:
        return self.errmsg or ""

    @property
    def transient(self) -> bool:
        return is_transient(self.code)


def redis_session(redis_client, prefix: str = SESSION_PREFIX) -> RedisStorage:
    return RedisStorage(redis_client, prefix=prefix)


def cgi_bin_url(api_base_url: str) -> str:
    """wechatpy joins endpoints to a base ending in /cgi-bin/; accept the API root or that URL."""
    base = api_base_url.rstrip("/") + "/"
    return base if base.endswith("/cgi-bin/") else base + "cgi-bin/"


class _JSONAPI(BaseWeChatAPI):
    def _post_json(self, endpoint: str, data: dict) -> dict:
        result = self._post(endpoint, data=data)
        if not isinstance(result, dict):  # wechatpy hands back the raw response when the body is not JSON
            raise WeChatAPIError(None, f"{endpoint}: the answer was not JSON")
        return result


class WeChatDraft(_JSONAPI):
    """草稿箱 (draft/add): the articles of one mass-send."""

    def add(self, articles: list[dict]) -> str:
        """Store 1-8 articles (title, author, digest, content, content_source_url, thumb_media_id,
        need_open_comment, only_fans_can_comment) as a draft; returns its media_id."""
        return self._post_json("draft/add", {"articles": articles})["media_id"]


class WeChatMassSend(_JSONAPI):
    """群发 (message/mass/sendall, message/mass/get) with the tag filter wechatpy 1.8.18 lacks."""

    def send_all(self, media_id: str, *, tag_id: int | None = None, clientmsgid: str) -> dict:
        """Send a draft to all followers, or to one tag. Returns WeChat's answer (msg_id,
        msg_data_id) plus `duplicate`: True when WeChat already had this clientmsgid in the last
        24 hours (45065). Then nothing was sent again, and the answer holds the original send's
        msg_id (WeChat's 45065 answer carries no msg_data_id, so that key is then absent)."""
        audience = {"is_to_all": tag_id is None}
        if tag_id is not None:
            audience["tag_id"] = tag_id
        data = {
            "filter": audience,
            "mpnews": {"media_id": media_id},
            "msgtype": "mpnews",
            "send_ignore_reprint": 0,
            "clientmsgid": clientmsgid,
        }
        try:
            result = self._post_json("message/mass/sendall", data)
        except WeChatAPIError as error:
            if error.code != DUPLICATE_CLIENTMSGID:
                raise
            original = {key: error.result[key] for key in ("msg_id", "msg_data_id") if key in error.result}
            return {**original, "duplicate": True}
        return {**result, "duplicate": False}

    def get(self, msg_id: int | str) -> dict:
        """{"msg_id", "msg_status"}: SEND_SUCCESS, SENDING, SEND_FAIL or DELETE."""
        return self._post_json("message/mass/get", {"msg_id": msg_id})


def _content_type(filename: str) -> str:
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def _json_of(response) -> dict:
    try:
        result = response.json() if response is not None else {}
    except ValueError:
        return {}
    return result if isinstance(result, dict) else {}


class GovWeChatClient(WeChatClient):
    """wechatpy's WeChatClient for one account, against `api_base_url` (the official API or the sandbox).

    The access token lives in Redis (wechatpy's RedisStorage) and is fetched with stable_token
    under a Redis lock, so any number of processes share one token and fetch it once per expiry.
    """

    # Class-level API objects: wechatpy's BaseWeChatClient.__new__ binds a fresh one to each client.
    draft = WeChatDraft()
    mass = WeChatMassSend()

    def __init__(
        self,
        appid: str,
        secret: str,
        api_base_url: str = OFFICIAL_API_BASE_URL,
        session: RedisStorage | None = None,
        *,
        redis_client=None,
        timeout=TIMEOUT,
    ):
        if session is None and redis_client is not None:
            session = redis_session(redis_client)
        if not isinstance(session, RedisStorage):
            raise TypeError(
                "GovWeChatClient needs wechatpy's RedisStorage (or redis_client=): one token for all processes"
            )
        # auto_retry=False: _request below retries once instead of wechatpy's unbounded recursion.
        super().__init__(appid, secret, session=session, timeout=timeout, auto_retry=False)
        self.API_BASE_URL = cgi_bin_url(api_base_url)
        self._token_memo: tuple[str, float] | None = None

    # -- access token ---------------------------------------------------------------------------
    @property
    def access_token(self) -> str:
        # Remembered in the client for a few seconds (well inside the early expiry in Redis), so a
        # burst does not read Redis before every call. A token another process replaced meanwhile
        # is refused with 40001, and _request then takes the new one from Redis and retries once.
        now = time.monotonic()
        if self._token_memo and now < self._token_memo[1]:
            return self._token_memo[0]
        token = self.session.get(self.access_token_key) or self._obtain_token()
        self._token_memo = (token, now + TOKEN_MEMO_SECONDS)
        return token

    def fetch_access_token(self, force_refresh: bool = False) -> dict:
        """One stable_token call through API_BASE_URL; stores the token as wechatpy does. Takes no
        lock: use `access_token`, which does. force_refresh is limited by WeChat to 20 a day."""
        payload = {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret}
        payload["force_refresh"] = force_refresh
        try:
            response = self._http.post(
                self.API_BASE_URL + "stable_token", data=json.dumps(payload), timeout=self.timeout
            )
            response.raise_for_status()
        except requests.RequestException as error:
            raise WeChatAPIError(None, f"stable_token: {error}", client=self, response=error.response) from error
        result = self._decode_result(response)
        if not isinstance(result, dict) or not result.get("access_token"):
            result = result if isinstance(result, dict) else {}
            code = result.get("errcode")
            raise WeChatAPIError(code, result.get("errmsg", "stable_token: no token in the answer"), result=result)
        expires_in = int(result.get("expires_in", TOKEN_LIFETIME))
        self.session.set(self.access_token_key, result["access_token"], max(expires_in - TOKEN_EARLY_EXPIRY, 1))
        self.expires_at = int(time.time()) + expires_in
        return result

    def _obtain_token(self, rejected: str | None = None) -> str:
        """The cached token, fetched by whichever process gets the lock first; the others find it.

        With `rejected` (a token WeChat just refused), a normal fetch replaces it; only when WeChat
        hands back that very token is a forced refresh made, at most once per token, because
        WeChat allows 20 forced refreshes a day.
        """
        lock = Lock(
            self.session.redis,
            self.session.key_name(f"{self.appid}_token_lock"),
            timeout=TOKEN_LOCK_TIMEOUT,
            blocking_timeout=TOKEN_LOCK_WAIT,
        )
        if not lock.acquire():
            raise WeChatAPIError(None, "timed out waiting for another process to fetch the access token")
        try:
            cached = self.session.get(self.access_token_key)
            if cached and cached != rejected:
                return cached
            if cached:
                self.session.delete(self.access_token_key)
            token = self.fetch_access_token()["access_token"]
            forced_key = f"{self.appid}_forced_token"
            if rejected and token == rejected and self.session.get(forced_key) != rejected:
                logger.warning("WeChat %s: stable_token returned the refused token; forcing a refresh", self.appid)
                token = self.fetch_access_token(force_refresh=True)["access_token"]
                self.session.set(forced_key, token, TOKEN_LIFETIME)
            return token
        finally:
            try:
                lock.release()
            except LockError:
                # The lock expired under a slow fetch, or Redis was flushed meanwhile: nothing to release.
                # (redis-py's raise_on_release_error covers only its context manager.)
                logger.info("WeChat %s: the token lock was gone at release", self.appid)

    # -- requests -------------------------------------------------------------------------------
    def _request(self, method, url_or_endpoint, **kwargs):
        """wechatpy's _request with WeChatAPIError for every failure and one retry after a token error."""
        params = kwargs.setdefault("params", {})
        if isinstance(params, dict) and "access_token" not in params:
            params["access_token"] = self.access_token
        try:
            return self._request_once(method, url_or_endpoint, **kwargs)
        except WeChatAPIError as error:
            if error.code not in TOKEN_ERROR_CODES or not isinstance(params, dict):
                raise
            refused = params["access_token"]
            self._token_memo = None
            fresh = self._obtain_token(rejected=refused)
            if fresh == refused:
                raise  # WeChat keeps refusing the only token it gives us: retrying cannot help
            logger.info("WeChat %s: access token refused (%s); retrying once with a new one", self.appid, error.code)
        params["access_token"] = fresh
        for upload in (kwargs.get("files") or {}).values():
            handle = upload[1] if isinstance(upload, tuple) else upload
            if hasattr(handle, "seek"):
                handle.seek(0)  # the first attempt read the file to its end
        return self._request_once(method, url_or_endpoint, **kwargs)

    def _request_once(self, method, url_or_endpoint, **kwargs):
        try:
            return super()._request(method, url_or_endpoint, **kwargs)
        except WeChatAPIError:
            raise
        except WeChatClientException as error:  # includes APILimitedException (45009)
            message = error.errmsg
            if error.errcode is None and error.response is not None:
                message = f"HTTP {error.response.status_code}"
            raise WeChatAPIError(
                error.errcode,
                message or "HTTP error",
                result=_json_of(error.response),
                client=self,
                request=error.request,
                response=error.response,
            ) from error
        except requests.RequestException as error:
            raise WeChatAPIError(
                None, f"{type(error).__name__}: {error}", client=self, response=error.response
            ) from error

    # -- images, through wechatpy's own media and material APIs ----------------------------------
    def upload_body_image(self, data: bytes, filename: str) -> str:
        """media/uploadimg: an image for an article body (JPEG/PNG under 1 MB); returns its URL."""
        url = self.media.upload_image((filename, data, _content_type(filename)))
        if not isinstance(url, str):
            raise WeChatAPIError(None, "media/uploadimg: the answer was not JSON")
        return url

    def add_image_material(self, data: bytes, filename: str, media_type: str = "image") -> tuple[str, str]:
        """material/add_material: a permanent image, e.g. a draft's thumb_media_id; returns (media_id, url)."""
        result = self.material.add(media_type, (filename, data, _content_type(filename)))
        if not isinstance(result, dict) or "media_id" not in result:
            raise WeChatAPIError(None, "material/add_material: the answer had no media_id")
        return result["media_id"], result.get("url", "")
