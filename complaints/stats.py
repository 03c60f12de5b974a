"""Statistics of citizens' messages: received, replied, on time, working days to reply, satisfaction, overdue;
by department, by type and by month.

Every figure is counted by the database in grouped queries (one per table, two for the months), never by looping
over cases in Python: the statistics page and the dashboard must stay fast at 200,000 cases.

What counts, because inspectors compare these figures with the annual report and with each other:
- received: cases received in the period (received_at, Shanghai dates). Duplicates merged into another case are
  left out: the case they were merged into counts.
- replied: cases whose reply went out in the period (replied_at), whenever they were received. A reopened case
  counts with its latest reply only (reopening clears the earlier one).
- on-time rate: of those replied, the share replied on or before the due date (replied_on_time), in percent with
  one decimal place; None when nothing was replied.
- average working days to reply: the mean of replied_workdays of those replied, one decimal place.
- satisfaction: the ratings of the cases replied in the period; the satisfaction rate is satisfied plus basically
  satisfied among those rated.
- overdue: open cases past their due date now (selectors.overdue_q), whatever the period: it is today's backlog,
  so the month table has no overdue column.
"""

from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext

from accounts.models import Department
from accounts.scoping import departments_for
from complaints import selectors
from complaints.models import CaseKind, CaseState, Rating
from complaints.workdays import SHANGHAI, shanghai_today

ONE_PLACE = Decimal("0.1")
SATISFIED_RATINGS = (Rating.SATISFIED, Rating.BASICALLY_SATISFIED)


