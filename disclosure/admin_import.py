"""The admin's import of small disbursement files (django-import-export): upload, dry-run preview with
every rejected row's problems, then confirm. Mixed into DisbursementAdmin:

    class DisbursementAdmin(DisbursementImportMixin, RecordAdmin): ...

It adds the admin URLs `admin:disclosure_disbursement_import` and `..._process_import` and the
"Import" button on the change list. The officer chooses the batch the rows go into: a draft or
sent-back disbursement batch of a department they work for, checked again at confirmation.
"""

import os
import time
import uuid
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportMixin
from import_export.forms import ConfirmImportForm
from import_export.tmp_storages import TempFolderStorage
from unfold.contrib.import_export.forms import ImportForm

from accounts.scoping import departments_for
from disclosure import importing
from disclosure.actions import EDIT
from disclosure.importing import ImportFileError
from disclosure.models import DisclosureBatch, RecordType
from disclosure.resources import (
    SMALL_IMPORT_MAX_ROWS,
    DisbursementCSV,
    DisbursementResource,
    DisbursementXLSX,
)
from govcms.uploads import UploadRefused, check_csv_size, check_xlsx_size


class PreviewStorage(TempFolderStorage):
    """The uploaded file between preview and confirmation. It holds identity numbers, so it waits in
    the private directory, not the system's temporary one, and goes when the preview finds errors;
    files of previews never confirmed are removed a day later."""

    MAX_AGE_SECONDS = 24 * 3600

    @staticmethod
    def directory() -> Path:
        path = importing.private_dir() / "disclosure" / "import-preview"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def save(self, data):
        self._prune()
        with self._open(mode="wb" if isinstance(data, bytes) else "w") as file:
            file.write(data)

    def remove(self):
        Path(self.get_full_path()).unlink(missing_ok=True)

    def get_full_path(self):
        return str(self.directory() / os.path.basename(self.name))

    def _open(self, mode="r"):
        if not self.name:
            self.name = uuid.uuid4().hex
        return open(self.get_full_path(), mode, encoding=None if "b" in mode else self.encoding)  # noqa: SIM115

    def _prune(self) -> None:
        too_old = time.time() - self.MAX_AGE_SECONDS
        for path in self.directory().iterdir():
            if path.stat().st_mtime < too_old:
                path.unlink(missing_ok=True)


def check_small_import_file(upload, file_format) -> None:
    """Refuse (ImportFileError, Chinese, pointing to the large import) a file too big to read in the web
    request: over the small import's size, unpacking (xlsx) to more than its limit, or with more rows
    than it takes, empty rows included. Runs before django-import-export reads a byte of it."""
    max_bytes = settings.DISCLOSURE_SMALL_IMPORT_MAX_BYTES
    if upload.size > max_bytes:
        raise ImportFileError(
            gettext(
                "The file is %(size)s; this import takes files up to %(limit)s. "
                "Import it as a large file from the batch list instead."
            )
            % {"size": filesizeformat(upload.size), "limit": filesizeformat(max_bytes)}
        )
    try:
        if issubclass(file_format, DisbursementXLSX):
            check_xlsx_size(
                upload,
                max_unzipped_bytes=settings.DISCLOSURE_SMALL_IMPORT_MAX_UNZIPPED_BYTES,
                max_rows=SMALL_IMPORT_MAX_ROWS + 1,  # and the header row
            )
        else:
            upload.seek(0)
            data = upload.read(max_bytes + 1)
            upload.seek(0)
            check_csv_size(data, max_bytes=max_bytes, max_rows=SMALL_IMPORT_MAX_ROWS)
    except UploadRefused as refused:
        if refused.code == "too_many_rows":
            message = gettext("The file has more than %(limit)s rows: import it as a large file instead.") % {
                "limit": SMALL_IMPORT_MAX_ROWS
            }
        elif refused.code == "too_big":
            message = gettext(
                "The file unpacks to more than %(limit)s; this import takes smaller files. "
                "Import it as a large file from the batch list instead."
            ) % {"limit": filesizeformat(settings.DISCLOSURE_SMALL_IMPORT_MAX_UNZIPPED_BYTES)}
        else:
            message = gettext("The file cannot be read (%(error)s); is it really a .csv or .xlsx file?") % {
                "error": refused.facts.get("error", refused.code)
            }
        raise ImportFileError(message) from None


