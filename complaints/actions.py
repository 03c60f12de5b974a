"""Every change a person makes to a citizen's message is one action here (DESIGN.md "Actions").

`check(user, case)` says why the change is refused (Chinese, for the person) or "": the permission, the
department (a handler acts only on cases of their department or below; registrars on every department's), the
state of the case and the four-eyes rules. It is the only copy of these rules: the admin's buttons
(`CASE_ACTIONS.available`), the dashboard's "waiting for me" lists, the citizen's rate/reopen forms and the
functions of complaints.services all ask it. `execute(user, case, **params)` locks the case, asks `check` again
and does the change, with its audit entry, in one transaction; a refusal (ActionRefused) changes nothing.
Bad input (an empty reason, no department chosen) is a ValidationError raised before anything is written.

Citizens act without a staff account: their actions (`CITIZEN_ACTIONS`: rate, reopen) take `user=None` with
the case the citizen proved with its query code (the tracking session); staff are refused them.

The state machine (CaseState):
    received -> assigned (route) -> drafting (first draft saved) -> reply_in_review (submit)
    reply_in_review -> drafting (sent back with comments) | replied (approved by someone else: four-eyes)
    replied -> closed (citizen rates it satisfied, or staff close it) | drafting (dissatisfied: reopened once)
    assigned/drafting -> assigned (transfer to another department, with reason)
    assigned/drafting -> received (returned to the registrar: not our business, with reason)
    received/assigned/drafting -> merged (a duplicate of another open case)
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.scoping import department_ids
from accounts.services import audit_record
from complaints import workdays
from complaints.models import (
    OPEN_STATES,
    Case,
    CaseKind,
    CaseState,
    ClockStop,
    DisclosureOutcome,
    Rating,
    ReplyDraft,
)
from complaints.services import (
    CONTENT_MAX,
    SUBJECT_MAX,
    _clean_text,
    _refresh_deadline,
    case_deadline,
    max_extension,
    paused_ranges,
    personal_details_in,
    policy_workdays,
)
from govcms.actions import Action, Actions

State = CaseState
BEING_HANDLED = (State.ASSIGNED, State.DRAFTING)
MERGEABLE = (State.RECEIVED, State.ASSIGNED, State.DRAFTING)


def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Please give a reason."))
    return reason


def current_draft(case: Case) -> ReplyDraft | None:
    """The reply being written or reviewed (one at a time); from prefetched drafts when the page loaded them."""
    return next((d for d in case.drafts.all() if d.state in (ReplyDraft.State.DRAFT, ReplyDraft.State.IN_REVIEW)), None)


def _first(*refusals) -> str:
    """The first refusal of lazily evaluated checks (callables), so later ones may assume the earlier passed."""
    for refusal in refusals:
        text = refusal() if callable(refusal) else refusal
        if text:
            return text
    return ""


class CaseAction(Action):
    """The default `check` (govcms.actions.Action) asks the `permission`, the case's department (`scope_refusal`),
    `from_states` and then `check_more`; the dashboard's lists (`waiting_for`) narrow to `candidates` first."""

    def lock(self, case: Case) -> Case:
        return Case.objects.select_for_update().get(pk=case.pk)

    def scope_refusal(self, user, case) -> str:
        """The case in the user's departments, unless they are a registrar (registrars route and take back cases
        of every department)."""
        if case.department_id is not None and case.department_id in department_ids(user):
            return ""
        return "" if user.has_perm("complaints.register_case") else _("This case belongs to another department.")

    def candidates(self, queryset, user=None):
        """The cases `check` allows to `user`, as far as the database can tell: the states and the departments
        (`scope_refusal`). Actions with more conditions narrow further; `waiting_for` counts these."""
        queryset = super().candidates(queryset, user)
        if user is None:
            return queryset
        if self.permission and not user.has_perm(self.permission):
            return queryset.none()
        if not user.has_perm("complaints.register_case"):
            queryset = queryset.filter(department_id__in=department_ids(user))
        return queryset


