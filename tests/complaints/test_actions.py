"""Every action on a citizen's message, for every role and the states that matter: the admin's case page shows
the button (the tracking page, the citizen's form) exactly when `execute` succeeds, exactly for the roles the
table names; a refused `execute` changes nothing and writes no audit entry.

Roles: the registrar, Alice (education handler), Charlie (police handler, another department), Dora (education
office head), Frank (education office head who drafted the reply under review, and the one Dora's extension
request waits on), the system administrator, and the citizen (user None, the case tracked with its code)."""

import pytest
from django.db import transaction
from django.urls import reverse

from accounts import roles
from accounts.models import AuditLog
from complaints.actions import CASE_ACTIONS, CITIZEN_ACTIONS
from complaints.models import Case, CaseKind, ClockStop, DisclosureOutcome, Rating
from complaints.services import (
    case_merge,
    case_publish,
    case_rate,
    clock_stop,
    extension_request,
    reply_approve,
    reply_save,
    reply_submit,
)
from complaints.views import TRACKED_KEY
from govcms.actions import ActionRefused
from tests.action_table import each_person
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

STAFF = ("registrar", "handler", "other_handler", "head", "drafter", "administrator")
ROLES = (*STAFF, "citizen")
EDUCATION = {"handler", "head", "drafter"}  # handle cases of education
REVIEWERS = {"head", "drafter"}  # office heads of education
BEING_HANDLED = {"transfer": EDUCATION, "return": EDUCATION, "merge": EDUCATION, "escalate": EDUCATION,
                 "reply": EDUCATION, "extension_request": EDUCATION}  # fmt: skip

# state -> {action code: roles whose execute succeeds}; an action not named succeeds for nobody.
EXPECTED = {
    "received": {"route": {"registrar"}, "merge": {"registrar"}, "escalate": {"registrar"}},
    "assigned": BEING_HANDLED,
    "drafting": {**BEING_HANDLED, "submit": EDUCATION},
    "in_review": {"approve": {"head"}, "send_back": {"head"}, "escalate": EDUCATION, "extension_request": EDUCATION},
    "replied": {"close": EDUCATION, "publish": REVIEWERS, "escalate": EDUCATION, "rate": {"citizen"}},
    "rated_dissatisfied": {"close": EDUCATION, "publish": REVIEWERS, "escalate": EDUCATION, "reopen": {"citizen"}},
    "closed_published": {"publish": REVIEWERS, "unpublish": REVIEWERS, "escalate": EDUCATION},
    "merged": {},
    "disclosure": {**BEING_HANDLED, "clock_stop": EDUCATION},
    "clock_stopped": {**BEING_HANDLED, "clock_resume": EDUCATION},
    "extension_requested": {
        **{code: roles for code, roles in BEING_HANDLED.items() if code != "extension_request"},
        "extension_approve": {"drafter"},
        "extension_refuse": {"drafter"},
    },
}
REASON = "经核实，需要按规定处理。"


@pytest.fixture
def people(registrar, handler, other_handler, head, administrator, county):
    drafter = UserFactory(
        username="frank", real_name="钱主任", department=county["education"], role=roles.COMPLAINT_REVIEWER
    )
    return {"registrar": registrar, "handler": handler, "other_handler": other_handler, "head": head,
            "drafter": drafter, "administrator": administrator, "citizen": None}  # fmt: skip


def make_state(state, *, people, make_case, routed_case) -> Case:
    """A case of the education bureau (or unrouted, or merged) in the named state, made through the actions."""
    handler, head, drafter = people["handler"], people["head"], people["drafter"]
    if state == "received":
        return make_case()[0]
    if state == "merged":
        case, _code = make_case()
        return case_merge(actor=people["registrar"], case=case, into=routed_case()[0], reason=REASON)
    if state in ("disclosure", "clock_stopped"):
        case, _code = routed_case(kind=CaseKind.DISCLOSURE_REQUEST)
        if state == "clock_stopped":
            clock_stop(actor=handler, case=case, reason=ClockStop.Reason.CORRECTION)
        return case
    case, _code = routed_case()
    if state == "extension_requested":
        return extension_request(actor=head, case=case, workdays_requested=2, reason=REASON)
    if state == "assigned":
        return case
    reply_save(actor=drafter if state != "drafting" else handler, case=case, body="您反映的问题已核实整改。")
    if state == "drafting":
        return case
    reply_submit(actor=drafter, case=case)
    if state == "in_review":
        return case
    reply_approve(actor=head, case=case)
    if state == "rated_dissatisfied":
        case_rate(case=case, rating=Rating.DISSATISFIED)
    if state == "closed_published":
        case_rate(case=case, rating=Rating.SATISFIED)
        case_publish(actor=head, case=case, subject="食堂收费问题", question="食堂多收伙食费。", answer="已整改。")
    return Case.objects.get(pk=case.pk)


