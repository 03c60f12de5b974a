"""The case services: intake, routing, the four-eyes reply, ratings, deadlines with extension and clock stops."""

import re
from datetime import date, datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from accounts.models import AuditLog
from complaints import services, workdays
from complaints.models import (
    Case,
    CaseChannel,
    CaseKind,
    CaseState,
    ClockStop,
    DeadlinePolicy,
    DisclosureOutcome,
    Rating,
    ReplyDraft,
    RoutingRule,
)
from complaints.services import (
    case_create,
    case_escalate,
    case_find_for_citizen,
    case_merge,
    case_publish,
    case_rate,
    case_reopen,
    case_return,
    case_route,
    case_transfer,
    clock_resume,
    clock_stop,
    extension_decide,
    extension_request,
    reply_approve,
    reply_save,
    reply_send_back,
    reply_submit,
)

pytestmark = pytest.mark.django_db
SHANGHAI = workdays.SHANGHAI


def actions(case):
    return list(AuditLog.objects.filter(target_id=str(case.pk)).order_by("id").values_list("action", flat=True))


def replied(case, handler, head, body="已核实，食堂将退还多收费用。", outcome=""):
    reply_save(actor=handler, case=case, body=body, outcome=outcome)
    reply_submit(actor=handler, case=case)
    return reply_approve(actor=head, case=case)


def test_case_number_and_query_code_are_random_and_only_the_code_hash_is_stored(make_case):
    case, code = make_case()
    other, other_code = make_case()
    assert re.fullmatch(r"\d{4}-[2-9A-Z]{8}", case.number)
    assert case.number != other.number and code != other_code
    assert len(code) == services.QUERY_CODE_LENGTH
    assert code not in case.query_code_hash
    assert case_find_for_citizen(number=case.number.lower(), code=code.lower()) == case
    assert case_find_for_citizen(number=case.number, code=other_code) is None
    assert case_find_for_citizen(number="2026-NOSUCHNO", code=code) is None


def test_phone_and_identity_number_are_encrypted_at_rest(make_case):
    case, _ = make_case(kind=CaseKind.DISCLOSURE_REQUEST, id_number="11010519491231002X")
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone, id_number FROM complaints_case WHERE id = %s", [case.pk])
        phone, id_number = cursor.fetchone()
    assert "13812345678" not in phone and "11010519491231002X" not in id_number
    case.refresh_from_db()
    assert case.phone == "13812345678" and case.phone_masked == "138****5678"
    assert case.id_number_masked == "1101**********002X"
    assert case.phone_hash == services.phone_hash("13812345678")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"content": "<script>alert(1)</script>"}, "网页代码"),
        ({"subject": '<img src=x onerror="alert(1)">'}, "网页代码"),
        ({"phone": "1234567"}, "11"),
        ({"id_number": "110105194912310021"}, "身份证"),
        ({"content": "   "}, "请填写"),
        ({"content": "字" * 5001}, "5000"),
    ],
)
def test_bad_input_is_refused_with_a_chinese_message_and_nothing_is_stored(make_case, fields, message):
    with pytest.raises(ValidationError) as error:
        make_case(**fields)
    assert message in " ".join(error.value.messages)
    assert not Case.objects.exists()


def test_public_channel_cannot_claim_to_be_a_counter_visit(make_case):
    with pytest.raises(PermissionDenied):
        make_case(channel=CaseChannel.COUNTER)


def test_staff_register_a_counter_visit(registrar):
    case, code = case_create(
        actor=registrar, channel=CaseChannel.LETTER, kind=CaseKind.SUGGESTION, subject="建议增设公交站",
        content="建议在城东新区增设公交站点。", name="李四", phone="",
    )  # fmt: skip
    assert case.registered_by == registrar and case.channel == CaseChannel.LETTER and code


def test_routing_rule_suggests_a_department_and_the_registrar_routes_it(make_case, registrar, county):
    RoutingRule.objects.create(priority=10, keywords="派出所, 户口", department=county["police"])
    RoutingRule.objects.create(priority=20, keywords="学校 食堂", department=county["education"])
    case, _ = make_case(subject="户口迁移咨询", content="请问户口迁移要带什么材料？", kind=CaseKind.INQUIRY)
    assert case.suggested_department == county["police"]
    other, _ = make_case()
    assert other.suggested_department == county["education"]
    routed = case_route(actor=registrar, case=other, department=county["education"])
    assert routed.state == CaseState.ASSIGNED and routed.department == county["education"]
    assert actions(routed) == ["case.create", "case.route"]


def test_handler_cannot_route(make_case, handler, county):
    case, _ = make_case()
    with pytest.raises(PermissionDenied):
        case_route(actor=handler, case=case, department=county["education"])


