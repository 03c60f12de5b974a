"""The account health page shows, per account, the followers' messages waiting for a person and the oldest
one's age (inspectors judge unanswered age)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from complaints.models import Case, CaseState
from publishing import health, services


def write(account, text, *, hours_ago, msg_id, openid="oFollower0000000000000000001"):
    services.inbound_message_store(
        account_id=account.pk,
        fields={"MsgType": "text", "FromUserName": openid, "Content": text, "MsgId": str(msg_id)},
        dedupe_key=f"msg:{msg_id}",
        received_at=timezone.now() - timedelta(hours=hours_ago),
        answered_automatically=True,
    )


@pytest.mark.django_db
def test_the_oldest_message_in_an_open_case_per_account(client, administrator, make_account):
    account, quiet = make_account(), make_account("示范县公安")
    write(account, "路灯坏了", hours_ago=30, msg_id=1)
    write(account, "公交站牌掉了", hours_ago=5, msg_id=2, openid="oFollower0000000000000000002")
    write(account, "早就答复了", hours_ago=90, msg_id=3, openid="oFollower0000000000000000003")
    Case.objects.filter(content="早就答复了").update(state=CaseState.REPLIED)  # answered: not waiting
    rows = {row.account.pk: row for row in health.health_of([account, quiet])}
    assert (rows[account.pk].waiting_messages, rows[account.pk].oldest_waiting_hours) == (2, 30)
    assert (rows[quiet.pk].waiting_messages, rows[quiet.pk].oldest_waiting_at) == (0, None)
    client.force_login(administrator)
    page = client.get(reverse("admin:publishing_account_health")).content.decode()
    assert '<td data-waiting="2">2条，最早一条已等待30小时</td>' in page
    assert '<td data-waiting="0">—</td>' in page
