"""The annual disclosure report: the balance check of section 三, the stored figures, the source hook
for section 三, the xlsx and the admin's grids."""

import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.translation import gettext

from accounts.models import AuditLog
from disclosure import reports
from disclosure.admin_report import AMOUNT_ERROR, COUNT_ERROR
from disclosure.models import AnnualReport

pytestmark = pytest.mark.django_db

# Natural persons: 10 new + 1 carried over = 6 + 1 + 2 handled + 2 carried forward.
# Businesses: 2 new = 1 disclosed + 1 not held.
BALANCED = {
    "new": {"natural_person": 10, "business": 2},
    "carried_over": {"natural_person": 1},
    "disclosed": {"natural_person": 6, "business": 1},
    "refused_state_secret": {"natural_person": 1},
    "unable_not_held": {"business": 1},
    "not_handled_repeated": {"natural_person": 2},
    "carried_forward": {"natural_person": 2},
}
SECTION2 = {
    "rules": {"made": 1, "abolished": 0, "in_force": 12},
    "normative": {"made": 5, "abolished": 2, "in_force": 40},
    "licensing": {"decisions": 310},
    "penalty": {"decisions": 25},
    "enforcement": {"decisions": 3},
    "fees": {"amount": "12.5"},
}
SECTION4 = {
    "review": {"upheld": 2, "corrected": 1, "pending": 1},
    "direct_suit": {"upheld": 1},
    "suit_after_review": {"other": 1},
}


def _report(section3=BALANCED, **kwargs):
    return AnnualReport.objects.create(year=2025, section2=SECTION2, section3=section3, section4=SECTION4, **kwargs)


def _row(tables, key):
    return next(row for row in tables["section3"]["rows"] if row["key"] == key)


def test_a_balancing_report_has_no_problems():
    report = _report()
    assert reports.report_check(report) == []
    tables = reports.report_tables(report)
    assert all(item.ok for item in tables["section3"]["balance"])
    assert [cell["value"] for cell in _row(tables, "total")["cells"]] == [9, 2, 0, 0, 0, 0, 11]
    assert [cell["value"] for cell in _row(tables, "new")["cells"]] == [10, 2, 0, 0, 0, 0, 12]
    assert _row(tables, "refused")["cells"] == []  # a heading: no figures of its own


def test_an_unbalanced_report_names_the_columns_that_do_not_balance():
    report = _report({**BALANCED, "carried_forward": {"natural_person": 3}, "partly": {"research": 1}})
    balance = {item.column: item for item in reports.report_tables(report)["section3"]["balance"]}
    assert [column for column, item in balance.items() if not item.ok] == ["natural_person", "research", "total"]
    assert (balance["natural_person"].incoming, balance["natural_person"].outgoing) == (11, 12)
    problems = reports.report_check(report)
    assert len(problems) == 3
    assert str(reports.SECTION3_COLUMNS[0][1]) in problems[0]
    assert "11" in problems[0] and "12" in problems[0]


def test_the_total_row_sums_every_outcome_and_nothing_else():
    every_outcome = {key: {"other_org": 1} for key in reports.OUTCOMES}
    report = _report({**every_outcome, "new": {"other_org": 99}, "carried_forward": {"other_org": 50}})
    total = _row(reports.report_tables(report), "total")["cells"]
    assert total[5]["value"] == len(reports.OUTCOMES) == 2 + 8 + 3 + 5 + 3
    assert total[5]["computed"] and total[5]["key"] is None


def test_section4_totals_are_computed():
    groups = reports.report_tables(_report())["section4"]["groups"]
    assert [group["cells"][-1]["value"] for group in groups] == [4, 1, 1]


