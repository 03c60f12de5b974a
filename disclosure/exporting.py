"""Exports of disclosure records to csv and xlsx, for staff (the admin list as filtered) and for the
public pages (public fields only).

Both formats stream: csv row by row from a server-side cursor, xlsx through openpyxl's write-only
workbook into a temporary file, so an export of 1.5 million rows never holds them in memory.

What never leaves: identity numbers (only the masked column `id_masked`), their hashes and the name
bigrams. Every text cell is neutralised against spreadsheet formula injection (`spreadsheet_text`);
numbers and dates stay numbers and dates.
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone

from accounts.masking import mask_id_number
from accounts.services import audit_record
from disclosure.selectors import published_batch_ids
from disclosure.visibility import ALLOWED, MODELS, NEVER_PUBLIC, visibility_for
from shared.spreadsheets import (
    CHUNK_SIZE,
    CSV,
    FORMATS,
    XLSX_MAX_DATA_ROWS,
    csv_response,
    xlsx_response,
)

ID_NUMBER_IN_TEXT = re.compile(r"\d{17}[\dXx]|\d{15}")

RECORD_TYPES = {model: record_type for record_type, model in MODELS.items()}


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[models.Model], Any]
    # Model fields the value reads: what the query loads (everything else is deferred).
    field: str | None = None
    also: tuple[str, ...] = ()


def _field_column(model, name: str) -> Column:
    if name in NEVER_PUBLIC:  # a guard against a future edit of ALLOWED, not a case that happens
        raise ValueError(f"{name} is never exported")
    field = model._meta.get_field(name)
    if field.choices:
        display = f"get_{name}_display"
        return Column(str(field.verbose_name), lambda record: getattr(record, display)(), name)
    return Column(str(field.verbose_name), lambda record: getattr(record, name), name)


def admin_columns(model) -> list[Column]:
    """What a staff export shows: the batch and source row, then every field that could ever be public
    (the masked identity number included), in the public display order."""
    names = ("batch", "row_number", *ALLOWED[RECORD_TYPES[model]])
    return [_field_column(model, name) for name in names]


def public_columns(record_type: str) -> list[Column]:
    """The public fields as configured, valued as the public pages show them (names masked if asked)."""
    visibility = visibility_for(record_type)
    return [
        Column(label, lambda record, name=name: visibility.value(record, name), name, visibility.reads(name))
        for label, name in zip(visibility.labels(), visibility.fields, strict=True)
    ]


def _export_queryset(queryset, columns: list[Column]):
    """Load only what the columns show: related rows joined once, the other columns of the record
    deferred (the encrypted identity number is then never read, let alone decrypted)."""
    model = queryset.model
    needed = {column.field for column in columns if column.field} | {name for column in columns for name in column.also}
    related = [name for name in needed if model._meta.get_field(name).is_relation]
    deferred = [
        field.name for field in model._meta.concrete_fields if field.name not in needed and not field.primary_key
    ]
    return queryset.select_related(None).select_related(*related).defer(*deferred)


def _rows(queryset, columns: list[Column]) -> Iterator[list]:
    for record in _export_queryset(queryset, columns).iterator(chunk_size=CHUNK_SIZE):
        yield [column.value(record) for column in columns]


def _filename(model, fmt: str) -> str:
    return f"{model._meta.verbose_name_plural}-{timezone.localdate():%Y%m%d}.{fmt}"


def export_records(
    queryset, *, fmt: str, columns: list[Column] | None = None, rows_per_sheet: int = XLSX_MAX_DATA_ROWS
):
    """A download of the rows of `queryset` (any filtered queryset of a record model), with the staff
    columns unless `columns` says otherwise. The caller has already decided who may see these rows."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    model = queryset.model
    columns = columns if columns is not None else admin_columns(model)
    headers = [column.header for column in columns]
    rows = _rows(queryset, columns)
    filename = _filename(model, fmt)
    if fmt == CSV:
        return csv_response(rows, headers, filename)
    return xlsx_response(
        rows, headers, filename, sheet_title=str(model._meta.verbose_name_plural), rows_per_sheet=rows_per_sheet
    )


def export_public_records(*, record_type: str, fmt: str, queryset=None):
    """A public download: only rows on the public pages (published batch, not replaced by a
    correction), only the public fields, names masked as configured. `queryset` narrows the rows
    (a search); it can never widen them."""
    model = MODELS[record_type]
    queryset = model.objects.all() if queryset is None else queryset
    queryset = queryset.filter(batch_id__in=published_batch_ids(record_type), superseded_at__isnull=True)
    return export_records(queryset, fmt=fmt, columns=public_columns(record_type))


def _masked_filters(params: dict[str, list[str]]) -> dict[str, list[str]]:
    """The list filters for the audit log, with any identity number searched for masked."""
    return {
        key: [ID_NUMBER_IN_TEXT.sub(lambda match: mask_id_number(match.group()), value) for value in values]
        for key, values in params.items()
    }


class ExportMixin:
    """Adds "export csv / xlsx" to a record ModelAdmin's list: the download holds exactly the rows the
    list shows under its current filters and search, across all pages.

    Wiring: put the mixin first, `class RecordAdmin(ExportMixin, DepartmentScopedAdminMixin, admin.ModelAdmin)`.
    It adds the URL `admin:<app>_<model>_export` (argument "csv" or "xlsx") through `get_urls` and sets
    `change_list_template`; an admin with its own list template includes
    "admin/disclosure/export_links.html" in its `object-tools-items` block instead.
    """

    change_list_template = "admin/disclosure/export_change_list.html"

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_export"
        export = path("export/<str:fmt>/", self.admin_site.admin_view(self.export_view), name=name)
        return [export, *super().get_urls()]

    def export_view(self, request, fmt):
        if fmt not in FORMATS:
            raise Http404
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            # The list's own machinery: the same filters, search and department scope as the page.
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            changelist_url = reverse(
                f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_changelist",
                current_app=self.admin_site.name,
            )
            return redirect(f"{changelist_url}?{ERROR_FLAG}=1")
        # What ChangeList.get_queryset(request) returned when the list was built; calling it again
        # would run the search twice (an identity-number search writes its own audit entry).
        queryset = changelist.queryset
        # The list's count may be the planner's estimate; the log gets the exact number.
        audit_record(
            actor=request.user,
            action="disclosure.export",
            detail={
                "model": self.opts.label_lower,
                "format": fmt,
                "rows": queryset.count(),
                "filters": _masked_filters(changelist.filter_params),
            },
        )
        return export_records(queryset, fmt=fmt)
