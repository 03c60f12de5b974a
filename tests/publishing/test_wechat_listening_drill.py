"""Issue 15's "Done when", end to end through the sandbox, as in the demo: the sandbox's follower writes over HTTP to
the callback server (a live server), a real Celery worker stores what came in, the people answer through
complaints' actions, beat's sweep sends the answer with message/custom/send, and the admin's menu editor and
health page are used as a person would use them.

1. a follower's message the answer library knows gets the library's answer;
2. an unmatched one gets the acknowledgement and becomes a citizen message (channel WeChat);
3. WeChat's retry of it (same MsgId) produces nothing twice: one stored message, one case;
4. a handler answers, the office head approves, and the answer reaches the follower's openid in WeChat;
5. the menu editor pushes a valid menu and refuses an invalid one, naming the item and the limit;
6. the health page shows an account silent for 15 days in red.
"""

import time

import pytest
import xmltodict
from django.urls import reverse

from accounts import roles
from accounts.models import AuditLog
from answers.models import AnswerEntry, EntryState
from complaints.actions import CASE_ACTIONS
from complaints.models import Case, CaseChannel, CaseState
from publishing import tasks
from publishing.models import InboundMessage, WeChatMenu
from publishing.sandbox.follower import Follower
from tests.factories import UserFactory
from tests.publishing.test_account_health import sent_days_ago
from tests.publishing.test_wechat_menu_admin import menu_post

ACKNOWLEDGEMENT = "您的留言已收到，工作人员将在48小时内回复。"
LIBRARY_ANSWER = "请携带身份证和居住证明到辖区派出所办理居住证。"
REPLY = "您反映的路灯问题已安排维修，预计三个工作日内修复。"


def wait_for(found, seconds=20.0):
    """What `found()` returns once it is truthy (the worker's work), or fails after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = found()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError("the worker did not finish in time")


@pytest.fixture
def account(make_account, sandbox):
    account = make_account("示范县发布", api_base_url=sandbox.url, wechat_acknowledgement=ACKNOWLEDGEMENT,
                           wechat_default_reply="您好，请直接留言。")  # fmt: skip
    sandbox.register_wechat(appid=account.wechat_app_id, secret=account.wechat_app_secret,
                            type=account.wechat_account_type, token=account.wechat_token)  # fmt: skip
    return account


@pytest.fixture
def follower(account, live_server, sandbox):
    """The sandbox's follower, over HTTP to the callback URL, telling the API sandbox it wrote (its window opens)."""
    url = live_server.url + reverse("wechat_listen", args=[account.pk])
    return Follower(url, token=account.wechat_token, appid=account.wechat_app_id, sandbox_url=sandbox.url,
                    openid="oDrillFollower0000000000001")  # fmt: skip


