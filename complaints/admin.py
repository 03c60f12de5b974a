from django.contrib import admin
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.roles import is_administrator
from complaints import workdays
from complaints.models import CalendarOverride


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


class CalendarOverrideAdmin(admin.ModelAdmin):
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


admin.site.register_dashboard_panel(holiday_schedule_panel)
