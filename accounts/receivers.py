"""Authentication events into the audit log (logins are not a spine step; signals are how Django reports them)."""

from django.contrib.auth import signals
from django.dispatch import receiver

from accounts.services import audit_record
from shared.client_ip import client_ip


def _ip(request):
    return client_ip(request) if request is not None else None


@receiver(signals.user_logged_in, dispatch_uid="audit_login")
def audit_login(sender, request, user, **kwargs):
    audit_record(actor=user, action="login", target=user, ip=_ip(request))


@receiver(signals.user_logged_out, dispatch_uid="audit_logout")
def audit_logout(sender, request, user, **kwargs):
    if user is not None:
        audit_record(actor=user, action="logout", target=user, ip=_ip(request))


@receiver(signals.user_login_failed, dispatch_uid="audit_login_failed")
def audit_login_failed(sender, credentials, request=None, **kwargs):
    # Django has already replaced the password with asterisks in `credentials`.
    audit_record(
        actor=None,
        action="login_failed",
        detail={"username": str(credentials.get("username", ""))[:150]},
        ip=_ip(request),
    )