@pytest.fixture
def library_entry(county, editor, reviewer):
    return AnswerEntry.objects.create(
        question="办理居住证需要什么材料", contained_keywords=["居住证"], answer_text=LIBRARY_ANSWER,
        department=county["office"], state=EntryState.APPROVED, created_by=editor, updated_by=editor,
        approved_by=reviewer,
    )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_a_follower_is_answered_by_the_library_or_by_a_person_through_the_sandbox(
    follower, account, library_entry, celery_worker, sandbox, registrar, handler, county
):
    # 1. The library knows it: its answer, at once.
    known = follower.send_text("请问办理居住证需要什么材料？")
    assert (known.status, known.fields["Content"]) == (200, LIBRARY_ANSWER)

    # 2. Nobody's answer yet: the acknowledgement, and (after the reply, by the worker) a citizen message.
    first = follower.send_text("小区门口的路灯坏了一个月了，没人修。")
    assert (first.status, first.fields["Content"]) == (200, ACKNOWLEDGEMENT)
    msg_id = xmltodict.parse(first.xml)["xml"]["MsgId"]
    stored = wait_for(lambda: InboundMessage.objects.filter(account=account, msg_id=msg_id, case__isnull=False).first())
    case = stored.case
    assert (case.channel, case.wechat_openid) == (CaseChannel.WECHAT, follower.openid)
    assert wait_for(lambda: InboundMessage.objects.filter(library_entry_id=library_entry.pk).exists())

    # 3. WeChat's retry of the same push: the same answer, nothing stored or opened twice.
    retry = follower.retry(first)
    assert (retry.status, retry.fields["Content"]) == (200, ACKNOWLEDGEMENT)
    time.sleep(1)  # room for the worker to store a second copy, were a second task enqueued
    assert InboundMessage.objects.filter(account=account, msg_id=msg_id).count() == 1
    assert Case.objects.filter(channel=CaseChannel.WECHAT, wechat_openid=follower.openid).count() == 1

    # 4. The registrar routes it, the handler answers, the office head approves: beat's sweep sends it.
    head = UserFactory(username="drill-head", department=county["education"], role=roles.COMPLAINT_REVIEWER)
    case = Case.objects.get(pk=case.pk)
    if case.state == CaseState.RECEIVED:
        case = CASE_ACTIONS["route"].execute(registrar, case, department=county["education"])
    CASE_ACTIONS["reply"].execute(handler, Case.objects.get(pk=case.pk), body=REPLY)
    CASE_ACTIONS["submit"].execute(handler, Case.objects.get(pk=case.pk))
    CASE_ACTIONS["approve"].execute(head, Case.objects.get(pk=case.pk))
    assert Case.objects.get(pk=case.pk).state == CaseState.REPLIED
    tasks.send_wechat_case_replies()
    received = [m["content"] for m in sandbox.state()["custom_messages"] if m["openid"] == follower.openid]
    assert REPLY in received


@pytest.mark.django_db
def test_the_menu_editor_pushes_a_valid_menu_and_refuses_an_invalid_one(client, login, administrator, account,
                                                                        sandbox):  # fmt: skip
    login(administrator)
    invalid = [{"group": 1, "position": 0, "name": "政务公开栏目", "kind": "click", "key": "OPEN"}]
    page = client.post(reverse("admin:publishing_wechatmenu_add"), menu_post(account, invalid)).content.decode()
    assert "第1个一级菜单“政务公开栏目”：名称为18字节，微信最多允许16字节（5个汉字）。" in page
    assert not WeChatMenu.objects.exists()

    valid = [{"group": 1, "position": 0, "name": "政务公开", "kind": "view", "url": "https://gov.example.cn/"},
             {"group": 2, "position": 0, "name": "我要咨询", "kind": "click", "key": "ASK"}]  # fmt: skip
    assert client.post(reverse("admin:publishing_wechatmenu_add"), menu_post(account, valid)).status_code == 302
    menu = WeChatMenu.objects.get()
    push = reverse("admin:publishing_wechatmenu_workflow", args=[menu.pk, "push"])
    assert "已完成：推送到微信。" in client.post(push, follow=True).content.decode()
    assert [b["name"] for b in sandbox.state()["menus"][account.wechat_app_id]["button"]] == ["政务公开", "我要咨询"]

    # A menu broken after it was saved (by hand in the database) is refused at the push too, nothing sent.
    menu.items.filter(group=2).update(name="我要咨询政务服务")
    page = client.post(push, follow=True).content.decode()
    assert "第2个一级菜单“我要咨询政务服务”：名称为24字节，微信最多允许16字节（5个汉字）。" in page
    assert [b["name"] for b in sandbox.state()["menus"][account.wechat_app_id]["button"]] == ["政务公开", "我要咨询"]
    assert AuditLog.objects.filter(action="wechat_menu.push").count() == 1


@pytest.mark.django_db
def test_the_health_page_shows_an_account_silent_for_15_days_in_red(client, login, administrator, account, editor):
    sent_days_ago(account, editor, 15)
    login(administrator)
    page = client.get(reverse("admin:publishing_account_health")).content.decode()
    row = page.split(f"{reverse('admin:publishing_account_health_detail', args=[account.pk])}")[0].rsplit("<tr", 1)[1]
    assert 'class="level-alarm" data-level="alarm"' in row
    assert '<td class="level-alarm">15</td>' in page