# -- routing -------------------------------------------------------------------------------------------------------


class Route(CaseAction):
    code, label = "route", gettext_lazy("Route to a department")
    from_states = (State.RECEIVED,)
    permission = "complaints.register_case"
    state_message = gettext_lazy("Only a newly received case can be routed; this one is %(state)s.")

    def scope_refusal(self, user, case):
        return ""  # a received case has no department yet

    def candidates(self, queryset, user=None):
        if user is not None and not user.has_perm(self.permission):
            return queryset.none()
        return queryset.filter(state__in=self.from_states)

    def perform(self, user, case, *, department=None, note=""):
        if department is None:
            raise ValidationError(_("Please choose a department."))
        case.state, case.department, case.assigned_at = State.ASSIGNED, department, timezone.now()
        case.return_reason = ""
        case.deadline_workdays = policy_workdays(case.kind, department.pk)
        fields = _refresh_deadline(case)
        case.save(update_fields=["state", "department", "assigned_at", "return_reason", "deadline_workdays", *fields])
        audit_record(actor=user, action="case.route", target=case,
                     detail={"department": department.name, "suggested": str(case.suggested_department or ""),
                             "note": note})  # fmt: skip
        return case


class Transfer(CaseAction):
    code, label = "transfer", gettext_lazy("Transfer to another department")
    permission = "complaints.handle_case"
    from_states = BEING_HANDLED
    state_message = gettext_lazy("Only a case being handled can be transferred; this one is %(state)s.")

    def perform(self, user, case, *, department=None, reason=""):
        reason = _reason(reason)
        if department is None or department.pk == case.department_id:
            raise ValidationError(_("Please choose a different department."))
        previous = case.department
        case.state, case.department, case.assigned_at = State.ASSIGNED, department, timezone.now()
        case.deadline_workdays = policy_workdays(case.kind, department.pk)
        fields = _refresh_deadline(case)
        case.save(update_fields=["state", "department", "assigned_at", "deadline_workdays", *fields])
        ReplyDraft.objects.filter(case=case, state__in=[ReplyDraft.State.DRAFT, ReplyDraft.State.IN_REVIEW]).update(
            state=ReplyDraft.State.SENT_BACK, review_comment=_("Transferred to %(department)s.") % {"department": department}
        )  # fmt: skip
        audit_record(actor=user, action="case.transfer", target=case,
                     detail={"from": str(previous), "to": department.name, "reason": reason})  # fmt: skip
        return case


class Return(CaseAction):
    code, label, needs_reason = "return", gettext_lazy("Return to the registrar"), True
    permission = "complaints.handle_case"
    from_states = BEING_HANDLED
    state_message = gettext_lazy("Only a case being handled can be returned; this one is %(state)s.")

    def perform(self, user, case, *, reason=""):
        reason = _reason(reason)
        previous = case.department
        case.state, case.department, case.return_reason = State.RECEIVED, None, reason
        case.save(update_fields=["state", "department", "return_reason"])
        audit_record(actor=user, action="case.return", target=case, detail={"from": str(previous), "reason": reason})
        return case


class Handles(CaseAction):
    """Merge and referral: the department's handler, or the registrar while the case is unrouted."""

    def permission_refusal(self, user, case):
        needed = "complaints.handle_case" if case.department_id else "complaints.register_case"
        if user is None or not user.is_authenticated or not user.has_perm(needed):
            return _("You do not have permission to do this.")
        return self.scope_refusal(user, case)


class Merge(Handles):
    code, label = "merge", gettext_lazy("Merge into another case")
    from_states = MERGEABLE
    state_message = gettext_lazy("This case cannot be merged: it is %(state)s.")

    def perform(self, user, case, *, into=None, reason=""):
        reason = _reason(reason)
        if into is None:
            raise ValidationError(_("There is no case with this number among the cases you can see."))
        if into.pk == case.pk:
            raise ValidationError(_("A case cannot be merged into itself."))
        if into.state == State.MERGED:
            raise ValidationError(_("That case was itself merged into another; merge into that one."))
        if into.department_id and not (
            into.department_id in department_ids(user) or user.has_perm("complaints.register_case")
        ):
            raise PermissionDenied(_("That case belongs to another department."))
        case.state, case.merged_into, case.closed_at = State.MERGED, into, timezone.now()
        case.save(update_fields=["state", "merged_into", "closed_at"])
        audit_record(actor=user, action="case.merge", target=case, detail={"into": into.number, "reason": reason})
        return case


