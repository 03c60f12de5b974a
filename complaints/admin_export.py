"""Export of the case list as filtered (csv with a byte order mark, or xlsx): the rows the list shows under its
filters, search and department scope, across all pages.

Personal data: the name and phone only masked (accounts.masking), the identity number never; the query loads
only the columns below. Every text cell is neutralised against spreadsheet formula injection. Each export is one
audit entry, with the filters (a phone or identity number searched for is left out).

The csv/xlsx writing is shared.spreadsheets, shared with the disclosure exports.
"""

from collections.abc import Iterator

from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from accounts.masking import mask_phone
from accounts.services import audit_record
from complaints import services
from complaints.models import Case
from shared.spreadsheets import CHUNK_SIZE, CSV, FORMATS, csv_response, xlsx_response

# Columns the export reads (everything else stays deferred: the identity number is never loaded).
FIELDS = ("number", "kind", "channel", "subject", "department", "state", "received_at", "due_date", "replied_at",
          "replied_on_time", "rating", "name", "phone")  # fmt: skip


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
            case.received_at,
            case.due_date,
            case.replied_at,
            "" if case.replied_on_time is None else (yes if case.replied_on_time else no),
            case.get_rating_display() if case.rating else "",
            case.name_masked,
            mask_phone(case.phone),
        ]


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
