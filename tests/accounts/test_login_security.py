from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db

LOGIN_URL = reverse("admin:login")


def _try(client, username, password, address="127.0.0.1"):
    return client.post(LOGIN_URL, {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR=address)


def test_five_failed_logins_lock_the_account_even_for_the_right_password(client, editor, password):
    for _ in range(4):
        assert _try(client, "editor1", "wrong-password").status_code == 200
    assert _try(client, "editor1", "wrong-password").status_code == 429  # the fifth failure locks
    response = _try(client, "editor1", password)
    assert response.status_code == 429
    assert "账号已锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_four_failures_then_success_resets_the_count(client, editor, password):
    for _ in range(4):
        _try(client, "editor1", "wrong-password")
    assert _try(client, "editor1", password).status_code == 302
    assert not AccessAttempt.objects.filter(username="editor1").exists()


def test_lock_lifts_after_thirty_minutes(client, editor, password):
    for _ in range(5):
        _try(client, "editor1", "wrong-password")
    AccessAttempt.objects.filter(username="editor1").update(attempt_time=timezone.now() - timedelta(minutes=31))
    assert _try(client, "editor1", password).status_code == 302


def test_lockout_is_per_account_not_per_office(client, editor, reviewer, password):
    for _ in range(5):
        _try(client, "editor1", "wrong-password")
    # A colleague behind the same address still logs in.
    assert _try(client, "reviewer1", password).status_code == 302


@pytest.mark.parametrize(
    "weak, message",
    [
        ("Ab1!", "密码长度太短"),
        ("abcdefghijk", "至少包含"),
        ("abcdefgh12", "至少包含"),
        ("Password123", "太常见"),
    ],
)
def test_password_policy_rejects_weak_passwords_in_chinese(weak, message):
    with pytest.raises(ValidationError) as excinfo:
        validate_password(weak)
    assert any(message in text for text in excinfo.value.messages), excinfo.value.messages


def test_password_similar_to_username_is_rejected(editor):
    editor.username = "wangxiaoming"
    with pytest.raises(ValidationError) as excinfo:
        validate_password("Wangxiaoming1", user=editor)
    assert any("相似" in text for text in excinfo.value.messages)


def test_strong_password_passes():
    validate_password("Gov-Cms-2026-ok")


def test_session_ends_after_thirty_idle_minutes(client, editor, password, sign_in):
    sign_in(editor, password)
    assert client.get(reverse("admin:index")).status_code == 200
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_session_cookie_is_a_browser_session_cookie_refreshed_on_each_request(client, editor, password):
    response = _try(client, "editor1", password)
    cookie = response.cookies["sessionid"]
    assert cookie["expires"] == "" and cookie["max-age"] == ""
    assert cookie["httponly"]
    before = Session.objects.get().expire_date
    assert before - timezone.now() <= timedelta(minutes=30)
    Session.objects.update(expire_date=timezone.now() + timedelta(minutes=5))
    client.get(reverse("admin:index"))
    assert Session.objects.get().expire_date > timezone.now() + timedelta(minutes=29)


def test_a_stranger_locking_an_account_does_not_lock_out_the_real_user_elsewhere(client, editor, password, settings):
    for _ in range(5):
        _try(client, "editor1", "wrong-password", address="203.0.113.7")
    assert _try(client, "editor1", password, address="203.0.113.7").status_code == 429
    # The real user, at the office: the password step lets them in (the second factor follows it).
    response = _try(client, "editor1", password, address="198.51.100.20")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(editor.pk)


def test_password_spraying_from_one_address_is_stopped_across_usernames(client, editor, password, settings):
    settings.LOGIN_FAILURES_PER_ADDRESS = 8
    for number in range(7):
        assert _try(client, f"user{number}", "Spring-2026!", address="203.0.113.9").status_code == 200
    # The eighth failure, on yet another name, locks the address for every account.
    assert _try(client, "admin", "Spring-2026!", address="203.0.113.9").status_code == 429
    refused = _try(client, "editor1", password, address="203.0.113.9")
    assert refused.status_code == 429 and "_auth_user_id" not in client.session
    assert _try(client, "editor1", password, address="198.51.100.20").status_code == 302


def test_a_good_password_does_not_wipe_the_failures_of_its_address(client, editor, password, settings):
    settings.LOGIN_FAILURES_PER_ADDRESS = 6
    for number in range(5):
        _try(client, f"user{number}", "Spring-2026!", address="203.0.113.9")
    assert _try(client, "editor1", password, address="203.0.113.9").status_code == 302
    client.logout()
    assert _try(client, "user9", "Spring-2026!", address="203.0.113.9").status_code == 429
