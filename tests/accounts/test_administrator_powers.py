"""三权分立: the system, security and audit administrators each hold one power; none raises anyone's."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from accounts import roles
from accounts.admin import UserAdmin
from accounts.models import AuditLog, User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ACTORS = ["sysadmin", "secadmin", "auditor", "superuser", "editor"]


@pytest.fixture
def people(administrator, security_admin, audit_admin, superuser, editor, reviewer, teacher_clerk, county):
    other_root = UserFactory(username="root2", is_superuser=True, department=county["office"], phone="13800001111")
    teacher_clerk.phone = "13912345678"
    teacher_clerk.save(update_fields=["phone"])
    return {
        "actors": dict(zip(ACTORS, [administrator, security_admin, audit_admin, superuser, editor], strict=True)),
        "targets": {"superuser": other_root, "reviewer": reviewer, "editor": teacher_clerk},
    }


def _user_urls(target):
    return {
        "accounts_user_changelist": reverse("admin:accounts_user_changelist"),
        "accounts_user_add": reverse("admin:accounts_user_add"),
        "accounts_user_change": reverse("admin:accounts_user_change", args=[target.pk]),
        "auth_user_password_change": reverse("admin:auth_user_password_change", args=[target.pk]),
        "accounts_user_history": reverse("admin:accounts_user_history", args=[target.pk]),
        "accounts_user_delete": reverse("admin:accounts_user_delete", args=[target.pk]),
        "accounts_user_phone": reverse("admin:accounts_user_phone", args=[target.pk]),
    }


# Expected GET status per URL, per target, per actor (sysadmin, secadmin, auditor, superuser, editor).
EXPECTED = {
    "superuser": {
        "accounts_user_changelist": (200, 200, 403, 200, 403),
        "accounts_user_add": (200, 403, 403, 200, 403),
        "accounts_user_change": (200, 200, 403, 200, 403),  # read-only for the administrators
        "auth_user_password_change": (403, 403, 403, 200, 403),
        "accounts_user_history": (200, 200, 403, 200, 403),
        "accounts_user_delete": (403, 403, 403, 200, 403),
        "accounts_user_phone": (200, 200, 403, 200, 403),
    },
    "reviewer": {
        "accounts_user_change": (200, 200, 403, 200, 403),
        "auth_user_password_change": (403, 200, 403, 200, 403),
        "accounts_user_history": (200, 200, 403, 200, 403),
        "accounts_user_delete": (403, 403, 403, 200, 403),
        "accounts_user_phone": (200, 200, 403, 200, 403),
    },
    "editor": {
        "accounts_user_change": (200, 200, 403, 200, 403),
        "auth_user_password_change": (200, 200, 403, 200, 403),
        "accounts_user_history": (200, 200, 403, 200, 403),
        "accounts_user_delete": (403, 403, 403, 200, 403),
        "accounts_user_phone": (200, 200, 403, 200, 403),
    },
}
# Whether the change page accepts a POST (else 403), per target, per actor.
CAN_CHANGE = {
    "superuser": (False, False, False, True, False),
    "reviewer": (False, True, False, True, False),
    "editor": (True, True, False, True, False),
}
GROUP_EXPECTED = {
    "auth_group_changelist": (200, 200, 403, 200, 403),
    "auth_group_add": (403, 403, 403, 200, 403),
    "auth_group_change": (200, 200, 403, 200, 403),
    "auth_group_delete": (403, 403, 403, 403, 403),
}


def test_the_walk_covers_every_user_admin_url():
    from django.contrib import admin

    names = {pattern.name for pattern in UserAdmin(User, admin.site).get_urls() if pattern.name}
    assert names == set(EXPECTED["superuser"])


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("target", ["superuser", "reviewer", "editor"])
def test_every_user_admin_url_as_each_administrator(actor, target, people, login):
    index = ACTORS.index(actor)
    client = login(people["actors"][actor])
    target_user = people["targets"][target]
    for name, url in _user_urls(target_user).items():
        if name not in EXPECTED[target]:
            continue
        assert client.get(url).status_code == EXPECTED[target][name][index], (actor, target, name)
    change_url = reverse("admin:accounts_user_change", args=[target_user.pk])
    response = client.post(change_url, _change_data(target_user, real_name="改过的名字"))
    assert response.status_code == (302 if CAN_CHANGE[target][index] else 403), (actor, target)
    target_user.refresh_from_db()
    assert (target_user.real_name == "改过的名字") is CAN_CHANGE[target][index]


@pytest.mark.parametrize("actor", ACTORS)
def test_every_role_admin_url_as_each_administrator(actor, people, login):
    index = ACTORS.index(actor)
    client = login(people["actors"][actor])
    group = Group.objects.get(name=roles.EDITOR)
    urls = {
        "auth_group_changelist": reverse("admin:auth_group_changelist"),
        "auth_group_add": reverse("admin:auth_group_add"),
        "auth_group_change": reverse("admin:auth_group_change", args=[group.pk]),
        "auth_group_delete": reverse("admin:auth_group_delete", args=[group.pk]),
    }
    for name, url in urls.items():
        assert client.get(url).status_code == GROUP_EXPECTED[name][index], (actor, name)


def _change_data(user, **overrides):
    data = {
        "username": user.username,
        "real_name": user.real_name,
        "department": user.department_id,
        "is_active": "on",
        "is_staff": "on",
        "phone": "",
        "groups": list(user.groups.values_list("pk", flat=True)),
        "review_level": user.review_level or "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    data.update(overrides)
    return data


def _role(name):
    return Group.objects.get(name=name).pk


def test_system_administrator_cannot_set_a_superusers_password(people, login, password):
    root2 = people["targets"]["superuser"]
    client = login(people["actors"]["sysadmin"])
    url = reverse("admin:auth_user_password_change", args=[root2.pk])
    response = client.post(url, {"password1": "Taken-Over-2026", "password2": "Taken-Over-2026"})
    assert response.status_code == 403
    root2.refresh_from_db()
    assert root2.check_password(password)


@pytest.mark.parametrize("role", [roles.REVIEWER, roles.COMPLAINT_REVIEWER, roles.ADMINISTRATOR,
                                  roles.SECURITY_ADMINISTRATOR, roles.AUDIT_ADMINISTRATOR])  # fmt: skip
def test_system_administrator_cannot_grant_approver_or_administrator_roles(role, people, login):
    clerk = people["targets"]["editor"]
    client = login(people["actors"]["sysadmin"])
    url = reverse("admin:accounts_user_change", args=[clerk.pk])
    assert f'value="{_role(role)}"' not in client.get(url).content.decode()
    response = client.post(url, _change_data(clerk, groups=[_role(roles.EDITOR), _role(role)]))
    assert response.status_code == 200  # the form refuses the choice
    assert set(clerk.groups.values_list("name", flat=True)) == {roles.EDITOR}


def test_system_administrator_grants_an_ordinary_role_audited_with_old_and_new(people, login):
    clerk = people["targets"]["editor"]
    client = login(people["actors"]["sysadmin"])
    url = reverse("admin:accounts_user_change", args=[clerk.pk])
    groups = [_role(roles.EDITOR), _role(roles.DISCLOSURE_OFFICER)]
    assert client.post(url, _change_data(clerk, groups=groups)).status_code == 302
    entry = AuditLog.objects.get(action="user.roles_changed")
    assert entry.actor == people["actors"]["sysadmin"]
    assert entry.detail["old"] == [roles.EDITOR]
    assert sorted(entry.detail["new"]) == sorted([roles.EDITOR, roles.DISCLOSURE_OFFICER])
    assert entry.detail["added"] == [roles.DISCLOSURE_OFFICER]


def test_security_administrator_grants_a_reviewer_role(people, login):
    clerk = people["targets"]["editor"]
    client = login(people["actors"]["secadmin"])
    url = reverse("admin:accounts_user_change", args=[clerk.pk])
    response = client.post(url, _change_data(clerk, groups=[_role(roles.REVIEWER)], review_level=1))
    assert response.status_code == 302, response.content.decode()[:2000]
    clerk.refresh_from_db()
    assert set(clerk.groups.values_list("name", flat=True)) == {roles.REVIEWER}
    assert clerk.review_level == 1
    entry = AuditLog.objects.get(action="user.roles_changed")
    assert (entry.detail["old"], entry.detail["new"]) == ([roles.EDITOR], [roles.REVIEWER])


def test_security_administrator_cannot_grant_administrator_roles_or_touch_a_peer(people, login):
    client = login(people["actors"]["secadmin"])
    clerk = people["targets"]["editor"]
    url = reverse("admin:accounts_user_change", args=[clerk.pk])
    response = client.post(url, _change_data(clerk, groups=[_role(roles.ADMINISTRATOR)]))
    assert response.status_code == 200
    assert not clerk.groups.filter(name=roles.ADMINISTRATOR).exists()
    sysadmin = people["actors"]["sysadmin"]
    url = reverse("admin:accounts_user_change", args=[sysadmin.pk])
    assert client.post(url, _change_data(sysadmin, is_active="")).status_code == 403
    sysadmin.refresh_from_db()
    assert sysadmin.is_active


def test_an_administrator_cannot_change_themself(people, login):
    sysadmin = people["actors"]["sysadmin"]
    client = login(sysadmin)
    url = reverse("admin:accounts_user_change", args=[sysadmin.pk])
    assert client.post(url, _change_data(sysadmin, groups=[_role(roles.REVIEWER)])).status_code == 403
    assert client.get(reverse("admin:auth_user_password_change", args=[sysadmin.pk])).status_code == 302


def test_only_a_security_administrator_changes_a_roles_permissions(people, login):
    group = Group.objects.get(name=roles.EDITOR)
    url = reverse("admin:auth_group_change", args=[group.pk])
    extra = Permission.objects.get(codename="review_article")
    data = {"name": group.name, "permissions": [*group.permissions.values_list("pk", flat=True), extra.pk]}
    assert login(people["actors"]["sysadmin"]).post(url, data).status_code == 403
    assert not group.permissions.filter(pk=extra.pk).exists()
    assert login(people["actors"]["secadmin"]).post(url, data).status_code == 302
    assert group.permissions.filter(pk=extra.pk).exists()
    entry = AuditLog.objects.get(action="admin.change", target_id=str(group.pk))
    assert entry.actor == people["actors"]["secadmin"]
    changes = entry.detail["changes"]["permissions"]
    assert extra.pk in [item["id"] for item in changes["new"]]
    assert extra.pk not in [item["id"] for item in changes["old"]]


def test_password_is_set_only_by_the_user_through_a_one_time_link(people, login, client):
    clerk = people["targets"]["editor"]
    admin_client = login(people["actors"]["sysadmin"])
    url = reverse("admin:auth_user_password_change", args=[clerk.pk])
    page = admin_client.get(url).content.decode()
    assert 'name="password1"' not in page
    page = admin_client.post(url).content.decode()
    link = page.split('value="http://testserver', 1)[1].split('"', 1)[0]
    assert AuditLog.objects.filter(action="user.password_reset_link", target_id=str(clerk.pk)).exists()
    admin_client.logout()
    response = client.get(link)
    assert response.status_code == 302  # Django hides the token from the address
    form_url = response["Location"]
    response = client.post(form_url, {"new_password1": "Own-Choice-2026", "new_password2": "Own-Choice-2026"})
    assert response.status_code == 302
    clerk.refresh_from_db()
    assert clerk.check_password("Own-Choice-2026")
    assert client.get(link).status_code == 200  # used: the page now says the link is invalid
    assert "Own-Choice-2026" not in str(list(AuditLog.objects.values_list("detail", flat=True)))


def test_staff_phone_is_masked_for_view_only_users_and_revealing_it_is_audited(handler, teacher_clerk, login):
    teacher_clerk.phone = "13912345678"
    teacher_clerk.save(update_fields=["phone"])
    client = login(handler)
    page = client.get(reverse("admin:accounts_user_change", args=[teacher_clerk.pk])).content.decode()
    assert "13912345678" not in page
    assert "139****5678" in page
    reveal = reverse("admin:accounts_user_phone", args=[teacher_clerk.pk])
    assert "13912345678" not in client.get(reveal).content.decode()
    assert not AuditLog.objects.filter(action="user.view_personal_data").exists()
    assert "13912345678" in client.post(reveal).content.decode()
    entry = AuditLog.objects.get(action="user.view_personal_data")
    assert (entry.actor, entry.target_id) == (handler, str(teacher_clerk.pk))


def test_the_editor_of_a_user_sees_only_the_masked_phone_in_the_form(people, login):
    clerk = people["targets"]["editor"]
    page = login(people["actors"]["sysadmin"]).get(reverse("admin:accounts_user_change", args=[clerk.pk]))
    assert "13912345678" not in page.content.decode()
    assert "139****5678" in page.content.decode()


@pytest.mark.parametrize("actor", ["secadmin", "auditor"])
def test_the_new_administrators_dashboards_render(actor, people, login):
    page = login(people["actors"][actor]).get(reverse("admin:index"))
    assert page.status_code == 200
    assert (reverse("admin:accounts_auditlog_changelist") in page.content.decode()) is (actor == "auditor")
