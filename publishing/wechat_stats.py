"""Daily WeChat statistics (datacube) stored per account: followers per day (getusersummary and getusercumulate,
at most 7 days a call) and the reads and shares of each mass-sent article (getarticletotal, one day a call).

WeChat produces yesterday's figures after 08:00 (sometimes 10:00) and refuses an end date after yesterday. The
sweep is safe to run any number of times: it asks only for the days of the last BACKFILL_DAYS still missing from
the database (so a new account is backfilled by the next run, and a day WeChat had not produced yet is asked
again by a later one). Article totals keep growing for a week after a send, so the last ARTICLE_FINAL_DAYS days
are asked again each day and only older days are marked done.

wechatpy's datacube API posts to the official host whatever the account's base URL: the calls go through the
wechat channel's client with the account's own base URL instead.
"""

import logging
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from publishing import quota
from publishing.channels import wechat_api
from publishing.models import (
    ChannelAccount,
    Platform,
    WeChatArticleStats,
    WeChatArticleStatsDay,
    WeChatDailyStats,
)

logger = logging.getLogger(__name__)

BACKFILL_DAYS = 30
READY_HOUR = 8  # Asia/Shanghai
USER_DAYS_PER_CALL = 7
ARTICLE_FINAL_DAYS = 7


def latest_day(now: datetime) -> date:
    """The newest day WeChat may have produced: yesterday after READY_HOUR, the day before until then."""
    local = timezone.localtime(now, quota.SHANGHAI)
    return local.date() - timedelta(days=1 if local.hour >= READY_HOUR else 2)


def _client(account):
    from publishing.channels.wechat import WeChatChannel

    return WeChatChannel(account).client()


def _datacube(client, account, name: str, first: date, last: date) -> list[dict]:
    url = account.base_url + "datacube/" + name
    answer = client.post(url, data={"begin_date": first.isoformat(), "end_date": last.isoformat()})
    return answer.get("list", []) if isinstance(answer, dict) else []


def _runs(days: list[date], size: int) -> list[tuple[date, date]]:
    """Consecutive days grouped into ranges of at most `size` days."""
    runs: list[list[date]] = []
    for day in sorted(days):
        if runs and (day - runs[-1][-1]).days == 1 and len(runs[-1]) < size:
            runs[-1].append(day)
        else:
            runs.append([day])
    return [(run[0], run[-1]) for run in runs]


def stats_pull(*, account: ChannelAccount, now: datetime | None = None) -> int:
    """Fetch the account's missing days of the last BACKFILL_DAYS; returns the days of followers stored.
    A WeChat error is logged and ends this account's pull (the next sweep asks again)."""
    now = now or timezone.now()
    last = latest_day(now)
    window = [last - timedelta(days=n) for n in range(BACKFILL_DAYS)]
    client = _client(account)
    stored = 0
    try:
        have = set(WeChatDailyStats.objects.filter(account=account, day__gte=window[-1]).values_list("day", flat=True))
        for first, end in _runs([day for day in window if day not in have], USER_DAYS_PER_CALL):
            stored += _pull_followers(client, account, first, end, now)
        done = set(
            WeChatArticleStatsDay.objects.filter(account=account, day__gte=window[-1]).values_list("day", flat=True)
        )
        for day in sorted(day for day in window if day not in done):
            _pull_articles(client, account, day, final=(last - day).days >= ARTICLE_FINAL_DAYS, now=now)
    except wechat_api.WeChatAPIError as error:
        logger.warning("datacube for %s (id %s): %s %s", account, account.pk, error.code, error.message)
    return stored


def _pull_followers(client, account, first: date, end: date, now) -> int:
    summary = _datacube(client, account, "getusersummary", first, end)
    cumulate = _datacube(client, account, "getusercumulate", first, end)
    changes: dict[str, list[int]] = {}
    for row in summary:  # one row per day and follow source
        counts = changes.setdefault(row["ref_date"], [0, 0])
        counts[0] += int(row.get("new_user", 0))
        counts[1] += int(row.get("cancel_user", 0))
    # A day appears in getusercumulate once WeChat has produced it; a day still missing is asked again later.
    rows = [
        WeChatDailyStats(
            account=account,
            day=date.fromisoformat(row["ref_date"]),
            new_followers=changes.get(row["ref_date"], [0, 0])[0],
            lost_followers=changes.get(row["ref_date"], [0, 0])[1],
            followers=int(row.get("cumulate_user", 0)),
            fetched_at=now,
        )
        for row in cumulate
    ]
    WeChatDailyStats.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _pull_articles(client, account, day: date, *, final: bool, now) -> None:
    items = _datacube(client, account, "getarticletotal", day, day)
    with transaction.atomic():
        for item in items:
            details = item.get("details") or [{}]
            latest = max(details, key=lambda detail: detail.get("stat_date", ""))
            WeChatArticleStats.objects.update_or_create(
                account=account,
                msgid=str(item["msgid"]),
                defaults={
                    "title": str(item.get("title", ""))[:200],
                    "sent_on": date.fromisoformat(item.get("ref_date", day.isoformat())),
                    "readers": int(latest.get("int_page_read_user", 0)),
                    "reads": int(latest.get("int_page_read_count", 0)),
                    "sharers": int(latest.get("share_user", 0)),
                    "shares": int(latest.get("share_count", 0)),
                    "updated_at": now,
                },
            )
        if final:
            WeChatArticleStatsDay.objects.get_or_create(account=account, day=day)


def stats_pull_all(*, now: datetime | None = None) -> int:
    """The sweep over every active WeChat account; returns the days of followers stored."""
    accounts = ChannelAccount.objects.filter(is_active=True, platform=Platform.WECHAT).exclude(wechat_app_id="")
    return sum(stats_pull(account=account, now=now) for account in accounts)
