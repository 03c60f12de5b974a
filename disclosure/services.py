"""Disclosure batches: created (by hand or by an import), submitted, reviewed, published as a whole,
withdrawn with a reason. Published records are never edited: a correction batch names the rows
it replaces, and publishing it takes those rows off the public pages in the same transaction.

Failures raise `PermissionDenied` or `ValidationError` with a message for the officer.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.crypto import keyed_hash
from accounts.scoping import require_permission, works_for
from accounts.services import audit_record
from content.search import bigrams
from disclosure import page_cache
from disclosure.models import BatchSource, BatchState, Disbursement, DisclosureBatch
from disclosure.visibility import MODELS, masked_id

State = BatchState
ID_HASH_PURPOSE = "disclosure-id"
NAME_TAIL_PURPOSE = "disclosure-name-tail"


def _require(actor, perm: str, batch: DisclosureBatch) -> None:
    require_permission(actor, perm)
    if not works_for(actor, batch.department_id):
        raise PermissionDenied(_("This batch belongs to another department."))


def _locked(batch: DisclosureBatch) -> DisclosureBatch:
    return DisclosureBatch.objects.select_for_update().get(pk=batch.pk)


def _move(batch: DisclosureBatch, allowed: tuple, message: str) -> None:
    """The batch state machine's one gate: refuse a move from any state not in `allowed`."""
    if batch.state not in allowed:
        raise ValidationError(message % {"state": batch.get_state_display()})


def record_model(batch: DisclosureBatch):
    return MODELS[batch.record_type]


def prepare_disbursement(record: Disbursement) -> Disbursement:
    """Fill the derived columns of a disbursement (hashes, masked id, name bigrams) before saving.
    The import pipeline computes the same values row by row with the same helpers."""
    id_number = (record.id_number or "").strip().upper()
    record.id_number = id_number
    record.id_hash = identity_hash(id_number) if id_number else ""
    record.name_tail_hash = name_tail_hash(record.recipient_name, id_number[-6:]) if id_number else ""
    record.id_masked = masked_id(id_number) if id_number else ""
    record.name_bigrams = bigrams(record.recipient_name)
    return record


def identity_hash(id_number: str) -> str:
    return keyed_hash(id_number.strip().upper(), purpose=ID_HASH_PURPOSE)


def name_tail_hash(name: str, last6: str) -> str:
    """What a citizen's lookup by name + the last six digits of the identity number matches."""
    return keyed_hash(f"{name.strip()}|{last6.strip().upper()}", purpose=NAME_TAIL_PURPOSE)


def batch_create(*, actor, record_type: str, department, year: int, title: str, source: str = BatchSource.MANUAL,
                 corrects: DisclosureBatch | None = None, note: str = "") -> DisclosureBatch:  # fmt: skip
    """A new draft batch of the actor's department (or one below it)."""
    require_permission(actor, "disclosure.add_disclosurebatch")
    if not works_for(actor, department.pk):
        raise PermissionDenied(_("You can only create batches for your own department."))
    if corrects is not None:
        if corrects.state != State.PUBLISHED:
            raise ValidationError(_("Only a published batch can be corrected."))
        if corrects.record_type != record_type:
            raise ValidationError(_("A correction must hold the same kind of records as the batch it corrects."))
    batch = DisclosureBatch.objects.create(
        title=title.strip(), record_type=record_type, department=department, year=year, source=source,
        corrects=corrects, note=note, created_by=actor,
        state=State.IMPORTING if source == BatchSource.LARGE_IMPORT else State.DRAFT,
    )  # fmt: skip
    audit_record(actor=actor, action="disclosure.batch_create", target=batch, detail={"source": source})
    return batch


def batch_submit(*, actor, batch: DisclosureBatch) -> DisclosureBatch:
    """Hand a draft (or sent-back) batch to review; an empty batch cannot be submitted."""
    _require(actor, "disclosure.change_disclosurebatch", batch)
    with transaction.atomic():
        batch = _locked(batch)
        _move(batch, (State.DRAFT, State.REJECTED), _("Only a draft batch can be submitted; this batch is %(state)s."))
        if not record_model(batch).objects.filter(batch=batch).exists():
            raise ValidationError(_("The batch holds no records yet."))
        batch.state = State.SUBMITTED
        batch.submitted_at = timezone.now()
        batch.save(update_fields=["state", "submitted_at"])
        audit_record(actor=actor, action="disclosure.batch_submit", target=batch)
    return batch