class Refer(Handles):
    """Flag a case about staff conduct for the discipline inspection office (纪委监委); it stays where it is."""

    code, label, needs_reason = "escalate", gettext_lazy("Refer to discipline inspection"), True

    def check_more(self, user, case):
        if case.state == State.MERGED:
            return _("This case was merged into another; refer that one.")
        if case.escalated:
            return _("This case has already been referred to discipline inspection.")
        return ""

    def perform(self, user, case, *, reason=""):
        reason = _reason(reason)
        case.escalated, case.escalation_reason = True, reason
        case.save(update_fields=["escalated", "escalation_reason"])
        audit_record(actor=user, action="case.escalate", target=case, detail={"reason": reason})
        return case


# -- replies -------------------------------------------------------------------------------------------------------


class Reply(CaseAction):
    """Write or rewrite the reply of an assigned case (the first save moves it to drafting)."""

    code, label = "reply", gettext_lazy("Write the reply")
    permission = "complaints.handle_case"
    from_states = BEING_HANDLED
    state_message = gettext_lazy("The reply cannot be edited while the case is %(state)s.")

    def perform(self, user, case, *, body="", outcome="", template=None):
        body = (body or "").strip()
        if not body:
            raise ValidationError(_("The reply is empty."))
        if len(body) > 20000:
            raise ValidationError(_("The reply is too long: at most 20000 characters."))
        if case.kind != CaseKind.DISCLOSURE_REQUEST:
            outcome = ""
        elif outcome not in DisclosureOutcome.values:
            raise ValidationError(
                _("Choose the outcome of the disclosure request (it is counted in the annual report).")
            )
        draft = current_draft(case)
        if draft is None:
            draft = ReplyDraft.objects.create(case=case, body=body, outcome=outcome, template=template, author=user)
        else:
            draft.body, draft.outcome, draft.template, draft.author = body, outcome, template or draft.template, user
            draft.save(update_fields=["body", "outcome", "template", "author"])
        if case.state != State.DRAFTING:
            case.state = State.DRAFTING
            case.save(update_fields=["state"])
        audit_record(actor=user, action="case.reply_save", target=case, detail={"draft": draft.pk})
        return draft


class Submit(CaseAction):
    code, label = "submit", gettext_lazy("Submit the reply for review")
    permission = "complaints.handle_case"
    from_states = (State.DRAFTING,)
    state_message = gettext_lazy("Only a case with a reply being drafted can be submitted; this one is %(state)s.")

    def check_more(self, user, case):
        return "" if current_draft(case) is not None else _("Write the reply first.")

    def perform(self, user, case):
        draft = current_draft(case)
        draft.state, draft.submitted_at = ReplyDraft.State.IN_REVIEW, timezone.now()
        draft.save(update_fields=["state", "submitted_at"])
        case.state = State.REPLY_IN_REVIEW
        case.save(update_fields=["state"])
        audit_record(actor=user, action="case.reply_submit", target=case, detail={"draft": draft.pk})
        return case


def _draft_in_review(case) -> ReplyDraft | None:
    draft = current_draft(case)
    return draft if draft is not None and draft.state == ReplyDraft.State.IN_REVIEW else None


