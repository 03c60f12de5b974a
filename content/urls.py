from django.urls import path

from content import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("columns/<slug:slug>/", views.column, name="column"),
    path("columns/<slug:slug>/rss/", views.column_feed, name="column_feed"),
    path("articles/<int:pk>/", views.article, name="article"),
    path("search/", views.search, name="search"),
    path("sitemap.xml", views.sitemap, name="sitemap"),
]
