"""A send that may have reached the platform is never recorded as "not sent": it keeps its quota slot,
is reconciled (WeChat: the same clientmsgid, de-duplicated for 24 hours; Weibo: a look at the account's
latest posts) and ends as sent or unknown, and "retry now" settles it on its own slot."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditLog
from govcms.actions import ActionRefused
from publishing import services
from publishing.channels.base import PermanentError
from publishing.channels.wechat_api import GovWeChatClient
from publishing.models import Delivery, DeliveryState, QuotaSlot, Schedule, WeChatAccountType
from publishing.services import delivery_retry, dispatch_due, schedule_create
from tests.publishing.sending import make_due, run_dispatch, schedule_now

SENDALL = "/cgi-bin/message/mass/sendall"
SHARE = "/2/statuses/share.json"


def lose_the_answer(sandbox, path=SENDALL):
    """The platform carries the request out, then the connection closes without an answer."""
    sandbox.faults(drop_rate=1.0, drop_after_action=True, paths=[path])


def second_schedule(editor, approved, account):
    return schedule_create(
        actor=editor,
        schedule=Schedule(send_at=timezone.now() + timedelta(minutes=2)),
        articles=[approved("同一天的第二次群发")],
        accounts=[account],
    )


def run_once(delivery):
    make_due(delivery)
    return list(run_dispatch().values())


@pytest.mark.django_db
def test_lost_answer_then_busy_past_the_attempt_limit_keeps_the_slot_and_ends_sent(
    editor, approved, accounts, sandbox, settings
):
    account = accounts["sub"]
    lose_the_answer(sandbox)
    schedule = schedule_now(editor, [approved()], [account])
    assert list(run_dispatch().values()) == ["retrying"]
    delivery = schedule.deliveries.get()
    assert delivery.uncertain_since is not None and delivery.needs_reconcile
    assert len(sandbox.sends(account.wechat_app_id)) == 1  # the followers have it

    # Every resend is answered -1 before WeChat looks at the clientmsgid, well past the attempt limit.
    sandbox.faults(error_rate=1.0, errors=[-1], paths=[SENDALL])
    for _ in range(settings.PUBLISHING_MAX_ATTEMPTS + 2):
        assert run_once(delivery) == ["retrying"]
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.RETRYING and delivery.attempts == settings.PUBLISHING_MAX_ATTEMPTS + 3
    assert delivery.quota_slots.count() == 1
    assert "可能已到达平台" in delivery.error_message and "将于" in delivery.error_message
    assert delivery.error_detail == "-1 system error"
    assert "system error" not in delivery.error_message

    # The day is used: a second schedule on this subscription account is refused before anything is stored.
    with pytest.raises(ValidationError, match="已用完"):
        second_schedule(editor, approved, account)

    sandbox.faults(error_rate=0)
    assert run_once(delivery) == ["sent"]
    sends = sandbox.sends(account.wechat_app_id)
    assert len(sends) == 1
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SENT and delivery.platform_msg_id == str(sends[0]["msg_id"])
    assert delivery.uncertain_since is None and delivery.quota_slots.count() == 1
    assert AuditLog.objects.get(action="delivery.sent", target_id=str(delivery.pk)).detail["duplicate"] is True


@pytest.mark.django_db
def test_busy_answers_without_any_lost_one_fail_after_the_attempts_and_free_the_day(
    editor, approved, accounts, sandbox, settings
):
    account = accounts["sub"]
    sandbox.faults(error_rate=1.0, errors=[-1], paths=[SENDALL])
    schedule = schedule_now(editor, [approved()], [account])
    outcomes = [run_once(schedule.deliveries.get()) for _ in range(settings.PUBLISHING_MAX_ATTEMPTS)]
    assert outcomes[-1] == ["failed"] and outcomes[:-1] == [["retrying"]] * (settings.PUBLISHING_MAX_ATTEMPTS - 1)
    delivery = schedule.deliveries.get()
    # A final failure never says it will be retried; the platform's own words are kept apart.
    assert delivery.error_message.startswith("微信系统繁忙（-1）。没有发出任何内容")
    assert "将于" not in delivery.error_message and "system error" not in delivery.error_message
    assert delivery.error_detail == "-1 system error"
    assert not delivery.quota_slots.exists() and sandbox.sends(account.wechat_app_id) == []
    second_schedule(editor, approved, account)  # nothing went out: the day is free again


@pytest.mark.django_db
def test_past_the_window_it_becomes_unknown_with_its_slot_kept_and_retry_now_settles_it(
    editor, approved, accounts, sandbox, settings, login
):
    account = accounts["sub"]
    settings.PUBLISHING_RECONCILE_WINDOW_SECONDS = 3600
    lose_the_answer(sandbox)
    schedule = schedule_now(editor, [approved()], [account])
    run_dispatch()
    sandbox.faults(error_rate=1.0, errors=[-1], paths=[SENDALL])
    delivery = schedule.deliveries.get()
    assert run_once(delivery) == ["retrying"]
    # An hour on, WeChat may no longer recognise the clientmsgid: nothing is resent, a person checks.
    Delivery.objects.filter(pk=delivery.pk).update(uncertain_since=timezone.now() - timedelta(seconds=3601))
    requests_before = sandbox.state()["requests"].get(SENDALL, 0)
    assert run_once(delivery) == ["unknown"]
    assert sandbox.state()["requests"].get(SENDALL, 0) == requests_before
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.UNKNOWN and delivery.quota_slots.count() == 1
    assert "可能已经发出" in delivery.error_message and "发表记录" in delivery.error_message
    assert "自动重试" not in delivery.error_message
    with pytest.raises(ValidationError, match="已用完"):
        second_schedule(editor, approved, account)
    assert run_dispatch() == {}  # final: dispatch leaves it alone

    page = login(editor).get(reverse("admin:publishing_schedule_change", args=[schedule.pk])).content.decode()
    assert "可能已发出，待核对" in page and "发表记录" in page and "立即重试" in page
    dashboard = login(editor).get(reverse("admin:index")).content.decode()
    assert "可能已发出，待核对" in dashboard

    # The editor checked and uses "retry now": its own slot for today is not a reason to refuse it.
    sandbox.faults(error_rate=0)
    delivery_retry(actor=editor, delivery=delivery)
    assert QuotaSlot.objects.filter(account=account).count() == 1
    assert list(run_dispatch().values()) == ["sent"]
    sends = sandbox.sends(account.wechat_app_id)
    assert len(sends) == 1  # WeChat still knew the clientmsgid: confirmed, not sent again
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SENT and delivery.platform_msg_id == str(sends[0]["msg_id"])


@pytest.mark.django_db
def test_a_clear_refusal_after_a_lost_answer_is_unknown_not_failed_and_retry_now_uses_the_kept_slot(
    editor, approved, accounts, sandbox
):
    account = accounts["svc"]  # four a month
    lose_the_answer(sandbox)
    schedule = schedule_now(editor, [approved()], [account])
    run_dispatch()
    sandbox.faults(error_rate=1.0, errors=[45028], paths=[SENDALL])
    delivery = schedule.deliveries.get()
    assert run_once(delivery) == ["unknown"]
    delivery.refresh_from_db()
    assert delivery.error_code == "45028" and delivery.quota_slots.count() == 1
    sandbox.faults(error_rate=0)
    delivery_retry(actor=editor, delivery=delivery)
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.RETRYING and delivery.uncertain_since is not None
    assert list(run_dispatch().values()) == ["sent"]
    assert len(sandbox.sends(account.wechat_app_id)) == 1
    assert QuotaSlot.objects.filter(account=account).count() == 1


@pytest.mark.django_db
def test_lease_expiry_after_the_send_is_settled_by_45065_with_the_original_msg_id(
    editor, approved, accounts, sandbox, wechat_session
):
    account = accounts["sub"]
    schedule = schedule_now(editor, [approved()], [account])
    delivery = schedule.deliveries.get()
    dispatch_due()
    # The worker claimed it, WeChat sent it, and the worker died before recording anything.
    worker = GovWeChatClient(account.wechat_app_id, account.wechat_app_secret, sandbox.url, wechat_session)
    thumb = worker.add_image_material(b"\xff\xd8\xff\xe0" + b"0" * 100, "c.jpg")[0]
    draft = worker.draft.add([{"title": "群发", "content": "<p>x</p>", "thumb_media_id": thumb}])
    original = worker.mass.send_all(draft, clientmsgid=delivery.uuid.hex)
    Delivery.objects.filter(pk=delivery.pk).update(
        state=DeliveryState.SENDING, attempts=1, lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert dispatch_due() == [delivery.pk]
    delivery.refresh_from_db()
    assert delivery.needs_reconcile and delivery.uncertain_since is not None
    assert services.delivery_send(delivery_id=delivery.pk) == "sent"
    delivery.refresh_from_db()
    assert delivery.platform_msg_id == str(original["msg_id"])
    assert len(sandbox.sends(account.wechat_app_id)) == 1


@pytest.mark.django_db
def test_a_run_whose_lease_was_taken_over_cannot_record_an_outcome(editor, approved, accounts):
    schedule = schedule_now(editor, [approved()], [accounts["sub"]])
    delivery = schedule.deliveries.get()
    dispatch_due()
    stale = services._claim(delivery.pk, timezone.now() - timedelta(seconds=1))
    dispatch_due()  # the lease ran out: queued again, and another run claims it
    assert services._claim(delivery.pk, timezone.now() + timedelta(minutes=5)) is not None
    assert services._record_failed(stale, PermanentError("x", "失败")) == "lease lost"
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SENDING and delivery.quota_slots.exists()


@pytest.mark.django_db
def test_a_schedule_with_a_delivery_that_may_have_been_sent_cannot_be_cancelled(editor, approved, accounts, sandbox):
    """Cancelling would free a slot that may really be used and record a cancel on a send that may have
    happened: refused, and nothing changes, not even the other account's waiting delivery."""
    lose_the_answer(sandbox)
    schedule = schedule_now(editor, [approved()], [accounts["sub"], accounts["svc"]])
    sandbox.faults(drop_rate=1.0, drop_after_action=True, paths=[SENDALL])
    run_dispatch()
    uncertain = schedule.deliveries.get(account=accounts["sub"])
    Delivery.objects.filter(account=accounts["svc"]).update(
        state=DeliveryState.RETRYING, uncertain_since=None, needs_reconcile=False
    )
    with pytest.raises(ActionRefused, match="部分群发已经发出（或可能已发出），不能再改期或取消。"):
        services.schedule_cancel(actor=editor, schedule=schedule)
    uncertain.refresh_from_db()
    assert uncertain.state == DeliveryState.RETRYING and uncertain.quota_slots.count() == 1
    waiting = schedule.deliveries.get(account=accounts["svc"])
    assert waiting.state == DeliveryState.RETRYING and waiting.quota_slots.count() == 1
    schedule.refresh_from_db()
    assert schedule.cancelled_at is None


