"""A URLconf with only the captcha picture, under the name the complaints app gives it."""

from django.urls import include, path

from complaints.captcha import captcha_image_view

urlpatterns = [
    path(
        "complaints/",
        include(([path("captcha/<str:key>.png", captcha_image_view, name="captcha")], "complaints")),
    ),
]
