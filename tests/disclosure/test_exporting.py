"""Exports of disclosure records: formula injection neutralised, identity numbers never unmasked,
exactly the rows of the admin list (its filters, its search, the user's departments), audited."""

import csv
import datetime
import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from django.urls import path, reverse
from unfold.sites import UnfoldAdminSite

from accounts.masking import mask_id_number
from accounts.models import AuditLog
from disclosure import admin as disclosure_admin
from disclosure.exporting import ExportMixin, export_public_records, export_records
from disclosure.models import Disbursement, PublicFields, RecordType
from shared.spreadsheets import spreadsheet_text
from tests.disclosure.conftest import ID_NUMBERS

# The record admins as the lead wires them, with the export mixin, on a site of their own.
site = UnfoldAdminSite(name="admin")  # the project's admin is unfold's, and so are its templates
for _model, _admin_class in (
    (Disbursement, disclosure_admin.DisbursementAdmin),
    (disclosure_admin.ProjectAllocation, disclosure_admin.ProjectAllocationAdmin),
):
    _bases = (_admin_class,) if issubclass(_admin_class, ExportMixin) else (ExportMixin, _admin_class)
    site.register(_model, type(_admin_class.__name__, _bases, {}))
urlpatterns = [path("admin/", site.urls)]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

DANGEROUS = ["=", "+", "-", "@", "\t", "\r"]


def _content(response) -> bytes:
    return b"".join(response.streaming_content)


def _csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(_content(response).decode("utf-8-sig"), newline="")))


def _workbook(response):
    return openpyxl.load_workbook(io.BytesIO(_content(response)))


def _xlsx_text(response) -> str:
    """Every XML part of the xlsx, decoded: what a search of the unzipped file would find."""
    with zipfile.ZipFile(io.BytesIO(_content(response))) as archive:
        return "".join(archive.read(name).decode("utf-8") for name in archive.namelist())


def _export(client, fmt="csv", query=""):
    return client.get(reverse("admin:disclosure_disbursement_export", args=[fmt]) + query)


def _header(model, name):
    return str(model._meta.get_field(name).verbose_name)


@pytest.mark.parametrize("start", DANGEROUS)
def test_spreadsheet_text_prefixes_a_quote_and_keeps_the_rest(start):
    assert spreadsheet_text(f"{start}1+1") == f"'{start}1+1"
    # Behind leading blanks too (a tab or CR there is itself a blank: what follows decides).
    assert spreadsheet_text(f" \u3000{start}=cmd|' /C calc'!A0") == f"' \u3000{start}=cmd|' /C calc'!A0"


def test_spreadsheet_text_leaves_ordinary_text_alone():
    for text in ("张三", "石桥村", "a=b", "1-2", "", "'=already"):
        assert spreadsheet_text(text) == text


@pytest.mark.parametrize("start", DANGEROUS)
def test_csv_neutralises_formulas_but_keeps_negative_amounts_numbers(start, make_batch, add_disbursement):
    batch = make_batch()
    name = f'{start}HYPERLINK("http://evil")'
    add_disbursement(batch, name=name, amount="-520.00", paying_department=f" {start}=SUM(A1)")
    rows = _csv_rows(export_records(Disbursement.objects.filter(batch=batch), fmt="csv"))
    header, row = rows
    record = dict(zip(header, row, strict=True))
    assert record[_header(Disbursement, "recipient_name")] == "'" + name
    assert record[_header(Disbursement, "paying_department")] == f"' {start}=SUM(A1)"
    assert record[_header(Disbursement, "amount")] == "-520.00"
    assert record[_header(Disbursement, "paid_on")] == "2026-03-15"


@pytest.mark.parametrize("start", DANGEROUS)
def test_xlsx_neutralises_formulas_and_keeps_numbers_and_dates(start, make_batch, add_disbursement):
    batch = make_batch()
    name = f'{start}HYPERLINK("http://evil")'
    add_disbursement(batch, name=name, amount="-520.00", paying_department=f" {start}=SUM(A1)")
    sheet = _workbook(export_records(Disbursement.objects.filter(batch=batch), fmt="xlsx")).active
    header, row = list(sheet.iter_rows())
    cells = {head.value: cell for head, cell in zip(header, row, strict=True)}
    name_cell = cells[_header(Disbursement, "recipient_name")]
    assert name_cell.data_type == "s"
    # XML turns a lone CR into LF when read back; what matters is the quote in front.
    assert name_cell.value.replace("\n", "\r") == "'" + name.replace("\n", "\r")
    assert cells[_header(Disbursement, "paying_department")].value.replace("\n", "\r") == f"' {start}=SUM(A1)"
    amount = cells[_header(Disbursement, "amount")]
    assert amount.data_type == "n" and amount.value == -520
    assert cells[_header(Disbursement, "paid_on")].value == datetime.datetime(2026, 3, 15)
    assert cells[_header(Disbursement, "household_size")].value == 3


