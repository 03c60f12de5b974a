import calendar as pycalendar
from datetime import date, datetime, time, timedelta

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, prefetch_related_objects
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline

from accounts.scoping import DepartmentScopedAdminMixin, scope_to_department
from govcms.admin_workflow import run_action
from publishing import admin_answer_stats, quota, selectors, services
from publishing.actions import DELIVERY_ACTIONS, SCHEDULE_ACTIONS
from publishing.admin_dashboard import publishing_panel
from publishing.forms import (
    SECRET_FIELDS,
    ChannelAccountForm,
    QuotaRuleInlineForm,
    RescheduleForm,
    ScheduleForm,
    SendAtField,
)
from publishing.models import ChannelAccount, Delivery, DeliveryState, Platform, QuotaRule, Schedule, ScheduleArticle


class QuotaRuleInline(TabularInline):
    model = QuotaRule
    form = QuotaRuleInlineForm
    extra = 0


@admin.register(ChannelAccount)
class ChannelAccountAdmin(DepartmentScopedAdminMixin, ModelAdmin):
    form = ChannelAccountForm
    inlines = [QuotaRuleInline]
    list_display = ["name", "platform", "wechat_account_type", "department", "quota_summary", "is_active"]
    list_filter = ["platform", "wechat_account_type", "is_active", "department"]
    search_fields = ["name"]
    list_select_related = ["department"]
    readonly_fields = ["callback_url"]
    fieldsets = [
        (None, {"fields": ["name", "platform", "department", "is_active", "api_base_url"]}),
        (_("WeChat"), {"fields": ["wechat_account_type", "wechat_verified", "wechat_app_id", "wechat_app_secret",
                                  "wechat_token", "wechat_encryption_mode", "wechat_aes_key", "wechat_aes_key_previous",
                                  "callback_url", "wechat_welcome_text", "wechat_default_reply",
                                  "wechat_acknowledgement"]}),
        (_("Weibo"), {"fields": ["weibo_app_key", "weibo_app_secret", "weibo_access_token", "weibo_uid", "weibo_safe_domain"]}),
        (_("When it may send"), {"fields": ["window_start", "window_end", "min_gap_minutes"]}),
    ]  # fmt: skip

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("quota_rules")

    def get_urls(self):
        # The answer library's statistics of the accounts' followers' messages (口径库统计); the view checks
        # that the person may read the library.
        view = self.admin_site.admin_view(admin_answer_stats.statistics_view)
        return [path("answer-statistics/", view, name="publishing_answer_statistics"), *super().get_urls()]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or self.has_change_permission(request, obj):
            return fieldsets
        # View-only: the admin would print each field's value; secrets show only whether one is stored.
        return [
            (title, {**options, "fields": [f"{n}_stored" if n in SECRET_FIELDS else n for n in options["fields"]]})
            for title, options in fieldsets
        ]

    @admin.display(description=_("quota"))
    def quota_summary(self, obj):
        return (
            "，".join(f"{limit} {quota.QuotaPeriod(period).label}" for period, limit in quota.rules_for(obj).items())
            or "—"
        )

    @admin.display(description=_("server URL for WeChat"))
    def callback_url(self, obj):
        if not obj.pk or obj.platform != Platform.WECHAT:
            return "—"
        from django.conf import settings

        return settings.PORTAL_BASE_URL.rstrip("/") + reverse("wechat_listen", args=[obj.pk])

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        quota.ensure_default_rules(obj)
        if not change and obj.platform == Platform.WECHAT:
            # A new account's last 30 days of statistics are fetched at once, not at the next morning's sweep.
            from publishing.tasks import pull_wechat_statistics_of

            pull_wechat_statistics_of.delay_on_commit(obj.pk)


def _secret_stored_display(name):
    @admin.display(description=ChannelAccount._meta.get_field(name).verbose_name)
    def stored(self, obj):
        return _("Stored; not shown.") if getattr(obj, name) else _("Not set")

    return stored


for _secret in SECRET_FIELDS:
    setattr(ChannelAccountAdmin, f"{_secret}_stored", _secret_stored_display(_secret))


RETRY = DELIVERY_ACTIONS["retry"]


def explain_delivery_error(delivery: Delivery) -> str:
    """What the person reads: the Chinese explanation (what happened, what happens next or what to
    check). The platform's own code and text are shown apart, as `error_detail`."""
    return delivery.error_message if delivery.state != DeliveryState.SENT else ""


