from django.urls import path

from disclosure import views

app_name = "disclosure"

urlpatterns = [
    path("", views.guide, name="guide"),
    path("catalogue/", views.catalogue, name="catalogue"),
    path("funds/", views.funds, name="funds"),
    path("funds/own/", views.funds_own, name="funds_own"),
    path("projects/", views.projects, name="projects"),
    path("budgets/", views.budgets, name="budgets"),
    path("staffing/", views.staffing, name="staffing"),
]
