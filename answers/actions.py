"""The answer library's review (DESIGN.md "Actions"): an entry answers followers only once someone
other than its author (and its last editor) approved it, as for articles."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.scoping import works_for
from accounts.services import audit_record
from answers.models import AnswerEntry, EntryState
from answers.services import library_changed_on_commit
from govcms.actions import Action, Actions

State = EntryState


class EntryAction(Action):
    def lock(self, entry: AnswerEntry) -> AnswerEntry:
        return AnswerEntry.objects.select_for_update().get(pk=entry.pk)

    def scope_refusal(self, user, entry: AnswerEntry) -> str:
        if works_for(user, entry.department_id):
            return ""
        return _("This entry belongs to a department you do not work for.")

    def move(self, user, entry: AnswerEntry, state: str, audit: str, **fields) -> AnswerEntry:
        was_live = entry.state == State.APPROVED
        entry.state = state
        for name, value in fields.items():
            setattr(entry, name, value)
        entry.save(update_fields=["state", *fields, "updated_at"])
        audit_record(actor=user, action=audit, target=entry, detail={"question": entry.question})
        if was_live or state == State.APPROVED:
            library_changed_on_commit()
        return entry


class SubmitEntry(EntryAction):
    code = "submit"
    label = gettext_lazy("Submit for approval")
    permission = "answers.change_answerentry"
    from_states = (State.DRAFT,)
    state_message = gettext_lazy("Only a draft can be submitted for approval; this entry is %(state)s.")

    def check_more(self, user, entry):
        if not (entry.exact_keywords or entry.contained_keywords):
            return _("The entry has no keywords, so no message could ever find it.")
        return ""

    def perform(self, user, entry):
        return self.move(user, entry, State.SUBMITTED, "answers.submit")


class ApproveEntry(EntryAction):
    code = "approve"
    label = gettext_lazy("Approve")
    permission = "answers.approve_answerentry"
    from_states = (State.SUBMITTED,)
    state_message = gettext_lazy("Only an entry waiting for approval can be approved; this entry is %(state)s.")

    def check_more(self, user, entry):
        if user.pk in (entry.created_by_id, entry.updated_by_id):
            return _("You wrote or last edited this entry, so someone else must approve it.")
        return ""

    def perform(self, user, entry):
        return self.move(user, entry, State.APPROVED, "answers.approve", approved_by=user)


class WithdrawEntry(EntryAction):
    """Back to draft: a submitted entry for more work, or an approved one out of the answers at once."""

    code = "withdraw"
    label = gettext_lazy("Withdraw to draft")
    permission = "answers.change_answerentry"
    from_states = (State.SUBMITTED, State.APPROVED)
    state_message = gettext_lazy("This entry is already a draft.")
    confirm = gettext_lazy("Withdraw this entry? It stops answering followers until it is approved again.")

    def perform(self, user, entry):
        return self.move(user, entry, State.DRAFT, "answers.withdraw", approved_by=None)


SUBMIT, APPROVE, WITHDRAW = SubmitEntry(), ApproveEntry(), WithdrawEntry()
ENTRY_ACTIONS = Actions(SUBMIT, APPROVE, WITHDRAW)
