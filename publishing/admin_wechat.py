"""The admin of a WeChat account's custom menu and follower tags (issue 15): the menu's items edited in one table,
checked against WeChat's limits on save and again before it is pushed; push (the PushMenu action's button, like
every workflow button), pull and the difference on the menu's page; the tags pulled from WeChat per account."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action

from accounts.scoping import DepartmentScopedAdminMixin, scope_to_department
from govcms.admin_workflow import WorkflowButtonsMixin
from govcms.workbench import Card, panel
from publishing import health, wechat_menu, wechat_tags
from publishing.actions import MENU_ACTIONS
from publishing.models import (
    AccountHealthNotice,
    ChannelAccount,
    Platform,
    WeChatArticleStats,
    WeChatDailyStats,
    WeChatMenu,
    WeChatMenuItem,
    WeChatTag,
)
from shared import charts


class MenuItemFormSet(forms.BaseInlineFormSet):
    """Refuses a menu that breaks WeChat's limits, every problem named, before it is even stored."""

    def clean(self):
        super().clean()
        if any(form.errors for form in self.forms):
            return  # each row's own errors first: its cleaned data is incomplete
        rows = [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.cleaned_data.get("group")
        ]
        places = [(row["group"], row["position"]) for row in rows]
        if len(set(places)) != len(places):
            raise ValidationError(gettext("Two items have the same first-level item and sub-item numbers."))
        problems = wechat_menu.menu_problems(wechat_menu.buttons_of(rows))
        if problems:
            raise ValidationError(problems)


class WeChatMenuItemInline(TabularInline):
    model = WeChatMenuItem
    formset = MenuItemFormSet
    extra = 0
    fields = ["group", "position", "name", "kind", "key", "url", "appid", "pagepath", "article_id"]


@admin.register(WeChatMenu)
class WeChatMenuAdmin(WorkflowButtonsMixin, DepartmentScopedAdminMixin, ModelAdmin):
    department_field = "account__department"
    workflow_actions = MENU_ACTIONS  # the push button
    inlines = [WeChatMenuItemInline]
    list_display = ["account", "pushed_at", "pulled_at"]
    readonly_fields = ["pushed_at", "pulled_at", "differences"]
    fields = ["account", "pushed_at", "pulled_at", "differences"]
    actions_detail = ["pull_from_wechat"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("account")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "account":
            kwargs["queryset"] = scope_to_department(
                ChannelAccount.objects.filter(platform=Platform.WECHAT, is_active=True), request.user
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("difference from WeChat"))
    def differences(self, obj):
        if obj is None or obj.pulled_at is None:
            return gettext("Not pulled from WeChat yet.")
        lines = wechat_menu.menu_differences(wechat_menu.buttons_of(obj.items.all()), obj.remote_buttons)
        if not lines:
            return gettext("The menu on WeChat is the same as the one saved here.")
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((line,) for line in lines)))

    def _menu(self, request, object_id):
        menu = self.get_object(request, object_id)
        if menu is None:
            raise Http404
        if not self.has_change_permission(request, menu):
            raise PermissionDenied
        return menu

    def _back(self, object_id):
        return redirect(reverse("admin:publishing_wechatmenu_change", args=[object_id]))

    @action(description=_("Pull from WeChat"), url_path="pull", permissions=["change"])
    def pull_from_wechat(self, request, object_id):
        menu = self._menu(request, object_id)
        try:
            wechat_menu.menu_pull(menu=menu)
        except wechat_menu.MenuRefused as refused:
            for problem in refused.problems:
                messages.error(request, problem)
        else:
            messages.success(request, gettext("The menu on WeChat was pulled; its difference is shown below."))
        return self._back(object_id)


