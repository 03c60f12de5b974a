"""Chinese working days, and the deadlines of citizens' messages and disclosure requests counted in them.

The rules, because they decide due dates that citizens and inspectors check:

- Days are calendar days in Asia/Shanghai; a datetime is converted to its Shanghai date first.
- Whether a day is a working day: an administrator's `CalendarOverride` for that date first, then the
  chinesecalendar package for the years it knows, else weekends only (Saturday and Sunday off).
- A year is known when the package knows it, or when the override table holds at least one holiday for it: every
  State Council announcement lists holidays, so one holiday entered means the administrator has started entering
  that year. (An announcement can reach back into the previous December, e.g. 元旦 2018-12-30..2019-01-01, but by
  then the previous year has long been entered, so that does not mark a year known too early.)
- Counting "within N working days of receipt" (政府信息公开条例 art. 33 "自收到申请之日起20个工作日内"): the day
  of receipt is not counted and day 1 is the first working day after it, as for every period counted in days
  (民法典 art. 201: 开始的当日不计入，自下一日开始计算). The due date is the N-th working day, so it is always a
  working day and never falls on a holiday.
- A message received on a non-working day, or on a working day at or after OFFICE_CLOSES, counts as received on
  the next working day (the practice of the provinces' disclosure rules: 非工作日或工作时间以外提交的，顺延至下一个
  工作日). A request sent on Friday evening or during the Spring Festival thus still gets its full N working days.
- Paused ranges are inclusive (first, last) dates on which the clock stops: waiting for the citizen's correction
  (补正) or a third party's opinion (art. 30, 32). Working days inside them are not counted. Note that art. 30
  restarts the period when the corrected request arrives; callers that want that count from the correction's
  receipt instead of pausing.
- A year the package does not know never raises: its days follow weekends only and the deadline is provisional.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from complaints.models import CalendarOverride, OverrideKind

SHANGHAI = ZoneInfo("Asia/Shanghai")
# County offices close at 17:30 in most provinces (summer hours run to 18:00; a message at 17:45 then moves to the
# next day, which only gives the office more time, never the citizen less).
OFFICE_CLOSES = time(17, 30)
# The State Council announces next year's holidays in November or December; warning earlier could not be acted on.
NEXT_YEAR_CHECK_FROM = (11, 1)

ONE_DAY = timedelta(days=1)

Moment = date | datetime
Paused = Iterable[tuple[Moment, Moment]]

# Why a day was skipped (or counted although it is a weekend).
WEEKEND = "weekend"
HOLIDAY = "holiday"
CLOCK_STOPPED = "clock_stopped"
MAKEUP_WORKDAY = "makeup_workday"

REASON_LINES = {
    WEEKEND: _("%(days)s: weekend, not counted"),
    HOLIDAY: _("%(days)s: holiday (%(name)s), not counted"),
    CLOCK_STOPPED: _("%(days)s: clock stopped (waiting for a correction or a third party's opinion), not counted"),
    MAKEUP_WORKDAY: _("%(days)s: make-up workday (%(name)s), counted"),
}


@dataclass(frozen=True)
class CalendarNote:
    day: date
    reason: str
    name: str = ""


@dataclass(frozen=True)
class Deadline:
    due: date
    # True when a day counted or skipped lies in a year whose holidays nobody knows yet (weekends only).
    provisional: bool
    # Every day skipped and why, plus make-up workdays counted although they are weekends, in date order.
    explanation: list[CalendarNote]
    received: date
    # The day after which counting started: `received`, or the next working day (see the module's rules).
    counted_from: date
    workdays: int
    unknown_years: tuple[int, ...] = ()

    def explanation_lines(self) -> list[str]:
        """The explanation in the active language, consecutive days with the same reason on one line."""
        lines = [
            gettext("Counted %(count)s working days from the day after %(date)s: due on %(due)s.")
            % {"count": self.workdays, "date": self.counted_from.isoformat(), "due": self.due.isoformat()}
        ]
        if self.counted_from != self.received:
            lines.append(
                gettext(
                    "Received on %(received)s, a non-working day or after office hours: counted as received on %(date)s."
                )
                % {"received": self.received.isoformat(), "date": self.counted_from.isoformat()}
            )
        for first, last, reason, name in _group_notes(self.explanation):
            days = (
                first.isoformat()
                if first == last
                else gettext("%(first)s to %(last)s") % {"first": first.isoformat(), "last": last.isoformat()}
            )
            lines.append(str(REASON_LINES[reason]) % {"days": days, "name": name})
        for year in self.unknown_years:
            lines.append(
                gettext(
                    "The holiday schedule for %(year)s has not been entered: weekends only, so this due date is "
                    "provisional."
                )
                % {"year": year}
            )
        return lines


def _group_notes(notes):
    groups = []
    for note in notes:
        if groups:
            first, last, reason, name = groups[-1]
            if note.day == last + ONE_DAY and (note.reason, note.name) == (reason, name):
                groups[-1] = (first, note.day, reason, name)
                continue
        groups.append((note.day, note.day, note.reason, note.name))
    return groups


@dataclass(frozen=True)
class _DayInfo:
    workday: bool
    reason: str = ""
    name: str = ""


def shanghai_today() -> date:
    return timezone.now().astimezone(SHANGHAI).date()


def _to_date(value: Moment) -> date:
    if isinstance(value, datetime):
        if timezone.is_naive(value):
            # A naive time could be any zone's; guessing would move deadlines by a day.
            raise ValueError("naive datetime: pass an aware datetime")
        return value.astimezone(SHANGHAI).date()
    if isinstance(value, date):
        return value
    raise TypeError(f"expected a date or datetime, got {type(value).__name__}")


def _stop_ranges(paused: Paused) -> list[tuple[date, date]]:
    ranges = []
    for first, last in paused:
        first, last = _to_date(first), _to_date(last)
        if last < first:
            raise ValueError(f"paused range ends before it starts: {first} .. {last}")
        ranges.append((first, last))
    return ranges


def _is_stopped(day: date, ranges) -> bool:
    return any(first <= day <= last for first, last in ranges)


def _package_holiday_name(name: str) -> str:
    # The package names days in English ("National Day"); its Holiday enum carries the Chinese name.
    try:
        return chinese_calendar.Holiday(name).chinese
    except ValueError:
        return name


class WorkCalendar:
    """Working days for one batch of questions.

    Overrides are loaded a span of whole years at a time, one query per span, so counting a deadline is one query
    however many days it crosses. Reuse one instance for many cases (statistics); make a new one to see new
    overrides.
    """

    def __init__(self):
        self._overrides: dict[date, CalendarOverride] = {}
        self._loaded_years: set[int] = set()
        self._years_with_holidays: set[int] = set()
        self._package_years: dict[int, bool] = {}

    def preload(self, first: date, last: date) -> None:
        missing = [year for year in range(first.year, last.year + 1) if year not in self._loaded_years]
        if not missing:
            return
        start, end = date(min(missing), 1, 1), date(max(missing), 12, 31)
        for override in CalendarOverride.objects.filter(date__gte=start, date__lte=end):
            self._overrides[override.date] = override
            if override.kind == OverrideKind.HOLIDAY:
                self._years_with_holidays.add(override.date.year)
        self._loaded_years.update(range(start.year, end.year + 1))

    def package_knows(self, year: int) -> bool:
        if year not in self._package_years:
            try:
                chinese_calendar.get_holiday_detail(date(year, 1, 1))
                self._package_years[year] = True
            except NotImplementedError:
                self._package_years[year] = False
        return self._package_years[year]

    def year_is_known(self, year: int) -> bool:
        if self.package_knows(year):
            return True
        self.preload(date(year, 1, 1), date(year, 1, 1))
        return year in self._years_with_holidays

    def _day_info(self, day: date) -> _DayInfo:
        self.preload(day, day)
        override = self._overrides.get(day)
        if override is not None:
            if override.kind == OverrideKind.HOLIDAY:
                return _DayInfo(False, HOLIDAY, override.name)
            return _DayInfo(True, MAKEUP_WORKDAY, override.name)
        if self.package_knows(day.year):
            on_holiday, name = chinese_calendar.get_holiday_detail(day)
            if name is None:
                return _DayInfo(not on_holiday, WEEKEND if on_holiday else "")
            return _DayInfo(not on_holiday, HOLIDAY if on_holiday else MAKEUP_WORKDAY, _package_holiday_name(name))
        if day.weekday() >= 5:
            return _DayInfo(False, WEEKEND)
        return _DayInfo(True)

    def is_workday(self, day: Moment) -> bool:
        return self._day_info(_to_date(day)).workday

    def receipt_date(self, received: Moment) -> date:
        """The working day a message counts as received on (see the module's rules)."""
        day = _to_date(received)
        if isinstance(received, datetime) and received.astimezone(SHANGHAI).time() >= OFFICE_CLOSES:
            day += ONE_DAY
        while not self.is_workday(day):
            day += ONE_DAY
        return day

    def add_workdays(self, start: Moment, n: int, *, paused: Paused = ()) -> Deadline:
        """The deadline n working days after a message received at `start` (date or aware datetime).

        Raises ValueError for a negative n, a naive datetime or a paused range that ends before it starts; never
        for a year the package does not know (the deadline is then provisional).
        """
        if n < 0:
            raise ValueError("n must not be negative")
        received = _to_date(start)
        stops = _stop_ranges(paused)
        # Enough room for weekends, a long holiday and the pauses, so one query usually covers the whole count.
        self.preload(received, max([received, *(last for _, last in stops)]) + timedelta(days=2 * n + 30))
        counted_from = self.receipt_date(start)
        notes = []
        years = {received.year}
        day = received
        while day < counted_from:
            info = self._day_info(day)
            if not info.workday:
                notes.append(CalendarNote(day, info.reason, info.name))
            day += ONE_DAY
        years.add(day.year)
        counted = 0
        while counted < n:
            day += ONE_DAY
            years.add(day.year)
            info = self._day_info(day)
            if not info.workday:
                notes.append(CalendarNote(day, info.reason, info.name))
            elif _is_stopped(day, stops):
                notes.append(CalendarNote(day, CLOCK_STOPPED))
            else:
                counted += 1
                if info.reason == MAKEUP_WORKDAY:
                    notes.append(CalendarNote(day, MAKEUP_WORKDAY, info.name))
        unknown = tuple(sorted(year for year in years if not self.year_is_known(year)))
        return Deadline(
            due=day,
            provisional=bool(unknown),
            explanation=notes,
            received=received,
            counted_from=counted_from,
            workdays=n,
            unknown_years=unknown,
        )

    def workdays_between(self, start: Moment, end: Moment, *, paused: Paused = ()) -> int:
        """Working days after `start` up to and including `end`, not counting paused days; negative if end < start.

        No receipt rule is applied: for "working days taken to reply" pass `receipt_date(received_at)` as start, so
        that a reply on the due date of `add_workdays(received_at, n)` took exactly n working days.
        """
        first, last = _to_date(start), _to_date(end)
        sign = 1
        if last < first:
            first, last, sign = last, first, -1
        stops = _stop_ranges(paused)
        self.preload(first, last)
        count = 0
        day = first + ONE_DAY
        while day <= last:
            if self._day_info(day).workday and not _is_stopped(day, stops):
                count += 1
            day += ONE_DAY
        return sign * count


def is_workday(day: Moment) -> bool:
    return WorkCalendar().is_workday(day)


def year_is_known(year: int) -> bool:
    return WorkCalendar().year_is_known(year)


def receipt_date(received: Moment) -> date:
    return WorkCalendar().receipt_date(received)


def add_workdays(start: Moment, n: int, *, paused: Paused = ()) -> Deadline:
    return WorkCalendar().add_workdays(start, n, paused=paused)


def workdays_between(start: Moment, end: Moment, *, paused: Paused = ()) -> int:
    return WorkCalendar().workdays_between(start, end, paused=paused)


def years_missing_schedule(*, today: date | None = None) -> list[int]:
    """The current year, and from November the next, when nobody knows their holidays yet."""
    today = today or shanghai_today()
    years = [today.year]
    if (today.month, today.day) >= NEXT_YEAR_CHECK_FROM:
        years.append(today.year + 1)
    calendar = WorkCalendar()
    calendar.preload(date(years[0], 1, 1), date(years[-1], 12, 31))
    return [year for year in years if not calendar.year_is_known(year)]
