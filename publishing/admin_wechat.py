"""The admin of a WeChat account's custom menu and follower tags (issue 15): the menu's items edited in one table,
checked against WeChat's limits on save and again before it is pushed; push, pull and the difference on the
menu's page; the tags pulled from WeChat per account."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action

from accounts.scoping import DepartmentScopedAdminMixin, scope_to_department
from publishing import wechat_menu, wechat_tags
from publishing.models import ChannelAccount, Platform, WeChatMenu, WeChatMenuItem, WeChatTag


class MenuItemFormSet(forms.BaseInlineFormSet):
    """Refuses a menu that breaks WeChat's limits, every problem named, before it is even stored."""

    def clean(self):
        super().clean()
        rows = [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.cleaned_data.get("group")
        ]
        if any(form.errors for form in self.forms):
            return
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
class WeChatMenuAdmin(DepartmentScopedAdminMixin, ModelAdmin):
    department_field = "account__department"
    inlines = [WeChatMenuItemInline]
    list_display = ["account", "pushed_at", "pulled_at"]
    readonly_fields = ["pushed_at", "pulled_at", "differences"]
    fields = ["account", "pushed_at", "pulled_at", "differences"]
    actions_detail = ["push_to_wechat", "pull_from_wechat"]

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

    @action(description=_("Push to WeChat"), url_path="push", permissions=["change"])
    def push_to_wechat(self, request, object_id):
        menu = self._menu(request, object_id)
        try:
            wechat_menu.menu_push(menu=menu, actor=request.user)
        except wechat_menu.MenuRefused as refused:
            for problem in refused.problems:
                messages.error(request, problem)
        else:
            messages.success(request, gettext("The menu was pushed to WeChat."))
        return self._back(object_id)

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
