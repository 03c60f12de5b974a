"""Account health: the thresholds around 14 days (13 warning, 14 alarm, 15 red on the page), and the daily
notice to the department mailed once a day however often the task runs."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

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
