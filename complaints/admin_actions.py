"""The buttons of a case's admin page, and the views behind them.

Each button runs one service of complaints.services, which remains the real check: a button is shown only when
the service would allow it (`buttons_for` mirrors the services' permission, department and state checks), and a
refusal from the service still becomes a message, or an error on the form with what was typed kept. The views get
the case from `CaseAdmin.case_or_refuse`, so a case of another department is refused before anything runs.

Contact details and attachments hold personal data: they are shown only after a deliberate request (a POST, or a
download link), and each showing is recorded through services.personal_data_viewed.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, SuspiciousFileOperation, ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Department
from accounts.scoping import works_for
from complaints import services
from complaints.attachments import open_attachment
from complaints.models import (
    OPEN_STATES,
    Case,
    CaseKind,
    CaseState,
    ClockStop,
    DisclosureOutcome,
    ReplyDraft,
    ReplyTemplate,
)
from complaints.selectors import cases_for
from govcms.admin_workflow import workflow_action

# What a browser may be told an attachment is: the types complaints.attachments accepts (checked by content).
SAFE_CONTENT_TYPES = {"image/jpeg", "image/png", "application/pdf"}


def change_url(case: Case) -> str:
    return reverse("admin:complaints_case_change", args=[case.pk])


def action_url(case: Case, action: str) -> str:
    return reverse("admin:complaints_case_action", args=[case.pk, action])


# -- who may do what: the services' checks, read without side effects ---------------------------------------------


@dataclass(frozen=True)
class Access:
    user: object
    case: Case
    own_department: bool
    draft: ReplyDraft | None  # the reply being written or reviewed

    def may(self, perm: str) -> bool:
        """services._require: the permission, and the case in the user's departments unless they are a
        registrar (registrars act on every department's cases)."""
        user = self.user
        return user.has_perm(perm) and (self.own_department or user.has_perm("complaints.register_case"))

    def handles(self) -> bool:
        # Merge and escalation: the department's handler, or the registrar while the case is unrouted.
        return self.may("complaints.handle_case" if self.case.department_id else "complaints.register_case")

    @property
    def being_handled(self) -> bool:
        return self.case.state in (CaseState.ASSIGNED, CaseState.DRAFTING)

    def reviews(self) -> bool:
        return (
            self.may("complaints.review_reply")
            and self.case.state == CaseState.REPLY_IN_REVIEW
            and self.draft is not None
            and self.draft.author_id != self.user.pk
        )

    def decides_extension(self) -> bool:
        case = self.case
        return (
            self.may("complaints.approve_extension")
            and bool(case.extension_requested_workdays)
            and case.extension_requested_by_id != self.user.pk
        )


def current_draft(drafts) -> ReplyDraft | None:
    """The reply being written or reviewed (services allow one at a time), from the case's drafts."""
    return next((d for d in drafts if d.state in (ReplyDraft.State.DRAFT, ReplyDraft.State.IN_REVIEW)), None)


def access_for(user, case: Case, *, drafts=None) -> Access:
    drafts = list(case.drafts.all()) if drafts is None else drafts
    own = case.department_id is not None and works_for(user, case.department_id)
    return Access(user=user, case=case, own_department=own, draft=current_draft(drafts))


# -- the forms of the actions that need more than a click ---------------------------------------------------------


class CaseForm(forms.Form):
    def __init__(self, *args, case: Case, user, **kwargs):
        self.case, self.user = case, user
        super().__init__(*args, **kwargs)


def active_departments():
    return Department.objects.filter(is_active=True).order_by("path", "order")


class RouteForm(CaseForm):
    department = forms.ModelChoiceField(label=_("department"), queryset=Department.objects.none())
    note = forms.CharField(label=_("note"), required=False, max_length=500)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = active_departments()
        self.fields["department"].initial = self.case.suggested_department_id
        if self.case.suggested_department_id:
            self.fields["department"].help_text = gettext("Suggested by the routing rules: %(department)s.") % {
                "department": self.case.suggested_department
            }


class TransferForm(CaseForm):
    department = forms.ModelChoiceField(label=_("department"), queryset=Department.objects.none())
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = active_departments().exclude(pk=self.case.department_id)


class MergeForm(CaseForm):
    into = forms.CharField(label=_("case number to merge into"), max_length=20)
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)

    def clean_into(self):
        # Only cases the user can see are found: a number of another department's case looks unknown.
        number = self.cleaned_data["into"].strip().upper()
        target = cases_for(self.user).filter(number=number).first()
        if target is None:
            raise forms.ValidationError(gettext("There is no case with this number among the cases you can see."))
        return target


