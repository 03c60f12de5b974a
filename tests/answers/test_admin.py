"""The answer library's admin: xlsx import preview with Chinese row errors, the review buttons, and an
edit of an approved entry sending it back for approval."""

import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from import_export.formats.base_formats import XLSX

from answers.models import AnswerEntry, EntryState

HEADERS = [
    "编号",
    "标准问题",
    "精确关键词",
    "包含关键词",
    "答复类型",
    "答复内容",
    "主管部门编码",
    "生效时间",
    "失效时间",
    "优先级",
]


def upload(rows):
    data = XLSX().export_data(tablib.Dataset(*rows, headers=HEADERS))
    return SimpleUploadedFile("口径库.xlsx", data, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def test_import_preview_shows_row_errors_in_chinese_and_imports_nothing(login, editor):
    client = login(editor)
    rows = [
        ["", "户口迁移", "", "户口", "文本", "请到派出所办理。", "office", "", "", ""],
        ["", "身份证", "", "身份证", "文本", "请到派出所办理。", "office", "", "", "高"],
    ]
    response = client.post(
        reverse("admin:answers_answerentry_import"), {"import_file": upload(rows), "format": "0", "resource": "0"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "优先级“高”不是整数。" in page
    assert AnswerEntry.objects.count() == 0


def test_import_preview_then_confirm_creates_drafts(login, editor):
    client = login(editor)
    rows = [["", "户口迁移", "", "户口", "文本", "请到派出所办理。", "office", "", "", "2"]]
    response = client.post(
        reverse("admin:answers_answerentry_import"), {"import_file": upload(rows), "format": "0", "resource": "0"}
    )
    assert response.status_code == 200
    confirm = response.context["confirm_form"]
    response = client.post(reverse("admin:answers_answerentry_process_import"), confirm.initial)
    assert response.status_code == 302
    entry = AnswerEntry.objects.get()
    assert (entry.question, entry.state, entry.created_by, entry.priority) == ("户口迁移", EntryState.DRAFT, editor, 2)


def test_the_author_is_refused_approval_and_the_reviewer_approves(login, editor, reviewer, make_entry):
    entry = make_entry("户口", contained=["户口"], state=EntryState.SUBMITTED)
    client = login(editor)
    page = client.get(reverse("admin:answers_answerentry_change", args=[entry.pk])).content.decode()
    assert "workflow-approve" not in page  # no approve button for its author
    client = login(reviewer)
    page = client.get(reverse("admin:answers_answerentry_change", args=[entry.pk])).content.decode()
    assert 'form="workflow-approve"' in page
    response = client.post(reverse("admin:answers_answerentry_workflow", args=[entry.pk, "approve"]))
    assert response.status_code == 302
    entry.refresh_from_db()
    assert (entry.state, entry.approved_by) == (EntryState.APPROVED, reviewer)


def test_editing_an_approved_entry_sends_it_back_to_draft(login, editor, make_entry, county):
    entry = make_entry("户口", contained=["户口"], answer_text="旧答复")
    client = login(editor)
    response = client.post(
        reverse("admin:answers_answerentry_change", args=[entry.pk]),
        {
            "question": "户口", "exact_keywords": "", "contained_keywords": "户口", "department": county["office"].pk,
            "priority": "0", "kind": "text", "answer_text": "新答复", "wechat_url": "", "valid_from_0": "",
            "valid_from_1": "", "valid_to_0": "", "valid_to_1": "",
        },
    )  # fmt: skip
    assert response.status_code == 302, response.context["adminform"].form.errors
    entry.refresh_from_db()
    assert (entry.answer_text, entry.state, entry.updated_by) == ("新答复", EntryState.DRAFT, editor)
