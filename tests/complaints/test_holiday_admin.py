"""Administrators enter the holiday announcement in the admin, and the dashboard says when a year is missing."""

from datetime import date

import pytest
from django.urls import reverse

from complaints import workdays
from complaints.models import CalendarOverride, OverrideKind
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:complaints_calendaroverride_add")
LIST_URL = reverse("admin:complaints_calendaroverride_changelist")
MISSING_2027 = "2027年的节假日安排尚未录入：到期日按仅周末计算，标为暂定。"


@pytest.fixture
def superuser(county):
    return UserFactory(username="root", department=county["office"], is_superuser=True)


@pytest.fixture
def late_november_2026(monkeypatch):
    # The dashboard looks at today's year and, from November, the next one.
    monkeypatch.setattr(workdays, "shanghai_today", lambda: date(2026, 11, 26))


def test_administrator_enters_a_holiday(superuser, login):
    response = login(superuser).post(
        ADD_URL, {"date": "2027-01-01", "kind": OverrideKind.HOLIDAY, "name": "元旦", "note": "国办发明电"}
    )
    assert response.status_code == 302
    override = CalendarOverride.objects.get()
    assert (override.date, override.name, override.created_by) == (date(2027, 1, 1), "元旦", superuser)


def test_admin_refuses_a_date_entered_twice_in_chinese(superuser, login):
    CalendarOverride.objects.create(date=date(2027, 1, 1), kind=OverrideKind.HOLIDAY, name="元旦")
    response = login(superuser).post(
        ADD_URL, {"date": "2027-01-01", "kind": OverrideKind.WORKDAY, "name": "元旦调休上班"}
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["date"] == ["该日期已录入，请修改原有记录，不要重复录入。"]
    assert CalendarOverride.objects.count() == 1


def test_list_is_filtered_by_year(superuser, login):
    CalendarOverride.objects.create(date=date(2027, 1, 1), kind=OverrideKind.HOLIDAY, name="元旦")
    CalendarOverride.objects.create(date=date(2028, 1, 1), kind=OverrideKind.HOLIDAY, name="元旦")
    response = login(superuser).get(LIST_URL, {"year": "2027"})
    assert [row.date for row in response.context["cl"].result_list] == [date(2027, 1, 1)]


def test_dashboard_warns_administrator_about_missing_year(administrator, login, late_november_2026):
    page = login(administrator).get(reverse("admin:index")).content.decode()
    assert MISSING_2027 in page
    assert LIST_URL in page


def test_dashboard_warning_is_for_administrators_only(editor, login, late_november_2026):
    page = login(editor).get(reverse("admin:index")).content.decode()
    assert MISSING_2027 not in page


def test_dashboard_warning_disappears_once_the_year_is_entered(administrator, login, late_november_2026):
    CalendarOverride.objects.create(date=date(2027, 1, 1), kind=OverrideKind.HOLIDAY, name="元旦")
    page = login(administrator).get(reverse("admin:index")).content.decode()
    assert "2027年" not in page  # the warning is gone (the calendar stays in the app list)


@pytest.mark.parametrize(
    ("today", "missing"),
    [
        (date(2026, 6, 1), []),  # 2026 is in the package; next year is not announced before November
        (date(2026, 11, 1), [2027]),
        (date(2027, 3, 1), [2027]),
    ],
)
def test_years_missing_schedule(today, missing):
    assert workdays.years_missing_schedule(today=today) == missing


def test_an_administrator_by_role_can_enter_next_years_holidays(client, administrator):
    from django.urls import reverse

    from complaints.models import CalendarOverride

    client.force_login(administrator)
    response = client.post(
        reverse("admin:complaints_calendaroverride_add"),
        {"date": "2027-02-08", "kind": "holiday", "name": "春节", "note": ""},
    )
    assert response.status_code == 302, response.content.decode()[:1500]
    assert CalendarOverride.objects.get(date="2027-02-08").created_by == administrator
