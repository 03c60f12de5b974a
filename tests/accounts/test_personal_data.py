import pytest
from django.db import connection
from django.urls import reverse

from accounts.masking import mask_id_number, mask_name, mask_phone

pytestmark = pytest.mark.django_db


def test_phone_is_encrypted_in_the_database_and_readable_in_python(editor):
    editor.phone = "13812345678"
    editor.save(update_fields=["phone"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM accounts_user WHERE id = %s", [editor.pk])
        stored = cursor.fetchone()[0]
    assert "13812345678" not in stored
    editor.refresh_from_db()
    assert editor.phone == "13812345678"


def test_user_list_and_form_show_the_phone_masked_only(administrator, editor, login):
    editor.phone = "13812345678"
    editor.save(update_fields=["phone"])
    client = login(administrator)
    for url in (reverse("admin:accounts_user_changelist"), reverse("admin:accounts_user_change", args=[editor.pk])):
        page = client.get(url).content.decode()
        assert "138****5678" in page
        assert "13812345678" not in page


def test_bad_phone_number_gets_a_chinese_error_and_keeps_the_form(administrator, editor, login):
    response = login(administrator).post(
        reverse("admin:accounts_user_change", args=[editor.pk]),
        {
            "username": editor.username,
            "real_name": "改了名字",
            "phone": "12345",
            "is_staff": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "11 位" in page
    assert "改了名字" in page


@pytest.mark.parametrize(
    "func, value, expected",
    [
        (mask_phone, "13812345678", "138****5678"),
        (mask_id_number, "420981199001011234", "4209**********1234"),
        (mask_name, "张三", "张*"),
        (mask_phone, "", ""),
        (mask_phone, "123", "***"),
    ],
)
def test_masking(func, value, expected):
    assert func(value) == expected
