"""The staff side of citizens' messages: the case list and page, settings tables, the holiday calendar.

Cases are never edited as a form: every change is an action (complaints.actions) behind a button of
complaints.admin_actions; the change page is a read-only view of the case with those buttons. Every URL of
a case goes through `CaseAdmin.get_object`, which refuses a case outside the user's departments.
"""

import re
from datetime import timedelta

from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q, prefetch_related_objects
from django.http import Http404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.views import ChangeList

from accounts.identity import is_valid_mobile
from accounts.models import AuditLog
from accounts.roles import is_administrator
from accounts.scoping import DepartmentScopedAdminMixin, departments_for
from complaints import (
    admin_actions,
    admin_dashboard,
    admin_export,
    admin_register,
    admin_stats,
    selectors,
    services,
    wechat_window,
    workdays,
)
from complaints.actions import current_draft
from complaints.admin_work import CaseWorkFilter
from complaints.models import (
    OPEN_STATES,
    CalendarOverride,
    Case,
    Category,
    ClockStop,
    DeadlinePolicy,
    Rating,
    ReplyDraft,
    ReplyTemplate,
    RoutingRule,
)
from complaints.selectors import DUE_SOON_WORKDAYS
from govcms.admin_display import state_label
from govcms.paginators import EstimatedCountPaginator

# Case numbers are "2026-7K3M9QXD"; any term of letters, digits and hyphens with a digit is taken for a number
# (older or imported numbers may look different), never for words of a subject.
CASE_NUMBER = re.compile(r"^(?=.*\d)[0-9A-Z-]{6,20}$")
# A subject search is a scan (the subject has no text index): it looks only at open cases and those received in
# the last three months, which the indexes on state and received_at bound, so the list stays fast at any size
# (about 60 ms of queries at 200,000 cases, against 200 ms for a year). Older cases are found by number or phone.
SUBJECT_SEARCH_DAYS = 92
LIST_DEFERRED = ("content", "phone", "id_number", "reply", "extension_reason", "escalation_reason", "return_reason",
                 "rating_comment", "public_question", "public_answer")  # fmt: skip


# -- the case list -----------------------------------------------------------------------------------------------


def deadline_status(case: Case, *, today, soon) -> str:
    """What the lists highlight: "overdue", "due_soon", or "" (on track, clock stopped, or no longer open)."""
    if case.state not in OPEN_STATES or case.clock_stopped_since is not None:
        return ""
    if case.due_date < today:
        return "overdue"
    if case.due_date <= soon:
        return "due_soon"
    return ""


def due_html(case: Case, *, today, soon):
    """The due date, red with the days overdue or amber when due within DUE_SOON_WORKDAYS working days."""
    status = deadline_status(case, today=today, soon=soon)
    due = case.due_date.isoformat()
    if case.due_provisional:
        due += gettext(" (provisional)")
    if status == "overdue":
        days = (today - case.due_date).days
        return format_html(
            '<span class="case-due case-overdue">{} · {}</span>',
            due,
            gettext("overdue by %(days)s days") % {"days": days},
        )
    if status == "due_soon":
        return format_html('<span class="case-due case-due-soon">{} · {}</span>', due, gettext("due soon"))
    return format_html('<span class="case-due">{}</span>', due)


def due_soon_limit(request) -> tuple:
    """Today and the last "due soon" date, computed once per request: the limit reads the holiday calendar, and
    the list's filter and its due-date column both need it."""
    limit = getattr(request, "_case_due_soon_limit", None)
    if limit is None:
        today = workdays.shanghai_today()
        limit = request._case_due_soon_limit = (today, selectors.due_within(DUE_SOON_WORKDAYS, today=today))
    return limit


class DeadlineFilter(admin.SimpleListFilter):
    title = _("deadline")
    parameter_name = "deadline"

    def lookups(self, request, model_admin):
        return (
            ("overdue", _("Overdue")),
            ("due_soon", _("Due within %(days)s working days") % {"days": DUE_SOON_WORKDAYS}),
            ("on_track", _("On track")),
        )

    def queryset(self, request, queryset):
        today, soon = due_soon_limit(request)
        if self.value() == "overdue":
            return selectors.overdue_cases(queryset, today=today)
        if self.value() == "due_soon":
            return selectors.due_soon_cases(queryset, today=today, until=soon)
        if self.value() == "on_track":
            return queryset.filter(
                Q(state__in=OPEN_STATES), Q(clock_stopped_since__isnull=False) | Q(due_date__gt=soon)
            )
        return queryset