class Review(CaseAction):
    """Approve or send back a reply: an office head of the case's department who did not write it (four-eyes)."""

    from_states = (State.REPLY_IN_REVIEW,)
    permission = "complaints.review_reply"
    state_message = gettext_lazy("There is no reply waiting for review; the case is %(state)s.")

    def check_more(self, user, case):
        return _first(
            lambda: "" if _draft_in_review(case) is not None else _("There is no reply waiting for review."),
            lambda: (
                _("You wrote this reply: someone else must review it.")
                if _draft_in_review(case).author_id == user.pk
                else ""
            ),
        )

    def candidates(self, queryset, user=None):
        """In review, with a reply in review that `user` did not write."""
        queryset = super().candidates(queryset, user)
        in_review = ReplyDraft.objects.filter(case=OuterRef("pk"), state=ReplyDraft.State.IN_REVIEW)
        if user is not None:
            in_review = in_review.exclude(author=user)
        return queryset.filter(Exists(in_review))


class Approve(Review):
    """The reply goes out to the citizen (the tracking page shows it at once); the working days taken and whether
    it was on time are recorded for the statistics."""

    code, label = "approve", gettext_lazy("Approve and send the reply")

    def perform(self, user, case, *, comment=""):
        draft = _draft_in_review(case)
        now = timezone.now()
        draft.state, draft.reviewer, draft.reviewed_at, draft.review_comment = (
            ReplyDraft.State.APPROVED, user, now, (comment or "").strip(),
        )  # fmt: skip
        draft.save(update_fields=["state", "reviewer", "reviewed_at", "review_comment"])
        calendar = workdays.WorkCalendar()
        deadline = case_deadline(case, calendar=calendar)
        taken = calendar.workdays_between(deadline.counted_from, now, paused=paused_ranges(case))
        case.state, case.reply, case.outcome, case.replied_at = State.REPLIED, draft.body, draft.outcome, now
        case.replied_workdays = max(taken, 0)
        case.replied_on_time = now.astimezone(workdays.SHANGHAI).date() <= deadline.due
        case.due_date, case.due_provisional = deadline.due, deadline.provisional
        if case.clock_stopped_since is not None:
            ClockStop.objects.filter(case=case, ended_on=None).update(ended_on=workdays.shanghai_today())
            case.clock_stopped_since = None
        case.save(update_fields=["state", "reply", "outcome", "replied_at", "replied_workdays", "replied_on_time",
                                 "due_date", "due_provisional", "clock_stopped_since"])  # fmt: skip
        audit_record(actor=user, action="case.reply_approve", target=case,
                     detail={"draft": draft.pk, "on_time": case.replied_on_time})  # fmt: skip
        return case


class SendBack(Review):
    code, label, needs_reason = "send_back", gettext_lazy("Send the reply back"), True

    def perform(self, user, case, *, reason=""):
        comment = _reason(reason)
        draft = _draft_in_review(case)
        draft.state, draft.reviewer, draft.reviewed_at, draft.review_comment = (
            ReplyDraft.State.DRAFT, user, timezone.now(), comment,
        )  # fmt: skip
        draft.save(update_fields=["state", "reviewer", "reviewed_at", "review_comment"])
        case.state = State.DRAFTING
        case.save(update_fields=["state"])
        audit_record(actor=user, action="case.reply_send_back", target=case, detail={"comment": comment})
        return case


class Close(CaseAction):
    """Staff close a replied case (the citizen did not rate it, or rated it and nothing is left to do)."""

    code, label = "close", gettext_lazy("Close the case")
    permission = "complaints.handle_case"
    from_states = (State.REPLIED,)
    state_message = gettext_lazy("Only a replied case can be closed; this one is %(state)s.")

    def perform(self, user, case):
        case.state, case.closed_at = State.CLOSED, timezone.now()
        case.save(update_fields=["state", "closed_at"])
        audit_record(actor=user, action="case.close", target=case)
        return case


# -- deadlines: extension and clock stops --------------------------------------------------------------------------


