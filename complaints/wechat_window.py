"""WeChat's customer-service window: the account may write to a follower for WECHAT_SERVICE_WINDOW_HOURS after the
follower's last message. The rule is kept here, once, for the case page and the case list and for
publishing/wechat_cases.py, which sends the replies (publishing imports complaints, never the other way round).

complaints knows no channel module: the follower's messages are reached through the case's `wechat_messages`
relation (publishing's InboundMessage rows point at the case).
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints.models import OPEN_STATES, Case, CaseChannel


def _followers_messages():
    return Case.wechat_messages.rel.related_model.objects


def window_hours() -> int:
    return settings.WECHAT_SERVICE_WINDOW_HOURS


def last_message_at(account_id: int, openid: str):
    """When the follower last wrote to the account, answered by the library or not (what opens the window), or
    None."""
    messages = _followers_messages().filter(account_id=account_id, openid=openid)
    return messages.aggregate(last=Max("received_at"))["last"]


def window_closes_at(last_message):
    return last_message + timedelta(hours=window_hours())


def hours_since(moment, now=None) -> int:
    """Whole hours from `moment` to now: how long the oldest message has waited."""
    return int(((now or timezone.now()) - moment).total_seconds() // 3600)


def window_of(case: Case, *, now=None) -> dict | None:
    """{"closes_at", "open", "remaining" (text), "messages" (the case's customer-service messages to the follower:
    its number and query code, each approved reply; oldest first)}, or None for a case that did not come from a
    follower's WeChat message."""
    if case.channel != CaseChannel.WECHAT or not case.wechat_openid:
        return None
    first = case.wechat_messages.order_by("received_at").first()
    if first is None:
        return None
    closes_at = window_closes_at(last_message_at(first.account_id, case.wechat_openid))
    left = closes_at - (now or timezone.now())
    if left > timedelta(0):
        minutes = int(left.total_seconds() // 60)
        remaining = _("%(hours)d h %(minutes)d min left") % {"hours": minutes // 60, "minutes": minutes % 60}
    else:
        remaining = _("closed: the reply is sent with the follower's next message")
    messages = list(case.wechat_service_messages.order_by("created_at", "pk"))
    return {"closes_at": closes_at, "open": left > timedelta(0), "remaining": remaining, "messages": messages}


def waiting_per_account(messages=None):
    """Per WeChat account: the followers' messages (among `messages`, default all) in open citizen messages, which
    wait for a person's answer, and the oldest one's arrival; rows {"account_id", "account__name", "count",
    "oldest"}, oldest first. One query."""
    messages = _followers_messages().all() if messages is None else messages
    return (
        messages.filter(case__state__in=OPEN_STATES)
        .values("account_id", "account__name")
        .annotate(count=Count("pk"), oldest=Min("received_at"))
        .order_by("oldest")
    )


def oldest_waiting(cases) -> list[dict]:
    """Per WeChat account, the followers' messages in the open cases among `cases` and the oldest one's arrival
    ({"account", "count", "oldest", "hours"}), oldest first: inspectors judge unanswered age."""
    rows = waiting_per_account(_followers_messages().filter(case__in=cases.filter(channel=CaseChannel.WECHAT)))
    now = timezone.now()
    return [
        {
            "account": row["account__name"],
            "count": row["count"],
            "oldest": row["oldest"],
            "hours": hours_since(row["oldest"], now),
        }
        for row in rows
    ]
