import string

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class CharacterClassValidator:
    """At least `min_classes` of: lower-case letters, upper-case letters, digits, other characters."""

    def __init__(self, min_classes: int = 3):
        self.min_classes = min_classes

    def _classes(self, password: str) -> int:
        return sum(
            [
                any(c in string.ascii_lowercase for c in password),
                any(c in string.ascii_uppercase for c in password),
                any(c.isdigit() for c in password),
                any(not (c.isascii() and c.isalnum()) for c in password),
            ]
        )

    def validate(self, password, user=None):
        if self._classes(password) < self.min_classes:
            raise ValidationError(self.get_help_text(), code="password_too_simple")

    def get_help_text(self):
        return _(
            "Your password must contain at least %(count)d of these: lower-case letters, "
            "upper-case letters, digits, symbols."
        ) % {"count": self.min_classes}


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's, with messages our catalogue translates (Django 5.2 changed the msgid and its zh_Hans lags behind)."""

    def get_error_message(self):
        return _("This password is too short. It must contain at least %(count)d characters.") % {
            "count": self.min_length
        }

    def get_help_text(self):
        return _("Your password must contain at least %(count)d characters.") % {"count": self.min_length}