class ExtensionRequest(CaseAction):
    """The handler asks for more time, once per case, with a reason; it counts only once approved."""

    code, label = "extension_request", gettext_lazy("Request an extension")
    permission = "complaints.handle_case"
    from_states = OPEN_STATES
    state_message = gettext_lazy("The deadline of a %(state)s case cannot be extended.")

    def check_more(self, user, case):
        if case.extension_workdays or case.extension_requested_workdays:
            return _("The deadline can be extended only once.")
        return ""

    def perform(self, user, case, *, workdays_requested=0, reason=""):
        reason = _reason(reason)
        limit = max_extension(case)
        if not 1 <= int(workdays_requested or 0) <= limit:
            raise ValidationError(_("An extension is 1 to %(max)s working days.") % {"max": limit})
        case.extension_requested_workdays, case.extension_reason = int(workdays_requested), reason
        case.extension_requested_by, case.extension_requested_at = user, timezone.now()
        case.save(update_fields=["extension_requested_workdays", "extension_reason", "extension_requested_by",
                                 "extension_requested_at"])  # fmt: skip
        audit_record(actor=user, action="case.extension_request", target=case,
                     detail={"workdays": int(workdays_requested), "reason": reason})  # fmt: skip
        return case


class ExtensionDecision(CaseAction):
    """Someone other than the requester approves (the due date moves) or refuses the extension of an open case."""

    from_states = OPEN_STATES
    permission = "complaints.approve_extension"
    state_message = gettext_lazy("The deadline of a %(state)s case cannot be extended.")
    approve = True

    def check(self, user, case):
        # "Nothing requested" is said before the state: a closed case with no request has nothing to approve.
        return _first(
            self.permission_refusal(user, case),
            lambda: "" if case.extension_requested_workdays else _("No extension is waiting for approval."),
            lambda: self.state_refusal(case),
            lambda: (
                _("You asked for this extension: someone else must approve it.")
                if case.extension_requested_by_id == user.pk
                else ""
            ),
        )

    def candidates(self, queryset, user=None):
        queryset = super().candidates(queryset, user).filter(extension_requested_workdays__gt=0)
        return queryset.exclude(extension_requested_by=user) if user is not None else queryset

    def perform(self, user, case, *, reason=""):
        requested = case.extension_requested_workdays
        case.extension_requested_workdays = 0
        fields = ["extension_requested_workdays"]
        if self.approve:
            case.extension_workdays, case.extension_approved_by = requested, user
            case.extension_approved_at = timezone.now()
            fields += ["extension_workdays", "extension_approved_by", "extension_approved_at", *_refresh_deadline(case)]
        else:
            case.extension_requested_by, case.extension_requested_at = None, None
            fields += ["extension_requested_by", "extension_requested_at"]
        case.save(update_fields=fields)
        audit_record(actor=user, action="case.extension_approve" if self.approve else "case.extension_refuse",
                     target=case, detail={"workdays": requested, "comment": reason or "", "due": case.due_date})  # fmt: skip
        return case


class ExtensionApprove(ExtensionDecision):
    code, label = "extension_approve", gettext_lazy("Approve the extension")


class ExtensionRefuse(ExtensionDecision):
    code, label, needs_reason, approve = "extension_refuse", gettext_lazy("Refuse the extension"), True, False


class ClockStopAction(CaseAction):
    """Stop a disclosure request's clock while waiting for the applicant's correction or a third party."""

    code, label = "clock_stop", gettext_lazy("Stop the clock")
    permission = "complaints.handle_case"
    from_states = OPEN_STATES
    state_message = gettext_lazy("The clock of a %(state)s case cannot be stopped.")

    def check_more(self, user, case):
        if case.kind != CaseKind.DISCLOSURE_REQUEST:
            return _("Only a disclosure request's clock can be stopped.")
        return _("The clock is already stopped.") if case.clock_stopped_since is not None else ""

    def perform(self, user, case, *, reason="", note=""):
        if reason not in ClockStop.Reason.values:
            raise ValidationError(_("Please choose why the clock stops."))
        today = workdays.shanghai_today()
        stop = ClockStop.objects.create(case=case, reason=reason, note=(note or "").strip(), started_on=today,
                                        started_by=user)  # fmt: skip
        case.clock_stopped_since = today
        case.save(update_fields=["clock_stopped_since", *_refresh_deadline(case)])
        audit_record(actor=user, action="case.clock_stop", target=case, detail={"reason": reason, "note": note})
        return stop


