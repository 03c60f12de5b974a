from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

urlpatterns = [
    path("admin/", admin.site.urls),
    # The portal home arrives with the content issue; until then the root leads to the admin.
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
]
