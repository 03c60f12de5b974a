from django.urls import path

from publishing import views

app_name = "publishing"

urlpatterns = [
    path("wechat/<int:account_id>/callback/", views.wechat_callback, name="wechat_callback"),
]
