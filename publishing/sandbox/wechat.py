"""The WeChat Official Account API of the sandbox: access tokens, images and materials, drafts,
mass-send with its quotas and clientmsgid de-duplication, and the MASSSENDJOBFINISH callback.

Choices where WeChat is undocumented are marked "sandbox choice".
"""

import copy
import hashlib
import json
import secrets
import threading
import time
from datetime import date, datetime, timedelta
from urllib.parse import urlencode, urlsplit

from publishing.sandbox.common import SHANGHAI, MalformedBody, http_post, image_kind, route

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
WECHAT_ERRMSG = {
    -1: "system error",
    45015: "response out of time limit or subscription is canceled",
    45047: "out of response count limit",
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
    40016: "invalid button size",
    40017: "invalid button type",
    40018: "invalid button name size",
    40019: "invalid button key size",
    40023: "invalid sub button size",
    40024: "invalid sub button type",
    40025: "invalid sub button name size",
    40026: "invalid sub button key size",
    40027: "invalid sub button url size",
    40054: "invalid sub button url domain",
    40055: "invalid button url domain",
    46003: "menu no exist",
    61500: "date format error",
    61501: "date range error",
    47001: "data format error",
}


class WeChatError(Exception):
    def __init__(self, code, message=None, **extra):
        super().__init__(code)
        self.code, self.message, self.extra = code, message or WECHAT_ERRMSG.get(code, "error"), extra


# WeChat's customer-service message rule: 48 hours after the follower's last message, 5 messages in them.
CUSTOM_WINDOW_SECONDS = 48 * 3600
CUSTOM_WINDOW_MESSAGES = 5


def sign(token, timestamp, nonce):
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()  # noqa: S324 (WeChat's rule)


def json_body(request):
    try:
        return request.json()
    except MalformedBody as error:
        raise WeChatError(47001) from error


def wechat_error_answer(code):
    return 200, {"errcode": code, "errmsg": WECHAT_ERRMSG.get(code, "injected error")}