@dataclass(frozen=True)
class Period:
    """Whole days in Asia/Shanghai, both ends included."""

    first: date
    last: date

    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) as aware datetimes: midnight in Shanghai of the first day and of the day after the last."""
        return (
            datetime.combine(self.first, time.min, tzinfo=SHANGHAI),
            datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=SHANGHAI),
        )

    def months(self) -> list[date]:
        """The first day of every month the period touches, in order."""
        months, month = [], self.first.replace(day=1)
        while month <= self.last:
            months.append(month)
            month = (month + timedelta(days=32)).replace(day=1)
        return months


def this_year(today: date | None = None) -> Period:
    today = today or shanghai_today()
    return Period(date(today.year, 1, 1), date(today.year, 12, 31))


def percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(ONE_PLACE, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Figures:
    """One line of a table: its label and the counts behind every rate (rates are computed, never stored, so that
    a total line is the sum of its lines and its rates are those of the sums)."""

    key: object
    label: str
    received: int = 0
    replied: int = 0
    on_time: int = 0
    workdays_total: int = 0
    # Replies with the working days recorded (all of them, except rows from before that was recorded).
    workdays_counted: int = 0
    satisfied: int = 0
    basically_satisfied: int = 0
    dissatisfied: int = 0
    overdue: int = 0

    @property
    def on_time_rate(self) -> Decimal | None:
        return percent(self.on_time, self.replied)

    @property
    def average_workdays(self) -> Decimal | None:
        if not self.workdays_counted:
            return None
        return (Decimal(self.workdays_total) / Decimal(self.workdays_counted)).quantize(ONE_PLACE, ROUND_HALF_UP)

    @property
    def rated(self) -> int:
        return self.satisfied + self.basically_satisfied + self.dissatisfied

    @property
    def satisfaction_rate(self) -> Decimal | None:
        return percent(self.satisfied + self.basically_satisfied, self.rated)


COUNTS = tuple(field.name for field in fields(Figures) if field.name not in ("key", "label"))


def total_of(rows: list[Figures], *, label: str = "") -> Figures:
    return Figures(None, label, **{name: sum(getattr(row, name) for row in rows) for name in COUNTS})


@dataclass(frozen=True)
class Statistics:
    period: Period
    by_department: list[Figures]
    by_kind: list[Figures]
    by_month: list[Figures]
    total: Figures


def _received_q(period: Period) -> Q:
    start, end = period.bounds()
    return Q(received_at__gte=start, received_at__lt=end) & ~Q(state=CaseState.MERGED)


def _replied_q(period: Period) -> Q:
    start, end = period.bounds()
    return Q(replied_at__gte=start, replied_at__lt=end)


def _reply_measures(replied: Q) -> dict:
    return {
        "replied": Count("pk", filter=replied),
        "on_time": Count("pk", filter=replied & Q(replied_on_time=True)),
        "workdays_total": Sum("replied_workdays", filter=replied, default=0),
        "workdays_counted": Count("replied_workdays", filter=replied),
        "satisfied": Count("pk", filter=replied & Q(rating=Rating.SATISFIED)),
        "basically_satisfied": Count("pk", filter=replied & Q(rating=Rating.BASICALLY_SATISFIED)),
        "dissatisfied": Count("pk", filter=replied & Q(rating=Rating.DISSATISFIED)),
    }


def _grouped(cases: QuerySet, period: Period, group_by: tuple[str, ...], today: date) -> list[dict]:
    """One row per group with every count: one query over the cases received or replied in the period or overdue
    now (the only cases any count looks at)."""
    received, replied, overdue = _received_q(period), _replied_q(period), selectors.overdue_q(today=today)
    return list(
        cases.filter(received | replied | overdue)
        .order_by()  # the model's default ordering would otherwise join the GROUP BY
        .values(*group_by)
        .annotate(
            received=Count("pk", filter=received), overdue=Count("pk", filter=overdue), **_reply_measures(replied)
        )
    )


def _figures(key, label: str, row: dict) -> Figures:
    return Figures(key, label, **{name: row.get(name) or 0 for name in COUNTS})


def _tree_order(row: dict) -> tuple:
    """Departments in the order of the tree (parents before children, siblings by id: the path holds the ids, which
    must be compared as numbers, "/1/9/" before "/1/10/"); cases not routed yet last."""
    path = row["department__path"] or ""
    return (row["department"] is None, [int(part) for part in path.strip("/").split("/") if part])


def by_department(cases: QuerySet, period: Period, *, today: date | None = None) -> list[Figures]:
    """A line per department that has a case counted, in the order of the department tree; cases not routed yet
    last."""
    rows = _grouped(cases, period, ("department", "department__name", "department__path"), today or shanghai_today())
    rows.sort(key=_tree_order)
    return [_figures(row["department"], row["department__name"] or gettext("Not routed yet"), row) for row in rows]


def by_kind(cases: QuerySet, period: Period, *, today: date | None = None) -> list[Figures]:
    """A line per type of message, every type listed (zeros included) in the order of CaseKind."""
    rows = {row["kind"]: row for row in _grouped(cases, period, ("kind",), today or shanghai_today())}
    return [_figures(kind, str(label), rows.get(kind, {})) for kind, label in CaseKind.choices]


def by_month(cases: QuerySet, period: Period) -> list[Figures]:
    """A line per month of the period (zeros included): received by the month of receipt, replied by the month of
    the reply. Months are Shanghai months. Two queries: the two counts group by different dates."""
    received_q, replied_q = _received_q(period), _replied_q(period)
    received = {
        row["month"].date(): row["received"]
        for row in cases.filter(received_q)
        .order_by()
        .annotate(month=TruncMonth("received_at", tzinfo=SHANGHAI))
        .values("month")
        .annotate(received=Count("pk"))
    }
    replied = {
        row["month"].date(): row
        for row in cases.filter(replied_q)
        .order_by()
        .annotate(month=TruncMonth("replied_at", tzinfo=SHANGHAI))
        .values("month")
        .annotate(**_reply_measures(Q()))
    }
    return [
        _figures(
            month, f"{month.year}-{month.month:02d}", {**replied.get(month, {}), "received": received.get(month, 0)}
        )
        for month in period.months()
    ]


def case_statistics(cases: QuerySet, period: Period, *, today: date | None = None) -> Statistics:
    """Every table of the statistics page for these cases (already scoped to the person and filtered)."""
    today = today or shanghai_today()
    departments = by_department(cases, period, today=today)
    return Statistics(
        period=period,
        by_department=departments,
        by_kind=by_kind(cases, period, today=today),
        by_month=by_month(cases, period),
        # Every case has one department or none, so the department lines add up to everything.
        total=total_of(departments, label=gettext("Total")),
    )


def on_time_by_department(cases: QuerySet, period: Period) -> list[Figures]:
    """Replies and on-time replies per department in the period: the dashboard's chart, one query on the
    replied_at index only (cheaper than the whole department table)."""
    rows = list(
        cases.filter(_replied_q(period))
        .order_by()
        .values("department", "department__name", "department__path")
        .annotate(**_reply_measures(Q()))
    )
    rows.sort(key=_tree_order)
    return [_figures(row["department"], row["department__name"] or gettext("Not routed yet"), row) for row in rows]


# -- whose cases -------------------------------------------------------------------------------------------------


def department_choices(user) -> QuerySet:
    """The departments a person may narrow the statistics to."""
    departments = Department.objects.all() if selectors.sees_every_department(user) else departments_for(user)
    return departments.filter(is_active=True).order_by("path")


def scoped_cases(user, *, kind: str = "", department: Department | None = None) -> QuerySet:
    """The cases whose statistics this person may see, narrowed to a type and to a department with the departments
    below it."""
    cases = selectors.cases_for(user)
    if kind:
        cases = cases.filter(kind=kind)
    if department is not None:
        cases = cases.filter(department__path__startswith=department.path)
    return cases