def test_full_flow_with_four_eyes_review(routed_case, handler, head, teacher_clerk):
    case, code = routed_case()
    reply_save(actor=handler, case=case, body="您好，经核实……")
    reply_submit(actor=handler, case=case)
    with pytest.raises(PermissionDenied):
        # The author may hold the reviewer role too; she still cannot approve her own reply.
        reply_approve(actor=handler, case=case)
    reply_send_back(actor=head, case=case, comment="请补充退费时间。")
    case.refresh_from_db()
    assert case.state == CaseState.DRAFTING
    assert case.drafts.get().review_comment == "请补充退费时间。"
    reply_save(actor=handler, case=case, body="您好，经核实，将于本月底前退还。")
    reply_submit(actor=handler, case=case)
    case = reply_approve(actor=head, case=case)
    assert case.state == CaseState.REPLIED
    assert case.reply == "您好，经核实，将于本月底前退还。"
    assert case.replied_on_time is True and case.replied_workdays == 0
    assert case.drafts.get().state == ReplyDraft.State.APPROVED
    assert "case.reply_approve" in actions(case)


def test_office_head_of_another_department_cannot_approve(routed_case, handler, other_head):
    case, _ = routed_case()
    reply_save(actor=handler, case=case, body="答复")
    reply_submit(actor=handler, case=case)
    with pytest.raises(PermissionDenied):
        reply_approve(actor=other_head, case=case)


def test_handler_of_another_department_cannot_act(routed_case, other_handler, county):
    case, _ = routed_case()
    for attempt in (
        lambda: reply_save(actor=other_handler, case=case, body="x"),
        lambda: case_transfer(actor=other_handler, case=case, department=county["police"], reason="x"),
        lambda: case_return(actor=other_handler, case=case, reason="x"),
        lambda: case_escalate(actor=other_handler, case=case, reason="x"),
    ):
        with pytest.raises(PermissionDenied):
            attempt()


def test_transfer_and_return_need_a_reason(routed_case, handler, county, registrar):
    case, _ = routed_case()
    with pytest.raises(ValidationError):
        case_transfer(actor=handler, case=case, department=county["police"], reason=" ")
    case = case_transfer(actor=handler, case=case, department=county["police"], reason="属公安管辖")
    assert case.department == county["police"] and case.state == CaseState.ASSIGNED
    other, _ = routed_case()
    other = case_return(actor=handler, case=other, reason="不属于本部门职责")
    assert other.state == CaseState.RECEIVED and other.department is None
    assert other.return_reason == "不属于本部门职责"
    case_route(actor=registrar, case=other, department=county["police"])


def test_merge_and_escalate(routed_case, handler):
    first, _ = routed_case()
    duplicate, _ = routed_case()
    merged = case_merge(actor=handler, case=duplicate, into=first, reason="同一事项重复反映")
    assert merged.state == CaseState.MERGED and merged.merged_into == first
    with pytest.raises(ValidationError):
        case_merge(actor=handler, case=first, into=first, reason="x")
    escalated = case_escalate(actor=handler, case=first, reason="反映工作人员收受好处")
    assert escalated.escalated
    with pytest.raises(ValidationError):
        case_escalate(actor=handler, case=first, reason="again")


def test_rating_closes_and_dissatisfied_reopens_once(routed_case, handler, head):
    case, _ = routed_case()
    case = replied(case, handler, head)
    case = case_rate(case=case, rating=Rating.DISSATISFIED, comment="没有解决")
    assert case.state == CaseState.REPLIED
    with pytest.raises(ValidationError):
        case_rate(case=case, rating=Rating.SATISFIED)
    case = case_reopen(case=case, reason="仍未退费")
    assert case.state == CaseState.DRAFTING and case.reopened_count == 1
    case = replied(case, handler, head, body="已退费。")
    case = case_rate(case=case, rating=Rating.DISSATISFIED)
    with pytest.raises(ValidationError, match="一次|once"):
        case_reopen(case=case, reason="还是不满意")
    other, _ = routed_case()
    other = case_rate(case=replied(other, handler, head), rating=Rating.SATISFIED)
    assert other.state == CaseState.CLOSED


def test_deadline_policy_per_type_and_department(make_case, registrar, county):
    DeadlinePolicy.objects.create(kind=CaseKind.COMPLAINT, department=None, workdays=7)
    DeadlinePolicy.objects.create(kind=CaseKind.COMPLAINT, department=county["education"], workdays=3)
    received = datetime(2026, 3, 2, 9, tzinfo=SHANGHAI)  # a Monday
    case, _ = make_case(received_at=received)
    assert case.deadline_workdays == 7 and case.due_date == date(2026, 3, 11)
    case = case_route(actor=registrar, case=case, department=county["education"])
    assert case.deadline_workdays == 3 and case.due_date == date(2026, 3, 5)
    inquiry, _ = make_case(kind=CaseKind.INQUIRY, received_at=received)
    assert inquiry.deadline_workdays == 5 and inquiry.due_date == date(2026, 3, 9)


