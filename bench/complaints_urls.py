"""Bench-only routes: the case list as a default ModelAdmin (same columns, number search), on its own AdminSite."""

from django.contrib import admin
from django.urls import include, path

from complaints.models import Case


class PlainCaseAdmin(admin.ModelAdmin):
    list_display = ("number", "kind", "subject", "department", "state", "due_date", "received_at", "channel")
    list_filter = ("state",)
    search_fields = ("number",)
    # Django's own templates, not the GovCMS case list's (which links to views this site does not have).
    change_list_template = "admin/change_list.html"


plain_site = admin.AdminSite(name="bench_admin")
plain_site.register(Case, PlainCaseAdmin)

urlpatterns = [
    path("bench-admin/", plain_site.urls),
    path("", include("govcms.urls")),
]