class ClockResume(CaseAction):
    """The correction or opinion arrived: the clock runs again from tomorrow (the day of arrival is paused)."""

    code, label = "clock_resume", gettext_lazy("Resume the clock")
    permission = "complaints.handle_case"

    def check_more(self, user, case):
        return "" if case.clock_stopped_since is not None else _("The clock is not stopped.")

    def perform(self, user, case):
        ClockStop.objects.filter(case=case, ended_on=None).update(ended_on=workdays.shanghai_today())
        case.clock_stopped_since = None
        case.save(update_fields=["clock_stopped_since", *_refresh_deadline(case)])
        audit_record(actor=user, action="case.clock_resume", target=case, detail={"due": case.due_date})
        return case


# -- publication ---------------------------------------------------------------------------------------------------


class Publish(CaseAction):
    """Put a replied case on the public 问政 list with text the reviewer has redacted. Refused when the citizen
    did not allow it; the texts are refused while they hold a phone number, an identity number or the name."""

    code, label = "publish", gettext_lazy("Publish on the public list")
    confirm = gettext_lazy("Publish this case with the texts below on the public list?")
    permission = "complaints.review_reply"
    from_states = (State.REPLIED, State.CLOSED)
    state_message = gettext_lazy("Only a replied case can be published; this one is %(state)s.")

    def check_more(self, user, case):
        return "" if case.allow_publish else _("The citizen did not allow this message to be published.")

    def perform(self, user, case, *, subject="", question="", answer=""):
        texts = {}
        for key, value, label, limit in (
            ("subject", subject, _("subject"), SUBJECT_MAX),
            ("question", question, _("question"), CONTENT_MAX),
            ("answer", answer, _("answer"), 20000),
        ):
            texts[key] = _clean_text(value, label=label, max_length=limit)
            if personal_details_in(texts[key], name=case.name):
                raise ValidationError(
                    _("The %(field)s still contains a phone number, an identity number or the citizen's name.")
                    % {"field": label}
                )
        first = not case.published
        case.published, case.public_subject = True, texts["subject"]
        case.public_question, case.public_answer = texts["question"], texts["answer"]
        case.published_at = case.published_at if not first else timezone.now()
        case.save(update_fields=["published", "public_subject", "public_question", "public_answer", "published_at"])
        audit_record(actor=user, action="case.publish", target=case)
        return case


class Unpublish(CaseAction):
    code, label, needs_reason = "unpublish", gettext_lazy("Remove from the public list"), True
    confirm = gettext_lazy("Take this case off the public list? The public will no longer see it.")
    permission = "complaints.review_reply"

    def check_more(self, user, case):
        return "" if case.published else _("This case is not on the public list.")

    def perform(self, user, case, *, reason=""):
        reason = _reason(reason)
        case.published = False
        case.save(update_fields=["published"])
        audit_record(actor=user, action="case.unpublish", target=case, detail={"reason": reason})
        return case


# -- the citizen's side: user is None, the case is the one the citizen tracked with its query code ------------------


class CitizenAction(CaseAction):
    def permission_refusal(self, user, case):
        return "" if user is None else _("Only the citizen who wrote the message can do this, on the tracking page.")


def _rated_this_reply(case) -> bool:
    return case.rated_at is not None and case.replied_at is not None and case.rated_at >= case.replied_at


