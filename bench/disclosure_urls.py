"""Bench-only routes: what a plain Django site would do with the same data, next to the real pages.

- /bench/funds-icontains/: the public fund search with Django's usual `icontains` name filter and
  its default paginator (an exact COUNT), the same form, records, template and rate limit otherwise.
- /bench-admin/: the disbursement changelist as a default ModelAdmin (the same columns, `search_fields`
  and nothing else), on its own AdminSite.
"""

from django.contrib import admin
from django.core.paginator import Paginator
from django.urls import include, path
from django.views.decorators.http import require_safe
from unfold.sites import UnfoldAdminSite

from disclosure import forms, selectors, views
from disclosure.models import Disbursement, RecordType


@require_safe
@views.search_rate_limited
def funds_icontains(request):
    form = forms.FundSearchForm(request.GET or None)
    table = page = None
    if form.searching():
        data = form.cleaned_data
        records = selectors.public_disbursements(
            village=data["village"], township=data["township"], program_id=data["program"], year=data["year"]
        )
        if data["name"]:
            records = records.filter(recipient_name__icontains=data["name"])
        page, table = views._table(records, RecordType.DISBURSEMENT, request.GET.get("page"), paginator=Paginator)
    context = {"form": form, "page": page, "table": table, "query_prefix": views._query_prefix(request)}
    return views._render(request, "disclosure/funds.html", "funds", context)


class PlainDisbursementAdmin(admin.ModelAdmin):
    list_display = ("recipient_name", "id_masked", "township", "village", "household_size", "amount", "paid_on",
                    "program", "batch")  # fmt: skip
    search_fields = ("recipient_name",)


# Unfold's site (the project's theme renders every admin page, and its templates link its search URL), with
# Django's own ModelAdmin on it: the plain admin a site without our list would have.
plain_site = UnfoldAdminSite(name="bench_admin")
plain_site.register(Disbursement, PlainDisbursementAdmin)

urlpatterns = [
    path("bench/funds-icontains/", funds_icontains),
    path("bench-admin/", plain_site.urls),
    path("", include("govcms.urls")),
]
