"""Every audit action code the code base records has words for the audit log (accounts/audit_actions.py), and
the audit log admin shows those words."""

import ast
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation

from accounts.audit_actions import ACTION_LABELS
from accounts.services import audit_record

ROOT = Path(__file__).resolve().parent.parent.parent
SOURCES = ("accounts", "content", "disclosure", "complaints", "publishing", "govcms", "shared")


def recorded_action_codes() -> set[str]:
    """The string constants given as `action` to audit_record(...), and as the action of the admin's
    `_audit(request, action, ...)`, in every module of the project (a conditional gives both of its codes)."""
    codes = set()
    for folder in SOURCES:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                values = []
                if name == "audit_record":
                    values = [keyword.value for keyword in node.keywords if keyword.arg == "action"]
                elif name == "_audit" and len(node.args) >= 2:
                    values = [node.args[1]]
                for value in values:
                    codes.update(
                        const.value for const in ast.walk(value) if isinstance(const, ast.Constant) and
                        isinstance(const.value, str)
                    )  # fmt: skip
    return codes


def test_every_recorded_action_code_has_words():
    codes = recorded_action_codes()
    assert {"delivery.failed", "case.reply_approve", "case.extension_refuse", "admin.add", "login_failed"} <= codes
    assert sorted(codes - set(ACTION_LABELS)) == []


def test_the_labels_are_chinese():
    with translation.override("zh-hans"):
        english = {code: str(label) for code, label in ACTION_LABELS.items() if str(label).isascii()}
    assert english == {}


@pytest.mark.django_db
def test_the_audit_log_shows_the_words_not_the_code(admin_client):
    audit_record(actor=None, action="delivery.failed", detail={})
    page = admin_client.get(reverse("admin:accounts_auditlog_changelist")).content.decode()
    assert "推送失败" in page and ">delivery.failed<" not in page
