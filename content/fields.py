from django.db import models


class SanitizedHTMLField(models.TextField):
    """HTML that is cleaned against the allowlist whenever it is written, by any path.

    Services call `sanitize_html` themselves too (to report what was removed), but this
    field is the guarantee: admin, import, shell, bulk_create and update() all pass here.
    """

    def get_prep_value(self, value):
        from content.sanitize import sanitize_html

        value = super().get_prep_value(value)
        return sanitize_html(value) if value else value
