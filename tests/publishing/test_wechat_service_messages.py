"""The handler's approved reply goes back to the follower with WeChat's customer-service message API while
the window is open (48 hours from the follower's last message, at most 5 messages in it); 45015 and 45047
are recorded on the case in Chinese, and a waiting reply goes out with the follower's next message. A new
case's number and query code reach the follower once; a reopened case's second reply goes out too; WeChat
busy is tried again a bounded number of times, a permanent refusal is explained at once, and a message whose
answer was lost is never sent twice."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone, translation
from wechatpy.exceptions import WeChatClientException

from complaints.models import Case, CaseState
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
    """The replies WeChat (the sandbox) took, without the case number notices."""
    return [(m["openid"], m["content"]) for m in sandbox.state()["custom_messages"] if "查询码" not in m["content"]]


def notices(sandbox):
    return [m["content"] for m in sandbox.state()["custom_messages"] if "查询码" in m["content"]]


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
    assert list(case.wechat_service_messages.filter(kind="reply")) == [service] and custom_messages(sandbox) == []
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
    assert case.wechat_service_messages.get(kind="reply").state == WeChatServiceMessage.State.SENT
    assert custom_messages(sandbox) == [(OPENID, "路灯已安排维修，感谢您的反馈。")]
    assert len(notices(sandbox)) == 1 and case.number in notices(sandbox)[0]


# -- the case number and query code ------------------------------------------------------------------------

CUSTOM_SEND = "/cgi-bin/message/custom/send"
State = WeChatServiceMessage.State


@pytest.mark.django_db
def test_a_new_case_sends_the_follower_its_number_and_query_code_once(account, sandbox, settings):
    from complaints.services import case_find_for_citizen

    settings.PORTAL_BASE_URL = "https://gov.example.cn"
    message = follower_writes(sandbox, account, "小区路灯坏了", msg_id=1)
    case = message.case
    [notice] = notices(sandbox)
    code = re.search(r"查询码([0-9A-Z]+)。", notice).group(1)
    assert notice == (
        f"您的留言已登记，编号{case.number}，查询码{code}。"
        "请凭编号和查询码在 https://gov.example.cn/hudong/track/ 查询办理进度和答复。"
    )
    assert case_find_for_citizen(number=case.number, code=code) == case
    service = case.wechat_service_messages.get()
    assert (service.kind, service.state, service.draft) == ("code_notice", State.SENT, None)
    assert code not in service.content and f"查询码{'*' * len(code)}。" in service.content  # only the hash is kept
    follower_writes(sandbox, account, "小区路灯坏了", msg_id=1)  # WeChat's retry / the storing task run twice
    wechat_cases.case_for_message(message.pk)
    follower_writes(sandbox, account, "路灯在3号楼", msg_id=2)  # joins the open case: nothing more
    assert InboundMessage.objects.get(msg_id="2").case == case
    assert len(notices(sandbox)) == 1 and case.wechat_service_messages.count() == 1


class WorkerLost(Exception):
    pass


@pytest.mark.django_db
def test_a_worker_lost_after_sending_the_code_never_sends_it_again(account, sandbox, monkeypatch):
    record = wechat_cases._record

    def lost(service, **fields):
        raise WorkerLost

    monkeypatch.setattr(wechat_cases, "_record", lost)  # WeChat took the notice; the worker died before recording it
    with pytest.raises(WorkerLost):
        follower_writes(sandbox, account, "小区路灯坏了", msg_id=1)
    monkeypatch.setattr(wechat_cases, "_record", record)
    follower_writes(sandbox, account, "小区路灯坏了", msg_id=1)  # the task again (acks_late)
    service = WeChatServiceMessage.objects.get()
    assert (service.kind, service.state, len(notices(sandbox))) == ("code_notice", State.SENDING, 1)
    assert tasks.send_wechat_case_replies.run() == 0  # the attempt may still be running
    WeChatServiceMessage.objects.update(attempted_at=timezone.now() - timedelta(minutes=6))
    tasks.send_wechat_case_replies.run()
    service.refresh_from_db()
    assert service.state == State.POSSIBLY_SENT
    assert service.note == (
        "微信未给出明确答复（超时或连接中断），消息可能已送达群众。为避免群众重复收到，系统不再重发。"
    )
    assert len(notices(sandbox)) == 1


@pytest.mark.django_db
def test_wechat_busy_for_the_code_notice_is_tried_once_more_at_once(account, sandbox, monkeypatch):
    monkeypatch.setattr(wechat_cases, "CODE_NOTICE_PAUSE_SECONDS", 0)
    sandbox.faults(error_rate=1.0, errors=[-1], paths=[CUSTOM_SEND], limit=1)
    message = follower_writes(sandbox, account, "小区路灯坏了")
    assert message.case.wechat_service_messages.get().state == State.SENT and len(notices(sandbox)) == 1
    sandbox.faults(error_rate=1.0, errors=[-1], paths=[CUSTOM_SEND])
    Case.objects.filter(pk=message.case_id).update(state=CaseState.CLOSED)
    other = follower_writes(sandbox, account, "又一件事", msg_id=2)  # a new case: WeChat busy twice
    failed = other.case.wechat_service_messages.get()
    assert failed.state == State.FAILED
    assert failed.note == (
        "留言编号和查询码未能发送给群众：微信系统繁忙（-1）。查询码不另行保存，因此不再重试；"
        "办理人员的答复仍会通过微信发送给群众。"
    )


# -- a reopened case's second reply -------------------------------------------------------------------------


@pytest.fixture
def office_head(county):
    from accounts import roles
    from tests.factories import UserFactory

    return UserFactory(
        username="dora", real_name="周主任", department=county["education"], role=roles.COMPLAINT_REVIEWER
    )


def answer(case, body, *, handler, office_head):
    from complaints.services import reply_approve, reply_save, reply_submit

    reply_save(actor=handler, case=case, body=body)
    reply_submit(actor=handler, case=case)
    return reply_approve(actor=office_head, case=case)


@pytest.mark.django_db
def test_a_reopened_case_sends_its_second_approved_reply(account, sandbox, county, registrar, handler, office_head):
    from complaints.models import Rating
    from complaints.services import case_rate, case_reopen, case_route

    case = follower_writes(sandbox, account, "小区路灯坏了").case
    case = case_route(actor=registrar, case=case, department=county["education"])
    case = answer(case, "已安排维修。", handler=handler, office_head=office_head)
    assert tasks.send_wechat_case_replies.run() == 1
    case = case_rate(case=case, rating=Rating.DISSATISFIED, comment="没修好")
    case = case_reopen(case=case, reason="路灯还是不亮")
    assert tasks.send_wechat_case_replies.run() == 0  # being answered again
    answer(case, "已更换灯具，经检查路灯恢复正常。", handler=handler, office_head=office_head)
    assert tasks.send_wechat_case_replies.run() == 1
    assert tasks.send_wechat_case_replies.run() == 0
    assert custom_messages(sandbox) == [(OPENID, "已安排维修。"), (OPENID, "已更换灯具，经检查路灯恢复正常。")]
    replies = case.wechat_service_messages.filter(kind="reply").order_by("pk")
    assert [(r.state, r.draft.body) for r in replies] == [
        (State.SENT, "已安排维修。"),
        (State.SENT, "已更换灯具，经检查路灯恢复正常。"),
    ]


# -- WeChat's failures: passing, permanent, and an answer lost ----------------------------------------------


def due_now(service):
    WeChatServiceMessage.objects.filter(pk=service.pk).update(retry_at=timezone.now())


@pytest.mark.django_db
def test_wechat_busy_is_tried_again_and_fails_after_the_last_try(account, sandbox, settings):
    settings.WECHAT_SERVICE_MAX_ATTEMPTS = 3
    case = approved(follower_writes(sandbox, account, "小区路灯坏了").case)
    sandbox.faults(error_rate=1.0, errors=[-1], paths=[CUSTOM_SEND])
    service = wechat_cases.reply_to_follower(case.pk)
    assert (service.state, service.transient_failures) == (State.RETRYING, 1)
    assert re.fullmatch(r"微信暂未接收答复：微信系统繁忙（-1）。将于\d\d:\d\d重试（第2次，共3次）。", service.note)
    assert tasks.send_wechat_case_replies.run() == 0  # not due yet
    for _try in range(2):
        due_now(service)
        assert tasks.send_wechat_case_replies.run() == 1
    service.refresh_from_db()
    assert (service.state, service.transient_failures, service.retry_at) == (State.FAILED, 3, None)
    assert service.note == "微信经3次尝试仍未接收答复：微信系统繁忙（-1）。系统不再重试；答复可在留言查询页查看。"
    due_now(service)
    assert tasks.send_wechat_case_replies.run() == 0
    assert custom_messages(sandbox) == []


@pytest.mark.django_db
def test_a_rate_limited_reply_goes_out_once_wechat_takes_it_again(account, sandbox):
    case = approved(follower_writes(sandbox, account, "小区路灯坏了").case)
    sandbox.faults(error_rate=1.0, errors=[45009], paths=[CUSTOM_SEND], limit=1)
    service = wechat_cases.reply_to_follower(case.pk)
    assert service.state == State.RETRYING and service.note.startswith(
        "微信暂未接收答复：已达到微信接口调用上限（45009）。"
    )
    due_now(service)
    assert tasks.send_wechat_case_replies.run() == 1
    service.refresh_from_db()
    assert (service.state, service.note, service.retry_at) == (State.SENT, "", None)
    assert custom_messages(sandbox) == [(OPENID, "路灯已安排维修，感谢您的反馈。")]


@pytest.mark.django_db
def test_wechat_unreachable_is_a_passing_failure(make_account):
    closed_port = make_account("示范县断网", api_base_url="http://127.0.0.1:9/")
    services.inbound_message_store(
        account_id=closed_port.pk,
        fields={"MsgType": "text", "FromUserName": OPENID, "Content": "小区路灯坏了", "MsgId": "7"},
        dedupe_key="msg:7",
        received_at=timezone.now(),
        answered_automatically=True,
    )
    case = approved(InboundMessage.objects.get().case)
    notice = case.wechat_service_messages.get(kind="code_notice")
    assert notice.state == State.FAILED and notice.note.startswith("留言编号和查询码未能发送给群众：无法连接微信")
    service = wechat_cases.reply_to_follower(case.pk)
    assert (service.state, service.transient_failures) == (State.RETRYING, 1)
    assert service.note.startswith("微信暂未接收答复：无法连接微信或微信未给出有效答复（网络错误或超时）。将于")


@pytest.mark.parametrize(
    "code, explanation",
    [
        (40003, "微信不认识此群众在本账号下的openid（40003）。"),
        (43004, "群众已取消关注本账号（43004），微信不再向其发送消息。"),
        (48001, "该账号无权使用此微信接口（48001）：群发和客服消息需要已认证且具备相应权限的账号。"),
    ],
)
@pytest.mark.django_db
def test_a_permanent_refusal_fails_at_once_and_is_explained(account, sandbox, code, explanation):
    case = approved(follower_writes(sandbox, account, "小区路灯坏了").case)
    sandbox.faults(error_rate=1.0, errors=[code], paths=[CUSTOM_SEND])
    service = wechat_cases.reply_to_follower(case.pk)
    assert (service.state, service.transient_failures) == (State.FAILED, 0)
    assert service.note == f"微信拒绝发送答复：{explanation}系统不再重发；答复可在留言查询页查看。"
    sandbox.faults()
    assert tasks.send_wechat_case_replies.run() == 0
    follower_writes(sandbox, account, "还没修好吗", msg_id=2)  # the follower's next message changes nothing
    service.refresh_from_db()
    assert service.state == State.FAILED and custom_messages(sandbox) == []


@pytest.mark.django_db
def test_a_reply_whose_answer_was_lost_is_possibly_sent_and_never_sent_again(account, sandbox):
    case = approved(follower_writes(sandbox, account, "小区路灯坏了").case)
    sandbox.faults(drop_rate=1.0, drop_after_action=True, paths=[CUSTOM_SEND])  # WeChat took it; the answer is lost
    service = wechat_cases.reply_to_follower(case.pk)
    assert service.state == State.POSSIBLY_SENT
    assert service.note.startswith("微信未给出明确答复（超时或连接中断），消息可能已送达群众。")
    sandbox.faults()
    assert tasks.send_wechat_case_replies.run() == 0
    assert wechat_cases.reply_to_follower(case.pk).state == State.POSSIBLY_SENT
    follower_writes(sandbox, account, "收到了吗", msg_id=2)
    assert custom_messages(sandbox) == [(OPENID, "路灯已安排维修，感谢您的反馈。")]  # once, as WeChat took it
