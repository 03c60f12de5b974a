import pytest
from django.contrib.auth.models import Permission
from django.utils import translation

from accounts.models import AuditLog
from answers.actions import APPROVE, ENTRY_ACTIONS, SUBMIT
from answers.models import EntryState
from govcms.actions import ActionRefused


@pytest.fixture
def submitted(make_entry, editor):
    entry = make_entry("户口", contained=["户口"], state=EntryState.DRAFT)
    SUBMIT.execute(editor, entry)
    entry.refresh_from_db()
    return entry


def test_author_cannot_approve_own_entry(submitted, editor):
    editor.user_permissions.add(Permission.objects.get(codename="approve_answerentry"))
    editor = type(editor).objects.get(pk=editor.pk)
    with translation.override("zh-hans"), pytest.raises(ActionRefused) as refused:
        APPROVE.execute(editor, submitted)
    assert refused.value.reason == "您编写或最后编辑了此条目，须由他人审批。"
    submitted.refresh_from_db()
    assert submitted.state == EntryState.SUBMITTED


def test_reviewer_approves_someone_elses_entry(submitted, reviewer):
    assert [action.code for action in ENTRY_ACTIONS.available(reviewer, submitted)] == ["approve", "withdraw"]
    APPROVE.execute(reviewer, submitted)
    submitted.refresh_from_db()
    assert (submitted.state, submitted.approved_by) == (EntryState.APPROVED, reviewer)
    assert AuditLog.objects.filter(action="answers.approve", actor=reviewer).count() == 1


def test_editor_without_approval_permission_is_refused(submitted, editor):
    with translation.override("zh-hans"):
        assert APPROVE.check(editor, submitted) == "您没有执行此操作的权限。"


def test_entry_without_keywords_cannot_be_submitted(make_entry, editor):
    entry = make_entry("无关键词", state=EntryState.DRAFT)
    with translation.override("zh-hans"):
        assert SUBMIT.check(editor, entry) == "该条目没有关键词，任何留言都匹配不到它。"
