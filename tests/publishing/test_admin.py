"""The editor's path through the admin: schedule, see it on the calendar, be refused when the day is full."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from publishing.models import Delivery, Schedule
from tests.workbench import waiting

pytestmark = pytest.mark.django_db


def _two_days_ahead():
    # 10:00 in the county two days ahead: "+ 3 hours" stays on the same quota day whenever the suite runs.
    return (timezone.localtime() + timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)


def _form(articles, accounts, send_at):
    local = timezone.localtime(send_at)
    data = {"send_at": local.strftime("%Y-%m-%dT%H:%M"), "audience": "all", "accounts": [a.pk for a in accounts]}
    for n, article in enumerate(articles, 1):
        data[f"article_{n}"] = article.pk
    return data


def test_editor_schedules_sees_the_calendar_and_is_refused_a_second_send_that_day(
    editor, approved, make_account, login
):
    account = make_account()
    client = login(editor)
    day = _two_days_ahead()
    first, second = approved("第一篇"), approved("第二篇")
    response = client.post(reverse("admin:publishing_schedule_add"), _form([first, second], [account], day))
    assert response.status_code == 302, response.content.decode()[:2000]
    schedule = Schedule.objects.get()
    assert [a.title for a in schedule.ordered_articles()] == ["第一篇", "第二篇"]
    detail = client.get(reverse("admin:publishing_schedule_change", args=[schedule.pk])).content.decode()
    assert "已排期" in detail and account.name in detail

    calendar = client.get(reverse("admin:publishing_schedule_calendar"), {"date": timezone.localdate(day).isoformat()})
    page = calendar.content.decode()
    assert calendar.status_code == 200 and account.name in page and "已满" in page

    refused = client.post(
        reverse("admin:publishing_schedule_add"), _form([approved("第三篇")], [account], day + timedelta(hours=3))
    )
    text = refused.content.decode()
    assert refused.status_code == 200 and "已用完" in text
    assert Schedule.objects.count() == 1


def test_cancel_from_the_admin_frees_the_day(editor, approved, make_account, login):
    account = make_account()
    client = login(editor)
    day = _two_days_ahead()
    client.post(reverse("admin:publishing_schedule_add"), _form([approved()], [account], day))
    schedule = Schedule.objects.get()
    client.post(reverse("admin:publishing_schedule_cancel", args=[schedule.pk]), {"confirmed": "1"})
    assert Delivery.objects.get().state == "cancelled"
    assert (
        client.post(reverse("admin:publishing_schedule_add"), _form([approved("另一篇")], [account], day)).status_code
        == 302
    )


def test_dashboard_shows_sends_failures_and_quota(editor, approved, make_account, login):
    account = make_account()
    client = login(editor)
    client.post(
        reverse("admin:publishing_schedule_add"), _form([approved()], [account], timezone.now() + timedelta(hours=1))
    )
    assert waiting(client, "publishing") == {"scheduled": 1}
    Delivery.objects.update(state="failed", error_code="45028", error_message="群发次数已用完")
    assert waiting(client, "publishing") == {"failed": 1}
    page = client.get(reverse("admin:index")).content.decode()
    assert "群发次数已用完" in page and "今日剩余配额" in page and f"{account.name}：" in page


def test_secrets_are_never_shown_back(administrator, make_account, login):
    account = make_account(wechat_app_secret="top-secret-value")
    page = (
        login(administrator).get(reverse("admin:publishing_channelaccount_change", args=[account.pk])).content.decode()
    )
    assert "top-secret-value" not in page and "不予显示" in page


def test_handler_of_another_department_cannot_use_the_account(other_handler, editor, approved, make_account, login):
    from django.contrib.auth.models import Group

    from accounts import roles

    other_handler.groups.add(Group.objects.get(name=roles.EDITOR))
    account = make_account()
    page = login(other_handler).get(reverse("admin:publishing_schedule_add")).content.decode()
    assert account.name not in page
