"""Export of the case list as filtered (csv with a byte order mark, or xlsx): the rows the list shows under its
filters, search and department scope, across all pages.

Personal data: the name and phone only masked (accounts.masking), the identity number never; the query loads
only the columns below. Every text cell is neutralised against spreadsheet formula injection. Each export is one
audit entry, with the filters (a phone or identity number searched for is left out).

The csv/xlsx writing mirrors disclosure.exporting, which complaints may not import (apps import downward only);
the generic half of both belongs in govcms/ (see the note in the lead's report).
"""

import codecs
import csv
import datetime
import io
import tempfile
from collections.abc import Iterable, Iterator

from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from accounts.masking import mask_phone
from accounts.services import audit_record
from complaints import services
from complaints.models import Case

CSV, XLSX = "csv", "xlsx"
FORMATS = (CSV, XLSX)
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK_SIZE = 2000
# OWASP "CSV injection": a cell starting with one of these is read as a formula by spreadsheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Columns the export reads (everything else stays deferred: the identity number is never loaded).
FIELDS = ("number", "kind", "channel", "subject", "department", "state", "received_at", "due_date", "replied_at",
          "replied_on_time", "rating", "name", "phone")  # fmt: skip


def spreadsheet_text(value: str) -> str:
    """Prefix a quote when a spreadsheet could take the text for a formula (leading blanks looked through)."""
    if value.lstrip().startswith(FORMULA_STARTS) or value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def headers() -> list[str]:
    field = Case._meta.get_field
    return [
        *(str(field(name).verbose_name) for name in ("number", "kind", "channel", "subject", "department", "state")),
        str(field("received_at").verbose_name),
        str(field("due_date").verbose_name),
        str(field("replied_at").verbose_name),
        gettext("on time"),
        str(field("rating").verbose_name),
        str(field("name").verbose_name),
        str(field("phone").verbose_name),
    ]


def _local(moment):
    # Spreadsheets have no time zones: the time as it was in the county.
    return timezone.localtime(moment).replace(tzinfo=None) if moment else None


def case_rows(queryset) -> Iterator[list]:
    yes, no = gettext("Yes"), gettext("No")
    # only() replaces whatever the list deferred: exactly these columns are read.
    rows = queryset.select_related(None).select_related("department").only(*FIELDS, "department__name")
    for case in rows.iterator(chunk_size=CHUNK_SIZE):
        yield [
            case.number,
            case.get_kind_display(),
            case.get_channel_display(),
            case.subject,
            str(case.department) if case.department_id else "",
            case.get_state_display(),
            _local(case.received_at),
            case.due_date,
            _local(case.replied_at),
            "" if case.replied_on_time is None else (yes if case.replied_on_time else no),
            case.get_rating_display() if case.rating else "",
            case.name_masked,
            mask_phone(case.phone),
        ]


def _csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, str):
        return spreadsheet_text(str(value))
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _xlsx_cell(value):
    if isinstance(value, str):
        # Control characters are not allowed in xlsx; openpyxl would abort the whole export.
        return spreadsheet_text(ILLEGAL_CHARACTERS_RE.sub("", value))
    return value


def csv_response(rows: Iterable[list], header: list[str], filename: str) -> StreamingHttpResponse:
    def stream():
        yield codecs.BOM_UTF8  # Excel opens UTF-8 Chinese text correctly only with it
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([spreadsheet_text(text) for text in header])
        for count, row in enumerate(rows, 1):
            writer.writerow([_csv_cell(value) for value in row])
            if count % CHUNK_SIZE == 0:
                yield buffer.getvalue().encode("utf-8")
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode("utf-8")

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def xlsx_response(rows: Iterable[list], header: list[str], filename: str, *, sheet_title: str) -> FileResponse:
    """Written by openpyxl's write-only workbook to a temporary file, then streamed from it."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title[:31])
    sheet.append([spreadsheet_text(text) for text in header])
    for row in rows:
        sheet.append([_xlsx_cell(value) for value in row])
    file = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - FileResponse closes (and so deletes) it
    try:
        workbook.save(file)
        file.seek(0)
    except BaseException:
        file.close()
        raise
    return FileResponse(file, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE)


def export_cases(queryset, *, fmt: str):
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    title = str(Case._meta.verbose_name_plural)
    filename = f"{title}-{timezone.localdate():%Y%m%d}.{fmt}"
    rows = case_rows(queryset)
    if fmt == CSV:
        return csv_response(rows, headers(), filename)
    return xlsx_response(rows, headers(), filename, sheet_title=title)


def _without_personal_data(params: dict[str, list[str]]) -> dict[str, list[str]]:
    # A search for a phone or identity number is logged without it.
    return {key: [services.redact(value) for value in values] for key, values in params.items()}


def export_view(model_admin, request, fmt: str):
    """The case list's export link: the list's own ChangeList builds the rows, so they are exactly the list's
    (scope, filters, search, order)."""
    if fmt not in FORMATS:
        raise Http404
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    try:
        changelist = model_admin.get_changelist_instance(request)
    except IncorrectLookupParameters:
        return redirect(f"{reverse('admin:complaints_case_changelist')}?{ERROR_FLAG}=1")
    queryset = changelist.queryset
    filters = dict(changelist.filter_params)
    if changelist.query:
        filters["q"] = [changelist.query]
    audit_record(
        actor=request.user,
        action="case.export",
        detail={"format": fmt, "rows": queryset.count(), "filters": _without_personal_data(filters)},
    )
    return export_cases(queryset, fmt=fmt)
