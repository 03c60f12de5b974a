"""Messages that need a person: a text the answer library does not know gets the account's acknowledgement
and becomes a citizen message (channel WeChat) after the reply; the follower's further messages join it
while it is open; the storing task run twice makes one case."""

import pytest
from django.urls import reverse

from complaints.models import Case, CaseChannel, CaseKind, CaseState
from publishing.models import InboundMessage
from publishing.sandbox.follower import Follower

TOKEN = "cbtoken"  # tests/conftest.py make_account
ACKNOWLEDGEMENT = "您的留言已收到，工作人员将在48小时内回复。"


@pytest.fixture
def account(make_account):
    return make_account(wechat_default_reply="请留言。")


def follower_of(client, account, openid="oSandboxFollower00000000001"):
    def transport(url, body):
        response = client.post(url, body, content_type="text/xml")
        return response.status_code, response.content

    url = reverse("wechat_listen", args=[account.pk])
    return Follower(url, token=TOKEN, appid=account.wechat_app_id, openid=openid, transport=transport)


@pytest.mark.django_db
def test_an_unknown_question_gets_the_acknowledgement_and_becomes_a_wechat_case(client, account, stored):
    assert account.wechat_acknowledgement == ACKNOWLEDGEMENT  # the default, editable per account
    exchange = follower_of(client, account).send_text("  小区路灯坏了三天\n请尽快修理 ", msg_id=501)
    assert (exchange.status, exchange.fields["Content"]) == (200, ACKNOWLEDGEMENT)
    assert Case.objects.count() == 0  # after the reply, in the storing task
    stored.run()
    case = Case.objects.get()
    assert (case.channel, case.kind, case.state, case.wechat_openid) == (
        CaseChannel.WECHAT, CaseKind.INQUIRY, CaseState.RECEIVED, "oSandboxFollower00000000001",
    )  # fmt: skip
    assert (case.content, case.subject, case.name) == (
        "小区路灯坏了三天\n请尽快修理",
        "小区路灯坏了三天 请尽快修理",
        "微信用户",
    )
    message = InboundMessage.objects.get()
    assert (message.case_id, message.library_entry_id) == (case.pk, None)
    assert list(case.wechat_messages.all()) == [message]


@pytest.mark.django_db
def test_an_edited_acknowledgement_is_sent(client, make_account, stored):
    account = make_account(wechat_acknowledgement="已收到，我们将在3个工作日内答复。")
    assert (
        follower_of(client, account).send_text("咨询一件事", msg_id=502).fields["Content"]
        == "已收到，我们将在3个工作日内答复。"
    )


@pytest.mark.django_db
def test_a_library_answer_records_its_entry_and_makes_no_case(client, account, stored, make_entry):
    entry = make_entry("居住证", contained=["居住证"], answer_text="请带身份证到派出所办理。")
    exchange = follower_of(client, account).send_text("居住证怎么办", msg_id=503)
    assert exchange.fields["Content"] == "请带身份证到派出所办理。"
    stored.run()
    message = InboundMessage.objects.get()
    assert (message.library_entry_id, message.case_id) == (entry.pk, None)
    assert Case.objects.count() == 0


@pytest.mark.django_db
def test_further_messages_join_the_open_case_and_a_closed_case_is_not_reopened(client, account, stored):
    first = follower_of(client, account)
    first.send_text("小区路灯坏了", msg_id=601)
    first.send_text("在3号楼门口", msg_id=602)
    follower_of(client, account, openid="oSandboxFollower00000000002").send_text("公交站牌掉了", msg_id=603)
    stored.run()
    cases = {case.wechat_openid: case for case in Case.objects.all()}
    assert len(cases) == 2
    conversation = cases["oSandboxFollower00000000001"].wechat_messages.order_by("msg_id")
    assert [message.content for message in conversation] == ["小区路灯坏了", "在3号楼门口"]
    assert cases["oSandboxFollower00000000001"].content == "小区路灯坏了"
    # Once the case is closed, the follower's next message opens a new one.
    Case.objects.filter(pk=cases["oSandboxFollower00000000001"].pk).update(state=CaseState.CLOSED)
    stored.calls.clear()
    first.send_text("路灯又坏了", msg_id=604)
    stored.run()
    newest = InboundMessage.objects.get(msg_id="604").case
    assert newest.pk not in {case.pk for case in cases.values()} and newest.content == "路灯又坏了"
    assert Case.objects.count() == 3


@pytest.mark.django_db
def test_the_same_follower_with_another_account_gets_another_case(client, account, make_account, stored):
    other = make_account("示范县公安", wechat_default_reply="请留言。")
    follower_of(client, account).send_text("问题一", msg_id=701)
    follower_of(client, other).send_text("问题二", msg_id=702)
    stored.run()
    assert sorted(Case.objects.values_list("content", flat=True)) == ["问题一", "问题二"]


@pytest.mark.django_db
def test_the_storing_task_run_twice_makes_one_case(client, account, stored):
    follower_of(client, account).send_text("小区路灯坏了", msg_id=801)
    stored.run()
    stored.run()
    assert (Case.objects.count(), InboundMessage.objects.count()) == (1, 1)
    assert InboundMessage.objects.get().case == Case.objects.get()


@pytest.mark.django_db
def test_a_stored_message_missing_its_case_gets_it_on_the_next_run(client, account, stored):
    # A worker lost after storing the row but before the case: the task's retry still makes the case.
    follower_of(client, account).send_text("小区路灯坏了", msg_id=802)
    stored.run()
    Case.objects.all().delete()
    assert InboundMessage.objects.get().case_id is None  # SET_NULL
    stored.run()
    assert InboundMessage.objects.get().case == Case.objects.get()