def test_save_stores_every_figure_of_the_template_and_audits(officer):
    report = reports.annual_report_save(
        actor=officer, report=AnnualReport(year=2025), section2=SECTION2, section3=BALANCED, section4=SECTION4
    )
    report.refresh_from_db()
    assert report.updated_by == officer
    assert report.section3["new"] == {"natural_person": 10, "business": 2, "research": 0, "public_interest": 0,
                                      "legal_services": 0, "other_org": 0}  # fmt: skip
    assert set(report.section3) == set(reports.SECTION3_ENTERED)
    assert report.section2["fees"] == {"amount": "12.5"}
    assert report.section4["review"]["other"] == 0
    entry = AuditLog.objects.get(action="disclosure.annual_report_save")
    assert entry.actor == officer and entry.target_id == str(report.pk)
    assert entry.detail == {"year": 2025, "created": True, "problems": []}


@pytest.mark.parametrize(
    "section3",
    [
        {"new": {"natural_person": -1}},
        {"new": {"natural_person": 1.5}},
        {"new": {"natural_person": "3"}},
        {"new": {"natural_persons": 3}},
        {"total": {"natural_person": 3}},
    ],
)
def test_save_refuses_figures_that_are_not_whole_numbers_of_the_template(officer, section3):
    report = _report()
    with pytest.raises(ValidationError):
        reports.annual_report_save(actor=officer, report=report, section2={}, section3=section3, section4={})
    report.refresh_from_db()
    assert report.section3 == BALANCED


@pytest.mark.parametrize("amount", ["-0.5", "1.23456", "abc"])
def test_save_refuses_a_negative_or_too_fine_fee_amount(officer, amount):
    with pytest.raises(ValidationError):
        reports.annual_report_save(
            actor=officer, report=AnnualReport(year=2025), section2={"fees": {"amount": amount}}, section3={},
            section4={},
        )  # fmt: skip
    assert not AnnualReport.objects.exists()


def test_save_needs_the_permission(editor):
    with pytest.raises(PermissionDenied):
        reports.annual_report_save(actor=editor, report=_report(), section2={}, section3={}, section4={})


def test_section3_comes_from_the_requests_when_the_complaints_app_counts_them(monkeypatch):
    report = _report()
    asked = []

    def disclosure_request_counts(year):
        asked.append(year)
        return {"new": {"natural_person": 4}, "disclosed": {"natural_person": 4}}

    monkeypatch.setattr(reports.complaints_selectors, "disclosure_request_counts", disclosure_request_counts)
    tables = reports.report_tables(report)
    assert asked == [2025]
    assert tables["section3"]["source"] == reports.SOURCE_REQUESTS
    assert _row(tables, "new")["cells"][0] == {"key": None, "value": 4, "computed": True}
    assert reports.report_check(report) == []


def test_a_year_without_disclosure_requests_reports_the_entered_figures():
    tables = reports.report_tables(_report())
    assert reports.section3_source(2025) is None  # no request received by the year's end
    assert tables["section3"]["source"] == reports.SOURCE_ENTERED
    assert _row(tables, "new")["cells"][0]["value"] == 10


def _sheet_rows(sheet):
    return list(sheet.iter_rows(values_only=True))


def test_report_xlsx_has_one_sheet_per_section_with_numbers_as_numbers():
    report = _report({**BALANCED, "carried_forward": {"natural_person": 3}})
    workbook = openpyxl.load_workbook(io.BytesIO(reports.report_xlsx(report)))
    second, third, fourth = workbook.worksheets
    assert [sheet.title for sheet in workbook.worksheets] == [
        str(title)[:31] for title in (reports.TITLE2, reports.TITLE3, reports.TITLE4)
    ]

    rows = {row[0]: row[1:] for row in _sheet_rows(second) if row[0]}
    assert rows[str(reports.SECTION2[0].rows[1][1])][:3] == (5, 2, 40)
    fee = rows[str(reports.SECTION2[3].rows[0][1])][0]
    assert fee == Decimal("12.5") or fee == 12.5
    assert second.cell(row=1, column=1).value == str(reports.TITLE2)

    rows = {row[0]: row[1:] for row in _sheet_rows(third) if row[0]}
    labels = {row.key: str(row.label) for row in reports.SECTION3_ROWS}
    assert rows[labels["new"]] == (10, 2, 0, 0, 0, 0, 12)
    assert rows[labels["total"]] == (9, 2, 0, 0, 0, 0, 11)
    assert rows[labels["carried_forward"]] == (3, 0, 0, 0, 0, 0, 3)
    assert rows[labels["refused"]] == (None,) * 7
    assert all(isinstance(value, int) for value in rows[labels["disclosed"]])
    assert third.cell(row=3, column=3).value == str(gettext("Legal persons or other organisations"))
    assert "C3:G3" in {str(merged) for merged in third.merged_cells.ranges}
    check = rows[str(gettext("Balance check"))]
    assert check[0] == "11 ≠ 12" and check[1] == gettext("Balanced") and check[6] == "13 ≠ 14"

    values = list(_sheet_rows(fourth)[5])
    assert values == [2, 1, 0, 1, 4, 1, 0, 0, 0, 1, 0, 0, 1, 0, 1]
    assert fourth.cell(row=4, column=6).value == str(reports.SECTION4_GROUPS[1][1])


