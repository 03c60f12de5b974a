"""Actions: every transition a person makes is one rule, asked everywhere (DESIGN.md "Actions", after
Wagtail's `wagtail/actions/`).

An action's `check(user, obj)` returns why it is refused (Chinese, for the user) or "" when allowed;
`execute(user, obj, **params)` asks `check` again inside its transaction (on the row it locked) and
only then does the work, the audit entry and the after-commit effects. Buttons, "waiting for me"
lists, public forms and other services ask the same `check`, so no copy of a rule lives elsewhere.

Each workflow app keeps its actions in `<app>/actions.py` as one `Actions` per model; the admin shows
`actions.available(user, obj)` as buttons and runs them with `govcms.admin_workflow.run_action`.
This module imports no app.
"""

from abc import ABC, abstractmethod

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction


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

    @abstractmethod
    def check(self, user, obj) -> str:
        """Why `user` may not do this to `obj` now, or ""."""

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
