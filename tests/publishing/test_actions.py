"""One rule per publishing decision: for every action, role and state that matters, the schedule page
shows the button exactly when `execute` succeeds, and a refused `execute` changes nothing and writes
no audit entry."""

from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import roles
from accounts.models import AuditLog
from govcms.actions import ActionRefused
from publishing.actions import DELIVERY_ACTIONS, SCHEDULE_ACTIONS
from publishing.models import Delivery, DeliveryState, QuotaSlot, Schedule
from publishing.quota import SHANGHAI
from publishing.services import schedule_create
from tests.action_table import each_person
from tests.factories import UserFactory

ROLES = ["editor", "administrator", "reviewer", "police_editor"]
# State of the schedule's two deliveries (or the schedule itself) before the action.
SCHEDULE_STATES = {
    "not started": {},
    "one sent, one waiting": {"first": {"state": DeliveryState.SENT}},
    "all sent": {"first": {"state": DeliveryState.SENT}, "second": {"state": DeliveryState.SENT}},
    "sending": {"first": {"state": DeliveryState.SENDING}},
    "cancelled": {"schedule": {"cancelled_at": "now"}},
    "one sent, one being confirmed": {
        "first": {"state": DeliveryState.SENT},
        "second": {"state": DeliveryState.RETRYING, "uncertain_since": "now"},
    },
    "one may have been sent": {"first": {"state": DeliveryState.UNKNOWN}},
    "one being confirmed": {"first": {"state": DeliveryState.RETRYING, "uncertain_since": "now"}},
    "one failed, one waiting": {"first": {"state": DeliveryState.FAILED}},
    "one waiting to retry": {"first": {"state": DeliveryState.RETRYING}},
}
DELIVERY_STATES = [
    DeliveryState.SCHEDULED,
    DeliveryState.FAILED,
    DeliveryState.RETRYING,
    DeliveryState.UNKNOWN,
    DeliveryState.SENT,
    DeliveryState.CANCELLED,
]


def at(days: int, hour: int = 10):
    return datetime.combine(timezone.localdate() + timedelta(days=days), time(hour), tzinfo=SHANGHAI)


@pytest.fixture
def people(editor, administrator, reviewer, county):
    police_editor = UserFactory(username="police-editor", department=county["police"], role=roles.EDITOR)
    return {"editor": editor, "administrator": administrator, "reviewer": reviewer, "police_editor": police_editor}


@pytest.fixture
def schedule(editor, approved, make_account):
    first = make_account("示范县发布")
    second = make_account("示范县服务", wechat_account_type="service")
    return schedule_create(
        actor=editor, schedule=Schedule(send_at=at(2)), articles=[approved()], accounts=[first, second]
    )


def put_in_state(schedule, state: dict) -> None:
    now = timezone.now()
    first, second = schedule.deliveries.order_by("account__name")  # 示范县发布, 示范县服务
    for key, delivery in (("first", first), ("second", second)):
        fields = {k: (now if v == "now" else v) for k, v in state.get(key, {}).items()}
        if fields:
            Delivery.objects.filter(pk=delivery.pk).update(**fields)
    if "schedule" in state:
        Schedule.objects.filter(pk=schedule.pk).update(cancelled_at=now)


def snapshot(schedule) -> tuple:
    schedule = Schedule.objects.get(pk=schedule.pk)
    deliveries = list(schedule.deliveries.order_by("pk").values_list("state", "due_at", "attempts"))
    slots = list(QuotaSlot.objects.order_by("pk").values_list("delivery_id", "period_key", "slot"))
    return schedule.send_at, schedule.cancelled_at, deliveries, slots, AuditLog.objects.count()


def detail_page(login, user, schedule):
    response = login(user).get(reverse("admin:publishing_schedule_change", args=[schedule.pk]))
    return response.content.decode() if response.status_code == 200 else ""


def button_shown(page: str, code: str, obj) -> bool:
    """The button for `code` on `obj` (the schedule, or the delivery for a retry); cancelling opens its
    confirmation page."""
    if code == "retry":
        return reverse("admin:publishing_delivery_retry", args=[obj.pk]) in page
    if code == "cancel":
        return reverse("admin:publishing_schedule_cancel", args=[obj.pk]) in page
    return f'name="action" value="{code}"' in page


def each_role(people):
    """Every role in turn, each in a savepoint rolled back afterwards: one set-up serves them all."""
    return each_person(people, ROLES)


@pytest.mark.django_db
@pytest.mark.parametrize("state", list(SCHEDULE_STATES))
@pytest.mark.parametrize("code", ["reschedule", "cancel"])
def test_schedule_buttons_appear_exactly_when_the_action_succeeds(state, code, people, schedule, login):
    put_in_state(schedule, SCHEDULE_STATES[state])
    for role, user in each_role(people):
        shown = button_shown(detail_page(login, user, schedule), code, schedule)
        before = snapshot(schedule)
        params = {"send_at": at(3)} if code == "reschedule" else {}
        try:
            SCHEDULE_ACTIONS[code].execute(user, Schedule.objects.get(pk=schedule.pk), **params)
        except ActionRefused:
            assert not shown, f"{role} sees “{code}” in state “{state}”, but it is refused"
            assert snapshot(schedule) == before
        else:
            assert shown, f"{role} may {code} in state “{state}”, but sees no button"
            assert snapshot(schedule) != before


