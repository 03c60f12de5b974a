import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from publishing.forms import QuotaRuleInlineForm
from publishing.models import Delivery, DeliveryState, Platform, QuotaRule, QuotaSlot, Schedule, WeChatAccountType
from publishing.quota import period_key
from publishing.services import schedule_cancel, schedule_create, schedule_reschedule

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")


def at(*args, tz=SHANGHAI):
    return datetime(*args, tzinfo=tz)


def book(editor, articles, accounts, send_at):
    return schedule_create(actor=editor, schedule=Schedule(send_at=send_at), articles=articles, accounts=accounts)


@pytest.fixture
def future_day():
    return (datetime.now(SHANGHAI) + timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)


def test_periods_are_shanghai_calendar_periods_whatever_the_zone_given():
    assert period_key(at(2026, 12, 1, 15, 59, 59, tz=UTC), "day") == "2026-12-01"  # 23:59:59 in Shanghai
    assert period_key(at(2026, 12, 1, 16, 0, 0, tz=UTC), "day") == "2026-12-02"  # 00:00:00 in Shanghai
    assert period_key(at(2026, 11, 30, 16, 0, 0, tz=UTC), "month") == "2026-12"
    assert period_key(at(2026, 12, 1, 9, 30), "hour") == "2026-12-01T09"


@pytest.mark.django_db
def test_subscription_account_gets_one_send_per_day(editor, approved, make_account, future_day):
    account = make_account()
    first, second = approved("第一篇"), approved("第二篇")
    book(editor, [first], [account], future_day)
    with pytest.raises(ValidationError) as refused:
        book(editor, [second], [account], future_day + timedelta(hours=5))
    assert "已用完" in " ".join(refused.value.messages) and "日历" in " ".join(refused.value.messages)
    book(editor, [second], [account], future_day + timedelta(days=1))
    assert QuotaSlot.objects.filter(account=account).count() == 2


@pytest.mark.django_db
def test_last_second_of_a_day_and_midnight_are_different_days(editor, approved, make_account, future_day):
    account = make_account()
    midnight = future_day.replace(hour=0) + timedelta(days=1)
    book(editor, [approved("深夜稿")], [account], midnight - timedelta(seconds=1))
    book(editor, [approved("零点稿")], [account], midnight)
    assert set(QuotaSlot.objects.values_list("period_key", flat=True)) == {
        (midnight - timedelta(seconds=1)).strftime("%Y-%m-%d"),
        midnight.strftime("%Y-%m-%d"),
    }


@pytest.mark.django_db
def test_service_account_gets_four_sends_per_month(editor, approved, make_account):
    account = make_account(wechat_account_type=WeChatAccountType.SERVICE)
    now = datetime.now(SHANGHAI)
    first_of_next = (now.replace(day=1) + timedelta(days=32)).replace(day=1, hour=9, minute=0, second=0, microsecond=0)
    for day in range(4):
        book(editor, [approved(f"服务号第{day}篇")], [account], first_of_next + timedelta(days=day))
    with pytest.raises(ValidationError, match="4"):
        book(editor, [approved("第五篇")], [account], first_of_next + timedelta(days=10))
    following = (first_of_next + timedelta(days=32)).replace(day=1)
    book(editor, [approved("下个月")], [account], following)


@pytest.mark.django_db
def test_cancel_frees_the_slot_and_reschedule_moves_it(editor, approved, make_account, future_day):
    account = make_account()
    schedule = book(editor, [approved()], [account], future_day)
    schedule_reschedule(actor=editor, schedule=schedule, send_at=future_day + timedelta(days=1))
    assert list(QuotaSlot.objects.values_list("period_key", flat=True)) == [
        (future_day + timedelta(days=1)).strftime("%Y-%m-%d")
    ]
    book(editor, [approved("同一天另一篇")], [account], future_day)  # the old day is free again
    schedule_cancel(actor=editor, schedule=schedule)
    assert Delivery.objects.get(schedule=schedule).state == DeliveryState.CANCELLED
    assert not QuotaSlot.objects.filter(delivery__schedule=schedule).exists()
    book(editor, [approved("改期后的那天")], [account], future_day + timedelta(days=1))


@pytest.mark.django_db(transaction=True)
def test_concurrent_bookings_of_the_last_slot_let_exactly_one_win(editor, approved, make_account, future_day):
    account = make_account()
    articles = [approved(f"并发稿件{n}") for n in range(8)]
    results, barrier = [], threading.Barrier(8)

    def attempt(article):
        try:
            barrier.wait()
            book(editor, [article], [account], future_day)
            results.append("ok")
        except ValidationError:
            results.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(article,)) for article in articles]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["ok"] + ["refused"] * 7
    assert QuotaSlot.objects.filter(account=account).count() == 1
    assert Schedule.objects.count() == 1  # the refused ones stored nothing


@pytest.mark.django_db
def test_rules_can_be_tightened_but_not_loosened(make_account):
    weibo = make_account("微博", platform=Platform.WEIBO)
    loosen = QuotaRuleInlineForm(data={"period": "hour", "limit": 31}, instance=QuotaRule(account=weibo))
    assert not loosen.is_valid() and "30" in str(loosen.errors)
    tighten = QuotaRuleInlineForm(data={"period": "hour", "limit": 10}, instance=QuotaRule(account=weibo))
    assert tighten.is_valid()


@pytest.mark.django_db
def test_send_window_and_minimum_gap_are_enforced(editor, approved, make_account, future_day):
    from datetime import time

    portal = make_account(
        "门户", platform=Platform.PORTAL, window_start=time(7), window_end=time(22), min_gap_minutes=60
    )
    with pytest.raises(ValidationError, match="07:00"):
        book(editor, [approved("夜间稿")], [portal], future_day.replace(hour=23))
    book(editor, [approved("上午稿")], [portal], future_day)
    with pytest.raises(ValidationError, match="60"):
        book(editor, [approved("紧跟着的稿")], [portal], future_day + timedelta(minutes=30))
    book(editor, [approved("一小时后")], [portal], future_day + timedelta(minutes=61))
