"""政府信息公开工作年度报告: the tables of the 2021 State Council template (国办公开办函〔2021〕30号),
sections 二 (proactive disclosure), 三 (requests received and handled) and 四 (administrative review
and litigation), defined as data; the figures of one year come from `AnnualReport`.

Stored shapes (every count a whole number >= 0, a missing figure counts as 0):
- section2: {row: {column: n}} with the rows and columns of SECTION2, e.g.
  {"rules": {"made": 2, "abolished": 0, "in_force": 14}, "fees": {"amount": "12.5"}}
  (the fee amount, in 10,000 yuan, is a decimal string: money is never a float).
- section3: {row: {column: n}} with the entered rows of SECTION3_ROWS and the columns of
  SECTION3_COLUMNS, e.g. {"new": {"natural_person": 40, "business": 3}, "disclosed": {...}}.
  The total row (（七）总计) and the total column (总计) are computed, never stored.
- section4: {group: {column: n}} with SECTION4_GROUPS and SECTION4_COLUMNS; totals computed.

Section 三 is counted from the disclosure requests handled in the complaints app
(`complaints.selectors.disclosure_request_counts(year)`, in the section3 shape above) whenever the
app was in use that year; the entered figures are then kept but not shown. For a year before
the app was in use (no request received by its end) the entered figures are the report.
"""

import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from accounts.scoping import require_permission
from accounts.services import audit_record
from complaints import selectors as complaints_selectors
from disclosure.models import AnnualReport

SOURCE_ENTERED = "entered"
SOURCE_REQUESTS = "requests"
FEE_PLACES = 4  # 10,000 yuan to the yuan


@dataclass(frozen=True)
class Table:
    """One block of section 二: a heading (the article of the regulation) and its own columns."""

    heading: object
    columns: tuple[tuple[str, object], ...]
    rows: tuple[tuple[str, object], ...]
    decimal: bool = False


DECISIONS = (("decisions", _("Decisions made this year")),)
SECTION2 = (
    Table(
        _("Article 20, item (1)"),
        (("made", _("Made this year")), ("abolished", _("Abolished this year")), ("in_force", _("Currently in force"))),
        (("rules", _("Government rules")), ("normative", _("Administrative normative documents"))),
    ),
    Table(_("Article 20, item (5)"), DECISIONS, (("licensing", _("Administrative licensing")),)),
    Table(
        _("Article 20, item (6)"),
        DECISIONS,
        (("penalty", _("Administrative penalties")), ("enforcement", _("Administrative coercion"))),
    ),
    Table(
        _("Article 20, item (8)"),
        (("amount", _("Fees collected this year (10,000 yuan)")),),
        (("fees", _("Administrative and institutional fees")),),
        decimal=True,
    ),
)

SECTION3_COLUMNS = (
    ("natural_person", _("Natural persons")),
    ("business", _("Commercial enterprises")),
    ("research", _("Research institutions")),
    ("public_interest", _("Social welfare organisations")),
    ("legal_services", _("Legal service providers")),
    ("other_org", _("Other organisations")),
)
ORGANISATION_COLUMNS = 5  # the last five columns sit under "legal persons or other organisations"
TOTAL = "total"

ENTERED, HEADING, COMPUTED = "entered", "heading", "computed"


@dataclass(frozen=True)
class Row:
    key: str
    label: object
    level: int = 0
    kind: str = ENTERED


SECTION3_ROWS = (
    Row("new", _("I. New requests received this year")),
    Row("carried_over", _("II. Requests carried over from last year")),
    Row("results", _("III. Outcomes this year"), kind=HEADING),
    Row("disclosed", _("(1) Disclosed"), 1),
    Row("partly", _("(2) Partly disclosed (count a split decision here only, not under any other outcome)"), 1),
    Row("refused", _("(3) Not disclosed"), 1, HEADING),
    Row("refused_state_secret", _("1. State secret"), 2),
    Row("refused_prohibited_by_law", _("2. Disclosure prohibited by other laws or administrative regulations"), 2),
    Row("refused_three_safeties", _("3. Would endanger the “three safeties and one stability”"), 2),
    Row("refused_third_party", _("4. Protection of a third party's lawful rights"), 2),
    Row("refused_internal_affairs", _("5. One of the three kinds of internal affairs information"), 2),
    Row("refused_process_info", _("6. One of the four kinds of process information"), 2),
    Row("refused_enforcement_files", _("7. Administrative law enforcement case files"), 2),
    Row("refused_inquiry_matters", _("8. An administrative inquiry matter"), 2),
    Row("unable", _("(4) Cannot be provided"), 1, HEADING),
    Row("unable_not_held", _("1. This organ does not hold the information"), 2),
    Row("unable_needs_creation", _("2. No existing information; it would have to be created"), 2),
    Row("unable_still_unclear", _("3. The request is still unclear after correction"), 2),
    Row("not_handled", _("(5) Not handled"), 1, HEADING),
    Row("not_handled_petition", _("1. A petition, report or complaint"), 2),
    Row("not_handled_repeated", _("2. A repeated request"), 2),
    Row("not_handled_publication", _("3. A request for a public publication"), 2),
    Row("not_handled_excessive", _("4. Large numbers of repeated requests without good reason"), 2),
    Row("not_handled_confirmation", _("5. A request to confirm or reissue information already obtained"), 2),
    Row("other", _("(6) Otherwise handled"), 1, HEADING),
    Row(
        "other_no_correction",
        _(
            "1. The applicant did not correct the request in time without good reason, and the organ "
            "no longer handles it"
        ),
        2,
    ),
    Row(
        "other_fee_unpaid",
        _("2. The applicant did not pay the fee in time as notified, and the organ no longer handles the request"),
        2,
    ),
    Row("other_other", _("3. Other"), 2),
    Row(TOTAL, _("(7) Total"), 1, COMPUTED),
    Row("carried_forward", _("IV. Carried forward to next year")),
)
SECTION3_ENTERED = tuple(row.key for row in SECTION3_ROWS if row.kind == ENTERED)
OUTCOMES = tuple(key for key in SECTION3_ENTERED if key not in ("new", "carried_over", "carried_forward"))

SECTION4_GROUPS = (
    ("review", _("Administrative review")),
    ("direct_suit", _("Suit without prior review")),
    ("suit_after_review", _("Suit after review")),
)
SECTION4_COLUMNS = (
    ("upheld", _("Result upheld")),
    ("corrected", _("Result corrected")),
    ("other", _("Other result")),
    ("pending", _("Not yet concluded")),
)

TITLE2 = _("II. Proactive disclosure of government information")
TITLE3 = _("III. Requests for government information received and handled")
TITLE4 = _("IV. Administrative review and litigation concerning government information disclosure")
BALANCE_RULE = _("The figures of each column must balance: item I plus item II equals item III plus item IV.")


def field_key(section: int, row: str, column: str) -> str:
    """The name of one entered figure, the same in the admin form and in `report_tables`."""
    return f"s{section}__{row}__{column}"


# -- reading the figures ---------------------------------------------------------------------------


def _count(data, row: str, column: str) -> int:
    value = (data or {}).get(row, {}).get(column)
    return int(value) if value not in (None, "") else 0


def _amount(data, row: str, column: str) -> Decimal:
    value = (data or {}).get(row, {}).get(column)
    return Decimal(str(value)) if value not in (None, "") else Decimal("0")


def section3_source(year: int | None) -> dict | None:
    """Section 三 as counted from the disclosure requests of the complaints app, or None for a year in
    which that app was not in use yet (then the entered figures are the report)."""
    if year is None:
        return None
    return complaints_selectors.disclosure_request_counts(year)


def section3_figures(report: AnnualReport) -> tuple[dict[str, dict[str, int]], str]:
    """Every cell of section 三, totals included, and where the figures come from."""
    counted = section3_source(report.year)
    data, source = (report.section3, SOURCE_ENTERED) if counted is None else (counted, SOURCE_REQUESTS)
    grid = {row: {column: _count(data, row, column) for column, _label in SECTION3_COLUMNS} for row in SECTION3_ENTERED}
    grid[TOTAL] = {column: sum(grid[row][column] for row in OUTCOMES) for column, _label in SECTION3_COLUMNS}
    for cells in grid.values():
        cells[TOTAL] = sum(cells.values())
    return grid, source


@dataclass(frozen=True)
class Balance:
    column: str
    label: object
    incoming: int  # 一 + 二
    outgoing: int  # 三（七）总计 + 四

    @property
    def ok(self) -> bool:
        return self.incoming == self.outgoing


def section3_balance(grid) -> list[Balance]:
    """The template's check, per column and for the total column: 一 + 二 = 三（七）总计 + 四."""
    return [
        Balance(
            column,
            label,
            grid["new"][column] + grid["carried_over"][column],
            grid[TOTAL][column] + grid["carried_forward"][column],
        )
        for column, label in (*SECTION3_COLUMNS, (TOTAL, _("Grand total")))
    ]


def _problems(balances: list[Balance]) -> list[str]:
    return [
        gettext("%(column)s: item I plus item II is %(incoming)s, but item III (total) plus item IV is %(outgoing)s.")
        % {"column": item.label, "incoming": item.incoming, "outgoing": item.outgoing}
        for item in balances
        if not item.ok
    ]


def report_check(report: AnnualReport) -> list[str]:
    """What does not balance in section 三, one sentence per column; empty when the report is right."""
    grid, _source = section3_figures(report)
    return _problems(section3_balance(grid))


def report_tables(report: AnnualReport) -> dict:
    """Sections 二, 三 and 四 as rows of cells, ready for a template or a spreadsheet.

    A cell is {"key": form field name or None, "value": number, "computed": bool}; rows of section 三
    carry their indentation `level` and `kind` (entered, heading, computed).
    """

    def cell(key, value, computed=False):
        return {"key": None if computed else key, "value": value, "computed": computed}

    section2 = []
    for table in SECTION2:
        rows = []
        for row, label in table.rows:
            cells = []
            for column, _label in table.columns:
                value = (_amount if table.decimal else _count)(report.section2, row, column)
                cells.append(cell(field_key(2, row, column), value))
            rows.append({"label": label, "cells": cells})
        section2.append({"heading": table.heading, "columns": [label for _key, label in table.columns], "rows": rows})

    grid, source = section3_figures(report)
    rows3 = []
    for row in SECTION3_ROWS:
        cells = []
        if row.kind != HEADING:
            computed = row.kind == COMPUTED or source != SOURCE_ENTERED
            cells = [
                cell(field_key(3, row.key, column), grid[row.key][column], computed) for column, _l in SECTION3_COLUMNS
            ]
            cells.append(cell(None, grid[row.key][TOTAL], True))
        rows3.append({"key": row.key, "label": row.label, "level": row.level, "kind": row.kind, "cells": cells})
    balance = section3_balance(grid)

    groups = []
    for group, label in SECTION4_GROUPS:
        cells = [
            cell(field_key(4, group, column), _count(report.section4, group, column)) for column, _l in SECTION4_COLUMNS
        ]
        cells.append(cell(None, sum(c["value"] for c in cells), True))
        groups.append({"key": group, "label": label, "cells": cells})

    return {
        "year": report.year,
        "section2": {"title": TITLE2, "tables": section2},
        "section3": {
            "title": TITLE3,
            "rule": BALANCE_RULE,
            "source": source,
            "columns": [label for _key, label in SECTION3_COLUMNS],
            "rows": rows3,
            "balance": balance,
            "problems": _problems(balance),
        },
        "section4": {
            "title": TITLE4,
            "groups": groups,
            "columns": [*(label for _k, label in SECTION4_COLUMNS), _("Grand total")],
            # 行政诉讼 spans its two groups of columns.
            "litigation_span": 2 * (len(SECTION4_COLUMNS) + 1),
        },
    }


# -- saving ----------------------------------------------------------------------------------------


