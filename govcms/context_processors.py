"""What every public page's base template shows: the site's name and the portal's navigation.

One place for it, in the project package (which may import every app), so the apps' views do not import
each other's selectors to draw the same bar. The navigation is read only when a template uses it (the
admin's pages never do), and once per request."""

from django.conf import settings
from django.utils.functional import SimpleLazyObject

from content.selectors import portal_nav


def portal(request):
    return {"site_name": settings.PORTAL_SITE_NAME, "nav": SimpleLazyObject(portal_nav)}
