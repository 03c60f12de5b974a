"""The annual disclosure report in the admin: the three sections of the template as grids of number
inputs, the balance check of section 三 beside them, and the report as an xlsx download."""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.urls import path
from django.utils.http import content_disposition_header
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from disclosure.models import AnnualReport
from disclosure.reports import (
    DECIMAL_ROWS,
    FEE_PLACES,
    LAYOUT,
    SOURCE_ENTERED,
    annual_report_save,
    field_key,
    figure_name,
    report_tables,
    report_xlsx,
    section3_source,
)
from shared.spreadsheets import XLSX_CONTENT_TYPE

COUNT_ERROR = _("Enter a whole number of 0 or more.")
AMOUNT_ERROR = _("Enter an amount of 0 or more, with at most four decimal places.")


def _count_field(label) -> forms.Field:
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=0,
        error_messages={"invalid": COUNT_ERROR, "min_value": COUNT_ERROR},
        widget=forms.NumberInput(attrs={"min": "0", "step": "1", "class": "report-figure", "aria-label": label}),
    )


def _amount_field(label) -> forms.Field:
    return forms.DecimalField(
        label=label,
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=FEE_PLACES,
        error_messages={
            code: AMOUNT_ERROR
            for code in ("invalid", "min_value", "max_digits", "max_decimal_places", "max_whole_digits")
        },
        widget=forms.NumberInput(attrs={"min": "0", "step": "0.0001", "class": "report-figure", "aria-label": label}),
    )


class AnnualReportForm(forms.ModelForm):
    """The year plus one field per entered figure of the template (`reports.field_key` names them);
    the figures map onto the report's JSON sections in `sections()`."""

    class Meta:
        model = AnnualReport
        fields = ("year",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        report = self.instance
        # Counted from the requests: shown, not typed (a disabled field keeps the stored figure).
        counted = report.pk is not None and section3_source(report.year) is not None
        for section, layout in LAYOUT.items():
            stored = getattr(report, f"section{section}") or {}
            for row, columns in layout.items():
                for column in columns:
                    label = figure_name(section, row, column)
                    field = _amount_field(label) if section == 2 and row in DECIMAL_ROWS else _count_field(label)
                    field.initial = stored.get(row, {}).get(column)
                    field.disabled = section == 3 and counted
                    self.fields[field_key(section, row, column)] = field

    def sections(self) -> dict[str, dict]:
        """The cleaned figures in the shape `annual_report_save` takes."""
        return {
            f"section{section}": {
                row: {column: self.cleaned_data.get(field_key(section, row, column)) for column in columns}
                for row, columns in layout.items()
            }
            for section, layout in LAYOUT.items()
        }


class AnnualReportAdmin(ModelAdmin):
    """Registered by disclosure.admin: `admin.site.register(AnnualReport, AnnualReportAdmin)`."""

    # annual_report_save writes the audit entry; the generic admin entry would repeat it.
    audited_by_services = True
    form = AnnualReportForm
    change_form_template = "admin/disclosure/annualreport/change_form.html"
    list_display = ("year", "balanced", "updated_by", "updated_at")
    list_select_related = ("updated_by",)
    fields = ("year",)

    @admin.display(description=_("section III balances"), boolean=True)
    def balanced(self, obj):
        return not report_tables(obj)["section3"]["problems"]

    def get_readonly_fields(self, request, obj=None):
        # The year names the report; a report of another year is a new report.
        return ("year",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        annual_report_save(actor=request.user, report=obj, **form.sections())

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        form = context["adminform"].form
        tables = report_tables(form.instance)
        editable = self.has_add_permission(request) if add else self.has_change_permission(request, obj)
        if editable:
            cells = [cell for table in tables["section2"]["tables"] for row in table["rows"] for cell in row["cells"]]
            cells += [cell for row in tables["section3"]["rows"] for cell in row["cells"]]
            cells += [cell for group in tables["section4"]["groups"] for cell in group["cells"]]
            for cell in cells:
                if cell["key"] in form.fields:
                    cell["field"] = form[cell["key"]]
        context.update(
            report=tables,
            report_counted=tables["section3"]["source"] != SOURCE_ENTERED,
            figure_errors=[(form[name].label, errors) for name, errors in form.errors.items() if name in form.fields],
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        xlsx = path(
            "<path:object_id>/xlsx/", self.admin_site.admin_view(self.xlsx_view), name="disclosure_annualreport_xlsx"
        )
        return [xlsx, *super().get_urls()]

    def xlsx_view(self, request, object_id):
        report = self.get_object(request, object_id)
        if report is None:
            raise Http404
        if not self.has_view_permission(request, report):
            raise PermissionDenied
        response = HttpResponse(report_xlsx(report), content_type=XLSX_CONTENT_TYPE)
        filename = gettext("Government information disclosure annual report %(year)s.xlsx") % {"year": report.year}
        response["Content-Disposition"] = content_disposition_header(True, filename)
        return response
