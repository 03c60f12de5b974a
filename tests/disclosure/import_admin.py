"""A throwaway admin site wiring the import views and mixin the way the project's DisclosureBatch and
Disbursement admins do (see the report in disclosure/admin_import.py and disclosure/views_admin.py),
so their tests do not depend on disclosure/admin.py. Used as the URLconf of those tests."""

from django.urls import path
from unfold.admin import ModelAdmin
from unfold.sites import UnfoldAdminSite

from disclosure import views_admin
from disclosure.admin_import import DisbursementImportMixin
from disclosure.models import Disbursement, DisclosureBatch

site = UnfoldAdminSite(name="admin")  # the project's admin is unfold's, and so are its templates


class BatchAdmin(ModelAdmin):
    def get_urls(self):
        wrap = self.admin_site.admin_view
        extra = {"admin_site": self.admin_site}
        return [
            path("large-import/", wrap(views_admin.large_import_upload), extra,
                 name="disclosure_disclosurebatch_large_import"),
            path("<int:pk>/import/", wrap(views_admin.large_import_progress), extra,
                 name="disclosure_disclosurebatch_import_progress"),
            path("<int:pk>/import/status/", wrap(views_admin.large_import_status), extra,
                 name="disclosure_disclosurebatch_import_status"),
            path("<int:pk>/import/report/", wrap(views_admin.large_import_report), extra,
                 name="disclosure_disclosurebatch_import_report"),
            *super().get_urls(),
        ]  # fmt: skip


class DisbursementAdmin(DisbursementImportMixin, ModelAdmin):
    pass


site.register(DisclosureBatch, BatchAdmin)
site.register(Disbursement, DisbursementAdmin)

urlpatterns = [path("admin/", site.urls)]
