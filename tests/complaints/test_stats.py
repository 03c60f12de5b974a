"""Statistics of citizens' messages: the figures (complaints.stats), the admin page with its charts, the xlsx
export and the dashboard's chart.

Cases go through the services (create, route, reply, approve, rate). Their dates are spread over 2025 by passing
received_at to case_create and, because a reply is always approved "now", by setting replied_at, replied_on_time
and replied_workdays with queryset.update afterwards: the statistics read exactly these columns.
"""

import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext

from accounts.models import AuditLog
from complaints import stats
from complaints.models import Case, CaseKind, CaseState, Rating
from complaints.services import case_create, case_merge, case_rate, case_route, reply_approve, reply_save, reply_submit
from tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
YEAR_2025 = stats.Period(date(2025, 1, 1), date(2025, 12, 31))


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def new_case(registrar, county):
    def _new(received_at, *, department="education", kind=CaseKind.COMPLAINT, subject="学校食堂收费问题"):
        case, _code = case_create(
            kind=kind, subject=subject, content="孩子学校食堂每月多收伙食费。", name="张三丰", phone="13812345678",
            received_at=received_at,
        )  # fmt: skip
        if department:
            case = case_route(actor=registrar, case=case, department=county[department])
        return case

    return _new


@pytest.fixture
def reply(handler, head, other_handler, other_head):
    """Reply through the services, then move the reply to the date the test needs (see the module docstring)."""
    people = {"education": (handler, head), "police": (other_handler, other_head)}

    def _reply(case, *, replied_at, on_time, workdays, rating=None, department="education"):
        author, reviewer = people[department]
        reply_save(actor=author, case=case, body="已核实，多收费用将退还。")
        reply_submit(actor=author, case=case)
        case = reply_approve(actor=reviewer, case=case)
        if rating:
            case = case_rate(case=case, rating=rating)
        Case.objects.filter(pk=case.pk).update(
            replied_at=replied_at, replied_on_time=on_time, replied_workdays=workdays
        )
        return case

    return _reply


@pytest.fixture
def year_of_cases(new_case, reply, registrar):
    """2025 for education and police, with the edges of the year and of a month."""
    # Education: four received in 2025, three replied (two on time), one still open (overdue by now).
    first = new_case(at(2025, 3, 10, 9))
    reply(first, replied_at=at(2025, 3, 14, 10), on_time=True, workdays=4, rating=Rating.SATISFIED)
    inquiry = new_case(at(2025, 3, 20, 9), kind=CaseKind.INQUIRY, subject="入学政策咨询")
    reply(inquiry, replied_at=at(2025, 4, 2, 10), on_time=False, workdays=8, rating=Rating.DISSATISFIED)
    new_case(at(2025, 4, 1, 9))
    # 00:30 on 1 March in Shanghai is still 28 February in UTC: a March case.
    march_edge = new_case(datetime(2025, 2, 28, 16, 30, tzinfo=ZoneInfo("UTC")))
    reply(march_edge, replied_at=at(2025, 3, 5, 10), on_time=True, workdays=3)
    # Received in December 2024, replied in January 2025: counted as replied only.
    late = new_case(at(2024, 12, 20, 9))
    reply(late, replied_at=at(2025, 1, 3, 10), on_time=True, workdays=9, rating=Rating.BASICALLY_SATISFIED)
    # Police: one received and replied on time.
    police = new_case(at(2025, 4, 5, 9), department="police", subject="噪音扰民")
    reply(police, replied_at=at(2025, 4, 8, 10), on_time=True, workdays=2, department="police",
          rating=Rating.BASICALLY_SATISFIED)  # fmt: skip
    # Not counted: received at 00:30 on 1 January 2026 in Shanghai (still 2025 in UTC), and a merged duplicate.
    new_case(datetime(2025, 12, 31, 16, 30, tzinfo=ZoneInfo("UTC")))
    duplicate = new_case(at(2025, 5, 6, 9), department=None)
    case_merge(actor=registrar, case=duplicate, into=first, reason="重复提交")
    # Not routed yet: counted under its own line.
    new_case(at(2025, 6, 1, 9), department=None, subject="路灯不亮")


def _line(rows, label):
    return next(row for row in rows if row.label == label)


