from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from accounts.forms import UserAddForm, UserEditForm
from accounts.models import AuditLog, Department, User
from accounts.scoping import DepartmentScopedAdminMixin

ACTION_LABELS = {
    "login": _("Logged in"),
    "logout": _("Logged out"),
    "login_failed": _("Failed login"),
    "admin.add": _("Added in admin"),
    "admin.change": _("Changed in admin"),
    "admin.delete": _("Deleted in admin"),
}


@admin.register(Department)
class DepartmentAdmin(DepartmentScopedAdminMixin, admin.ModelAdmin):
    department_field = None
    list_display = ["indented_name", "code", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "code"]
    fields = ["code", "name", "parent", "order", "is_active"]


@admin.register(User)
class UserAdmin(DepartmentScopedAdminMixin, DjangoUserAdmin):
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
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "real_name", "department", "phone", "password1", "password2"),
            },
        ),
    )
    readonly_fields = ["last_login", "date_joined"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description=_("roles"))
    def roles(self, obj):
        return "、".join(group.name for group in obj.groups.all())

    @admin.display(description=_("mobile phone"))
    def phone_display(self, obj):
        return obj.phone_masked

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and not request.user.is_superuser:
            # Only a superuser hands out superuser status or loose permissions; roles are groups.
            fieldsets = [fs for fs in fieldsets if fs[1]["fields"] != ("is_superuser", "user_permissions")]
        return fieldsets


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(DjangoGroupAdmin):
    """Roles are defined in accounts/roles.py; the admin shows them read-only so the table stays the truth."""

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor_username", "action_label", "target_type", "target_repr", "ip"]
    list_filter = ["action", "target_type", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["actor_username", "target_repr", "target_id", "ip"]
    date_hierarchy = "created_at"
    list_select_related = ["target_type"]
    show_full_result_count = False

    @admin.display(description=_("action"), ordering="action")
    def action_label(self, obj):
        return ACTION_LABELS.get(obj.action, obj.action)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
