from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from content.views_admin import editor_image_upload

urlpatterns = [
    path("admin/", admin.site.urls),
    path("ckeditor5/image_upload/", editor_image_upload, name="editor_image_upload"),
    path("publishing/", include("publishing.urls")),
    path("disclosure/", include("disclosure.urls")),
    path("hudong/", include("complaints.urls")),
    path("", include("content.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
