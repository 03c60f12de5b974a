"""Staff register a message that came by counter visit, telephone or letter (the case list's "add" page).

The query code exists only in the response to the registration (services.case_create keeps a keyed hash):
the page shows it once, for the registrar to read out or write on the receipt, and is never cached. It is not put
in a message either, since messages are stored in the session or a cookie.
"""

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from complaints import services
from complaints.attachments import check_attachments
from complaints.forms import MultipleFileField
from complaints.models import ApplicantKind, CaseChannel, CaseKind, Category

STAFF_CHANNELS = [(value, label) for value, label in CaseChannel.choices if value in
                  (CaseChannel.COUNTER, CaseChannel.PHONE, CaseChannel.LETTER)]  # fmt: skip


class CaseRegisterForm(forms.Form):
    channel = forms.ChoiceField(label=_("channel"), choices=STAFF_CHANNELS)
    kind = forms.ChoiceField(label=_("type"), choices=CaseKind.choices)
    category = forms.ModelChoiceField(label=_("topic"), queryset=Category.objects.none(), required=False)
    subject = forms.CharField(label=_("subject"), max_length=services.SUBJECT_MAX)
    content = forms.CharField(label=_("content"), widget=forms.Textarea(attrs={"rows": 8, "cols": 80}),
                              max_length=services.CONTENT_MAX)  # fmt: skip
    name = forms.CharField(label=_("Name"), max_length=services.NAME_MAX)
    phone = forms.CharField(label=_("mobile phone"), max_length=20, required=False,
                            help_text=_("Required for telephone calls."))  # fmt: skip
    id_number = forms.CharField(label=_("identity number"), max_length=18, required=False,
                                widget=forms.TextInput(attrs={"autocomplete": "off"}))  # fmt: skip
    applicant_kind = forms.ChoiceField(label=_("applicant"), choices=ApplicantKind.choices,
                                       initial=ApplicantKind.NATURAL_PERSON)  # fmt: skip
    organisation = forms.CharField(label=_("organisation"), max_length=100, required=False)
    allow_publish = forms.BooleanField(label=_("citizen allows publication"), required=False)
    received_at = forms.DateTimeField(
        label=_("received at"),
        required=False,
        help_text=_("When the letter or call arrived, e.g. 2026-03-02 09:30. Leave empty for now."),
    )
    attachments = MultipleFileField(
        label=_("attachments"),
        required=False,
        help_text=_("Scans or photos: JPG, PNG or PDF, at most 5 files of 10 MB."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.filter(is_active=True)

    def clean_received_at(self):
        received = self.cleaned_data["received_at"]
        if received is not None and received > timezone.now():
            raise forms.ValidationError(gettext("The time of receipt cannot be in the future."))
        return received

    def clean_attachments(self):
        files = self.cleaned_data["attachments"]
        if not files:
            return []
        try:
            checked = check_attachments(files)
        except ValidationError as error:
            raise forms.ValidationError(error.messages) from error
        return list(zip(checked, files, strict=True))

    def case_arguments(self) -> dict:
        data = self.cleaned_data
        names = ("channel", "kind", "category", "subject", "content", "name", "phone", "id_number", "applicant_kind",
                 "organisation", "allow_publish", "received_at", "attachments")  # fmt: skip
        return {name: data[name] for name in names}


def register_view(model_admin, request):
    """GET: the registration form. POST: case_create, then the page with the case number and query code."""
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    opts = model_admin.model._meta
    form = CaseRegisterForm(request.POST or None, request.FILES or None)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": opts,
        "title": gettext("Register a message"),
        "changelist_url": reverse("admin:complaints_case_changelist"),
    }
    if request.method == "POST" and form.is_valid():
        try:
            case, code = services.case_create(actor=request.user, **form.case_arguments())
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            context.update({"title": gettext("Message registered"), "case": case, "query_code": code,
                            "change_url": reverse("admin:complaints_case_change", args=[case.pk])})  # fmt: skip
            # admin_view marks the page never_cache (no-store): the back button does not bring the code back.
            return TemplateResponse(request, "admin/complaints/case/registered.html", context)
    context["form"] = form
    return TemplateResponse(request, "admin/complaints/case/register.html", context)