# -- Weibo: no idempotency key, but the account's latest posts can be looked at ------------------


@pytest.mark.django_db
def test_weibo_post_whose_answer_was_lost_is_found_among_the_latest_posts(editor, approved, accounts, sandbox):
    lose_the_answer(sandbox, SHARE)
    schedule = schedule_now(editor, [approved("防汛工作会议召开")], [accounts["weibo"]])
    assert list(run_dispatch().values()) == ["retrying"]
    sandbox.faults(drop_rate=0)
    delivery = schedule.deliveries.get()
    assert run_once(delivery) == ["sent"]
    posts = sandbox.state()["weibo_posts"]
    assert len(posts) == 1
    delivery.refresh_from_db()
    assert delivery.platform_post_id == str(posts[0]["id"])
    assert AuditLog.objects.get(action="delivery.sent", target_id=str(delivery.pk)).detail["reconciled"] is True


@pytest.mark.django_db
def test_weibo_post_that_never_arrived_is_unknown_then_posted_once_by_retry_now(editor, approved, accounts, sandbox):
    sandbox.faults(drop_rate=1.0, paths=[SHARE])  # the connection breaks before Weibo posts anything
    schedule = schedule_now(editor, [approved("秸秆禁烧宣传")], [accounts["weibo"]])
    assert list(run_dispatch().values()) == ["retrying"]
    sandbox.faults(drop_rate=0)
    delivery = schedule.deliveries.get()
    assert run_once(delivery) == ["unknown"]  # not among the latest posts, and Weibo has no safe resend
    delivery.refresh_from_db()
    assert delivery.quota_slots.count() == 2 and "微博账号" in delivery.error_message
    assert sandbox.state()["weibo_posts"] == []
    delivery_retry(actor=editor, delivery=delivery)
    assert list(run_dispatch().values()) == ["sent"]
    assert len(sandbox.state()["weibo_posts"]) == 1


