"""An offline stand-in for the WeChat Official Account API and the Sina Weibo API.

Plain stdlib and no Django, so it runs on its own (`python -m publishing.sandbox`) for the demo,
in a thread for the tests, and in drills. It keeps the platform rules our channels depend on
(field limits, mass-send quotas, clientmsgid de-duplication, token expiry, Weibo's length and
safe-domain rules, rate limits) and records everything it receives, so tests can assert what
reached "the platform". Control endpoints under /_sandbox/ register accounts, move the clock
and inject faults.

Choices where the real platform is undocumented are marked "sandbox choice" below.
"""

import copy
import hashlib
import json
import logging
import math
import os
import random
import re
import secrets
import socketserver
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime
from urllib.parse import parse_qs, urlencode, urlsplit
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer, make_server
from zoneinfo import ZoneInfo

logger = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")
TOKEN_LIFETIME = 7200
STABLE_TOKEN_RENEW_BEFORE = 300  # stable_token hands out a new token only in the last 5 minutes
CLIENTMSGID_WINDOW = 24 * 3600
CLIENTMSGID_MAX_BYTES = 64
# Mass-send quota per account type: (calendar period in Asia/Shanghai, sends per period).
MASS_SEND_QUOTA = {"subscription": ("day", 1), "service": ("month", 4)}
UPLOADIMG_MAX_BYTES = 1024 * 1024
MATERIAL_MAX_BYTES = {"image": 10 * 1024 * 1024, "thumb": 64 * 1024}
MATERIAL_TYPES = {"image": {"jpg", "png", "gif", "bmp"}, "thumb": {"jpg"}}
ARTICLE_FIELDS = (
    "title",
    "author",
    "digest",
    "content",
    "content_source_url",
    "thumb_media_id",
    "need_open_comment",
    "only_fans_can_comment",
)
WEIBO_TEXT_MAX = 140
WEIBO_RATE_LIMIT = 30  # posts per access token per rolling hour
WEIBO_PIC_MAX_BYTES = 5 * 1024 * 1024
WEIBO_URL_WEIGHT = 20  # a link counts as a t.cn short link of 20 ASCII characters
URL = re.compile(r"https?://[!-~]+")
TOPIC = re.compile(r"#[^#\s]+#")

DEFAULT_CONFIG = {
    "token_overlap_seconds": 300,  # a replaced cgi-bin/token keeps working this long
    "callback_delay_seconds": 1.0,  # time between sendall and the MASSSENDJOBFINISH event
    "callback_attempts": 3,  # WeChat tries a callback 3 times in all
    "callback_retry_seconds": 1.0,
    "callback_timeout_seconds": 5.0,  # WeChat gives a server 5 s to answer
}

FAULT_DEFAULTS = {
    "error_rate": 0.0,
    "errors": [-1],
    "weibo_errors": [],  # codes for Weibo paths (/2/...); empty: use "errors" there too
    "latency_ms": 0,
    "slow_rate": 0.0,
    "slow_ms": 5000,
    "drop_rate": 0.0,
    "drop_after_action": False,
    "seed": None,
    "paths": [],  # empty: every platform path (never the /_sandbox/ ones)
    "limit": None,  # stop injecting errors and drops after this many
}

WECHAT_ERRMSG = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40004: "invalid media type",
    40005: "invalid file type",
    40007: "invalid media_id",
    40008: "invalid message type",
    40009: "invalid image size",
    40013: "invalid appid",
    40097: "invalid args",
    40125: "invalid appsecret",
    41005: "media data missing",
    42001: "access_token expired",
    44003: "empty news data",
    45002: "content size out of limit",
    45003: "title size out of limit",
    45004: "description size out of limit",
    45005: "url size out of limit",
    45008: "article size out of limit",
    45009: "reach max api daily quota limit",
    45028: "has no masssend quota",
    45065: "clientmsgid exist",
    45066: "same clientmsgid retry too fast",
    45067: "clientmsgid size out of limit",
    45110: "author size out of limit",
    45159: "invalid tag_id",
    47001: "data format error",
}

WEIBO_ERROR = {
    10001: "System error",
    10009: "Too many pending tasks, system is busy",
    10017: "Parameter (status)'s value invalid",
    20005: "Unsupported image type, only suport JPG, GIF, PNG!",
    20006: "Image size too large",
    20008: "Content is null!",
    20012: "Text too long, please input text less than 140 characters!",
    20016: "Out of rate limit",
    20019: "Repeat conetnt!",
    21332: "invalid_access_token",
}


class WeChatError(Exception):
    def __init__(self, code, message=None, **extra):
        super().__init__(code)
        self.code, self.message, self.extra = code, message or WECHAT_ERRMSG.get(code, "error"), extra


