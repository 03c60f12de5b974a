from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.db.models import Count

from accounts.scoping import scope_to_department
from publishing import quota
from publishing.models import ChannelAccount, Delivery, DeliveryState, QuotaPeriod, QuotaSlot


def visible_accounts(user):
    return scope_to_department(ChannelAccount.objects.filter(is_active=True), user).prefetch_related("quota_rules")


def quota_left(account: ChannelAccount, moment: datetime) -> list[dict]:
    """For each of the account's limits: the period holding `moment`, the limit, used and free slots."""
    rows = []
    for period, limit in quota.rules_for(account).items():
        key = quota.period_key(moment, period)
        used = quota.usage(account, period, key)
        rows.append(
            {"period": QuotaPeriod(period), "key": key, "limit": limit, "used": used, "free": max(limit - used, 0)}
        )
    return rows


def calendar(accounts: list[ChannelAccount], first_day: date, days: int) -> list[dict]:
    """Rows per account: each day's deliveries and free quota, for the month or week views."""
    start = datetime.combine(first_day, time.min, tzinfo=quota.SHANGHAI)
    end = start + timedelta(days=days)
    deliveries = defaultdict(list)
    for delivery in (
        Delivery.objects.filter(account__in=accounts, due_at__gte=start, due_at__lt=end)
        .exclude(state=DeliveryState.CANCELLED)
        .select_related("schedule")
        .order_by("due_at")
    ):
        local = delivery.schedule.send_at.astimezone(quota.SHANGHAI)
        deliveries[(delivery.account_id, local.date())].append(delivery)
    used = defaultdict(int)
    for row in (
        QuotaSlot.objects.filter(account__in=accounts, period__in=[QuotaPeriod.DAY, QuotaPeriod.MONTH])
        .values("account_id", "period", "period_key")
        .annotate(n=Count("id"))
    ):
        used[(row["account_id"], row["period"], row["period_key"])] = row["n"]
    grid = []
    for account in accounts:
        rules = quota.rules_for(account)
        cells = []
        for offset in range(days):
            day = first_day + timedelta(days=offset)
            moment = datetime.combine(day, time(12), tzinfo=quota.SHANGHAI)
            free = None
            for period in (QuotaPeriod.DAY, QuotaPeriod.MONTH):
                if period in rules:
                    left = rules[period] - used[(account.pk, period, quota.period_key(moment, period))]
                    free = left if free is None else min(free, left)
            cells.append({"day": day, "deliveries": deliveries[(account.pk, day)], "free": free})
        grid.append({"account": account, "cells": cells})
    return grid


def failures_needing_attention(user, since: datetime):
    """Deliveries a person must look at: failed, or possibly sent and unconfirmed (unknown)."""
    deliveries = Delivery.objects.filter(
        state__in=[DeliveryState.FAILED, DeliveryState.UNKNOWN], due_at__gte=since
    ).select_related("schedule", "account")
    return scope_to_department(deliveries, user, field="account__department").order_by("-due_at")
