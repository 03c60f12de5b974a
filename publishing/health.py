"""Account health for the inspections of 政务新媒体 (国办秘函〔2019〕19号): days since an account's last mass-send or
publication (no update within two weeks is a single-veto item; local rules are often stricter, so both
thresholds are settings), its failed deliveries and the quota it has used; and the daily notice to the
account's department.

The notice is safe to run any number of times a day (beat may fire twice, an operator may run it by hand, Redis
may be flushed): an account's notice of a Shanghai day is a row of AccountHealthNotice, claimed with a
conditional update before the mail goes out and marked sent after, as complaints' digest does.

Messages waiting for a person are the followers' messages in open citizen messages (publishing/wechat_cases.py),
shown with the oldest one's age; overdue cases are the WeChat citizen messages of the account past their legal
deadline, as complaints defines overdue (`complaints.selectors.overdue_cases`). The datacube statistics shown
beside the health are in wechat_stats.py.
"""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db.models import Count, Max, Q, prefetch_related_objects
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from accounts.scoping import department_members_with
from complaints.models import Case, CaseChannel
from complaints.selectors import overdue_cases
from complaints.wechat_window import hours_since
from publishing import quota, selectors, wechat_cases
from publishing.models import (
    AccountHealthNotice,
    ChannelAccount,
    Delivery,
    DeliveryState,
    HealthLevel,
    InboundMessage,
    Platform,
)

logger = logging.getLogger(__name__)

OK, WARNING, ALARM = HealthLevel.OK, HealthLevel.WARNING, HealthLevel.ALARM
FAILURES_WINDOW = timedelta(days=30)
CLAIM_LEASE = timedelta(minutes=30)  # a claim older than this was left by a killed worker
# Who is told: members of the account's department who schedule its sends or manage it.
RECIPIENT_PERMISSIONS = ("add_schedule", "change_channelaccount")


@dataclass
class AccountHealth:
    account: ChannelAccount
    last_sent_at: datetime | None
    days_silent: int | None  # None: never sent
    level: str
    failed_deliveries: int
    quota: list = field(default_factory=list)  # selectors.quota_left rows
    waiting_messages: int = 0  # followers' messages in open citizen messages (publishing/wechat_cases.py)
    oldest_waiting_at: datetime | None = None
    overdue_cases: int = 0  # the account's WeChat citizen messages past their deadline (`overdue_wechat_cases`)

    @property
    def oldest_waiting_hours(self) -> int | None:
        return None if self.oldest_waiting_at is None else hours_since(self.oldest_waiting_at)

    @property
    def summary(self) -> str:
        if self.days_silent is None:
            return gettext("Nothing sent or published yet.")
        return gettext("%(days)s days since the last mass-send or publication.") % {"days": self.days_silent}

    @property
    def card_line(self) -> str:
        """The workbench card's line: the summary, and the overdue cases when there are any."""
        if not self.overdue_cases:
            return self.summary
        overdue = ngettext("%(count)s WeChat case overdue.", "%(count)s WeChat cases overdue.", self.overdue_cases) % {
            "count": self.overdue_cases
        }
        return self.summary + overdue


def shanghai_today(now: datetime | None = None) -> date:
    return timezone.localtime(now or timezone.now(), quota.SHANGHAI).date()


def level_for(days_silent: int | None) -> str:
    """ALARM from HEALTH_ALARM_DAYS silent days (and for an account that never sent), WARNING from
    HEALTH_WARNING_DAYS, else OK. Days are Shanghai calendar days between the last send and today."""
    if days_silent is None or days_silent >= settings.HEALTH_ALARM_DAYS:
        return ALARM
    if days_silent >= settings.HEALTH_WARNING_DAYS:
        return WARNING
    return OK


def overdue_wechat_cases(account_ids, *, today: date | None = None) -> dict[int, int]:
    """Per account: its followers' citizen messages (channel WeChat, linked by a stored message) that are overdue,
    {account_id: count}; accounts with none are absent. One query for all accounts; what "overdue" means is
    complaints' own rule (open, past the due date, the clock running)."""
    overdue = overdue_cases(Case.objects.filter(channel=CaseChannel.WECHAT), today=today)
    rows = (
        InboundMessage.objects.filter(account_id__in=list(account_ids), case__in=overdue.values("pk"))
        .values("account_id")
        .annotate(count=Count("case_id", distinct=True))
    )
    return {row["account_id"]: row["count"] for row in rows}


