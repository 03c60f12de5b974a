"""The mass-send screens: the send-time picker, quota beside each account, deliveries that refresh
themselves, links to what was sent, covers, and cancelling only after a confirmation."""

import json
from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from publishing import selectors
from publishing.models import Delivery, DeliveryState, Platform, Schedule, WeChatAccountType
from publishing.quota import SHANGHAI
from publishing.services import schedule_create

pytestmark = pytest.mark.django_db

ADD = "admin:publishing_schedule_add"


def at(days: int, hour: int = 10, minute: int = 0):
    return datetime.combine(timezone.localdate() + timedelta(days=days), time(hour, minute), tzinfo=SHANGHAI)


def form_data(articles, accounts, send_at: str) -> dict:
    data = {"send_at": send_at, "audience": "all", "accounts": [a.pk for a in accounts]}
    for n, article in enumerate(articles, 1):
        data[f"article_{n}"] = article.pk
    return data


@pytest.fixture
def sent_schedule(editor, approved, make_account):
    """Two articles to a WeChat account, a Weibo account and the portal, all three sent."""
    wechat = make_account("示范县发布")
    weibo = make_account("示范县微博", platform=Platform.WEIBO)
    portal = make_account("示范县网站", platform=Platform.PORTAL)
    first, second = approved("第一篇"), approved("第二篇")
    schedule = schedule_create(
        actor=editor, schedule=Schedule(send_at=at(2)), articles=[first, second], accounts=[wechat, weibo, portal]
    )
    Delivery.objects.filter(schedule=schedule).update(state=DeliveryState.SENT, sent_at=timezone.now())
    Delivery.objects.filter(schedule=schedule, account=wechat).update(
        platform_msg_id="1000000004",
        report_status="send success",
        report={"article_urls": {"Count": "2", "ResultList": {"item": [
            {"ArticleIdx": "2", "ArticleUrl": "https://mp.weixin.qq.com/s/second"},
            {"ArticleIdx": "1", "ArticleUrl": "https://mp.weixin.qq.com/s/first"},
        ]}}},
    )  # fmt: skip
    Delivery.objects.filter(schedule=schedule, account=weibo).update(platform_post_id="4900000000000006")
    return schedule


# -- the picker ---------------------------------------------------------------------------------


def test_add_page_has_the_browsers_own_picker_with_a_format_hint(editor, login):
    page = login(editor).get(reverse(ADD)).content.decode()
    assert 'type="datetime-local"' in page and 'name="send_at"' in page
    assert "北京时间。格式：2026-12-04 09:30（年-月-日 时:分）。" in page
    assert "当前（北京时间 " in page and "选择发送时间后显示该时间的配额" in page  # no time chosen yet
    # Nothing of the admin's split widget, whose script died on the missing core.js (quickElement).
    assert "DateTimeShortcuts" not in page and "calendar.js" not in page and 'name="send_at_0"' not in page


@pytest.mark.parametrize("typed", ["{day}T10:30", "{day} 10:30", "{day}T10:30:00"])
def test_the_time_typed_is_beijing_time(typed, editor, approved, make_account, login):
    account = make_account()
    day = at(2).date().isoformat()
    response = login(editor).post(reverse(ADD), form_data([approved()], [account], typed.format(day=day)))
    assert response.status_code == 302
    assert Schedule.objects.get().send_at == at(2, 10, 30)


@pytest.mark.parametrize("typed", ["12/04/2026 10:30", "明天上午", "2026-13-40T25:00"])
def test_a_bad_time_is_refused_in_chinese_and_nothing_is_stored(typed, editor, approved, make_account, login):
    account = make_account()
    response = login(editor).post(reverse(ADD), form_data([approved()], [account], typed))
    page = response.content.decode()
    assert response.status_code == 200
    assert "请按“年-月-日 时:分”填写北京时间，例如 2026-12-04 09:30。" in page
    assert Schedule.objects.count() == 0


