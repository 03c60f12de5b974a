"""Citizens' messages from receipt to closing: every change of a case is one of these functions.

Each is one transaction, one permission check (plus the department check: a handler acts only on cases of
their own department or below), one audit entry. Failures raise `PermissionDenied` or `ValidationError`
with a message for the person; nothing is half done.

The state machine (CaseState):
    received -> assigned (route) -> drafting (first draft saved) -> reply_in_review (submit)
    reply_in_review -> drafting (sent back with comments) | replied (approved by someone else: four-eyes)
    replied -> closed (citizen rates it satisfied, or staff close it) | drafting (dissatisfied: reopened once)
    assigned/drafting -> assigned (transfer to another department, with reason)
    assigned/drafting -> received (returned to the registrar: not our business, with reason)
    received/assigned/drafting -> merged (a duplicate of another open case)
"""

import hmac
import re
import secrets
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.crypto import keyed_hash
from accounts.identity import is_valid_id_number, is_valid_mobile
from accounts.scoping import require_permission, works_for
from accounts.services import audit_record
from complaints import workdays
from complaints.models import (
    OPEN_STATES,
    ApplicantKind,
    Attachment,
    Case,
    CaseChannel,
    CaseKind,
    CaseState,
    ClockStop,
    DeadlinePolicy,
    DisclosureOutcome,
    Rating,
    ReplyDraft,
    RoutingRule,
)

State = CaseState
QUERY_CODE_PURPOSE = "complaint-query-code"
PHONE_PURPOSE = "complaint-phone"
ID_PURPOSE = "complaint-id"
# No 0/O, 1/I/L or U: a citizen reads these aloud over the phone and types them on a phone keyboard.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
QUERY_CODE_LENGTH = 8  # 30**8, about 6.6e11: with tracking rate-limited, not guessable
DEFAULT_WORKDAYS = {kind: 5 for kind in CaseKind.values} | {CaseKind.DISCLOSURE_REQUEST: 20}
MAX_EXTENSION_DISCLOSURE = 20  # 政府信息公开条例 art. 33: extended once, by at most 20 working days
SUBJECT_MAX, CONTENT_MAX, NAME_MAX = 100, 5000, 50
# Markup in a citizen's text is refused rather than silently stripped: the citizen sees what is wrong and
# fixes it, and staff never receive text that differs from what was sent.
MARKUP = re.compile(r"<\s*/?\s*[a-zA-Z!?]|javascript\s*:|\bon[a-z]+\s*=", re.IGNORECASE)
PHONE_IN_TEXT = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)|(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)")
ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])|(?<!\d)\d{15}(?!\d)")


def new_code(length: int) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def new_case_number(received: date) -> str:
    """Year + 8 random characters, e.g. 2026-7K3M9QXD: reveals neither how many cases there are nor which came
    before; the year helps people tell old numbers from new ones."""
    while True:
        number = f"{received.year}-{new_code(8)}"
        if not Case.objects.filter(number=number).exists():
            return number


def query_code_hash(code: str) -> str:
    return keyed_hash(code.strip().upper(), purpose=QUERY_CODE_PURPOSE)


def phone_hash(phone: str) -> str:
    return keyed_hash(phone.strip(), purpose=PHONE_PURPOSE)


def identity_hash(id_number: str) -> str:
    return keyed_hash(id_number.strip().upper(), purpose=ID_PURPOSE)


def normalise_phone(phone: str) -> str:
    """What citizens type (138 1234 5678, 138-1234-5678) as the 11 digits stored and hashed."""
    return re.sub(r"[\s-]", "", phone or "")


def query_code_matches(case: Case, code: str) -> bool:
    return hmac.compare_digest(case.query_code_hash, query_code_hash(code or ""))


def _require(actor, perm: str, case: Case) -> None:
    require_permission(actor, perm)
    if case.department_id is None or not works_for(actor, case.department_id):
        # Registrars route and take back cases of every department.
        if not actor.has_perm("complaints.register_case"):
            raise PermissionDenied(_("This case belongs to another department."))


def _locked(case: Case) -> Case:
    return Case.objects.select_for_update().get(pk=case.pk)


def _move(case: Case, allowed: tuple, message: str) -> None:
    """The state machine's one gate: refuse a move from any state not in `allowed`."""
    if case.state not in allowed:
        raise ValidationError(message % {"state": case.get_state_display()})


