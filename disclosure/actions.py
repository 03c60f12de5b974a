"""Disclosure batches' transitions (DESIGN.md "Actions"): who may submit, review (publish or send
back), withdraw, discard, correct or edit a batch, and when, is written here once.

The batch admin's buttons (`BATCH_ACTIONS.available`, the delete link through DISCARD), its form and
the record pages and imports (EDIT), the dashboard's waiting list (PUBLISH) and the services' functions (disclosure/services.py, kept for imports, the demo and scripts) ask these
`check`s. The model has no separate "approved" state: the reviewer's approval publishes the batch.
"""

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.scoping import works_for
from accounts.services import audit_record
from disclosure import page_cache, services
from disclosure.models import BatchState, DisclosureBatch
from govcms.actions import Action, ActionRefused, Actions

State = BatchState
EDITABLE = (State.DRAFT, State.REJECTED)


class BatchAction(Action):
    def lock(self, batch: DisclosureBatch) -> DisclosureBatch:
        return DisclosureBatch.objects.select_for_update().get(pk=batch.pk)

    def scope_refusal(self, user, batch: DisclosureBatch) -> str:
        return "" if works_for(user, batch.department_id) else _("This batch belongs to another department.")


class SubmitBatch(BatchAction):
    """Hand a draft (or sent-back) batch to review; an empty batch cannot be submitted."""

    code = "submit"
    label = gettext_lazy("Submit for review")
    permission = "disclosure.change_disclosurebatch"
    from_states = EDITABLE
    state_message = gettext_lazy("Only a draft batch can be submitted; this batch is %(state)s.")

    def check_more(self, user, batch):
        if not services.record_model(batch).objects.filter(batch=batch).exists():
            return _("The batch holds no records yet.")
        return ""

    def perform(self, user, batch):
        batch.state = State.SUBMITTED
        batch.submitted_at = timezone.now()
        batch.save(update_fields=["state", "submitted_at"])
        audit_record(actor=user, action="disclosure.batch_submit", target=batch)
        return batch


class ReviewBatch(BatchAction):
    """A decision on a submitted batch, by a reviewer who did not create it."""

    permission = "disclosure.review_disclosurebatch"
    from_states = (State.SUBMITTED,)
    state_message = gettext_lazy("Only a batch waiting for review can be reviewed; this batch is %(state)s.")

    def check_more(self, user, batch):
        return _("Someone other than its author must review a batch.") if batch.created_by_id == user.pk else ""

    def candidates(self, queryset, user=None):
        queryset = super().candidates(queryset, user)
        return queryset.exclude(created_by=user) if user is not None else queryset


class PublishBatch(ReviewBatch):
    """Approve and publish every record of the batch at once. For a correction, the rows it replaces
    leave the public pages in the same transaction and its own rows carry the correction date."""

    code = "publish"
    label = gettext_lazy("Approve and publish")
    confirm = gettext_lazy(
        "Publish every record of this batch on the public pages? Published records are never edited again, "
        "only corrected by a new batch."
    )

    def perform(self, user, batch):
        now = timezone.now()
        replaced = 0
        if batch.corrects_id:
            model = services.record_model(batch)
            replaced_ids = model.objects.filter(batch=batch, supersedes_id__isnull=False).values("supersedes_id")
            replaced = model.objects.filter(pk__in=replaced_ids, superseded_at__isnull=True).update(superseded_at=now)
            model.objects.filter(batch=batch, supersedes_id__isnull=False).update(corrected_at=now)
        batch.state = State.PUBLISHED
        batch.published_at = now
        batch.reviewed_by = user
        batch.save(update_fields=["state", "published_at", "reviewed_by"])
        audit_record(actor=user, action="disclosure.batch_publish", target=batch, detail={"replaced": replaced})
        page_cache.bump()
        return batch


class RejectBatch(ReviewBatch):
    """Send a batch back to its author with the reviewer's comment (required)."""

    code = "reject"
    label = gettext_lazy("Send back")
    needs_reason = True

    def perform(self, user, batch, reason: str = ""):
        comment = (reason or "").strip()
        if not comment:
            raise ValidationError(_("Say what must be changed before the batch can be published."))
        batch.state = State.REJECTED
        batch.review_comment = comment
        batch.reviewed_by = user
        batch.save(update_fields=["state", "review_comment", "reviewed_by"])
        audit_record(actor=user, action="disclosure.batch_reject", target=batch, detail={"comment": comment})
        return batch