@admin.register(WeChatTag)
class WeChatTagAdmin(DepartmentScopedAdminMixin, ModelAdmin):
    department_field = "account__department"
    list_display = ["account", "tag_id", "name", "follower_count", "pulled_at"]
    list_filter = ["account"]
    actions_list = ["pull_tags"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("account")

    def has_add_permission(self, request):
        return False  # tags come from WeChat only

    def has_change_permission(self, request, obj=None):
        return False

    @action(description=_("Pull tags from WeChat"), url_path="pull", permissions=["view"])
    def pull_tags(self, request):
        accounts = scope_to_department(
            ChannelAccount.objects.filter(platform=Platform.WECHAT, is_active=True), request.user
        )
        for account in accounts:
            try:
                count = wechat_tags.tags_pull(account=account)
            except wechat_tags.TagsUnavailable as error:
                messages.error(request, str(error))
            else:
                messages.success(
                    request, gettext("%(account)s: %(count)s tags pulled.") % {"account": account, "count": count}
                )
        return redirect(reverse("admin:publishing_wechattag_changelist"))


def _health_allowed(request) -> None:
    if not request.user.has_perm("publishing.view_channelaccount"):
        raise PermissionDenied


@admin.register(AccountHealthNotice)
class AccountHealthNoticeAdmin(DepartmentScopedAdminMixin, ModelAdmin):
    """The notices mailed to departments (one per account and day), and the health pages of the accounts."""

    department_field = "account__department"
    list_display = ["day", "account", "level", "sent_at"]
    list_filter = ["day"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("accounts/", wrap(self.health_view), name="publishing_account_health"),
            path("accounts/<int:account_id>/", wrap(self.health_detail_view), name="publishing_account_health_detail"),
        ] + super().get_urls()

    def _context(self, request, **context):
        return {**self.admin_site.each_context(request), "opts": self.model._meta, **context,
                "warning_days": settings.HEALTH_WARNING_DAYS, "alarm_days": settings.HEALTH_ALARM_DAYS}  # fmt: skip

    def health_view(self, request):
        _health_allowed(request)
        accounts = scope_to_department(health.watched_accounts(), request.user)
        rows = health.health_of(accounts)
        context = self._context(request, title=gettext("Account health"), rows=rows)
        return TemplateResponse(request, "admin/publishing/account_health.html", context)

    def health_detail_view(self, request, account_id):
        _health_allowed(request)
        account = get_object_or_404(scope_to_department(health.watched_accounts(), request.user), pk=account_id)
        (row,) = health.health_of([account])
        notices = AccountHealthNotice.objects.filter(account=account).order_by("-day")[:30]
        statistics = statistics_charts(account)
        context = self._context(request, title=gettext("Health of %(account)s") % {"account": account.name},
                                rows=[row], notices=notices, detail=True, **statistics)  # fmt: skip
        return TemplateResponse(request, "admin/publishing/account_health.html", context)


def statistics_charts(account) -> dict:
    """Followers over the last 30 days stored and the reads and shares of the latest articles (datacube)."""
    days = list(WeChatDailyStats.objects.filter(account=account).order_by("-day")[:30])[::-1]
    articles = list(WeChatArticleStats.objects.filter(account=account).order_by("-sent_on", "msgid")[:10])
    followers = charts.column_chart(
        [gettext("followers")],
        [day.day.strftime("%m-%d") for day in days],
        [[day.followers for day in days]],
        title=gettext("Followers over the last 30 days"),
    ) if days else charts.no_data_chart(title=gettext("Followers over the last 30 days"))  # fmt: skip
    return {
        "followers_chart": followers,
        "reads_chart": charts.bar_chart([(a.title, a.reads) for a in articles], title=gettext("Reads per article")),
        "shares_chart": charts.bar_chart([(a.title, a.shares) for a in articles], title=gettext("Shares per article")),
        "articles": articles,
    }


def health_panel(request):
    """The workbench's card: how many visible accounts are in alarm (red) or warning, each account's silent days."""
    if not request.user.has_perm("publishing.view_channelaccount"):
        return None
    rows = health.health_of(scope_to_department(health.watched_accounts(), request.user))
    if not rows:
        return None
    alarms = sum(row.level == health.ALARM for row in rows)
    warnings = sum(row.level == health.WARNING for row in rows)
    card = Card(
        "account_health",
        gettext("Account health"),
        f"{alarms}/{len(rows)}",
        hint=gettext("accounts not updated for %(days)s days or more; %(warnings)s more with a warning")
        % {"days": settings.HEALTH_ALARM_DAYS, "warnings": warnings},
        url=reverse("admin:publishing_account_health"),
        alarm=alarms > 0,
        lines=[(row.account.name, row.card_line) for row in rows],
    )
    return panel("account_health", gettext("Account health"), [], cards=[card])


admin.site.register_dashboard_panel(health_panel, order=25)
