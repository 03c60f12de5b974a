"""django-import-export's view of a disbursement file (到人到户), for the admin's import of small
files with its dry-run preview. Every row is checked by `disclosure.rows`, as in the large import,
so both say the same things about a bad row; django-import-export contributes the upload, the
preview, the confirmation step and the bulk save.

The rows go into the batch chosen in the import form, which must still be a draft (or sent back)
when they are saved: the batch row is locked for the import, so a batch cannot be submitted while
rows are arriving.
"""

import io

import tablib
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields, resources
from import_export.formats import base_formats

from accounts.masking import mask_id_number
from accounts.services import audit_record
from disclosure.actions import EDIT
from disclosure.importing import ImportFileError, RowSource
from disclosure.models import Disbursement, DisclosureBatch, FundProgram, RecordType
from disclosure.rows import (
    C_ID_NUMBER,
    COLUMNS,
    CORRECTION_HEADER,
    HEADERS,
    ID_NUMBER,
    DisbursementRows,
    HeaderError,
    match_headers,
    text,
)

SMALL_IMPORT_MAX_ROWS = 10_000
ROW_KEY = "__row__"  # the file's own row number, carried in the dataset so messages name the right row


def _dataset(source: RowSource) -> tablib.Dataset:
    """The file's non-empty rows under the canonical headers, each with its row number in the file."""
    try:
        try:
            correction = match_headers(source.header)
        except HeaderError as error:
            raise ImportFileError(str(error)) from error
        headers = [*HEADERS, *([CORRECTION_HEADER] if correction else [])]
        width = len(headers)
        dataset = tablib.Dataset(headers=[*headers, ROW_KEY])
        for number, values in source:
            values = list(values[:width]) + [None] * (width - len(values))
            dataset.append([*values, number])
            if len(dataset) > SMALL_IMPORT_MAX_ROWS:
                raise ImportFileError(
                    _("The file has more than %(limit)s rows: import it as a large file instead.")
                    % {"limit": SMALL_IMPORT_MAX_ROWS}
                )
        if not len(dataset):
            # django-import-export's own word for this is English ("No valid data to import...").
            raise ImportFileError(_("The file holds no rows below its header row."))
        return dataset
    finally:
        source.close()


class DisbursementCSV(base_formats.CSV):
    """CSV read as bytes, so its encoding can be told: UTF-8 with or without BOM, or GB18030."""

    def is_binary(self):
        return True

    def get_read_mode(self):
        return "rb"

    def create_dataset(self, in_stream, **kwargs):
        return _dataset(RowSource(io.BytesIO(in_stream), ".csv"))


class DisbursementXLSX(base_formats.XLSX):
    def create_dataset(self, in_stream, **kwargs):
        return _dataset(RowSource(io.BytesIO(in_stream), ".xlsx"))


class DisbursementResource(resources.ModelResource):
    # What the preview shows of a row; the values themselves come from disclosure.rows.
    program = fields.Field(attribute="program__name", column_name=HEADERS[0])
    recipient_name = fields.Field(attribute="recipient_name", column_name=HEADERS[1])
    id_masked = fields.Field(attribute="id_masked", column_name=HEADERS[2])
    township = fields.Field(attribute="township", column_name=HEADERS[3])
    village = fields.Field(attribute="village", column_name=HEADERS[4])
    household_size = fields.Field(attribute="household_size", column_name=HEADERS[5])
    amount = fields.Field(attribute="amount", column_name=HEADERS[6])
    paid_on = fields.Field(attribute="paid_on", column_name=HEADERS[7])
    paying_department = fields.Field(attribute="paying_department", column_name=HEADERS[8])
    supersedes_id = fields.Field(attribute="supersedes_id", column_name=CORRECTION_HEADER)

    class Meta:
        model = Disbursement
        name = gettext_lazy("Fund disbursement to persons/households")
        fields = ("program", "recipient_name", "id_masked", "township", "village", "household_size", "amount",
                  "paid_on", "paying_department", "supersedes_id")  # fmt: skip
        force_init_instance = True  # every row is a new record: nothing is looked up or updated
        clean_model_instances = False  # disclosure.rows has checked everything full_clean would
        use_bulk = True
        batch_size = 1000
        use_transactions = True

    def __init__(self, batch: DisclosureBatch | None = None, **kwargs):
        super().__init__(**kwargs)
        self.batch = batch
        self.checker = None
        self.programmes = {}

    def get_user_visible_fields(self):
        return [field for field in super().get_user_visible_fields() if field.column_name != CORRECTION_HEADER]

    def before_import(self, dataset, **kwargs):
        if self.batch is None:
            raise ImportFileError(_("Choose the batch the rows go into."))
        # Locked until the import's transaction ends: the batch cannot be submitted meanwhile.
        batch = DisclosureBatch.objects.select_for_update(of=("self",)).select_related("corrects").get(pk=self.batch.pk)
        if batch.record_type != RecordType.DISBURSEMENT or not EDIT.starts_from(batch):
            raise ImportFileError(
                _(
                    "Rows can only be added to a draft or sent-back batch of fund disbursements; “%(batch)s” is %(state)s."
                )
                % {"batch": batch, "state": batch.get_state_display()}
            )
        self.batch = batch
        self.checker = DisbursementRows(batch, correction_column=CORRECTION_HEADER in dataset.headers)
        self.programmes = FundProgram.objects.filter(year=batch.year).in_bulk()

    def import_instance(self, instance, row, **kwargs):
        values = [row.get(header) for header in HEADERS]
        if self.checker.correction_column:
            values.append(row.get(CORRECTION_HEADER))
        record, errors = self.checker.check(row[ROW_KEY], values)
        if errors:
            # The preview lists the rejected rows' cells: never with the full identity number.
            row[HEADERS[ID_NUMBER]] = mask_id_number(text(row.get(HEADERS[ID_NUMBER])))
            messages = {}
            for error in errors:
                messages.setdefault(error.column, []).append(str(error))
            raise ValidationError(messages)
        for column, value in zip(COLUMNS, record, strict=True):
            setattr(instance, column, value)
        # The plain number: EncryptedTextField encrypts it on save (disclosure.rows leaves it plain).
        instance.id_number = record[C_ID_NUMBER]
        instance.batch = self.batch
        instance.program = self.programmes[instance.program_id]

    def after_import(self, dataset, result, **kwargs):
        # Not ModelResource's: it resets the id sequence to MAX(id), which could hand out ids that a
        # large import running at the same moment has taken but not yet committed.
        if kwargs.get("dry_run") or result.has_errors() or result.has_validation_errors():
            return
        imported = sum(1 for row in result.rows if row.import_type == row.IMPORT_TYPE_NEW)
        audit_record(
            actor=kwargs.get("user"), action="disclosure.batch_import", target=self.batch,
            detail={"file": kwargs.get("file_name") or "", "valid": imported, "source": "admin import"},
        )  # fmt: skip