def test_counts_by_department(year_of_cases):
    rows = stats.by_department(Case.objects.all(), YEAR_2025)
    assert [row.label for row in rows] == ["县教育局", "县公安局", gettext("Not routed yet")]
    education = _line(rows, "县教育局")
    assert (education.received, education.replied, education.on_time) == (4, 4, 3)
    assert education.on_time_rate == Decimal("75.0")
    assert education.average_workdays == Decimal("6.0")  # (4 + 8 + 3 + 9) / 4
    assert (education.satisfied, education.basically_satisfied, education.dissatisfied) == (1, 1, 1)
    assert education.satisfaction_rate == Decimal("66.7")
    # Overdue now: the open April case and the January 2026 one (due in January 2026, before today).
    assert education.overdue == 2
    police = _line(rows, "县公安局")
    assert (police.received, police.replied, police.on_time_rate, police.average_workdays) == (1, 1, 100, 2)
    unrouted = _line(rows, gettext("Not routed yet"))
    assert (unrouted.received, unrouted.replied, unrouted.on_time_rate, unrouted.average_workdays) == (1, 0, None, None)


def test_counts_by_type_list_every_type(year_of_cases):
    rows = stats.by_kind(Case.objects.all(), YEAR_2025)
    assert [row.key for row in rows] == list(CaseKind.values)
    counts = {row.key: (row.received, row.replied, row.on_time) for row in rows}
    assert counts == {
        CaseKind.INQUIRY: (1, 1, 0),
        CaseKind.COMPLAINT: (5, 4, 4),
        CaseKind.SUGGESTION: (0, 0, 0),
        CaseKind.DISCLOSURE_REQUEST: (0, 0, 0),
    }
    assert _line(rows, str(CaseKind.SUGGESTION.label)).on_time_rate is None


def test_counts_by_month_in_shanghai_months(year_of_cases):
    rows = stats.by_month(Case.objects.all(), YEAR_2025)
    assert [row.key for row in rows] == [date(2025, month, 1) for month in range(1, 13)]
    by_month = {row.key.month: (row.received, row.replied) for row in rows}
    assert by_month[1] == (0, 1)
    assert by_month[2] == (0, 0)  # the 28 February (UTC) case is a March case
    assert by_month[3] == (3, 2)
    assert by_month[4] == (2, 2)
    assert by_month[6] == (1, 0)
    assert by_month[12] == (0, 0)  # 1 January 2026 in Shanghai
    assert _line(rows, "2025-04").on_time_rate == Decimal("50.0")


def test_total_is_the_sum_of_the_departments_with_rates_of_the_sums(year_of_cases):
    statistics = stats.case_statistics(Case.objects.all(), YEAR_2025)
    total = statistics.total
    assert (total.received, total.replied, total.on_time) == (6, 5, 4)
    assert total.on_time_rate == Decimal("80.0")
    assert total.average_workdays == Decimal("5.2")  # 26 / 5
    assert total.satisfaction_rate == Decimal("75.0")  # 3 of 4 rated
    assert sum(row.received for row in statistics.by_month) == total.received
    assert sum(row.replied for row in statistics.by_kind) == total.replied


def test_rates_round_half_up_to_one_place():
    assert stats.percent(2, 3) == Decimal("66.7")
    assert stats.percent(1, 8) == Decimal("12.5")
    assert stats.percent(1, 16) == Decimal("6.3")
    assert stats.percent(0, 0) is None
    figures = stats.Figures(None, "", workdays_total=7, workdays_counted=4)
    assert figures.average_workdays == Decimal("1.8")


def test_a_handful_of_queries_however_many_cases(year_of_cases, django_assert_num_queries):
    with django_assert_num_queries(4):  # departments, types, and the months' received and replied
        stats.case_statistics(Case.objects.all(), YEAR_2025)


def test_office_head_counts_only_their_department(year_of_cases, head, other_head, registrar):
    education = stats.case_statistics(stats.scoped_cases(head), YEAR_2025)
    assert [row.label for row in education.by_department] == ["县教育局"]
    police = stats.case_statistics(stats.scoped_cases(other_head), YEAR_2025)
    assert [row.label for row in police.by_department] == ["县公安局"]
    assert police.total.received == 1
    everything = stats.case_statistics(stats.scoped_cases(registrar), YEAR_2025)
    assert everything.total.received == 6


