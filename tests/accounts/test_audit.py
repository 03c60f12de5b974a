import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse

from accounts.models import AuditLog, Department
from accounts.services import audit_record

pytestmark = pytest.mark.django_db


def test_login_failed_login_and_logout_are_recorded_with_ip(client, editor, password):
    client.post(reverse("admin:login"), {"username": "editor1", "password": "nope"}, REMOTE_ADDR="10.1.2.3")
    client.post(reverse("admin:login"), {"username": "editor1", "password": password}, REMOTE_ADDR="10.1.2.3")
    client.post(reverse("admin:logout"), REMOTE_ADDR="10.1.2.3")
    entries = list(AuditLog.objects.order_by("id").values_list("action", "actor_username", "ip"))
    assert entries == [
        ("login_failed", "", "10.1.2.3"),
        ("login", "editor1", "10.1.2.3"),
        ("logout", "editor1", "10.1.2.3"),
    ]
    assert AuditLog.objects.get(action="login_failed").detail == {"username": "editor1"}


def test_forwarded_for_is_ignored_without_a_trusted_proxy(client, editor, password):
    client.post(
        reverse("admin:login"),
        {"username": "editor1", "password": password},
        REMOTE_ADDR="10.1.2.3",
        HTTP_X_FORWARDED_FOR="6.6.6.6",
    )
    assert AuditLog.objects.get(action="login").ip == "10.1.2.3"


def test_forwarded_for_is_used_behind_a_trusted_proxy(client, editor, password, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    client.post(
        reverse("admin:login"),
        {"username": "editor1", "password": password},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="6.6.6.6, 202.1.1.1",
    )
    assert AuditLog.objects.get(action="login").ip == "202.1.1.1"


def test_admin_change_records_old_and_new_values_and_hides_the_phone(administrator, editor, login):
    client = login(administrator)
    url = reverse("admin:accounts_user_change", args=[editor.pk])
    response = client.post(
        url,
        {
            "username": editor.username,
            "real_name": "王大编辑",
            "department": editor.department_id,
            "is_active": "on",
            "is_staff": "on",
            "phone": "13700001111",
            "groups": list(editor.groups.values_list("pk", flat=True)),
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
        REMOTE_ADDR="10.9.9.9",
    )
    assert response.status_code == 302
    entry = AuditLog.objects.get(action="admin.change")
    assert entry.actor == administrator
    assert entry.ip == "10.9.9.9"
    assert entry.target_id == str(editor.pk)
    assert entry.detail["changes"]["real_name"] == {"old": "王编辑", "new": "王大编辑"}
    assert entry.detail["changes"]["phone"] == {"old": "******", "new": "******"}
    assert "13700001111" not in str(entry.detail)


def test_admin_add_and_delete_are_recorded(administrator, county, login):
    client = login(administrator)
    client.post(
        reverse("admin:accounts_department_add"), {"code": "tmp", "name": "临时工作组", "order": 0, "is_active": "on"}
    )
    department = Department.objects.get(code="tmp")
    assert AuditLog.objects.filter(action="admin.add", target_id=str(department.pk)).exists()

    from django.contrib.auth.models import Permission

    administrator.user_permissions.add(Permission.objects.get(codename="delete_department"))
    response = client.post(reverse("admin:accounts_department_delete", args=[department.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Department.objects.filter(pk=department.pk).exists()
    assert AuditLog.objects.get(action="admin.delete").target_repr == "临时工作组"


def test_audit_entries_cannot_be_changed_or_deleted_in_the_admin(administrator, audit_admin, login):
    entry = audit_record(actor=administrator, action="login")
    client = login(audit_admin)
    change_url = reverse("admin:accounts_auditlog_change", args=[entry.pk])
    assert client.get(change_url).status_code == 200  # readable
    assert client.post(change_url, {"action": "nothing"}).status_code == 403
    assert client.post(reverse("admin:accounts_auditlog_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:accounts_auditlog_add")).status_code == 403
    entry.refresh_from_db()
    assert entry.action == "login"


def test_superuser_cannot_change_audit_entries_either(superuser, login):
    root = superuser
    entry = audit_record(actor=root, action="login")
    client = login(root)
    assert client.post(reverse("admin:accounts_auditlog_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403


def test_database_refuses_to_update_or_delete_audit_rows(administrator):
    entry = audit_record(actor=administrator, action="login")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditLog.objects.filter(pk=entry.pk).update(action="forged")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditLog.objects.filter(pk=entry.pk).delete()
    assert AuditLog.objects.get(pk=entry.pk).action == "login"


def test_audit_record_outside_a_request_has_no_ip(administrator):
    assert audit_record(actor=administrator, action="task.demo").ip is None
