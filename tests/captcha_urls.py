"""A URLconf with only the captcha picture, under the name the project gives it."""

from django.urls import path

from shared.captcha import captcha_image_view

urlpatterns = [path("captcha/<str:key>.png", captcha_image_view, name="captcha")]