def test_type_and_department_filters(year_of_cases, registrar, county):
    inquiries = stats.case_statistics(stats.scoped_cases(registrar, kind=CaseKind.INQUIRY), YEAR_2025)
    assert (inquiries.total.received, inquiries.total.overdue) == (1, 0)
    # A department includes the departments below it.
    county_wide = stats.scoped_cases(registrar, department=county["county"])
    assert stats.case_statistics(county_wide, YEAR_2025).total.received == 5  # all but the unrouted one
    assert stats.department_choices(registrar).count() == len(county)


# -- the admin page ----------------------------------------------------------------------------------------------


def _page(client, **params):
    return client.get(reverse("admin:complaints_case_statistics"), params)


def test_page_shows_tables_and_charts(year_of_cases, login, registrar):
    response = _page(login(registrar), first="2025-01-01", last="2025-12-31")
    assert response.status_code == 200
    page = response.content.decode()
    for text in ("By department", "By type", "By month", "On-time rate by department", "Export xlsx"):
        assert gettext(text) in page
    assert "县教育局" in page and "2025-03" in page
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') == 4
    tables = response.context["tables"]
    assert tables[0]["total"][:4] == [gettext("Total"), 6, 5, 4]
    assert "department" in response.context["form"].fields  # the registrar sees every department


def test_page_defaults_to_this_year(login, head):
    response = _page(login(head))
    assert response.status_code == 200
    period = response.context["statistics"].period
    today = stats.shanghai_today()
    assert (period.first, period.last) == (date(today.year, 1, 1), date(today.year, 12, 31))


def test_department_filter_only_for_those_who_see_several(login, other_head, head):
    # Erin's police bureau has no departments below it; Dora's education bureau has one.
    assert "department" not in _page(login(other_head)).context["form"].fields
    assert "department" in _page(login(head)).context["form"].fields


def test_department_filter_cannot_reach_another_department(year_of_cases, login, head, county):
    response = _page(login(head), department=county["police"].pk)
    assert response.context["statistics"] is None
    assert "department" in response.context["form"].errors


def test_an_inverted_period_is_refused_with_a_message(login, head):
    response = _page(login(head), first="2025-12-31", last="2025-01-01")
    assert response.context["statistics"] is None
    assert gettext("The end date is before the start date.") in response.content.decode()


def test_page_and_export_need_the_statistics_permission(login, handler):
    client = login(handler)  # a department handler: no complaints.view_statistics
    assert _page(client).status_code == 403
    assert client.get(reverse("admin:complaints_case_statistics_export")).status_code == 403


def test_export_is_an_xlsx_with_one_sheet_per_table_keeping_the_filters(year_of_cases, login, registrar):
    client = login(registrar)
    response = _page(client, first="2025-01-01", last="2025-12-31", kind=CaseKind.COMPLAINT)
    assert response.context["export_url"].endswith("?first=2025-01-01&last=2025-12-31&kind=complaint")
    response = client.get(response.context["export_url"])
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    filename = gettext("Citizen message statistics %(first)s to %(last)s.xlsx") % {
        "first": "2025-01-01",
        "last": "2025-12-31",
    }
    # A Chinese name is sent as RFC 5987 filename*=utf-8''...
    assert response["Content-Disposition"] == content_disposition_header(True, filename)
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == [gettext(name) for name in ("Summary", "By department", "By type", "By month")]
    departments = list(book[gettext("By department")].iter_rows(values_only=True))
    assert departments[0][:3] == (gettext("department"), gettext("Received (cases)"), gettext("Replied (cases)"))
    assert departments[-1][:4] == (gettext("Total"), 5, 4, 4)  # complaints only: the inquiry is filtered out
    assert departments[-1][4] == 100  # the on-time rate, a number
    summary = list(book[gettext("Summary")].iter_rows(values_only=True))
    complaint = str(CaseKind.COMPLAINT.label)
    assert (gettext("type"), complaint) in summary
    assert (gettext("Received (cases)"), 5) in summary
    entry = AuditLog.objects.get(action="case.statistics_export")
    assert entry.actor == registrar
    assert entry.detail == {"first": "2025-01-01", "last": "2025-12-31", "kind": "complaint", "department": ""}


