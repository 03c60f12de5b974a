"""Citizens' messages: intake, deadlines, redaction, and the lower-level writes no person decides.

A change a person makes to a case (route, reply, approve, rate, ...) is an action of complaints.actions, which
holds the rule (`check`) and the write (`execute`: one transaction, one audit entry). The functions of that name
below (`case_route`, `reply_approve`, ...) only hand off to the action, for callers that speak keyword arguments
(the demo data, the tests, other apps); they raise the action's refusal (`ActionRefused`: a PermissionDenied and a
ValidationError at once) or the ValidationError of bad input, and nothing is half done.
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
from accounts.scoping import require_permission
from accounts.services import audit_record
from complaints import workdays
from complaints.models import (
    ApplicantKind,
    Attachment,
    Case,
    CaseChannel,
    CaseKind,
    ClockStop,
    DeadlinePolicy,
    ReplyDraft,
    RoutingRule,
)

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


def _actions():
    # complaints.actions builds on this module's helpers; its transitions are imported when first called.
    from complaints import actions

    return actions


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
    return _actions().ROUTE.execute(actor, case, department=department, note=note)


def case_transfer(*, actor, case: Case, department, reason: str) -> Case:
    return _actions().TRANSFER.execute(actor, case, department=department, reason=reason)


def case_return(*, actor, case: Case, reason: str) -> Case:
    return _actions().RETURN.execute(actor, case, reason=reason)


def case_merge(*, actor, case: Case, into: Case, reason: str) -> Case:
    return _actions().MERGE.execute(actor, case, into=into, reason=reason)


def case_escalate(*, actor, case: Case, reason: str) -> Case:
    return _actions().REFER.execute(actor, case, reason=reason)


# -- replies -----------------------------------------------------------------------------------------------------


def reply_save(*, actor, case: Case, body: str, outcome: str = "", template=None) -> ReplyDraft:
    return _actions().REPLY.execute(actor, case, body=body, outcome=outcome, template=template)


def reply_submit(*, actor, case: Case) -> Case:
    return _actions().SUBMIT.execute(actor, case)


def reply_send_back(*, actor, case: Case, comment: str) -> Case:
    return _actions().SEND_BACK.execute(actor, case, reason=comment)


def reply_approve(*, actor, case: Case, comment: str = "") -> Case:
    return _actions().APPROVE.execute(actor, case, comment=comment)


def case_close(*, actor, case: Case) -> Case:
    return _actions().CLOSE.execute(actor, case)


# -- the citizen's side ------------------------------------------------------------------------------------------


def case_rate(*, case: Case, rating: str, comment: str = "") -> Case:
    """The citizen (who proved the case's query code) rates the reply."""
    return _actions().RATE.execute(None, case, rating=rating, comment=comment)


def case_reopen(*, case: Case, reason: str) -> Case:
    """The citizen (who proved the case's query code) reopens a reply they rated dissatisfied."""
    return _actions().REOPEN.execute(None, case, reason=reason)


# -- deadlines: extension and clock stops -----------------------------------------------------------------------


def max_extension(case: Case) -> int:
    return MAX_EXTENSION_DISCLOSURE if case.kind == CaseKind.DISCLOSURE_REQUEST else case.deadline_workdays


def extension_request(*, actor, case: Case, workdays_requested: int, reason: str) -> Case:
    return _actions().EXTENSION_REQUEST.execute(actor, case, workdays_requested=workdays_requested, reason=reason)


def extension_decide(*, actor, case: Case, approve: bool, comment: str = "") -> Case:
    action = _actions().EXTENSION_APPROVE if approve else _actions().EXTENSION_REFUSE
    return action.execute(actor, case, reason=comment)


def clock_stop(*, actor, case: Case, reason: str, note: str = "") -> ClockStop:
    return _actions().CLOCK_STOP.execute(actor, case, reason=reason, note=note)


def clock_resume(*, actor, case: Case) -> Case:
    return _actions().CLOCK_RESUME.execute(actor, case)


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
    return _actions().PUBLISH.execute(actor, case, subject=subject, question=question, answer=answer)


def case_unpublish(*, actor, case: Case, reason: str) -> Case:
    return _actions().UNPUBLISH.execute(actor, case, reason=reason)


def personal_data_viewed(*, actor, case: Case, what: str) -> None:
    """Record that a member of staff saw the citizen's personal data (name, phone, identity number, a file)."""
    audit_record(actor=actor, action="case.view_personal_data", target=case, detail={"what": what})