class WithdrawBatch(BatchAction):
    """Take a published batch off the public pages, with a reason kept for the record. Rows a
    correction of it had replaced stay replaced; its own corrections stay published."""

    code = "withdraw"
    label = gettext_lazy("Withdraw")
    confirm = gettext_lazy("Take every record of this batch off the public pages?")
    permission = "disclosure.withdraw_disclosurebatch"
    needs_reason = True
    from_states = (State.PUBLISHED,)
    state_message = gettext_lazy("Only a published batch can be withdrawn; this batch is %(state)s.")

    def perform(self, user, batch, reason: str = ""):
        reason = (reason or "").strip()
        if not reason:
            raise ValidationError(_("Give the reason for withdrawing the batch."))
        batch.state = State.WITHDRAWN
        batch.withdrawn_at = timezone.now()
        batch.withdraw_reason = reason
        batch.save(update_fields=["state", "withdrawn_at", "withdraw_reason"])
        audit_record(actor=user, action="disclosure.batch_withdraw", target=batch, detail={"reason": reason})
        page_cache.bump()
        return batch


class CorrectBatch(BatchAction):
    """Open a correction batch (a draft of the same kind of records) for a published batch; publishing
    it later replaces the rows it names. Returns the new batch."""

    code = "correct"
    label = gettext_lazy("Make a correction batch")
    permission = "disclosure.add_disclosurebatch"
    from_states = (State.PUBLISHED,)
    state_message = gettext_lazy("Only a published batch can be corrected.")

    def perform(self, user, batch, title: str = ""):
        return services.batch_insert(
            actor=user,
            record_type=batch.record_type,
            department=batch.department,
            year=batch.year,
            title=title or _("Correction: %(title)s") % {"title": batch.title},
            corrects=batch,
        )


class EditBatch(BatchAction):
    """Change a batch's details, or add, change and delete its records: only while nobody reviews it
    (a draft or a sent-back batch). Published records are corrected by a new batch, never edited.
    Not a button: the admin asks it for the batch's form, the record pages and the import."""

    code = "edit"
    label = gettext_lazy("Edit")
    permission = "disclosure.change_disclosurebatch"
    from_states = EDITABLE
    state_message = gettext_lazy("Records of a %(state)s batch cannot be changed: make a correction batch instead.")
    FIELDS = ("title", "department", "year", "note")

    def perform(self, user, batch, **changes):
        """Store the changed details (`FIELDS` only); moving it to another department needs that one too."""
        changes = {name: value for name, value in changes.items() if name in self.FIELDS}
        if not changes:
            return batch
        department = changes.get("department")
        if department is not None and not works_for(user, department.pk):
            raise ActionRefused(_("This batch belongs to another department."))
        old = {name: str(getattr(batch, name)) for name in changes}
        for name, value in changes.items():
            setattr(batch, name, value)
        batch.save(update_fields=list(changes))
        detail = {name: {"old": old[name], "new": str(value)} for name, value in changes.items()}
        audit_record(actor=user, action="disclosure.batch_change", target=batch, detail={"changes": detail})
        return batch


class DiscardBatch(BatchAction):
    """Delete a batch that was never published (a failed import, a draft), with its records and files.
    In the admin it is the change page's delete link."""

    code = "discard"
    label = gettext_lazy("Discard")
    permission = "disclosure.delete_disclosurebatch"
    from_states = (*EDITABLE, State.IMPORT_FAILED)
    state_message = gettext_lazy("Only an unpublished batch can be discarded; this batch is %(state)s.")

    def perform(self, user, batch):
        services.batch_remove(actor=user, batch=batch)


SUBMIT = SubmitBatch()
EDIT = EditBatch()
PUBLISH = PublishBatch()
REJECT = RejectBatch()
WITHDRAW = WithdrawBatch()
CORRECT = CorrectBatch()
DISCARD = DiscardBatch()

# The change page's workflow buttons, in order (discarding is Django's delete link, asked through DISCARD).
BATCH_ACTIONS = Actions(SUBMIT, PUBLISH, REJECT, WITHDRAW, CORRECT)
