"""Account health: the thresholds around 14 days (13 warning, 14 alarm, 15 red on the page), the overdue WeChat
cases per account (one query for all), and the daily notice to the department mailed once a day however often the
task runs."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from complaints.models import Case, CaseState
from publishing import health
from publishing.models import AccountHealthNotice, Delivery, DeliveryState, Schedule
from publishing.tasks import notify_account_health

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(make_account):
    return make_account("示范县发布")


def sent_days_ago(account, editor, days):
    moment = timezone.now() - timedelta(days=days)
    schedule = Schedule.objects.create(title="会议", send_at=moment, created_by=editor)
    return Delivery.objects.create(schedule=schedule, account=account, state=DeliveryState.SENT, due_at=moment,
                                   sent_at=moment)  # fmt: skip


@pytest.mark.parametrize(("days", "level"), [(9, "ok"), (10, "warning"), (13, "warning"), (14, "alarm"), (15, "alarm")])
def test_levels_around_the_thresholds(account, editor, days, level):
    sent_days_ago(account, editor, days)
    (row,) = health.health_of([account])
    assert (row.days_silent, row.level) == (days, level)


def test_thresholds_are_settings(account, editor, settings):
    settings.HEALTH_WARNING_DAYS, settings.HEALTH_ALARM_DAYS = 3, 7
    sent_days_ago(account, editor, 7)
    assert health.health_of([account])[0].level == "alarm"


def test_failed_deliveries_counted(account, editor):
    failed = sent_days_ago(account, editor, 1)
    Delivery.objects.filter(pk=failed.pk).update(state=DeliveryState.FAILED)
    sent_days_ago(account, editor, 2)
    (row,) = health.health_of([account])
    assert (row.failed_deliveries, row.days_silent) == (1, 2)


def test_page_shows_an_account_silent_15_days_in_red(client, login, administrator, account, editor):
    sent_days_ago(account, editor, 15)
    login(administrator)
    page = client.get(reverse("admin:publishing_account_health")).content.decode()
    assert '<tr class="level-alarm" data-level="alarm">' in page
    assert '<td class="level-alarm">15</td>' in page
    detail = client.get(reverse("admin:publishing_account_health_detail", args=[account.pk])).content.decode()
    assert '<td class="level-alarm">15</td>' in detail


def test_page_shows_13_days_as_warning(client, login, administrator, account, editor):
    sent_days_ago(account, editor, 13)
    login(administrator)
    page = client.get(reverse("admin:publishing_account_health")).content.decode()
    assert '<td class="level-warning">13</td>' in page


def test_notice_mailed_once_a_day_even_when_the_task_runs_twice(account, editor, administrator):
    administrator.email = "admin@gov.example.cn"
    administrator.save(update_fields=["email"])
    sent_days_ago(account, editor, 14)
    assert notify_account_health() == 1
    assert notify_account_health() == 0
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["admin@gov.example.cn"]
    assert mail.outbox[0].subject == "[政务新媒体检查] 示范县发布：已14天未更新"
    notice = AccountHealthNotice.objects.get()
    assert (notice.account_id, notice.level, notice.sent_at is not None) == (account.pk, "alarm", True)


def test_no_notice_for_a_healthy_account(account, editor, administrator):
    administrator.email = "admin@gov.example.cn"
    administrator.save(update_fields=["email"])
    sent_days_ago(account, editor, 9)
    assert notify_account_health() == 0
    assert mail.outbox == []
    assert not AccountHealthNotice.objects.exists()


def test_workbench_card_counts_accounts_in_alarm(client, login, administrator, account, make_account, editor):
    sent_days_ago(account, editor, 15)
    sent_days_ago(make_account("示范县服务"), editor, 2)
    login(administrator)
    page = client.get(reverse("admin:index")).content.decode()
    assert "账号健康" in page
    assert "1/2" in page
    assert "距上次群发或发布已15天。" in page


def follower_writes(account, text, *, msg_id, openid):
    """A follower's text the library does not know: stored, it becomes (or joins) the follower's citizen message."""
    from publishing import services

    services.inbound_message_store(
        account_id=account.pk,
        fields={"MsgType": "text", "FromUserName": openid, "Content": text, "MsgId": str(msg_id)},
        dedupe_key=f"msg:{msg_id}",
        received_at=timezone.now(),
        answered_automatically=False,
    )
    return Case.objects.get(wechat_messages__msg_id=str(msg_id))


def test_overdue_wechat_cases_per_account_in_one_query(account, make_account, django_assert_num_queries):
    quiet, other = make_account("示范县公安"), make_account("示范县服务")
    yesterday, tomorrow = timezone.localdate() - timedelta(days=1), timezone.localdate() + timedelta(days=1)
    overdue = follower_writes(account, "路灯坏了", msg_id=1, openid="oA1")
    follower_writes(account, "还没修", msg_id=2, openid="oA1")  # joins the same case: counted once
    second = follower_writes(account, "公交站牌掉了", msg_id=3, openid="oA2")
    not_yet = follower_writes(account, "井盖丢了", msg_id=4, openid="oA3")
    stopped = follower_writes(account, "申请公开", msg_id=5, openid="oA4")
    replied = follower_writes(account, "早就答复了", msg_id=6, openid="oA5")
    elsewhere = follower_writes(other, "别的账号", msg_id=7, openid="oB1")
    Case.objects.filter(pk__in=[overdue.pk, second.pk, stopped.pk, replied.pk, elsewhere.pk]).update(due_date=yesterday)
    Case.objects.filter(pk=not_yet.pk).update(due_date=tomorrow)
    Case.objects.filter(pk=stopped.pk).update(clock_stopped_since=timezone.now())  # a stopped clock is not overdue
    Case.objects.filter(pk=replied.pk).update(state=CaseState.CLOSED)
    with django_assert_num_queries(1):
        counts = health.overdue_wechat_cases([account.pk, quiet.pk, other.pk])
    assert counts == {account.pk: 2, other.pk: 1}
    rows = {row.account.pk: row for row in health.health_of([account, quiet, other])}
    assert (rows[account.pk].overdue_cases, rows[quiet.pk].overdue_cases, rows[other.pk].overdue_cases) == (2, 0, 1)


def test_page_and_card_show_overdue_wechat_cases(client, login, administrator, account, editor):
    sent_days_ago(account, editor, 2)
    case = follower_writes(account, "路灯坏了", msg_id=11, openid="oA1")
    Case.objects.filter(pk=case.pk).update(due_date=timezone.localdate() - timedelta(days=3))
    login(administrator)
    page = client.get(reverse("admin:publishing_account_health")).content.decode()
    assert "逾期的微信留言办件" in page
    assert '<td data-overdue="1" class="level-alarm">1</td>' in page
    card = client.get(reverse("admin:index")).content.decode()
    assert "距上次群发或发布已2天。1件微信留言已逾期。" in card
