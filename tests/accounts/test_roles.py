import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts import roles
from accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _codes(group):
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


@pytest.mark.parametrize("role", list(roles.ROLE_PERMISSIONS))
def test_migrations_create_each_role_with_exactly_its_permissions(role):
    assert _codes(Group.objects.get(name=role)) == roles.ROLE_PERMISSIONS[role]


def test_sync_removes_a_permission_granted_by_hand():
    from django.contrib.auth.models import Permission

    editors = Group.objects.get(name=roles.EDITOR)
    editors.permissions.add(Permission.objects.get(codename="delete_user"))
    roles.sync_role_permissions(Group, Permission)
    assert "accounts.delete_user" not in _codes(editors)


@pytest.mark.parametrize("role", [roles.EDITOR, roles.REVIEWER, roles.DISCLOSURE_OFFICER])
def test_roles_without_user_rights_cannot_open_the_user_list(role, county, login):
    user = UserFactory(department=county["office"], role=role)
    assert login(user).get(reverse("admin:accounts_user_changelist")).status_code == 403


@pytest.mark.parametrize(
    "role",
    [
        roles.EDITOR,
        roles.REVIEWER,
        roles.DISCLOSURE_OFFICER,
        roles.DEPARTMENT_HANDLER,
        roles.ADMINISTRATOR,
        roles.SECURITY_ADMINISTRATOR,
    ],
)
def test_only_audit_administrators_read_the_audit_log(role, county, login, audit_admin):
    user = UserFactory(department=county["office"], role=role)
    assert login(user).get(reverse("admin:accounts_auditlog_changelist")).status_code == 403
    assert login(audit_admin).get(reverse("admin:accounts_auditlog_changelist")).status_code == 200


def test_handler_can_view_but_not_change_a_colleague(handler, teacher_clerk, login):
    client = login(handler)
    url = reverse("admin:accounts_user_change", args=[teacher_clerk.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"username": "hacked", "real_name": "x"})
    assert response.status_code == 403
    teacher_clerk.refresh_from_db()
    assert teacher_clerk.username == "bob"


def test_administrator_adds_a_user_without_choosing_their_password(administrator, county, login):
    client = login(administrator)
    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "newclerk",
            "real_name": "新同事",
            "department": county["police"].pk,
            "phone": "13912345678",
            "password1": "Strong-Pass-2026",
            "password2": "Strong-Pass-2026",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(username="newclerk")
    assert user.phone == "13912345678"
    assert user.department == county["police"]
    assert not user.has_usable_password()  # they set it themselves through a one-time link


def test_administrator_cannot_make_anyone_superuser(administrator, editor, login):
    client = login(administrator)
    url = reverse("admin:accounts_user_change", args=[editor.pk])
    page = client.get(url).content.decode()
    assert 'name="is_superuser"' not in page
    response = client.post(
        url,
        {
            "username": editor.username,
            "real_name": editor.real_name,
            "department": editor.department_id,
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "groups": [Group.objects.get(name=roles.EDITOR).pk],
            "phone": "",
            "last_login_0": "",
            "last_login_1": "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    editor.refresh_from_db()
    assert not editor.is_superuser


def test_roles_cannot_be_edited_or_deleted_in_the_admin(administrator, login):
    client = login(administrator)
    editors = Group.objects.get(name=roles.EDITOR)
    assert client.post(reverse("admin:auth_group_delete", args=[editors.pk]), {"post": "yes"}).status_code == 403
    assert Group.objects.filter(pk=editors.pk).exists()