def health_of(accounts, *, now: datetime | None = None) -> list[AccountHealth]:
    """Each account's health: one query each for the last sends and failures, the messages waiting for a person,
    the overdue cases and the quota rules of all of them, and the quota used per account."""
    now = now or timezone.now()
    today = shanghai_today(now)
    accounts = list(accounts)
    prefetch_related_objects(accounts, "quota_rules")  # quota_left reads each account's rules
    figures = {
        row["account_id"]: row
        for row in Delivery.objects.filter(account__in=accounts)
        .values("account_id")
        .annotate(
            last_sent=Max("sent_at", filter=Q(state=DeliveryState.SENT)),
            failed=Count(
                "pk",
                filter=Q(state__in=[DeliveryState.FAILED, DeliveryState.UNKNOWN], due_at__gte=now - FAILURES_WINDOW),
            ),
        )
    }
    waiting = wechat_cases.waiting_for_person(account.pk for account in accounts)
    overdue = overdue_wechat_cases((account.pk for account in accounts), today=today)
    result = []
    for account in accounts:
        row = figures.get(account.pk, {})
        person = waiting.get(account.pk, {})
        last = row.get("last_sent")
        days = (today - shanghai_today(last)).days if last else None
        result.append(
            AccountHealth(
                account=account,
                last_sent_at=last,
                days_silent=days,
                level=level_for(days),
                failed_deliveries=row.get("failed", 0),
                quota=selectors.quota_left(account, now),
                waiting_messages=person.get("count", 0),
                oldest_waiting_at=person.get("oldest"),
                overdue_cases=overdue.get(account.pk, 0),
            )
        )
    return result


def watched_accounts():
    """The accounts inspectors judge: active WeChat and Weibo accounts (the portal has its own rules)."""
    return ChannelAccount.objects.filter(is_active=True, platform__in=[Platform.WECHAT, Platform.WEIBO]).order_by(
        "name"
    )


def notice_claim(*, day: date, account_id: int, level: str) -> int | None:
    """Take the account's notice of `day` for this run: the row's id, or None when it was sent already or
    another run is sending it now. One conditional update decides, whatever the number of runs at once."""
    row, _created = AccountHealthNotice.objects.get_or_create(day=day, account_id=account_id, defaults={"level": level})
    now = timezone.now()
    claimed = (
        AccountHealthNotice.objects.filter(pk=row.pk, sent_at=None)
        .filter(Q(claimed_at=None) | Q(claimed_at__lt=now - CLAIM_LEASE))
        .update(claimed_at=now, level=level)
    )
    return row.pk if claimed == 1 else None


def recipients(department_id: int) -> list:
    """Active members of exactly this department who schedule or manage its accounts, with an email address."""
    return department_members_with(department_id, "publishing", RECIPIENT_PERMISSIONS)


def _message(health: AccountHealth, person) -> EmailMessage:
    account = health.account
    if health.level == ALARM:
        subject = gettext("[New media check] %(account)s: not updated for %(days)s days") % {
            "account": account.name,
            "days": health.days_silent if health.days_silent is not None else "—",
        }
    else:
        subject = gettext("[New media check] %(account)s: %(days)s days since the last update") % {
            "account": account.name,
            "days": health.days_silent,
        }
    lines = [
        health.summary,
        gettext(
            "An account not updated within %(alarm)s days fails the inspection of government new media; "
            "a warning is given from %(warning)s days."
        )
        % {"alarm": settings.HEALTH_ALARM_DAYS, "warning": settings.HEALTH_WARNING_DAYS},
        gettext("Failed deliveries in the last 30 days: %(count)s") % {"count": health.failed_deliveries},
        settings.SITE_URL + reverse("admin:publishing_account_health_detail", args=[account.pk]),
    ]
    return EmailMessage(subject=subject, body="\n\n".join(lines), to=[person.email])


def health_notify_all(*, now: datetime | None = None) -> int:
    """Mail each account's department once a Shanghai day while the account is at WARNING or ALARM. Returns the
    number of emails sent. An account whose department has nobody to tell is logged; a failed send gives the
    claim back (a later run retries) and does not hold up the other accounts."""
    now = now or timezone.now()
    today = shanghai_today(now)
    sent = 0
    with translation.override(settings.LANGUAGE_CODE):
        for health in health_of(watched_accounts(), now=now):
            if health.level == OK:
                continue
            account = health.account
            people = recipients(account.department_id)
            if not people:
                logger.warning(
                    "account health: %s (id %s) has nobody with an email address to tell", account, account.pk
                )
                continue
            claim = notice_claim(day=today, account_id=account.pk, level=health.level)
            if claim is None:
                continue
            try:
                sent += get_connection().send_messages([_message(health, person) for person in people]) or 0
            except OSError:
                AccountHealthNotice.objects.filter(pk=claim).update(claimed_at=None)
                logger.exception("account health: mailing about %s (id %s) failed", account, account.pk)
            else:
                AccountHealthNotice.objects.filter(pk=claim).update(sent_at=timezone.now())
    return sent