class WeiboError(Exception):
    def __init__(self, code, message=None):
        super().__init__(code)
        self.code, self.message = code, message or WEIBO_ERROR.get(code, "error")


class ControlError(Exception):
    """A bad request to a /_sandbox/ endpoint."""


class DropConnection(Exception):
    """Raised to close the connection without an answer (see SandboxServerHandler)."""


def sandbox_weibo_length(text):
    """Weibo's count, as its web page does it: bytes with wide characters counting 2, halved and rounded up."""
    text = URL.sub("x" * WEIBO_URL_WEIGHT, text)
    units = sum(1 if ord(char) < 128 else len(char.encode("utf-16-le")) for char in text)
    return math.ceil(units / 2)


def image_kind(data):
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data.startswith(b"BM"):
        return "bmp"
    return None


def sign(token, timestamp, nonce):
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()  # noqa: S324 (WeChat's rule)


class Request:
    def __init__(self, environ):
        self.method = environ["REQUEST_METHOD"]
        self.path = environ.get("PATH_INFO", "") or "/"
        self.query = {key: values[0] for key, values in parse_qs(environ.get("QUERY_STRING", "")).items()}
        self.content_type = environ.get("CONTENT_TYPE", "")
        self.authorization = environ.get("HTTP_AUTHORIZATION", "")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        self.body = environ["wsgi.input"].read(length) if length else b""
        self._form = None

    def json(self):
        try:
            data = json.loads(self.body.decode("utf-8") or "{}")
        except (UnicodeDecodeError, ValueError) as error:
            raise WeChatError(47001) from error
        if not isinstance(data, dict):
            raise WeChatError(47001)
        return data

    def form(self):
        """(fields, files) from a urlencoded or multipart body; files map a name to (filename, bytes)."""
        if self._form is None:
            fields, files = {}, {}
            if self.content_type.startswith("multipart/form-data"):
                boundary = re.search(r'boundary="?([^";]+)"?', self.content_type)
                for part in self.body.split(b"--" + boundary.group(1).encode())[1:-1] if boundary else []:
                    head, _, data = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
                    head = head.decode("utf-8", "replace")
                    name = re.search(r'\bname="([^"]*)"', head)
                    filename = re.search(r'\bfilename="([^"]*)"', head)
                    data = data.removesuffix(b"\r\n")
                    if not name:
                        continue
                    if filename:
                        files[name.group(1)] = (filename.group(1), data)
                    else:
                        fields[name.group(1)] = data.decode("utf-8", "replace")
            else:
                fields = {key: values[0] for key, values in parse_qs(self.body.decode("utf-8", "replace")).items()}
            self._form = (fields, files)
        return self._form


def route(method, path, *, mutates=True):
    def mark(function):
        function.route = (method, path, mutates)
        return function

    return mark