def templates_for(case: Case):
    """Reply templates offered for a case: active, of its type or of any type, its department's or shared."""
    return ReplyTemplate.objects.filter(
        Q(department=None) | Q(department_id=case.department_id), is_active=True, kind__in=[case.kind, ""]
    )


class ReplyForm(CaseForm):
    template = forms.ModelChoiceField(label=_("template"), queryset=ReplyTemplate.objects.none(), required=False)
    body = forms.CharField(label=_("reply"), widget=forms.Textarea(attrs={"rows": 14, "cols": 80}), max_length=20000)
    outcome = forms.ChoiceField(label=_("outcome"), choices=[("", "---------"), *DisclosureOutcome.choices])

    def __init__(self, *args, chosen: ReplyTemplate | None = None, draft: ReplyDraft | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = templates_for(self.case).order_by("title")
        if self.case.kind != CaseKind.DISCLOSURE_REQUEST:
            del self.fields["outcome"]  # the outcome is counted for disclosure requests only
        elif draft is not None:
            self.fields["outcome"].initial = draft.outcome
        if chosen is not None:
            self.fields["template"].initial, self.fields["body"].initial = chosen.pk, chosen.body
        elif draft is not None:
            self.fields["template"].initial, self.fields["body"].initial = draft.template_id, draft.body


class ExtensionForm(CaseForm):
    workdays = forms.IntegerField(label=_("working days"), min_value=1)
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit = services.max_extension(self.case)
        self.fields["workdays"] = forms.IntegerField(
            label=_("working days"),
            min_value=1,
            max_value=limit,
            help_text=gettext("At most %(max)s working days, once per case.") % {"max": limit},
        )


class ClockStopForm(CaseForm):
    reason = forms.ChoiceField(label=_("reason"), choices=ClockStop.Reason.choices)
    note = forms.CharField(label=_("note"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000)


class PublishForm(CaseForm):
    subject = forms.CharField(label=_("public subject"), max_length=services.SUBJECT_MAX)
    question = forms.CharField(label=_("public question"), widget=forms.Textarea(attrs={"rows": 8, "cols": 80}))
    answer = forms.CharField(label=_("public answer"), widget=forms.Textarea(attrs={"rows": 8, "cols": 80}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        case = self.case
        if case.published:
            texts = (case.public_subject, case.public_question, case.public_answer)
        else:
            # Proposed by the redaction; the reviewer reads it and removes whatever else identifies the citizen.
            texts = [services.redact(text, name=case.name) for text in (case.subject, case.content, case.reply)]
        for name, text in zip(("subject", "question", "answer"), texts, strict=True):
            self.fields[name].initial = text


# -- the actions ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseAction:
    label: str
    shown: Callable[[Access], bool]
    # run(actor, case, data): data is None (a plain POST), the reason text, or the form's cleaned_data.
    run: Callable
    needs_reason: bool = False
    form: type[CaseForm] | None = None


ACTIONS: dict[str, CaseAction] = {
    "route": CaseAction(
        _("Route to a department"),
        lambda a: a.user.has_perm("complaints.register_case") and a.case.state == CaseState.RECEIVED,
        lambda actor, case, data: services.case_route(
            actor=actor, case=case, department=data["department"], note=data["note"]
        ),
        form=RouteForm,
    ),
    "transfer": CaseAction(
        _("Transfer to another department"),
        lambda a: a.may("complaints.handle_case") and a.being_handled,
        lambda actor, case, data: services.case_transfer(
            actor=actor, case=case, department=data["department"], reason=data["reason"]
        ),
        form=TransferForm,
    ),
    "return": CaseAction(
        _("Return to the registrar"),
        lambda a: a.may("complaints.handle_case") and a.being_handled,
        lambda actor, case, reason: services.case_return(actor=actor, case=case, reason=reason),
        needs_reason=True,
    ),
    "merge": CaseAction(
        _("Merge into another case"),
        lambda a: a.handles() and a.case.state in (CaseState.RECEIVED, CaseState.ASSIGNED, CaseState.DRAFTING),
        lambda actor, case, data: services.case_merge(actor=actor, case=case, into=data["into"], reason=data["reason"]),
        form=MergeForm,
    ),
    "escalate": CaseAction(
        _("Refer to discipline inspection"),
        lambda a: a.handles() and not a.case.escalated and a.case.state != CaseState.MERGED,
        lambda actor, case, reason: services.case_escalate(actor=actor, case=case, reason=reason),
        needs_reason=True,
    ),
    "reply": CaseAction(
        _("Write the reply"),
        lambda a: a.may("complaints.handle_case") and a.being_handled,
        lambda actor, case, data: services.reply_save(
            actor=actor, case=case, body=data["body"], outcome=data.get("outcome", ""), template=data["template"]
        ),
        form=ReplyForm,
    ),
    "submit": CaseAction(
        _("Submit the reply for review"),
        lambda a: a.may("complaints.handle_case") and a.case.state == CaseState.DRAFTING and a.draft is not None,
        lambda actor, case, data: services.reply_submit(actor=actor, case=case),
    ),
    "approve": CaseAction(
        _("Approve and send the reply"),
        Access.reviews,
        lambda actor, case, data: services.reply_approve(actor=actor, case=case),
    ),
    "send_back": CaseAction(
        _("Send the reply back"),
        Access.reviews,
        lambda actor, case, reason: services.reply_send_back(actor=actor, case=case, comment=reason),
        needs_reason=True,
    ),
    "extension_request": CaseAction(
        _("Request an extension"),
        lambda a: (
            a.may("complaints.handle_case")
            and a.case.state in OPEN_STATES
            and not (a.case.extension_workdays or a.case.extension_requested_workdays)
        ),
        lambda actor, case, data: services.extension_request(
            actor=actor, case=case, workdays_requested=data["workdays"], reason=data["reason"]
        ),
        form=ExtensionForm,
    ),
    "extension_approve": CaseAction(
        _("Approve the extension"),
        Access.decides_extension,
        lambda actor, case, data: services.extension_decide(actor=actor, case=case, approve=True),
    ),
    "extension_refuse": CaseAction(
        _("Refuse the extension"),
        Access.decides_extension,
        lambda actor, case, reason: services.extension_decide(actor=actor, case=case, approve=False, comment=reason),
        needs_reason=True,
    ),
    "clock_stop": CaseAction(
        _("Stop the clock"),
        lambda a: (
            a.may("complaints.handle_case")
            and a.case.kind == CaseKind.DISCLOSURE_REQUEST
            and a.case.state in OPEN_STATES
            and a.case.clock_stopped_since is None
        ),
        lambda actor, case, data: services.clock_stop(actor=actor, case=case, reason=data["reason"], note=data["note"]),
        form=ClockStopForm,
    ),
    "clock_resume": CaseAction(
        _("Resume the clock"),
        lambda a: a.may("complaints.handle_case") and a.case.clock_stopped_since is not None,
        lambda actor, case, data: services.clock_resume(actor=actor, case=case),
    ),
    "close": CaseAction(
        _("Close the case"),
        lambda a: a.may("complaints.handle_case") and a.case.state == CaseState.REPLIED,
        lambda actor, case, data: services.case_close(actor=actor, case=case),
    ),
    "publish": CaseAction(
        _("Publish on the public list"),
        lambda a: (
            a.may("complaints.review_reply")
            and a.case.state in (CaseState.REPLIED, CaseState.CLOSED)
            and a.case.allow_publish
        ),
        lambda actor, case, data: services.case_publish(
            actor=actor, case=case, subject=data["subject"], question=data["question"], answer=data["answer"]
        ),
        form=PublishForm,
    ),
    "unpublish": CaseAction(
        _("Remove from the public list"),
        lambda a: a.may("complaints.review_reply") and a.case.published,
        lambda actor, case, reason: services.case_unpublish(actor=actor, case=case, reason=reason),
        needs_reason=True,
    ),
}


def buttons_for(user, case: Case, *, drafts=None) -> list[dict]:
    """The actions this user may take on this case now, for the case page: a link to a form page, or a button
    that posts at once."""
    access = access_for(user, case, drafts=drafts)
    return [
        {
            "name": name,
            "label": action.label,
            "url": action_url(case, name),
            "opens_form": action.needs_reason or action.form is not None,
        }
        for name, action in ACTIONS.items()
        if action.shown(access)
    ]


def action_view(model_admin, request, case: Case, name: str):
    """One URL for every action: /admin/complaints/case/<pk>/action/<name>/ (GET shows its form, POST runs it)."""
    action = ACTIONS.get(name)
    if action is None:
        raise Http404
    if action.form is None:

        def run(reason):
            action.run(request.user, case, reason)

        return workflow_action(
            model_admin, request, case, run=run, label=action.label, needs_reason=action.needs_reason
        )
    return form_action(model_admin, request, case, name, action)


def form_action(model_admin, request, case: Case, name: str, action: CaseAction):
    """Like govcms.admin_workflow.workflow_action, for actions with a form of their own: a refusal from the
    service is shown on the form, so that what was typed (a redacted answer, a long reply) is not lost."""
    kwargs = {"case": case, "user": request.user}
    extra = {}
    if action.form is ReplyForm:
        kwargs["chosen"], kwargs["draft"], extra = reply_form_setup(request, case)
    form = action.form(request.POST if request.method == "POST" else None, **kwargs)
    if request.method == "POST" and form.is_valid():
        try:
            action.run(request.user, case, form.cleaned_data)
        except PermissionDenied as error:
            messages.error(request, str(error) or gettext("You do not have permission to do this."))
            return redirect(change_url(case))
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, gettext("Done: %(action)s.") % {"action": action.label})
            return redirect(change_url(case))
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "original": case,
        "title": action.label,
        "form": form,
        "action_name": name,
        "change_url": change_url(case),
        "changelist_url": reverse("admin:complaints_case_changelist"),
        **extra,
    }
    return TemplateResponse(request, "admin/complaints/case/action_form.html", context)


def reply_form_setup(request, case: Case):
    """The template chosen by ?template=<id> (a link per template: no script needed), the current draft, and
    what the page shows besides the form."""
    templates = list(templates_for(case).order_by("title"))
    chosen = None
    template_id = request.GET.get("template", "")
    if template_id.isdigit():
        chosen = next((t for t in templates if t.pk == int(template_id)), None)
    draft = current_draft(case.drafts.select_related("reviewer"))
    sent_back = draft if draft is not None and draft.review_comment else None
    return chosen, draft, {"templates": templates, "chosen_template": chosen, "sent_back": sent_back}


# -- personal data ------------------------------------------------------------------------------------------------


def contact_view(model_admin, request, case: Case):
    """POST: record the viewing, then show the citizen's name, phone, identity number and attachments. A GET goes
    back to the case page: nothing is shown without the deliberate click."""
    if request.method != "POST":
        return redirect(change_url(case))
    services.personal_data_viewed(actor=request.user, case=case, what="contact_details")
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "original": case,
        "title": gettext("Contact details"),
        "attachments": list(case.attachments.all()),
        "change_url": change_url(case),
        "changelist_url": reverse("admin:complaints_case_changelist"),
    }
    # Not cached anywhere: admin_view marks every admin page never_cache (Cache-Control: no-store).
    return TemplateResponse(request, "admin/complaints/case/contact.html", context)


def attachment_view(request, case: Case, attachment_pk: int):
    """Download one of the case's files: recorded as a viewing of personal data, never shown inline."""
    attachment = case.attachments.filter(pk=attachment_pk).first()
    if attachment is None:
        raise Http404
    try:
        file = open_attachment(attachment.path)
    except (FileNotFoundError, SuspiciousFileOperation) as error:
        raise Http404 from error
    services.personal_data_viewed(
        actor=request.user, case=case, what=f"attachment {attachment.pk}: {attachment.original_name}"
    )
    content_type = attachment.content_type if attachment.content_type in SAFE_CONTENT_TYPES else None
    response = FileResponse(
        file,
        as_attachment=True,
        filename=attachment.original_name,
        content_type=content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
