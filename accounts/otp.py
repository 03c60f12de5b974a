"""The second factor for staff: a TOTP app (django-otp) plus ten single-use recovery codes.

Every staff user signs in with a password, then a code. Someone without a confirmed device is sent
to enrolment and can do nothing else until it is done; only a security administrator removes a
user's devices so they enrol again. Every step is in the audit log.
"""

import segno
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp import DEVICE_ID_SESSION_KEY, devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.roles import may_manage_user
from accounts.services import audit_record

RECOVERY_CODE_COUNT = 10
AUTHENTICATOR_NAME = "authenticator"
RECOVERY_NAME = "recovery"


def is_verified(user) -> bool:
    """Whether this request's user gave the second factor (OTPMiddleware's mark; a user object just
    signed in with the password has no mark yet)."""
    check = getattr(user, "is_verified", None)
    return check() if check is not None else getattr(user, "otp_device", None) is not None


def awaits_second_factor(user) -> bool:
    """A staff member signed in with the password who has not given the second factor yet."""
    return user.is_authenticated and user.is_active and user.is_staff and not is_verified(user)


def has_confirmed_device(user) -> bool:
    return any(True for _ in devices_for_user(user, confirmed=True))


def enrolment_start(*, user) -> TOTPDevice:
    """A new, unconfirmed authenticator for `user`; any earlier unconfirmed one is discarded, so a secret
    is shown once. Refused (PermissionDenied) when the user already has a confirmed device."""
    if has_confirmed_device(user):
        raise PermissionDenied(_("Your second factor is already set up."))
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)


def enrolment_confirm(*, user, device_id: int, token: str) -> tuple[TOTPDevice, list[str]] | None:
    """Confirm the new authenticator with a code from it and issue ten recovery codes (returned once,
    for showing; stored as django-otp stores them). None when the code is wrong or the device is gone."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(pk=device_id, user=user, confirmed=False).first()
        if device is None or not device.verify_token(_normalise(token)):
            audit_record(actor=user, action="otp.enrol_failed", target=user)
            return None
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = recovery_codes_issue(user=user)
        audit_record(actor=user, action="otp.enrolled", target=user)
    return device, codes


def recovery_codes_issue(*, user) -> list[str]:
    """Replace the user's recovery codes with ten new ones and return them."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def second_factor_verify(*, user, token: str):
    """The device that accepts `token` (a six-digit TOTP code, or a recovery code, which then is used up),
    or None. django-otp refuses a TOTP code of a time step already used (no replay) and throttles
    failures per device."""
    token = _normalise(token)
    device_class = TOTPDevice if token.isdigit() and len(token) == 6 else StaticDevice
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=True, for_verify=True):
            if isinstance(device, device_class) and device.verify_token(token):
                audit_record(
                    actor=user, action="otp.verified", target=user, detail={"device": device.__class__.__name__}
                )
                return device
    audit_record(actor=user, action="otp.failed", target=user)
    return None


def second_factor_reset(*, actor, user) -> int:
    """Remove every device of `user` so they enrol again at their next sign-in. Only a security
    administrator (or a superuser), and never for someone the actor may not manage."""
    if not actor.has_perm("accounts.reset_second_factor") or not may_manage_user(actor, user):
        raise PermissionDenied(_("Only a security administrator may reset a user's second factor."))
    with transaction.atomic():
        devices = list(devices_for_user(user, confirmed=None))
        for device in devices:
            device.delete()
        audit_record(actor=actor, action="otp.reset", target=user, detail={"devices": len(devices)})
    return len(devices)


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// address as an inline SVG QR code, drawn on the server (no external service)."""
    return segno.make(device.config_url, error="m").svg_inline(scale=5, border=2)


def secret_base32(device: TOTPDevice) -> str:
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def session_mark_verified(session, user) -> None:
    """Record in `session` that `user` gave the second factor, as the sign-in page would, with a
    confirmed authenticator created when missing. For benchmarks and tests, which stand in for a
    person who typed the code; the web flow goes through second_factor_verify."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=True)
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id


def _normalise(token: str) -> str:
    return "".join((token or "").split()).lower()
