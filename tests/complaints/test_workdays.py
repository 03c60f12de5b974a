"""Deadlines in Chinese working days: holidays, make-up workdays, pauses, administrators' overrides, unknown years."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from complaints.models import CalendarOverride, OverrideKind
from complaints.workdays import (
    CLOCK_STOPPED,
    HOLIDAY,
    MAKEUP_WORKDAY,
    WEEKEND,
    CalendarNote,
    add_workdays,
    is_workday,
    receipt_date,
    workdays_between,
    year_is_known,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")

pytestmark = pytest.mark.django_db


def holiday(day, name, kind=OverrideKind.HOLIDAY):
    return CalendarOverride.objects.create(date=day, kind=kind, name=name)


def test_package_calendar_national_day_2025():
    assert is_workday(date(2025, 9, 28))  # Sunday, make-up workday
    assert not is_workday(date(2025, 10, 1))
    assert not is_workday(date(2025, 10, 8))  # Wednesday inside the holiday
    assert is_workday(date(2025, 10, 11))  # Saturday, make-up workday
    assert not is_workday(date(2025, 10, 12))


def test_five_workdays_across_national_day_2025():
    # Received Friday 09-26. 09-27 Sat skipped; 09-28 Sun make-up = 1; 09-29 = 2; 09-30 = 3;
    # 10-01..10-08 holiday skipped; 10-09 = 4; 10-10 = 5.
    deadline = add_workdays(date(2025, 9, 26), 5)
    assert deadline.due == date(2025, 10, 10)
    assert deadline.provisional is False
    assert deadline.explanation[:2] == [
        CalendarNote(date(2025, 9, 27), WEEKEND),
        CalendarNote(date(2025, 9, 28), MAKEUP_WORKDAY, "国庆节"),
    ]
    assert [note.day for note in deadline.explanation if note.reason == HOLIDAY] == [
        date(2025, 10, day) for day in range(1, 9)
    ]
    lines = deadline.explanation_lines()
    assert any("2025-10-01" in line and "2025-10-05" in line and "国庆节" in line for line in lines)
    assert any("2025-10-06" in line and "中秋" in line for line in lines)
    assert any("2025-10-07" in line and "2025-10-08" in line and "国庆节" in line for line in lines)


def test_five_workdays_from_the_eve_of_national_day_counts_the_saturday_make_up_day():
    # Received Tuesday 09-30 10:00. 10-01..10-08 skipped; 10-09 = 1; 10-10 = 2; 10-11 Sat make-up = 3;
    # 10-12 Sun skipped; 10-13 = 4; 10-14 = 5.
    deadline = add_workdays(datetime(2025, 9, 30, 10, 0, tzinfo=SHANGHAI), 5)
    assert deadline.due == date(2025, 10, 14)
    assert deadline.counted_from == date(2025, 9, 30)
    assert CalendarNote(date(2025, 10, 11), MAKEUP_WORKDAY, "国庆节") in deadline.explanation


def test_message_after_office_hours_counts_as_received_next_workday():
    # 09-30 17:45 is after 17:30: received on the next working day, 10-09. 10-10 = 1; 10-11 Sat make-up = 2;
    # 10-12 Sun skipped; 10-13 = 3; 10-14 = 4; 10-15 = 5.
    deadline = add_workdays(datetime(2025, 9, 30, 17, 45, tzinfo=SHANGHAI), 5)
    assert deadline.counted_from == date(2025, 10, 9)
    assert deadline.due == date(2025, 10, 15)
    assert any("2025-10-09" in line and "2025-09-30" in line for line in deadline.explanation_lines())


def test_message_on_a_holiday_counts_as_received_next_workday():
    # Received on 10-03 (holiday): counted as received 10-09, same due date as the evening of 09-30.
    deadline = add_workdays(date(2025, 10, 3), 5)
    assert deadline.counted_from == date(2025, 10, 9)
    assert deadline.due == date(2025, 10, 15)
    assert deadline.explanation[0] == CalendarNote(date(2025, 10, 3), HOLIDAY, "国庆节")


def test_datetimes_are_read_in_shanghai_time():
    # 09:45 UTC is 17:45 in Shanghai: after office hours.
    assert receipt_date(datetime(2025, 9, 30, 9, 45, tzinfo=UTC)) == date(2025, 10, 9)
    # 20:00 UTC on 09-29 is 04:00 on 09-30 in Shanghai: a working day, before closing.
    assert add_workdays(datetime(2025, 9, 29, 20, 0, tzinfo=UTC), 5).due == date(2025, 10, 14)


def test_naive_datetime_is_refused():
    with pytest.raises(ValueError):
        add_workdays(datetime(2025, 9, 30, 10, 0), 5)


def test_five_workdays_across_spring_festival_2026():
    # Package: holiday 02-15 (Sun)..02-23 (Mon); make-up workdays 02-14 (Sat) and 02-28 (Sat).
    # Received Wednesday 02-11. 02-12 = 1; 02-13 = 2; 02-14 Sat make-up = 3; 02-15..02-23 skipped; 02-24 = 4; 02-25 = 5.
    deadline = add_workdays(date(2026, 2, 11), 5)
    assert deadline.due == date(2026, 2, 25)
    assert [note.day for note in deadline.explanation if note.reason == HOLIDAY] == [
        date(2026, 2, day) for day in range(15, 24)
    ]
    assert any(
        "2026-02-15" in line and "2026-02-23" in line and "春节" in line for line in deadline.explanation_lines()
    )


def test_twenty_workday_disclosure_deadline_across_spring_festival_2026():
    # Received Monday 02-02. 02-03..02-06 = 1-4; 02-07/08 weekend; 02-09..02-13 = 5-9; 02-14 Sat make-up = 10;
    # 02-15..02-23 skipped; 02-24..02-27 = 11-14; 02-28 Sat make-up = 15; 03-01 Sun skipped; 03-02..03-06 = 16-20.
    deadline = add_workdays(date(2026, 2, 2), 20)
    assert deadline.due == date(2026, 3, 6)
    assert workdays_between(date(2026, 2, 2), deadline.due) == 20


def test_paused_range_stops_the_clock():
    # Received Monday 2025-11-03, third party consulted 11-10..11-14. 11-04..11-07 = 1-4; 11-08/09 weekend;
    # 11-10..11-14 stopped; 11-15/16 weekend; 11-17..11-21 = 5-9; 11-24..11-28 = 10-14; 12-01..12-05 = 15-19; 12-08 = 20.
    paused = [(date(2025, 11, 10), date(2025, 11, 14))]
    deadline = add_workdays(date(2025, 11, 3), 20, paused=paused)
    assert deadline.due == date(2025, 12, 8)
    assert add_workdays(date(2025, 11, 3), 20).due == date(2025, 12, 1)
    assert [note.day for note in deadline.explanation if note.reason == CLOCK_STOPPED] == [
        date(2025, 11, day) for day in range(10, 15)
    ]
    assert workdays_between(date(2025, 11, 3), date(2025, 12, 8), paused=paused) == 20


def test_paused_range_ending_before_it_starts_is_refused():
    with pytest.raises(ValueError):
        add_workdays(date(2025, 11, 3), 5, paused=[(date(2025, 11, 10), date(2025, 11, 9))])


def test_override_turns_a_package_workday_into_a_holiday():
    holiday(date(2025, 11, 5), "防台风停工")
    assert not is_workday(date(2025, 11, 5))
    # Received Monday 11-03. 11-04 = 1; 11-05 skipped; 11-06 = 2; 11-07 = 3; weekend; 11-10 = 4; 11-11 = 5.
    deadline = add_workdays(date(2025, 11, 3), 5)
    assert deadline.due == date(2025, 11, 11)
    assert CalendarNote(date(2025, 11, 5), HOLIDAY, "防台风停工") in deadline.explanation


def test_override_turns_a_package_holiday_into_a_workday():
    holiday(date(2025, 10, 8), "国庆节调休上班", kind=OverrideKind.WORKDAY)
    assert is_workday(date(2025, 10, 8))
    # Received 09-30. 10-01..10-07 skipped; 10-08 = 1; 10-09 = 2; 10-10 = 3; 10-11 Sat make-up = 4; 10-12 Sun; 10-13 = 5.
    assert add_workdays(date(2025, 9, 30), 5).due == date(2025, 10, 13)


def test_unknown_year_counts_weekends_only_and_is_provisional():
    assert not year_is_known(2027)
    # Received Thursday 2026-12-24. 12-25 = 1; weekend; 12-28..12-31 = 2-5; 2027-01-01 Fri = 6 (no data: weekends only);
    # weekend; 01-04..01-07 = 7-10.
    deadline = add_workdays(date(2026, 12, 24), 10)
    assert deadline.due == date(2027, 1, 7)
    assert deadline.provisional is True
    assert deadline.unknown_years == (2027,)
    assert any("2027" in line for line in deadline.explanation_lines()[-1:])
    assert is_workday(date(2027, 1, 1))
    assert not is_workday(date(2027, 1, 2))


def test_far_future_never_raises():
    deadline = add_workdays(date(2035, 9, 28), 40, paused=[(date(2035, 10, 1), date(2035, 10, 7))])
    assert deadline.provisional is True
    assert workdays_between(date(2035, 1, 1), date(2035, 12, 31)) > 0
    assert not is_workday(date(2035, 1, 6))  # a Saturday


def test_entered_year_is_known_and_no_longer_provisional():
    holiday(date(2027, 1, 1), "元旦")
    assert year_is_known(2027)
    # As above, but 2027-01-01 is now a holiday: 01-04..01-08 = 6-10.
    deadline = add_workdays(date(2026, 12, 24), 10)
    assert deadline.due == date(2027, 1, 8)
    assert deadline.provisional is False
    assert CalendarNote(date(2027, 1, 1), HOLIDAY, "元旦") in deadline.explanation


def test_make_up_workday_alone_does_not_mark_a_year_known():
    holiday(date(2027, 2, 20), "春节调休上班", kind=OverrideKind.WORKDAY)
    assert not year_is_known(2027)
    assert is_workday(date(2027, 2, 20))


def test_deadline_loads_overrides_in_one_query(django_assert_num_queries):
    holiday(date(2027, 1, 1), "元旦")
    with django_assert_num_queries(1):
        deadline = add_workdays(date(2026, 12, 24), 10)
    assert deadline.due == date(2027, 1, 8)


def test_workdays_between_counts_the_days_after_start():
    # 09-27 Sat; 09-28 Sun make-up = 1; 09-29 = 2; 09-30 = 3; holiday; 10-09 = 4; 10-10 = 5.
    assert workdays_between(date(2025, 9, 26), date(2025, 10, 10)) == 5
    assert workdays_between(date(2025, 10, 10), date(2025, 9, 26)) == -5
    assert workdays_between(date(2025, 10, 1), date(2025, 10, 8)) == 0
    assert workdays_between(datetime(2025, 9, 29, 23, 0, tzinfo=SHANGHAI), date(2025, 9, 30)) == 1


def test_zero_workdays_is_due_on_receipt():
    assert add_workdays(date(2025, 10, 4), 0).due == date(2025, 10, 9)
    with pytest.raises(ValueError):
        add_workdays(date(2025, 10, 4), -1)
