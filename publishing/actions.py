"""The publishing decisions a person makes: schedule a mass-send, move it, cancel it, retry a delivery, push a
WeChat account's custom menu.

Each is one `govcms.actions.Action`: `check(user, obj)` says why not (Chinese) or ""; `execute` checks
again in its transaction, on the rows it locked, then does the work and writes the audit entry. The
schedule page's buttons and the services ask these checks; the sending itself (dispatch, claim,
outcomes) is no person's decision and stays in services.py.
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.scoping import works_for
from accounts.services import audit_record
from govcms.actions import Action, Actions
from publishing import quota, wechat_menu
from publishing.channels.base import SendPlan
from publishing.models import Delivery, DeliveryState, Platform, Schedule, ScheduleArticle, WeChatMenu
from publishing.preflight import check_account_time, check_plan, quota_full_problem

State = DeliveryState
WAITING = (State.SCHEDULED, State.RETRYING)
RETRYABLE = (State.FAILED, State.RETRYING, State.UNKNOWN)
GONE_OUT = (State.QUEUED, State.SENDING, State.SENT, State.UNKNOWN)


def _accounts_refusal(user, accounts) -> str:
    """Every account the decision touches belongs to a department the user works for."""
    for account in accounts:
        if not works_for(user, account.department_id):
            return _("%(account)s belongs to a department you do not work for.") % {"account": account}
    return ""


def _raise_problems(problems) -> None:
    if problems:
        raise ValidationError([problem.message for problem in problems])


def _reserve(delivery: Delivery, send_at) -> None:
    try:
        quota.reserve_slots(delivery, send_at)
    except quota.QuotaFull as full:
        raise ValidationError(quota_full_problem(full.account, full.period, full.key, full.limit).message) from None


@dataclass
class NewSchedule:
    """What the editor filled in: the unsaved schedule, its articles in order and its accounts."""

    schedule: Schedule
    articles: list
    accounts: list = field(default_factory=list)


class CreateSchedule(Action):
    code = "create"
    label = gettext_lazy("Schedule")
    permission = "publishing.add_schedule"

    def scope_refusal(self, user, obj: NewSchedule) -> str:
        return _accounts_refusal(user, obj.accounts)

    def perform(self, user, obj: NewSchedule, **params) -> Schedule:
        """One delivery per account, each holding its quota slots. Every channel's preflight runs first
        (ValidationError listing each problem, nothing stored); quota is taken in the same transaction,
        so a concurrent booking of the last slot makes this one fail cleanly with the "quota used" message."""
        schedule, articles, accounts = obj.schedule, obj.articles, obj.accounts
        plan = SendPlan(articles=list(articles), send_at=schedule.send_at, audience=schedule.audience,
                        wechat_tag_id=schedule.wechat_tag_id)  # fmt: skip
        _raise_problems(check_plan(plan, accounts))
        schedule.created_by = user
        schedule.title = articles[0].title[:200]
        schedule.save()
        ScheduleArticle.objects.bulk_create(
            [ScheduleArticle(schedule=schedule, article=article, position=n) for n, article in enumerate(articles, 1)]
        )
        for account in sorted(accounts, key=lambda a: a.pk):  # one lock order: no deadlocks between bookings
            quota.lock_account(account)
            # Checked again under the account's lock: what preflight saw may have changed since.
            _raise_problems(check_account_time(account, plan))
            delivery = Delivery.objects.create(schedule=schedule, account=account, due_at=schedule.send_at)
            _reserve(delivery, schedule.send_at)
        detail = {
            "send_at": schedule.send_at,
            "accounts": [a.pk for a in accounts],
            "articles": [a.pk for a in articles],
        }
        audit_record(actor=user, action="schedule.create", target=schedule, detail=detail)
        return schedule


class _ScheduleAction(Action):
    permission = "publishing.change_schedule"

    def scope_refusal(self, user, schedule: Schedule) -> str:
        return _accounts_refusal(user, [d.account for d in self.deliveries(schedule)])

    def check_more(self, user, schedule: Schedule) -> str:
        """Nothing changes a cancelled schedule, or one any part of which went out; then the action's own rule."""
        if schedule.cancelled_at:
            return _("This mass-send is already cancelled.")
        deliveries = self.deliveries(schedule)
        return _went_out_refusal(deliveries) or self.deliveries_refusal(deliveries)

    def deliveries_refusal(self, deliveries) -> str:
        return ""

    def lock(self, schedule: Schedule) -> Schedule:
        locked = Schedule.objects.select_for_update().get(pk=schedule.pk)
        locked.locked_deliveries = list(
            locked.deliveries.select_for_update().select_related("account").order_by("account_id")
        )
        return locked

    @staticmethod
    def deliveries(schedule: Schedule) -> list[Delivery]:
        found = getattr(schedule, "locked_deliveries", None)
        if found is None:
            found = schedule.locked_deliveries = list(schedule.deliveries.select_related("account"))
        return found


