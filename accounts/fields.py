from django.db import models

from accounts import crypto


class EncryptedTextField(models.TextField):
    """A text column whose value is encrypted in the database and plain in Python.

    It cannot be filtered or ordered on; pair it with a keyed hash when lookups are needed.
    """

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return crypto.encrypt(value)