def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Please give a reason."))
    return reason


# -- deadlines ---------------------------------------------------------------------------------------------------


def policy_workdays(kind: str, department_id: int | None) -> int:
    """Working days to reply: the department's own rule, else the default rule of the type, else the law's."""
    rules = {
        rule.department_id: rule.workdays
        for rule in DeadlinePolicy.objects.filter(Q(department_id=department_id) | Q(department=None), kind=kind)
    }
    if department_id in rules:
        return rules[department_id]
    return rules.get(None, DEFAULT_WORKDAYS[kind])


def paused_ranges(case: Case, *, today: date | None = None) -> list[tuple[date, date]]:
    """The case's clock stops as inclusive date ranges; a stop still running counts up to today."""
    today = today or workdays.shanghai_today()
    return [(stop.started_on, stop.ended_on or today) for stop in case.clock_stops.all()]


def case_deadline(case: Case, *, calendar: workdays.WorkCalendar | None = None) -> workdays.Deadline:
    """The due date and how it was computed: base working days + an approved extension, minus clock stops."""
    calendar = calendar or workdays.WorkCalendar()
    paused = paused_ranges(case) if case.pk else []
    return calendar.add_workdays(
        case.reopened_at or case.received_at, case.deadline_workdays + case.extension_workdays, paused=paused
    )


def _refresh_deadline(case: Case) -> list[str]:
    deadline = case_deadline(case)
    case.due_date, case.due_provisional = deadline.due, deadline.provisional
    return ["due_date", "due_provisional"]


# -- intake ------------------------------------------------------------------------------------------------------