def test_move_form_offers_the_current_time_in_the_same_picker(editor, approved, make_account, login):
    schedule = schedule_create(actor=editor, schedule=Schedule(send_at=at(2)), articles=[approved()],
                               accounts=[make_account()])  # fmt: skip
    page = login(editor).get(reverse("admin:publishing_schedule_change", args=[schedule.pk])).content.decode()
    expected = at(2).strftime("%Y-%m-%dT%H:%M")
    assert f'type="datetime-local" name="send_at" value="{expected}"' in page


# -- quota beside each account ------------------------------------------------------------------


def _quota_cell(page: str, account) -> str:
    start = page.index(f'data-quota-for="{account.pk}"')
    return page[start : page.index("</li>", start)]


def test_quota_left_is_shown_beside_each_account_for_the_chosen_day(editor, approved, make_account, login):
    busy = make_account("示范县发布")
    free = make_account("示范县乡村振兴")
    service = make_account("示范县政务服务", wechat_account_type=WeChatAccountType.SERVICE)
    weibo = make_account("示范县微博", platform=Platform.WEIBO)
    portal = make_account("示范县网站", platform=Platform.PORTAL)
    schedule_create(actor=editor, schedule=Schedule(send_at=at(2, 8)), articles=[approved()], accounts=[busy, service])
    client = login(editor)
    page = client.get(reverse(ADD), {"date": at(2).date().isoformat()}).content.decode()
    assert f"按发送时间 {at(2, 9).strftime('%Y-%m-%d %H:%M')}（北京时间）计算的剩余配额：" in page
    assert "当天剩 0/1 次" in _quota_cell(page, busy)
    assert "当天剩 1/1 次" in _quota_cell(page, free)
    assert "当月剩 3/4 次" in _quota_cell(page, service)
    assert "该小时剩 30/30 次" in _quota_cell(page, weibo)
    assert "不限次数" in _quota_cell(page, portal)
    # Another day: the subscription account is free again.
    other = client.get(reverse(ADD), {"date": at(3).date().isoformat()}).content.decode()
    assert "当天剩 1/1 次" in _quota_cell(other, busy)


def test_the_quota_shown_is_the_quota_the_booking_enforces(editor, approved, make_account, login):
    account = make_account()
    client = login(editor)
    day = at(2).strftime("%Y-%m-%dT%H:%M")
    assert client.post(reverse(ADD), form_data([approved("第一篇")], [account], day)).status_code == 302
    refused = client.post(reverse(ADD), form_data([approved("第二篇")], [account], day)).content.decode()
    # The refused form shows, for the time typed, exactly why: nothing left that day.
    assert "当天剩 0/1 次" in _quota_cell(refused, account) and "已用完" in refused
    assert Schedule.objects.count() == 1


def test_quota_follows_the_picker_through_a_small_request(editor, approved, make_account, login):
    account = make_account()
    schedule_create(actor=editor, schedule=Schedule(send_at=at(2)), articles=[approved()], accounts=[account])
    client = login(editor)
    url = reverse("admin:publishing_schedule_quota")
    answer = client.get(url, {"at": at(2, 15).strftime("%Y-%m-%dT%H:%M")})
    data = json.loads(answer.content)
    assert "当天剩 0/1 次" in data["accounts"][str(account.pk)]
    assert data["caption"] == f"按发送时间 {at(2, 15).strftime('%Y-%m-%d %H:%M')}（北京时间）计算的剩余配额："
    data = json.loads(client.get(url, {"at": at(3).strftime("%Y-%m-%dT%H:%M")}).content)
    assert "当天剩 1/1 次" in data["accounts"][str(account.pk)]
    bad = client.get(url, {"at": "明天"})
    assert bad.status_code == 400 and "请按“年-月-日 时:分”填写北京时间" in json.loads(bad.content)["error"]


def test_quota_request_needs_the_right_to_schedule(reviewer, login):
    assert (
        login(reviewer).get(reverse("admin:publishing_schedule_quota"), {"at": "2026-12-04T09:30"}).status_code == 403
    )


# -- deliveries refreshing by themselves --------------------------------------------------------


def _refresh(page: str) -> str:
    start = page.index('data-refresh="') + len('data-refresh="')
    return page[start : page.index('"', start)]


