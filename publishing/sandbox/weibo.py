"""The Sina Weibo API of the sandbox: posting (statuses/share) with Weibo's length, safe-domain, topic,
repeat and rate rules, and the user's own timeline.

Choices where Weibo is undocumented are marked "sandbox choice".
"""

import hashlib
import math
import re
from datetime import datetime
from urllib.parse import urlsplit

from publishing.sandbox.common import SHANGHAI, image_kind, route

WEIBO_TEXT_MAX = 140
WEIBO_RATE_LIMIT = 30  # posts per access token per rolling hour
WEIBO_PIC_MAX_BYTES = 5 * 1024 * 1024
WEIBO_URL_WEIGHT = 20  # a link counts as a t.cn short link of 20 ASCII characters
URL = re.compile(r"https?://[!-~]+")
TOPIC = re.compile(r"#[^#\s]+#")

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


class WeiboError(Exception):
    def __init__(self, code, message=None):
        super().__init__(code)
        self.code, self.message = code, message or WEIBO_ERROR.get(code, "error")


def sandbox_weibo_length(text):
    """Weibo's count, as its web page does it: bytes with wide characters counting 2, halved and rounded up."""
    text = URL.sub("x" * WEIBO_URL_WEIGHT, text)
    units = sum(1 if ord(char) < 128 else len(char.encode("utf-16-le")) for char in text)
    return math.ceil(units / 2)


def weibo_error_answer(path, code, message):
    return 400, {"error": message, "error_code": code, "request": path}


class WeiboAPI:
    """The Weibo endpoints, mixed into SandboxApp: they use its `state`, `now()` and `next_number()`."""

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
