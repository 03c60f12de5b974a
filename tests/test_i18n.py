"""The admin speaks Simplified Chinese, and the catalogue is complete."""

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def test_catalogue_has_no_untranslated_or_fuzzy_entries():
    catalogue = polib.pofile(str(PO))
    missing = [e.msgid for e in catalogue.untranslated_entries()] + [e.msgid for e in catalogue.fuzzy_entries()]
    assert missing == []


def test_every_string_in_the_code_is_in_the_catalogue(tmp_path):
    if shutil.which("xgettext") is None:
        pytest.fail("GNU gettext (xgettext) is needed to extract messages: apt-get install gettext")
    work = tmp_path / "src"
    shutil.copytree(ROOT, work, ignore=shutil.ignore_patterns(".venv", "var", ".git", "node_modules", "__pycache__"))
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "-l",
            "zh_Hans",
            "--no-location",
            "--ignore=tests/*",
            "--ignore=scripts/*",
        ],
        cwd=work,
        check=True,
        capture_output=True,
    )
    extracted = {e.msgid for e in polib.pofile(str(work / "locale/zh_Hans/LC_MESSAGES/django.po")) if not e.obsolete}
    ours = {e.msgid for e in polib.pofile(str(PO)) if not e.obsolete and e.translated()}
    assert sorted(extracted - ours) == []


@pytest.mark.django_db
def test_admin_login_page_is_in_chinese(client):
    page = client.get(reverse("admin:login")).content.decode()
    assert 'lang="zh-hans"' in page
    assert "政务内容管理系统" in page
    assert "登录" in page


@pytest.mark.django_db
def test_dashboard_is_in_chinese(administrator, login):
    page = login(administrator).get(reverse("admin:index")).content.decode()
    assert "工作台" in page
    assert "待办" in page and "已办" in page