class WeChatAPI:
    """The WeChat endpoints, mixed into SandboxApp: they use its `state`, `lock`, `generation`, `now()`,
    `next_number()` and `save()`."""

    def _index_sends(self):
        # Each send looks up its account's earlier sends (clientmsgid, quota): an index per appid keeps
        # a burst of thousands of sends linear instead of quadratic.
        self.sends_by_appid = {}
        for send in self.state["mass_sends"]:
            self.sends_by_appid.setdefault(send["appid"], []).append(send)

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
        body = json_body(request)
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
        articles = json_body(request).get("articles")
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
        appid, body, now = account["appid"], json_body(request), self.now()
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
        msg_id = str(json_body(request).get("msg_id", ""))
        for send in self.sends_by_appid.get(account["appid"], []):
            if str(send["msg_id"]) == msg_id:
                status = "SEND_SUCCESS" if send["status"] == "send success" else "SEND_FAIL"
                return {"msg_id": send["msg_id"], "msg_status": status}
        # Sandbox choice: WeChat does not document the answer for an unknown msg_id.
        raise WeChatError(40007, "invalid msg_id")

    # -- WeChat: customer-service messages (window and count as WeChat enforces them) --------------------
    @route("POST", "/_sandbox/follower_message")
    def control_follower_message(self, request):
        """A follower wrote to the account ({appid, openid}): WeChat's customer-service window opens."""
        body = json_body(request)
        self._account(body.get("appid"))
        self.state["follower_messages"].setdefault(body["appid"], {})[body.get("openid", "")] = self.now()
        return {"ok": True}

    @route("POST", "/cgi-bin/message/custom/send")
    def wechat_custom_send(self, request):
        account = self._account_for_token(request.query.get("access_token"))
        body = json_body(request)
        openid, kind = body.get("touser", ""), body.get("msgtype")
        if kind != "text" or not str((body.get("text") or {}).get("content") or ""):
            raise WeChatError(40008)
        last = self.state["follower_messages"].get(account["appid"], {}).get(openid)
        if last is None or self.now() - last > CUSTOM_WINDOW_SECONDS:
            raise WeChatError(45015)
        sent = [m for m in self.state["custom_messages"] if (m["appid"], m["openid"]) == (account["appid"], openid)]
        if sum(1 for m in sent if m["at"] >= last) >= CUSTOM_WINDOW_MESSAGES:
            raise WeChatError(45047)
        self.state["custom_messages"].append(
            {"appid": account["appid"], "openid": openid, "content": body["text"]["content"], "at": self.now()}
        )
        return {"errcode": 0, "errmsg": "ok"}

    # -- WeChat: custom menu and follower tags ----------------------------------------------------------
    @route("POST", "/cgi-bin/menu/create")
    def wechat_menu_create(self, request):
        account = self._account_for_token(request.query.get("access_token"))
        buttons = json_body(request).get("button")
        check_menu(buttons)
        self.state["menus"][account["appid"]] = {"button": copy.deepcopy(buttons), "at": self.now()}
        return {"errcode": 0, "errmsg": "ok"}

    @route("GET", "/cgi-bin/menu/get", mutates=False)
    def wechat_menu_get(self, request):
        account = self._account_for_token(request.query.get("access_token"))
        menu = self.state["menus"].get(account["appid"])
        if menu is None:
            raise WeChatError(46003)
        # As WeChat answers: every item carries a sub_button list, empty for items without sub-items.
        button = [{**item, "sub_button": item.get("sub_button", [])} for item in menu["button"]]
        return {"menu": {"button": button}}

    @route("GET", "/cgi-bin/tags/get", mutates=False)
    def wechat_tags_get(self, request):
        account = self._account_for_token(request.query.get("access_token"))
        names = account.get("tag_names", {})
        # WeChat lists its reserved 星标组 (id 2) with the account's own tags.
        tags = [{"id": 2, "name": "星标组", "count": 0}]
        tags += [
            {"id": int(tag_id), "name": names.get(tag_id, f"标签{tag_id}"), "count": count}
            for tag_id, count in sorted(account["tags"].items(), key=lambda item: int(item[0]))
            if int(tag_id) > 2
        ]
        return {"tags": tags}

    # -- WeChat: statistics (datacube) ---------------------------------------------------------------
    def _datacube_range(self, request, max_days):
        body = json_body(request)
        try:
            first = date.fromisoformat(str(body.get("begin_date")))
            last = date.fromisoformat(str(body.get("end_date")))
        except ValueError as error:
            raise WeChatError(61500) from error
        # end_date at most yesterday; yesterday's figures appear only after 08:00 (Asia/Shanghai).
        local = datetime.fromtimestamp(self.now(), SHANGHAI)
        ready = local.date() - timedelta(days=1 if local.hour >= DATACUBE_READY_HOUR else 2)
        if last < first or (last - first).days >= max_days or last >= local.date():
            raise WeChatError(61501)
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        return [day for day in days if day <= ready]

    @route("POST", "/datacube/getusersummary", mutates=False)
    def wechat_getusersummary(self, request):
        account = self._account_for_token(request.query.get("access_token"))
        days = self._datacube_range(request, 7)
        return {"list": [{"ref_date": day.isoformat(), "user_source": 0, "new_user": FOLLOW_GROWTH + _churn(account, day),
                          "cancel_user": _churn(account, day)} for day in days]}  # fmt: skip

    @route("POST", "/datacube/getusercumulate", mutates=False)
    def wechat_getusercumulate(self, request):
        account = self._account_for_token(request.query.get("access_token"))
        days = self._datacube_range(request, 7)
        # Sandbox choice: the account grows by FOLLOW_GROWTH a day from its registered count on DATACUBE_EPOCH.
        return {"list": [{"ref_date": day.isoformat(),
                          "cumulate_user": account["followers"] + FOLLOW_GROWTH * (day - DATACUBE_EPOCH).days}
                         for day in days]}  # fmt: skip

    @route("POST", "/datacube/getarticletotal", mutates=False)
    def wechat_getarticletotal(self, request):
        account = self._account_for_token(request.query.get("access_token"))
        days = self._datacube_range(request, 1)
        local = datetime.fromtimestamp(self.now(), SHANGHAI)
        answer = []
        for day in days:
            for send in self.sends_by_appid.get(account["appid"], []):
                if datetime.fromtimestamp(send["sent_at"], SHANGHAI).date() != day:
                    continue
                for index, article in enumerate(send["articles"], start=1):
                    stat_days = [day + timedelta(days=n) for n in range(7) if day + timedelta(days=n) < local.date()]
                    answer.append({
                        "ref_date": day.isoformat(),
                        "msgid": f"{send['msg_data_id']}_{index}",
                        "title": article.get("title", ""),
                        "details": [_article_detail(send, index, stat_day, n + 1) for n, stat_day in enumerate(stat_days)],
                    })  # fmt: skip
        return {"list": answer}

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


