from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _gettext
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from unfold.admin import ModelAdmin

from accounts import otp
from accounts.audit_actions import ACTION_LABELS, action_label
from accounts.forms import UserAddForm, UserEditForm
from accounts.models import AuditLog, Department, User
from accounts.roles import grantable_roles, may_manage_user
from accounts.scoping import DepartmentScopedAdminMixin
from accounts.services import audit_record, password_reset_link_create, user_roles_changed

# Django stores permission names in English ("Can add article"); the role page says them in Chinese.
PERMISSION_VERBS = {"add": _("Add"), "change": _("Change"), "delete": _("Delete"), "view": _("View")}


def permission_label(permission) -> str:
    """ "稿件 · 修改" for a model's own permissions; a custom one (review_article) by its translated name."""
    model = permission.content_type.model_class()
    if model is None:
        return permission.name
    verb, _sep, model_name = permission.codename.partition("_")
    if verb in PERMISSION_VERBS and model_name == model._meta.model_name:
        return f"{_gettext(str(model._meta.verbose_name))} · {PERMISSION_VERBS[verb]}"
    names = dict(model._meta.permissions)
    return f"{_gettext(str(model._meta.verbose_name))} · {names.get(permission.codename, permission.name)}"


@admin.register(Department)
class DepartmentAdmin(DepartmentScopedAdminMixin, ModelAdmin):
    department_field = None
    list_display = ["indented_name", "code", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "code"]
    fields = ["code", "name", "parent", "order", "is_active"]


@admin.register(User)
class UserAdmin(DepartmentScopedAdminMixin, DjangoUserAdmin, ModelAdmin):
    form = UserEditForm
    add_form = UserAddForm
    list_display = ["username", "real_name", "department", "roles", "phone_display", "is_active", "last_login"]
    list_filter = ["is_active", "department", "groups", "review_level"]
    search_fields = ["username", "real_name"]
    list_select_related = ["department"]
    ordering = ["department__path", "username"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Person"), {"fields": ("real_name", "phone", "email", "department")}),
        (_("Roles"), {"fields": ("is_active", "is_staff", "groups", "review_level")}),
        (_("Administrator only"), {"fields": ("is_superuser", "user_permissions")}),
        (_("History"), {"fields": ("last_login", "date_joined")}),
    )
    # No password on the add page: the new user sets their own through a one-time link (the password page).
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "real_name", "department", "phone"),
            },
        ),
    )
    add_form_template = "admin/change_form.html"
    readonly_fields = ["last_login", "date_joined"]
    actions = ["reset_second_factor"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    def get_urls(self):
        return [
            path(
                "<id>/phone/",
                self.admin_site.admin_view(self.phone_reveal_view),
                name="accounts_user_phone",
            ),
            *super().get_urls(),
        ]

    # -- who may change whom (三权分立) --------------------------------------------------------------

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or may_manage_user(request.user, obj))

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or may_manage_user(request.user, obj))

    def has_reset_second_factor_permission(self, request):
        return request.user.has_perm("accounts.reset_second_factor")

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups":
            # Only the roles this administrator may hand out are offered (and accepted).
            kwargs["queryset"] = Group.objects.filter(name__in=grantable_roles(request.user)).order_by("name")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.has_perm("accounts.grant_approver_roles"):
            fields.append("review_level")
        return fields

    def save_model(self, request, obj, form, change):
        if "groups" in form.cleaned_data:
            old = set(obj.groups.values_list("name", flat=True)) if change else set()
            new = {group.name for group in form.cleaned_data["groups"]}
            if (old ^ new) - grantable_roles(request.user):
                raise PermissionDenied
            request._roles_before = old
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        old = getattr(request, "_roles_before", None)
        if old is not None:
            new = set(form.instance.groups.values_list("name", flat=True))
            if new != old:
                user_roles_changed(actor=request.user, user=form.instance, old=old, new=new)

    # -- passwords: never set by someone else, only a one-time link the user completes --------------

    def user_change_password(self, request, id, form_url=""):
        user = self.get_object(request, unquote(id))
        if user is None:
            raise Http404
        if user.pk == request.user.pk:
            return redirect("admin:password_change")
        if not self.has_change_permission(request, user):
            raise PermissionDenied
        link = None
        if request.method == "POST":
            link = password_reset_link_create(actor=request.user, user=user, base_url=request.build_absolute_uri("/"))
        context = {
            **self.admin_site.each_context(request),
            "title": _gettext("Password of %(name)s") % {"name": user},
            "opts": self.opts,
            "original": user,
            "link": link,
            "has_usable_password": user.has_usable_password(),
        }
        return TemplateResponse(request, "admin/accounts/user/password_reset_link.html", context)

    # -- the mobile number: masked unless the viewer may edit the user; revealing it is audited -----

    @admin.display(description=_("mobile phone"))
    def phone_on_page(self, obj):
        if not obj.phone:
            return "-"
        url = reverse("admin:accounts_user_phone", args=[obj.pk])
        return format_html('{} <a href="{}">{}</a>', obj.phone_masked, url, _("Show in full"))

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and not request.user.is_superuser:
            # Only a superuser hands out superuser status or loose permissions; roles are groups.
            fieldsets = [fs for fs in fieldsets if fs[1]["fields"] != ("is_superuser", "user_permissions")]
        if obj is not None and not self.has_change_permission(request, obj):
            fieldsets = [
                (name, {**options, "fields": tuple("phone_on_page" if f == "phone" else f for f in options["fields"])})
                for name, options in fieldsets
            ]
        return fieldsets

    def phone_reveal_view(self, request, id):
        user = self.get_object(request, unquote(id))
        if user is None:
            raise Http404
        if not self.has_view_or_change_permission(request, user):
            raise PermissionDenied
        phone = None
        if request.method == "POST":
            audit_record(actor=request.user, action="user.view_personal_data", target=user, detail={"what": "phone"})
            phone = user.phone
        context = {
            **self.admin_site.each_context(request),
            "title": _gettext("Mobile phone of %(name)s") % {"name": user},
            "opts": self.opts,
            "original": user,
            "masked": user.phone_masked,
            "phone": phone,
        }
        return TemplateResponse(request, "admin/accounts/user/phone_reveal.html", context)

    # -- the second factor ----------------------------------------------------------------------------

    @admin.action(
        description=_("Reset the second factor (the user sets it up again)"), permissions=["reset_second_factor"]
    )
    def reset_second_factor(self, request, queryset):
        done, refused = 0, []
        for user in queryset:
            try:
                otp.second_factor_reset(actor=request.user, user=user)
                done += 1
            except PermissionDenied:
                refused.append(str(user))
        if done:
            self.message_user(
                request,
                ngettext(
                    "The second factor of %(count)d user was reset; they set it up again at their next sign-in.",
                    "The second factor of %(count)d users was reset; they set it up again at their next sign-in.",
                    done,
                )
                % {"count": done},
                messages.SUCCESS,
            )
        if refused:
            self.message_user(
                request,
                _gettext("Not reset (you may not manage them): %(names)s") % {"names": "、".join(refused)},
                messages.ERROR,
            )

    @admin.display(description=_("roles"))
    def roles(self, obj):
        return "、".join(group.name for group in obj.groups.all())

    @admin.display(description=_("mobile phone"))
    def phone_display(self, obj):
        return obj.phone_masked