def test_deliveries_refresh_while_any_is_not_final_and_stop_when_all_are(editor, approved, make_account, login):
    schedule = schedule_create(actor=editor, schedule=Schedule(send_at=at(2)), articles=[approved()],
                               accounts=[make_account()])  # fmt: skip
    client = login(editor)
    detail = reverse("admin:publishing_schedule_change", args=[schedule.pk])
    fragment = reverse("admin:publishing_schedule_deliveries", args=[schedule.pk])
    page = client.get(detail).content.decode()
    assert _refresh(page) == "60" and f'data-src="{fragment}"' in page  # far off: once a minute
    assert "本列表每60秒自动更新" in page and f'href="{detail}">立即刷新</a>' in page  # the link works without script
    Delivery.objects.update(state=DeliveryState.SENDING)
    part = client.get(fragment).content.decode()
    assert _refresh(part) == "5" and "发送中" in part and "<html" not in part
    Delivery.objects.update(state=DeliveryState.SENT)
    part = client.get(fragment).content.decode()
    assert _refresh(part) == "0" and "已发送" in part and "所有投递均已结束。" in part and "立即刷新" not in part


def test_refresh_seconds():
    now = timezone.now()

    def delivery(state, due_in=timedelta(days=1)):
        return Delivery(state=state, due_at=now + due_in)

    assert selectors.refresh_seconds([], now) == 0
    assert selectors.refresh_seconds([delivery("sent"), delivery("failed"), delivery("unknown")], now) == 0
    assert selectors.refresh_seconds([delivery("sent"), delivery("scheduled")], now) == 60
    assert selectors.refresh_seconds([delivery("scheduled", timedelta(minutes=3))], now) == 5
    assert selectors.refresh_seconds([delivery("queued")], now) == 5
    assert selectors.refresh_seconds([delivery("retrying", timedelta(seconds=-5))], now) == 5


def test_deliveries_fragment_is_only_for_those_who_may_see_the_schedule(sent_schedule, county, login):
    from accounts import roles
    from tests.factories import UserFactory

    police = UserFactory(username="police-editor", department=county["police"], role=roles.EDITOR)
    url = reverse("admin:publishing_schedule_deliveries", args=[sent_schedule.pk])
    assert login(police).get(url).status_code == 403


# -- links to what was sent, covers ------------------------------------------------------------


def test_links_to_the_sent_wechat_articles_weibo_post_and_portal_pages(sent_schedule, editor, login):
    page = login(editor).get(reverse("admin:publishing_schedule_change", args=[sent_schedule.pk])).content.decode()
    assert '<a href="https://mp.weixin.qq.com/s/first" target="_blank" rel="noopener noreferrer">第 1 篇 ↗</a>' in page
    assert '<a href="https://mp.weixin.qq.com/s/second" target="_blank" rel="noopener noreferrer">第 2 篇 ↗</a>' in page
    assert 'href="https://weibo.com/1001/4900000000000006"' in page
    assert "已发送给粉丝" in page and "send success" not in page


def test_delivery_links_per_platform(sent_schedule):
    deliveries = {d.account.platform: d for d in sent_schedule.deliveries.select_related("account")}
    articles = sent_schedule.ordered_articles()
    wechat = deliveries[Platform.WECHAT]
    assert selectors.delivery_links(wechat, articles) == [
        ("第 1 篇", "https://mp.weixin.qq.com/s/first"),
        ("第 2 篇", "https://mp.weixin.qq.com/s/second"),
    ]
    # One article: the XML parser hands the item itself, not a list.
    wechat.report = {
        "article_urls": {"ResultList": {"item": {"ArticleIdx": "1", "ArticleUrl": "https://mp.weixin.qq.com/s/x"}}}
    }
    assert selectors.delivery_links(wechat, articles) == [("微信文章", "https://mp.weixin.qq.com/s/x")]
    wechat.report = {"article_urls": {"ResultList": {"item": {"ArticleIdx": "1", "ArticleUrl": "javascript:alert(1)"}}}}
    assert selectors.delivery_links(wechat, articles) == []
    assert selectors.delivery_links(deliveries[Platform.WEIBO], articles) == [
        ("微博", "https://weibo.com/1001/4900000000000006")
    ]
    weibo = deliveries[Platform.WEIBO]
    weibo.state = DeliveryState.SCHEDULED
    assert selectors.delivery_links(weibo, articles) == []  # nothing to see before it is sent


