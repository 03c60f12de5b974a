from django.urls import path, re_path

from complaints import views

app_name = "complaints"

# Case numbers as complaints.services.new_case_number makes them: the year, a dash, 8 characters.
NUMBER = r"(?P<number>[0-9]{4}-[0-9A-Z]{8})"

urlpatterns = [
    path("", views.case_list, name="list"),
    re_path(rf"^{NUMBER}/$", views.case_detail, name="detail"),
    path("write/", views.case_new, name="new"),
    path("done/", views.done, name="done"),
    path("track/", views.track, name="track"),
    re_path(rf"^track/{NUMBER}/$", views.status, name="status"),
    path("track/rate/", views.rate, name="rate"),
    path("track/reopen/", views.reopen, name="reopen"),
]
