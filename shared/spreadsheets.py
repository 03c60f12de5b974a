"""Spreadsheet downloads for staff and the public: csv (UTF-8 with a byte order mark, streamed) and xlsx
(openpyxl's write-only workbook in a temporary file), with every text cell neutralised against formula injection.

Both stream: csv row by row, xlsx from disk, so an export of 1.5 million rows never holds them in memory.
Numbers and dates stay numbers and dates; aware times are written as they were in the county (Asia/Shanghai).
"""

import codecs
import csv
import datetime
import io
import tempfile
from collections.abc import Iterable
from decimal import Decimal

from django.db import models
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.http import content_disposition_header
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

CSV = "csv"
XLSX = "xlsx"
FORMATS = (CSV, XLSX)
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A sheet holds 1,048,576 rows; one is the header.
XLSX_MAX_DATA_ROWS = 1_048_575
# Rows fetched per round trip of the server-side cursor, and csv rows per chunk sent to the client.
CHUNK_SIZE = 2000

# OWASP "CSV Injection": a cell starting with one of these is read as a formula by Excel,
# LibreOffice or Google Sheets. Tab and CR are on the list because some importers drop them and
# then see the character behind them.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(value: str) -> str:
    """`value` safe to put in a spreadsheet cell: prefixed with a single quote when a spreadsheet could
    take it for a formula, otherwise unchanged.

    Leading whitespace is looked through too (" =1+1" is prefixed): spreadsheet importers that trim
    cells (LibreOffice's "trim spaces", Excel's Power Query) would otherwise hand the formula over,
    and a quote before a text that starts with blanks costs a reader nothing. The text behind the
    quote is kept as it was, whitespace included.
    """
    if value.startswith(FORMULA_STARTS) or value.lstrip().startswith(FORMULA_STARTS):
        return "'" + value
    return value


def plain(value):
    if isinstance(value, (models.Model, Promise)):
        return str(value)
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        # Spreadsheets have no time zones: show the time as it was in the county.
        return timezone.localtime(value).replace(tzinfo=None)
    return value


def csv_cell(value):
    value = plain(value)
    if value is None:
        return ""
    if isinstance(value, str):
        return spreadsheet_text(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return (
            value.isoformat(sep=" ", timespec="seconds") if isinstance(value, datetime.datetime) else value.isoformat()
        )
    return value  # numbers: written as written, "-520.00" stays a number for the spreadsheet


def xlsx_cell(sheet, value):
    value = plain(value)
    if isinstance(value, str):
        # Control characters are not allowed in xlsx; openpyxl would abort the whole export.
        return spreadsheet_text(ILLEGAL_CHARACTERS_RE.sub("", value))
    if isinstance(value, Decimal):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "#,##0.00"
        return cell
    return value


def csv_response(rows: Iterable[list], headers: list[str], filename: str) -> StreamingHttpResponse:
    """A streamed csv: UTF-8 with a byte order mark, so Excel opens the Chinese text correctly."""

    def stream():
        yield codecs.BOM_UTF8
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([spreadsheet_text(header) for header in headers])
        for count, row in enumerate(rows, 1):
            writer.writerow([csv_cell(value) for value in row])
            if count % CHUNK_SIZE == 0:
                yield buffer.getvalue().encode("utf-8")
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode("utf-8")

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def xlsx_response(
    rows: Iterable[list],
    headers: list[str],
    filename: str,
    *,
    sheet_title: str,
    rows_per_sheet: int = XLSX_MAX_DATA_ROWS,
) -> FileResponse:
    """An xlsx built on disk and then streamed; rows beyond a sheet's capacity continue on the next
    sheet ("Title (2)", ...), each with the header row."""
    workbook = Workbook(write_only=True)
    sheet = None
    written = rows_per_sheet  # no sheet yet: the first row opens one

    def new_sheet(number: int):
        title = sheet_title[:28] if number == 1 else f"{sheet_title[:24]}（{number}）"
        created = workbook.create_sheet(title)
        created.append([spreadsheet_text(header) for header in headers])
        return created

    for row in rows:
        if written == rows_per_sheet:
            sheet = new_sheet(len(workbook.worksheets) + 1)
            written = 0
        sheet.append([xlsx_cell(sheet, value) for value in row])
        written += 1
    if sheet is None:
        new_sheet(1)
    file = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - FileResponse closes (and so deletes) it
    try:
        workbook.save(file)
        file.seek(0)
    except BaseException:
        file.close()
        raise
    return FileResponse(file, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE)