def test_disclosure_request_across_national_day_extended_once_with_approval(make_case, registrar, county, handler,
                                                                              head):  # fmt: skip
    # Received Wednesday 30 September 2026; 1-7 October are the National Day holiday and Saturday 10 October
    # is a make-up workday. Hand count of 20 working days from the day after receipt:
    # Oct 8, 9, 10(Sat, make-up) = 3; Oct 12-16 = 8; 19-23 = 13; 26-30 = 18; Nov 2 = 19; Nov 3 = 20.
    received = datetime(2026, 9, 30, 10, tzinfo=SHANGHAI)
    case, _ = make_case(kind=CaseKind.DISCLOSURE_REQUEST, received_at=received, id_number="11010519491231002X")
    case = case_route(actor=registrar, case=case, department=county["education"])
    assert case.due_date == date(2026, 11, 3) and not case.due_provisional
    lines = services.case_deadline(case).explanation_lines()
    assert any("2026-10-01" in line and "2026-10-07" in line and "国庆节" in line for line in lines)
    assert any("2026-10-10" in line and "调休" in line for line in lines)

    with pytest.raises(ValidationError):
        extension_request(actor=handler, case=case, workdays_requested=21, reason="需要调取档案")
    case = extension_request(actor=handler, case=case, workdays_requested=20, reason="需要调取档案")
    assert case.due_date == date(2026, 11, 3)  # not until someone approves
    with pytest.raises(PermissionDenied):
        extension_decide(actor=handler, case=case, approve=True)
    case = extension_decide(actor=head, case=case, approve=True)
    # 20 more: Nov 4-6 = 23; 9-13 = 28; 16-20 = 33; 23-27 = 38; Nov 30 = 39; Dec 1 = 40.
    assert case.extension_workdays == 20 and case.due_date == date(2026, 12, 1)
    assert case.extension_approved_by == head
    with pytest.raises(ValidationError, match="一次|once"):
        extension_request(actor=handler, case=case, workdays_requested=5, reason="再延期")


def test_disclosure_reply_needs_an_outcome(routed_case, handler):
    case, _ = routed_case(kind=CaseKind.DISCLOSURE_REQUEST)
    with pytest.raises(ValidationError):
        reply_save(actor=handler, case=case, body="予以公开。")
    draft = reply_save(actor=handler, case=case, body="予以公开。", outcome=DisclosureOutcome.DISCLOSED)
    assert draft.outcome == DisclosureOutcome.DISCLOSED


def test_clock_stop_moves_the_due_date_by_the_paused_working_days(routed_case, handler, monkeypatch):
    received = datetime(2026, 3, 2, 9, tzinfo=SHANGHAI)  # Monday; 20 working days -> Monday 30 March
    case, _ = routed_case(kind=CaseKind.DISCLOSURE_REQUEST, received_at=received)
    assert case.due_date == date(2026, 3, 30)
    monkeypatch.setattr(workdays, "shanghai_today", lambda: date(2026, 3, 9))
    clock_stop(actor=handler, case=case, reason=ClockStop.Reason.CORRECTION, note="请补正申请内容描述")
    with pytest.raises(ValidationError):
        clock_stop(actor=handler, case=case, reason=ClockStop.Reason.THIRD_PARTY)
    monkeypatch.setattr(workdays, "shanghai_today", lambda: date(2026, 3, 13))
    case = clock_resume(actor=handler, case=case)
    # Stopped Monday 9 to Friday 13 March inclusive: five working days not counted.
    assert case.due_date == date(2026, 4, 7)  # 30 Mar + 5 working days, with 清明 (4-6 April) skipped
    assert case.clock_stopped_since is None


def test_clock_stop_is_only_for_disclosure_requests(routed_case, handler):
    case, _ = routed_case()
    with pytest.raises(ValidationError):
        clock_stop(actor=handler, case=case, reason=ClockStop.Reason.CORRECTION)


def test_case_due_next_year_without_a_holiday_schedule_is_provisional(make_case):
    case, _ = make_case(received_at=datetime(2026, 12, 28, 10, tzinfo=SHANGHAI))
    assert case.due_date == date(2027, 1, 4) and case.due_provisional


def test_publication_requires_permission_consent_and_no_personal_details(routed_case, handler, head):
    case, _ = routed_case(content="我是张三丰，电话13812345678，孩子学校多收费。")
    case = replied(case, handler, head)
    question = services.redact(case.content, name=case.name)
    assert "13812345678" not in question and "张三丰" not in question and "张**" in question
    with pytest.raises(ValidationError):
        case_publish(actor=head, case=case, subject=case.subject, question=case.content, answer=case.reply)
    with pytest.raises(PermissionDenied):
        case_publish(actor=handler, case=case, subject=case.subject, question=question, answer=case.reply)
    case = case_publish(actor=head, case=case, subject=case.subject, question=question, answer=case.reply)
    assert case.published and case.public_question == question
    private, _ = routed_case(allow_publish=False)
    private = replied(private, handler, head)
    with pytest.raises(ValidationError):
        case_publish(actor=head, case=private, subject="x", question="问题", answer="答复")
