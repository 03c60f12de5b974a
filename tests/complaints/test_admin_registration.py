"""Registrars register counter visits, calls and letters; the query code is shown once, on the response."""

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import AuditLog
from complaints.models import Case, CaseChannel, CaseKind, CaseState
from complaints.services import query_code_matches
from tests.complaints.admin_helpers import change, png_upload

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:complaints_case_add")


def letter(**fields):
    return {
        "channel": CaseChannel.LETTER,
        "kind": CaseKind.COMPLAINT,
        "subject": "村道路灯损坏",
        "content": "村口路灯坏了三个月，晚上出行不便。",
        "name": "李四",
        "phone": "",
        "id_number": "",
        "applicant_kind": "natural_person",
        "organisation": "",
        "received_at": "",
        **fields,
    }


def test_a_registered_letter_shows_its_number_and_query_code_once(registrar, login):
    client = login(registrar)
    assert client.get(ADD_URL).status_code == 200
    response = client.post(ADD_URL, letter())
    assert response.status_code == 200
    case = Case.objects.get()
    code = response.context["query_code"]
    assert query_code_matches(case, code)
    page = response.content.decode()
    assert case.number in page and code in page
    assert "no-store" in response["Cache-Control"]
    assert (case.channel, case.registered_by, case.state) == (CaseChannel.LETTER, registrar, CaseState.RECEIVED)
    assert AuditLog.objects.filter(action="case.create", target_id=str(case.pk), actor=registrar).exists()
    # Nowhere afterwards: not on the case page, not in a message.
    later = client.get(change(case))
    assert code not in later.content.decode()


def test_a_phone_call_needs_a_mobile_number_and_keeps_what_was_typed(registrar, login):
    response = login(registrar).post(ADD_URL, letter(channel=CaseChannel.PHONE))
    assert response.status_code == 200
    page = response.content.decode()
    assert gettext("Please fill in a mobile number so that we can contact you.") in page
    assert "村口路灯坏了三个月" in page
    assert not Case.objects.exists()


def test_a_letter_received_earlier_counts_from_its_receipt(registrar, login):
    login(registrar).post(ADD_URL, letter(received_at="2026-03-02 09:30"))
    case = Case.objects.get()
    assert timezone.localtime(case.received_at).isoformat().startswith("2026-03-02T09:30")
    assert case.due_date.isoformat() == "2026-03-09"  # 5 working days after Monday 2 March


def test_a_future_receipt_time_is_refused(registrar, login):
    response = login(registrar).post(ADD_URL, letter(received_at="2099-01-01 09:00"))
    assert gettext("The time of receipt cannot be in the future.") in response.content.decode()
    assert not Case.objects.exists()


def test_a_scanned_letter_is_attached(registrar, login, settings, tmp_path):
    settings.COMPLAINTS_PRIVATE_DIR = tmp_path / "private"
    login(registrar).post(ADD_URL, {**letter(), "attachments": [png_upload("来信扫描.png")]})
    assert [a.original_name for a in Case.objects.get().attachments.all()] == ["来信扫描.png"]


def test_a_disguised_attachment_is_refused(registrar, login, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.COMPLAINTS_PRIVATE_DIR = tmp_path / "private"
    fake = SimpleUploadedFile("扫描.pdf", b"MZ" + b"\0" * 100, content_type="application/pdf")
    response = login(registrar).post(ADD_URL, {**letter(), "attachments": [fake]})
    assert response.status_code == 200 and not Case.objects.exists()


def test_only_registrars_register(handler, administrator, login):
    assert login(handler).get(ADD_URL).status_code == 403
    assert login(administrator).post(ADD_URL, letter()).status_code == 403
    assert not Case.objects.exists()
