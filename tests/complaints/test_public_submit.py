"""The public 我要写信 form: a message with real attachments is stored and its number and query code are shown
once; script, a bad phone number, a disguised file, a wrong captcha and a flood are each refused in Chinese
with what was typed still in the form, and nothing stored."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext
from PIL import Image

from complaints.models import Attachment, Case, CaseKind, Category
from complaints.services import case_find_for_citizen
from shared import ratelimit
from tests.captcha import captcha_post_data

pytestmark = pytest.mark.django_db

NEW = reverse("complaints:new")
DONE = reverse("complaints:done")


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    ratelimit.clear_all()
    yield
    ratelimit.clear_all()


@pytest.fixture(autouse=True)
def private(settings, tmp_path):
    settings.COMPLAINTS_PRIVATE_DIR = tmp_path / "private"
    return settings.COMPLAINTS_PRIVATE_DIR


def png_file(name="现场照片.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def pdf_file(name="收费单据.pdf"):
    buffer = io.BytesIO()
    Image.new("RGB", (60, 80), "white").save(buffer, "PDF")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/pdf")


def message(client, remote_addr="127.0.0.1", **overrides):
    """The form as a citizen fills it in, with the captcha of a freshly loaded form solved."""
    page = client.get(NEW, REMOTE_ADDR=remote_addr).content.decode()
    return {
        "kind": CaseKind.COMPLAINT,
        "subject": "学校食堂收费问题",
        "content": "孩子学校食堂每月多收伙食费二十元。",
        "name": "张三丰",
        "phone": "13812345678",
        "allow_publish": "on",
        **captcha_post_data(page),
        **overrides,
    }


def send(client, data, remote_addr="127.0.0.1"):
    return client.post(NEW, data, REMOTE_ADDR=remote_addr)


def stored_files(private):
    return [path for path in private.rglob("*") if path.is_file()] if private.exists() else []


def input_value(page: str, name: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page) or re.search(
        rf'<input[^>]*value="([^"]*)"[^>]*name="{name}"', page
    )
    return match.group(1) if match else None


def test_form_page_is_chinese_accessible_and_never_cached(client):
    Category.objects.create(name="教育")
    Category.objects.create(name="旧分类", is_active=False)
    response = client.get(NEW)
    page = response.content.decode()
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert 'lang="zh-CN"' in page
    assert 'enctype="multipart/form-data"' in page
    assert re.search(r'<input type="file" name="attachments"[^>]*multiple', page)
    assert 'accept=".jpg,.jpeg,.png,.pdf"' in page
    assert re.search(r'<input type="tel"[^>]*inputmode="numeric"', page) or re.search(
        r'inputmode="numeric"[^>]*type="tel"', page
    )
    assert 'maxlength="5000"' in page
    for field in ("subject", "content", "name", "phone", "id_number", "captcha"):
        assert f'for="id_{field}"' in page, field
    assert "<legend>" in page  # the type radios are a fieldset with a legend
    assert "教育" in page and "旧分类" not in page
    assert reverse("captcha", args=["x" * 32]).rsplit("/", 2)[0] in page


def test_citizen_sends_a_message_with_a_png_and_a_pdf_and_sees_number_and_code_once(client, private):
    data = message(client, attachments=[png_file(), pdf_file()])
    response = send(client, data)
    assert response.status_code == 303
    assert response["Location"] == DONE

    case = Case.objects.get()
    assert (case.kind, case.channel, case.name, case.phone, case.allow_publish) == (
        "complaint", "web", "张三丰", "13812345678", True,
    )  # fmt: skip
    assert case.registered_by is None
    names = sorted(Attachment.objects.filter(case=case).values_list("original_name", flat=True))
    assert names == ["收费单据.pdf", "现场照片.png"]
    assert len(stored_files(private)) == 2

    done = client.get(DONE)
    page = done.content.decode()
    assert "no-store" in done["Cache-Control"]
    assert case.number in page
    code = re.search(r"<dd>([2-9A-Z]{8})</dd>", page).group(1)
    assert case_find_for_citizen(number=case.number, code=code) == case

    again = client.get(DONE).content.decode()
    assert code not in again and case.number not in again
    assert escape(gettext("The query code has already been shown")) in again
    assert reverse("complaints:track") in again


def test_script_in_content_is_refused_in_chinese_and_typed_values_stay(client):
    data = message(client, content="食堂收费<script>alert(1)</script>问题", subject="收费问题", name="李四")
    response = send(client, data)
    page = response.content.decode()
    assert response.status_code == 200
    expected = gettext(
        "The %(field)s must not contain web page code (HTML tags or scripts). Please write plain text."
    ) % {"field": gettext("content")}
    assert escape(expected) in page
    assert 'id="id_content_error"' in page and 'aria-describedby="id_content_helptext id_content_error"' in page
    assert 'href="#id_content"' in page  # the summary at the top links to the field
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    assert input_value(page, "subject") == "收费问题"
    assert input_value(page, "name") == "李四"
    assert input_value(page, "phone") == "13812345678"
    assert re.search(r'value="complaint"[^>]*checked|checked[^>]*value="complaint"', page)
    assert Case.objects.count() == 0


def test_invalid_phone_is_refused_next_to_the_phone_field(client):
    response = send(client, message(client, phone="1381234"))
    page = response.content.decode()
    expected = gettext("The mobile number must be 11 digits starting with 1, e.g. 13812345678.")
    assert re.search(r'<ul class="errorlist" id="id_phone_error"><li>' + re.escape(escape(expected)), page)
    assert input_value(page, "phone") == "1381234"
    assert Case.objects.count() == 0


def test_missing_fields_are_each_named_at_their_field(client):
    response = send(client, message(client, kind="", subject="  ", content="", name="", phone=""))
    form = response.context["form"]
    assert set(form.errors) == {"kind", "subject", "content", "name", "phone"}
    assert form.errors["kind"] == [gettext("Please choose the type of your message.")]
    assert 'href="#id_kind_0"' in response.content.decode()
    assert Case.objects.count() == 0


def test_disguised_attachment_is_refused_and_nothing_is_stored(client, private):
    program = SimpleUploadedFile("photo.jpg", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200, content_type="image/jpeg")
    response = send(client, message(client, attachments=[png_file(), program], subject="带附件的投诉"))
    page = response.content.decode()
    assert response.status_code == 200
    expected = gettext("“%(name)s” is not a JPG, PNG or PDF file (judged by its content).") % {"name": "photo.jpg"}
    assert escape(expected) in page
    assert 'id="id_attachments_error"' in page
    assert response.context["files_dropped"] is True
    assert input_value(page, "subject") == "带附件的投诉"
    assert Case.objects.count() == 0 and Attachment.objects.count() == 0
    assert stored_files(private) == []


def test_wrong_captcha_is_refused_and_nothing_is_stored(client, private):
    data = message(client, attachments=[png_file()])
    data["captcha_answer"] = "0000"  # 0 is never in a captcha
    response = send(client, data)
    page = response.content.decode()
    assert response.status_code == 200
    assert escape(gettext("The verification code is wrong or has expired. Please enter the new code.")) in page
    assert input_value(page, "subject") == "学校食堂收费问题"
    assert input_value(page, "captcha_key") != data["captcha_key"]  # a new picture
    assert Case.objects.count() == 0 and stored_files(private) == []


def test_flood_from_one_address_is_refused_with_429_and_the_form_kept(client, settings):
    settings.COMPLAINT_SUBMIT_RATE_PER_IP = 2
    for number in range(2):
        assert send(client, message(client, phone=f"1391234567{number}")).status_code == 303
    data = message(client, phone="13712345678", subject="第三封信", content="内容保留")
    refused = send(client, data)
    page = refused.content.decode()
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= settings.COMPLAINT_SUBMIT_RATE_WINDOW
    assert escape(gettext("You have sent several messages in a short while.")) in page
    assert input_value(page, "subject") == "第三封信" and "内容保留" in page
    assert input_value(page, "phone") == "13712345678"
    assert not refused.context["form"].is_bound  # shown again as typed, not validated
    assert Case.objects.count() == 2
    # Every POST counts, valid or not: an invalid one is refused just the same.
    assert send(client, {"subject": "x"}).status_code == 429
    # Another address is not affected.
    assert send(client, message(client, "10.0.0.9", phone="13612345678"), "10.0.0.9").status_code == 303


def test_flood_with_one_phone_number_from_one_address_is_refused(client, settings):
    settings.COMPLAINT_SUBMIT_RATE_PER_PHONE = 2
    for _ in range(2):
        assert send(client, message(client, "10.0.1.1"), "10.0.1.1").status_code == 303
    # The same number typed with spaces is the same number.
    refused = send(client, message(client, "10.0.1.1", phone="138 1234 5678"), "10.0.1.1")
    assert refused.status_code == 429
    assert input_value(refused.content.decode(), "phone") == "138 1234 5678"
    assert Case.objects.count() == 2


def test_junk_without_a_captcha_cannot_lock_a_citizens_number(client, settings):
    settings.COMPLAINT_SUBMIT_RATE_PER_PHONE = 5
    # Someone posts junk with the citizen's number from one address until refused there.
    for _ in range(5):
        assert send(client, {"phone": "13812345678", "subject": "x"}, "203.0.113.5").status_code == 200
    assert send(client, {"phone": "13812345678", "subject": "x"}, "203.0.113.5").status_code == 429
    # The citizen, from home, still sends the message.
    assert send(client, message(client, "192.0.2.50"), "192.0.2.50").status_code == 303
    assert Case.objects.count() == 1


def test_one_number_from_many_addresses_is_stopped_at_the_daily_limit_of_solved_captchas(client, settings):
    settings.COMPLAINT_SUBMIT_RATE_PER_PHONE_DAILY = 2
    for last in range(2):
        address = f"10.0.1.{last}"
        assert send(client, message(client, address), address).status_code == 303
    refused = send(client, message(client, "10.0.1.9", subject="第三封信"), "10.0.1.9")
    page = refused.content.decode()
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 24 * 3600
    assert escape(gettext("Many messages have been sent with this mobile number today.")) in page
    assert input_value(page, "subject") == "第三封信"
    assert Case.objects.count() == 2
    # Another number is unaffected.
    assert send(client, message(client, "10.0.1.9", phone="13912345678"), "10.0.1.9").status_code == 303


def test_refused_flood_with_files_says_to_choose_them_again(client, settings):
    settings.COMPLAINT_SUBMIT_RATE_PER_IP = 0
    refused = send(client, message(client, attachments=[png_file()]))
    assert refused.status_code == 429
    assert refused.context["files_dropped"] is True


def test_topic_and_disclosure_fields_reach_the_case(client):
    topic = Category.objects.create(name="教育")
    data = message(
        client,
        kind=CaseKind.DISCLOSURE_REQUEST,
        category=str(topic.pk),
        applicant_kind="business",
        organisation="示范县某某公司",
        id_number="11010519491231002X",
        allow_publish="",
    )
    assert send(client, data).status_code == 303
    case = Case.objects.get()
    assert (case.kind, case.category, case.applicant_kind, case.organisation, case.id_number) == (
        "disclosure_request", topic, "business", "示范县某某公司", "11010519491231002X",
    )  # fmt: skip
    assert case.allow_publish is False


def test_asking_for_a_new_picture_keeps_the_form_and_spares_the_phone_allowance(client, settings):
    settings.COMPLAINT_SUBMIT_RATE_PER_PHONE = 1
    data = message(client, subject="换图片")
    refreshed = send(client, {**data, "captcha_refresh": "1"})
    page = refreshed.content.decode()
    assert refreshed.status_code == 200
    assert input_value(page, "subject") == "换图片"
    assert list(refreshed.context["form"].errors) == ["captcha"]
    assert send(client, message(client, subject="换图片")).status_code == 303
    assert Case.objects.count() == 1