def went_out(delivery: Delivery) -> bool:
    """The platform has (or may have) this delivery: sent, unconfirmed, being sent, or queued (handed to a
    worker, which sends it whatever is recorded here meanwhile)."""
    return delivery.state in GONE_OUT or delivery.uncertain_since is not None


def _went_out_refusal(deliveries) -> str:
    # A mass-send that reached followers cannot be taken back by moving or cancelling it here: its
    # quota is really used, and "cancelled" would record a cancel on a send that happened.
    if any(went_out(d) for d in deliveries):
        return _(
            "Part of this mass-send has already gone out (or may have): it can no longer be moved or cancelled. "
            "Withdraw the sent article on the platform itself if it must come down."
        )
    return ""


class MoveSchedule(_ScheduleAction):
    code = "reschedule"
    label = gettext_lazy("Move")

    def deliveries_refusal(self, deliveries) -> str:
        if any(d.state != State.SCHEDULED for d in deliveries):
            return _("Only a schedule that has not started sending can be moved.")
        return ""

    def perform(self, user, schedule: Schedule, *, send_at) -> Schedule:
        """Its quota slots move with it, in one transaction; preflight problems of the new time refuse it."""
        deliveries = self.deliveries(schedule)
        plan = SendPlan(articles=schedule.ordered_articles(), send_at=send_at, audience=schedule.audience,
                        wechat_tag_id=schedule.wechat_tag_id, schedule_id=schedule.pk)  # fmt: skip
        _raise_problems(check_plan(plan, [d.account for d in deliveries]))
        previous = schedule.send_at
        for delivery in deliveries:
            quota.lock_account(delivery.account)
            _raise_problems(check_account_time(delivery.account, plan))
            quota.release_slots(delivery)
            _reserve(delivery, send_at)
        schedule.send_at = send_at
        schedule.save(update_fields=["send_at"])
        schedule.deliveries.update(due_at=send_at)
        audit_record(
            actor=user, action="schedule.reschedule", target=schedule, detail={"from": previous, "to": send_at}
        )
        return schedule


def _cancellable(delivery: Delivery) -> bool:
    return delivery.state in WAITING and not went_out(delivery)


class CancelSchedule(_ScheduleAction):
    code = "cancel"
    label = gettext_lazy("Cancel this mass-send")
    confirm = gettext_lazy("Cancel this mass-send? None of it has gone out yet; its reserved quota is freed.")

    def deliveries_refusal(self, deliveries) -> str:
        if not any(_cancellable(d) for d in deliveries):
            return _("Nothing is left to cancel: every delivery has ended.")
        return ""

    def perform(self, user, schedule: Schedule) -> Schedule:
        """Cancel the deliveries still waiting and free their quota; failed ones stay failed. Refused once
        any delivery has gone out (sent, being sent or unconfirmed)."""
        cancelled = [d for d in self.deliveries(schedule) if _cancellable(d)]
        for delivery in cancelled:
            quota.release_slots(delivery)
        Delivery.objects.filter(pk__in=[d.pk for d in cancelled]).update(state=State.CANCELLED)
        schedule.cancelled_at = timezone.now()
        schedule.save(update_fields=["cancelled_at"])
        audit_record(
            actor=user, action="schedule.cancel", target=schedule, detail={"deliveries": [d.pk for d in cancelled]}
        )
        return schedule