SYSTEM_OPENID = "oSandboxMassSendSystem0000000"
DATACUBE_READY_HOUR = 8
DATACUBE_EPOCH = date(2026, 1, 1)
FOLLOW_GROWTH = 10


def _churn(account, day):
    return int(hashlib.sha256(f"{account['appid']}{day}".encode()).hexdigest()[:4], 16) % 15


def _article_detail(send, index, stat_day, days_since):
    """Cumulative figures after `days_since` days: a tenth of the audience reads on the first day, more later."""
    readers = send["audience_size"] * days_since // (10 * index)
    return {"stat_date": stat_day.isoformat(), "target_user": send["audience_size"], "int_page_read_user": readers,
            "int_page_read_count": readers * 3 // 2, "share_user": readers // 20, "share_count": readers // 15}  # fmt: skip


MENU_TYPES = {
    "click": ("key",),
    "view": ("url",),
    "miniprogram": ("url", "appid", "pagepath"),
    "article_id": ("article_id",),
}


def check_menu(buttons):
    """WeChat's menu/create rules: 1-3 items, 1-5 sub-items each, names 16/60 bytes, keys 128, URLs 1,024 bytes."""
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        raise WeChatError(40016)
    for button in buttons:
        if not isinstance(button, dict):
            raise WeChatError(47001)
        subs = button.get("sub_button") or []
        _check_button(button, 16, first_level=True, has_subs=bool(subs))
        if not isinstance(subs, list) or len(subs) > 5:
            raise WeChatError(40023)
        for sub in subs:
            if not isinstance(sub, dict):
                raise WeChatError(47001)
            _check_button(sub, 60, first_level=False, has_subs=False)


def _check_button(button, name_limit, *, first_level, has_subs):
    def code(first, second):
        return first if first_level else second

    name = str(button.get("name") or "")
    if not name or len(name.encode()) > name_limit:
        raise WeChatError(code(40018, 40025))
    if has_subs:
        return
    kind = button.get("type")
    if kind not in MENU_TYPES or any(not button.get(field) for field in MENU_TYPES[kind]):
        raise WeChatError(code(40017, 40024))
    if len(str(button.get("key") or "").encode()) > 128:
        raise WeChatError(code(40019, 40026))
    url = str(button.get("url") or "")
    if len(url.encode()) > 1024:
        raise WeChatError(code(40027, 40027))  # sandbox choice: WeChat documents 40027 for both levels
    if url and urlsplit(url).scheme not in ("http", "https"):
        raise WeChatError(code(40055, 40054))


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
    try:
        status, _answer = http_post(url, body.encode(), content_type="text/xml", timeout=timeout)
    except (OSError, ValueError) as error:
        return {"ok": False, "error": str(error)}
    return {"ok": 200 <= status < 300, "status": status}
