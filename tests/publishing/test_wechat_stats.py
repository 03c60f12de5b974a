"""Datacube statistics: the last 30 days backfilled in calls of at most 7 days (articles one day a call), nothing
asked for before WeChat produces it (after 08:00), a later run fetching only what is missing, and article totals."""

from datetime import date, datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from publishing import wechat_stats
from publishing.channels.wechat import WeChatChannel
from publishing.models import WeChatArticleStats, WeChatDailyStats
from publishing.quota import SHANGHAI
from tests.publishing.conftest import news_article

pytestmark = pytest.mark.django_db

EPOCH = date(2026, 1, 1)  # the sandbox's: followers grow by 10 a day from the registered count


@pytest.fixture(autouse=True)
def fresh_clients():
    # Clients keep a token for a few seconds: one from an earlier test's sandbox would be refused (and counted).
    from publishing.channels import wechat

    wechat._local.clients = {}


def at(sandbox, *args):
    moment = datetime(*args, tzinfo=SHANGHAI)
    sandbox.clock(at=moment)
    return moment


def test_new_account_backfills_30_days_in_7_day_calls(accounts, sandbox):
    account = accounts["sub"]
    now = at(sandbox, 2026, 12, 2, 10, 0)
    assert wechat_stats.stats_pull(account=account, now=now) == 30
    days = list(WeChatDailyStats.objects.filter(account=account).values_list("day", flat=True))
    assert (days[0], days[-1], len(days)) == (date(2026, 11, 2), date(2026, 12, 1), 30)
    last = WeChatDailyStats.objects.get(account=account, day=date(2026, 12, 1))
    assert last.followers == 1000 + 10 * (date(2026, 12, 1) - EPOCH).days
    assert last.new_followers - last.lost_followers == 10
    requests = sandbox.state()["requests"]
    assert requests["/datacube/getusersummary"] == 5  # 7 + 7 + 7 + 7 + 2 days
    assert requests["/datacube/getusercumulate"] == 5
    assert requests["/datacube/getarticletotal"] == 30


def test_yesterday_waits_for_8_and_a_later_run_fetches_only_it(accounts, sandbox):
    account = accounts["sub"]
    early = at(sandbox, 2026, 12, 2, 7, 30)
    assert wechat_stats.stats_pull(account=account, now=early) == 30
    assert WeChatDailyStats.objects.filter(account=account).latest("day").day == date(2026, 11, 30)
    later = at(sandbox, 2026, 12, 2, 10, 0)
    assert wechat_stats.stats_pull(account=account, now=later) == 1
    assert WeChatDailyStats.objects.filter(account=account).latest("day").day == date(2026, 12, 1)
    assert wechat_stats.stats_pull(account=account, now=later) == 0


def test_article_reads_and_shares_are_stored(accounts, sandbox):
    account = accounts["sub"]
    at(sandbox, 2026, 11, 25, 10, 0)
    client = WeChatChannel(account).client()
    thumb, _url = client.add_image_material(b"\xff\xd8\xff" + b"0" * 100, "cover.jpg", "thumb")
    media_id = client.draft.add([news_article(thumb)])
    client.mass.send_all(media_id, clientmsgid="stats-test")
    now = at(sandbox, 2026, 12, 2, 10, 0)
    wechat_stats.stats_pull(account=account, now=now)
    (stats,) = WeChatArticleStats.objects.filter(account=account)
    # Seven days of reads (1000 followers: a tenth a day, cumulative), as the sandbox reports them.
    assert (stats.title, stats.sent_on, stats.readers, stats.reads, stats.sharers, stats.shares) == (
        "县政府召开常务会议",
        date(2026, 11, 25),
        700,
        1050,
        35,
        46,
    )


def test_health_page_charts_followers_and_articles(client, login, administrator, accounts, sandbox):
    account = accounts["sub"]
    wechat_stats.stats_pull(account=account, now=at(sandbox, 2026, 12, 2, 10, 0))
    login(administrator)
    page = client.get(reverse("admin:publishing_account_health_detail", args=[account.pk])).content.decode()
    assert "近30天粉丝数" in page
    assert "<desc>" in page
    assert "12-01" in page
    assert f"{1000 + 10 * (date(2026, 12, 1) - EPOCH).days:,}" in page  # 4,340 followers on 12-01


def test_an_account_added_in_the_admin_is_backfilled_at_once(client, login, administrator, county, sandbox,
                                                              settings, monkeypatch):  # fmt: skip
    from publishing import tasks
    from publishing.models import ChannelAccount

    queued = []
    monkeypatch.setattr(tasks.pull_wechat_statistics_of, "delay_on_commit", queued.append)
    login(administrator)
    answer = client.post(reverse("admin:publishing_channelaccount_add"), {
        "name": "新账号", "platform": "wechat", "department": county["office"].pk, "is_active": "on",
        "api_base_url": settings.SANDBOX_URL, "wechat_account_type": "subscription",
        "wechat_app_id": "wx0new0account001", "wechat_app_secret": "new-secret",
        "quota_rules-TOTAL_FORMS": "0", "quota_rules-INITIAL_FORMS": "0",
        "quota_rules-MIN_NUM_FORMS": "0", "quota_rules-MAX_NUM_FORMS": "1000",
    })  # fmt: skip
    assert answer.status_code == 302
    account = ChannelAccount.objects.get(name="新账号")
    assert queued == [account.pk]
    ChannelAccount.objects.filter(pk=account.pk).update(api_base_url=sandbox.url)
    sandbox.register_wechat(appid="wx0new0account001", secret="new-secret")
    at(sandbox, *timezone.localtime(timezone.now(), SHANGHAI).timetuple()[:5])
    assert tasks.pull_wechat_statistics_of(account.pk) == 30