def _review_checks(actor, batch: DisclosureBatch) -> None:
    _require(actor, "disclosure.review_disclosurebatch", batch)
    _move(batch, (State.SUBMITTED,), _("Only a batch waiting for review can be reviewed; this batch is %(state)s."))
    if batch.created_by_id == actor.pk:
        raise PermissionDenied(_("Someone other than its author must review a batch."))


def batch_publish(*, actor, batch: DisclosureBatch) -> DisclosureBatch:
    """Publish every record of the batch at once. For a correction, the rows it replaces leave the
    public pages in the same transaction and its own rows carry the correction date."""
    with transaction.atomic():
        batch = _locked(batch)
        _review_checks(actor, batch)
        now = timezone.now()
        replaced = 0
        if batch.corrects_id:
            model = record_model(batch)
            replaced_ids = model.objects.filter(batch=batch, supersedes_id__isnull=False).values("supersedes_id")
            replaced = model.objects.filter(pk__in=replaced_ids, superseded_at__isnull=True).update(superseded_at=now)
            model.objects.filter(batch=batch, supersedes_id__isnull=False).update(corrected_at=now)
        batch.state = State.PUBLISHED
        batch.published_at = now
        batch.reviewed_by = actor
        batch.save(update_fields=["state", "published_at", "reviewed_by"])
        audit_record(actor=actor, action="disclosure.batch_publish", target=batch, detail={"replaced": replaced})
        page_cache.bump()
    return batch


def batch_reject(*, actor, batch: DisclosureBatch, comment: str) -> DisclosureBatch:
    """Send a batch back to its author with the reviewer's comment."""
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError(_("Say what must be changed before the batch can be published."))
    with transaction.atomic():
        batch = _locked(batch)
        _review_checks(actor, batch)
        batch.state = State.REJECTED
        batch.review_comment = comment
        batch.reviewed_by = actor
        batch.save(update_fields=["state", "review_comment", "reviewed_by"])
        audit_record(actor=actor, action="disclosure.batch_reject", target=batch, detail={"comment": comment})
    return batch


def batch_withdraw(*, actor, batch: DisclosureBatch, reason: str) -> DisclosureBatch:
    """Take a published batch off the public pages, with a reason kept for the record. Rows a
    correction of it had replaced stay replaced; its own corrections stay published."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give the reason for withdrawing the batch."))
    _require(actor, "disclosure.withdraw_disclosurebatch", batch)
    with transaction.atomic():
        batch = _locked(batch)
        _move(batch, (State.PUBLISHED,), _("Only a published batch can be withdrawn; this batch is %(state)s."))
        batch.state = State.WITHDRAWN
        batch.withdrawn_at = timezone.now()
        batch.withdraw_reason = reason
        batch.save(update_fields=["state", "withdrawn_at", "withdraw_reason"])
        audit_record(actor=actor, action="disclosure.batch_withdraw", target=batch, detail={"reason": reason})
        page_cache.bump()
    return batch


def batch_delete(*, actor, batch: DisclosureBatch) -> None:
    """Discard a batch that was never published (a failed import, a draft), with its records."""
    _require(actor, "disclosure.delete_disclosurebatch", batch)
    with transaction.atomic():
        batch = _locked(batch)
        _move(
            batch,
            (State.DRAFT, State.REJECTED, State.IMPORT_FAILED),
            _("Only an unpublished batch can be discarded; this batch is %(state)s."),
        )
        record_model(batch).objects.filter(batch=batch).delete()
        audit_record(actor=actor, action="disclosure.batch_delete", target=batch)
        # The uploaded file and the report of rejected rows hold identity numbers: they go with the batch.
        files = [name for name in (batch.upload, batch.error_report) if name]
        transaction.on_commit(lambda: _remove_private_files(files))
        batch.delete()


def _remove_private_files(names: list[str]) -> None:
    from disclosure.importing import private_path

    for name in names:
        private_path(name).unlink(missing_ok=True)


def record_check_editable(batch: DisclosureBatch) -> None:
    """Records are added or changed only while their batch is a draft (or sent back)."""
    if batch.state not in (State.DRAFT, State.REJECTED):
        raise ValidationError(
            _("Records of a %(state)s batch cannot be changed: make a correction batch instead.")
            % {"state": batch.get_state_display()}
        )
