"""Demo citizens' messages (used by `manage.py seed_demo`): topics, routing rules, reply templates and about
50 cases in every state across departments, some overdue, some extended or waiting on a clock stop, some
rated, some on the public 问政 list. Made through the services, as people would, then dated into the past."""

import random
from datetime import timedelta

from django.utils import timezone

from accounts.models import User
from complaints import services, workdays
from complaints.models import (
    ApplicantKind,
    Case,
    CaseChannel,
    CaseKind,
    CaseState,
    Category,
    ClockStop,
    DisclosureOutcome,
    Rating,
    ReplyTemplate,
    RoutingRule,
)

TOPICS = ["教育", "治安", "交通", "住房", "社保", "政务公开", "其他"]
# (priority, topic, keywords, department code)
RULES = [
    (10, "治安", "", "police"),
    (20, None, "派出所 户口 身份证 治安 噪音 报警", "police"),
    (30, "教育", "", "education"),
    (40, None, "学校 老师 食堂 招生 学籍 校车", "education"),
    (50, "政务公开", "", "county-office"),
]
TEMPLATES = [
    ("咨询答复（通用）", CaseKind.INQUIRY, "您好！您反映的问题已收悉。经了解，……。如有疑问，可拨打 0000-12345 咨询。感谢您的关注！"),
    ("投诉办理结果", CaseKind.COMPLAINT, "您好！您反映的问题已收悉。经调查核实，……。我们已责成相关单位整改。感谢您的监督！"),
    ("建议采纳答复", CaseKind.SUGGESTION, "您好！感谢您提出的宝贵建议。经研究，……。我们将在下一步工作中认真吸收。"),
    ("依申请公开：予以公开", CaseKind.DISCLOSURE_REQUEST,
     "申请人：您申请获取的政府信息属于公开范围，现予以提供，详见附件。根据《中华人民共和国政府信息公开条例》第三十六条第二项，特此告知。"),
    ("依申请公开：本机关不掌握", CaseKind.DISCLOSURE_REQUEST,
     "申请人：经检索，本机关未制作、获取您所申请的政府信息。根据《中华人民共和国政府信息公开条例》第三十六条第四项，特此告知。"),
]  # fmt: skip
MESSAGES = [
    (
        CaseKind.COMPLAINT,
        "教育",
        "学校食堂收费不合理",
        "我孩子就读的城关小学食堂每月伙食费比公示标准多收 80 元，请核查。",
    ),
    (CaseKind.COMPLAINT, "治安", "夜间烧烤摊噪音扰民", "滨河路烧烤摊每晚营业到凌晨两点，噪音很大，老人孩子无法休息。"),
    (
        CaseKind.INQUIRY,
        "教育",
        "小学招生需要什么材料",
        "孩子明年上小学，户口在本县但房产在外地，报名需要准备哪些材料？",
    ),
    (CaseKind.INQUIRY, "治安", "身份证补办流程", "身份证丢失了，在县公安局补办需要多长时间？可以加急吗？"),
    (
        CaseKind.SUGGESTION,
        "交通",
        "建议增设校门口人行横道",
        "城东中学门口车流量大，学生过马路很危险，建议增设人行横道和减速带。",
    ),
    (CaseKind.SUGGESTION, "教育", "建议延长学校图书馆开放时间", "希望周末也能开放学校图书馆，方便学生借阅。"),
    (
        CaseKind.DISCLOSURE_REQUEST,
        "政务公开",
        "申请公开 2025 年学生资助资金分配情况",
        "申请公开县教育局 2025 年度学生资助资金分配明细及依据文件。",
    ),
    (
        CaseKind.DISCLOSURE_REQUEST,
        "治安",
        "申请公开交通违法处罚依据",
        "申请公开县公安局在滨河路设置电子警察的审批文件。",
    ),
    (CaseKind.COMPLAINT, "教育", "校车超载", "每天早上校车坐满了还有学生站着，存在安全隐患。"),
    (CaseKind.INQUIRY, "社保", "城乡居民医保缴费时间", "请问 2027 年度城乡居民医保什么时候开始缴费？"),
]
NAMES = ["张建国", "李秀英", "王志强", "刘桂兰", "陈伟", "杨丽", "赵军", "黄敏", "周涛", "吴芳", "徐磊", "孙静"]
# How many cases end in each state; the departments alternate between education and police.
PLAN = [
    (CaseState.RECEIVED, 5), (CaseState.ASSIGNED, 8), (CaseState.DRAFTING, 8), (CaseState.REPLY_IN_REVIEW, 6),
    (CaseState.REPLIED, 8), (CaseState.CLOSED, 13), (CaseState.MERGED, 2),
]  # fmt: skip


def _setup(departments) -> dict:
    topics = {}
    for position, name in enumerate(TOPICS):
        topics[name], _ = Category.objects.get_or_create(name=name, defaults={"position": position})
    for priority, topic, keywords, code in RULES:
        RoutingRule.objects.get_or_create(
            priority=priority, category=topics.get(topic), keywords=keywords, department=departments[code]
        )
    for title, kind, body in TEMPLATES:
        ReplyTemplate.objects.get_or_create(title=title, defaults={"kind": kind, "body": body})
    return topics


