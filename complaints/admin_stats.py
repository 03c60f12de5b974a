"""The statistics of citizens' messages in the admin: the page with its filters, tables and charts, its xlsx
export, and the dashboard's chart of on-time rates per department.

complaints.admin wires the two views into the case admin's URLs (admin:complaints_case_statistics and
admin:complaints_case_statistics_export) behind admin_view; each view checks complaints.view_statistics itself.
The figures are those of complaints.stats, over the cases the person may see (selectors.cases_for).
"""

import hashlib
import io
from datetime import timedelta

from django import forms
from django.contrib import admin
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from accounts.scoping import departments_for
from accounts.services import audit_record
from complaints import selectors, stats
from complaints.models import Case, CaseKind, Rating
from govcms.workbench import Card
from shared import charts
from shared.spreadsheets import XLSX_CONTENT_TYPE, spreadsheet_text

PERMISSION = "complaints.view_statistics"
# The dashboard's chart counts the whole year's replies (a fraction of a second per look at 200,000 cases); it is
# kept this long per scope of departments, since a year's on-time rate barely moves within minutes.
PANEL_CACHE_SECONDS = 300
# Ten years of months is 120 lines: longer spans are refused rather than drawn unreadably.
MAX_DAYS = 3660


def _require(request) -> None:
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied


