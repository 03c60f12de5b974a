"""The client's address, for lockout, rate limits and the audit trail."""

import ipaddress

from django.conf import settings


def client_ip(request, *args) -> str | None:
    """The client's address: REMOTE_ADDR, or the forwarded address a trusted proxy added.

    X-Forwarded-For is trusted only for as many hops as TRUSTED_PROXY_COUNT says, so a
    client cannot forge its address to escape lockout or blur the audit trail.
    (django-axes calls this with extra arguments; they are not needed.)
    """
    address = request.META.get("REMOTE_ADDR")
    hops = settings.TRUSTED_PROXY_COUNT
    if hops > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= hops:
            address = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(address)) if address else None
    except ValueError:
        return None
