from axes.apps import AppConfig as AxesAppConfig
from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class GovcmsConfig(AppConfig):
    name = "govcms"
    verbose_name = _("GovCMS")


class GovAdminConfig(AdminConfig):
    default_site = "govcms.admin_site.GovAdminSite"


class AxesConfig(AxesAppConfig):
    """django-axes under a Chinese name: its lists (登录尝试, 登录失败记录, 登录日志) sit under 登录安全."""

    verbose_name = _("Login security")
