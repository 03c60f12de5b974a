"""Actions: every transition a person makes is one rule, asked everywhere (DESIGN.md "Actions", after
Wagtail's `wagtail/actions/`).

An action's `check(user, obj)` returns why it is refused (Chinese, for the user) or "" when allowed;
`execute(user, obj, **params)` asks `check` again inside its transaction (on the row it locked) and
only then does the work, the audit entry and the after-commit effects. Buttons, "waiting for me"
lists, public forms and other services ask the same `check`, so no copy of a rule lives elsewhere.

Most actions ask the same things in the same order: a permission, the user's reach over the object (its
department), the states it starts from, then their own conditions. `Action.check` asks exactly that from
the class attributes `permission`, `from_states` and `state_message` and the hooks `scope_refusal` and
`check_more`; an action whose order differs overrides `check` (or `permission_refusal`) itself.

Each workflow app keeps its actions in `<app>/actions.py` as one `Actions` per model; the admin shows
`actions.available(user, obj)` as buttons and runs them with `govcms.admin_workflow.run_action`.
This module imports no app.
"""

from abc import ABC, abstractmethod

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _


class ActionRefused(ValidationError, PermissionDenied):
    """`check` refused: caught as either exception, so forms show it and views answer 403 alike."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Action(ABC):
    code = ""  # short name: URL part and button id ("submit", "approve", ...)
    label = ""  # the button's text (lazy translation)
    needs_reason = False  # the admin asks for a reason first and passes it as `reason`
    confirm = ""  # a question the admin asks before running it ("" = none)
    # What the default `check` asks, in this order: the permission, the user's reach over `obj`
    # (`scope_refusal`), the state `obj` is in, then whatever else the action needs (`check_more`).
    permission = ""  # the Django permission it needs ("" = the action asks for none here)
    from_states: tuple = ()  # the values of `obj.state` it starts from (() = any)
    state_message = ""  # why another state is refused; %(state)s names the state obj is in

    def check(self, user, obj) -> str:
        """Why `user` may not do this to `obj` now, or ""."""
        return self.permission_refusal(user, obj) or self.state_refusal(obj) or self.check_more(user, obj)

    def permission_refusal(self, user, obj) -> str:
        if self.permission and (user is None or not user.is_authenticated or not user.has_perm(self.permission)):
            return _("You do not have permission to do this.")
        return self.scope_refusal(user, obj)

    def scope_refusal(self, user, obj) -> str:
        """Why `obj` lies outside what `user` works on (another department's), or ""."""
        return ""

    def starts_from(self, obj) -> bool:
        return not self.from_states or obj.state in self.from_states

    def state_refusal(self, obj) -> str:
        return "" if self.starts_from(obj) else self.state_message % {"state": obj.get_state_display()}

    def check_more(self, user, obj) -> str:
        """The action's own conditions, asked after permission and state passed."""
        return ""

    def candidates(self, queryset, user=None):
        """A superset of the rows `check` may allow to `user` (lists narrow with it, then ask `check` row by row)."""
        return queryset.filter(state__in=self.from_states) if self.from_states else queryset

    def execute(self, user, obj, **params):
        """Check again and do it, all in one transaction; ActionRefused when refused (nothing changes)."""
        with transaction.atomic():
            obj = self.lock(obj)
            refusal = self.check(user, obj)
            if refusal:
                raise ActionRefused(refusal)
            return self.perform(user, obj, **params)

    def lock(self, obj):
        """The object as `perform` must see it: override to re-read it FOR UPDATE."""
        return obj

    @abstractmethod
    def perform(self, user, obj, **params):
        """The work itself (audit entry and on_commit effects included); runs only after `check` passed."""

    def allowed(self, user, obj) -> bool:
        return not self.check(user, obj)

    def require(self, user, obj) -> None:
        """ActionRefused unless `check` allows it (for callers that only need the answer, not `execute`)."""
        refusal = self.check(user, obj)
        if refusal:
            raise ActionRefused(refusal)


class Actions:
    """The actions of one model, in the order their buttons appear."""

    def __init__(self, *actions: Action):
        self._by_code = {action.code: action for action in actions}

    def __iter__(self):
        return iter(self._by_code.values())

    def __getitem__(self, code: str) -> Action:
        return self._by_code[code]

    def __contains__(self, code: str) -> bool:
        return code in self._by_code

    def available(self, user, obj) -> list[Action]:
        """What `user` may do to `obj` now: exactly the buttons to show."""
        return [action for action in self if action.allowed(user, obj)]