class SandboxApp:
    """The WSGI application. All state is one JSON-able dict behind one lock."""

    def __init__(self, *, state_file=None, **config):
        unknown = set(config) - set(DEFAULT_CONFIG)
        if unknown:
            raise TypeError(f"unknown sandbox settings: {sorted(unknown)}")
        self.initial_config = {**DEFAULT_CONFIG, **config}
        self.state_file = state_file
        self.lock = threading.RLock()
        self.generation = 0  # bumped by reset, so callbacks of an earlier life are not delivered
        self.routes = {}
        for name in dir(self):
            handler = getattr(self, name)
            if callable(handler) and hasattr(handler, "route"):
                method, path, mutates = handler.route
                self.routes[(method, path)] = (handler, mutates)
        self._reset_state()
        if state_file and os.path.exists(state_file):
            with open(state_file, encoding="utf-8") as handle:
                self.state.update(json.load(handle))
            self.rng = random.Random(self.state["faults"].get("seed"))  # noqa: S311 (fault injection, not crypto)
        self._index_sends()

    def _index_sends(self):
        # Each send looks up its account's earlier sends (clientmsgid, quota): an index per appid keeps
        # a burst of thousands of sends linear instead of quadratic.
        self.sends_by_appid = {}
        for send in self.state["mass_sends"]:
            self.sends_by_appid.setdefault(send["appid"], []).append(send)

    # -- plumbing ---------------------------------------------------------------------------------
    def _reset_state(self):
        self.state = {
            "config": dict(self.initial_config),
            "clock_offset_seconds": 0,
            "counter": 0,
            "requests": {},  # per path, the requests the handlers answered (injected faults not counted)
            "accounts": {},
            "tokens": {},
            "current_token": {},
            "current_stable_token": {},
            "token_fetches": {},
            "stable_token_calls": {},
            "stable_token_force_refreshes": {},
            "uploaded_images": [],
            "materials": {},
            "drafts": {},
            "mass_sends": [],
            "callbacks": [],
            "weibo_apps": {},
            "weibo_posts": [],
            "faults": {},
            "faults_injected": [],
        }
        self.rng = random.Random()  # noqa: S311
        self.sends_by_appid = {}

    def now(self):
        return time.time() + self.state["clock_offset_seconds"]

    def next_number(self):
        self.state["counter"] += 1
        return self.state["counter"]

    def save(self):
        """Write the state atomically: a crash mid-write leaves the previous file intact."""
        if not self.state_file:
            return
        directory = os.path.dirname(os.path.abspath(self.state_file))
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=".sandbox-state-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(self.state, out, ensure_ascii=False)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.state_file)
        except BaseException:
            os.unlink(temporary)
            raise

    def __call__(self, environ, start_response):
        request = Request(environ)
        entry = self.routes.get((request.method, request.path))
        if entry is None:
            return respond(start_response, 404, {"error": "not found", "path": request.path})
        handler, mutates = entry
        fault = {} if request.path.startswith("/_sandbox/") else self._draw_fault(request.path)
        if fault.get("delay"):
            time.sleep(fault["delay"])
        if fault.get("action") == "drop":
            raise DropConnection
        if fault.get("action") == "error":
            status, payload = error_answer(request.path, fault["code"])
        else:
            with self.lock:
                self.state["requests"][request.path] = self.state["requests"].get(request.path, 0) + 1
                try:
                    status, payload = 200, handler(request)
                except WeChatError as error:
                    status, payload = 200, {"errcode": error.code, "errmsg": error.message, **error.extra}
                except WeiboError as error:
                    status, payload = weibo_error_answer(request.path, error.code, error.message)
                except ControlError as error:
                    status, payload = 400, {"error": str(error)}
                if mutates:
                    self.save()
            if fault.get("action") == "drop_after":
                raise DropConnection
        return respond(start_response, status, payload)

    def _draw_fault(self, path):
        with self.lock:
            faults = self.state["faults"]
            if not faults or (faults["paths"] and path not in faults["paths"]):
                return {}
            fault = {"delay": faults["latency_ms"] / 1000}
            if self.rng.random() < faults["slow_rate"]:
                fault["delay"] += faults["slow_ms"] / 1000
            if faults["limit"] is not None and len(self.state["faults_injected"]) >= faults["limit"]:
                return fault
            if self.rng.random() < faults["drop_rate"]:
                fault["action"] = "drop_after" if faults["drop_after_action"] else "drop"
            elif self.rng.random() < faults["error_rate"]:
                codes = faults["errors"]
                if path.startswith("/2/") and faults["weibo_errors"]:
                    codes = faults["weibo_errors"]
                fault.update(action="error", code=self.rng.choice(codes))
            if "action" in fault:
                self.state["faults_injected"].append(
                    {"path": path, "action": fault["action"], "code": fault.get("code"), "at": self.now()}
                )
                self.save()
            return fault

    # -- WeChat: access tokens ---------------------------------------------------------------------
    def _account(self, appid):
        account = self.state["accounts"].get(appid)
        if account is None:
            raise WeChatError(40013)
        return account

    def _issue_token(self, appid, kind):
        token = f"SANDBOX_{kind.upper()}_{secrets.token_urlsafe(24)}"
        self.state["tokens"][token] = {"appid": appid, "kind": kind, "expires_at": self.now() + TOKEN_LIFETIME}
        return token

    def _account_for_token(self, token):
        record = self.state["tokens"].get(token or "")
        if record is None or record["appid"] not in self.state["accounts"]:
            raise WeChatError(40001)
        if self.now() >= record["expires_at"]:
            raise WeChatError(40001 if record.get("replaced") else 42001)
        return self.state["accounts"][record["appid"]]

    @route("GET", "/cgi-bin/token")
    def wechat_token(self, request):
        if request.query.get("grant_type") != "client_credential":
            raise WeChatError(40002)
        appid = request.query.get("appid", "")
        account = self._account(appid)
        if request.query.get("secret") != account["secret"]:
            raise WeChatError(40125)
        fetches = self.state["token_fetches"]
        fetches[appid] = fetches.get(appid, 0) + 1
        previous = self.state["tokens"].get(self.state["current_token"].get(appid, ""))
        if previous:
            overlap_end = self.now() + self.state["config"]["token_overlap_seconds"]
            previous.update(expires_at=min(previous["expires_at"], overlap_end), replaced=True)
        token = self.state["current_token"][appid] = self._issue_token(appid, "token")
        return {"access_token": token, "expires_in": TOKEN_LIFETIME}

    @route("POST", "/cgi-bin/stable_token")
    def wechat_stable_token(self, request):
        body = request.json()
        if body.get("grant_type") != "client_credential":
            raise WeChatError(40002)
        appid = str(body.get("appid", ""))
        account = self._account(appid)
        if body.get("secret") != account["secret"]:
            raise WeChatError(40125)
        calls = self.state["stable_token_calls"]
        calls[appid] = calls.get(appid, 0) + 1
        force = bool(body.get("force_refresh"))
        current = self.state["tokens"].get(self.state["current_stable_token"].get(appid, ""))
        remaining = current["expires_at"] - self.now() if current else 0
        if force or remaining < STABLE_TOKEN_RENEW_BEFORE:
            if force:
                forced = self.state["stable_token_force_refreshes"]
                forced[appid] = forced.get(appid, 0) + 1
                if current:  # a forced refresh ends the previous token at once
                    current.update(expires_at=self.now(), replaced=True)
            self.state["current_stable_token"][appid] = self._issue_token(appid, "stable")
            remaining = TOKEN_LIFETIME
        return {"access_token": self.state["current_stable_token"][appid], "expires_in": int(remaining)}

    # -- WeChat: images and materials ---------------------------------------------------------------
    def _uploaded_image(self, request, allowed, max_bytes):
        _, files = request.form()
        if "media" not in files:
            raise WeChatError(41005)
        filename, data = files["media"]
        kind = image_kind(data)
        if kind not in allowed:
            raise WeChatError(40005)
        if len(data) >= max_bytes:
            raise WeChatError(40009)
        return filename, kind, len(data)

    @route("POST", "/cgi-bin/media/uploadimg")
    def wechat_uploadimg(self, request):
        account = self._account_for_token(request.query.get("access_token"))
        filename, kind, size = self._uploaded_image(request, {"jpg", "png"}, UPLOADIMG_MAX_BYTES)
        url = f"http://mmbiz.qpic.cn/sandbox/{self.next_number()}.{kind}"
        self.state["uploaded_images"].append(
            {"appid": account["appid"], "filename": filename, "type": kind, "size": size, "url": url, "at": self.now()}
        )
        return {"url": url}

    @route("POST", "/cgi-bin/material/add_material")
    def wechat_add_material(self, request):
        account = self._account_for_token(request.query.get("access_token"))
        fields, _ = request.form()
        media_type = request.query.get("type") or fields.get("type", "")
        if media_type not in MATERIAL_TYPES:
            raise WeChatError(40004, "invalid media type (the sandbox keeps image and thumb only)")
        filename, kind, size = self._uploaded_image(request, MATERIAL_TYPES[media_type], MATERIAL_MAX_BYTES[media_type])
        number = self.next_number()
        media_id = f"SANDBOX_MATERIAL_{number}_{secrets.token_hex(6)}"
        url = f"http://mmbiz.qpic.cn/sandbox/material/{number}.{kind}"
        self.state["materials"][media_id] = {
            "appid": account["appid"],
            "type": media_type,
            "image_type": kind,
            "size": size,
            "filename": filename,
            "url": url,
            "at": self.now(),
        }
        return {"media_id": media_id, "url": url, "item": []}

    # -- WeChat: drafts and mass-send ------------------------------------------------------------------
    @route("POST", "/cgi-bin/draft/add")
    def wechat_draft_add(self, request):
        account = self._account_for_token(request.query.get("access_token"))
        articles = request.json().get("articles")
        if not isinstance(articles, list) or not articles:
            raise WeChatError(44003)
        if len(articles) > 8:
            raise WeChatError(45008)
        stored = [self._checked_article(account, article, index) for index, article in enumerate(articles)]
        media_id = f"SANDBOX_DRAFT_{self.next_number()}_{secrets.token_hex(6)}"
        self.state["drafts"][media_id] = {"appid": account["appid"], "articles": stored, "at": self.now()}
        return {"media_id": media_id}

    def _checked_article(self, account, article, index):
        def refuse(code, what):
            raise WeChatError(code, f"{WECHAT_ERRMSG[code]} (articles[{index}].{what})")

        if not isinstance(article, dict):
            refuse(47001, "*")
        article = {key: article[key] for key in ARTICLE_FIELDS if key in article}
        text = {key: str(article.get(key) or "") for key in ARTICLE_FIELDS[:5]}
        if not text["title"]:
            refuse(44003, "title")
        if len(text["title"]) > 32:
            refuse(45003, "title")
        if len(text["author"]) > 16:
            refuse(45110, "author")
        if len(text["digest"]) > 128:
            refuse(45004, "digest")
        if not text["content"]:
            refuse(44003, "content")
        # Characters are counted over the whole HTML, as our preflight does; whether WeChat counts only the
        # visible text is unconfirmed (if it does, the 1 MB limit is the one that binds for markup-heavy bodies).
        if len(text["content"]) >= 20_000 or len(text["content"].encode()) >= 1024 * 1024:
            refuse(45002, "content")
        if len(text["content_source_url"].encode()) > 1024:
            refuse(45005, "content_source_url")
        material = self.state["materials"].get(str(article.get("thumb_media_id") or ""))
        if material is None or material["appid"] != account["appid"]:
            refuse(40007, "thumb_media_id")
        for flag in ("need_open_comment", "only_fans_can_comment"):
            if article.get(flag, 0) not in (0, 1):
                refuse(40097, flag)
        return article

    def _quota_period(self, account, at):
        period, _ = MASS_SEND_QUOTA[account["type"]]
        local = datetime.fromtimestamp(at, SHANGHAI)
        return local.strftime("%Y-%m-%d" if period == "day" else "%Y-%m")

    @route("POST", "/cgi-bin/message/mass/sendall")
    def wechat_mass_sendall(self, request):
        account = self._account_for_token(request.query.get("access_token"))
        appid, body, now = account["appid"], request.json(), self.now()
        audience = body.get("filter") or {}
        is_to_all, tag_id = bool(audience.get("is_to_all")), audience.get("tag_id")
        media_id = str((body.get("mpnews") or {}).get("media_id") or "")
        if body.get("msgtype") != "mpnews":
            raise WeChatError(40008, "invalid message type (the sandbox keeps mpnews only)")
        clientmsgid = body.get("clientmsgid")
        if clientmsgid is None:
            # WeChat derives an id from the scope and content, so an identical resend is refused too.
            scope = json.dumps([is_to_all, tag_id, media_id])
            clientmsgid = "derived-" + hashlib.sha256(scope.encode()).hexdigest()[:32]
        elif len(str(clientmsgid).encode()) > CLIENTMSGID_MAX_BYTES:
            raise WeChatError(45067)
        clientmsgid = str(clientmsgid)
        for earlier in self.sends_by_appid.get(appid, []):
            if earlier["clientmsgid"] == clientmsgid:
                if now - earlier["sent_at"] < CLIENTMSGID_WINDOW:
                    # As WeChat answers in the wild: the original msg_id, but no msg_data_id.
                    raise WeChatError(45065, msg_id=earlier["msg_id"])
        draft = self.state["drafts"].get(media_id)
        if draft is None or draft["appid"] != appid:
            raise WeChatError(40007)
        if is_to_all:
            audience_size = account["followers"]
        elif tag_id is None:
            raise WeChatError(40097, "invalid args (filter needs is_to_all or tag_id)")
        elif str(tag_id) in account["tags"]:
            audience_size = account["tags"][str(tag_id)]
        else:
            raise WeChatError(45159)
        period = self._quota_period(account, now)
        used = sum(1 for send in self.sends_by_appid.get(appid, []) if send["quota_period"] == period)
        # A per-account "quota" overrides the platform's (load tests send many times per account).
        if used >= (account.get("quota") or MASS_SEND_QUOTA[account["type"]][1]):
            raise WeChatError(45028)
        number = self.next_number()
        send = {
            "appid": appid,
            "msg_id": 1_000_000_000 + number,
            "msg_data_id": 2_247_483_648 + number,
            "clientmsgid": clientmsgid,
            "media_id": media_id,
            "articles": copy.deepcopy(draft["articles"]),
            "filter": audience,
            "is_to_all": is_to_all,
            "tag_id": tag_id,
            "send_ignore_reprint": body.get("send_ignore_reprint", 0),
            "sent_at": now,
            "quota_period": period,
            "status": account["report_status"],
            "audience_size": audience_size,
        }
        self.state["mass_sends"].append(send)
        self.sends_by_appid.setdefault(appid, []).append(send)
        if account["callback_url"]:
            self._schedule_callback(account, send)
        return {
            "errcode": 0,
            "errmsg": "send job submission success",
            "msg_id": send["msg_id"],
            "msg_data_id": send["msg_data_id"],
        }

    @route("POST", "/cgi-bin/message/mass/get", mutates=False)
    def wechat_mass_get(self, request):
        account = self._account_for_token(request.query.get("access_token"))
        msg_id = str(request.json().get("msg_id", ""))
        for send in self.sends_by_appid.get(account["appid"], []):
            if str(send["msg_id"]) == msg_id:
                status = "SEND_SUCCESS" if send["status"] == "send success" else "SEND_FAIL"
                return {"msg_id": send["msg_id"], "msg_status": status}
        # Sandbox choice: WeChat does not document the answer for an unknown msg_id.
        raise WeChatError(40007, "invalid msg_id")

    # -- WeChat: the MASSSENDJOBFINISH event -----------------------------------------------------------
    def _schedule_callback(self, account, send):
        config = self.state["config"]
        callback = {
            "id": self.next_number(),
            "appid": account["appid"],
            "msg_id": send["msg_id"],
            "url": account["callback_url"],
            "body": report_xml(account, send, int(self.now() + config["callback_delay_seconds"])),
            "attempts": [],
            "delivered": False,
        }
        self.state["callbacks"].append(callback)
        timer = threading.Timer(
            config["callback_delay_seconds"], self._deliver_callback, args=(callback["id"], self.generation)
        )
        timer.daemon = True
        timer.start()

    def _deliver_callback(self, callback_id, generation):
        for attempt in range(self.state["config"]["callback_attempts"]):
            with self.lock:
                callback = next((c for c in self.state["callbacks"] if c["id"] == callback_id), None)
                if callback is None or generation != self.generation:
                    return  # the sandbox was reset meanwhile
                account = self.state["accounts"].get(callback["appid"], {})
                config = self.state["config"]
                timestamp, nonce = str(int(self.now())), secrets.token_hex(8)
            query = {
                "signature": sign(account.get("token", ""), timestamp, nonce),
                "timestamp": timestamp,
                "nonce": nonce,
                "openid": SYSTEM_OPENID,
            }
            url = callback["url"] + ("&" if "?" in callback["url"] else "?") + urlencode(query)
            outcome = post_xml(url, callback["body"], config["callback_timeout_seconds"])
            with self.lock:
                if generation != self.generation:
                    return
                callback["attempts"].append({"at": self.now(), **outcome})
                callback["delivered"] = outcome["ok"]
                self.save()
            if outcome["ok"]:
                return
            if attempt + 1 < config["callback_attempts"]:
                time.sleep(config["callback_retry_seconds"])

    # -- Weibo -----------------------------------------------------------------------------------------
    @route("POST", "/2/statuses/share.json")
    def weibo_share(self, request):
        fields, files = request.form()
        token = fields.get("access_token") or request.query.get("access_token") or ""
        if not token and request.authorization.startswith("OAuth2 "):
            token = request.authorization.removeprefix("OAuth2 ").strip()
        app = self.state["weibo_apps"].get(token)
        if app is None:
            raise WeiboError(21332)
        status, now = fields.get("status", "").strip(), self.now()
        if not status:
            raise WeiboError(20008)
        mine = [post for post in self.state["weibo_posts"] if post["access_token"] == token]
        if sum(1 for post in mine if now - post["created_at"] < 3600) >= WEIBO_RATE_LIMIT:
            raise WeiboError(20016)
        if sandbox_weibo_length(status) > WEIBO_TEXT_MAX:
            raise WeiboError(20012)
        if TOPIC.search(status):
            # Sandbox choice: Weibo documents the rule but not its code.
            raise WeiboError(10017, "Parameter (status)'s value invalid: #topics# are not allowed")
        domain = app["safe_domain"].lower()
        hosts = [(urlsplit(url).hostname or "").lower() for url in URL.findall(status)]
        if not any(host == domain or host.endswith("." + domain) for host in hosts):
            raise WeiboError(10017, f"Parameter (status)'s value invalid: it needs a link on {domain}")
        if any(post["status"] == status and now - post["created_at"] < app["repeat_window_seconds"] for post in mine):
            raise WeiboError(20019)
        picture = None
        if "pic" in files:
            filename, data = files["pic"]
            if image_kind(data) not in ("jpg", "gif", "png"):
                raise WeiboError(20005)
            if len(data) >= WEIBO_PIC_MAX_BYTES:
                raise WeiboError(20006)
            picture = {"filename": filename, "type": image_kind(data), "size": len(data)}
        number = self.next_number()
        post = {
            "id": 4_900_000_000_000_000 + number,
            "access_token": token,
            "uid": app["uid"],
            "status": status,
            "pic": picture,
            "rip": fields.get("rip", ""),
            "created_at": now,
        }
        self.state["weibo_posts"].append(post)
        answer = {
            "created_at": datetime.fromtimestamp(now, SHANGHAI).strftime("%a %b %d %H:%M:%S %z %Y"),
            "id": post["id"],
            "idstr": str(post["id"]),
            "mid": str(post["id"]),
            "text": status,
            "source": '<a href="http://127.0.0.1/" rel="nofollow">GovCMS sandbox</a>',
            "user": {"id": app["uid"], "idstr": str(app["uid"]), "screen_name": app["screen_name"]},
        }
        if picture:
            answer["original_pic"] = f"https://wx1.sinaimg.cn/large/sandbox{number}.{picture['type']}"
        return answer

    @route("GET", "/2/statuses/user_timeline.json", mutates=False)
    def weibo_user_timeline(self, request):
        """The authorised user's own latest posts, newest first (Weibo's `count` defaults to 20, at most 100)."""
        token = request.query.get("access_token") or ""
        if not token and request.authorization.startswith("OAuth2 "):
            token = request.authorization.removeprefix("OAuth2 ").strip()
        app = self.state["weibo_apps"].get(token)
        if app is None:
            raise WeiboError(21332)
        try:
            count = min(max(int(request.query.get("count", 20)), 1), 100)
        except ValueError:
            count = 20
        mine = [post for post in self.state["weibo_posts"] if post["access_token"] == token]
        return {"statuses": [self._weibo_status(post, app) for post in reversed(mine[-count:])],
                "total_number": len(mine)}  # fmt: skip

    def _weibo_status(self, post, app):
        """A post as Weibo shows it: links in the text become t.cn short links, as on the real platform."""
        text = URL.sub(
            lambda match: "http://t.cn/" + hashlib.sha256(match.group(0).encode()).hexdigest()[:8], post["status"]
        )
        return {
            "created_at": datetime.fromtimestamp(post["created_at"], SHANGHAI).strftime("%a %b %d %H:%M:%S %z %Y"),
            "id": post["id"],
            "idstr": str(post["id"]),
            "mid": str(post["id"]),
            "text": text,
            "user": {"id": app["uid"], "idstr": str(app["uid"]), "screen_name": app["screen_name"]},
        }

    # -- control ---------------------------------------------------------------------------------------
    @route("POST", "/_sandbox/reset")
    def control_reset(self, request):
        self.generation += 1
        self._reset_state()
        return {"ok": True}

    @route("GET", "/_sandbox/state", mutates=False)
    def control_state(self, request):
        return copy.deepcopy(self.state)

    @route("GET", "/_sandbox/sends", mutates=False)
    def control_sends(self, request):
        appid = request.query.get("appid")
        return {"sends": [send for send in self.state["mass_sends"] if appid in (None, send["appid"])]}

    @route("POST", "/_sandbox/accounts")
    def control_accounts(self, request):
        body = control_json(request)
        appid = str(body.get("appid") or "")
        account = self.state["accounts"].get(appid) or {
            "appid": appid,
            "secret": "",
            "type": "subscription",
            "token": "",
            "callback_url": "",
            "followers": 0,
            "tags": {},
            "report_status": "send success",
            "original_id": "gh_" + hashlib.sha256(appid.encode()).hexdigest()[:12],
            "quota": None,
        }
        account.update({key: body[key] for key in account if key in body and key != "appid"})
        account["tags"] = {str(tag): int(count) for tag, count in account["tags"].items()}
        account["followers"] = int(account["followers"])
        if not appid or not account["secret"]:
            raise ControlError("appid and secret are required")
        if account["type"] not in MASS_SEND_QUOTA:
            raise ControlError(f"type must be one of {sorted(MASS_SEND_QUOTA)}")
        self.state["accounts"][appid] = account
        return account

    @route("POST", "/_sandbox/weibo_apps")
    def control_weibo_apps(self, request):
        body = control_json(request)
        if not body.get("access_token") or not body.get("safe_domain"):
            raise ControlError("access_token and safe_domain are required")
        app = {
            "access_token": body["access_token"],
            "safe_domain": body["safe_domain"],
            "uid": int(body.get("uid") or 1_000_000_001),
            "screen_name": body.get("screen_name") or "政务微博（沙箱）",
            # Sandbox choice: Weibo refuses a repeated text ("Repeat content") for some while.
            "repeat_window_seconds": float(body.get("repeat_window_seconds", 600)),
        }
        self.state["weibo_apps"][app["access_token"]] = app
        return app

    @route("POST", "/_sandbox/faults")
    def control_faults(self, request):
        body = control_json(request, allowed=FAULT_DEFAULTS)
        faults = {**FAULT_DEFAULTS, **body} if body else {}
        if faults and not faults["errors"]:
            raise ControlError("errors must list at least one code")
        self.state["faults"], self.state["faults_injected"] = faults, []
        self.rng = random.Random(faults.get("seed"))  # noqa: S311
        return {"faults": faults}

    @route("POST", "/_sandbox/clock")
    def control_clock(self, request):
        body = control_json(request)
        if "offset_seconds" in body:
            self.state["clock_offset_seconds"] = float(body["offset_seconds"])
        self.state["clock_offset_seconds"] += float(body.get("advance_seconds", 0))
        return {"offset_seconds": self.state["clock_offset_seconds"], "now": self.now()}

    @route("POST", "/_sandbox/config")
    def control_config(self, request):
        body = control_json(request, allowed=DEFAULT_CONFIG)
        self.state["config"].update(body)
        return self.state["config"]