LAYOUT = {
    2: {row: tuple(column for column, _l in table.columns) for table in SECTION2 for row, _label in table.rows},
    3: {row: tuple(column for column, _l in SECTION3_COLUMNS) for row in SECTION3_ENTERED},
    4: {group: tuple(column for column, _l in SECTION4_COLUMNS) for group, _label in SECTION4_GROUPS},
}
DECIMAL_ROWS = {row for table in SECTION2 if table.decimal for row, _label in table.rows}


def figure_name(section: int, row: str, column: str) -> str:
    """How a figure is named in an error message: "Rules · Made this year"."""
    labels = {
        2: ({row: label for table in SECTION2 for row, label in table.rows},
            {column: label for table in SECTION2 for column, label in table.columns}),
        3: ({row.key: row.label for row in SECTION3_ROWS}, dict(SECTION3_COLUMNS)),
        4: (dict(SECTION4_GROUPS), dict(SECTION4_COLUMNS)),
    }[section]  # fmt: skip
    return f"{labels[0].get(row, row)} · {labels[1].get(column, column)}"


def _whole_number(value, name: str) -> int:
    if value in (None, ""):
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(gettext("%(figure)s must be a whole number of 0 or more.") % {"figure": name})
    return value


def _fee_amount(value, name: str) -> str:
    try:
        amount = Decimal(str(value)) if value not in (None, "") else Decimal("0")
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount < 0 or -amount.as_tuple().exponent > FEE_PLACES:
        raise ValidationError(
            gettext("%(figure)s must be 0 or more, with at most %(places)s decimal places.")
            % {"figure": name, "places": FEE_PLACES}
        )
    return str(amount)


def _clean(data, section: int) -> dict:
    """Every figure of the section's layout, checked; a key the template does not have is refused
    rather than dropped, so a misspelt figure cannot vanish silently."""
    layout, data = LAYOUT[section], data or {}
    for row, cells in data.items():
        unknown = (
            [""] if row not in layout or not isinstance(cells, dict) else [c for c in cells if c not in layout[row]]
        )
        if unknown:
            name = figure_name(section, row, unknown[0])
            raise ValidationError(gettext("%(figure)s is not a figure of this report.") % {"figure": name})
    return {
        row: {
            column: (_fee_amount if row in DECIMAL_ROWS else _whole_number)(
                data.get(row, {}).get(column), figure_name(section, row, column)
            )
            for column in columns
        }
        for row, columns in layout.items()
    }


def annual_report_save(*, actor, report: AnnualReport, section2: dict, section3: dict, section4: dict) -> AnnualReport:
    """Store the hand-entered figures of a year's report (a new report is created).

    Every figure of the template is stored, missing ones as 0. Raises PermissionDenied without
    disclosure.change_annualreport (add_annualreport for a new report), ValidationError for a figure
    the template does not have, a count that is not a whole number >= 0, or a fee amount that is
    negative or finer than the yuan.
    """
    created = report.pk is None
    require_permission(actor, "disclosure.add_annualreport" if created else "disclosure.change_annualreport")
    cleaned = [_clean(data, section) for section, data in ((2, section2), (3, section3), (4, section4))]
    with transaction.atomic():
        report.section2, report.section3, report.section4 = cleaned
        report.updated_by = actor
        if created:
            report.save()
        else:
            report.save(update_fields=["section2", "section3", "section4", "updated_by", "updated_at"])
        audit_record(
            actor=actor,
            action="disclosure.annual_report_save",
            target=report,
            detail={"year": report.year, "created": created, "problems": report_check(report)},
        )
    return report


# -- spreadsheet -----------------------------------------------------------------------------------

BOLD = Font(bold=True)
TITLE_FONT = Font(bold=True, size=13)
CENTRE = Alignment(horizontal="center", vertical="center", wrap_text=True)
RED = PatternFill("solid", fgColor="F8D7DA")
GREEN = PatternFill("solid", fgColor="D4EDDA")


def _head(sheet, row: int, column: int, value, *, rows: int = 1, columns: int = 1) -> None:
    sheet.cell(row=row, column=column, value=str(value)).font = BOLD
    sheet.cell(row=row, column=column).alignment = CENTRE
    if rows > 1 or columns > 1:
        sheet.merge_cells(start_row=row, start_column=column, end_row=row + rows - 1, end_column=column + columns - 1)