def _clean_text(value: str, *, label: str, max_length: int, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError(_("Please fill in the %(field)s.") % {"field": label})
    if len(value) > max_length:
        raise ValidationError(
            _("The %(field)s is too long: at most %(max)s characters, it has %(count)s.")
            % {"field": label, "max": max_length, "count": len(value)}
        )
    if MARKUP.search(value):
        raise ValidationError(
            _("The %(field)s must not contain web page code (HTML tags or scripts). Please write plain text.")
            % {"field": label}
        )
    return value


def suggest_department(*, kind: str, subject: str, content: str, category=None):
    """The department of the first active routing rule that matches, or None."""
    text = f"{subject}\n{content}"
    rules = RoutingRule.objects.filter(is_active=True).select_related("department").order_by("priority", "id")
    for rule in rules:
        if rule.category_id is not None and rule.category_id != getattr(category, "pk", None):
            continue
        if rule.kind and rule.kind != kind:
            continue
        keywords = [word for word in re.split(r"[\s,，、;；]+", rule.keywords) if word]
        if keywords and not any(word in text for word in keywords):
            continue
        if rule.category_id is None and not keywords and not rule.kind:
            continue  # an empty rule would swallow everything
        return rule.department
    return None


def validate_case_fields(*, kind, subject, content, name, phone, id_number, applicant_kind, channel,
                         organisation="") -> dict:  # fmt: skip
    """The checks of case_create, usable by forms before files are stored. Returns the cleaned values."""
    problems = []
    cleaned = {}
    if kind not in CaseKind.values:
        problems.append(_("Please choose the type of your message."))
    if channel not in CaseChannel.values:
        problems.append(_("Unknown channel."))
    if applicant_kind not in ApplicantKind.values:
        problems.append(_("Please choose who is applying."))
    for key, value, label, limit, required in (
        ("subject", subject, _("subject"), SUBJECT_MAX, True),
        ("content", content, _("content"), CONTENT_MAX, True),
        ("name", name, _("name"), NAME_MAX, True),
        ("organisation", organisation, _("organisation"), 100, False),
    ):
        try:
            cleaned[key] = _clean_text(value, label=label, max_length=limit, required=required)
        except ValidationError as error:
            problems.extend(error.messages)
    phone = normalise_phone(phone)
    if phone and not is_valid_mobile(phone):
        problems.append(_("The mobile number must be 11 digits starting with 1, e.g. 13812345678."))
    elif not phone and channel in (CaseChannel.WEB, CaseChannel.PHONE):
        problems.append(_("Please fill in a mobile number so that we can contact you."))
    id_number = (id_number or "").strip().upper()
    if id_number and not is_valid_id_number(id_number):
        problems.append(
            _("The identity number is not valid: 18 characters, the last a digit or X, check digit correct.")
        )
    if problems:
        raise ValidationError(problems)
    return {**cleaned, "kind": kind, "phone": phone, "id_number": id_number, "applicant_kind": applicant_kind,
            "channel": channel}  # fmt: skip


def case_create(*, kind: str, subject: str, content: str, name: str, phone: str = "", id_number: str = "",
                applicant_kind: str = ApplicantKind.NATURAL_PERSON, organisation: str = "",
                allow_publish: bool = False, channel: str = CaseChannel.WEB, category=None, actor=None,
                wechat_openid: str = "", received_at=None, attachments=()) -> tuple[Case, str]:  # fmt: skip
    """Register a citizen's message. Returns the case and its query code, which exists nowhere else afterwards:
    show it to the citizen once (web form, WeChat reply, or the registrar reads it out).

    `actor` is None for the public form and WeChat; staff registering a counter visit, call or letter need the
    register_case permission. `attachments` are `(CheckedFile, uploaded_file)` pairs already checked by
    complaints.attachments; they are stored after the case row exists and removed again if the transaction
    fails. Raises ValidationError listing every problem of the input.
    """
    from complaints import attachments as attachment_files

    if actor is not None:
        require_permission(actor, "complaints.register_case")
    elif channel not in (CaseChannel.WEB, CaseChannel.WECHAT):
        raise PermissionDenied(_("Only staff can register messages from this channel."))
    values = validate_case_fields(kind=kind, subject=subject, content=content, name=name, phone=phone,
                                  id_number=id_number, applicant_kind=applicant_kind, channel=channel,
                                  organisation=organisation)  # fmt: skip
    received_at = received_at or timezone.now()
    code = new_code(QUERY_CODE_LENGTH)
    stored_paths = []
    try:
        with transaction.atomic():
            case = Case(
                number=new_case_number(received_at.astimezone(workdays.SHANGHAI).date()),
                query_code_hash=query_code_hash(code),
                allow_publish=bool(allow_publish),
                category=category,
                wechat_openid=wechat_openid,
                registered_by=actor,
                received_at=received_at,
                phone_hash=phone_hash(values["phone"]) if values["phone"] else "",
                id_hash=identity_hash(values["id_number"]) if values["id_number"] else "",
                **values,
            )
            case.suggested_department = suggest_department(
                kind=kind, subject=case.subject, content=case.content, category=category
            )
            case.deadline_workdays = policy_workdays(kind, None)
            _refresh_deadline(case)
            case.save()
            for checked, uploaded in attachments:
                path = attachment_files.store_attachment(checked, uploaded)
                stored_paths.append(path)
                Attachment.objects.create(
                    case=case, path=path, original_name=checked.original_name, content_type=checked.content_type,
                    size=checked.size, sha256=checked.sha256,
                )  # fmt: skip
            audit_record(
                actor=actor,
                action="case.create",
                target=case,
                detail={"channel": channel, "kind": kind, "attachments": len(stored_paths)},
            )
    except BaseException:
        for path in stored_paths:
            attachment_files.delete_attachment(path)
        raise
    return case, code


def case_find_for_citizen(*, number: str, code: str) -> Case | None:
    """The case with this number and query code, or None: a wrong code and an unknown number look the same."""
    case = Case.objects.filter(number=(number or "").strip().upper()).first()
    if case is None or not query_code_matches(case, code):
        return None
    return case


# -- routing -----------------------------------------------------------------------------------------------------


def case_route(*, actor, case: Case, department, note: str = "") -> Case:
    """The registrar sends a received case to a department (the suggested one or another)."""
    require_permission(actor, "complaints.register_case")
    with transaction.atomic():
        case = _locked(case)
        _move(case, (State.RECEIVED,), _("Only a newly received case can be routed; this one is %(state)s."))
        if department is None:
            raise ValidationError(_("Please choose a department."))
        case.state, case.department, case.assigned_at = State.ASSIGNED, department, timezone.now()
        case.return_reason = ""
        case.deadline_workdays = policy_workdays(case.kind, department.pk)
        fields = _refresh_deadline(case)
        case.save(update_fields=["state", "department", "assigned_at", "return_reason", "deadline_workdays", *fields])
        audit_record(
            actor=actor,
            action="case.route",
            target=case,
            detail={"department": department.name, "suggested": str(case.suggested_department or ""), "note": note},
        )
    return case


def case_transfer(*, actor, case: Case, department, reason: str) -> Case:
    """Hand a case to another department (with reason); its deadline keeps counting from receipt."""
    reason = _reason(reason)
    with transaction.atomic():
        case = _locked(case)
        _require(actor, "complaints.handle_case", case)
        _move(case, (State.ASSIGNED, State.DRAFTING), _("Only a case being handled can be transferred; this one is %(state)s."))  # fmt: skip
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
        audit_record(actor=actor, action="case.transfer", target=case,
                     detail={"from": str(previous), "to": department.name, "reason": reason})  # fmt: skip
    return case


def case_return(*, actor, case: Case, reason: str) -> Case:
    """Give a case back to the registrar: not this department's business (with reason)."""
    reason = _reason(reason)
    with transaction.atomic():
        case = _locked(case)
        _require(actor, "complaints.handle_case", case)
        _move(case, (State.ASSIGNED, State.DRAFTING), _("Only a case being handled can be returned; this one is %(state)s."))  # fmt: skip
        previous = case.department
        case.state, case.department, case.return_reason = State.RECEIVED, None, reason
        case.save(update_fields=["state", "department", "return_reason"])
        audit_record(actor=actor, action="case.return", target=case, detail={"from": str(previous), "reason": reason})
    return case


def case_merge(*, actor, case: Case, into: Case, reason: str) -> Case:
    """Close a duplicate by merging it into another open case; the citizen's tracking page points there."""
    reason = _reason(reason)
    with transaction.atomic():
        case = _locked(case)
        _require(actor, "complaints.handle_case" if case.department_id else "complaints.register_case", case)
        _move(case, (State.RECEIVED, State.ASSIGNED, State.DRAFTING), _("This case cannot be merged: it is %(state)s."))
        if into.pk == case.pk:
            raise ValidationError(_("A case cannot be merged into itself."))
        if into.state == State.MERGED:
            raise ValidationError(_("That case was itself merged into another; merge into that one."))
        if into.department_id and not (
            works_for(actor, into.department_id) or actor.has_perm("complaints.register_case")
        ):
            raise PermissionDenied(_("That case belongs to another department."))
        case.state, case.merged_into, case.closed_at = State.MERGED, into, timezone.now()
        case.save(update_fields=["state", "merged_into", "closed_at"])
        audit_record(actor=actor, action="case.merge", target=case, detail={"into": into.number, "reason": reason})
    return case


def case_escalate(*, actor, case: Case, reason: str) -> Case:
    """Flag a case about staff conduct for the discipline inspection office (纪委监委); it stays where it is."""
    reason = _reason(reason)
    with transaction.atomic():
        case = _locked(case)
        _require(actor, "complaints.handle_case" if case.department_id else "complaints.register_case", case)
        if case.escalated:
            raise ValidationError(_("This case has already been referred to discipline inspection."))
        case.escalated, case.escalation_reason = True, reason
        case.save(update_fields=["escalated", "escalation_reason"])
        audit_record(actor=actor, action="case.escalate", target=case, detail={"reason": reason})
    return case


# -- replies -----------------------------------------------------------------------------------------------------


def _current_draft(case: Case) -> ReplyDraft | None:
    return case.drafts.filter(state__in=[ReplyDraft.State.DRAFT, ReplyDraft.State.IN_REVIEW]).first()


def reply_save(*, actor, case: Case, body: str, outcome: str = "", template=None) -> ReplyDraft:
    """Write or rewrite the reply of an assigned case (the first save moves it to drafting)."""
    body = (body or "").strip()
    if not body:
        raise ValidationError(_("The reply is empty."))
    if len(body) > 20000:
        raise ValidationError(_("The reply is too long: at most 20000 characters."))
    if case.kind == CaseKind.DISCLOSURE_REQUEST and outcome not in DisclosureOutcome.values:
        raise ValidationError(_("Choose the outcome of the disclosure request (it is counted in the annual report)."))
    if case.kind != CaseKind.DISCLOSURE_REQUEST:
        outcome = ""
    with transaction.atomic():
        case = _locked(case)
        _require(actor, "complaints.handle_case", case)
        _move(case, (State.ASSIGNED, State.DRAFTING), _("The reply cannot be edited while the case is %(state)s."))
        draft = _current_draft(case)
        if draft is None:
            draft = ReplyDraft.objects.create(case=case, body=body, outcome=outcome, template=template, author=actor)
        else:
            draft.body, draft.outcome, draft.template, draft.author = body, outcome, template or draft.template, actor
            draft.save(update_fields=["body", "outcome", "template", "author"])
        if case.state != State.DRAFTING:
            case.state = State.DRAFTING
            case.save(update_fields=["state"])
        audit_record(actor=actor, action="case.reply_save", target=case, detail={"draft": draft.pk})
    return draft


def reply_submit(*, actor, case: Case) -> Case:
    """Send the draft to the office head for review."""
    with transaction.atomic():
        case = _locked(case)
        _require(actor, "complaints.handle_case", case)
        _move(case, (State.DRAFTING,), _("Only a case with a reply being drafted can be submitted; this one is %(state)s."))  # fmt: skip
        draft = _current_draft(case)
        if draft is None:
            raise ValidationError(_("Write the reply first."))
        draft.state, draft.submitted_at = ReplyDraft.State.IN_REVIEW, timezone.now()
        draft.save(update_fields=["state", "submitted_at"])
        case.state = State.REPLY_IN_REVIEW
        case.save(update_fields=["state"])
        audit_record(actor=actor, action="case.reply_submit", target=case, detail={"draft": draft.pk})
    return case


def _reviewable(actor, case: Case) -> ReplyDraft:
    _require(actor, "complaints.review_reply", case)
    _move(case, (State.REPLY_IN_REVIEW,), _("There is no reply waiting for review; the case is %(state)s."))
    draft = case.drafts.filter(state=ReplyDraft.State.IN_REVIEW).first()
    if draft is None:
        raise ValidationError(_("There is no reply waiting for review."))
    if draft.author_id == actor.pk:
        raise PermissionDenied(_("You wrote this reply: someone else must review it."))
    return draft


def reply_send_back(*, actor, case: Case, comment: str) -> Case:
    """The office head returns the draft with comments; the handler revises it."""
    comment = _reason(comment)
    with transaction.atomic():
        case = _locked(case)
        draft = _reviewable(actor, case)
        draft.state, draft.reviewer, draft.reviewed_at, draft.review_comment = (
            ReplyDraft.State.DRAFT, actor, timezone.now(), comment,
        )  # fmt: skip
        draft.save(update_fields=["state", "reviewer", "reviewed_at", "review_comment"])
        case.state = State.DRAFTING
        case.save(update_fields=["state"])
        audit_record(actor=actor, action="case.reply_send_back", target=case, detail={"comment": comment})
    return case


def reply_approve(*, actor, case: Case, comment: str = "") -> Case:
    """The office head approves the reply: it goes out to the citizen (the tracking page shows it at once), and
    the working days taken and whether it was on time are recorded for the statistics."""
    with transaction.atomic():
        case = _locked(case)
        draft = _reviewable(actor, case)
        now = timezone.now()
        draft.state, draft.reviewer, draft.reviewed_at, draft.review_comment = (
            ReplyDraft.State.APPROVED, actor, now, (comment or "").strip(),
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
        audit_record(actor=actor, action="case.reply_approve", target=case,
                     detail={"draft": draft.pk, "on_time": case.replied_on_time})  # fmt: skip
    return case


def case_close(*, actor, case: Case) -> Case:
    """Staff close a replied case (the citizen did not rate it, or rated it and nothing is left to do)."""
    with transaction.atomic():
        case = _locked(case)
        _require(actor, "complaints.handle_case", case)
        _move(case, (State.REPLIED,), _("Only a replied case can be closed; this one is %(state)s."))
        case.state, case.closed_at = State.CLOSED, timezone.now()
        case.save(update_fields=["state", "closed_at"])
        audit_record(actor=actor, action="case.close", target=case)
    return case


# -- the citizen's side ------------------------------------------------------------------------------------------


def case_rate(*, case: Case, rating: str, comment: str = "") -> Case:
    """The citizen rates the reply (once per reply). A satisfied rating closes the case; a dissatisfied one leaves
    it replied so that the citizen may reopen it (once)."""
    if rating not in Rating.values:
        raise ValidationError(_("Please choose how satisfied you are."))
    comment = _clean_text(comment, label=_("comment"), max_length=1000, required=False)
    with transaction.atomic():
        case = _locked(case)
        _move(case, (State.REPLIED,), _("This case cannot be rated now: it is %(state)s."))
        if case.rated_at is not None and case.rated_at >= case.replied_at:
            raise ValidationError(_("You have already rated this reply."))
        case.rating, case.rating_comment, case.rated_at = rating, comment, timezone.now()
        fields = ["rating", "rating_comment", "rated_at"]
        if rating != Rating.DISSATISFIED:
            case.state, case.closed_at = State.CLOSED, timezone.now()
            fields += ["state", "closed_at"]
        case.save(update_fields=fields)
        audit_record(actor=None, action="case.rate", target=case, detail={"rating": rating})
    return case


def case_reopen(*, case: Case, reason: str) -> Case:
    """A dissatisfied citizen asks again: the case goes back to its department, once. Its deadline counts anew
    from today with the same number of working days."""
    reason = _clean_text(reason, label=_("reason"), max_length=1000)
    with transaction.atomic():
        case = _locked(case)
        _move(case, (State.REPLIED,), _("This case cannot be reopened: it is %(state)s."))
        if case.rating != Rating.DISSATISFIED:
            raise ValidationError(_("Only a reply you rated as dissatisfied can be reopened."))
        if case.reopened_count >= 1:
            raise ValidationError(_("This case has already been reopened once."))
        now = timezone.now()
        case.state, case.reopened_count, case.reopened_at = State.DRAFTING, case.reopened_count + 1, now
        case.replied_at = case.replied_on_time = case.replied_workdays = None
        case.extension_workdays = 0
        fields = _refresh_deadline(case)
        case.save(update_fields=["state", "reopened_count", "reopened_at", "replied_at", "replied_on_time",
                                 "replied_workdays", "extension_workdays", *fields])  # fmt: skip
        audit_record(actor=None, action="case.reopen", target=case, detail={"reason": reason})
    return case


# -- deadlines: extension and clock stops -----------------------------------------------------------------------


def max_extension(case: Case) -> int:
    return MAX_EXTENSION_DISCLOSURE if case.kind == CaseKind.DISCLOSURE_REQUEST else case.deadline_workdays


def extension_request(*, actor, case: Case, workdays_requested: int, reason: str) -> Case:
    """The handler asks for more time, once per case, with a reason; it counts only once approved."""
    reason = _reason(reason)
    with transaction.atomic():
        case = _locked(case)
        _require(actor, "complaints.handle_case", case)
        _move(case, OPEN_STATES, _("The deadline of a %(state)s case cannot be extended."))
        if case.extension_workdays or case.extension_requested_workdays:
            raise ValidationError(_("The deadline can be extended only once."))
        limit = max_extension(case)
        if not 1 <= int(workdays_requested) <= limit:
            raise ValidationError(_("An extension is 1 to %(max)s working days.") % {"max": limit})
        case.extension_requested_workdays, case.extension_reason = int(workdays_requested), reason
        case.extension_requested_by, case.extension_requested_at = actor, timezone.now()
        case.save(update_fields=["extension_requested_workdays", "extension_reason", "extension_requested_by",
                                 "extension_requested_at"])  # fmt: skip
        audit_record(actor=actor, action="case.extension_request", target=case,
                     detail={"workdays": int(workdays_requested), "reason": reason})  # fmt: skip
    return case


def extension_decide(*, actor, case: Case, approve: bool, comment: str = "") -> Case:
    """Someone other than the requester approves (the due date moves) or refuses the extension."""
    with transaction.atomic():
        case = _locked(case)
        _require(actor, "complaints.approve_extension", case)
        if not case.extension_requested_workdays:
            raise ValidationError(_("No extension is waiting for approval."))
        if case.extension_requested_by_id == actor.pk:
            raise PermissionDenied(_("You asked for this extension: someone else must approve it."))
        requested = case.extension_requested_workdays
        case.extension_requested_workdays = 0
        fields = ["extension_requested_workdays"]
        if approve:
            case.extension_workdays, case.extension_approved_by = requested, actor
            case.extension_approved_at = timezone.now()
            fields += ["extension_workdays", "extension_approved_by", "extension_approved_at", *_refresh_deadline(case)]
        else:
            case.extension_requested_by, case.extension_requested_at = None, None
            fields += ["extension_requested_by", "extension_requested_at"]
        case.save(update_fields=fields)
        audit_record(actor=actor, action="case.extension_approve" if approve else "case.extension_refuse",
                     target=case, detail={"workdays": requested, "comment": comment, "due": case.due_date})  # fmt: skip
    return case


def clock_stop(*, actor, case: Case, reason: str, note: str = "") -> ClockStop:
    """Stop a disclosure request's clock while waiting for the applicant's correction or a third party."""
    if reason not in ClockStop.Reason.values:
        raise ValidationError(_("Please choose why the clock stops."))
    with transaction.atomic():
        case = _locked(case)
        _require(actor, "complaints.handle_case", case)
        _move(case, OPEN_STATES, _("The clock of a %(state)s case cannot be stopped."))
        if case.kind != CaseKind.DISCLOSURE_REQUEST:
            raise ValidationError(_("Only a disclosure request's clock can be stopped."))
        if case.clock_stopped_since is not None:
            raise ValidationError(_("The clock is already stopped."))
        today = workdays.shanghai_today()
        stop = ClockStop.objects.create(case=case, reason=reason, note=(note or "").strip(), started_on=today,
                                        started_by=actor)  # fmt: skip
        case.clock_stopped_since = today
        case.save(update_fields=["clock_stopped_since", *_refresh_deadline(case)])
        audit_record(actor=actor, action="case.clock_stop", target=case, detail={"reason": reason, "note": note})
    return stop


def clock_resume(*, actor, case: Case) -> Case:
    """The correction or opinion arrived: the clock runs again from tomorrow (the day of arrival is paused)."""
    with transaction.atomic():
        case = _locked(case)
        _require(actor, "complaints.handle_case", case)
        if case.clock_stopped_since is None:
            raise ValidationError(_("The clock is not stopped."))
        ClockStop.objects.filter(case=case, ended_on=None).update(ended_on=workdays.shanghai_today())
        case.clock_stopped_since = None
        case.save(update_fields=["clock_stopped_since", *_refresh_deadline(case)])
        audit_record(actor=actor, action="case.clock_resume", target=case, detail={"due": case.due_date})
    return case


# -- publication -------------------------------------------------------------------------------------------------


def redact(text: str, *, name: str = "") -> str:
    """Remove personal details from text for the public list: phone and identity numbers, and the citizen's name."""
    text = ID_IN_TEXT.sub("******", text or "")
    text = PHONE_IN_TEXT.sub("******", text)
    if name and len(name) >= 2:
        text = text.replace(name, name[0] + "*" * (len(name) - 1))
    return text


def personal_details_in(text: str, *, name: str = "") -> bool:
    return bool(PHONE_IN_TEXT.search(text) or ID_IN_TEXT.search(text) or (name and len(name) >= 2 and name in text))


def case_publish(*, actor, case: Case, subject: str, question: str, answer: str) -> Case:
    """Put a replied case on the public 问政 list with text the reviewer has redacted. Refused when the citizen
    did not allow it, or when the text still holds a phone number, an identity number or the citizen's name."""
    with transaction.atomic():
        case = _locked(case)
        _require(actor, "complaints.review_reply", case)
        _move(case, (State.REPLIED, State.CLOSED), _("Only a replied case can be published; this one is %(state)s."))
        if not case.allow_publish:
            raise ValidationError(_("The citizen did not allow this message to be published."))
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
        audit_record(actor=actor, action="case.publish", target=case)
    return case


def case_unpublish(*, actor, case: Case, reason: str) -> Case:
    reason = _reason(reason)
    with transaction.atomic():
        case = _locked(case)
        _require(actor, "complaints.review_reply", case)
        if not case.published:
            raise ValidationError(_("This case is not on the public list."))
        case.published = False
        case.save(update_fields=["published"])
        audit_record(actor=actor, action="case.unpublish", target=case, detail={"reason": reason})
    return case


def personal_data_viewed(*, actor, case: Case, what: str) -> None:
    """Record that a member of staff saw the citizen's personal data (name, phone, identity number, a file)."""
    audit_record(actor=actor, action="case.view_personal_data", target=case, detail={"what": what})
