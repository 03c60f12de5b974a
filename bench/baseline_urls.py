from inspect import unwrap

from django.urls import include, path
from django.views.decorators.cache import cache_page

from content import views

# The same view code as the portal, without its page cache, under Django's own cache_page.
# The whole site follows, so every name a page reverses (the navigation links to disclosure and
# complaints) resolves as on the real site.
urlpatterns = [
    path("articles/<int:pk>/", cache_page(600)(unwrap(views.article))),
    path("columns/<slug:slug>/", cache_page(600)(unwrap(views.column))),
    path("", include("govcms.urls")),
]
