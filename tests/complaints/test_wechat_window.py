"""The case page of a WeChat citizen message shows how long WeChat's customer-service window stays open."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from complaints.models import Case, CaseState
from complaints.wechat_window import window_of
from publishing import services
from publishing.models import WeChatServiceMessage

OPENID = "oFollowerWindow000000000001"


def write(account, text, *, at, msg_id):
    services.inbound_message_store(
        account_id=account.pk,
        fields={"MsgType": "text", "FromUserName": OPENID, "Content": text, "MsgId": str(msg_id)},
        dedupe_key=f"msg:{msg_id}",
        received_at=at,
        answered_automatically=True,
    )


@pytest.mark.django_db
def test_the_window_counts_from_the_followers_last_message(make_account):
    account = make_account()
    start = timezone.now() - timedelta(days=3)
    write(account, "小区路灯坏了", at=start, msg_id=1)
    case = Case.objects.get()
    assert window_of(case, now=start + timedelta(hours=46, minutes=30))["remaining"] == "还剩1小时30分钟"
    closed = window_of(case, now=start + timedelta(hours=49))
    assert (closed["open"], closed["remaining"]) == (False, "已关闭：答复将在群众下次留言时发送")
    write(account, "还没修好", at=start + timedelta(hours=50), msg_id=2)  # joins the case, opens the window again
    again = window_of(case, now=start + timedelta(hours=51))
    assert (again["open"], again["remaining"], again["closes_at"]) == (
        True,
        "还剩47小时0分钟",
        start + timedelta(hours=98),
    )


@pytest.mark.django_db
def test_the_case_page_shows_the_window_and_why_the_reply_waits(client, administrator, make_account):
    account = make_account()
    write(account, "小区路灯坏了", at=timezone.now() - timedelta(hours=49), msg_id=1)
    case = Case.objects.get()
    Case.objects.filter(pk=case.pk).update(state=CaseState.REPLIED, reply="已修好。")
    WeChatServiceMessage.objects.create(
        account=account, openid=OPENID, case=case, content="已修好。", note="微信拒绝发送（45015）：说明。"
    )
    client.force_login(administrator)
    html = client.get(reverse("admin:complaints_case_change", args=[case.pk])).content.decode()
    assert "微信客服消息窗口：已关闭：答复将在群众下次留言时发送" in html
    assert "答复推送：等待群众下次留言 · 微信拒绝发送（45015）：说明。" in html
    # The case number notice was tried when the case opened (49 hours ago: the window had closed since).
    assert "编号和查询码推送：发送失败 · 留言编号和查询码未能发送给群众：群众最后一次留言距今过久" in html


@pytest.mark.django_db
def test_a_web_case_has_no_window(make_account):
    from complaints.services import case_create

    case, _code = case_create(kind="inquiry", subject="咨询", content="咨询内容", name="张三", phone="13812345678")
    assert window_of(case) is None


@pytest.mark.django_db
def test_the_case_list_shows_the_oldest_waiting_message_per_account(client, administrator, make_account):
    account = make_account()
    write(account, "小区路灯坏了", at=timezone.now() - timedelta(hours=30), msg_id=1)
    write(account, "路灯在3号楼", at=timezone.now() - timedelta(hours=2), msg_id=2)  # joins the same case
    client.force_login(administrator)
    page = client.get(reverse("admin:complaints_case_changelist")).content.decode()
    assert "待人工答复的微信留言：示范县发布2条，最早一条已等待30小时</p>" in page
    Case.objects.update(state=CaseState.REPLIED)
    page = client.get(reverse("admin:complaints_case_changelist")).content.decode()
    assert "待人工答复的微信留言" not in page
