from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, reverse_lazy

from content.views_admin import editor_image_upload
from publishing.channels import wechat_listen
from shared.captcha import captcha_image_view

urlpatterns = [
    path("admin/", admin.site.urls),
    # The one-time link an administrator issues so a user sets their own password (accounts/services.py).
    path(
        "account/password/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(success_url=reverse_lazy("password_reset_complete")),
        name="password_reset_confirm",
    ),
    path("account/password/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("ckeditor5/image_upload/", editor_image_upload, name="editor_image_upload"),
    path("publishing/", include("publishing.urls")),
    # WeChat's callback server: the URL each account enters on the WeChat platform.
    path("wechat/<int:account_id>/", wechat_listen.callback, name="wechat_listen"),
    path("disclosure/", include("disclosure.urls")),
    path("hudong/", include("complaints.urls")),
    # The public forms' captcha picture (shared/captcha.py): complaints and the disclosure lookup use it.
    path("captcha/<str:key>.png", captcha_image_view, name="captcha"),
    path("", include("content.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