@pytest.mark.django_db
def test_weibo_rate_limit_is_a_clear_answer_and_the_retry_posts_without_asking(editor, approved, accounts, sandbox):
    sandbox.faults(error_rate=1.0, errors=[20016], paths=[SHARE])
    schedule = schedule_now(editor, [approved()], [accounts["weibo"]])
    assert list(run_dispatch().values()) == ["retrying"]
    delivery = schedule.deliveries.get()
    assert delivery.uncertain_since is None and not delivery.needs_reconcile
    sandbox.faults(error_rate=0)
    assert run_once(delivery) == ["sent"]
    assert sandbox.state()["requests"].get("/2/statuses/user_timeline.json", 0) == 0


@pytest.mark.django_db
def test_service_account_month_stays_booked_while_a_send_is_unconfirmed(editor, approved, accounts, sandbox):
    account = accounts["svc"]
    assert account.wechat_account_type == WeChatAccountType.SERVICE
    lose_the_answer(sandbox)
    first = schedule_now(editor, [approved("本月第一次")], [account])
    run_dispatch()
    sandbox.faults(error_rate=1.0, errors=[-1], paths=[SENDALL])
    for _ in range(8):
        run_once(first.deliveries.get())
    for n in range(3):  # the other three of the month can still be booked, not a fifth
        schedule_create(
            actor=editor,
            schedule=Schedule(send_at=timezone.now() + timedelta(minutes=2 + n)),
            articles=[approved(f"本月第{n + 2}次")],
            accounts=[account],
        )
    with pytest.raises(ValidationError, match="已用完"):
        second_schedule(editor, approved, account)


@pytest.mark.django_db
def test_trouble_before_sendall_is_a_plain_retry_not_a_maybe_sent(editor, approved, accounts, sandbox, monkeypatch):
    from django.db import OperationalError

    from publishing.channels.wechat import WeChatChannel

    def database_restarting(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(WeChatChannel, "_material", database_restarting)
    schedule = schedule_now(editor, [approved()], [accounts["sub"]])
    assert list(run_dispatch().values()) == ["retrying"]
    delivery = schedule.deliveries.get()
    assert delivery.uncertain_since is None and delivery.error_code == "internal"
    assert delivery.error_message.startswith("系统未能为微信准备好稿件。将于")


@pytest.mark.django_db
def test_no_answer_to_sendall_is_recorded_as_such_and_may_have_been_sent(editor, approved, accounts, sandbox):
    sandbox.faults(drop_rate=1.0, paths=[SENDALL])  # the connection breaks; nothing says whether it went
    schedule = schedule_now(editor, [approved()], [accounts["sub"]])
    assert list(run_dispatch().values()) == ["retrying"]
    delivery = schedule.deliveries.get()
    assert delivery.error_code == "no_answer" and delivery.uncertain_since is not None
