"""A case through the admin's buttons: routed, answered from a template, reviewed by the office head (never by
its author), published with personal details removed; an extension requested and approved."""

import pytest
from django.urls import reverse
from django.utils.translation import gettext

from complaints import services
from complaints.models import Case, CaseKind, CaseState, ReplyDraft, ReplyTemplate, RoutingRule
from tests.complaints.admin_helpers import action, change, shown_messages

pytestmark = pytest.mark.django_db


def test_route_reply_review_approve_and_publish(make_case, registrar, handler, head, county, login):
    RoutingRule.objects.create(priority=10, keywords="学校 食堂", department=county["education"])
    template = ReplyTemplate.objects.create(
        title="收费问题答复", department=county["education"], body="您好：经核查，学校已退还多收的伙食费。"
    )
    police_template = ReplyTemplate.objects.create(title="治安答复", department=county["police"], body="治安")
    case, _code = make_case(content="张三丰反映：孩子学校食堂每月多收伙食费，电话13812345678。")
    assert case.suggested_department == county["education"]

    # The registrar confirms the suggested department.
    client = login(registrar)
    form_page = client.get(action(case, "route"))
    assert form_page.context["form"]["department"].value() == county["education"].pk
    response = client.post(action(case, "route"), {"department": county["education"].pk, "note": ""})
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.state, case.department) == (CaseState.ASSIGNED, county["education"])

    # Alice writes the reply from a template and submits it.
    client = login(handler)
    page = client.get(change(case)).content.decode()
    assert action(case, "reply") in page and action(case, "approve") not in page
    form_page = client.get(action(case, "reply"), {"template": template.pk})
    assert form_page.context["form"]["body"].value() == template.body
    assert police_template.title not in form_page.content.decode()
    body = template.body + "如有疑问请致电教育局。"
    client.post(action(case, "reply"), {"template": template.pk, "body": body})
    draft = ReplyDraft.objects.get(case=case)
    assert (draft.body, draft.template, draft.author) == (body, template, handler)
    client.post(action(case, "submit"))
    case.refresh_from_db()
    assert case.state == CaseState.REPLY_IN_REVIEW

    # Alice cannot approve her own reply: the service refuses and says so.
    response = client.post(action(case, "approve"), follow=True)
    assert gettext("You do not have permission to do this.") in shown_messages(response)
    case.refresh_from_db()
    assert case.state == CaseState.REPLY_IN_REVIEW

    # Dora, the office head, approves it.
    client = login(head)
    assert action(case, "approve") in client.get(change(case)).content.decode()
    response = client.post(action(case, "approve"), follow=True)
    assert response.status_code == 200
    case.refresh_from_db()
    assert (case.state, case.reply) == (CaseState.REPLIED, body)

    # Publishing: the form proposes redacted text; text with a phone number is refused and kept on the form.
    form = client.get(action(case, "publish")).context["form"]
    question = form["question"].value()
    assert "13812345678" not in question and "张三丰" not in question
    refused = client.post(
        action(case, "publish"), {"subject": "食堂收费", "question": "请回电13900001111", "answer": case.reply}
    )
    assert refused.status_code == 200
    error = gettext("The %(field)s still contains a phone number, an identity number or the citizen's name.") % {
        "field": gettext("question")
    }
    assert error in refused.content.decode()
    assert "请回电13900001111" in refused.content.decode()  # what the reviewer typed is not lost
    case.refresh_from_db()
    assert not case.published
    client.post(
        action(case, "publish"),
        {"subject": form["subject"].value(), "question": question, "answer": form["answer"].value()},
    )
    case.refresh_from_db()
    assert case.published and "13812345678" not in case.public_question


def test_the_office_head_cannot_approve_a_reply_she_wrote(routed_case, head, login):
    case, _code = routed_case()
    client = login(head)
    client.post(action(case, "reply"), {"body": "周主任亲自答复。"})
    client.post(action(case, "submit"))
    assert action(case, "approve") not in client.get(change(case)).content.decode()
    response = client.post(action(case, "approve"), follow=True)
    assert gettext("You wrote this reply: someone else must review it.") in shown_messages(response)
    case.refresh_from_db()
    assert case.state == CaseState.REPLY_IN_REVIEW


def test_sending_back_asks_for_a_comment_and_the_handler_sees_it(routed_case, handler, head, login):
    case, _code = routed_case()
    services.reply_save(actor=handler, case=case, body="初稿")
    services.reply_submit(actor=handler, case=case)
    client = login(head)
    assert client.get(action(case, "send_back")).status_code == 200
    client.post(action(case, "send_back"), {"reason": "请补充退费时间。"})
    case.refresh_from_db()
    assert case.state == CaseState.DRAFTING
    page = login(handler).get(action(case, "reply")).content.decode()
    assert "请补充退费时间。" in page and "初稿" in page


