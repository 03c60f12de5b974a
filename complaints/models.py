from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class OverrideKind(models.TextChoices):
    HOLIDAY = "holiday", _("holiday (day off)")
    WORKDAY = "workday", _("make-up workday")


class CalendarOverride(models.Model):
    """One day of the State Council's holiday announcement, entered by an administrator.

    It wins over the chinesecalendar package for its date, and is the only source for a year the package does
    not know yet: see complaints.workdays.
    """

    date = models.DateField(
        _("date"),
        unique=True,
        error_messages={"unique": _("This date has already been entered. Edit the existing entry instead.")},
    )
    kind = models.CharField(_("kind"), max_length=16, choices=OverrideKind.choices)
    name = models.CharField(
        _("name"), max_length=50, help_text=_("As in the announcement, e.g. 春节 or 国庆节调休上班.")
    )
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("entered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("holiday or make-up workday")
        verbose_name_plural = _("holidays and make-up workdays")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date.isoformat()} {self.get_kind_display()}：{self.name}"
