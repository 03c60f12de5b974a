"""Staff sign in with a password and a second factor (TOTP app or a recovery code), through the real pages."""

import time

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import otp
from accounts.management.commands.demo_otp import demo_code
from accounts.models import AuditLog

pytestmark = pytest.mark.django_db

INDEX = reverse("admin:index")
VERIFY = reverse("admin:otp_verify")
ENROL = reverse("admin:otp_enrol")


def _password(client, user, password):
    response = client.post(reverse("admin:login"), {"username": user.username, "password": password})
    assert response.status_code == 302
    return response


def test_password_alone_reaches_nothing_but_the_code_page(client, editor, password, authenticator):
    authenticator(editor)
    assert _password(client, editor, password)["Location"].startswith(VERIFY)
    for url in (INDEX, reverse("admin:content_article_changelist"), reverse("admin:accounts_department_changelist")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login")), url
    assert client.get(reverse("admin:login"))["Location"].startswith(VERIFY)
    assert client.get(VERIFY).status_code == 200


def test_staff_without_a_device_is_sent_to_enrolment_and_can_do_nothing_else(client, editor, password):
    _password(client, editor, password)
    assert client.get(VERIFY)["Location"].startswith(ENROL)
    page = client.get(ENROL).content.decode()
    assert 'class="segno"' in page  # the QR code
    assert client.get(INDEX).status_code == 302
    assert client.get(reverse("admin:content_article_add")).status_code == 302


def test_enrolment_by_qr_code_then_ten_recovery_codes_shown_once(client, editor, password):
    _password(client, editor, password)
    page = client.get(ENROL).content.decode()
    device = TOTPDevice.objects.get(user=editor, confirmed=False)
    assert 'class="segno"' in page and otp.secret_base32(device) in page
    response = client.post(ENROL, {"code": demo_code(device)})
    assert response.status_code == 200
    codes = response.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(code in response.content.decode() for code in codes)
    assert client.get(INDEX).status_code == 200
    assert AuditLog.objects.filter(action="otp.enrolled", actor=editor).exists()
    # Shown once: the enrolment page is gone for good, at this sign-in and the next.
    assert client.get(ENROL).status_code == 302
    client.post(reverse("admin:logout"))
    _password(client, editor, password)
    assert client.get(ENROL)["Location"].startswith(VERIFY)
    page = client.get(VERIFY).content.decode()
    assert 'class="segno"' not in page and otp.secret_base32(device) not in page


def test_enrolment_with_a_wrong_code_confirms_nothing(client, editor, password):
    _password(client, editor, password)
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=editor, confirmed=False)
    wrong = f"{(int(demo_code(device)) + 1) % 1000000:06d}"
    response = client.post(ENROL, {"code": wrong})
    assert response.status_code == 200 and "验证码不正确" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=editor, confirmed=True).exists()
    assert client.get(INDEX).status_code == 302


def test_a_wrong_code_is_refused(client, editor, password, authenticator):
    device, code = authenticator(editor)
    _password(client, editor, password)
    wrong = f"{(int(code()) + 1) % 1000000:06d}"
    response = client.post(VERIFY, {"code": wrong})
    assert response.status_code == 200
    assert "验证码不正确或已使用过" in response.content.decode()
    assert client.get(INDEX).status_code == 302
    assert AuditLog.objects.filter(action="otp.failed", actor=editor).exists()