SYSTEM_OPENID = "oSandboxMassSendSystem0000000"


def report_xml(account, send, create_time):
    """The MASSSENDJOBFINISH event, as WeChat posts it to the account's server."""
    count, ok = send["audience_size"], send["status"] == "send success"
    urls = "".join(
        f"<item><ArticleIdx>{index}</ArticleIdx><ArticleUrl><![CDATA[https://mp.weixin.qq.com/s/sandbox-"
        f"{send['msg_data_id']}-{index}]]></ArticleUrl></item>"
        for index in range(1, len(send["articles"]) + 1)
    )
    copyright_state = 1 if send["status"] != "err(20013)" else 3  # 1: no reprint found, 3: reprint refused
    return (
        f"<xml><ToUserName><![CDATA[{account['original_id']}]]></ToUserName>"
        f"<FromUserName><![CDATA[{SYSTEM_OPENID}]]></FromUserName>"
        f"<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[MASSSENDJOBFINISH]]></Event><MsgID>{send['msg_id']}</MsgID>"
        f"<Status><![CDATA[{send['status']}]]></Status><TotalCount>{count}</TotalCount>"
        f"<FilterCount>{count}</FilterCount><SentCount>{count if ok else 0}</SentCount>"
        f"<ErrorCount>{0 if ok else count}</ErrorCount>"
        f"<CopyrightCheckResult><Count>0</Count><ResultList></ResultList>"
        f"<CheckState>{copyright_state}</CheckState></CopyrightCheckResult>"
        f"<ArticleUrlResult><Count>{len(send['articles'])}</Count><ResultList>{urls}</ResultList></ArticleUrlResult>"
        f"</xml>"
    )


