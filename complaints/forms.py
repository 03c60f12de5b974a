"""The citizen's forms: writing to the government, tracking a message, rating the reply, reopening it.

The rules of a message's fields live in complaints.services (`validate_case_fields`), which every channel
shares; these forms only carry the values there and put each problem next to the field it is about. Their
fields are therefore not `required` in Django's sense: the service says what is missing, in its words.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from complaints import attachments, services
from complaints.models import ApplicantKind, CaseChannel, CaseKind, Category, Rating
from shared.captcha import FIELD_NAME, CaptchaField, CaptchaFormMixin


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one `<input type=file multiple>` (Django's "Uploading multiple files" recipe)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".jpg,.jpeg,.png,.pdf"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single_clean = super().clean
        if isinstance(data, (list, tuple)):
            return [single_clean(item, initial) for item in data]
        return [single_clean(data, initial)] if data else []


def _text(label, *, maxlength: int, help_text="", **attrs):
    return forms.CharField(
        label=label,
        required=False,
        strip=False,  # the service strips, and counts what the citizen typed
        help_text=help_text,
        widget=forms.TextInput(attrs={"maxlength": str(maxlength), **attrs}),
    )


# Each field the service checks, with a value that passes: see CaseForm._field_problems.
PASSING = {
    "kind": CaseKind.INQUIRY,
    "subject": "-",
    "content": "-",
    "name": "-",
    "phone": "13800000000",
    "id_number": "",
    "applicant_kind": ApplicantKind.NATURAL_PERSON,
    "organisation": "",
    "channel": CaseChannel.WEB,
}


class CaseForm(CaptchaFormMixin, forms.Form):
    """The public 我要写信 form. `cleaned_data["attachments"]` holds (CheckedFile, uploaded file) pairs,
    ready for `services.case_create(attachments=...)`."""

    OPTIONAL = ("category", "attachments", "applicant_kind", "organisation", "id_number")

    kind = forms.ChoiceField(
        label=_("Type of message"), required=False, choices=CaseKind.choices, widget=forms.RadioSelect
    )
    category = forms.ModelChoiceField(
        label=_("Topic"), required=False, queryset=Category.objects.none(), empty_label=_("Choose a topic")
    )
    subject = _text(_("Subject"), maxlength=services.SUBJECT_MAX, help_text=_("In a few words: what is it about?"))
    content = forms.CharField(
        label=_("Your message"),
        required=False,
        strip=False,
        help_text=_("Plain text, at most 5000 characters. Say what happened, where and when."),
        widget=forms.Textarea(attrs={"maxlength": str(services.CONTENT_MAX), "rows": 10}),
    )
    attachments = MultipleFileField(label=_("Attachments"), required=False)
    name = _text(_("Your name"), maxlength=services.NAME_MAX, autocomplete="name")
    phone = _text(
        _("Mobile number"),
        maxlength=20,
        help_text=_("We use it only to contact you about this message. It is never published."),
        type="tel",
        inputmode="numeric",
        autocomplete="tel",
    )
    applicant_kind = forms.ChoiceField(
        label=_("Applying as"),
        required=False,
        choices=ApplicantKind.choices,
        initial=ApplicantKind.NATURAL_PERSON,
        help_text=_("Only for government information disclosure requests: a person or an organisation."),
    )
    organisation = _text(
        _("Organisation"),
        maxlength=100,
        help_text=_("Only for disclosure requests made by an organisation: its full name."),
        autocomplete="organization",
    )
    id_number = _text(
        _("Identity number"),
        maxlength=18,
        help_text=_("Only for government information disclosure requests. It is never published."),
        autocomplete="off",
        autocapitalize="characters",
    )
    allow_publish = forms.BooleanField(
        label=_(
            "I agree that my question and the answer may be published on this site with my personal details removed."
        ),
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.filter(is_active=True)
        self.fields["attachments"].help_text = _(
            "Up to %(count)s files, JPG, PNG or PDF, each at most %(size)s MB."
        ) % {"count": attachments.max_files(), "size": attachments.max_bytes() // (1024 * 1024)}
        for name in self.OPTIONAL:
            # Read by the template to mark the label "(optional)": every other field must be filled in.
            self.fields[name].optional = True

    def service_values(self) -> dict:
        """The typed values in the service's terms (only after cleaning). The disclosure-request fields count
        only for a disclosure request: for any other kind the page hides them, and what was typed there before
        the kind changed is neither checked nor kept."""
        data = self.cleaned_data
        if data.get("kind") != CaseKind.DISCLOSURE_REQUEST:
            data = {**data, "id_number": "", "organisation": "", "applicant_kind": ApplicantKind.NATURAL_PERSON}
        return {
            "kind": data.get("kind") or "",
            "subject": data.get("subject") or "",
            "content": data.get("content") or "",
            "name": data.get("name") or "",
            "phone": data.get("phone") or "",
            "id_number": data.get("id_number") or "",
            "applicant_kind": data.get("applicant_kind") or ApplicantKind.NATURAL_PERSON,
            "organisation": data.get("organisation") or "",
            "channel": CaseChannel.WEB,
        }

    def _field_problems(self, values: dict) -> dict[str, list[str]]:
        # The service lists its problems without saying which field each is about. Checking each field
        # alone, beside values that pass, tells: the rules stay in one place and each message lands on its field.
        problems = {}
        for field in PASSING:
            if field == "channel":
                continue
            try:
                services.validate_case_fields(**{**PASSING, field: values[field]})
            except ValidationError as error:
                problems[field] = error.messages
        return problems

    def clean(self):
        cleaned = super().clean()
        values = self.service_values()
        for field, messages in self._field_problems(values).items():
            for message in messages:
                self.add_error(field, message)
        if not self._errors:
            try:
                services.validate_case_fields(**values)
            except ValidationError as error:  # a rule across fields, if one is ever added
                self.add_error(None, error)
        files = cleaned.get("attachments") or []
        # Files are read only for a submission that passed the captcha: a robot does not get us parsing PDFs.
        if files and "captcha" not in self._errors:
            try:
                checked = attachments.check_attachments(files)
            except ValidationError as error:
                self.add_error("attachments", error)
            else:
                cleaned["attachments"] = list(zip(checked, files, strict=True))
        return cleaned

    @property
    def files_were_sent(self) -> bool:
        return self.is_bound and bool(self.files.getlist("attachments"))


class TrackForm(forms.Form):
    number = forms.CharField(
        label=_("Case number"),
        max_length=20,
        error_messages={"required": _("Please enter the case number.")},
        help_text=_("For example 2026-7K3M9QXD."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )
    code = forms.CharField(
        label=_("Query code"),
        max_length=20,
        error_messages={"required": _("Please enter the query code.")},
        help_text=_("The 8 characters shown when you sent your message."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )

    def clean_number(self):
        return self.cleaned_data["number"].strip().upper()

    def add_captcha(self) -> None:
        """Show the captcha with this (already checked) form, for the next attempt: after a few wrong ones the
        next must come with it (complaints.views.track)."""
        self.fields[FIELD_NAME] = CaptchaField()


class TrackCaptchaForm(CaptchaFormMixin, TrackForm):
    """Tracking once a few attempts on the case, or from the address, were wrong."""


class RatingForm(forms.Form):
    number = forms.CharField(widget=forms.HiddenInput)
    rating = forms.ChoiceField(
        label=_("How satisfied are you with the reply?"),
        choices=Rating.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Please choose how satisfied you are.")},
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"maxlength": "1000", "rows": 4}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["comment"].optional = True


class ReopenForm(forms.Form):
    number = forms.CharField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("What is still unresolved?"),
        required=False,
        strip=False,
        help_text=_("Your message goes back to the department once more, with this explanation."),
        widget=forms.Textarea(attrs={"maxlength": "1000", "rows": 5}),
    )


def form_values(data, form_class) -> dict:
    """What was typed into a form, as initial values for showing it again unvalidated (a refusal by rate limit
    must not spend the captcha or read the files)."""
    return {name: data.get(name) for name in form_class.base_fields if name in data}
