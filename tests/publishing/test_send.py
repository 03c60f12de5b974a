"""Sending through the sandbox: WeChat and Weibo exactly once, errors classified, reports stored."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from publishing.models import Delivery, DeliveryState
from publishing.services import dispatch_due
from tests.publishing.sending import make_due, run_dispatch, schedule_now

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_two_articles_reach_every_account_exactly_once(editor, approved, accounts, sandbox):
    first, second = approved("示范县召开防汛工作会议"), approved("城关镇开展秸秆禁烧宣传")
    schedule = schedule_now(editor, [first, second], list(accounts.values()))
    outcomes = run_dispatch()
    assert set(outcomes.values()) == {"sent"}, list(
        Delivery.objects.values_list("account__name", "error_code", "error_message")
    )
    assert run_dispatch() == {}
    for key in ("sub", "svc"):
        sends = sandbox.sends(accounts[key].wechat_app_id)
        assert len(sends) == 1
        assert [a["title"] for a in sends[0]["articles"]] == ["示范县召开防汛工作会议", "城关镇开展秸秆禁烧宣传"]
    posts = sandbox.state()["weibo_posts"]
    assert len(posts) == 1 and f"https://gov.example.cn/articles/{first.pk}/" in posts[0]["status"]
    first.refresh_from_db()
    assert first.is_live
    for delivery in schedule.deliveries.all():
        assert delivery.state == DeliveryState.SENT
    assert Delivery.objects.get(account=accounts["sub"]).platform_msg_id


@pytest.mark.django_db
def test_tag_audience_reaches_the_sandbox_as_tag_id(editor, approved, accounts, sandbox):
    account = accounts["sub"]
    sandbox.register_wechat(appid=account.wechat_app_id, secret=account.wechat_app_secret, tags={"101": 300})
    schedule_now(editor, [approved()], [accounts["sub"]], audience="tag", wechat_tag_id=101)
    run_dispatch()
    assert sandbox.sends(accounts["sub"].wechat_app_id)[0]["filter"] == {"is_to_all": False, "tag_id": 101}


@pytest.mark.django_db
def test_transient_errors_retry_until_sent(editor, approved, accounts, sandbox):
    sandbox.faults(error_rate=1.0, errors=[-1], paths=["/cgi-bin/message/mass/sendall"])
    schedule = schedule_now(editor, [approved()], [accounts["sub"]])
    assert list(run_dispatch().values()) == ["retrying"]
    delivery = schedule.deliveries.get()
    assert delivery.state == DeliveryState.RETRYING and delivery.error_code == "-1"
    assert delivery.due_at > timezone.now()  # backed off
    # The draft made before the failed send is kept with the outcome, and the retry sends it.
    assert delivery.platform_media_id in sandbox.state()["drafts"]
    sandbox.faults(error_rate=0)
    make_due(delivery)
    assert list(run_dispatch().values()) == ["sent"]
    sends = sandbox.sends(accounts["sub"].wechat_app_id)
    assert len(sends) == 1 and len(sandbox.state()["drafts"]) == 1
    assert schedule.deliveries.get().platform_media_id == delivery.platform_media_id


@pytest.mark.django_db
def test_no_quota_on_the_platform_fails_with_the_code_explained(editor, approved, accounts, sandbox, wechat_session):
    from publishing.channels.wechat_api import GovWeChatClient

    # Someone used today's quota from the WeChat web console, which shares it with the API.
    console = GovWeChatClient(
        accounts["sub"].wechat_app_id, accounts["sub"].wechat_app_secret, sandbox.url, wechat_session
    )
    draft = console.draft.add(
        [
            {
                "title": "后台群发",
                "content": "<p>x</p>",
                "thumb_media_id": console.add_image_material(b"\xff\xd8\xff\xe0" + b"0" * 100, "c.jpg")[0],
            }
        ]
    )
    console.mass.send_all(draft, clientmsgid="console-1")
    schedule_now(editor, [approved()], [accounts["sub"]])
    assert list(run_dispatch().values()) == ["failed"]
    delivery = Delivery.objects.get(account=accounts["sub"])
    assert delivery.error_code == "45028" and "群发次数" in delivery.error_message
    assert delivery.quota_slots.exists()  # the day really is used up: keep it booked


@pytest.mark.django_db
def test_send_lost_on_the_wire_is_not_sent_twice(editor, approved, accounts, sandbox):
    # The sandbox performs the mass-send, then drops the connection before answering.
    sandbox.faults(drop_rate=1.0, drop_after_action=True, paths=["/cgi-bin/message/mass/sendall"])
    schedule_now(editor, [approved()], [accounts["sub"]])
    assert list(run_dispatch().values()) == ["retrying"]
    sandbox.faults(drop_rate=0)
    delivery = Delivery.objects.get(account=accounts["sub"])
    assert delivery.needs_reconcile
    make_due(delivery)
    assert list(run_dispatch().values()) == ["sent"]
    sends = sandbox.sends(accounts["sub"].wechat_app_id)
    assert len(sends) == 1
    delivery.refresh_from_db()
    assert delivery.platform_msg_id == str(sends[0]["msg_id"])


@pytest.mark.django_db(transaction=True)
def test_report_callback_fills_the_counts(editor, approved, accounts, sandbox, live_server):
    account = accounts["sub"]
    callback = live_server.url + reverse("publishing:wechat_callback", args=[account.pk])
    sandbox.register_wechat(appid=account.wechat_app_id, secret=account.wechat_app_secret, token=account.wechat_token,
                            callback_url=callback, followers=1234)  # fmt: skip
    schedule_now(editor, [approved()], [account])
    run_dispatch()
    delivery = Delivery.objects.get(account=account)
    deadline = time.monotonic() + 10
    while delivery.sent_count is None and time.monotonic() < deadline:
        time.sleep(0.1)
        delivery.refresh_from_db()
    assert delivery.report_status == "send success"
    assert delivery.total_count == 1234 and delivery.sent_count is not None


@pytest.mark.django_db
def test_callback_with_a_bad_signature_is_refused(client, accounts):
    url = reverse("publishing:wechat_callback", args=[accounts["sub"].pk])
    assert client.get(url, {"signature": "x", "timestamp": "1", "nonce": "2", "echostr": "hi"}).status_code == 403


@pytest.mark.django_db
def test_redis_flush_during_a_run_loses_nothing(editor, approved, accounts, settings):
    schedule = schedule_now(editor, [approved()], [accounts["portal"], accounts["sub"]])
    dispatch_due()  # queued, tasks handed to Redis...
    redis.Redis.from_url(settings.REDIS_URL).flushdb()  # ...and gone
    settings.PUBLISHING_REQUEUE_AFTER_SECONDS = 0
    time.sleep(0.01)
    assert set(run_dispatch().values()) == {"sent"}
    assert set(schedule.deliveries.values_list("state", flat=True)) == {DeliveryState.SENT}


@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_send_is_reconciled_and_sends_once(editor, approved, accounts, sandbox):
    account = accounts["sub"]
    sandbox.faults(slow_rate=1.0, slow_ms=4000, paths=["/cgi-bin/message/mass/sendall"])
    schedule_now(editor, [approved()], [account])
    database = connection.settings_dict
    queue = f"govcms-kill-test-{os.getpid()}-{time.monotonic_ns()}"
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "PUBLISHING_LEASE_SECONDS": "2",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "DEBUG": "1",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "govcms", "worker", "--pool", "solo", "--loglevel", "WARNING"],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    try:
        from publishing.tasks import send_delivery

        for delivery_id in dispatch_due():
            send_delivery.apply_async(args=[delivery_id], queue=queue)
        delivery = Delivery.objects.get(account=account)
        deadline = time.monotonic() + 30
        while delivery.state != DeliveryState.SENDING and time.monotonic() < deadline:
            time.sleep(0.1)
            delivery.refresh_from_db()
        assert delivery.state == DeliveryState.SENDING, (delivery.error_code, delivery.error_message)
        time.sleep(0.5)  # the sendall request is now in flight
        os.killpg(worker.pid, signal.SIGKILL)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    time.sleep(4.5)  # the sandbox finishes the send it received; the lease runs out
    sandbox.faults(slow_rate=0)
    assert list(run_dispatch().values()) == ["sent"]
    assert len(sandbox.sends(account.wechat_app_id)) == 1


@pytest.mark.django_db
def test_article_sent_back_to_review_after_scheduling_is_not_sent(editor, approved, accounts, sandbox):
    from content.services import article_update

    article = approved("排期后又被修改的稿件")
    schedule_now(editor, [article], [accounts["sub"]])
    article.title = "修改后的标题"
    article_update(actor=editor, article=article, expected_version=article.version)
    assert list(run_dispatch().values()) == ["failed"]
    failed = Delivery.objects.get(account=accounts["sub"])
    assert "不再是审核通过" in failed.error_message
    assert not failed.quota_slots.exists()  # nothing went out: the day is free again
    assert sandbox.sends(accounts["sub"].wechat_app_id) == []


@pytest.mark.django_db
def test_a_rate_limit_backs_off_twenty_times_further_than_busy(editor, approved, accounts, sandbox, settings):
    settings.PUBLISHING_RETRY_BASE_SECONDS = 30
    sandbox.faults(error_rate=1.0, errors=[45009], paths=["/cgi-bin/message/mass/sendall"])
    schedule_now(editor, [approved()], [accounts["sub"]])
    started = timezone.now()
    assert list(run_dispatch().values()) == ["retrying"]
    delivery = Delivery.objects.get(account=accounts["sub"])
    assert delivery.due_at >= started + timedelta(seconds=30 * 20 * 0.8)
    assert delivery.error_message.startswith("已达到微信接口调用上限（45009）。将于")
