"""Demo answer library: a few approved answers of the county's most asked questions (written by the
demo editor, approved by the first-level reviewer), so a follower's message in the sandbox gets one."""

from django.db import transaction

from accounts.models import User
from answers import matching
from answers.models import AnswerEntry, EntryState

# question, exact keywords, contained keywords, department code, priority, answer
ENTRIES = [
    ("办理居住证需要什么材料", [], ["居住证"], "police", 5,
     "办理居住证请携带本人身份证、近期照片和居住证明（租房合同或房产证），到居住地派出所户籍窗口办理，工作日9:00-17:00。"),
    ("身份证丢了怎么补办", [], ["身份证丢", "补办身份证", "身份证补办"], "police", 5,
     "身份证丢失可到户籍所在地或居住地派出所补领，现场采集照片，约20个工作日取证；急需可申请临时身份证。"),
    ("户口迁移怎么办理", [], ["户口迁移", "迁户口"], "police", 3,
     "户口迁入请持迁入地住房证明、身份证和户口簿到迁入地派出所申请，符合条件的当场受理。"),
    ("中小学招生报名时间", [], ["招生", "入学报名"], "education", 3,
     "今年城区中小学新生报名时间为7月1日至7月10日，请在县教育局门户网站“招生入学”栏目在线报名。"),
    ("政府办公电话", ["电话", "办公电话"], ["政府办电话"], "county-office", 1,
     "县政府办公室电话：0000-1234567（工作日8:30-17:30）。"),
    ("你好", ["你好", "您好", "在吗"], [], "county-office", 0,
     "您好！请直接发送您想咨询的问题，例如“居住证”“招生”。"),
]  # fmt: skip


def seed(departments) -> int:
    editor = User.objects.get(username="editor")
    reviewer = User.objects.get(username="reviewer1")
    for question, exact, contained, department, priority, answer in ENTRIES:
        AnswerEntry.objects.update_or_create(
            question=question,
            defaults={
                "exact_keywords": exact,
                "contained_keywords": contained,
                "answer_text": answer,
                "department": departments[department],
                "priority": priority,
                "state": EntryState.APPROVED,
                "created_by": editor,
                "updated_by": editor,
                "approved_by": reviewer,
            },
        )
    transaction.on_commit(matching.library_changed)
    return len(ENTRIES)