def test_report_label():
    assert selectors.report_label("") == ""
    assert selectors.report_label("send success") == "已发送给粉丝"
    assert selectors.report_label("send fail") == "发送失败"
    assert selectors.report_label("err(20013)") == "未通过微信审核（20013）：涉嫌侵犯版权"
    assert selectors.report_label("err(99999)") == "未通过微信审核（99999）：其他原因"


def test_covers_in_the_list_and_every_article_with_its_cover_on_the_page(sent_schedule, editor, login):
    client = login(editor)
    first, second = sent_schedule.ordered_articles()
    listing = client.get(reverse("admin:publishing_schedule_changelist")).content.decode()
    assert f'<img src="{first.cover.url}"' in listing and second.cover.url not in listing  # the headline's
    assert '<span class="ms-state ms-state-sent">已发送 3</span>' in listing  # the deliveries, as a coloured label
    page = client.get(reverse("admin:publishing_schedule_change", args=[sent_schedule.pk])).content.decode()
    assert f'<img class="ms-cover" src="{first.cover.url}"' in page and f'src="{second.cover.url}"' in page
    assert "第一篇" in page and "第二篇" in page


# -- cancelling asks first ---------------------------------------------------------------------


def test_cancel_asks_for_confirmation_first(editor, approved, make_account, login):
    schedule = schedule_create(actor=editor, schedule=Schedule(send_at=at(2)), articles=[approved()],
                               accounts=[make_account()])  # fmt: skip
    client = login(editor)
    url = reverse("admin:publishing_schedule_cancel", args=[schedule.pk])
    detail = client.get(reverse("admin:publishing_schedule_change", args=[schedule.pk])).content.decode()
    assert f'href="{url}"' in detail
    question = client.get(url).content.decode()
    assert "确定取消这次群发吗？目前尚未发出任何内容，取消后预留的配额将被释放。" in question
    client.post(url)  # a POST without the confirmation only asks again
    assert Delivery.objects.get().state == DeliveryState.SCHEDULED
    client.post(url, {"confirmed": "1"})
    assert Delivery.objects.get().state == DeliveryState.CANCELLED
    assert Schedule.objects.get().cancelled_at is not None


def test_sent_schedule_offers_no_move_or_cancel_and_says_why(sent_schedule, editor, login):
    client = login(editor)
    page = client.get(reverse("admin:publishing_schedule_change", args=[sent_schedule.pk])).content.decode()
    cancel = reverse("admin:publishing_schedule_cancel", args=[sent_schedule.pk])
    assert cancel not in page and 'value="reschedule"' not in page
    assert "部分群发已经发出（或可能已发出），不能再改期或取消。" in page
    asked = client.get(cancel, follow=True).content.decode()
    assert "部分群发已经发出（或可能已发出），不能再改期或取消。" in asked and "确定取消" not in asked
    assert Schedule.objects.get(pk=sent_schedule.pk).cancelled_at is None


def test_move_takes_the_pickers_value_and_refuses_a_bad_one_in_chinese(editor, approved, make_account, login):
    schedule = schedule_create(actor=editor, schedule=Schedule(send_at=at(2)), articles=[approved()],
                               accounts=[make_account()])  # fmt: skip
    client = login(editor)
    url = reverse("admin:publishing_schedule_change", args=[schedule.pk])
    bad = client.post(url, {"action": "reschedule", "send_at": "后天上午"}).content.decode()
    assert "请按“年-月-日 时:分”填写北京时间，例如 2026-12-04 09:30。" in bad
    assert Schedule.objects.get().send_at == at(2)
    moved = client.post(url, {"action": "reschedule", "send_at": at(3, 14, 30).strftime("%Y-%m-%dT%H:%M")})
    assert moved.status_code == 302
    assert Schedule.objects.get().send_at == at(3, 14, 30)
    assert Delivery.objects.get().due_at == at(3, 14, 30)