def test_a_disclosure_reply_needs_an_outcome(routed_case, handler, login):
    case, _code = routed_case(kind=CaseKind.DISCLOSURE_REQUEST, subject="申请公开学校收费标准")
    client = login(handler)
    page = client.post(action(case, "reply"), {"body": "予以公开。", "outcome": ""})
    assert page.status_code == 200 and not ReplyDraft.objects.filter(case=case).exists()
    client.post(action(case, "reply"), {"body": "予以公开。", "outcome": "disclosed"})
    assert ReplyDraft.objects.get(case=case).outcome == "disclosed"


def test_extension_requested_by_the_handler_and_approved_by_the_head_moves_the_due_date(
    routed_case, handler, head, login
):
    case, _code = routed_case(kind=CaseKind.DISCLOSURE_REQUEST, subject="申请公开学校收费标准")
    due_before = case.due_date
    client = login(handler)
    too_long = client.post(action(case, "extension_request"), {"workdays": 21, "reason": "需要调取档案"})
    assert too_long.status_code == 200
    client.post(action(case, "extension_request"), {"workdays": 10, "reason": "需要调取档案"})
    case.refresh_from_db()
    assert (case.extension_requested_workdays, case.due_date) == (10, due_before)
    assert action(case, "extension_approve") not in client.get(change(case)).content.decode()

    client = login(head)
    assert action(case, "extension_approve") in client.get(change(case)).content.decode()
    client.post(action(case, "extension_approve"))
    case.refresh_from_db()
    assert case.extension_workdays == 10 and case.due_date > due_before
    assert case.due_date == services.case_deadline(case).due
    page = client.get(change(case)).content.decode()
    assert case.due_date.isoformat() in page
    assert action(case, "extension_request") not in page  # once per case


def test_clock_stop_and_resume_on_a_disclosure_request(routed_case, handler, login):
    case, _code = routed_case(kind=CaseKind.DISCLOSURE_REQUEST, subject="申请公开学校收费标准")
    client = login(handler)
    client.post(action(case, "clock_stop"), {"reason": "correction", "note": "请申请人补正所需信息的名称"})
    case.refresh_from_db()
    assert case.clock_stopped_since is not None
    assert "请申请人补正所需信息的名称" in client.get(change(case)).content.decode()
    client.post(action(case, "clock_resume"))
    case.refresh_from_db()
    assert case.clock_stopped_since is None


def test_transfer_merge_return_and_escalate(routed_case, handler, registrar, county, login):
    case, _code = routed_case()
    duplicate, _code = routed_case()
    client = login(handler)
    client.post(action(case, "escalate"), {"reason": "反映工作人员作风问题"})
    client.post(action(duplicate, "merge"), {"into": case.number.lower(), "reason": "重复反映"})
    duplicate.refresh_from_db()
    assert (duplicate.state, duplicate.merged_into_id) == (CaseState.MERGED, case.pk)
    client.post(action(case, "transfer"), {"department": county["police"].pk, "reason": "涉及治安"})
    case.refresh_from_db()
    assert case.escalated and case.department == county["police"]
    assert login(handler).get(change(case)).status_code == 403  # no longer education's

    other, _code = routed_case()
    client.post(action(other, "return"), {"reason": "不属于本部门职责"})
    other.refresh_from_db()
    assert (other.state, other.department) == (CaseState.RECEIVED, None)
    assert "不属于本部门职责" in login(registrar).get(change(other)).content.decode()


def test_merging_into_a_case_the_user_cannot_see_is_refused_as_unknown(routed_case, handler, login):
    case, _code = routed_case()
    police_case, _code = routed_case(department="police")
    response = login(handler).post(action(case, "merge"), {"into": police_case.number, "reason": "重复"})
    assert response.status_code == 200
    assert gettext("There is no case with this number among the cases you can see.") in response.content.decode()
    assert Case.objects.get(pk=case.pk).state == CaseState.ASSIGNED


def test_close_and_unpublish(routed_case, handler, head, login):
    case, _code = routed_case()
    services.reply_save(actor=handler, case=case, body="已处理。")
    services.reply_submit(actor=handler, case=case)
    services.reply_approve(actor=head, case=case)
    services.case_publish(actor=head, case=case, subject="食堂收费", question="食堂多收费", answer="已处理。")
    client = login(head)
    client.post(action(case, "unpublish"), {"reason": "内容需更正"})
    client.post(action(case, "close"))
    case.refresh_from_db()
    assert (case.published, case.state) == (False, CaseState.CLOSED)


def test_the_case_page_explains_the_due_date_and_lists_what_happened(routed_case, handler, login):
    case, _code = routed_case()
    page = login(handler).get(change(case)).content.decode()
    for line in services.case_deadline(case).explanation_lines():
        assert line in page
    assert gettext("Routed") in page and gettext("Registered") in page
    assert reverse("admin:complaints_case_history", args=[case.pk]) in page