def search_cases(queryset, term: str):
    """A full mobile number through its keyed hash (phones are stored encrypted), a case number exactly, or
    words of the subject of open and recent cases."""
    term = term.strip()
    if not term:
        return queryset
    digits = re.sub(r"[\s-]", "", term)
    if is_valid_mobile(digits):
        return queryset.filter(phone_hash=services.phone_hash(digits))
    if CASE_NUMBER.match(term.upper()):
        return queryset.filter(number=term.upper())
    since = timezone.now() - timedelta(days=SUBJECT_SEARCH_DAYS)
    # Chinese has no letter case: a plain LIKE then finds the same rows as icontains without an UPPER() per row.
    lookup = "subject__icontains" if term.lower() != term.upper() else "subject__contains"
    return queryset.filter(Q(received_at__gte=since) | Q(state__in=OPEN_STATES), **{lookup: term})


class CaseChangeList(ChangeList):
    def get_queryset(self, request, exclude_parameters=None):
        # The list shows none of the long or encrypted columns: not fetching them spares a decryption per row.
        return super().get_queryset(request, exclude_parameters).defer(*LIST_DEFERRED)


class CaseAdmin(DepartmentScopedAdminMixin, ModelAdmin):
    list_display = ("number", "kind", "subject", "department", "state_badge", "due_date", "received", "channel",
                    "notes")  # fmt: skip
    state_badge = state_label(Case, {"received": "info", "assigned": "info", "drafting": "warning",
                                     "reply_in_review": "primary", "replied": "success"})  # fmt: skip
    list_filter = (CaseWorkFilter, "state", "kind", "channel", DeadlineFilter, "escalated", "published")
    list_select_related = ("department",)
    search_fields = ("number",)  # the search itself is get_search_results
    search_help_text = _(
        "A case number (e.g. 2026-7K3M9QXD), a full mobile number, or words of the subject (open cases and those "
        "received in the last three months)."
    )
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_per_page = 50
    actions = None
    change_form_template = "admin/complaints/case/change_form.html"
    change_list_template = "admin/complaints/case/change_list.html"
    fieldsets = (
        (None, {"fields": ("number", "kind", "channel", "category", "subject", "content", "state", "department",
                           "suggested_department", "received_at", "assigned_at", "registered_by")}),
        (_("Applicant"), {"fields": ("applicant_kind", "organisation", "allow_publish")}),
        (_("Reply"), {"fields": ("reply", "outcome", "replied_at", "replied_workdays", "replied_on_time", "closed_at",
                                 "rating", "rating_comment", "rated_at", "reopened_count")}),
        (_("Transfers and referrals"), {"fields": ("merged_into", "escalated", "escalation_reason", "return_reason")}),
        (_("Public list"), {"fields": ("published", "published_at", "public_subject", "public_question",
                                       "public_answer")}),
    )  # fmt: skip

    # -- scope and permissions: the case is changed only through services --------------------------------------

    def get_queryset(self, request):
        # Registrars and administrators see every case (they route them), handlers their departments' only.
        return selectors.cases_for(request.user, admin.ModelAdmin.get_queryset(self, request))

    def get_changelist(self, request, **kwargs):
        return CaseChangeList

    def changelist_view(self, request, extra_context=None):
        waiting = wechat_window.oldest_waiting(self.get_queryset(request))
        return super().changelist_view(request, {**(extra_context or {}), "wechat_waiting": waiting})

    def has_add_permission(self, request):
        return super().has_add_permission(request) and request.user.has_perm("complaints.register_case")

    def has_change_permission(self, request, obj=None):
        return False  # the change page is a view with service buttons, never a form that saves the row

    def has_delete_permission(self, request, obj=None):
        return False  # a case is closed or merged, never deleted

    def get_readonly_fields(self, request, obj=None):
        return [name for _title, options in self.fieldsets for name in options["fields"]]

    # -- the list ---------------------------------------------------------------------------------------------

    def get_list_display(self, request):
        today, soon = due_soon_limit(request)

        @admin.display(description=_("due date"), ordering="due_date")
        def due(case):
            return due_html(case, today=today, soon=soon)

        return [due if name == "due_date" else name for name in self.list_display]

    def get_list_filter(self, request):
        if selectors.sees_every_department(request.user):
            return (*self.list_filter, "department")
        return self.list_filter

    def get_search_results(self, request, queryset, search_term):
        return search_cases(queryset, search_term), False

    @admin.display(description=_("received at"), ordering="received_at")
    def received(self, case):
        # Formatted directly: Django's localized date formatting is the costliest cell of a 50-row page.
        return case.received_at.astimezone(workdays.SHANGHAI).strftime("%Y-%m-%d %H:%M")

    @admin.display(description=_("notes"))
    def notes(self, case):
        """What stands out about a case besides its deadline: a stopped clock, a referral to discipline inspection."""
        flags = []
        if case.clock_stopped_since is not None:
            flags.append(gettext("clock stopped"))
        if case.escalated:
            flags.append(gettext("referred to discipline inspection"))
        return "、".join(flags)

    # -- the case page ----------------------------------------------------------------------------------------

    def add_view(self, request, form_url="", extra_context=None):
        return admin_register.register_view(self, request)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and not add:
            context.update(self.case_context(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def case_context(self, request, case: Case) -> dict:
        today, soon = due_soon_limit(request)
        deadline = services.case_deadline(case)
        drafts_with_people = ReplyDraft.objects.select_related("author", "reviewer", "template")
        prefetch_related_objects([case], Prefetch("drafts", queryset=drafts_with_people))
        drafts = list(case.drafts.all())
        return {
            "case": case,
            "due": due_html(case, today=today, soon=soon),
            "deadline_lines": deadline.explanation_lines(),
            "clock_stops": list(case.clock_stops.select_related("started_by")),
            "drafts": drafts,
            "current_draft": current_draft(case),
            "attachment_count": case.attachments.count(),
            "timeline": case_timeline(case),
            "case_buttons": admin_actions.buttons_for(request.user, case),
            "wechat_window": wechat_window.window_of(case),
        }

    # -- URLs: every one takes the case through get_object ------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        custom = [
            path("<int:pk>/action/<str:action>/", wrap(self.action_view), name="complaints_case_action"),
            path("<int:pk>/contact/", wrap(self.contact_view), name="complaints_case_contact"),
            path("<int:pk>/attachments/<int:attachment_pk>/", wrap(self.attachment_view),
                 name="complaints_case_attachment"),
            path("export/<str:fmt>/", wrap(self.export_view), name="complaints_case_export"),
            path("statistics/", wrap(admin_stats.statistics_view), name="complaints_case_statistics"),
            path("statistics/export/", wrap(admin_stats.statistics_export_view),
                 name="complaints_case_statistics_export"),
        ]  # fmt: skip
        return custom + super().get_urls()

    def case_or_refuse(self, request, pk) -> Case:
        """The case if the user may see it; PermissionDenied if it exists elsewhere (get_object), 404 if not."""
        case = self.get_object(request, str(pk))
        if case is None:
            raise Http404
        if not self.has_view_permission(request, case):
            raise PermissionDenied
        return case

    def action_view(self, request, pk, action):
        return admin_actions.action_view(self, request, self.case_or_refuse(request, pk), action)

    def contact_view(self, request, pk):
        return admin_actions.contact_view(self, request, self.case_or_refuse(request, pk))

    def attachment_view(self, request, pk, attachment_pk):
        return admin_actions.attachment_view(request, self.case_or_refuse(request, pk), attachment_pk)

    def export_view(self, request, fmt):
        return admin_export.export_view(self, request, fmt)


admin.site.register(Case, CaseAdmin)


# -- the case's history: its audit log entries --------------------------------------------------------------------

TIMELINE_LABELS = {
    "case.create": _("Registered"),
    "case.route": _("Routed"),
    "case.transfer": _("Transferred"),
    "case.return": _("Returned to the registrar"),
    "case.merge": _("Merged"),
    "case.escalate": _("Referred to discipline inspection"),
    "case.reply_save": _("Reply saved"),
    "case.reply_submit": _("Reply submitted for review"),
    "case.reply_send_back": _("Reply sent back"),
    "case.reply_approve": _("Reply approved and sent"),
    "case.close": _("Closed"),
    "case.rate": _("Rated by the citizen"),
    "case.reopen": _("Reopened by the citizen"),
    "case.extension_request": _("Extension requested"),
    "case.extension_approve": _("Extension approved"),
    "case.extension_refuse": _("Extension refused"),
    "case.clock_stop": _("Clock stopped"),
    "case.clock_resume": _("Clock resumed"),
    "case.publish": _("Published"),
    "case.unpublish": _("Removed from the public list"),
    "case.view_personal_data": _("Personal data viewed"),
    "case.export": _("Exported"),
}
# Detail keys shown on the timeline, in this order; others (ids) are left out.
TIMELINE_DETAILS = {
    "department": _("department"),
    "from": _("previous department"),
    "to": _("new department"),
    "into": _("merged into"),
    "workdays": _("working days"),
    "due": _("due date"),
    "reason": _("reason"),
    "comment": _("comment"),
    "note": _("note"),
    "rating": _("rating"),
    "what": _("viewed"),
}
# Values stored as choice codes in the audit detail, shown by their labels.
TIMELINE_CHOICES = {"reason": dict(ClockStop.Reason.choices), "rating": dict(Rating.choices)}


def _detail_value(key: str, value):
    if isinstance(value, str):
        return TIMELINE_CHOICES.get(key, {}).get(value, value)
    return value


def case_timeline(case: Case) -> list[dict]:
    """The case's audit entries, oldest first, with the actor's name and the detail worth reading."""
    entries = AuditLog.objects.filter(
        target_type=ContentType.objects.get_for_model(Case), target_id=str(case.pk)
    ).select_related("actor")
    timeline = []
    for entry in entries.order_by("created_at", "id"):
        detail = entry.detail if isinstance(entry.detail, dict) else {}
        timeline.append(
            {
                "at": entry.created_at,
                "actor": str(entry.actor) if entry.actor else (entry.actor_username or gettext("citizen")),
                "action": TIMELINE_LABELS.get(entry.action, entry.action),
                "details": [
                    (label, _detail_value(key, detail[key]))
                    for key, label in TIMELINE_DETAILS.items()
                    if detail.get(key)
                ],  # fmt: skip
            }
        )
    return timeline


# -- settings tables ----------------------------------------------------------------------------------------------


@admin.register(Category)
class CategoryAdmin(ModelAdmin):
    list_display = ("name", "position", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name",)


@admin.register(RoutingRule)
class RoutingRuleAdmin(ModelAdmin):
    list_display = ("priority", "category", "kind", "keywords", "department", "is_active")
    list_filter = ("is_active", "kind", "category")
    list_select_related = ("category", "department")
    search_fields = ("keywords",)
    ordering = ("priority", "id")


@admin.register(DeadlinePolicy)
class DeadlinePolicyAdmin(ModelAdmin):
    list_display = ("kind", "department", "workdays")
    list_filter = ("kind",)
    list_select_related = ("department",)


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(DepartmentScopedAdminMixin, ModelAdmin):
    """Handlers see the shared templates and their departments' own, and edit only their departments' own;
    registrars and administrators see (administrators edit) all."""

    list_display = ("title", "kind", "department", "is_active")
    list_filter = ("is_active", "kind")
    list_select_related = ("department",)
    search_fields = ("title",)
    fields = ("title", "kind", "department", "body", "is_active")

    def get_queryset(self, request):
        queryset = admin.ModelAdmin.get_queryset(self, request)
        if selectors.sees_every_department(request.user):
            return queryset
        return queryset.filter(Q(department=None) | Q(department__in=departments_for(request.user)))

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.department_id is None and not is_administrator(request.user):
            return False  # a shared template is every department's: only administrators change it
        return super().has_change_permission(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if "department" in form.base_fields and not is_administrator(request.user):
            form.base_fields["department"].required = True  # only administrators write shared templates
        return form


# -- the holiday calendar ----------------------------------------------------------------------------------------


class YearFilter(admin.SimpleListFilter):
    title = _("year")
    parameter_name = "year"

    def lookups(self, request, model_admin):
        # Years come from the table: administrators enter one announcement (one year) at a time.
        return [(str(day.year), str(day.year)) for day in CalendarOverride.objects.dates("date", "year", order="DESC")]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(date__year=int(self.value()))
        return queryset


class CalendarOverrideAdmin(ModelAdmin):
    list_display = ["date", "weekday", "kind", "name", "note", "created_by", "created_at"]
    list_filter = [YearFilter, "kind"]
    list_select_related = ["created_by"]
    search_fields = ["name", "note"]
    fields = ["date", "kind", "name", "note", "created_by", "created_at"]
    readonly_fields = ["created_by", "created_at"]

    @admin.display(description=_("weekday"), ordering="date")
    def weekday(self, obj):
        # Make-up workdays are weekends and holidays mostly weekdays: the weekday shows a mistyped date at once.
        return date_format(obj.date, "l")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


admin.site.register(CalendarOverride, CalendarOverrideAdmin)


def holiday_schedule_panel(request):
    """Tells administrators which year's holidays must be entered before due dates stop being provisional."""
    if not is_administrator(request.user):
        return None
    missing = workdays.years_missing_schedule()
    if not missing:
        return None
    return {
        "title": gettext("Holiday schedule"),
        "template": "admin/complaints/holiday_schedule_panel.html",
        "warnings": [
            gettext(
                "The holiday schedule for %(year)s has not been entered: due dates are counted with weekends only "
                "and marked provisional."
            )
            % {"year": year}
            for year in missing
        ],
        "url": reverse("admin:complaints_calendaroverride_changelist"),
    }


admin.site.register_dashboard_panel(holiday_schedule_panel, order=5)
admin.site.register_dashboard_panel(admin_dashboard.cases_panel, order=40)