def post_xml(url, body, timeout):
    if urlsplit(url).scheme not in ("http", "https"):
        return {"ok": False, "error": "callback_url must be http(s)"}
    # The scheme is checked above, so S310's file:// worry does not apply.
    request = urllib.request.Request(url, data=body.encode(), headers={"Content-Type": "text/xml"}, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            return {"ok": 200 <= answer.status < 300, "status": answer.status}
    except urllib.error.HTTPError as error:
        return {"ok": False, "status": error.code}
    except (OSError, ValueError) as error:
        return {"ok": False, "error": str(error)}


def control_json(request, allowed=None):
    try:
        body = request.json()
    except WeChatError as error:
        raise ControlError("the body must be a JSON object") from error
    unknown = set(body) - set(allowed) if allowed is not None else set()
    if unknown:
        raise ControlError(f"unknown settings: {sorted(unknown)}")
    return body


def error_answer(path, code):
    """An injected fault: a 5xx code answers at the HTTP level, others as the platform's own error."""
    if 500 <= code <= 599:
        return code, {"error": "injected HTTP error"}
    if path.startswith("/2/"):
        return weibo_error_answer(path, code, WEIBO_ERROR.get(code, "injected error"))
    return 200, {"errcode": code, "errmsg": WECHAT_ERRMSG.get(code, "injected error")}


def weibo_error_answer(path, code, message):
    return 400, {"error": message, "error_code": code, "request": path}


HTTP_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found"}


def respond(start_response, status, payload):
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(body)))]
    start_response(f"{status} {HTTP_REASONS.get(status, 'Error')}", headers)
    return [body]


