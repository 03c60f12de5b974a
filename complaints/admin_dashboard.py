"""The dashboard's work list of citizens' messages for the person logged in: what waits for them, and what is
overdue or about to be, within the cases they may see."""

from django.urls import reverse
from django.utils.translation import gettext

from complaints import selectors, workdays
from complaints.models import CaseState, ReplyDraft

# Cases listed by name per section; the count and a link to the filtered list cover the rest.
TOP = 10


def _section(key: str, title: str, queryset, *, order: tuple, url: str, alarm: bool = False) -> dict | None:
    count = queryset.count()
    if not count:
        return None
    cases = list(queryset.select_related("department").order_by(*order)[:TOP])
    return {"key": key, "title": title, "count": count, "cases": cases, "url": url, "alarm": alarm}


def cases_panel(request):
    """One panel with a section per kind of waiting work; None when nothing waits or the user has no cases."""
    user = request.user
    if not user.has_perm("complaints.view_case"):
        return None
    scope = selectors.cases_for(user)
    changelist = reverse("admin:complaints_case_changelist")
    today = workdays.shanghai_today()
    sections = []
    if user.has_perm("complaints.register_case"):
        sections.append(
            _section(
                "to_route",
                gettext("Received messages waiting to be routed"),
                scope.filter(state=CaseState.RECEIVED),
                order=("received_at", "id"),
                url=f"{changelist}?state__exact={CaseState.RECEIVED}",
            )
        )
    if user.has_perm("complaints.review_reply"):
        # Replies written by someone else: nobody reviews their own (four-eyes).
        mine = ReplyDraft.objects.filter(state=ReplyDraft.State.IN_REVIEW, author=user).values("case_id")
        sections.append(
            _section(
                "to_review",
                gettext("Replies waiting for my review"),
                scope.filter(state=CaseState.REPLY_IN_REVIEW).exclude(pk__in=mine),
                order=("due_date", "id"),
                url=f"{changelist}?state__exact={CaseState.REPLY_IN_REVIEW}",
            )
        )
    if user.has_perm("complaints.approve_extension"):
        sections.append(
            _section(
                "extensions",
                gettext("Extensions waiting for my approval"),
                # Open cases only (the index on state bounds the scan); a late request on an answered case is moot.
                selectors.open_cases(scope)
                .filter(extension_requested_workdays__gt=0)
                .exclude(extension_requested_by=user),
                order=("due_date", "id"),
                url=changelist,
            )
        )
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
            gettext("Due within 2 working days"),
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
