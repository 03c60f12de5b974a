"""The handler's approved reply goes back to the follower with WeChat's customer-service message API while
the window is open (48 hours from the follower's last message, at most 5 messages in it); 45015 and 45047
are recorded on the case in Chinese, and a waiting reply goes out with the follower's next message."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation
from wechatpy.exceptions import WeChatClientException

from complaints.models import CaseState
from publishing import services, tasks, wechat_cases
from publishing.models import InboundMessage, WeChatServiceMessage

OPENID = "oFollowerWindow000000000001"
HOUR = 3600


@pytest.fixture
def account(make_account, sandbox):
    account = make_account("示范县发布", api_base_url=sandbox.url)
    sandbox.register_wechat(appid=account.wechat_app_id, secret=account.wechat_app_secret)
    return account


def follower_writes(sandbox, account, text, *, hours_ago=0, msg_id=1):
    """The follower's message as the callback's storing task records it, and as WeChat (the sandbox) saw it."""
    sandbox._post("_sandbox/follower_message", {"appid": account.wechat_app_id, "openid": OPENID})
    received = timezone.now() - timedelta(hours=hours_ago)
    services.inbound_message_store(
        account_id=account.pk,
        fields={"MsgType": "text", "FromUserName": OPENID, "Content": text, "MsgId": str(msg_id)},
        dedupe_key=f"msg:{msg_id}",
        received_at=received,
        answered_automatically=True,
    )
    return InboundMessage.objects.get(dedupe_key=f"msg:{msg_id}")


def approved(case, reply="路灯已安排维修，感谢您的反馈。"):
    type(case).objects.filter(pk=case.pk).update(state=CaseState.REPLIED, reply=reply)
    case.refresh_from_db()
    return case


def custom_messages(sandbox):
    return [(m["openid"], m["content"]) for m in sandbox.state()["custom_messages"]]


def test_the_sandbox_enforces_the_window_and_the_count(sandbox, wechat_client):
    from tests.publishing.conftest import WECHAT_APPID

    sandbox._post("_sandbox/follower_message", {"appid": WECHAT_APPID, "openid": OPENID})
    sandbox.clock(46 * HOUR)
    for number in range(5):
        assert wechat_client.message.send_text(OPENID, f"第{number + 1}条")["errcode"] == 0
    with pytest.raises(WeChatClientException) as refused:
        wechat_client.message.send_text(OPENID, "第6条")
    assert refused.value.errcode == 45047
    sandbox.clock(49 * HOUR)
    with pytest.raises(WeChatClientException) as refused:
        wechat_client.message.send_text(OPENID, "晚了")
    assert refused.value.errcode == 45015


@pytest.mark.django_db
def test_a_reply_46_hours_after_the_follower_wrote_is_sent(account, sandbox):
    message = follower_writes(sandbox, account, "小区路灯坏了", hours_ago=46)
    case = approved(message.case)
    service = wechat_cases.reply_to_follower(case.pk)
    assert (service.state, service.note, service.sent_at is not None) == (WeChatServiceMessage.State.SENT, "", True)
    assert custom_messages(sandbox) == [(OPENID, "路灯已安排维修，感谢您的反馈。")]
    assert wechat_cases.reply_to_follower(case.pk).state == WeChatServiceMessage.State.SENT  # once only
    assert len(custom_messages(sandbox)) == 1


@pytest.mark.django_db
def test_a_reply_49_hours_after_is_refused_explained_and_sent_with_the_next_message(account, sandbox):
    message = follower_writes(sandbox, account, "小区路灯坏了", hours_ago=49, msg_id=1)
    case = approved(message.case)
    with translation.override("zh-hans"):
        service = wechat_cases.reply_to_follower(case.pk)
    assert service.state == WeChatServiceMessage.State.WAITING
    assert service.note == (
        "微信拒绝发送（45015）：群众最后一次留言已超过48小时或已取消关注。答复可在留言查询页查看，并将在群众下次留言时发送。"
    )
    assert case.wechat_reply == service and custom_messages(sandbox) == []
    follower_writes(sandbox, account, "还没修好吗", msg_id=2)  # the follower's next message opens the window
    service.refresh_from_db()
    assert service.state == WeChatServiceMessage.State.SENT
    assert custom_messages(sandbox) == [(OPENID, "路灯已安排维修，感谢您的反馈。")]


@pytest.mark.django_db
def test_the_sixth_message_in_the_window_is_refused(account, sandbox):
    message = follower_writes(sandbox, account, "小区路灯坏了", hours_ago=1)
    for number in range(5):
        WeChatServiceMessage.objects.create(
            account=account, openid=OPENID, case=make_case(account, number), content="已答复",
            state=WeChatServiceMessage.State.SENT, sent_at=timezone.now(),
        )  # fmt: skip
    with translation.override("zh-hans"):
        service = wechat_cases.reply_to_follower(approved(message.case).pk)
    assert service.state == WeChatServiceMessage.State.WAITING
    assert (
        service.note
        == "微信拒绝发送（45047）：自群众最后一次留言以来已发送5条客服消息，达到上限。答复将在群众下次留言时发送。"
    )
    assert custom_messages(sandbox) == []


@pytest.mark.django_db
def test_wechat_refusing_an_unfollowed_follower_is_recorded(account, sandbox):
    message = follower_writes(sandbox, account, "小区路灯坏了")
    sandbox.clock(49 * HOUR)  # WeChat's clock says the window is closed, ours does not know yet
    with translation.override("zh-hans"):
        service = wechat_cases.reply_to_follower(approved(message.case).pk)
    assert service.state == WeChatServiceMessage.State.WAITING and "45015" in service.note


@pytest.mark.django_db
def test_the_sweep_sends_approved_replies_once(account, sandbox):
    first = follower_writes(sandbox, account, "小区路灯坏了", msg_id=1)
    approved(first.case)
    assert tasks.send_wechat_case_replies.run() == 1
    assert tasks.send_wechat_case_replies.run() == 0
    assert custom_messages(sandbox) == [(OPENID, "路灯已安排维修，感谢您的反馈。")]


def make_case(account, number):
    from complaints.services import case_create

    case, _code = case_create(kind="inquiry", subject=f"旧留言{number}", content="旧留言", name="微信用户",
                              channel="wechat", wechat_openid=OPENID)  # fmt: skip
    return case


@pytest.mark.django_db
def test_end_to_end_a_followers_question_is_answered_by_a_person_through_the_sandbox(
    client, account, sandbox, monkeypatch
):
    from django.urls import reverse

    from publishing.sandbox.follower import Follower
    from shared import redis_client

    redis_client.delete_matching("publishing:wechat-*")
    calls = []
    monkeypatch.setattr(tasks.store_inbound_message, "delay", lambda **kwargs: calls.append(kwargs))

    def transport(url, body):
        response = client.post(url, body, content_type="text/xml")
        return response.status_code, response.content

    follower = Follower(reverse("wechat_listen", args=[account.pk]), token="cbtoken", appid=account.wechat_app_id,
                        openid=OPENID, transport=transport, sandbox_url=sandbox.url)  # fmt: skip
    assert (
        follower.send_text("小区路灯坏了", msg_id=901).fields["Content"] == "您的留言已收到，工作人员将在48小时内回复。"
    )
    for kwargs in calls:
        tasks.store_inbound_message.run(**kwargs)
    case = approved(InboundMessage.objects.get().case)
    assert tasks.send_wechat_case_replies.run() == 1
    assert case.wechat_reply.state == WeChatServiceMessage.State.SENT
    assert custom_messages(sandbox) == [(OPENID, "路灯已安排维修，感谢您的反馈。")]