def importable_batches(user):
    """The batches a user may import disbursement rows into."""
    batches = DisclosureBatch.objects.filter(record_type=RecordType.DISBURSEMENT, department__in=departments_for(user))
    return EDIT.candidates(batches, user).order_by("-created_at")


class DisbursementImportForm(ImportForm):
    batch = forms.ModelChoiceField(
        label=_("Batch"),
        queryset=DisclosureBatch.objects.none(),
        help_text=_("A draft or sent-back batch of fund disbursements; the file's rows are added to it."),
    )
    field_order = ["batch", "resource", "import_file", "format"]

    def __init__(self, formats, resources, **kwargs):
        super().__init__(formats, resources, **kwargs)
        self.formats = formats

    def clean(self):
        cleaned = super().clean()
        upload, chosen = cleaned.get("import_file"), cleaned.get("format")
        if upload is not None and chosen not in (None, ""):
            try:
                file_format = self.formats[int(chosen)]
            except (ValueError, IndexError):
                return cleaned
            try:
                check_small_import_file(upload, file_format)
            except ImportFileError as error:
                self.add_error("import_file", str(error))
        return cleaned


class DisbursementConfirmForm(ConfirmImportForm):
    batch = forms.ModelChoiceField(queryset=DisclosureBatch.objects.none(), widget=forms.HiddenInput)


class DisbursementImportMixin(ImportMixin):
    resource_classes = [DisbursementResource]
    import_formats = [DisbursementCSV, DisbursementXLSX]
    import_form_class = DisbursementImportForm
    confirm_form_class = DisbursementConfirmForm
    import_template_name = "admin/disclosure/disbursement/import.html"
    # One audit entry for the whole import (DisbursementResource.after_import), not one log row per record.
    skip_admin_log = True
    tmp_storage_class = PreviewStorage

    def import_action(self, request, **kwargs):
        response = super().import_action(request, **kwargs)
        context = getattr(response, "context_data", None) or {}
        upload = (getattr(context.get("form"), "cleaned_data", None) or {}).get("import_file")
        name = getattr(upload, "tmp_storage_name", None)
        if name and not context.get("confirm_form"):
            PreviewStorage(name=name).remove()  # nothing to confirm: the copy of the file goes now
        return response

    def has_import_permission(self, request):
        return request.user.has_perm("disclosure.add_disbursement")

    def create_import_form(self, request):
        form = super().create_import_form(request)
        form.fields["batch"].queryset = importable_batches(request.user)
        if not form.is_bound and request.GET.get("batch"):
            form.initial["batch"] = request.GET["batch"]
        return form

    def create_confirm_form(self, request, import_form=None):
        form = super().create_confirm_form(request, import_form)
        form.fields["batch"].queryset = importable_batches(request.user)
        return form

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial["batch"] = import_form.cleaned_data["batch"].pk
        return initial

    def get_import_resource_kwargs(self, request, **kwargs):
        form = kwargs.get("form")
        cleaned = getattr(form, "cleaned_data", None) or {}
        return {"batch": cleaned.get("batch")}

    def get_import_data_kwargs(self, **kwargs):
        kwargs = super().get_import_data_kwargs(**kwargs)
        kwargs.pop("request", None)
        # Confirming imports the previewed file whole or not at all, never the valid part of it.
        kwargs["rollback_on_validation_errors"] = True
        return kwargs

    def add_data_read_fail_error_to_form(self, form, e):
        if isinstance(e, ImportFileError):
            form.add_error("import_file", str(e))
        else:
            super().add_data_read_fail_error_to_form(form, e)

    def process_result(self, result, request):
        batch = getattr(result, "batch", None)
        if result.has_errors() or result.has_validation_errors():
            problems = [str(error.error) for error in result.base_errors] or [
                gettext("Some rows did not pass the checks.")
            ]
            messages.error(request, gettext("Nothing was imported: %(problems)s") % {"problems": " ".join(problems)})
            return HttpResponseRedirect(
                reverse("admin:disclosure_disbursement_import", current_app=self.admin_site.name)
            )
        imported = result.totals.get("new", 0)
        messages.success(request, gettext("%(count)s rows were imported.") % {"count": imported})
        url = reverse("admin:disclosure_disbursement_changelist", current_app=self.admin_site.name)
        if batch is not None:
            url += f"?batch__id__exact={batch.pk}"
        return HttpResponseRedirect(url)

    def process_dataset(self, dataset, form, request, **kwargs):
        result = super().process_dataset(dataset, form, request, **kwargs)
        result.batch = form.cleaned_data.get("batch")
        return result
