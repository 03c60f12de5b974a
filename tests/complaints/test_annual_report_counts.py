"""Disclosure requests feed section 三 of the annual disclosure report (complaints.selectors.disclosure_request_counts,
read by disclosure.reports.section3_source).

Requests go through the services (create, route, reply with an outcome, approve). A reply is always approved
"now", so replied_at is then set with queryset.update to the date the test needs: the counts read exactly it.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from complaints.models import ApplicantKind, Case, CaseKind, DisclosureOutcome
from complaints.selectors import disclosure_request_counts
from complaints.services import case_create, case_merge, case_route, reply_approve, reply_save, reply_submit
from disclosure import reports
from disclosure.models import AnnualReport

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")


def at(*args, tz=SHANGHAI) -> datetime:
    return datetime(*args, tzinfo=tz)


@pytest.fixture
def request_for(registrar, county):
    def _request(received_at, applicant=ApplicantKind.NATURAL_PERSON, *, kind=CaseKind.DISCLOSURE_REQUEST):
        case, _code = case_create(
            kind=kind, subject="申请公开2024年教育经费使用情况", content="请公开县教育局2024年教育经费使用明细。",
            name="张三丰", phone="13812345678", applicant_kind=applicant, received_at=received_at,
            organisation="" if applicant == ApplicantKind.NATURAL_PERSON else "某某单位",
        )  # fmt: skip
        return case_route(actor=registrar, case=case, department=county["education"])

    return _request


@pytest.fixture
def answer(handler, head):
    def _answer(case, outcome, replied_at):
        reply_save(actor=handler, case=case, body="经审查，现答复如下。", outcome=outcome)
        reply_submit(actor=handler, case=case)
        reply_approve(actor=head, case=case)
        Case.objects.filter(pk=case.pk).update(replied_at=replied_at)

    return _answer


@pytest.fixture
def requests_2025(request_for, answer, handler):
    """Requests around 2025, each commented with where it counts in the 2025 report."""
    # Carried over from 2024 and disclosed in 2025.
    answer(request_for(at(2024, 11, 20, 9)), DisclosureOutcome.DISCLOSED, at(2025, 1, 10, 10))
    # Received and answered in 2024: not in 2025's report.
    answer(request_for(at(2024, 10, 8, 9)), DisclosureOutcome.DISCLOSED, at(2024, 11, 1, 10))
    # New in 2025 and answered in 2025.
    answer(request_for(at(2025, 3, 3, 9), ApplicantKind.BUSINESS), DisclosureOutcome.PARTLY, at(2025, 3, 20, 10))
    answer(
        request_for(at(2025, 6, 3, 9), ApplicantKind.RESEARCH),
        DisclosureOutcome.REFUSED_STATE_SECRET,
        at(2025, 6, 20, 10),
    )
    answer(request_for(at(2025, 7, 1, 9)), DisclosureOutcome.UNABLE_NOT_HELD, at(2025, 7, 8, 10))
    # New in 2025, still open: carried forward.
    request_for(at(2025, 12, 22, 9))
    # New in 2025, answered at 00:30 on 1 January 2026 in Shanghai (still 2025 in UTC): carried forward.
    answer(
        request_for(at(2025, 2, 3, 9), ApplicantKind.LEGAL_SERVICES),
        DisclosureOutcome.DISCLOSED,
        at(2025, 12, 31, 16, 30, tz=UTC),
    )
    # Received at 00:30 on 1 January 2025 in Shanghai (still 2024 in UTC): new in 2025, not carried over.
    request_for(at(2024, 12, 31, 16, 30, tz=UTC))
    # Received 1 January 2026 in Shanghai: not in 2025's report.
    request_for(at(2025, 12, 31, 17, 0, tz=UTC))
    # A duplicate merged into another request, and a complaint: counted nowhere.
    duplicate = request_for(at(2025, 5, 5, 9))
    original = request_for(at(2025, 5, 4, 9), ApplicantKind.OTHER_ORG)
    answer(original, DisclosureOutcome.NOT_HANDLED_REPEATED, at(2025, 5, 9, 10))
    merged_into = request_for(at(2025, 5, 6, 9))
    case_merge(actor=handler, case=duplicate, into=merged_into, reason="同一申请重复提交")
    answer(merged_into, DisclosureOutcome.OTHER_OTHER, at(2025, 5, 12, 10))
    request_for(at(2025, 4, 1, 9), kind=CaseKind.COMPLAINT)


def test_counts_of_2025_by_row_and_applicant(requests_2025):
    counts = disclosure_request_counts(2025)
    nonzero = {row: {k: n for k, n in cells.items() if n} for row, cells in counts.items()}
    assert {row: cells for row, cells in nonzero.items() if cells} == {
        "new": {"natural_person": 4, "business": 1, "research": 1, "legal_services": 1, "other_org": 1},
        "carried_over": {"natural_person": 1},
        "disclosed": {"natural_person": 1},
        "partly": {"business": 1},
        "refused_state_secret": {"research": 1},
        "unable_not_held": {"natural_person": 1},
        "not_handled_repeated": {"other_org": 1},
        "other_other": {"natural_person": 1},
        "carried_forward": {"natural_person": 2, "legal_services": 1},
    }


def test_every_row_and_column_is_present_as_an_int(requests_2025):
    counts = disclosure_request_counts(2025)
    assert set(counts) == set(reports.SECTION3_ENTERED)
    for cells in counts.values():
        assert list(cells) == [column for column, _label in reports.SECTION3_COLUMNS]
        assert all(type(value) is int for value in cells.values())


def test_the_report_shows_the_counts_and_balances(requests_2025):
    report = AnnualReport.objects.create(year=2025, section3={"new": {"natural_person": 99}})
    tables = reports.report_tables(report)
    section = tables["section3"]
    assert section["source"] == reports.SOURCE_REQUESTS
    rows = {row["key"]: [cell["value"] for cell in row["cells"]] for row in section["rows"]}
    # Columns: natural persons, businesses, research, public interest, legal services, other; grand total.
    assert rows["new"] == [4, 1, 1, 0, 1, 1, 8]  # the 99 typed by hand is kept but not shown
    assert rows["carried_over"] == [1, 0, 0, 0, 0, 0, 1]
    assert rows["total"] == [3, 1, 1, 0, 0, 1, 6]
    assert rows["carried_forward"] == [2, 0, 0, 0, 1, 0, 3]
    assert all(item.ok for item in section["balance"])
    assert reports.report_check(report) == []


def test_the_next_year_starts_with_what_2025_carried_forward(requests_2025):
    counts = disclosure_request_counts(2026)
    assert counts["carried_over"] == disclosure_request_counts(2025)["carried_forward"]
    assert counts["disclosed"]["legal_services"] == 1  # answered at 00:30 on 1 January 2026


def test_a_year_before_any_request_keeps_the_figures_entered_by_hand(requests_2025):
    assert disclosure_request_counts(2023) is None
    report = AnnualReport.objects.create(year=2023, section3={"new": {"natural_person": 7}})
    tables = reports.report_tables(report)
    assert tables["section3"]["source"] == reports.SOURCE_ENTERED
    new = next(row for row in tables["section3"]["rows"] if row["key"] == "new")
    assert new["cells"][0]["value"] == 7


def test_counting_takes_two_queries(requests_2025, django_assert_num_queries):
    with django_assert_num_queries(2):
        disclosure_request_counts(2025)
