from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


class DisclosureConfig(AppConfig):
    name = "disclosure"
    verbose_name = _("Information disclosure")

    def ready(self):
        from disclosure.checks import check_database_encoding

        checks.register(check_database_encoding, checks.Tags.database)