# -- admin ---------------------------------------------------------------------------------------------


def test_add_form_shows_the_three_sections_as_grids_of_number_inputs(client, officer):
    client.force_login(officer)
    page = client.get(reverse("admin:disclosure_annualreport_add")).content.decode()
    for section, row, column in ((2, "rules", "made"), (3, "refused_third_party", "legal_services"),
                                 (4, "suit_after_review", "pending")):  # fmt: skip
        assert f'name="{reports.field_key(section, row, column)}"' in page
    assert 'name="s3__total__natural_person"' not in page  # computed, never typed
    assert str(gettext("Balance check")) in page


def test_saving_the_grid_stores_the_figures(client, officer):
    client.force_login(officer)
    data = {"year": "2025", "_save": "1"}
    for row, cells in BALANCED.items():
        for column, value in cells.items():
            data[reports.field_key(3, row, column)] = str(value)
    data[reports.field_key(2, "fees", "amount")] = "12.35"
    data[reports.field_key(4, "review", "upheld")] = "2"
    response = client.post(reverse("admin:disclosure_annualreport_add"), data)
    assert response.status_code == 302
    report = AnnualReport.objects.get(year=2025)
    assert report.section3["carried_forward"]["natural_person"] == 2
    assert report.section2["fees"]["amount"] == "12.35"
    assert report.section4["review"]["upheld"] == 2
    assert reports.report_check(report) == []
    assert AuditLog.objects.filter(action="disclosure.annual_report_save").count() == 1


def test_negative_and_fractional_figures_are_refused_and_kept_as_typed(client, officer):
    report = _report()
    client.force_login(officer)
    data = {
        reports.field_key(3, "new", "natural_person"): "-1",
        reports.field_key(3, "disclosed", "business"): "1.5",
        reports.field_key(2, "fees", "amount"): "-3",
        "_save": "1",
    }
    response = client.post(reverse("admin:disclosure_annualreport_change", args=[report.pk]), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count(str(COUNT_ERROR)) >= 2 and str(AMOUNT_ERROR) in page
    assert 'name="s3__new__natural_person" value="-1"' in page
    assert 'name="s3__disclosed__business" value="1.5"' in page
    report.refresh_from_db()
    assert report.section3 == BALANCED


def test_change_form_colours_each_column_of_the_balance_check(client, officer):
    report = _report({**BALANCED, "carried_forward": {"natural_person": 3}})
    client.force_login(officer)
    page = client.get(reverse("admin:disclosure_annualreport_change", args=[report.pk])).content.decode()
    assert page.count('class="balance-bad"') == 2  # natural persons and the total column
    assert page.count('class="balance-ok"') == 5
    assert reports.report_check(report)[0] in page
    assert reverse("admin:disclosure_annualreport_xlsx", args=[report.pk]) in page


def test_xlsx_download(client, officer, editor):
    report = _report()
    url = reverse("admin:disclosure_annualreport_xlsx", args=[report.pk])
    client.force_login(officer)
    response = client.get(url)
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert len(openpyxl.load_workbook(io.BytesIO(response.content)).worksheets) == 3
    client.force_login(editor)
    assert client.get(url).status_code == 403
