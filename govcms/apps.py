from axes.apps import AppConfig as AxesAppConfig
from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class GovcmsConfig(AppConfig):
    name = "govcms"
    verbose_name = _("GovCMS")

    def ready(self):
        headers_once_per_list()


def headers_once_per_list() -> None:
    """django-unfold 0.91.0 (pinned) works out every column heading of a list again for each row it shows (each
    cell carries its heading for the phone's card view): a 50-row page of 12 columns built 612 headings, a
    third of the page's time. The headings of one ChangeList are the same for all its rows, so they are built
    once and kept on it; unfold's functions otherwise run unchanged."""
    from unfold.templatetags import unfold_list

    build = unfold_list.result_headers
    if getattr(build, "once_per_list", False):
        return

    def result_headers(cl):
        headers = getattr(cl, "_unfold_headers", None)
        if headers is None:
            headers = cl._unfold_headers = list(build(cl))
        return iter(headers)

    result_headers.once_per_list = True
    unfold_list.result_headers = result_headers


class GovAdminConfig(AdminConfig):
    default_site = "govcms.admin_site.GovAdminSite"


class AxesConfig(AxesAppConfig):
    """django-axes under a Chinese name: its lists (登录尝试, 登录失败记录, 登录日志) sit under 登录安全."""

    verbose_name = _("Login security")
