import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govcms.settings")
django_application = get_wsgi_application()

from content.portal_cache import PortalCacheWSGI  # noqa: E402 - needs the settings configured above

# Cached public pages are answered before Django builds a request.
application = PortalCacheWSGI(django_application)
