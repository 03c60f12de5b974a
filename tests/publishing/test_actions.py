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


def button_shown(page: str, code: str, delivery=None) -> bool:
    if code == "retry":
        return reverse("admin:publishing_delivery_retry", args=[delivery.pk]) in page
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
        shown = button_shown(detail_page(login, user, schedule), code)
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