class Rate(CitizenAction):
    """The citizen rates the reply (once per reply). A satisfied rating closes the case; a dissatisfied one leaves
    it replied so that the citizen may reopen it (once)."""

    code, label = "rate", gettext_lazy("Rate the reply")
    from_states = (State.REPLIED,)
    state_message = gettext_lazy("This case cannot be rated now: it is %(state)s.")

    def check_more(self, user, case):
        return _("You have already rated this reply.") if _rated_this_reply(case) else ""

    def perform(self, user, case, *, rating="", comment=""):
        if rating not in Rating.values:
            raise ValidationError(_("Please choose how satisfied you are."))
        comment = _clean_text(comment, label=_("comment"), max_length=1000, required=False)
        case.rating, case.rating_comment, case.rated_at = rating, comment, timezone.now()
        fields = ["rating", "rating_comment", "rated_at"]
        if rating != Rating.DISSATISFIED:
            case.state, case.closed_at = State.CLOSED, timezone.now()
            fields += ["state", "closed_at"]
        case.save(update_fields=fields)
        audit_record(actor=None, action="case.rate", target=case, detail={"rating": rating})
        return case


class Reopen(CitizenAction):
    """A dissatisfied citizen asks again: the case goes back to its department, once. Its deadline counts anew
    from today with the same number of working days."""

    code, label = "reopen", gettext_lazy("Reopen the case")
    from_states = (State.REPLIED,)
    state_message = gettext_lazy("This case cannot be reopened: it is %(state)s.")

    def check_more(self, user, case):
        if not (_rated_this_reply(case) and case.rating == Rating.DISSATISFIED):
            return _("Only a reply you rated as dissatisfied can be reopened.")
        return _("This case has already been reopened once.") if case.reopened_count >= 1 else ""

    def perform(self, user, case, *, reason=""):
        reason = _clean_text(reason, label=_("reason"), max_length=1000)
        now = timezone.now()
        case.state, case.reopened_count, case.reopened_at = State.DRAFTING, case.reopened_count + 1, now
        case.replied_at = case.replied_on_time = case.replied_workdays = None
        case.extension_workdays = 0
        fields = _refresh_deadline(case)
        case.save(update_fields=["state", "reopened_count", "reopened_at", "replied_at", "replied_on_time",
                                 "replied_workdays", "extension_workdays", *fields])  # fmt: skip
        audit_record(actor=None, action="case.reopen", target=case, detail={"reason": reason})
        return case


ROUTE, TRANSFER, RETURN, MERGE, REFER = Route(), Transfer(), Return(), Merge(), Refer()
REPLY, SUBMIT, APPROVE, SEND_BACK = Reply(), Submit(), Approve(), SendBack()
EXTENSION_REQUEST, EXTENSION_APPROVE, EXTENSION_REFUSE = ExtensionRequest(), ExtensionApprove(), ExtensionRefuse()
CLOCK_STOP, CLOCK_RESUME, CLOSE = ClockStopAction(), ClockResume(), Close()
PUBLISH, UNPUBLISH = Publish(), Unpublish()
RATE, REOPEN = Rate(), Reopen()

# Staff's buttons on the case page, in this order.
CASE_ACTIONS = Actions(
    ROUTE, TRANSFER, RETURN, MERGE, REFER, REPLY, SUBMIT, APPROVE, SEND_BACK, EXTENSION_REQUEST, EXTENSION_APPROVE,
    EXTENSION_REFUSE, CLOCK_STOP, CLOCK_RESUME, CLOSE, PUBLISH, UNPUBLISH,
)  # fmt: skip
# The citizen's, on the tracking page (user=None).
CITIZEN_ACTIONS = Actions(RATE, REOPEN)


def waiting_for(user, action: CaseAction, queryset: QuerySet, *, first: int) -> tuple[int, list[Case]]:
    """How many cases of `queryset` `user` may take `action` on now, and the first `first` of them (in the
    queryset's order): the dashboard's "waiting for me" lists. The database counts the action's `candidates`
    (the same rule as its `check`, tests/complaints/test_admin_dashboard.py holds them equal), so a registrar's
    thousands of received messages are counted, not read; the cases shown are asked `check` once more."""
    if action.permission and not user.has_perm(action.permission):
        return 0, []
    candidates = action.candidates(queryset, user)
    count = candidates.count()
    if not count:
        return 0, []
    shown = candidates.prefetch_related("drafts")[:first]
    return count, [case for case in shown if action.allowed(user, case)]
