from django.db import models

from content.sanitize import sanitize_html


class SanitizedHTMLField(models.TextField):
    """HTML that is cleaned against the allowlist whenever it is written, by any path.

    The article form and the services clean the body earlier (to refuse an empty body and to
    count images without alt text), but this field is the guarantee: admin, import, shell,
    bulk_create and update() all pass here.
    """

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return sanitize_html(value) if value else value
