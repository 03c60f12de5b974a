"""The public 问政 list and page: only published cases, the reviewer's redacted texts, names masked, never a
phone or identity number, and every citizen's text escaped."""

import pytest
from django.urls import reverse

from complaints.models import Case, CaseKind
from complaints.services import case_publish, reply_approve, reply_save, reply_submit

pytestmark = pytest.mark.django_db

LIST = reverse("complaints:list")


@pytest.fixture
def published(routed_case, handler, head):
    """A replied complaint the citizen allowed to publish, put on the list by Dora."""

    def _published(subject="食堂收费问题", kind=CaseKind.COMPLAINT, **fields):
        case, _code = routed_case(kind=kind, id_number="11010519491231002X", **fields)
        reply_save(actor=handler, case=case, body="已责令学校退还。")
        reply_submit(actor=handler, case=case)
        case = reply_approve(actor=head, case=case)
        return case_publish(
            actor=head,
            case=case,
            subject=subject,
            question="孩子学校食堂每月多收伙食费。",
            answer="已责令学校退还。\n感谢监督。",
        )

    return _published


def test_list_shows_only_published_cases_with_masked_names(client, published, routed_case):
    shown = published()
    hidden, _code = routed_case(subject="未公开的来信")
    response = client.get(LIST)
    page = response.content.decode()
    assert response.status_code == 200
    assert "食堂收费问题" in page and reverse("complaints:detail", args=[shown.number]) in page
    assert "未公开的来信" not in page and hidden.number not in page
    assert "张**" in page and "张三丰" not in page
    assert "13812345678" not in page and "138****5678" not in page and "11010519491231002X" not in page
    assert shown.department.name in page
    assert not response.cookies  # a public page sets no cookie


def test_list_filters_by_type(client, published):
    published(subject="关于校车的咨询", kind=CaseKind.INQUIRY)
    published(subject="食堂收费问题")
    page = client.get(LIST, {"kind": CaseKind.INQUIRY}).content.decode()
    assert "关于校车的咨询" in page and "食堂收费问题" not in page
    assert "食堂收费问题" in client.get(LIST, {"kind": "nonsense"}).content.decode()


def test_list_is_paginated_by_twenty(client, published):
    first = published(subject="第一封")
    for _ in range(20):
        published(subject="后来的")
    page_one = client.get(LIST).content.decode()
    assert "第一封" not in page_one and 'rel="next"' in page_one
    assert "第一封" in client.get(LIST, {"page": 2}).content.decode()
    assert first.published


def test_detail_shows_question_and_answer_masked(client, published):
    case = published()
    page = client.get(reverse("complaints:detail", args=[case.number])).content.decode()
    assert "孩子学校食堂每月多收伙食费。" in page
    assert "已责令学校退还。<br>感谢监督。" in page
    assert "张**" in page
    for personal in ("张三丰", "13812345678", "11010519491231002X"):
        assert personal not in page


def test_detail_of_an_unpublished_case_is_404(client, routed_case, published):
    case, _code = routed_case()
    assert client.get(reverse("complaints:detail", args=[case.number])).status_code == 404
    withdrawn = published()
    Case.objects.filter(pk=withdrawn.pk).update(published=False)
    assert client.get(reverse("complaints:detail", args=[withdrawn.number])).status_code == 404


def test_published_text_is_escaped(client, published):
    case = published()
    Case.objects.filter(pk=case.pk).update(public_answer="<script>alert(1)</script>", public_subject="<b>粗体</b>")
    page = client.get(reverse("complaints:detail", args=[case.number])).content.decode()
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;粗体&lt;/b&gt;" in client.get(LIST).content.decode()


def test_list_queries_do_not_grow_with_the_page(client, published, django_assert_max_num_queries):
    for number in range(5):
        published(subject=f"来信{number}")
    with django_assert_max_num_queries(4):  # navigation, count, one page with its departments
        assert client.get(LIST).status_code == 200
