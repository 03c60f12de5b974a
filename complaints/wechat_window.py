"""A WeChat case's customer-service window, for the case page: WeChat lets the account write to the follower for
WECHAT_SERVICE_WINDOW_HOURS after the follower's last message (publishing/wechat_cases.py sends the reply).

complaints knows no channel module: the follower's messages are reached through the case's `wechat_messages`
relation (publishing's InboundMessage rows point at the case).
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints.models import OPEN_STATES, Case, CaseChannel


def window_of(case: Case, *, now=None) -> dict | None:
    """{"closes_at", "open", "remaining" (text), "messages" (the case's customer-service messages to the follower:
    its number and query code, each approved reply; oldest first)}, or None for a case that did not come from a
    follower's WeChat message."""
    if case.channel != CaseChannel.WECHAT or not case.wechat_openid:
        return None
    first = case.wechat_messages.order_by("received_at").first()
    if first is None:
        return None
    # The follower's last message to the account, answered by the library or not, opens the window.
    last = (
        type(first)
        .objects.filter(account_id=first.account_id, openid=case.wechat_openid)
        .aggregate(last=Max("received_at"))["last"]
    )
    closes_at = last + timedelta(hours=getattr(settings, "WECHAT_SERVICE_WINDOW_HOURS", 48))
    left = closes_at - (now or timezone.now())
    if left > timedelta(0):
        minutes = int(left.total_seconds() // 60)
        remaining = _("%(hours)d h %(minutes)d min left") % {"hours": minutes // 60, "minutes": minutes % 60}
    else:
        remaining = _("closed: the reply is sent with the follower's next message")
    messages = list(case.wechat_service_messages.order_by("created_at", "pk"))
    return {"closes_at": closes_at, "open": left > timedelta(0), "remaining": remaining, "messages": messages}


def oldest_waiting(cases) -> list[dict]:
    """Per WeChat account, the followers' messages in the open cases among `cases` and the oldest one's arrival
    ({"account", "count", "oldest"}), oldest first: inspectors judge unanswered age."""
    inbound = Case.wechat_messages.rel.related_model
    rows = (
        inbound.objects.filter(case__in=cases.filter(channel=CaseChannel.WECHAT, state__in=OPEN_STATES))
        .values("account_id", "account__name")
        .annotate(count=Count("pk"), oldest=Min("received_at"))
        .order_by("oldest")
    )
    now = timezone.now()
    return [
        {
            "account": row["account__name"],
            "count": row["count"],
            "oldest": row["oldest"],
            "hours": int((now - row["oldest"]).total_seconds() // 3600),
        }
        for row in rows
    ]
