import tablib
from django.utils import translation
from import_export.formats.base_formats import XLSX

from answers.models import AnswerEntry, EntryState
from answers.resources import AnswerEntryResource

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


def xlsx_dataset(rows):
    """The rows as an .xlsx file, read back the way the admin's import reads an upload."""
    data = tablib.Dataset(*rows, headers=HEADERS)
    return XLSX().create_dataset(XLSX().export_data(data))


def row_errors(result):
    return {
        row.number: {field: [str(m) for m in messages] for field, messages in row.error_dict.items()}
        for row in result.invalid_rows
    }


def test_import_reports_bad_cells_on_their_row_in_chinese(editor):
    rows = [
        ["", "户口迁移", "", "户口、迁户口", "文本", "请到派出所办理。", "office", "", "", "1"],
        ["", "身份证", "", "身份证", "视频", "……", "police", "2026-13-01", "", "高"],
        ["", "", "", "", "文本", "", "office", "", "", ""],
    ]
    with translation.override("zh-hans"):
        result = AnswerEntryResource(user=editor).import_data(xlsx_dataset(rows), dry_run=True, user=editor)
        errors = row_errors(result)
    assert sorted(errors) == [2, 3]
    assert errors[2] == {
        "kind": ["未知的答复类型“视频”，请使用以下之一：文本、门户文章、已发布的微信文章、图片。"],
        "department": ["您所在的部门中没有编码为“police”的部门。"],
        "valid_from": ["“2026-13-01”不是形如2026-01-31 17:00的日期时间。"],
        "priority": ["优先级“高”不是整数。"],
    }
    assert errors[3] == {"question": ["此字段不能为空。"], "answer_text": ["文本答复须填写答复内容。"]}
    assert AnswerEntry.objects.count() == 0


def test_import_creates_drafts_by_the_importer(editor, county):
    rows = [["", "户口迁移", "户口迁移", "户口、迁户口", "文本", "请到派出所办理。", "office", "2026-01-01", "", "3"]]
    result = AnswerEntryResource(user=editor).import_data(xlsx_dataset(rows), dry_run=False, user=editor)
    assert not result.has_errors() and not result.has_validation_errors()
    entry = AnswerEntry.objects.get()
    assert (entry.question, entry.exact_keywords, entry.contained_keywords) == (
        "户口迁移",
        ["户口迁移"],
        ["户口", "迁户口"],
    )
    assert (entry.state, entry.created_by, entry.priority, entry.department) == (
        EntryState.DRAFT,
        editor,
        3,
        county["office"],
    )


def test_export_then_import_round_trip_updates_and_returns_to_draft(make_entry, editor, reviewer):
    entry = make_entry("户口", exact=["户口"], contained=["迁户口", "户口迁移"], priority=2)
    other = make_entry("身份证", contained=["身份证"])
    with translation.override("zh-hans"):
        exported = AnswerEntryResource(user=editor).export()
        sheet = XLSX().create_dataset(XLSX().export_data(exported))
    assert sheet.headers[:4] == ["编号", "标准问题", "精确关键词", "包含关键词"]
    by_question = {row[1]: list(row) for row in sheet}
    assert by_question["户口"][2:4] == ["户口", "迁户口、户口迁移"]
    question_col = sheet.headers.index("标准问题")
    rows = [list(r) for r in sheet]
    for row in rows:
        if row[question_col] == "户口":
            row[question_col] = "户口迁移办理"
    sheet = tablib.Dataset(*rows, headers=sheet.headers)
    with translation.override("zh-hans"):
        result = AnswerEntryResource(user=reviewer).import_data(sheet, dry_run=False, user=reviewer)
    assert not result.has_errors() and not result.has_validation_errors()
    assert (result.totals["update"], result.totals["skip"], result.totals["new"]) == (1, 1, 0)
    entry.refresh_from_db()
    other.refresh_from_db()
    assert (entry.question, entry.contained_keywords, entry.priority) == ("户口迁移办理", ["迁户口", "户口迁移"], 2)
    assert (entry.state, entry.updated_by) == (EntryState.DRAFT, reviewer)
    assert other.state == EntryState.APPROVED  # unchanged rows stay as they were
    assert AnswerEntry.objects.count() == 2