# -- server ----------------------------------------------------------------------------------------------
class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a stuck client must not keep the process alive on Ctrl-C
    allow_reuse_address = True


class SandboxServerHandler(ServerHandler):
    def handle_error(self):
        if isinstance(sys.exc_info()[1], DropConnection):
            return  # write nothing: the socket is closed when the request ends, as a crashed platform would
        super().handle_error()


class SandboxRequestHandler(WSGIRequestHandler):
    verbose = False

    def log_message(self, format, *args):
        if self.verbose:
            super().log_message(format, *args)

    def handle(self):
        # wsgiref's own handle(), with our ServerHandler so that DropConnection really drops.
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.requestline, self.request_version, self.command = "", "", ""
            self.send_error(414)
            return
        if not self.parse_request():
            return
        handler = SandboxServerHandler(self.rfile, self.wfile, self.get_stderr(), self.get_environ(), multithread=True)
        handler.request_handler = self
        handler.run(self.server.get_app())


def build_server(host, port, app, *, verbose=False):
    """A threaded wsgiref server for the app; port 0 picks a free port (see server.server_port)."""
    handler = type("Handler", (SandboxRequestHandler,), {"verbose": verbose})
    return make_server(host, port, app, server_class=ThreadingWSGIServer, handler_class=handler)