class StatisticsFilterForm(forms.Form):
    # <input type="date"> takes only ISO dates; the Chinese locale's first format (2026/12/01) left them empty.
    first = forms.DateField(label=_("From date"), required=False, widget=forms.DateInput({"type": "date"}, "%Y-%m-%d"))
    last = forms.DateField(label=_("To date"), required=False, widget=forms.DateInput({"type": "date"}, "%Y-%m-%d"))
    kind = forms.ChoiceField(label=_("type"), required=False, choices=[("", _("All types")), *CaseKind.choices])
    department = forms.ModelChoiceField(
        label=_("department"), required=False, queryset=None, empty_label=_("All departments")
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        choices = stats.department_choices(user)
        if choices.count() > 1:
            self.fields["department"].queryset = choices
        else:
            # One department (or none): it is what the person sees anyway.
            del self.fields["department"]

    def clean(self):
        cleaned = super().clean()
        default = stats.this_year()
        first, last = cleaned.get("first"), cleaned.get("last")
        # One date given: the other end defaults to this year's, moved if need be so the period is not empty.
        last = last or max(default.last, first or default.last)
        first = first or min(default.first, last)
        if last < first:
            raise forms.ValidationError(gettext("The end date is before the start date."))
        if last - first > timedelta(days=MAX_DAYS):
            raise forms.ValidationError(gettext("Choose a period of at most ten years."))
        cleaned["period"] = stats.Period(first, last)
        return cleaned

    def cases(self, user):
        return stats.scoped_cases(
            user, kind=self.cleaned_data.get("kind") or "", department=self.cleaned_data.get("department")
        )


# -- tables ------------------------------------------------------------------------------------------------------

REPLY_COLUMNS = (
    (_("Received (cases)"), "received"),
    (_("Replied (cases)"), "replied"),
    (_("Replied on time"), "on_time"),
    (_("On-time rate (%)"), "on_time_rate"),
    (_("Average working days to reply"), "average_workdays"),
    (_("Satisfied"), "satisfied"),
    (_("Basically satisfied"), "basically_satisfied"),
    (_("Dissatisfied"), "dissatisfied"),
    (_("Satisfaction rate (%)"), "satisfaction_rate"),
)
OVERDUE_COLUMN = ((_("Overdue now"), "overdue"),)


def _table(title, first_header, rows: list[stats.Figures], total: stats.Figures | None, columns) -> dict:
    def line(figures):
        return [figures.label, *(getattr(figures, name) for _header, name in columns)]

    return {
        "title": str(title),
        "headers": [str(first_header), *(str(header) for header, _name in columns)],
        "rows": [line(row) for row in rows],
        "total": line(total) if total is not None else None,
    }


def statistics_tables(statistics: stats.Statistics) -> list[dict]:
    """The page's tables as rows of plain values, shared by the page and the xlsx (one sheet each)."""
    # Every case has one type and falls in one month of the period: each table's total is the same.
    total = statistics.total
    return [
        _table(_("By department"), _("department"), statistics.by_department, total, REPLY_COLUMNS + OVERDUE_COLUMN),
        _table(_("By type"), _("type"), statistics.by_kind, total, REPLY_COLUMNS + OVERDUE_COLUMN),
        _table(_("By month"), _("Month"), statistics.by_month, total, REPLY_COLUMNS),
    ]


def statistics_charts(statistics: stats.Statistics) -> list:
    departments = statistics.by_department
    months = statistics.by_month
    total = statistics.total
    return [
        charts.bar_chart(
            [(row.label, row.on_time_rate) for row in departments if row.on_time_rate is not None],
            title=gettext("On-time rate by department"),
            percent=True,
        ),
        charts.bar_chart([(row.label, row.received) for row in departments], title=gettext("Received by department")),
        charts.column_chart(
            [gettext("Received (cases)"), gettext("Replied (cases)")],
            [row.label for row in months],
            [[row.received for row in months], [row.replied for row in months]],
            title=gettext("Received and replied by month"),
        ),
        charts.bar_chart(
            [(label, getattr(total, value)) for value, label in Rating.choices] if total.rated else [],
            title=gettext("Satisfaction ratings"),
        ),
    ]


# -- views -------------------------------------------------------------------------------------------------------


def statistics_view(request):
    _require(request)
    default = stats.this_year()
    data = request.GET or {"first": default.first, "last": default.last}
    form = StatisticsFilterForm(data, user=request.user)
    context = {
        **admin.site.each_context(request),
        "opts": Case._meta,
        "title": gettext("Statistics of citizen messages"),
        "form": form,
        "statistics": None,
    }
    if form.is_valid():
        statistics = stats.case_statistics(form.cases(request.user), form.cleaned_data["period"])
        context.update(
            statistics=statistics,
            tables=statistics_tables(statistics),
            charts=statistics_charts(statistics),
            export_url=reverse("admin:complaints_case_statistics_export") + _query(request),
        )
    return TemplateResponse(request, "admin/complaints/statistics.html", context)


def _query(request) -> str:
    return "?" + request.GET.urlencode() if request.GET else ""


def _text(value: str) -> str:
    # Control characters are not allowed in xlsx (openpyxl would abort); a formula-like text gets a quote.
    return spreadsheet_text(ILLEGAL_CHARACTERS_RE.sub("", value))


def statistics_xlsx(statistics: stats.Statistics, filters: list[tuple[str, str]]) -> bytes:
    """A summary sheet (period, filters, totals) and one sheet per table; numbers stay numbers."""
    workbook = Workbook()
    summary = workbook.active
    summary.title = gettext("Summary")
    summary.append([gettext("Statistics of citizen messages")])
    summary["A1"].font = Font(bold=True, size=13)
    for label, value in filters:
        summary.append([_text(str(label)), _text(str(value))])
    summary.append([])
    for header, name in REPLY_COLUMNS + OVERDUE_COLUMN:
        summary.append([str(header), getattr(statistics.total, name)])
    summary.column_dimensions["A"].width = 30
    summary.column_dimensions["B"].width = 30
    for table in statistics_tables(statistics):
        sheet = workbook.create_sheet(table["title"][:31])
        sheet.append(table["headers"])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in [*table["rows"], *([table["total"]] if table["total"] else [])]:
            sheet.append([_text(str(value)) if isinstance(value, str) else value for value in row])
        if table["total"]:
            for cell in sheet[sheet.max_row]:
                cell.font = Font(bold=True)
        sheet.column_dimensions["A"].width = 24
        for index in range(2, len(table["headers"]) + 1):
            sheet.column_dimensions[get_column_letter(index)].width = 14
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _filters(form: StatisticsFilterForm) -> list[tuple[str, str]]:
    period = form.cleaned_data["period"]
    department = form.cleaned_data.get("department")
    kind = form.cleaned_data.get("kind")
    return [
        (gettext("From date"), period.first.isoformat()),
        (gettext("To date"), period.last.isoformat()),
        (gettext("type"), str(CaseKind(kind).label) if kind else gettext("All types")),
        (gettext("department"), department.name if department else gettext("All departments")),
    ]


def statistics_export_view(request):
    _require(request)
    form = StatisticsFilterForm(request.GET, user=request.user)
    if not form.is_valid():
        # The page shows what is wrong with the filters.
        return redirect(reverse("admin:complaints_case_statistics") + _query(request))
    period = form.cleaned_data["period"]
    statistics = stats.case_statistics(form.cases(request.user), period)
    content = statistics_xlsx(statistics, _filters(form))
    department = form.cleaned_data.get("department")
    audit_record(
        actor=request.user,
        action="case.statistics_export",
        detail={
            "first": period.first.isoformat(),
            "last": period.last.isoformat(),
            "kind": form.cleaned_data.get("kind") or "",
            "department": department.name if department else "",
        },
    )
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    filename = gettext("Citizen message statistics %(first)s to %(last)s.xlsx") % {
        "first": period.first.isoformat(),
        "last": period.last.isoformat(),
    }
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


# -- dashboard ---------------------------------------------------------------------------------------------------


def statistics_panel(request):
    """The dashboard's chart: this year's on-time rate of each department the person may see."""
    user = request.user
    if not user.has_perm(PERMISSION):
        return None
    period = stats.this_year()
    scope = "all"
    if not selectors.sees_every_department(user):
        scope = ",".join(map(str, sorted(departments_for(user).values_list("pk", flat=True))))
    described = f"{period.first}|{period.last}|{get_language()}|{scope}"
    key = "complaints:on-time-panel:" + hashlib.sha256(described.encode()).hexdigest()
    cached = cache.get(key)
    if cached is None:
        figures = stats.on_time_by_department(selectors.cases_for(user), period)
        cached = ([(row.label, row.on_time_rate) for row in figures], stats.total_of(figures).on_time_rate)
        cache.set(key, cached, PANEL_CACHE_SECONDS)
    rows, overall = cached
    title = gettext("On-time rate by department (this year)")
    url = reverse("admin:complaints_case_statistics")
    return {
        "key": "statistics",
        "title": title,
        "template": "admin/complaints/stats_panel.html",
        "chart": charts.bar_chart(
            [(label, rate) for label, rate in rows if rate is not None], title=title, percent=True
        ),
        "url": url,
        "cards": [
            Card(
                "on_time",
                gettext("On-time rate this year"),
                "—" if overall is None else charts.format_value(overall, percent=True),
                url=url,
            )
        ],
    }


admin.site.register_dashboard_panel(statistics_panel, order=90)