def test_export_neutralises_text_that_a_spreadsheet_would_run(login, registrar, county, new_case):
    county["formula"] = DepartmentFactory(code="formula", name='=HYPERLINK("http://evil")', parent=county["county"])
    new_case(at(2025, 3, 1, 9), department="formula")
    response = login(registrar).get(
        reverse("admin:complaints_case_statistics_export"), {"first": "2025-01-01", "last": "2025-12-31"}
    )
    sheet = openpyxl.load_workbook(io.BytesIO(response.content))[gettext("By department")]
    labels = [row[0] for row in sheet.iter_rows(values_only=True)]
    assert '\'=HYPERLINK("http://evil")' in labels


def test_export_with_a_bad_period_goes_back_to_the_page(login, head):
    response = login(head).get(
        reverse("admin:complaints_case_statistics_export"), {"first": "2025-12-31", "last": "2025-01-01"}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:complaints_case_statistics"))
    assert not AuditLog.objects.filter(action="case.statistics_export").exists()


# -- the dashboard -----------------------------------------------------------------------------------------------


def test_dashboard_shows_this_years_on_time_rate_by_department(login, head, new_case, reply):
    now = datetime.now(SHANGHAI)
    case = new_case(now.replace(month=1, day=2, hour=9))
    reply(case, replied_at=now.replace(month=1, day=5, hour=9), on_time=True, workdays=1)
    page = login(head).get(reverse("admin:index")).content.decode()
    assert gettext("On-time rate by department (this year)") in page
    # In the chart's description, which screen readers read.
    assert gettext("%(label)s: %(value)s") % {"label": "县教育局", "value": "100%"} in page
    assert reverse("admin:complaints_case_statistics") in page


def test_dashboard_chart_is_kept_a_few_minutes_per_scope_of_departments(login, head, other_head, new_case, reply):
    # The year's figures take a fraction of a second at a county's size, so the chart is kept
    # PANEL_CACHE_SECONDS; another department's head never sees the first one's kept chart.
    from django.core.cache import cache

    cache.clear()  # this run's own Redis database
    now = datetime.now(SHANGHAI)
    reply(new_case(now.replace(month=1, day=2, hour=9)), replied_at=now.replace(month=1, day=5), on_time=True,
          workdays=1)  # fmt: skip
    rate = gettext("%(label)s: %(value)s")
    assert rate % {"label": "县教育局", "value": "100%"} in login(head).get(reverse("admin:index")).content.decode()
    reply(new_case(now.replace(month=1, day=3, hour=9)), replied_at=now.replace(month=1, day=6), on_time=False,
          workdays=30)  # fmt: skip
    assert rate % {"label": "县教育局", "value": "100%"} in login(head).get(reverse("admin:index")).content.decode()
    police = new_case(now.replace(month=1, day=2, hour=9), department="police")
    reply(police, replied_at=now.replace(month=1, day=5), on_time=False, workdays=30, department="police")
    page = login(other_head).get(reverse("admin:index")).content.decode()
    assert rate % {"label": "县公安局", "value": "0%"} in page
    assert "县教育局" not in page
    cache.clear()
    assert rate % {"label": "县教育局", "value": "50%"} in login(head).get(reverse("admin:index")).content.decode()


def test_dashboard_chart_is_not_shown_without_the_statistics_permission(login, handler):
    page = login(handler).get(reverse("admin:index")).content.decode()
    assert gettext("On-time rate by department (this year)") not in page


def test_merged_cases_keep_their_state(year_of_cases):
    # A guard for the fixture: the duplicate really is merged, so "not counted" above is about merging.
    assert Case.objects.filter(state=CaseState.MERGED).count() == 1


def test_the_date_inputs_show_the_period_as_iso_dates(login, head):
    # <input type="date"> shows nothing for the Chinese locale's 2025/01/01.
    page = _page(login(head), first="2025-01-01", last="2025-06-30").content.decode()
    assert 'type="date" name="first" value="2025-01-01"' in page
    assert 'type="date" name="last" value="2025-06-30"' in page
    year = stats.shanghai_today().year
    page = _page(login(head)).content.decode()
    assert f'type="date" name="first" value="{year}-01-01"' in page
