from django import template
from django.conf import settings

register = template.Library()


@register.inclusion_tag("content/_footer.html")
def portal_footer():
    """The footer every public page carries, from the deployment's settings (README: Environment variables)."""
    return {
        "site_name": settings.PORTAL_SITE_NAME,
        "organizer": settings.PORTAL_ORGANIZER,
        "contact": settings.PORTAL_CONTACT,
        "site_code": settings.PORTAL_SITE_CODE,
        "icp_number": settings.PORTAL_ICP_NUMBER,
        "psb_number": settings.PORTAL_PSB_NUMBER,
    }