def params_for(code: str, case: Case, *, county, merge_target: Case) -> dict:
    """Valid input for each action, so that `execute` fails only when `check` refuses."""
    return {
        "route": {"department": county["education"]},
        "transfer": {"department": county["police"], "reason": REASON},
        "return": {"reason": REASON},
        "merge": {"into": merge_target, "reason": REASON},
        "escalate": {"reason": REASON},
        "reply": {"body": "答复内容。", "outcome": DisclosureOutcome.DISCLOSED},
        "send_back": {"reason": REASON},
        "extension_request": {"workdays_requested": 2, "reason": REASON},
        "extension_refuse": {"reason": REASON},
        "clock_stop": {"reason": ClockStop.Reason.THIRD_PARTY},
        "publish": {"subject": "食堂收费问题", "question": "食堂多收伙食费。", "answer": "已整改。"},
        "unpublish": {"reason": REASON},
        "rate": {"rating": Rating.SATISFIED},
        "reopen": {"reason": "答复没有解决问题。"},
    }.get(code, {})


class Rollback(Exception):
    pass


def try_execute(action, user, case, params) -> bool:
    """Run the action and undo it; True when it succeeded. A refusal must leave the row and the audit log as
    they were."""
    before_row = Case.objects.filter(pk=case.pk).values().get()
    before_audit = AuditLog.objects.count()
    try:
        with transaction.atomic():
            try:
                action.execute(user, Case.objects.get(pk=case.pk), **params)
            except ActionRefused:
                assert Case.objects.filter(pk=case.pk).values().get() == before_row
                assert AuditLog.objects.count() == before_audit
                return False
            assert AuditLog.objects.count() == before_audit + 1
            raise Rollback
    except Rollback:
        return True


def buttons_shown(client, user, case) -> tuple[int, set[str]]:
    """The status of the case page for this role and the actions whose buttons (or citizen forms) it shows."""
    if user is None:
        session = client.session
        session[TRACKED_KEY] = [case.pk]
        session.save()
        response = client.get(reverse("complaints:status", args=[case.number]))
        html = response.content.decode()
        shown = {
            action.code for action in CITIZEN_ACTIONS if f'action="{reverse(f"complaints:{action.code}")}"' in html
        }
        return response.status_code, shown
    client.force_login(user)
    response = client.get(reverse("admin:complaints_case_change", args=[case.pk]))
    html = response.content.decode()
    prefix = reverse("admin:complaints_case_action", args=[case.pk, "x"]).removesuffix("x/")
    return response.status_code, {action.code for action in CASE_ACTIONS if f"{prefix}{action.code}/" in html}


def page_status(role: str, case: Case) -> int:
    """Registrars and administrators see every case; education's staff see education's; Charlie none of them
    (403: the case exists elsewhere)."""
    if role in ("registrar", "administrator", "citizen"):
        return 200
    if role in EDUCATION and case.department is not None and case.department.code == "education":
        return 200
    return 403


@pytest.mark.parametrize("state", list(EXPECTED))
def test_each_button_is_shown_exactly_when_its_action_succeeds(
    state, people, make_case, routed_case, county, client
):  # fmt: skip
    case = make_state(state, people=people, make_case=make_case, routed_case=routed_case)
    merge_target, _code = routed_case()
    actions = [*CASE_ACTIONS, *CITIZEN_ACTIONS]
    for role, user in each_person(people, ROLES):
        status, shown = buttons_shown(client, user, case)
        assert status == page_status(role, case), (state, role)
        succeeded = {
            action.code
            for action in actions
            if try_execute(action, user, case, params_for(action.code, case, county=county, merge_target=merge_target))
        }
        expected = {code for code, allowed in EXPECTED[state].items() if role in allowed}
        assert succeeded == expected, (state, role)
        assert shown == expected, (state, role)
        client.logout()
