"""The workbench's mass-sends (govcms/workbench.py): scheduled sends an editor may still move or cancel, failed and
unconfirmed deliveries to look at (the retry action's candidates), what was sent, and the cards for this week's
sends and today's quota left per account."""

from datetime import datetime, time, timedelta
from urllib.parse import urlencode

from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from govcms.workbench import DONE, Card, Row, panel, section, waiting
from publishing import quota, selectors
from publishing.actions import DELIVERY_ACTIONS, WAITING
from publishing.models import Delivery, DeliveryState, QuotaPeriod, Schedule

RETRY = DELIVERY_ACTIONS["retry"]
FAILURES_SINCE = timedelta(days=7)


def _schedule_row(schedule) -> Row:
    local = timezone.localtime(schedule.send_at, quota.SHANGHAI)
    return Row(
        url=reverse("admin:publishing_schedule_change", args=[schedule.pk]),
        title=schedule.title,
        details=[local.strftime("%Y-%m-%d %H:%M")],
    )


def _failure_row(delivery) -> Row:
    return Row(
        url=reverse("admin:publishing_schedule_change", args=[delivery.schedule_id]),
        title=delivery.schedule.title,
        details=[delivery.account.name, delivery.get_state_display()],
        note=delivery.error_message,
        since=delivery.due_at,
        alarm=True,
    )


def week_start(now) -> datetime:
    """Monday 00:00 of this week in Asia/Shanghai."""
    today = timezone.localtime(now, quota.SHANGHAI).date()
    return datetime.combine(today - timedelta(days=today.weekday()), time.min, tzinfo=quota.SHANGHAI)


def quota_card(accounts, now) -> Card:
    """Sends left today per account (the tightest of its day and month limits); the figure is how many accounts
    can still send today."""
    lines = []
    open_accounts = 0
    for account in accounts:
        rows = [row for row in selectors.quota_left(account, now) if row["period"] != QuotaPeriod.HOUR]
        if not rows:
            lines.append((account.name, gettext("unlimited")))
            open_accounts += 1
            continue
        tightest = min(rows, key=lambda row: row["free"])
        open_accounts += tightest["free"] > 0
        lines.append((account.name, gettext("%(free)s of %(limit)s (%(period)s)") % {
            "free": tightest["free"], "limit": tightest["limit"], "period": tightest["period"].label}))  # fmt: skip
    hint = gettext("accounts can still send today")
    return Card("quota", gettext("Quota left today"), f"{open_accounts}/{len(accounts)}", hint=hint, lines=lines,
                url=reverse("admin:publishing_schedule_calendar"))  # fmt: skip


def _from(day) -> str:
    """The list's filter "sent from the start of `day`, Beijing time", as an aware time (a bare date would be
    read as a naive midnight)."""
    midnight = datetime.combine(day, time.min, tzinfo=quota.SHANGHAI)
    return urlencode({"send_at__gte": midnight.isoformat()})


def publishing_panel(request):
    user = request.user
    if not user.has_perm("publishing.view_schedule"):
        return None
    now = timezone.now()
    accounts = list(selectors.visible_accounts(user))
    changelist = reverse("admin:publishing_schedule_changelist")
    waiting_delivery = Delivery.objects.filter(schedule=OuterRef("pk"), account__in=accounts, state__in=WAITING)
    scheduled = Schedule.objects.filter(Exists(waiting_delivery), cancelled_at__isnull=True).order_by("send_at", "id")
    failures = selectors.failures_needing_attention(user, now - FAILURES_SINCE)
    start = week_start(now)
    sent = Delivery.objects.filter(account__in=accounts, state=DeliveryState.SENT, sent_at__gte=start)
    sent_schedules = Schedule.objects.filter(
        Exists(Delivery.objects.filter(schedule=OuterRef("pk"), account__in=accounts, state=DeliveryState.SENT,
                                       sent_at__gte=start))
    ).order_by("-send_at", "-id")  # fmt: skip
    today = timezone.localtime(now, quota.SHANGHAI).date()
    sections = [
        section("scheduled", gettext("Scheduled sends"), scheduled, _schedule_row,
                url=f"{changelist}?{_from(today)}&cancelled_at__isnull=True"),
        waiting("failed", gettext("Failed or unconfirmed sends (last 7 days)"), RETRY, user, failures, _failure_row,
                url=f"{changelist}?{_from(today - FAILURES_SINCE)}"),
        section("sent", gettext("Sent this week"), sent_schedules, _schedule_row, tab=DONE,
                url=f"{changelist}?{_from(start.date())}"),
    ]  # fmt: skip
    cards = [
        Card("sends_this_week", gettext("Sends this week"), sent.count(), url=f"{changelist}?{_from(start.date())}"),
        quota_card(accounts, now),
    ]
    return panel("publishing", gettext("Mass-sends"), sections, cards)
