"""Checks run before a schedule is stored, per account and for every platform: the editor sees
each problem and how to fix it in the form, never a platform error after the fact."""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from content.models import ArticleState
from publishing import quota
from publishing.channels import channel_for
from publishing.channels.base import Problem, SendPlan
from publishing.models import ChannelAccount, Delivery, QuotaPeriod, QuotaSlot

MAX_ARTICLES = 8

PERIOD_WORDS = {
    QuotaPeriod.HOUR: gettext_lazy("hour"),
    QuotaPeriod.DAY: gettext_lazy("day"),
    QuotaPeriod.MONTH: gettext_lazy("month"),
}


def check_plan(plan: SendPlan, accounts: list[ChannelAccount]) -> list[Problem]:
    problems = []
    if not plan.articles:
        problems.append(Problem(_("Choose at least one article.")))
    if len(plan.articles) > MAX_ARTICLES:
        problems.append(Problem(_("A mass-send holds at most 8 articles.")))
    if not accounts:
        problems.append(Problem(_("Choose at least one account to send to.")))
    if plan.send_at <= timezone.now():
        problems.append(Problem(_("The send time has passed; choose a time in the future.")))
    for article in plan.articles:
        if article.state not in (ArticleState.APPROVED, ArticleState.PUBLISHED):
            problems.append(
                Problem(
                    _("“%(title)s” is %(state)s; only approved articles can be sent.")
                    % {"title": article.title, "state": article.get_state_display()},
                    article=article,
                )
            )
    for account in accounts:
        if not account.is_active:
            problems.append(Problem(_("%(account)s is switched off.") % {"account": account}, account=account))
            continue
        problems += check_account_time(account, plan)
        problems += channel_for(account).preflight(plan)
    return problems


def check_account_time(account: ChannelAccount, plan: SendPlan) -> list[Problem]:
    """Quota free at send_at, inside the send window, far enough from the account's other sends."""
    problems = []
    local = timezone.localtime(plan.send_at)
    if not quota.in_send_window(account, plan.send_at):
        problems.append(
            Problem(
                _("%(account)s sends only between %(start)s and %(end)s; %(time)s is outside that window.")
                % {
                    "account": account,
                    "start": account.window_start.strftime("%H:%M"),
                    "end": account.window_end.strftime("%H:%M"),
                    "time": local.strftime("%H:%M"),
                },
                account=account,
            )
        )
    near = quota.too_close(account, plan.send_at, exclude_schedule_id=plan.schedule_id)
    if near:
        problems.append(
            Problem(
                _("%(account)s already sends at %(other)s; keep at least %(gap)d minutes between two sends.")
                % {
                    "account": account,
                    "other": timezone.localtime(near.schedule.send_at).strftime("%m-%d %H:%M"),
                    "gap": account.min_gap_minutes,
                },
                account=account,
            )
        )
    for period, limit in quota.rules_for(account).items():
        key = quota.period_key(plan.send_at, period)
        used = QuotaSlot.objects.filter(account=account, period=period, period_key=key)
        if plan.schedule_id:
            used = used.exclude(delivery__in=Delivery.objects.filter(schedule_id=plan.schedule_id))
        if used.count() >= limit:
            problems.append(quota_full_problem(account, period, key, limit))
    return problems


def quota_full_problem(account, period: str, key: str, limit: int) -> Problem:
    return Problem(
        _(
            "%(account)s has used its %(limit)d mass-send(s) per %(period)s for %(key)s. "
            "Choose another %(period)s (the calendar shows free days) or another account."
        )
        % {"account": account, "limit": limit, "period": PERIOD_WORDS[period], "key": key},
        account=account,
    )
