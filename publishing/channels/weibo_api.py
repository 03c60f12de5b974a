"""Sina Weibo's statuses/share.json over requests (Weibo has no maintained Python SDK).

Errors: an error answer from Weibo raises WeiboAPIError(code, message). Network failures are
NOT wrapped: they propagate as requests exceptions, because Weibo has no idempotency key and the
caller must tell "never sent" (ConnectTimeout, connection refused) from "maybe posted" (the
connection broke or the read timed out after the request went out). Both are transient in the
sense that the platform is fine; only the first is safe to resend blindly.
"""

import math
import mimetypes
import re
from datetime import datetime

import requests
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

SHARE_ENDPOINT = "2/statuses/share.json"
TIMELINE_ENDPOINT = "2/statuses/user_timeline.json"
TIMEOUT = (5, 30)  # (connect, read) seconds
TEXT_LIMIT = 140
# Weibo turns every link into a t.cn short link and counts that: http://t.cn/ plus 8 characters.
URL_WEIGHT = 20
URL = re.compile(r"https?://[!-~]+")  # a link runs to the next space or non-ASCII character

RATE_LIMIT_CODES = frozenset({10022, 10023, 10024, 20016})
TRANSIENT_CODES = frozenset({10001, 10002, 10009}) | RATE_LIMIT_CODES
# The hourly window slides: a post leaves it at most an hour after it was made, usually sooner.
RATE_LIMIT_BACKOFF_SECONDS = 20 * 60
TOKEN_CODES = frozenset({21314, 21315, 21327, 21332})

EXPLANATIONS = {
    None: _("Weibo gave no usable answer."),
    10001: _("Weibo had a system error (10001)."),
    10002: _("Weibo's service was unavailable (10002)."),
    10009: _("Weibo was too busy (10009)."),
    10017: _("Weibo refused the text (10017): it must contain a link on the app's safe domain and no #topics#."),
    20005: _("Weibo accepts only JPEG, GIF or PNG pictures (20005)."),
    20006: _("The picture is larger than Weibo accepts: under 5 MB (20006)."),
    20008: _("The Weibo post is empty (20008)."),
    20012: _("The Weibo post is longer than 140 characters (20012)."),
    20019: _("Weibo refused the post as a repeat of a recent one (20019); it was probably posted already."),
}
RATE_LIMIT_EXPLANATION = _("Weibo's posting limit was reached (%(code)s).")
TOKEN_EXPLANATION = _("The Weibo access token is invalid or expired (%(code)s); authorise the app again.")


def is_transient(code: int | None) -> bool:
    return code is None or code in TRANSIENT_CODES


def explain(code: int | None) -> str:
    """A short explanation of a Weibo error code for the person who scheduled the post."""
    if code in RATE_LIMIT_CODES:
        return str(RATE_LIMIT_EXPLANATION) % {"code": code}
    if code in TOKEN_CODES:
        return str(TOKEN_EXPLANATION) % {"code": code}
    if code in EXPLANATIONS:
        return str(EXPLANATIONS[code])
    return gettext("Weibo answered with error %(code)s.") % {"code": code}


class WeiboAPIError(Exception):
    """An error answer from Weibo; code is None when the answer was not Weibo's JSON (e.g. a 502 page)."""

    def __init__(self, code: int | None, message: str, *, http_status: int | None = None):
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.http_status = code, message, http_status

    @property
    def transient(self) -> bool:
        return is_transient(self.code)

    @property
    def retry_after(self) -> int | None:
        """Seconds to wait before retrying a rate-limited post; None: the caller's usual backoff."""
        return RATE_LIMIT_BACKOFF_SECONDS if self.code in RATE_LIMIT_CODES else None


def weibo_length(text: str) -> int:
    """The length Weibo checks against 140: CJK, full-width and other non-ASCII characters count 1
    (2 for characters outside the BMP, which Weibo's page counts in UTF-16), two ASCII characters
    count 1, rounded up, and every http(s) link counts as 20 ASCII characters, whatever its length."""
    links = URL.findall(text)
    rest = URL.sub("", text)
    narrow = sum(1 for char in rest if char.isascii()) + URL_WEIGHT * len(links)
    wide = sum(2 if ord(char) > 0xFFFF else 1 for char in rest if not char.isascii())
    return wide + math.ceil(narrow / 2)


def _weibo_answer(response) -> dict:
    """Weibo's JSON answer; WeiboAPIError for its error answers and for anything that is not its JSON."""
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise WeiboAPIError(None, f"HTTP {response.status_code}: not a Weibo answer", http_status=response.status_code)
    if "error_code" in answer:
        raise WeiboAPIError(int(answer["error_code"]), str(answer.get("error", "")), http_status=response.status_code)
    return answer


def share(
    base_url: str,
    access_token: str,
    status: str,
    *,
    image: bytes | None = None,
    image_name: str = "image.jpg",
    rip: str = "",
    timeout=TIMEOUT,
) -> dict:
    """Post `status` (with a picture when `image` is given) and return Weibo's answer (id, idstr, text, user, ...).

    Raises WeiboAPIError for Weibo's error answers and requests.RequestException for network
    failures (see the module docstring)."""
    fields = {"access_token": access_token, "status": status}
    if rip:
        fields["rip"] = rip
    files = None
    if image is not None:
        files = {"pic": (image_name, image, mimetypes.guess_type(image_name)[0] or "application/octet-stream")}
    response = requests.post(base_url.rstrip("/") + "/" + SHARE_ENDPOINT, data=fields, files=files, timeout=timeout)
    answer = _weibo_answer(response)
    if response.status_code != 200 or "id" not in answer:
        raise WeiboAPIError(
            None, f"HTTP {response.status_code}: no post id in the answer", http_status=response.status_code
        )
    return answer


def recent_posts(base_url: str, access_token: str, *, count: int = 50, timeout=TIMEOUT) -> list[dict]:
    """The authorised user's own latest posts, newest first (statuses/user_timeline: since 2014 it
    returns only the authorised user's posts, which is exactly what a lookup of our own post needs).

    Each post has id/idstr, text (links shortened to t.cn) and created_at. Raises WeiboAPIError
    for Weibo's error answers and requests.RequestException for network failures."""
    response = requests.get(
        base_url.rstrip("/") + "/" + TIMELINE_ENDPOINT,
        params={"access_token": access_token, "count": count},
        timeout=timeout,
    )
    answer = _weibo_answer(response)
    statuses = answer.get("statuses")
    if response.status_code != 200 or not isinstance(statuses, list):
        raise WeiboAPIError(
            None, f"HTTP {response.status_code}: no statuses in the answer", http_status=response.status_code
        )
    return [post for post in statuses if isinstance(post, dict)]


def created_at(post: dict):
    """Weibo's created_at ("Tue Dec 01 21:48:24 +0800 2026") as an aware datetime, or None."""
    try:
        return datetime.strptime(str(post.get("created_at", "")), "%a %b %d %H:%M:%S %z %Y")
    except ValueError:
        return None


def same_text(ours: str, theirs: str) -> bool:
    """Whether a post on Weibo is our text: Weibo replaces every link with a t.cn short link, so
    links are left out of the comparison, as is whitespace around them."""

    def bare(text: str) -> str:
        return "".join(URL.sub("", text).split())

    return bare(ours) == bare(theirs)
