"""Reads of citizens' messages used in more than one place (admin lists, dashboard, digest, public pages)."""

from datetime import date, datetime

from django.db.models import Count, Q, QuerySet

from accounts.roles import is_administrator
from accounts.scoping import scope_to_department
from complaints import workdays
from complaints.models import OPEN_STATES, ApplicantKind, Case, CaseKind, CaseState, DisclosureOutcome

# "Due soon": what the lists highlight in amber, the dashboard counts and the morning digest announces.
DUE_SOON_WORKDAYS = 2


def sees_every_department(user) -> bool:
    """Registrars and administrators see every case (they route them); everyone else their own departments'."""
    return is_administrator(user) or user.has_perm("complaints.register_case")


def cases_for(user, queryset: QuerySet | None = None) -> QuerySet:
    """The cases a member of staff may see: every case for those who see every department (`sees_every_department`),
    otherwise only cases assigned to their department or below it (never unrouted ones)."""
    queryset = Case.objects.all() if queryset is None else queryset
    if sees_every_department(user):
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


def due_soon_cases(queryset: QuerySet | None = None, *, workdays_ahead: int = 2, today: date | None = None,
                   until: date | None = None) -> QuerySet:  # fmt: skip
    """Open cases due between today and `workdays_ahead` working days from now (inclusive); `until` is that last
    date when the caller has already computed it (it reads the holiday calendar)."""
    today = today or workdays.shanghai_today()
    queryset = Case.objects.all() if queryset is None else queryset
    return queryset.filter(
        state__in=OPEN_STATES,
        clock_stopped_since=None,
        due_date__gte=today,
        due_date__lte=until or due_within(workdays_ahead, today=today),
    )


def published_cases() -> QuerySet:
    return Case.objects.filter(published=True).select_related("department").order_by("-published_at", "-id")


def disclosure_request_counts(year: int) -> dict[str, dict[str, int]] | None:
    """Section 三 of the year's annual disclosure report counted from the disclosure requests (the shape
    disclosure.reports documents): {row: {applicant kind: n}} for every entered row and every column, zeros
    included, in two queries.

    - new: received in the year;
    - carried_over: received before the year and not yet replied when it began;
    - one row per outcome: replied in the year, by the outcome entered with the reply (a reply without one, from
      before outcomes were required, counts as "other");
    - carried_forward: received by the year's end and not replied by then.
    Years run from midnight of 1 January in Asia/Shanghai. Duplicates merged into another request are not
    requests of their own and count nowhere. A reopened request counts with its latest reply, so a year's figures
    can change when one of its requests is reopened later. With every request either replied or still open, each
    column balances: new + carried_over = the outcomes + carried_forward.

    Returns None when no disclosure request had been received by the year's end: the app was not in use then,
    and the report keeps the figures entered by hand (a year before the app went live must not read as zeros).
    """
    start = datetime(year, 1, 1, tzinfo=workdays.SHANGHAI)
    end = datetime(year + 1, 1, 1, tzinfo=workdays.SHANGHAI)
    requests = Case.objects.filter(kind=CaseKind.DISCLOSURE_REQUEST, received_at__lt=end).exclude(
        state=CaseState.MERGED
    )
    grid = {
        row: dict.fromkeys(ApplicantKind.values, 0)
        for row in ("new", "carried_over", *DisclosureOutcome.values, "carried_forward")
    }
    held = (
        requests.order_by()
        .values("applicant_kind")
        .annotate(
            new=Count("pk", filter=Q(received_at__gte=start)),
            carried_over=Count("pk", filter=Q(received_at__lt=start) & (Q(replied_at=None) | Q(replied_at__gte=start))),
            carried_forward=Count("pk", filter=Q(replied_at=None) | Q(replied_at__gte=end)),
        )
    )
    if not held:
        return None
    for row in held:
        for key in ("new", "carried_over", "carried_forward"):
            grid[key][row["applicant_kind"]] += row[key]
    replied = (
        requests.filter(replied_at__gte=start, replied_at__lt=end)
        .order_by()
        .values("applicant_kind", "outcome")
        .annotate(count=Count("pk"))
    )
    for row in replied:
        grid[row["outcome"] or DisclosureOutcome.OTHER_OTHER][row["applicant_kind"]] += row["count"]
    return grid
