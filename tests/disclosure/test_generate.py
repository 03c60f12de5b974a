"""`manage.py generate_disclosure`: realistic disbursement files that import, with deliberate mistakes on demand."""

import csv
import datetime
import io
import re
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from accounts.identity import id_check_digit
from disclosure import sample_data
from disclosure.importing import RowSource
from disclosure.models import BatchSource, FundProgram
from disclosure.rows import HEADERS, DisbursementRows, match_headers

pytestmark = pytest.mark.django_db


def generate(*args) -> str:
    out = io.StringIO()
    call_command("generate_disclosure", *args, stdout=out)
    return out.getvalue()


def read_csv(path, encoding="utf-8-sig"):
    with open(path, encoding=encoding, newline="") as source:
        return list(csv.reader(source))


def test_writes_realistic_rows(tmp_path):
    path = tmp_path / "rows.csv"
    assert "2000 rows" in generate("--rows", "2000", "--out", str(path), "--seed", "3")
    header, *rows = read_csv(path)
    assert tuple(header) == HEADERS
    assert len(rows) == 2000
    programmes = {name for name, *_ in sample_data.PROGRAMMES}
    ids = [row[2] for row in rows]
    assert len(set(ids)) == len(ids)
    for programme, name, id_number, township, village, household, amount, paid_on, payer in rows:
        assert programme in programmes and payer
        assert 2 <= len(name) <= 4 and name[0] in sample_data.SURNAMES + "欧司上诸东皇尉公慕令"
        assert re.fullmatch(r"42\d{4}(19[3-9]\d|20[01]\d)\d{4}\d{3}[\dX]", id_number)
        assert id_check_digit(id_number[:17]) == id_number[17]
        datetime.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
        assert township[-1] in "镇乡" and village.endswith("村")
        assert 1 <= int(household) <= 7
        assert Decimal("320.00") <= Decimal(amount) <= Decimal("3000.80") and re.fullmatch(r"\d+\.\d\d", amount)
        assert paid_on.startswith("2026")
    assert {len(name) for name in (row[1] for row in rows)} >= {2, 3}
    assert any(row[1][:2] in sample_data.COMPOUND_SURNAMES for row in rows)


def test_same_seed_same_file(tmp_path):
    generate("--rows", "50", "--out", str(tmp_path / "a.csv"), "--seed", "9")
    generate("--rows", "50", "--out", str(tmp_path / "b.csv"), "--seed", "9")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def test_generated_file_imports_and_every_mistake_is_caught(tmp_path, county, officer):
    from disclosure import services

    path = tmp_path / "mixed.csv"
    output = generate("--rows", "600", "--out", str(path), "--invalid-percent", "20", "--create-programmes",
                      "--department", county["office"].code, "--seed", "4")  # fmt: skip
    spoilt = int(re.search(r"\((\d+) with a deliberate mistake\)", output).group(1))
    assert 80 <= spoilt <= 160
    assert FundProgram.objects.filter(year=2026).count() == len(sample_data.PROGRAMMES)
    batch = services.batch_create(actor=officer, record_type="disbursement", department=county["office"], year=2026,
                                  title="生成的文件", source=BatchSource.LARGE_IMPORT)  # fmt: skip
    source = RowSource(path)
    rows = DisbursementRows(batch, correction_column=match_headers(source.header))
    problems = []
    for number, values in source:
        record, errors = rows.check(number, values)
        problems += [error.problem for error in errors]
        assert (record is None) == bool(errors)
    source.close()
    assert len(problems) == spoilt  # one mistake per spoilt row, none in the others
    for expected in ("没有2026年度", "不能为空", "超过50个字", "应为18位", "出生日期", "校验位错误", "应为1到99之间的整数",
                     "不是数字", "必须大于0", "小数超过两位", "金额过大", "不是有效日期", "重复"):  # fmt: skip
        assert any(expected in problem for problem in problems), expected


def test_xlsx_with_date_cells_and_other_encodings(tmp_path):
    path = tmp_path / "rows.xlsx"
    generate("--rows", "40", "--format", "xlsx", "--out", str(path), "--correction-column")
    source = RowSource(path)
    assert match_headers(source.header) is True
    rows = list(source)
    source.close()
    assert [number for number, _values in rows] == list(range(2, 42))
    # Date and number cells, as python-calamine reads them (a date cell without a time is a date).
    assert any(isinstance(values[7], datetime.date) for _number, values in rows)
    assert all(isinstance(values[5], float) and values[5].is_integer() for _number, values in rows)

    generate("--rows", "5", "--out", str(tmp_path / "gb.csv"), "--encoding", "gb18030")
    assert read_csv(tmp_path / "gb.csv", encoding="gb18030")[0] == list(HEADERS)


def test_create_programmes_needs_a_known_department(tmp_path):
    with pytest.raises(CommandError, match="--department"):
        generate("--rows", "1", "--out", str(tmp_path / "x.csv"), "--create-programmes")
    with pytest.raises(CommandError, match="No department"):
        generate("--rows", "1", "--out", str(tmp_path / "x.csv"), "--create-programmes", "--department", "nowhere")
