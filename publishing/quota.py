"""Quota periods, default rules and slot reservation.

Periods are calendar hours, days and months in Asia/Shanghai whatever the server's zone:
a send at 23:59:59 and one at 00:00:00 fall in different days.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from publishing.models import (
    ChannelAccount,
    DeliveryState,
    Platform,
    QuotaPeriod,
    QuotaRule,
    QuotaSlot,
    WeChatAccountType,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def default_rules(account: ChannelAccount) -> dict[str, int]:
    """The platform's own limits; an administrator may tighten them, never loosen."""
    if account.platform == Platform.WECHAT:
        if account.wechat_account_type == WeChatAccountType.SERVICE:
            return {QuotaPeriod.MONTH: 4}
        return {QuotaPeriod.DAY: 1}
    if account.platform == Platform.WEIBO:
        return {QuotaPeriod.HOUR: 30, QuotaPeriod.DAY: settings.WEIBO_DAILY_CAP}
    return {}


def period_key(moment: datetime, period: str) -> str:
    local = moment.astimezone(SHANGHAI)
    if period == QuotaPeriod.HOUR:
        return local.strftime("%Y-%m-%dT%H")
    if period == QuotaPeriod.DAY:
        return local.strftime("%Y-%m-%d")
    return local.strftime("%Y-%m")


def rules_for(account: ChannelAccount) -> dict[str, int]:
    """The account's effective limits: its own rules, never above the platform's defaults."""
    rules = default_rules(account)
    for rule in account.quota_rules.all():
        rules[rule.period] = min(rule.limit, rules.get(rule.period, rule.limit))
    return rules


def usage(account: ChannelAccount, period: str, key: str) -> int:
    return QuotaSlot.objects.filter(account=account, period=period, period_key=key).count()


class QuotaFull(Exception):
    def __init__(self, account, period, key, limit):
        super().__init__(f"{account} {period} {key} full ({limit})")
        self.account, self.period, self.key, self.limit = account, period, key, limit


def lock_account(account: ChannelAccount) -> None:
    """Serialise bookings of one account until the transaction ends (window and gap checks then hold too)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [7301, account.pk])


def reserve_slots(delivery, send_at: datetime) -> None:
    """Take the lowest free slot of each of the account's rules for `send_at`, or raise QuotaFull.

    Must run inside the caller's transaction. The unique constraint on (account, period,
    period_key, slot) decides races: the loser re-reads and takes the next slot, or finds none.
    """
    account = delivery.account
    for period, limit in rules_for(account).items():
        key = period_key(send_at, period)
        for _attempt in range(limit + 1):
            taken = set(
                QuotaSlot.objects.filter(account=account, period=period, period_key=key).values_list("slot", flat=True)
            )
            free = [n for n in range(1, limit + 1) if n not in taken]
            if not free:
                raise QuotaFull(account, period, key, limit)
            try:
                with transaction.atomic():
                    QuotaSlot.objects.create(
                        account=account, period=period, period_key=key, slot=free[0], delivery=delivery
                    )
                break
            except IntegrityError:
                continue
        else:
            raise QuotaFull(account, period, key, limit)


def release_slots(delivery) -> None:
    QuotaSlot.objects.filter(delivery=delivery).delete()


def in_send_window(account: ChannelAccount, send_at: datetime) -> bool:
    if account.window_start is None or account.window_end is None:
        return True
    local = send_at.astimezone(SHANGHAI).time()
    if account.window_start <= account.window_end:
        return account.window_start <= local <= account.window_end
    return local >= account.window_start or local <= account.window_end  # a window across midnight


def too_close(account: ChannelAccount, send_at: datetime, exclude_schedule_id=None):
    """Another live delivery of this account within its minimum gap, or None."""
    if not account.min_gap_minutes:
        return None
    from publishing.models import Delivery

    gap = timedelta(minutes=account.min_gap_minutes)
    nearby = Delivery.objects.filter(
        account=account,
        schedule__send_at__gt=send_at - gap,
        schedule__send_at__lt=send_at + gap,
    ).exclude(state__in=[DeliveryState.CANCELLED, DeliveryState.FAILED])
    if exclude_schedule_id:
        nearby = nearby.exclude(schedule_id=exclude_schedule_id)
    return nearby.select_related("schedule").first()


def ensure_default_rules(account: ChannelAccount) -> None:
    for period, limit in default_rules(account).items():
        QuotaRule.objects.get_or_create(account=account, period=period, defaults={"limit": limit})
