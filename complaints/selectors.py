"""Reads of citizens' messages used in more than one place (admin lists, dashboard, digest, public pages)."""

from datetime import date

from django.db.models import Q, QuerySet

from accounts.roles import is_administrator
from accounts.scoping import scope_to_department
from complaints import workdays
from complaints.models import OPEN_STATES, Case


def cases_for(user, queryset: QuerySet | None = None) -> QuerySet:
    """The cases a member of staff may see: registrars and administrators every case (they route them), everyone
    else only cases assigned to their department or below it (never unrouted ones)."""
    queryset = Case.objects.all() if queryset is None else queryset
    if is_administrator(user) or user.has_perm("complaints.register_case"):
        return queryset
    return scope_to_department(queryset, user)


def due_within(days: int, *, today: date | None = None, calendar: workdays.WorkCalendar | None = None) -> date:
    """The date `days` working days after today (today counts as day 0)."""
    today = today or workdays.shanghai_today()
    return (calendar or workdays.WorkCalendar()).add_workdays(today, days).due if days else today


def open_cases(queryset: QuerySet | None = None) -> QuerySet:
    queryset = Case.objects.all() if queryset is None else queryset
    return queryset.filter(state__in=OPEN_STATES)


def overdue_q(*, today: date | None = None) -> Q:
    """Open cases past their due date whose clock is running (a stopped clock is not overdue)."""
    today = today or workdays.shanghai_today()
    return Q(state__in=OPEN_STATES, due_date__lt=today, clock_stopped_since=None)


def overdue_cases(queryset: QuerySet | None = None, *, today: date | None = None) -> QuerySet:
    queryset = Case.objects.all() if queryset is None else queryset
    return queryset.filter(overdue_q(today=today))


def due_soon_cases(queryset: QuerySet | None = None, *, workdays_ahead: int = 2, today: date | None = None) -> QuerySet:
    """Open cases due between today and `workdays_ahead` working days from now (inclusive)."""
    today = today or workdays.shanghai_today()
    queryset = Case.objects.all() if queryset is None else queryset
    return queryset.filter(
        state__in=OPEN_STATES,
        clock_stopped_since=None,
        due_date__gte=today,
        due_date__lte=due_within(workdays_ahead, today=today),
    )


def published_cases() -> QuerySet:
    return Case.objects.filter(published=True).select_related("department").order_by("-published_at", "-id")
