"""The case list's export: the list's rows under its filters, personal data masked, no formula, in the audit log."""

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import AuditLog
from complaints.models import CaseKind

pytestmark = pytest.mark.django_db

ID_NUMBER = "11010519491231002X"


def csv_rows(response) -> tuple[bytes, list[list[str]]]:
    body = b"".join(response.streaming_content)
    return body, list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_csv_export_has_a_bom_masked_personal_data_and_no_identity_number(routed_case, handler, login):
    case, _code = routed_case(id_number=ID_NUMBER)
    response = login(handler).get(reverse("admin:complaints_case_export", args=["csv"]))
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    body, rows = csv_rows(response)
    assert body.startswith(b"\xef\xbb\xbf")
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row[str(case._meta.get_field("number").verbose_name)] == case.number
    assert "138****5678" in rows[1] and "张**" in rows[1]
    text = body.decode("utf-8-sig")
    assert "13812345678" not in text and ID_NUMBER not in text and "1101" not in text and "张三丰" not in text


def test_export_follows_the_lists_filters_and_search(routed_case, handler, login):
    complaint, _code = routed_case(subject="食堂收费")
    routed_case(kind=CaseKind.INQUIRY, subject="招生政策咨询")
    client = login(handler)
    url = reverse("admin:complaints_case_export", args=["csv"])
    _body, rows = csv_rows(client.get(url, {"kind__exact": CaseKind.COMPLAINT}))
    assert [row[0] for row in rows[1:]] == [complaint.number]
    _body, rows = csv_rows(client.get(url, {"q": "招生"}))
    assert len(rows) == 2 and rows[1][0] != complaint.number


def test_text_that_a_spreadsheet_would_run_as_a_formula_is_neutralised(routed_case, handler, login):
    routed_case(subject="=HYPERLINK(1)")
    response = login(handler).get(reverse("admin:complaints_case_export", args=["xlsx"]))
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert "'=HYPERLINK(1)" in rows[1]
    assert "138****5678" in rows[1]


def test_each_export_is_in_the_audit_log_without_a_searched_phone_number(routed_case, handler, login):
    routed_case()
    login(handler).get(reverse("admin:complaints_case_export", args=["xlsx"]), {"q": "13812345678"})
    entry = AuditLog.objects.get(action="case.export")
    assert entry.actor_username == "alice"
    assert entry.detail["rows"] == 1 and entry.detail["format"] == "xlsx"
    assert entry.detail["filters"] == {"q": ["******"]}


def test_an_unknown_format_is_a_404(handler, login):
    assert login(handler).get(reverse("admin:complaints_case_export", args=["pdf"])).status_code == 404
