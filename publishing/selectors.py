from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Count
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.scoping import scope_to_department
from content.models import ArticleState
from publishing import quota
from publishing.models import ChannelAccount, Delivery, DeliveryState, Platform, QuotaPeriod, QuotaSlot

# States a delivery leaves only by a person's retry: the schedule page stops asking for news.
FINAL_STATES = (DeliveryState.SENT, DeliveryState.FAILED, DeliveryState.UNKNOWN, DeliveryState.CANCELLED)
# How often the schedule page asks again: often while something is on its way or about to be, rarely
# while every send is far off, never once all are final.
REFRESH_SOON_SECONDS = 5
REFRESH_LATER_SECONDS = 60
SOON = timedelta(minutes=5)

# The Status of WeChat's MASSSENDJOBFINISH report (PLATFORMS.md): "send success", "send fail" or "err(N)",
# N the reason WeChat's review refused the send.
REPORT_REFUSALS = {
    "10001": gettext_lazy("suspected advertising"),
    "20001": gettext_lazy("suspected political content"),
    "20002": gettext_lazy("suspected pornography"),
    "20004": gettext_lazy("suspected social content"),
    "20006": gettext_lazy("suspected crime"),
    "20008": gettext_lazy("suspected fraud"),
    "20013": gettext_lazy("suspected copyright infringement"),
    "22000": gettext_lazy("suspected mutual promotion"),
    "21000": gettext_lazy("other reasons"),
}


def visible_accounts(user):
    return scope_to_department(ChannelAccount.objects.filter(is_active=True), user).prefetch_related("quota_rules")


def quota_left(account: ChannelAccount, moment: datetime) -> list[dict]:
    """For each of the account's limits: the period holding `moment`, the limit, used and free slots."""
    rows = []
    for period, limit in quota.rules_for(account).items():
        key = quota.period_key(moment, period)
        used = quota.usage(account, period, key)
        rows.append(
            {"period": QuotaPeriod(period), "key": key, "limit": limit, "used": used, "free": max(limit - used, 0)}
        )
    return rows


def calendar(accounts: list[ChannelAccount], first_day: date, days: int) -> list[dict]:
    """Rows per account: each day's deliveries and free quota, for the month or week views."""
    start = datetime.combine(first_day, time.min, tzinfo=quota.SHANGHAI)
    end = start + timedelta(days=days)
    deliveries = defaultdict(list)
    for delivery in (
        Delivery.objects.filter(account__in=accounts, due_at__gte=start, due_at__lt=end)
        .exclude(state=DeliveryState.CANCELLED)
        .select_related("schedule")
        .order_by("due_at")
    ):
        local = delivery.schedule.send_at.astimezone(quota.SHANGHAI)
        deliveries[(delivery.account_id, local.date())].append(delivery)
    used = defaultdict(int)
    for row in (
        QuotaSlot.objects.filter(account__in=accounts, period__in=[QuotaPeriod.DAY, QuotaPeriod.MONTH])
        .values("account_id", "period", "period_key")
        .annotate(n=Count("id"))
    ):
        used[(row["account_id"], row["period"], row["period_key"])] = row["n"]
    grid = []
    for account in accounts:
        rules = quota.rules_for(account)
        cells = []
        for offset in range(days):
            day = first_day + timedelta(days=offset)
            moment = datetime.combine(day, time(12), tzinfo=quota.SHANGHAI)
            free = None
            for period in (QuotaPeriod.DAY, QuotaPeriod.MONTH):
                if period in rules:
                    left = rules[period] - used[(account.pk, period, quota.period_key(moment, period))]
                    free = left if free is None else min(free, left)
            cells.append({"day": day, "deliveries": deliveries[(account.pk, day)], "free": free})
        grid.append({"account": account, "cells": cells})
    return grid


def failures_needing_attention(user, since: datetime):
    """Deliveries a person must look at: failed, or possibly sent and unconfirmed (unknown)."""
    deliveries = Delivery.objects.filter(
        state__in=[DeliveryState.FAILED, DeliveryState.UNKNOWN], due_at__gte=since
    ).select_related("schedule", "account")
    return scope_to_department(deliveries, user, field="account__department").order_by("-due_at")


def refresh_seconds(deliveries, now: datetime) -> int:
    """Seconds until the schedule page should look at its deliveries again; 0 when all are final."""
    waiting = [d for d in deliveries if d.state not in FINAL_STATES]
    if not waiting:
        return 0
    if any(d.state not in (DeliveryState.SCHEDULED, DeliveryState.RETRYING) or d.due_at <= now + SOON for d in waiting):
        return REFRESH_SOON_SECONDS
    return REFRESH_LATER_SECONDS


def _web_url(url) -> str:
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else ""


def _reported_article_urls(delivery: Delivery) -> list[str]:
    """The article URLs of WeChat's MASSSENDJOBFINISH report (ArticleUrlResult), in article order."""
    result = (delivery.report or {}).get("article_urls") or {}
    items = (result.get("ResultList") or {}).get("item") if isinstance(result, dict) else None
    if isinstance(items, dict):  # one article: the XML parser gives the item itself, not a list
        items = [items]
    rows = []
    for item in items or []:
        if isinstance(item, dict) and _web_url(item.get("ArticleUrl")):
            try:
                index = int(item.get("ArticleIdx") or 0)
            except (TypeError, ValueError):
                index = 0
            rows.append((index, item["ArticleUrl"]))
    return [url for _index, url in sorted(rows)]


def delivery_links(delivery: Delivery, articles) -> list[tuple[str, str]]:
    """Where the sent content can be seen, as (label, url): the WeChat articles' pages (from WeChat's report),
    the Weibo post (https://weibo.com/<uid>/<post id>), the portal's article pages. Empty until sent."""
    if delivery.state != DeliveryState.SENT:
        return []
    platform = delivery.account.platform
    if platform == Platform.WECHAT:
        urls = _reported_article_urls(delivery)
        if len(urls) == 1:
            return [(_("WeChat article"), urls[0])]
        return [(_("Article %(n)d") % {"n": n}, url) for n, url in enumerate(urls, 1)]
    if platform == Platform.WEIBO:
        uid, post = delivery.account.weibo_uid, delivery.platform_post_id
        return [(_("Weibo post"), f"https://weibo.com/{uid}/{post}")] if uid and post else []
    if platform == Platform.PORTAL:
        base = settings.PORTAL_BASE_URL.rstrip("/")
        return [
            (article.title, base + reverse("portal:article", args=[article.pk]))
            for article in articles
            if article.is_live
        ]
    return []


def cover_url(article) -> str:
    """The cover the platforms are sent: the live copy's for a published article, else the working copy's
    (an approved article's working copy is the text the reviewers approved)."""
    revision = article.live_revision if article.state == ArticleState.PUBLISHED and article.live_revision_id else None
    if revision is not None:
        return revision.cover_url
    return article.cover.url if article.cover else ""


def report_label(status: str) -> str:
    """WeChat's report status in words: sent, failed, or refused by its review and why; "" when none came."""
    if not status:
        return ""
    if status == "send success":
        return _("Sent to followers")
    if status == "send fail":
        return _("Sending failed")
    if status.startswith("err(") and status.endswith(")"):
        code = status[4:-1]
        reason = REPORT_REFUSALS.get(code, _("other reasons"))
        return _("Refused by WeChat's review (%(code)s): %(reason)s") % {"code": code, "reason": reason}
    return status
