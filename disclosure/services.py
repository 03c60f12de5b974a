"""Disclosure batches: created (by hand or by an import), submitted, reviewed, published as a whole,
withdrawn with a reason. Published records are never edited: a correction batch names the rows
it replaces, and publishing it takes those rows off the public pages in the same transaction.

The transitions' rules (who may do what, when) are disclosure/actions.py's actions; the functions
here hand off to them or are the lower-level writes they use. A refused transition raises
`govcms.actions.ActionRefused` (both PermissionDenied and ValidationError); other failures raise
`PermissionDenied` or `ValidationError`, each with a message for the officer.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.crypto import keyed_hash
from accounts.scoping import require_permission, works_for
from accounts.services import audit_record
from disclosure import actions
from disclosure.models import BatchSource, BatchState, Disbursement, DisclosureBatch
from disclosure.visibility import MODELS, masked_id
from shared.bigrams import bigrams

State = BatchState
ID_HASH_PURPOSE = "disclosure-id"
NAME_TAIL_PURPOSE = "disclosure-name-tail"


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
    """A new draft batch of the actor's department (or one below it); a correction of `corrects`
    when given (who may correct which batch: disclosure/actions.py CORRECT)."""
    require_permission(actor, "disclosure.add_disclosurebatch")
    if not works_for(actor, department.pk):
        raise PermissionDenied(_("You can only create batches for your own department."))
    if corrects is not None:
        actions.CORRECT.require(actor, corrects)
        if corrects.record_type != record_type:
            raise ValidationError(_("A correction must hold the same kind of records as the batch it corrects."))
    return batch_insert(actor=actor, record_type=record_type, department=department, year=year, title=title,
                        source=source, corrects=corrects, note=note)  # fmt: skip


def batch_insert(*, actor, record_type: str, department, year: int, title: str, source: str = BatchSource.MANUAL,
                 corrects: DisclosureBatch | None = None, note: str = "") -> DisclosureBatch:  # fmt: skip
    """Store the batch and its audit entry; the caller has checked that `actor` may create it."""
    batch = DisclosureBatch.objects.create(
        title=title.strip(), record_type=record_type, department=department, year=year, source=source,
        corrects=corrects, note=note, created_by=actor,
        state=State.IMPORTING if source == BatchSource.LARGE_IMPORT else State.DRAFT,
    )  # fmt: skip
    audit_record(actor=actor, action="disclosure.batch_create", target=batch, detail={"source": source})
    return batch


def batch_submit(*, actor, batch: DisclosureBatch) -> DisclosureBatch:
    """Hand a draft (or sent-back) batch to review (disclosure/actions.py SUBMIT)."""
    return actions.SUBMIT.execute(actor, batch)


def batch_publish(*, actor, batch: DisclosureBatch) -> DisclosureBatch:
    """The reviewer approves and publishes the batch (disclosure/actions.py PUBLISH)."""
    return actions.PUBLISH.execute(actor, batch)


def batch_reject(*, actor, batch: DisclosureBatch, comment: str) -> DisclosureBatch:
    """Send a batch back to its author with the reviewer's comment (disclosure/actions.py REJECT)."""
    return actions.REJECT.execute(actor, batch, reason=comment)


def batch_withdraw(*, actor, batch: DisclosureBatch, reason: str) -> DisclosureBatch:
    """Take a published batch off the public pages (disclosure/actions.py WITHDRAW)."""
    return actions.WITHDRAW.execute(actor, batch, reason=reason)


def batch_delete(*, actor, batch: DisclosureBatch) -> None:
    """Discard a batch that was never published (disclosure/actions.py DISCARD)."""
    actions.DISCARD.execute(actor, batch)


def batch_remove(*, actor, batch: DisclosureBatch) -> None:
    """Delete the batch with its records; its private files go after commit. The caller has checked
    that it may be discarded (DISCARD)."""
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
