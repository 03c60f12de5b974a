"""The case list's "my work" filter: the sidebar's 待办件, 待我审批 and 已办结 link to it, and their badges count the
same rows (govcms/navigation.py). What waits for someone is what the actions' candidates hold, the rule their
`check` applies, so a badge never promises a case whose button the case page would not show."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from complaints import actions
from complaints.models import CaseState

TO_DO, APPROVE, DONE = "todo", "approve", "done"
# 待办件: route a received message, or answer an assigned one. 待我审批: a reply or an extension to decide on.
WORK_ACTIONS = {TO_DO: (actions.ROUTE, actions.REPLY), APPROVE: (actions.APPROVE, actions.EXTENSION_APPROVE)}
DONE_STATES = (CaseState.REPLIED, CaseState.CLOSED)


def case_work(queryset, user, key: str):
    """Cases of `queryset` on which `user` may take one of the actions of `key` now, or (DONE) those answered."""
    if key == DONE:
        return queryset.filter(state__in=DONE_STATES)
    if key not in WORK_ACTIONS:
        return queryset
    first, *more = (action.candidates(queryset, user) for action in WORK_ACTIONS[key])
    for candidates in more:
        first = first | candidates
    return first


class CaseWorkFilter(admin.SimpleListFilter):
    title = _("my work")
    parameter_name = "work"

    def lookups(self, request, model_admin):
        return ((TO_DO, _("Waiting for me")), (APPROVE, _("Waiting for my approval")), (DONE, _("Answered")))

    def queryset(self, request, queryset):
        return case_work(queryset, request.user, self.value()) if self.value() else queryset
