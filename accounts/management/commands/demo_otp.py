"""Print a demo user's current second-factor code, so a newcomer signs in without a phone (DEBUG only)."""

import time
from base64 import b32encode

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.demo import DEMO_DEVICE_NAME


def demo_code(device: TOTPDevice, *, at: float | None = None) -> str:
    """The code the demo authenticator shows now (or at the Unix time `at`)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() if at is None else at
    return f"{totp.token():0{device.digits}d}"


class Command(BaseCommand):
    help = "Print the current second-factor code of demo users (all, or the ones named). Works only with DEBUG on."

    def add_arguments(self, parser):
        parser.add_argument("usernames", nargs="*", help="demo usernames, e.g. editor; none: every demo user")

    def handle(self, *args, usernames, **options):
        if not settings.DEBUG:
            raise CommandError("demo_otp is a development shortcut and refuses to run with DEBUG off.")
        devices = TOTPDevice.objects.filter(name=DEMO_DEVICE_NAME, confirmed=True).select_related("user")
        if usernames:
            devices = devices.filter(user__username__in=usernames)
        devices = list(devices.order_by("user__username"))
        if not devices:
            raise CommandError("No demo authenticator found: run `manage.py seed_demo` first.")
        remaining = 30 - int(time.time()) % 30
        self.stdout.write(f"Codes valid for about {remaining} more seconds; each works once (then wait for the next):")
        for device in devices:
            secret = b32encode(device.bin_key).decode()
            self.stdout.write(f"  {device.user.username:<16} {demo_code(device)}    (key for an app: {secret})")