def test_csv_starts_with_a_byte_order_mark_and_chinese_headers(published_batch):
    response = export_records(Disbursement.objects.filter(batch=published_batch), fmt="csv")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    content = _content(response)
    assert content.startswith(b"\xef\xbb\xbf")
    header = next(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert header == [_header(Disbursement, name) for name in (
        "batch", "row_number", "program", "recipient_name", "id_masked", "township", "village", "household_size",
        "amount", "paid_on", "paying_department",
    )]  # fmt: skip


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_identity_numbers_appear_only_masked(fmt, published_batch):
    response = export_records(Disbursement.objects.filter(batch=published_batch), fmt=fmt)
    text = _content(response).decode("utf-8-sig") if fmt == "csv" else _xlsx_text(response)
    for number in ID_NUMBERS[:3]:
        assert number not in text
        assert number[-6:] + "," not in text
        assert mask_id_number(number) in text
    for record in Disbursement.objects.filter(batch=published_batch):
        assert record.id_hash not in text and record.name_tail_hash not in text


def test_xlsx_rows_beyond_a_sheet_continue_on_the_next(published_batch):
    workbook = _workbook(
        export_records(Disbursement.objects.filter(batch=published_batch), fmt="xlsx", rows_per_sheet=2)
    )
    first, second = workbook.worksheets
    assert first.max_row == 3 and second.max_row == 2
    assert [cell.value for cell in second[1]] == [cell.value for cell in first[1]]
    names = [row[3] for sheet in (first, second) for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert sorted(names) == sorted(["张三", "李四娃", "欧阳娜娜"])


def test_public_export_shows_public_fields_of_published_rows_only(published_batch, make_batch, add_disbursement):
    add_disbursement(make_batch(title="未发布批次"), name="王五", id_number=ID_NUMBERS[3])
    PublicFields.objects.create(
        record_type=RecordType.DISBURSEMENT, fields=["recipient_name", "village", "amount", "id_hash"], mask_names=True
    )
    rows = _csv_rows(export_public_records(record_type=RecordType.DISBURSEMENT, fmt="csv"))
    assert rows[0] == [_header(Disbursement, name) for name in ("recipient_name", "village", "amount")]
    assert sorted(rows[1:]) == sorted([["张*", "石桥村", "520.00"], ["李*娃", "河口村", "520.00"],
                                       ["欧**娜", "石桥村", "1200.50"]])  # fmt: skip


def test_public_export_cannot_be_widened_by_the_queryset(published_batch, make_batch, add_disbursement):
    draft = make_batch(title="未发布批次")
    add_disbursement(draft, name="王五", id_number=ID_NUMBERS[3])
    response = export_public_records(
        record_type=RecordType.DISBURSEMENT, fmt="xlsx", queryset=Disbursement.objects.filter(batch=draft)
    )
    assert _workbook(response).active.max_row == 1


def test_public_export_shows_the_masked_identity_number_only_when_chosen(published_batch):
    PublicFields.objects.create(record_type=RecordType.DISBURSEMENT, fields=["recipient_name", "id_masked"])
    rows = _csv_rows(export_public_records(record_type=RecordType.DISBURSEMENT, fmt="csv"))
    assert sorted(row[1] for row in rows[1:]) == sorted(mask_id_number(number) for number in ID_NUMBERS[:3])


def test_changelist_links_to_exports_of_the_current_filters(client, officer, published_batch):
    client.force_login(officer)
    page = client.get(reverse("admin:disclosure_disbursement_changelist") + "?public=yes&q=张三").content.decode()
    export_url = reverse("admin:disclosure_disbursement_export", args=["xlsx"])
    assert f'href="{export_url}?public=yes&amp;q=%E5%BC%A0%E4%B8%89"' in page


def test_admin_export_holds_the_rows_of_the_current_search_and_filter(
    client, officer, published_batch, make_batch, add_disbursement
):
    add_disbursement(make_batch(title="草稿批次"), name="张三丰", id_number=ID_NUMBERS[3])
    client.force_login(officer)
    names = [row[3] for row in _csv_rows(_export(client, "csv", "?q=张三"))[1:]]
    assert sorted(names) == ["张三", "张三丰"]
    names = [row[3] for row in _csv_rows(_export(client, "csv", "?q=张三&public=yes"))[1:]]
    assert names == ["张三"]
    sheet = _workbook(_export(client, "xlsx", "?public=no")).active
    assert [row[3] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["张三丰"]


def test_officer_of_another_department_exports_nothing_of_the_office(client, other_officer, published_batch):
    client.force_login(other_officer)
    assert _csv_rows(_export(client, "csv")) == [_csv_rows(export_records(Disbursement.objects.none(), fmt="csv"))[0]]
    assert _workbook(_export(client, "xlsx")).active.max_row == 1


def test_user_without_view_permission_may_not_export(client, editor, published_batch):
    client.force_login(editor)
    assert _export(client, "csv").status_code == 403
    assert not AuditLog.objects.filter(action="disclosure.export").exists()


def test_unknown_format_is_not_found(client, officer):
    client.force_login(officer)
    assert _export(client, "pdf").status_code == 404


def test_export_is_audited_with_rows_and_filters_and_no_identity_number(client, officer, published_batch):
    client.force_login(officer)
    _content(_export(client, "xlsx", f"?q={ID_NUMBERS[1]}&public=yes"))
    entry = AuditLog.objects.filter(action="disclosure.export").get()
    assert entry.actor == officer
    assert entry.detail == {
        "model": "disclosure.disbursement",
        "format": "xlsx",
        "rows": 1,
        "filters": {"q": [mask_id_number(ID_NUMBERS[1])], "public": ["yes"]},
    }


def test_other_record_types_export_their_fields(client, officer, make_batch, program):
    batch = make_batch(record_type=RecordType.PROJECT, title="项目资金")
    disclosure_admin.ProjectAllocation.objects.create(
        batch=batch, program=program, project_name="@石桥村道路硬化", undertaking_body="城关镇人民政府",
        amount=Decimal("350000.00"), allocated_on=datetime.date(2026, 4, 1),
    )  # fmt: skip
    client.force_login(officer)
    response = client.get(reverse("admin:disclosure_projectallocation_export", args=["csv"]))
    header, row = _csv_rows(response)
    assert row[header.index(_header(disclosure_admin.ProjectAllocation, "project_name"))] == "'@石桥村道路硬化"
    assert row[header.index(_header(disclosure_admin.ProjectAllocation, "program"))] == str(program)
    assert row[header.index(_header(disclosure_admin.ProjectAllocation, "amount"))] == "350000.00"


def test_export_query_never_reads_identity_numbers_or_their_hashes(published_batch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        _content(export_records(Disbursement.objects.filter(batch=published_batch), fmt="csv"))
    export_sql = " ".join(
        query["sql"] for query in queries.captured_queries if "disclosure_disbursement" in query["sql"]
    )
    assert "id_masked" in export_sql
    for column in ("id_number", "id_hash", "name_tail_hash", "name_bigrams"):
        assert f'"{column}"' not in export_sql


def test_an_identity_number_search_is_looked_up_once_per_export(client, officer, published_batch):
    client.force_login(officer)
    _content(_export(client, "csv", f"?q={ID_NUMBERS[0]}"))
    assert AuditLog.objects.filter(action="disclosure.id_lookup").count() == 1


def test_staffing_and_budget_records_export_their_choices_and_departments(make_batch, county):
    from disclosure.models import DepartmentBudget, EstablishmentType, StaffingUnit, StaffMember, UnitType

    unit = StaffingUnit.objects.create(
        batch=make_batch(record_type=RecordType.STAFFING, title="机构编制"), name="县政府办公室",
        unit_type=UnitType.ADMINISTRATIVE, approved_administrative=12,
    )  # fmt: skip
    StaffMember.objects.create(
        batch=make_batch(record_type=RecordType.STAFF_MEMBER, title="实名制"), unit=unit, name="+赵六",
        establishment_type=EstablishmentType.ADMINISTRATIVE,
    )  # fmt: skip
    DepartmentBudget.objects.create(
        batch=make_batch(record_type=RecordType.BUDGET, title="部门预算"), department=county["office"], year=2026,
        basic_expenditure=Decimal("1200000.00"), project_expenditure=Decimal("-5.50"),
    )  # fmt: skip
    sheet = _workbook(export_records(StaffMember.objects.all(), fmt="xlsx")).active
    member = dict(zip(*sheet.iter_rows(values_only=True), strict=True))
    assert member[_header(StaffMember, "unit")] == "县政府办公室"
    assert member[_header(StaffMember, "name")] == "'+赵六"
    assert member[_header(StaffMember, "establishment_type")] == str(EstablishmentType.ADMINISTRATIVE.label)
    budget = dict(zip(*_csv_rows(export_records(DepartmentBudget.objects.all(), fmt="csv")), strict=True))
    assert budget[_header(DepartmentBudget, "department")] == "县政府办公室"
    assert budget[_header(DepartmentBudget, "project_expenditure")] == "-5.50"
    unit_row = dict(zip(*_csv_rows(export_records(StaffingUnit.objects.all(), fmt="csv")), strict=True))
    assert unit_row[_header(StaffingUnit, "unit_type")] == str(UnitType.ADMINISTRATIVE.label)
    assert unit_row[_header(StaffingUnit, "approved_administrative")] == "12"