def _replied_in_the_past(case: Case, rng: random.Random) -> None:
    """Date the reply as it would have happened: a few working days after receipt (sometimes late)."""
    calendar = workdays.WorkCalendar()
    taken = rng.choice([1, 2, 3, 4, 5, 5, 7]) if case.kind != CaseKind.DISCLOSURE_REQUEST else rng.choice([8, 12, 19])
    replied_on = calendar.add_workdays(case.received_at, taken).due
    replied_at = min(
        timezone.now(),
        timezone.make_aware(timezone.datetime.combine(replied_on, timezone.datetime.min.time()), workdays.SHANGHAI)
        + timedelta(hours=15),
    )
    Case.objects.filter(pk=case.pk).update(
        replied_at=replied_at,
        replied_workdays=calendar.workdays_between(calendar.receipt_date(case.received_at), replied_at),
        replied_on_time=replied_at.astimezone(workdays.SHANGHAI).date() <= case.due_date,
    )


def seed(departments) -> int:
    """Idempotent: a database that already holds cases is left as it is. Returns the number of cases."""
    topics = _setup(departments)
    if Case.objects.exists():
        return Case.objects.count()
    rng = random.Random(6)  # noqa: S311 - demo data, not security
    people = {
        user.username: user
        for user in User.objects.filter(
            username__in=["handler", "handler-police", "head-edu", "head-police", "registrar"]
        )
    }
    registrar = people["registrar"]
    staff = {
        "education": (people["handler"], people["head-edu"]),
        "police": (people["handler-police"], people["head-police"]),
    }
    now = timezone.now()
    made, number = [], 0
    for state, count in PLAN:
        for _ in range(count):
            kind, topic, subject, content = MESSAGES[number % len(MESSAGES)]
            code = "education" if topic in ("教育", "政务公开", "交通", "社保") and number % 3 else "police"
            handler, head = staff[code]
            # Open cases: some received long ago, so they are overdue now.
            days_ago = rng.choice([1, 2, 3, 9, 14, 25]) if state in (CaseState.ASSIGNED, CaseState.DRAFTING) else (
                rng.randint(5, 80))  # fmt: skip
            number += 1
            case, _code = services.case_create(
                kind=kind, subject=subject, content=content, name=NAMES[number % len(NAMES)],
                phone=f"139{rng.randint(10000000, 99999999)}", category=topics[topic], allow_publish=number % 2 == 0,
                channel=rng.choice([CaseChannel.WEB, CaseChannel.WEB, CaseChannel.WECHAT]),
                applicant_kind=ApplicantKind.NATURAL_PERSON if number % 4 else ApplicantKind.BUSINESS,
                organisation="" if number % 4 else "示范县某某商贸有限公司",
                received_at=now - timedelta(days=days_ago, hours=rng.randint(0, 8)),
            )  # fmt: skip
            made.append(case)
            if state == CaseState.RECEIVED:
                continue
            case = services.case_route(actor=registrar, case=case, department=departments[code])
            if state == CaseState.MERGED:
                services.case_merge(actor=handler, case=case, into=made[-2], reason="同一事项重复反映")
                continue
            if state == CaseState.ASSIGNED:
                continue
            outcome = DisclosureOutcome.DISCLOSED if number % 3 else DisclosureOutcome.UNABLE_NOT_HELD
            template = ReplyTemplate.objects.filter(kind=kind).first()
            services.reply_save(actor=handler, case=case, body=template.body, template=template,
                                outcome=outcome if kind == CaseKind.DISCLOSURE_REQUEST else "")  # fmt: skip
            if kind == CaseKind.DISCLOSURE_REQUEST and state == CaseState.DRAFTING:
                if number % 2:
                    services.extension_request(actor=handler, case=case, workdays_requested=20, reason="需调取档案")
                    services.extension_decide(actor=head, case=case, approve=True)
                else:
                    services.clock_stop(actor=handler, case=case, reason=ClockStop.Reason.CORRECTION,
                                        note="申请内容不明确，已告知补正")  # fmt: skip
            if state == CaseState.DRAFTING:
                continue
            services.reply_submit(actor=handler, case=case)
            if state == CaseState.REPLY_IN_REVIEW:
                continue
            case = services.reply_approve(actor=head, case=case)
            _replied_in_the_past(case, rng)
            if state == CaseState.REPLIED:
                if number % 3 == 0:
                    services.case_rate(case=case, rating=Rating.DISSATISFIED, comment="问题还没有解决")
                continue
            services.case_rate(case=case, rating=rng.choice([Rating.SATISFIED, Rating.BASICALLY_SATISFIED]))
            case.refresh_from_db()
            if case.allow_publish:
                services.case_publish(
                    actor=head, case=case, subject=case.subject,
                    question=services.redact(case.content, name=case.name),
                    answer=services.redact(case.reply, name=case.name),
                )  # fmt: skip
    return Case.objects.count()
