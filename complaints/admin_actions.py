"""The buttons of a case's admin page, and the views behind them.

Each button is an action of complaints.actions: a button is shown exactly when its `check` allows it
(`CASE_ACTIONS.available`), and the view runs the same action's `execute`, whose refusal becomes a message, or an
error on the form with what was typed kept. The views get
the case from `CaseAdmin.case_or_refuse`, so a case of another department is refused before anything runs.

Contact details and attachments hold personal data: they are shown only after a deliberate request (a POST, or a
download link), and each showing is recorded through services.personal_data_viewed.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, SuspiciousFileOperation, ValidationError
from django.db.models import Prefetch, Q, prefetch_related_objects
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Department
from complaints import services
from complaints.actions import (
    CASE_ACTIONS,
    CLOCK_STOP,
    EXTENSION_REQUEST,
    MERGE,
    PUBLISH,
    REPLY,
    ROUTE,
    TRANSFER,
    current_draft,
)
from complaints.attachments import open_attachment
from complaints.models import (
    Case,
    CaseKind,
    ClockStop,
    DisclosureOutcome,
    ReplyDraft,
    ReplyTemplate,
)
from complaints.selectors import cases_for
from govcms.actions import Action, ActionRefused
from govcms.admin_workflow import run_action

# What a browser may be told an attachment is: the types complaints.attachments accepts (checked by content).
SAFE_CONTENT_TYPES = {"image/jpeg", "image/png", "application/pdf"}


def change_url(case: Case) -> str:
    return reverse("admin:complaints_case_change", args=[case.pk])


def action_url(case: Case, action: str) -> str:
    return reverse("admin:complaints_case_action", args=[case.pk, action])


# -- the forms of the actions that need more than a click ---------------------------------------------------------


class CaseForm(forms.Form):
    def __init__(self, *args, case: Case, user, **kwargs):
        self.case, self.user = case, user
        super().__init__(*args, **kwargs)

    def params(self) -> dict:
        """The action's keyword arguments: by default the form's fields as they are named."""
        return dict(self.cleaned_data)


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

    def params(self):
        return {"workdays_requested": self.cleaned_data["workdays"], "reason": self.cleaned_data["reason"]}

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


# -- the buttons ---------------------------------------------------------------------------------------------------

# Actions that need more than a click, and the form that asks for it (the others post at once, or ask a reason).
FORMS: dict[str, type[CaseForm]] = {
    ROUTE.code: RouteForm,
    TRANSFER.code: TransferForm,
    MERGE.code: MergeForm,
    REPLY.code: ReplyForm,
    EXTENSION_REQUEST.code: ExtensionForm,
    CLOCK_STOP.code: ClockStopForm,
    PUBLISH.code: PublishForm,
}


def buttons_for(user, case: Case) -> list[dict]:
    """The actions this user may take on this case now, for the case page: a link to a form page, or a button
    that posts at once."""
    prefetch_related_objects([case], "drafts")
    return [
        {
            "name": action.code,
            "label": action.label,
            "url": action_url(case, action.code),
            "opens_form": action.needs_reason or bool(action.confirm) or action.code in FORMS,
        }
        for action in CASE_ACTIONS.available(user, case)
    ]


def action_view(model_admin, request, case: Case, name: str):
    """One URL for every action: /admin/complaints/case/<pk>/action/<name>/ (GET shows its form, POST runs it)."""
    if name not in CASE_ACTIONS:
        raise Http404
    action = CASE_ACTIONS[name]
    if name not in FORMS:
        return run_action(model_admin, request, case, action)
    return form_action(model_admin, request, case, action, FORMS[name])


def form_action(model_admin, request, case: Case, action: Action, form_class: type[CaseForm]):
    """Like govcms.admin_workflow.workflow_action, for actions with a form of their own: a refusal from the
    service is shown on the form, so that what was typed (a redacted answer, a long reply) is not lost."""
    kwargs = {"case": case, "user": request.user}
    extra = {}
    if form_class is ReplyForm:
        kwargs["chosen"], kwargs["draft"], extra = reply_form_setup(request, case)
    refusal = action.check(request.user, case)
    if refusal:
        messages.error(request, refusal)
        return redirect(change_url(case))
    form = form_class(request.POST if request.method == "POST" else None, **kwargs)
    if request.method == "POST" and form.is_valid():
        try:
            action.execute(request.user, case, **form.params())
        except (ActionRefused, PermissionDenied) as error:
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
        "action_name": action.code,
        "confirm": action.confirm,
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
    prefetch_related_objects([case], Prefetch("drafts", queryset=ReplyDraft.objects.select_related("reviewer")))
    draft = current_draft(case)
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