@pytest.mark.django_db
@pytest.mark.parametrize("state", DELIVERY_STATES)
def test_retry_button_appears_exactly_when_retry_succeeds(state, people, schedule, login):
    delivery = schedule.deliveries.order_by("account__name").first()
    Delivery.objects.filter(pk=delivery.pk).update(state=state)
    for role, user in each_role(people):
        shown = button_shown(detail_page(login, user, schedule), "retry", delivery)
        before = snapshot(schedule)
        try:
            DELIVERY_ACTIONS["retry"].execute(user, delivery)
        except ActionRefused:
            assert not shown, f"{role} sees “retry” on a {state} delivery, but it is refused"
            assert snapshot(schedule) == before
        else:
            assert shown, f"{role} may retry a {state} delivery, but sees no button"
            assert Delivery.objects.get(pk=delivery.pk).state == DeliveryState.RETRYING


@pytest.mark.django_db
def test_the_expected_people_may_act(people, schedule):
    """The table above proves buttons and actions agree; this says who may act at all."""
    move = SCHEDULE_ACTIONS["reschedule"]
    allowed = {role: move.allowed(user, schedule) for role, user in people.items()}
    assert allowed == {"editor": True, "administrator": True, "reviewer": False, "police_editor": False}


WENT_OUT = "部分群发已经发出（或可能已发出），不能再改期或取消。如需撤下已发出的文章，请到平台上操作。"
# Exactly the states in which some delivery went out (or may have): move and cancel are refused with WENT_OUT.
GONE_OUT_STATES = ["one sent, one waiting", "all sent", "sending", "one sent, one being confirmed",
                   "one may have been sent", "one being confirmed"]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("state", GONE_OUT_STATES)
@pytest.mark.parametrize("code", ["reschedule", "cancel"])
def test_move_and_cancel_are_refused_once_a_delivery_went_out(state, code, editor, schedule, login):
    put_in_state(schedule, SCHEDULE_STATES[state])
    action = SCHEDULE_ACTIONS[code]
    assert action.check(editor, Schedule.objects.get(pk=schedule.pk)) == WENT_OUT
    before = snapshot(schedule)
    params = {"send_at": at(3)} if code == "reschedule" else {}
    with pytest.raises(ActionRefused) as refused:
        action.execute(editor, Schedule.objects.get(pk=schedule.pk), **params)
    assert refused.value.reason == WENT_OUT
    assert snapshot(schedule) == before  # no state, time, slot or audit entry changed
    # Through the admin too: the page says why, the quota is not "freed" and no cancel time is recorded.
    client = login(editor)
    before = snapshot(schedule)  # logging in writes its own audit entry
    url = reverse("admin:publishing_schedule_cancel", args=[schedule.pk])
    response = (
        client.post(url, follow=True)
        if code == "cancel"
        else client.post(
            reverse("admin:publishing_schedule_change", args=[schedule.pk]),
            {"action": "reschedule", "send_at": at(3).strftime("%Y-%m-%dT%H:%M")},
        )
    )
    page = response.content.decode()
    assert WENT_OUT in page and "配额已释放" not in page
    assert snapshot(schedule) == before


@pytest.mark.django_db
@pytest.mark.parametrize("state", ["not started", "one failed, one waiting", "one waiting to retry"])
def test_cancel_is_allowed_before_anything_went_out(state, editor, schedule):
    put_in_state(schedule, SCHEDULE_STATES[state])
    audit_before = AuditLog.objects.count()
    SCHEDULE_ACTIONS["cancel"].execute(editor, Schedule.objects.get(pk=schedule.pk))
    states = sorted(schedule.deliveries.values_list("state", flat=True))
    expected = {
        "not started": ["cancelled", "cancelled"],
        "one failed, one waiting": ["cancelled", "failed"],
        "one waiting to retry": ["cancelled", "cancelled"],
    }[state]
    assert states == expected
    assert not QuotaSlot.objects.filter(delivery__state="cancelled").exists()
    assert Schedule.objects.get(pk=schedule.pk).cancelled_at is not None
    assert AuditLog.objects.count() == audit_before + 1


@pytest.mark.django_db
def test_move_is_allowed_before_anything_went_out(editor, schedule):
    SCHEDULE_ACTIONS["reschedule"].execute(editor, Schedule.objects.get(pk=schedule.pk), send_at=at(3))
    assert Schedule.objects.get(pk=schedule.pk).send_at == at(3)
