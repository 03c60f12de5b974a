"""The dashboard's work list of citizens' messages for the person logged in: what waits for them, and what is
overdue or about to be, within the cases they may see. "Waits for me" is what the action's own `check` allows
(complaints.actions.waiting_for, counted by the database), so a list never offers a case whose button the case page
would not show."""

from django.urls import reverse
from django.utils.translation import gettext

from complaints import actions, selectors, workdays
from complaints.models import CaseState

# Cases listed by name per section; the count and a link to the filtered list cover the rest.
TOP = 10


def _section(key: str, title: str, queryset, *, order: tuple, url: str, alarm: bool = False) -> dict | None:
    count = queryset.count()
    if not count:
        return None
    cases = list(queryset.select_related("department").order_by(*order)[:TOP])
    return {"key": key, "title": title, "count": count, "cases": cases, "url": url, "alarm": alarm}


def _waiting_section(user, action, scope, key: str, title: str, *, url: str) -> dict | None:
    """The cases on which the action's own check lets this user act now (oldest deadline first)."""
    ordered = scope.select_related("department").order_by("due_date", "id")
    count, cases = actions.waiting_for(user, action, ordered, first=TOP)
    if not count:
        return None
    return {"key": key, "title": title, "count": count, "cases": cases, "url": url, "alarm": False}


def cases_panel(request):
    """One panel with a section per kind of waiting work; None when nothing waits or the user has no cases."""
    user = request.user
    if not user.has_perm("complaints.view_case"):
        return None
    scope = selectors.cases_for(user)
    changelist = reverse("admin:complaints_case_changelist")
    today = workdays.shanghai_today()
    sections = [
        _waiting_section(user, actions.ROUTE, scope, "to_route", gettext("Received messages waiting to be routed"),
                         url=f"{changelist}?state__exact={CaseState.RECEIVED}"),
        _waiting_section(user, actions.APPROVE, scope, "to_review", gettext("Replies waiting for my review"),
                         url=f"{changelist}?state__exact={CaseState.REPLY_IN_REVIEW}"),
        _waiting_section(user, actions.EXTENSION_APPROVE, scope, "extensions",
                         gettext("Extensions waiting for my approval"), url=changelist),
    ]  # fmt: skip
    sections.append(
        _section(
            "overdue",
            gettext("Overdue"),
            selectors.overdue_cases(scope, today=today),
            order=("due_date", "id"),
            url=f"{changelist}?deadline=overdue",
            alarm=True,
        )
    )
    sections.append(
        _section(
            "due_soon",
            gettext("Due within %(days)s working days") % {"days": selectors.DUE_SOON_WORKDAYS},
            selectors.due_soon_cases(scope, workdays_ahead=selectors.DUE_SOON_WORKDAYS, today=today),
            order=("due_date", "id"),
            url=f"{changelist}?deadline=due_soon",
        )
    )
    sections = [section for section in sections if section]
    if not sections:
        return None
    return {
        "title": gettext("Citizen messages"),
        "template": "admin/complaints/dashboard_panel.html",
        "sections": sections,
    }