admin.site.unregister(Group)
# Devices change only through enrolment and a security administrator's audited reset (accounts/otp.py).
for _device_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_device_model):
        admin.site.unregister(_device_model)


@admin.register(Group)
class GroupAdmin(DjangoGroupAdmin, ModelAdmin):
    """Roles are defined in accounts/roles.py. Only a security administrator (or a superuser) changes a
    role's permissions here; the change is audited with the old and new permissions, and the next
    migrate restores the table in accounts/roles.py, which stays the truth."""

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name == "permissions":
            field.label_from_instance = permission_label
        return field

    def has_add_permission(self, request):
        return request.user.has_perm("auth.add_group")

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("auth.change_group")

    def has_delete_permission(self, request, obj=None):
        return False


class AuditActionFilter(admin.SimpleListFilter):
    """The action filter in words, not codes."""

    title = _("action")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return sorted(ACTION_LABELS.items(), key=lambda item: item[0])

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


class TargetTypeFilter(admin.SimpleListFilter):
    """What the entries are about, by the model's name alone (a library's models, django-otp's devices, have
    English names that the catalogue translates here)."""

    title = _("target type")
    parameter_name = "target_type__id__exact"

    def lookups(self, request, model_admin):
        types = ContentType.objects.filter(pk__in=AuditLog.objects.values("target_type").distinct())
        named = [
            (kind.pk, _gettext(str(kind.model_class()._meta.verbose_name))) for kind in types if kind.model_class()
        ]
        return sorted(named, key=lambda item: item[1])

    def queryset(self, request, queryset):
        return queryset.filter(target_type_id=self.value()) if self.value() else queryset


@admin.register(AuditLog)
class AuditLogAdmin(ModelAdmin):
    list_display = ["created_at", "actor_username", "action_label", "target_kind", "target_repr", "ip"]
    list_filter = [AuditActionFilter, TargetTypeFilter, ("created_at", admin.DateFieldListFilter)]
    search_fields = ["actor_username", "target_repr", "target_id", "ip"]
    date_hierarchy = "created_at"
    list_select_related = ["target_type"]
    show_full_result_count = False

    @admin.display(description=_("target type"), ordering="target_type")
    def target_kind(self, obj):
        model = obj.target_type.model_class() if obj.target_type else None
        return _gettext(str(model._meta.verbose_name)) if model else ""

    @admin.display(description=_("action"), ordering="action")
    def action_label(self, obj):
        return action_label(obj.action)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
