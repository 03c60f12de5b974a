"""Staff see a citizen's contact details and files only on purpose, and every such viewing is in the audit log."""

import pytest
from django.urls import reverse

from accounts.models import AuditLog
from tests.complaints.admin_helpers import change, png_upload, with_attachment

pytestmark = pytest.mark.django_db

ID_NUMBER = "11010519491231002X"


@pytest.fixture(autouse=True)
def private(settings, tmp_path):
    settings.COMPLAINTS_PRIVATE_DIR = tmp_path / "private"


@pytest.fixture
def case(routed_case):
    upload = png_upload("学校收费单.png")
    case, _code = routed_case(id_number=ID_NUMBER, attachments=with_attachment(upload))
    case.upload_bytes = upload.read()
    return case


def viewings(case):
    return list(
        AuditLog.objects.filter(action="case.view_personal_data", target_id=str(case.pk)).values_list(
            "actor__username", "detail"
        )
    )


def test_the_case_page_shows_personal_data_masked(case, handler, login):
    page = login(handler).get(change(case)).content.decode()
    assert "13812345678" not in page and ID_NUMBER not in page and "张三丰" not in page
    assert "138****5678" in page and "1101**********002X" in page and "张**" in page
    assert "学校收费单.png" not in page
    assert viewings(case) == []


def test_showing_contact_details_is_a_post_that_is_recorded(case, handler, login):
    client = login(handler)
    url = reverse("admin:complaints_case_contact", args=[case.pk])
    assert client.get(url).status_code == 302  # a link or a prefetch shows nothing
    assert viewings(case) == []
    response = client.post(url)
    page = response.content.decode()
    assert "13812345678" in page and ID_NUMBER in page and "张三丰" in page and "学校收费单.png" in page
    assert "no-store" in response["Cache-Control"]
    assert viewings(case) == [("alice", {"what": "contact_details"})]


def test_downloading_an_attachment_is_recorded_and_never_shown_inline(case, handler, login):
    attachment = case.attachments.get()
    response = login(handler).get(reverse("admin:complaints_case_attachment", args=[case.pk, attachment.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == case.upload_bytes
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "image/png"
    assert viewings(case) == [("alice", {"what": f"attachment {attachment.pk}: 学校收费单.png"})]


def test_an_attachment_of_another_case_is_not_reachable_through_this_case(case, routed_case, handler, login):
    other, _code = routed_case(attachments=with_attachment())
    foreign = other.attachments.get()
    response = login(handler).get(reverse("admin:complaints_case_attachment", args=[case.pk, foreign.pk]))
    assert response.status_code == 404
    assert viewings(case) == [] and viewings(other) == []


def test_a_missing_file_is_a_404_and_not_recorded(case, handler, login, settings, tmp_path):
    settings.COMPLAINTS_PRIVATE_DIR = tmp_path / "elsewhere"
    attachment = case.attachments.get()
    response = login(handler).get(reverse("admin:complaints_case_attachment", args=[case.pk, attachment.pk]))
    assert response.status_code == 404
    assert viewings(case) == []


def test_the_viewing_appears_on_the_case_timeline(case, handler, login):
    client = login(handler)
    client.post(reverse("admin:complaints_case_contact", args=[case.pk]))
    from django.utils.translation import gettext

    page = client.get(change(case)).content.decode()
    assert gettext("Personal data viewed") in page and "吴办理" in page
