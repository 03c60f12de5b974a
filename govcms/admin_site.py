"""The GovCMS admin site: Chinese branding, the dashboard, and an audit entry for every add, change and delete."""

import datetime
import decimal
import uuid
from urllib.parse import urlencode

from django.core.cache import cache
from django.db import models
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from unfold.admin import ModelAdmin as UnfoldModelAdmin
from unfold.sites import UnfoldAdminSite

from accounts import otp
from accounts import views as account_views
from accounts.fields import EncryptedTextField
from accounts.services import audit_record
from govcms import workbench
from govcms.tasks import HEARTBEAT_CACHE_KEY

# Values of these fields never enter the audit log; only the fact that they changed does.
HIDDEN_VALUE = "******"
SECRET_FIELD_NAMES = {"password", "password1", "password2", "secret", "app_secret", "token", "access_token"}


def _jsonable(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, models.Model):
        return {"id": value.pk, "repr": str(value)}
    if isinstance(value, (list, tuple, set, models.QuerySet)):
        return [_jsonable(item) for item in value]
    if isinstance(value, (datetime.date, datetime.time, decimal.Decimal, uuid.UUID)):
        return str(value)
    return str(value)


def _shorten(value, limit: int = 500):
    """Long texts (article bodies) are summarised: the log records that they changed, not a second copy."""
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:200]}… ({len(value)})"
    return value


def _is_secret(form, name) -> bool:
    model_field = None
    model = getattr(getattr(form, "_meta", None), "model", None)
    if model is not None:
        try:
            model_field = model._meta.get_field(name)
        except Exception:  # noqa: BLE001 - a form-only field has no model field
            model_field = None
    return name in SECRET_FIELD_NAMES or isinstance(model_field, EncryptedTextField)


def describe_form_changes(form) -> dict:
    """{field: {"old": ..., "new": ...}} for each changed field, secrets hidden."""
    changes = {}
    cleaned = getattr(form, "cleaned_data", {})
    for name in form.changed_data:
        if _is_secret(form, name):
            changes[name] = {"old": HIDDEN_VALUE, "new": HIDDEN_VALUE}
        else:
            changes[name] = {
                "old": _shorten(_jsonable(form.initial.get(name))),
                "new": _shorten(_jsonable(cleaned.get(name))),
            }
    return changes


class AuditedAdminMixin:
    """Writes an audit entry (who, when, IP, what changed) next to Django's own admin log."""

    # Set on admins whose saves go through services that write their own audit entries.
    audited_by_services = False

    def construct_change_message(self, request, form, formsets, add=False):
        request._audit_changes = describe_form_changes(form) if form is not None else {}
        return super().construct_change_message(request, form, formsets, add)

    def _audit(self, request, action, obj, message):
        if self.audited_by_services:
            return
        detail = {"changes": getattr(request, "_audit_changes", {}), "message": _jsonable(message)}
        request._audit_changes = {}
        audit_record(actor=request.user, action=action, target=obj, detail=detail)

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        self._audit(request, "admin.add", obj, message)
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        self._audit(request, "admin.change", obj, message)
        return entry

    def log_deletions(self, request, queryset):
        objects = list(queryset)
        entries = super().log_deletions(request, objects)
        for obj in objects:
            audit_record(actor=request.user, action="admin.delete", target=obj, detail={})
        return entries


class GovAdminSite(UnfoldAdminSite):
    site_header = _("GovCMS content management system")
    site_title = _("GovCMS")
    index_title = _("Dashboard")
    index_template = "admin/govcms_index.html"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._dashboard_panels = []

    def register_dashboard_panel(self, panel, order: int = 50) -> None:
        """`panel(request)` returns None or {"title", "sections", "cards", "template", ...context}: an app's part
        of the workbench (govcms/workbench.py), shown in `order`."""
        self._dashboard_panels.append((order, len(self._dashboard_panels), panel))
        self._dashboard_panels.sort(key=lambda entry: entry[:2])

    def register(self, model_or_iterable, admin_class=None, **options):
        # Every admin, ours or a library's (axes, django-otp), gets auditing and the theme's widgets and
        # list (unfold's ModelAdmin): nobody has to remember either.
        admin_class = admin_class or UnfoldModelAdmin
        bases = []
        if not issubclass(admin_class, AuditedAdminMixin):
            bases.append(AuditedAdminMixin)
        bases.append(admin_class)
        if not issubclass(admin_class, UnfoldModelAdmin):
            bases.append(UnfoldModelAdmin)
        if len(bases) > 1:
            admin_class = type(admin_class.__name__, tuple(bases), {"__module__": admin_class.__module__})
        return super().register(model_or_iterable, admin_class, **options)

    def has_permission(self, request):
        # Staff need the second factor too (django-otp's OTPMiddleware sets is_verified).
        return super().has_permission(request) and otp.is_verified(request.user)

    def login(self, request, extra_context=None):
        """After the password, a staff member goes to the second factor (or enrolment) before anything else."""
        if request.method == "GET" and otp.awaits_second_factor(request.user):
            return self._to_second_factor(request, request.GET.get("next") or "")
        response = super().login(request, extra_context)
        if (
            request.method == "POST"
            and isinstance(response, HttpResponseRedirect)
            and otp.awaits_second_factor(request.user)
        ):
            return self._to_second_factor(request, response.url)
        return response

    def _to_second_factor(self, request, next_url):
        query = f"?{urlencode({'next': next_url})}" if next_url else ""
        return HttpResponseRedirect(reverse("admin:otp_verify", current_app=self.name) + query)

    def get_urls(self):
        # Logout must work before the second factor is given, so it is not behind admin_view.
        urls = [pattern for pattern in super().get_urls() if getattr(pattern, "name", None) != "logout"]
        return [
            path("logout/", never_cache(self.logout), name="logout"),
            path("otp/", account_views.second_factor, name="otp_verify"),
            path("otp/enrol/", account_views.enrol, name="otp_enrol"),
            *urls,
        ]

    def index(self, request, extra_context=None):
        last_seen = cache.get(HEARTBEAT_CACHE_KEY)
        panels = [panel for panel in (make(request) for _order, _n, make in self._dashboard_panels) if panel]
        context = {
            "worker_last_seen": parse_datetime(last_seen) if last_seen else None,
            **workbench.gather(request, panels),
            **(extra_context or {}),
        }
        return super().index(request, context)
