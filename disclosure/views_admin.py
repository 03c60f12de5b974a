"""Admin pages of the large import: the upload form, the progress page (polling a JSON view), and
the download of the report of rejected rows. Plain functions wrapped by the DisclosureBatch admin
(admin_site.admin_view) in its get_urls; `admin_site` (a URL keyword, default the project's site)
gives the pages their admin context. Each view checks the permission to add batches and that the
batch belongs to a department the user works for, and refuses with PermissionDenied otherwise.
"""

import shutil
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.scoping import departments_for, works_for
from accounts.services import audit_record
from disclosure import importing, services
from disclosure.actions import CORRECT
from disclosure.models import BatchSource, BatchState, DisclosureBatch, RecordType

PERMISSION = "disclosure.add_disclosurebatch"
SUFFIXES = (".csv", ".xlsx")


class LargeImportForm(forms.Form):
    title = forms.CharField(label=_("title"), max_length=200)
    department = forms.ModelChoiceField(label=_("department"), queryset=None)
    year = forms.IntegerField(label=_("year"), min_value=1990, max_value=2100)
    file = forms.FileField(
        label=_("File"),
        help_text=_("A .csv (UTF-8 or GB18030) or .xlsx file whose first row holds the column headers."),
    )
    corrects = forms.ModelChoiceField(
        label=_("corrects batch"),
        queryset=None,
        required=False,
        help_text=_("For a correction: the published batch whose rows this file replaces (column “更正记录编号”)."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        departments = departments_for(user)
        self.fields["department"].queryset = departments
        # The batches CORRECT may allow; batch_create asks it of the one chosen.
        batches = DisclosureBatch.objects.filter(record_type=RecordType.DISBURSEMENT, department__in=departments)
        self.fields["corrects"].queryset = CORRECT.candidates(batches, user).order_by("-published_at")
        if not self.is_bound:
            self.initial.setdefault("year", timezone.localdate().year)
            if user.department_id and departments.filter(pk=user.department_id).exists():
                self.initial.setdefault("department", user.department_id)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in SUFFIXES:
            raise forms.ValidationError(gettext("Only .csv and .xlsx files can be imported."))
        limit = settings.DISCLOSURE_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                gettext("The file is %(size)s; files up to %(limit)s can be imported.")
                % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)}
            )
        return upload


def _require_permission(user) -> None:
    if not user.has_perm(PERMISSION):
        raise PermissionDenied


def _batch_for(request, pk: int) -> DisclosureBatch:
    """The batch, if the user may import into it: the permission and one of their departments."""
    _require_permission(request.user)
    batch = get_object_or_404(DisclosureBatch, pk=pk)
    if not works_for(request.user, batch.department_id):
        raise PermissionDenied
    return batch


def _context(request, admin_site, title: str, **extra) -> dict:
    site = admin_site or admin.site
    return {**site.each_context(request), "title": title, "opts": DisclosureBatch._meta, **extra}


def large_import_upload(request, admin_site=None):
    """The upload form: creates the batch (state IMPORTING), keeps the file in the private directory,
    and starts the import task once that is committed."""
    _require_permission(request.user)
    form = LargeImportForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            batch = _start_import(request.user, form.cleaned_data)
        except (PermissionDenied, ValidationError) as error:
            form.add_error(None, getattr(error, "messages", None) or str(error))
        else:
            return redirect("admin:disclosure_disclosurebatch_import_progress", pk=batch.pk)
    return TemplateResponse(
        request,
        "admin/disclosure/large_import_upload.html",
        _context(request, admin_site, gettext("Import a large file"), form=form),
    )


def _start_import(user, data: dict) -> DisclosureBatch:
    from disclosure.tasks import import_batch

    upload = data["file"]
    suffix = Path(upload.name).suffix.lower()
    with transaction.atomic():
        batch = services.batch_create(
            actor=user, record_type=RecordType.DISBURSEMENT, department=data["department"], year=data["year"],
            title=data["title"], source=BatchSource.LARGE_IMPORT, corrects=data["corrects"],
        )  # fmt: skip
        name = importing.upload_name(batch.pk, suffix)
        destination = importing.private_path(name)
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            if hasattr(upload, "temporary_file_path"):
                # Large uploads are on disk already: move, not copy, a file of up to gigabytes.
                shutil.move(upload.temporary_file_path(), destination)
            else:
                with destination.open("wb") as out:
                    for chunk in upload.chunks(1 << 20):
                        out.write(chunk)
            batch.upload = name
            batch.save(update_fields=["upload"])
        except BaseException:
            destination.unlink(missing_ok=True)  # the batch goes with the rolled-back transaction
            raise
        import_batch.delay_on_commit(batch.pk)
    return batch


def large_import_progress(request, pk: int, admin_site=None):
    """The progress page: a bar that follows the task, then links to the report and the batch."""
    batch = _batch_for(request, pk)
    context = _context(
        request,
        admin_site,
        gettext("Import of “%(batch)s”") % {"batch": batch},
        batch=batch,
        status_url=reverse("admin:disclosure_disclosurebatch_import_status", args=[batch.pk]),
        status=import_status(batch),
    )
    return TemplateResponse(request, "admin/disclosure/large_import_progress.html", context)


def large_import_status(request, pk: int, admin_site=None):
    """The import's progress as JSON, polled by the progress page every second."""
    return JsonResponse(import_status(_batch_for(request, pk)))


def import_status(batch: DisclosureBatch) -> dict:
    importing_now = batch.state == BatchState.IMPORTING
    if importing_now:
        fraction = cache.get(importing.progress_key(batch.pk)) or 0.0
    else:
        fraction = 1.0
    return {
        "state": batch.state,
        "state_display": batch.get_state_display(),
        "done": not importing_now,
        "failed": batch.state == BatchState.IMPORT_FAILED,
        "rows_read": batch.rows_read,
        "rows_valid": batch.rows_valid,
        "rows_rejected": batch.rows_rejected,
        "percent": round(100 * fraction),
        "import_error": batch.import_error,
        "report_url": reverse("admin:disclosure_disclosurebatch_import_report", args=[batch.pk])
        if batch.error_report and not importing_now
        else "",
        "batch_url": reverse("admin:disclosure_disclosurebatch_change", args=[batch.pk]),
    }


def large_import_report(request, pk: int, admin_site=None):
    """The report of rejected rows (identity numbers masked), downloaded through the admin only."""
    batch = _batch_for(request, pk)
    if not batch.error_report:
        raise Http404
    path = importing.private_path(batch.error_report)
    if not path.exists():
        raise Http404
    audit_record(actor=request.user, action="disclosure.import_report_download", target=batch,
                 detail={"rows_rejected": batch.rows_rejected})  # fmt: skip
    return FileResponse(path.open("rb"), as_attachment=True, filename=f"batch-{batch.pk}-rejected-rows.xlsx")
