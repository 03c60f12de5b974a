from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class GovcmsConfig(AppConfig):
    name = "govcms"
    verbose_name = _("GovCMS")


class GovAdminConfig(AdminConfig):
    default_site = "govcms.admin_site.GovAdminSite"