@admin.register(Schedule)
class ScheduleAdmin(ModelAdmin):
    list_display = ["cover", "title", "send_at", "created_by", "delivery_summary", "cancelled_at"]
    list_display_links = ["title"]
    list_filter = ["send_at", "audience"]
    search_fields = ["title"]
    date_hierarchy = "send_at"
    list_select_related = ["created_by"]
    change_list_template = "admin/publishing/schedule/change_list.html"

    def get_queryset(self, request):
        headline = (
            ScheduleArticle.objects.filter(position=1)
            .select_related("article__live_revision")
            .defer("article__body", "article__search_text", "article__search_bigrams", "article__live_revision__body")
        )
        schedules = (
            super()
            .get_queryset(request)
            .prefetch_related("deliveries", Prefetch("items", queryset=headline, to_attr="headline_items"))
        )
        visible = scope_to_department(ChannelAccount.objects.all(), request.user)
        return schedules.filter(deliveries__account__in=visible).distinct()

    @admin.display(description=_("cover image"))
    def cover(self, obj):
        items = obj.headline_items  # only the headline (get_queryset); `items` itself stays whole for the pages
        url = selectors.cover_url(items[0].article) if items else ""
        return (
            format_html(
                '<img src="{}" alt="" width="64" height="36" loading="lazy" style="object-fit:cover;border-radius:3px">',
                url,
            )
            if url
            else "—"
        )

    @admin.display(description=_("deliveries"))
    def delivery_summary(self, obj):
        """How many deliveries are in each state, each state as a coloured label."""
        counts = {}
        for delivery in obj.deliveries.all():
            counts[delivery.state] = counts.get(delivery.state, 0) + 1
        # The classes are the schedule pages' (_styles.html, which the list's template includes too).
        return format_html_join(
            " ",
            '<span class="ms-state ms-state-{}">{} {}</span>',
            ((state, DeliveryState(state).label, n) for state, n in counts.items()),
        )

    def get_urls(self):
        return [
            path("calendar/", self.admin_site.admin_view(self.calendar_view), name="publishing_schedule_calendar"),
            path(
                "delivery/<int:pk>/retry/",
                self.admin_site.admin_view(self.retry_view),
                name="publishing_delivery_retry",
            ),
            path("quota/", self.admin_site.admin_view(self.quota_view), name="publishing_schedule_quota"),
            path("<int:pk>/cancel/", self.admin_site.admin_view(self.cancel_view), name="publishing_schedule_cancel"),
            path(
                "<int:pk>/deliveries/",
                self.admin_site.admin_view(self.deliveries_view),
                name="publishing_schedule_deliveries",
            ),
        ] + super().get_urls()

    # The add and change pages are our own forms around the services.
    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ScheduleForm(request.POST or None, user=request.user, initial=self._initial(request))
        if request.method == "POST" and form.is_valid():
            schedule = Schedule(
                send_at=form.cleaned_data["send_at"],
                audience=form.cleaned_data["audience"],
                wechat_tag_id=form.cleaned_data.get("wechat_tag_id"),
            )
            try:
                services.schedule_create(
                    actor=request.user,
                    schedule=schedule,
                    articles=form.articles(),
                    accounts=list(form.cleaned_data["accounts"]),
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, gettext("The mass-send is scheduled and its quota is reserved."))
                return redirect("admin:publishing_schedule_change", schedule.pk)
        moment = self._quota_moment(form)  # None: no time chosen yet, counted for now
        context = {
            "form": form,
            "title": gettext("Schedule a mass-send"),
            "quota_at": moment or timezone.now(),
            "quota_now": moment is None,
            # Beside each account: what is left of the very quota the booking takes (publishing.quota).
            "account_rows": [
                (checkbox, selectors.quota_left(checkbox.data["value"].instance, moment or timezone.now()))
                for checkbox in form["accounts"]
            ],
        }
        return self._render(request, "admin/publishing/schedule/add.html", context)

    @staticmethod
    def _quota_moment(form):
        """The time the quota beside each account is counted for: the time typed, else the one offered."""
        if form.is_bound:
            moment = None if "send_at" in form.errors else form.cleaned_data.get("send_at")
        else:
            moment = form.initial.get("send_at")
        if isinstance(moment, datetime):
            return moment if timezone.is_aware(moment) else timezone.make_aware(moment, quota.SHANGHAI)
        return None

    def quota_view(self, request):
        """The add page asks here when the send time changes: each visible account's quota left at that time."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        try:
            moment = SendAtField(required=True).clean(request.GET.get("at", ""))
        except ValidationError as error:
            return JsonResponse({"error": " ".join(error.messages)}, status=400)
        accounts = selectors.visible_accounts(request.user)
        return JsonResponse(
            {
                "caption": gettext("Quota left in the periods of %(at)s (Beijing time), as the booking counts it:")
                % {"at": timezone.localtime(moment, quota.SHANGHAI).strftime("%Y-%m-%d %H:%M")},
                "accounts": {
                    account.pk: render_to_string(
                        "admin/publishing/schedule/_quota.html", {"rows": selectors.quota_left(account, moment)}
                    )
                    for account in accounts
                },
            }
        )

    def _initial(self, request):
        initial = {}
        if request.GET.get("date"):
            try:
                initial["send_at"] = datetime.combine(date.fromisoformat(request.GET["date"]), time(9))
            except ValueError:
                pass
        return initial

    def change_view(self, request, object_id, form_url="", extra_context=None):
        schedule = self.get_object(request, object_id)
        if schedule is None or not self.has_view_permission(request, schedule):
            raise PermissionDenied
        reschedule = RescheduleForm(
            request.POST if request.POST.get("action") == "reschedule" else None, initial={"send_at": schedule.send_at}
        )
        if request.method == "POST":
            if not self.has_change_permission(request, schedule):
                raise PermissionDenied
            try:
                if reschedule.is_valid():
                    services.schedule_reschedule(
                        actor=request.user, schedule=schedule, send_at=reschedule.cleaned_data["send_at"]
                    )
                    messages.success(request, gettext("The schedule is moved; its quota moved with it."))
                    return redirect("admin:publishing_schedule_change", schedule.pk)
            except ValidationError as error:
                reschedule.add_error(None, error)
            except PermissionDenied as error:
                messages.error(request, str(error))
        cancel = SCHEDULE_ACTIONS["cancel"]
        can_change = self.has_change_permission(request, schedule)
        articles = schedule.ordered_articles()
        prefetch_related_objects(articles, "live_revision")  # the covers: one query, not one per article
        context = {
            **self._deliveries_context(request, schedule, articles),
            "original": schedule,
            "articles": [(article, selectors.cover_url(article)) for article in articles],
            "can_move": SCHEDULE_ACTIONS["reschedule"].allowed(request.user, schedule),
            "cancel": cancel if cancel.allowed(request.user, schedule) else None,
            # Why there is nothing to change, for those who could change it otherwise.
            "fixed_reason": cancel.check(request.user, schedule) if can_change and not schedule.cancelled_at else "",
            "reschedule": reschedule,
            "can_change": can_change,
            "title": schedule.title,
        }
        return self._render(request, "admin/publishing/schedule/detail.html", context)

    def _deliveries_context(self, request, schedule, articles):
        deliveries = list(schedule.deliveries.select_related("account").order_by("account__platform", "account__name"))
        return {
            "schedule": schedule,
            "deliveries": [
                {
                    "delivery": d,
                    "error": explain_delivery_error(d),
                    "retryable": RETRY.allowed(request.user, d),
                    "links": selectors.delivery_links(d, articles),
                    "report": selectors.report_label(d.report_status),
                }
                for d in deliveries
            ],
            "refresh": selectors.refresh_seconds(deliveries, timezone.now()),
        }

    def deliveries_view(self, request, pk):
        """The deliveries part of the schedule page, which the page fetches again while any is not final."""
        schedule = self.get_object(request, str(pk))
        if schedule is None or not self.has_view_permission(request, schedule):
            raise PermissionDenied
        context = self._deliveries_context(request, schedule, schedule.ordered_articles())
        return TemplateResponse(request, "admin/publishing/schedule/_deliveries.html", context)

    def cancel_view(self, request, pk):
        """Cancelling asks first (the action's confirm question); its POST runs the action."""
        schedule = self.get_object(request, str(pk))
        if schedule is None or not self.has_view_permission(request, schedule):
            raise PermissionDenied
        return run_action(self, request, schedule, SCHEDULE_ACTIONS["cancel"])

    def retry_view(self, request, pk):
        delivery = get_object_or_404(Delivery, pk=pk)
        if request.method == "POST":
            try:
                services.delivery_retry(actor=request.user, delivery=delivery)
                messages.success(request, gettext("The delivery will be sent again within seconds."))
            except (ValidationError, PermissionDenied) as error:
                messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        return redirect("admin:publishing_schedule_change", delivery.schedule_id)

    def calendar_view(self, request):
        today = timezone.localdate()
        try:
            anchor = date.fromisoformat(request.GET.get("date", "")) if request.GET.get("date") else today
        except ValueError:
            anchor = today
        week = request.GET.get("view") == "week"
        if week:
            first = anchor - timedelta(days=anchor.weekday())
            days, previous, following = 7, first - timedelta(days=7), first + timedelta(days=7)
        else:
            first = anchor.replace(day=1)
            days = pycalendar.monthrange(first.year, first.month)[1]
            previous = (first - timedelta(days=1)).replace(day=1)
            following = first + timedelta(days=days)
        accounts = list(selectors.visible_accounts(request.user))
        context = {
            "grid": selectors.calendar(accounts, first, days),
            "days": [first + timedelta(days=n) for n in range(days)],
            "week": week,
            "first": first,
            "previous": previous,
            "following": following,
            "today": today,
            "title": gettext("Mass-send calendar"),
            "states": DeliveryState,
        }
        return self._render(request, "admin/publishing/schedule/calendar.html", context)

    def _render(self, request, template, context):
        return TemplateResponse(
            request, template, {**self.admin_site.each_context(request), "opts": self.model._meta, **context}
        )


admin.site.register_dashboard_panel(publishing_panel, order=20)

# The menus, follower tags and account health of WeChat accounts (issue 15) live in their own module.
from publishing import admin_wechat  # noqa: E402, F401
