"""Department scoping: a non-administrator sees and edits only rows of their own department and its sub-departments.

Use `scope_to_department` in selectors and views, and `DepartmentScopedAdminMixin` in every
ModelAdmin whose rows belong to a department.
"""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from accounts.models import Department
from accounts.roles import is_administrator


def scope_to_department(queryset, user, *, field: str | None = "department"):
    """Rows of `queryset` the user may see. `field` is the path to the row's Department; None when the rows are Departments."""
    if is_administrator(user):
        return queryset
    department = getattr(user, "department", None)
    if department is None:
        return queryset.none()
    lookup = "path__startswith" if field is None else f"{field}__path__startswith"
    return queryset.filter(**{lookup: department.path})


def departments_for(user):
    return scope_to_department(Department.objects.all(), user, field=None)


class DepartmentScopedAdminMixin:
    department_field: str | None = "department"

    def get_queryset(self, request):
        return scope_to_department(super().get_queryset(request), request.user, field=self.department_field)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            # Existing but outside the user's departments: refuse rather than pretend it is missing.
            field = from_field or self.model._meta.pk.name
            try:
                exists = self.model._default_manager.filter(**{field: object_id}).exists()
            except (ValueError, TypeError):
                exists = False
            if exists:
                raise PermissionDenied
        return obj

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Department:
            kwargs["queryset"] = departments_for(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


def require_permission(actor, perm: str) -> None:
    """The services' permission check: raise PermissionDenied, with a message for the user, unless allowed."""
    if not actor.has_perm(perm):
        raise PermissionDenied(_("You do not have permission to do this."))


def department_ids(actor) -> set[int]:
    """The ids of `departments_for(actor)`, read once per user object (a page asks for every button and every
    row of its lists) and again when the actor's own department changes."""
    cached = getattr(actor, "_scoping_department_ids", None)
    if cached is None or cached[0] != actor.department_id:
        cached = (actor.department_id, set(departments_for(actor).values_list("pk", flat=True)))
        actor._scoping_department_ids = cached
    return cached[1]


def works_for(actor, department_id: int | None) -> bool:
    """Whether the department is the actor's own or below it (administrators: any)."""
    return department_id is not None and department_id in department_ids(actor)


def department_members_with(department_id: int, app_label: str, codenames) -> list:
    """Active members of exactly this department who hold one of these permissions of the app (by role, by
    their own grant, or as superusers), with an email address: who a department's notices go to."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from django.db.models import Q

    permissions = Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
    return list(
        get_user_model()
        .objects.filter(department_id=department_id, is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__permissions__in=permissions) | Q(user_permissions__in=permissions))
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )
