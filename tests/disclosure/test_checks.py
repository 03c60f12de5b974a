"""The start-up check that the database can hold and search Chinese names (UTF8 encoding)."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from disclosure import checks

pytestmark = pytest.mark.django_db


def fake_database(monkeypatch, encoding, ctype):
    monkeypatch.setattr(checks, "database_encoding", lambda alias: (encoding, ctype))


def test_the_test_database_passes():
    assert checks.check_database_encoding(databases=["default"]) == []


@pytest.mark.parametrize("ctype", ["C.UTF-8", "zh_CN.UTF-8", "en_US.utf8", "C", "POSIX", "de_DE.UTF-8@euro"])
def test_utf8_database_with_a_utf8_or_plain_ctype_passes(monkeypatch, ctype):
    fake_database(monkeypatch, "UTF8", ctype)
    assert checks.check_database_encoding(databases=["default"]) == []


@pytest.mark.parametrize(
    "encoding, ctype", [("SQL_ASCII", "C"), ("EUC_CN", "zh_CN.eucCN"), ("LATIN1", "en_US"), ("UTF8", "zh_CN.GB18030")]
)
def test_other_encoding_or_ctype_is_an_error_that_says_the_fix(monkeypatch, encoding, ctype):
    fake_database(monkeypatch, encoding, ctype)
    [error] = checks.check_database_encoding(databases=["default"])
    assert error.id == "disclosure.E001"
    assert "UTF8" in error.msg and "编码" in error.msg
    assert "ENCODING 'UTF8'" in error.hint and "TEMPLATE template0" in error.hint and "C.UTF-8" in error.hint


def test_check_runs_with_the_database_tag_and_not_without_databases(monkeypatch):
    fake_database(monkeypatch, "SQL_ASCII", "C")
    call_command("check")  # database checks run only when a database is named (migrate names one)
    with pytest.raises(SystemCheckError, match="disclosure.E001"):
        call_command("check", databases=["default"])
    with pytest.raises(SystemCheckError, match="disclosure.E001"):
        call_command("check", tags=["database"], databases=["default"])
