import re

from django import forms
from django.contrib.auth.forms import UserChangeForm, UsernameField
from django.utils.translation import gettext_lazy as _

from accounts.masking import mask_phone
from accounts.models import User

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")


def clean_mobile(value: str) -> str:
    value = re.sub(r"[\s-]", "", value or "")
    if value and not MOBILE_RE.match(value):
        raise forms.ValidationError(_("Enter an 11-digit mainland China mobile number, e.g. 13812345678."))
    return value


class UserAddForm(forms.ModelForm):
    """A new user gets no password from the administrator: they set their own through a one-time link."""

    class Meta:
        model = User
        fields = ("username", "real_name", "department", "phone")
        field_classes = {"username": UsernameField}

    def clean_phone(self):
        return clean_mobile(self.cleaned_data.get("phone"))

    def save(self, commit=True):
        user = super().save(commit=False)
        user.set_unusable_password()
        if commit:
            user.save()
            self.save_m2m()
        return user


class UserEditForm(UserChangeForm):
    """The stored phone number is never sent back to the browser: the field shows it masked and stays empty unless replaced."""

    phone = forms.CharField(label=_("mobile phone"), required=False)

    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["phone"] = ""
        if self.instance.phone:
            self.fields["phone"].help_text = _("Current: %(masked)s. Leave empty to keep it.") % {
                "masked": mask_phone(self.instance.phone)
            }

    def clean_phone(self):
        value = clean_mobile(self.cleaned_data.get("phone"))
        return value or self.instance.phone