def test_a_replayed_code_is_refused(client, editor, password, authenticator, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # so the next attempt is judged on the code alone
    device, code = authenticator(editor)
    used = code()
    _password(client, editor, password)
    assert client.post(VERIFY, {"code": used}).status_code == 302
    assert client.get(INDEX).status_code == 200
    client.post(reverse("admin:logout"))
    _password(client, editor, password)
    response = client.post(VERIFY, {"code": used})  # the same time step again: django-otp's last_t refuses it
    assert response.status_code == 200
    assert client.get(INDEX).status_code == 302
    assert client.post(VERIFY, {"code": code(at=time.time() + 30)}).status_code == 302  # the next step is fine
    assert client.get(INDEX).status_code == 200


def test_recovery_codes_each_work_once(client, editor, password, authenticator, settings):
    settings.OTP_STATIC_THROTTLE_FACTOR = 0
    authenticator(editor)
    codes = otp.recovery_codes_issue(user=editor)
    _password(client, editor, password)
    assert client.post(VERIFY, {"code": codes[0].upper()}).status_code == 302
    assert client.get(INDEX).status_code == 200
    client.post(reverse("admin:logout"))
    _password(client, editor, password)
    assert client.post(VERIFY, {"code": codes[0]}).status_code == 200  # used up
    assert client.get(INDEX).status_code == 302
    assert client.post(VERIFY, {"code": codes[1]}).status_code == 302
    assert client.get(INDEX).status_code == 200


def test_logout_works_before_the_second_factor(client, editor, password):
    _password(client, editor, password)
    client.post(reverse("admin:logout"))
    assert "_auth_user_id" not in client.session
    assert AuditLog.objects.filter(action="logout", actor=editor).exists()


def test_only_a_security_administrator_resets_a_second_factor(editor, administrator, security_admin, login):
    device, _ = (TOTPDevice.objects.create(user=editor, name="authenticator", confirmed=True), None)
    changelist = reverse("admin:accounts_user_changelist")
    action = {"action": "reset_second_factor", "_selected_action": [editor.pk]}
    client = login(administrator)
    assert "reset_second_factor" not in client.get(changelist).content.decode()
    client.post(changelist, action)
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    client = login(security_admin)
    assert client.post(changelist, action).status_code == 302
    assert not TOTPDevice.objects.filter(user=editor).exists()
    entry = AuditLog.objects.get(action="otp.reset")
    assert (entry.actor, entry.target_id) == (security_admin, str(editor.pk))


def test_a_reset_sends_a_signed_in_user_back_to_enrolment(editor, security_admin, login, client):
    login(editor)
    assert client.get(INDEX).status_code == 200
    otp.second_factor_reset(actor=security_admin, user=editor)
    assert client.get(INDEX).status_code == 302
    assert client.get(VERIFY)["Location"].startswith(ENROL)


def test_a_security_administrator_cannot_reset_a_superusers_second_factor(superuser, security_admin):
    from django.core.exceptions import PermissionDenied

    TOTPDevice.objects.create(user=superuser, name="authenticator", confirmed=True)
    with pytest.raises(PermissionDenied):
        otp.second_factor_reset(actor=security_admin, user=superuser)
    assert TOTPDevice.objects.filter(user=superuser).exists()


def test_demo_otp_prints_the_current_code_with_debug_on(editor, settings, capsys):
    from accounts.demo import DEMO_DEVICE_NAME, demo_totp_key

    settings.DEBUG = True
    device = TOTPDevice.objects.create(user=editor, name=DEMO_DEVICE_NAME, key=demo_totp_key("editor1"))
    call_command("demo_otp", "editor1")
    assert demo_code(device) in capsys.readouterr().out


def test_demo_otp_refuses_with_debug_off(editor, settings):
    from accounts.demo import DEMO_DEVICE_NAME, demo_totp_key

    settings.DEBUG = False
    TOTPDevice.objects.create(user=editor, name=DEMO_DEVICE_NAME, key=demo_totp_key("editor1"))
    with pytest.raises(CommandError, match="DEBUG off"):
        call_command("demo_otp", "editor1")


def test_the_editor_image_upload_needs_the_second_factor_too(client, editor, password, authenticator, cover_png):
    from django.core.files.uploadedfile import SimpleUploadedFile

    authenticator(editor)
    _password(client, editor, password)
    upload = SimpleUploadedFile("a.png", cover_png, content_type="image/png")
    response = client.post(reverse("editor_image_upload"), {"upload": upload})
    assert response.status_code == 403
    assert not AuditLog.objects.filter(action="image.upload").exists()
