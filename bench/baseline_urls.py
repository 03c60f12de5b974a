from inspect import unwrap

from django.urls import include, path
from django.views.decorators.cache import cache_page

from content import views

# The same view code as the portal, without its page cache, under Django's own cache_page.
# The portal's own URLs follow only so templates can reverse "portal:..." names.
urlpatterns = [
    path("articles/<int:pk>/", cache_page(600)(unwrap(views.article))),
    path("columns/<slug:slug>/", cache_page(600)(unwrap(views.column))),
    path("", include("content.urls")),
]