class RetryDelivery(Action):
    code = "retry"
    label = gettext_lazy("Retry now")
    permission = "publishing.change_schedule"
    from_states = RETRYABLE
    state_message = gettext_lazy("Only a failed, waiting or unconfirmed delivery can be retried.")

    def lock(self, delivery: Delivery) -> Delivery:
        return Delivery.objects.select_for_update().select_related("account").get(pk=delivery.pk)

    def scope_refusal(self, user, delivery: Delivery) -> str:
        return _accounts_refusal(user, [delivery.account])

    def perform(self, user, delivery: Delivery) -> Delivery:
        """Send it again now, through the same claim and reconcile path as any other, with a fresh set of
        attempts. One that may have been sent keeps its own quota slot: while WeChat still recognises a
        repeat (the reconcile window) it is resent with the same clientmsgid and settled by WeChat's
        answer; after that, or on Weibo (after a lookup of the account's latest posts), retrying is the
        person's word that the post is missing, and it goes out on the quota of the current period, where
        its own slot is moved first (so its own earlier booking never refuses it)."""
        from publishing.services import resend_recognised

        now = timezone.now()
        fields = {"state": State.RETRYING, "due_at": now, "attempts": 0, "error_code": "", "error_message": "",
                  "error_detail": ""}  # fmt: skip
        if delivery.uncertain_since is not None:
            fields["needs_reconcile"] = True  # ask the platform (or look the post up) before anything else
            if delivery.state == State.UNKNOWN and not resend_recognised(delivery, now):
                fields["uncertain_since"] = None  # the person checked: it is missing
                quota.lock_account(delivery.account)
                quota.release_slots(delivery)
                _reserve(delivery, now)
        elif not delivery.quota_slots.exists():
            quota.lock_account(delivery.account)
            _reserve(delivery, now)
        Delivery.objects.filter(pk=delivery.pk).update(**fields)
        audit_record(actor=user, action="delivery.retry", target=delivery, detail={"from": delivery.state})
        delivery.refresh_from_db()
        return delivery


class PushMenu(Action):
    """Replace the menu followers see with the one edited here (WeChat's menu/create)."""

    code = "push"
    label = gettext_lazy("Push to WeChat")
    permission = "publishing.change_wechatmenu"

    def lock(self, menu: WeChatMenu) -> WeChatMenu:
        # Two pushes of one menu wait for each other: WeChat ends up with the menu the later one read. The items
        # are read once, after the lock, for both the check and the push.
        locked = WeChatMenu.objects.select_for_update(of=("self",)).select_related("account")
        return locked.prefetch_related("items").get(pk=menu.pk)

    def scope_refusal(self, user, menu: WeChatMenu) -> str:
        return _accounts_refusal(user, [menu.account])

    def check_more(self, user, menu: WeChatMenu) -> str:
        """A switched-on WeChat account, and a menu within every one of WeChat's limits (each problem names the
        item and the limit; Chinese sentences follow each other without a space)."""
        account = menu.account
        if account.platform != Platform.WECHAT:
            return _("%(account)s is not a WeChat account: only WeChat accounts have a custom menu.") % {
                "account": account
            }
        if not account.is_active:
            return _("%(account)s is switched off: switch it on before pushing its menu.") % {"account": account}
        return "".join(wechat_menu.menu_problems(self.buttons(menu)))

    @staticmethod
    def buttons(menu: WeChatMenu) -> list[dict]:
        return wechat_menu.buttons_of(list(menu.items.all()))

    def perform(self, user, menu: WeChatMenu) -> WeChatMenu:
        """menu/create with the checked menu, then the time and the audit entry (with the buttons sent). WeChat's
        refusal (MenuRefused, a ValidationError naming WeChat's code) records nothing."""
        buttons = self.buttons(menu)
        wechat_menu.menu_send(account=menu.account, buttons=buttons)
        menu.pushed_at = timezone.now()
        menu.save(update_fields=["pushed_at"])
        audit_record(actor=user, action="wechat_menu.push", target=menu.account, detail={"button": buttons})
        return menu


CREATE_SCHEDULE = CreateSchedule()
SCHEDULE_ACTIONS = Actions(MoveSchedule(), CancelSchedule())
DELIVERY_ACTIONS = Actions(RetryDelivery())
PUSH_MENU = PushMenu()
MENU_ACTIONS = Actions(PUSH_MENU)
