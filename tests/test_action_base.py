"""govcms.actions.Action's default check: permission, then reach, then state, then the action's own
conditions, each refusal in that order and nothing else asked once one refuses."""

from types import SimpleNamespace

import pytest
from django.utils import translation

from govcms.actions import Action, ActionRefused


class Stamp(Action):
    code = "stamp"
    permission = "demo.stamp"
    from_states = ("draft",)
    state_message = "Only a draft can be stamped; this one is %(state)s."

    def scope_refusal(self, user, obj):
        return "" if obj.department == user.department else "Another department's."

    def check_more(self, user, obj):
        return "Already stamped." if obj.stamped else ""

    def perform(self, user, obj):
        obj.stamped = True
        return obj


def person(*, perms=("demo.stamp",), department="county"):
    return SimpleNamespace(is_authenticated=True, department=department, has_perm=lambda perm: perm in perms)


def thing(*, state="draft", department="county", stamped=False):
    return SimpleNamespace(state=state, department=department, stamped=stamped, get_state_display=lambda: state.upper())


@pytest.mark.parametrize(
    ("user", "obj", "refusal"),
    [
        (None, thing(), "You do not have permission to do this."),
        (person(perms=()), thing(state="sent", department="city"), "You do not have permission to do this."),
        (person(), thing(state="sent", department="city"), "Another department's."),
        (person(), thing(state="sent", stamped=True), "Only a draft can be stamped; this one is SENT."),
        (person(), thing(stamped=True), "Already stamped."),
        (person(), thing(), ""),
    ],
)
def test_the_default_check_asks_permission_reach_state_then_the_rest(user, obj, refusal):
    with translation.override("en"):
        assert Stamp().check(user, obj) == refusal


@pytest.mark.django_db
def test_execute_refuses_without_performing_and_performs_when_allowed():
    refused = thing(state="sent")
    with pytest.raises(ActionRefused, match="this one is SENT"):
        Stamp().execute(person(), refused)
    assert refused.stamped is False
    assert Stamp().execute(person(), thing()).stamped is True
