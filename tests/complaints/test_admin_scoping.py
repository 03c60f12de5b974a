"""A handler of another department cannot see, open, export or act on a case: every admin URL of a case is
checked, taken from CaseAdmin.get_urls() so that a URL added later is checked too."""

import pytest
from django.contrib import admin
from django.urls import reverse

from accounts.models import AuditLog
from complaints.actions import CASE_ACTIONS
from complaints.models import Case, CaseState
from complaints.services import reply_save, reply_submit
from tests.complaints.admin_helpers import change, with_attachment

pytestmark = pytest.mark.django_db

PREFIX = "/admin/complaints/case/"
# URL parameters naming a case (or something of a case): the patterns holding one are a case's URLs.
CASE_PARAMETERS = ("<int:pk>", "<path:object_id>")


@pytest.fixture(autouse=True)
def private(settings, tmp_path):
    settings.COMPLAINTS_PRIVATE_DIR = tmp_path / "private"


@pytest.fixture
def education_case(make_case, registrar, handler, county):
    """A complaint of education with an attachment and a reply in review: every action has something to act on."""
    from complaints.services import case_route

    case, _code = make_case(subject="学校食堂收费问题", attachments=with_attachment())
    case = case_route(actor=registrar, case=case, department=county["education"])
    reply_save(actor=handler, case=case, body="经核查，已退还多收的伙食费。")
    reply_submit(actor=handler, case=case)
    return Case.objects.get(pk=case.pk)


def case_urls(case) -> list[str]:
    """Every URL of CaseAdmin that names a case, filled in for `case` (each action by name)."""
    attachment = case.attachments.get()
    urls = []
    for pattern in admin.site._registry[Case].get_urls():
        route = str(pattern.pattern)
        if not any(parameter in route for parameter in CASE_PARAMETERS):
            continue
        filled = (
            route.replace("<int:pk>", str(case.pk))
            .replace("<path:object_id>", str(case.pk))
            .replace("<int:attachment_pk>", str(attachment.pk))
        )
        if "<str:action>" in filled:
            urls += [PREFIX + filled.replace("<str:action>", action.code) for action in CASE_ACTIONS]
        else:
            assert "<" not in filled, f"a parameter the test does not know: {route}"
            urls.append(PREFIX + filled)
    return urls


def test_every_case_url_is_found(education_case):
    urls = case_urls(education_case)
    pk = education_case.pk
    expected = {
        f"{PREFIX}{pk}/change/",
        f"{PREFIX}{pk}/history/",
        f"{PREFIX}{pk}/delete/",
        f"{PREFIX}{pk}/contact/",
        f"{PREFIX}{pk}/action/route/",
        f"{PREFIX}{pk}/action/publish/",
    }
    assert expected <= set(urls)
    assert any("/attachments/" in url for url in urls)
    assert len(urls) >= len(list(CASE_ACTIONS)) + 6


def test_a_handler_of_another_department_is_refused_on_every_url_of_the_case(education_case, other_handler, login):
    client = login(other_handler)
    entries_before = AuditLog.objects.count()
    for url in case_urls(education_case):
        for method in (client.get, client.post):
            response = method(url, follow=True)
            assert response.status_code in (403, 404), (method.__name__, url, response.status_code)
            assert "学校食堂" not in response.content.decode(), url
    education_case.refresh_from_db()
    assert education_case.state == CaseState.REPLY_IN_REVIEW
    assert AuditLog.objects.count() == entries_before  # nothing done, nothing viewed


def test_the_office_head_of_the_department_opens_every_url_of_the_case(education_case, head, login):
    client = login(head)
    for url in case_urls(education_case):
        response = client.get(url)
        if url.endswith("/delete/"):
            assert response.status_code == 403  # nobody deletes a case
        else:
            assert response.status_code in (200, 301, 302), (url, response.status_code)


def test_the_list_and_the_export_hold_nothing_of_another_department(education_case, other_handler, login):
    client = login(other_handler)
    listing = client.get(reverse("admin:complaints_case_changelist"))
    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == []
    for fmt in ("csv", "xlsx"):
        response = client.get(reverse("admin:complaints_case_export", args=[fmt]))
        assert response.status_code == 200
        body = b"".join(response.streaming_content) if response.streaming else response.content
        if fmt == "csv":
            assert education_case.number.encode() not in body
            assert "学校食堂".encode() not in body
        else:
            from io import BytesIO

            from openpyxl import load_workbook

            rows = list(load_workbook(BytesIO(body)).active.iter_rows(values_only=True))
            assert len(rows) == 1  # the header only


def test_searching_another_departments_case_by_number_finds_nothing(education_case, other_handler, login):
    listing = login(other_handler).get(reverse("admin:complaints_case_changelist"), {"q": education_case.number})
    assert list(listing.context["cl"].result_list) == []


def test_the_registrar_sees_every_department_and_unrouted_cases(education_case, make_case, registrar, login):
    unrouted, _code = make_case(subject="路灯不亮")
    client = login(registrar)
    listed = {case.pk for case in client.get(reverse("admin:complaints_case_changelist")).context["cl"].result_list}
    assert {education_case.pk, unrouted.pk} <= listed
    assert client.get(change(education_case)).status_code == 200
    assert client.get(change(unrouted)).status_code == 200


def test_a_handler_does_not_see_unrouted_cases(make_case, handler, login):
    unrouted, _code = make_case()
    assert login(handler).get(change(unrouted)).status_code == 403


def test_nobody_deletes_a_case_not_even_an_administrator(education_case, administrator, login):
    client = login(administrator)
    assert client.get(reverse("admin:complaints_case_delete", args=[education_case.pk])).status_code == 403
    assert client.post(reverse("admin:complaints_case_delete", args=[education_case.pk])).status_code == 403
    assert Case.objects.filter(pk=education_case.pk).exists()


def test_the_case_page_cannot_be_saved_as_a_form(education_case, head, login):
    response = login(head).post(change(education_case), {"subject": "改过的标题", "state": "closed"})
    assert response.status_code == 403
    education_case.refresh_from_db()
    assert education_case.subject == "学校食堂收费问题"