def _title(sheet, value, width: int) -> None:
    sheet.cell(row=1, column=1, value=str(value)).font = TITLE_FONT
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)


def _sheet2(sheet, tables) -> None:
    _title(sheet, tables["title"], 4)
    sheet.column_dimensions["A"].width = 30
    for letter in "BCD":
        sheet.column_dimensions[letter].width = 18
    line = 3
    for table in tables["tables"]:
        _head(sheet, line, 1, table["heading"], columns=4)
        _head(sheet, line + 1, 1, _("Information content"))
        for offset, label in enumerate(table["columns"]):
            _head(sheet, line + 1, 2 + offset, label)
        line += 2
        for row in table["rows"]:
            sheet.cell(row=line, column=1, value=str(row["label"]))
            for offset, cell in enumerate(row["cells"]):
                target = sheet.cell(row=line, column=2 + offset, value=cell["value"])
                if isinstance(cell["value"], Decimal):
                    target.number_format = "0.00##"
            line += 1
        line += 1


def _sheet3(sheet, tables) -> None:
    width = 2 + len(SECTION3_COLUMNS)
    _title(sheet, tables["title"], width)
    sheet.cell(row=2, column=1, value=str(tables["rule"]))
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    sheet.column_dimensions["A"].width = 60
    _head(sheet, 3, 1, _("Applicants"), rows=2)
    _head(sheet, 3, 2, tables["columns"][0], rows=2)
    _head(sheet, 3, 3, _("Legal persons or other organisations"), columns=ORGANISATION_COLUMNS)
    for offset, label in enumerate(tables["columns"][1:]):
        _head(sheet, 4, 3 + offset, label)
    _head(sheet, 3, width, _("Grand total"), rows=2)
    line = 5
    for row in tables["rows"]:
        label = sheet.cell(row=line, column=1, value=str(row["label"]))
        label.alignment = Alignment(indent=row["level"] * 2, wrap_text=True)
        if row["kind"] != ENTERED:
            label.font = BOLD
        for offset, cell in enumerate(row["cells"]):
            sheet.cell(row=line, column=2 + offset, value=cell["value"])
        line += 1
    line += 1
    sheet.cell(row=line, column=1, value=gettext("Balance check")).font = BOLD
    for offset, balance in enumerate(tables["balance"]):
        text = gettext("Balanced") if balance.ok else f"{balance.incoming} ≠ {balance.outgoing}"
        mark = sheet.cell(row=line, column=2 + offset, value=text)
        mark.fill = GREEN if balance.ok else RED


def _sheet4(sheet, tables) -> None:
    per_group = len(tables["columns"])
    _title(sheet, tables["title"], per_group * 3)
    review, direct, after = tables["groups"]
    _head(sheet, 3, 1, review["label"], rows=2, columns=per_group)
    _head(sheet, 3, 1 + per_group, _("Administrative litigation"), columns=per_group * 2)
    _head(sheet, 4, 1 + per_group, direct["label"], columns=per_group)
    _head(sheet, 4, 1 + per_group * 2, after["label"], columns=per_group)
    for number, group in enumerate(tables["groups"]):
        for offset, (label, cell) in enumerate(zip(tables["columns"], group["cells"], strict=True)):
            column = 1 + number * per_group + offset
            _head(sheet, 5, column, label)
            sheet.cell(row=6, column=column, value=cell["value"])
            sheet.column_dimensions[get_column_letter(column)].width = 11


def report_xlsx(report: AnnualReport) -> bytes:
    """The report as an xlsx: one sheet per section, the template's headings, numbers as numbers."""
    tables = report_tables(report)
    workbook = Workbook()
    sheets = (
        (workbook.active, _sheet2, tables["section2"]),
        (workbook.create_sheet(), _sheet3, tables["section3"]),
        (workbook.create_sheet(), _sheet4, tables["section4"]),
    )
    for sheet, fill, section in sheets:
        sheet.title = str(section["title"])[:31]
        fill(sheet, section)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
