"""The second step of signing in (a code from the authenticator app or a recovery code), and enrolment.

Served under /admin/ by GovAdminSite; until the second factor is given, a staff member reaches only
these pages and logout.
"""

from django import forms
from django.contrib import admin
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django_otp import login as otp_login

from accounts import otp

ENROL_SESSION_KEY = "otp_enrol_device"


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Verification code"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "inputmode": "text"}),
    )


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("admin:index")


def _with_next(name: str, request) -> str:
    from urllib.parse import urlencode

    return f"{reverse(name)}?{urlencode({'next': _next_url(request)})}"


def _context(request, **extra):
    # Before the second factor nothing of the admin is shown: no navigation, no list of apps.
    context = {**admin.site.each_context(request), "available_apps": [], "is_nav_sidebar_enabled": False}
    return {**context, "next": _next_url(request), **extra}


@never_cache
def second_factor(request):
    """Ask for the code after the password; send someone without an authenticator to enrolment."""
    if not request.user.is_authenticated or not (request.user.is_active and request.user.is_staff):
        return redirect("admin:login")
    if not otp.awaits_second_factor(request.user):
        return redirect(_next_url(request))
    if not otp.has_confirmed_device(request.user):
        return redirect(_with_next("admin:otp_enrol", request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = otp.second_factor_verify(user=request.user, token=form.cleaned_data["code"])
        if device is not None:
            request.session.cycle_key()
            otp_login(request, device)
            return redirect(_next_url(request))
        form.add_error(
            "code", _("The code is wrong or was already used. Enter the next code from your app, or a recovery code.")
        )
    return render(request, "accounts/otp_verify.html", _context(request, form=form, title=_("Second factor")))


@never_cache
def enrol(request):
    """Set up the authenticator: QR code and secret shown once, then ten recovery codes shown once."""
    if not request.user.is_authenticated or not (request.user.is_active and request.user.is_staff):
        return redirect("admin:login")
    if not otp.awaits_second_factor(request.user) or otp.has_confirmed_device(request.user):
        return redirect(_with_next("admin:otp_verify", request))
    form = CodeForm(request.POST or None)
    device = None
    if request.method == "POST":
        device_id = request.session.get(ENROL_SESSION_KEY)
        device = request.user.totpdevice_set.filter(pk=device_id, confirmed=False).first() if device_id else None
        if device is not None and form.is_valid():
            result = otp.enrolment_confirm(user=request.user, device_id=device.pk, token=form.cleaned_data["code"])
            if result is not None:
                confirmed, codes = result
                request.session.pop(ENROL_SESSION_KEY, None)
                request.session.cycle_key()
                otp_login(request, confirmed)
                return render(
                    request,
                    "accounts/otp_recovery_codes.html",
                    _context(request, codes=codes, title=_("Recovery codes")),
                )
            form.add_error("code", _("The code is wrong. Check the time on your phone and enter the current code."))
    if device is None:
        device = otp.enrolment_start(user=request.user)
        request.session[ENROL_SESSION_KEY] = device.pk
    return render(
        request,
        "accounts/otp_enrol.html",
        _context(
            request,
            form=form,
            qr_svg=otp.qr_svg(device),
            secret=otp.secret_base32(device),
            title=_("Set up the second factor"),
        ),
    )
