"""The one row check of disbursement files (disclosure.rows): every kind of bad row gets a Chinese
message naming the row, the column and the problem; a good row becomes exactly what
prepare_disbursement would have stored."""

import datetime
from decimal import Decimal

import pytest

from accounts.crypto import decrypt, encrypt_many
from accounts.identity import id_check_digit
from disclosure import services
from disclosure.models import Disbursement, FundKind, FundProgram
from disclosure.rows import (
    COLUMNS,
    CORRECTION_HEADER,
    HEADERS,
    DisbursementRows,
    HeaderError,
    bigrams_literal,
    match_headers,
    name_bigrams,
)
from tests.disclosure.conftest import ID_NUMBERS

pytestmark = pytest.mark.django_db

PROGRAMME = "城乡居民最低生活保障资金"
AMOUNT = "金额（元）"


def good_row(**changes):
    row = {
        "专项资金": PROGRAMME, "姓名": "欧阳娜娜", "身份证号": ID_NUMBERS[0], "乡镇": "城关镇", "村": "石桥村",
        "家庭人口": "3", "金额（元）": "520.00", "发放日期": "2026-03-15", "发放单位": "县民政局",
    }  # fmt: skip
    row.update(changes)
    return list(row.values())


@pytest.fixture
def rows(program, make_batch):
    return DisbursementRows(make_batch())


def only_error(rows, values, row_number=7):
    record, errors = rows.check(row_number, values)
    assert record is None
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


def test_valid_row_has_the_columns_prepare_disbursement_computes(rows, program):
    record, errors = rows.check(2, good_row(身份证号=" 11010519491231002x "))
    assert errors == []
    values = dict(zip(COLUMNS, record, strict=True))
    expected = services.prepare_disbursement(Disbursement(recipient_name="欧阳娜娜", id_number="11010519491231002X"))
    assert values["id_number"] == "11010519491231002X"  # plain until encrypt_ids
    for column in ("id_hash", "name_tail_hash", "id_masked", "name_bigrams"):
        assert values[column] == getattr(expected, column), column
    assert values["program_id"] == program.pk
    assert values["row_number"] == 2
    assert values["supersedes_id"] is None
    assert values["household_size"] == 3
    assert values["amount"] == Decimal("520.00")
    assert values["paid_on"] == datetime.date(2026, 3, 15)
    assert (values["township"], values["village"], values["paying_department"]) == ("城关镇", "石桥村", "县民政局")


def test_encrypt_ids_stores_what_accounts_crypto_decrypts(rows):
    records = [rows.check(n, good_row(身份证号=number))[0] for n, number in enumerate(ID_NUMBERS, start=2)]
    rows.encrypt_ids(records)
    stored = [record[COLUMNS.index("id_number")] for record in records]
    assert all(number not in token for token, number in zip(stored, ID_NUMBERS, strict=True))
    assert [decrypt(token) for token in stored] == ID_NUMBERS


def test_batch_encryption_gives_tokens_with_fresh_nonces():
    values = ["420981199001011235", "420981199001011235", "", "张三", "x" * 45]
    tokens = encrypt_many(values)
    assert tokens[0] != tokens[1]
    assert [decrypt(token) for token in tokens] == values


def test_equal_length_values_encrypted_together_open_one_by_one():
    # Identity numbers seal to 51 bytes each: encoded in one piece and cut apart; mixed lengths are not.
    same = [f"42098119900101{n:04d}" for n in range(50)]
    tokens = encrypt_many(same)
    assert len(set(tokens)) == 50 and len({len(token) for token in tokens}) == 1
    assert [decrypt(token) for token in tokens] == same
    mixed = ["a", "bb", "ccc", "420981199001011235"]
    assert [decrypt(token) for token in encrypt_many(mixed)] == mixed
    assert encrypt_many([]) == []


def test_bigram_literals_are_the_array_of_the_names_bigrams():
    names = (
        "罗福",
        "欧阳娜",
        "丽丽丽",
        "张丽丽",
        "Li",
        "Ann",
        "aaa",
        "ABA",
        "王",
        "阿卜杜·热合曼",
        "张 三",
        "司马相如",
        'a"b',
    )
    for name in names:
        literal = bigrams_literal(name)
        if literal is None:
            assert not name.isalpha() or len(name) not in (2, 3)
            continue
        assert literal == "{" + ",".join(f'"{gram}"' for gram in name_bigrams(name)) + "}", name


def test_names_of_other_scripts_get_the_same_bigrams_as_the_search(rows):
    for day, name in enumerate(("阿卜杜·热合曼", "Li Ming", "张 三", "王"), start=1):
        record, errors = rows.check(2, good_row(姓名=name, 发放日期=f"2026-05-{day:02d}"))
        assert errors == []
        assert (
            record[COLUMNS.index("name_bigrams")]
            == services.prepare_disbursement(Disbursement(recipient_name=name)).name_bigrams
        )


def test_message_names_row_column_and_problem(rows):
    error = only_error(rows, good_row(身份证号=ID_NUMBERS[0][:17] + "9"), row_number=12)
    assert str(error) == "第12行“身份证号”：校验位错误：最后一位与前17位不符"
    assert (error.row, error.column) == (12, "身份证号")


@pytest.mark.parametrize(
    ("changes", "column", "message"),
    [
        ({"专项资金": "不存在的资金"}, "专项资金", "没有2026年度名为“不存在的资金”的专项资金"),
        ({"专项资金": ""}, "专项资金", "不能为空"),
        ({"姓名": "  "}, "姓名", "不能为空"),
        ({"姓名": "张" * 51}, "姓名", "超过50个字"),
        ({"身份证号": ""}, "身份证号", "不能为空"),
        ({"身份证号": "42098119900101123"}, "身份证号", "应为18位：17位数字加最后一位数字或X"),
        ({"身份证号": "4209811990010112A5"}, "身份证号", "应为18位：17位数字加最后一位数字或X"),
        ({"身份证号": "420981199013011235"}, "身份证号", "其中的出生日期19901301不是有效日期"),
        ({"身份证号": "420981203001011235"}, "身份证号", "其中的出生日期20300101不是有效日期"),
        ({"身份证号": "420981199001011234"}, "身份证号", "校验位错误：最后一位与前17位不符"),
        ({"乡镇": ""}, "乡镇", "不能为空"),
        ({"村": ""}, "村", "不能为空"),
        ({"村": "村" * 51}, "村", "超过50个字"),
        ({"家庭人口": "0"}, "家庭人口", "应为1到99之间的整数"),
        ({"家庭人口": "100"}, "家庭人口", "应为1到99之间的整数"),
        ({"家庭人口": "三口"}, "家庭人口", "应为1到99之间的整数"),
        ({"家庭人口": "2.5"}, "家庭人口", "应为1到99之间的整数"),
        ({"金额（元）": "五百元"}, "金额（元）", "不是数字"),
        ({"金额（元）": ""}, "金额（元）", "不能为空"),
        ({"金额（元）": "0"}, "金额（元）", "必须大于0"),
        ({"金额（元）": "-20.00"}, "金额（元）", "必须大于0"),
        ({"金额（元）": "520.125"}, "金额（元）", "小数超过两位"),
        ({"金额（元）": "12345678901.00"}, "金额（元）", "金额过大：最多为9999999999.99"),
        ({"金额（元）": "1e400"}, "金额（元）", "金额过大：最多为9999999999.99"),
        ({"发放日期": "2026-02-30"}, "发放日期", "不是有效日期，请写成2026-03-15、2026/3/15或2026年3月15日"),
        ({"发放日期": "15/03/2026"}, "发放日期", "不是有效日期，请写成2026-03-15、2026/3/15或2026年3月15日"),
        ({"发放日期": ""}, "发放日期", "不是有效日期，请写成2026-03-15、2026/3/15或2026年3月15日"),
        ({"发放单位": "局" * 101}, "发放单位", "超过100个字"),
    ],
)
def test_each_kind_of_bad_cell_has_its_chinese_message(rows, changes, column, message):
    error = only_error(rows, good_row(**changes), row_number=5)
    assert str(error) == f"第5行“{column}”：{message}"


def test_programme_must_be_of_the_batch_year_and_paid_to_persons(county, make_batch):
    FundProgram.objects.create(
        name="高标准农田建设资金", department=county["office"], year=2026, kind=FundKind.PROJECTS
    )
    FundProgram.objects.create(name="临时救助资金", department=county["office"], year=2025)
    rows = DisbursementRows(make_batch())
    error = only_error(rows, good_row(专项资金="高标准农田建设资金"))
    assert error.problem == "“高标准农田建设资金”是到项目的专项资金，不能用于到人到户发放"
    assert only_error(rows, good_row(专项资金="临时救助资金")).problem == "没有2026年度名为“临时救助资金”的专项资金"


def test_a_programme_of_another_department_is_accepted(county, make_batch):
    other = FundProgram.objects.create(name="残疾人两项补贴", department=county["police"], year=2026)
    record, errors = DisbursementRows(make_batch()).check(2, good_row(专项资金="残疾人两项补贴"))
    assert errors == [] and record[COLUMNS.index("program_id")] == other.pk


def test_every_problem_of_a_row_is_reported_in_column_order(rows):
    record, errors = rows.check(3, good_row(姓名="", **{AMOUNT: "abc"}, 发放日期="明天"))
    assert record is None
    assert [error.column for error in errors] == ["姓名", "金额（元）", "发放日期"]


@pytest.mark.parametrize(
    ("changes", "column", "value"),
    [
        ({"发放日期": "2026/3/5"}, "paid_on", datetime.date(2026, 3, 5)),
        ({"发放日期": "2026年3月15日"}, "paid_on", datetime.date(2026, 3, 15)),
        ({"发放日期": datetime.datetime(2026, 7, 1)}, "paid_on", datetime.date(2026, 7, 1)),
        ({"发放日期": "2026-07-01 00:00:00"}, "paid_on", datetime.date(2026, 7, 1)),
        ({"金额（元）": "1,200.50"}, "amount", Decimal("1200.50")),
        ({"金额（元）": 520.1}, "amount", Decimal("520.1")),
        ({"金额（元）": 300}, "amount", Decimal("300")),
        ({"金额（元）": "0.5"}, "amount", Decimal("0.5")),
        ({"金额（元）": "9999999999.99"}, "amount", Decimal("9999999999.99")),
        ({"家庭人口": ""}, "household_size", None),
        ({"家庭人口": 4.0}, "household_size", 4),
        ({"家庭人口": None}, "household_size", None),
        ({"身份证号": "１１０１０５１９４９１２３１００２Ｘ"}, "id_number", "11010519491231002X"),
        ({"姓名": "张\t三\n"}, "recipient_name", "张 三"),
    ],
)
def test_accepted_forms_of_cells(rows, changes, column, value):
    record, errors = rows.check(2, good_row(**changes))
    assert errors == []
    assert record[COLUMNS.index(column)] == value


def test_a_later_duplicate_row_is_rejected_naming_the_first(rows):
    assert rows.check(2, good_row())[1] == []
    assert rows.check(3, good_row(发放日期="2026-04-15"))[1] == []  # another payment to the same person
    error = only_error(rows, good_row(**{AMOUNT: "999.00"}, 发放日期="2026/3/15"), row_number=9)
    assert str(error) == "第9行“身份证号”：与第2行重复（专项资金、身份证号和发放日期都相同）"


def test_a_rejected_row_does_not_count_as_first_of_its_kind(rows):
    assert rows.check(2, good_row(**{AMOUNT: "abc"}))[0] is None
    assert rows.check(3, good_row())[1] == []


def test_rows_whose_python_hashes_collide_are_not_duplicates(rows, monkeypatch):
    """Duplicates are found on the values themselves: two different rows whose 64-bit hashes are equal
    (as the old table of hashes would have compared them) are both valid."""
    import builtins

    real_hash = builtins.hash
    monkeypatch.setattr(builtins, "hash", lambda value: 42 if isinstance(value, tuple) else real_hash(value))
    assert rows.check(2, good_row())[1] == []
    assert rows.check(3, good_row(身份证号=ID_NUMBERS[1]))[1] == []
    assert rows.check(4, good_row(发放日期="2026-04-15"))[1] == []
    error = only_error(rows, good_row(发放日期="2026年3月15日"), row_number=5)
    assert str(error) == "第5行“身份证号”：与第2行重复（专项资金、身份证号和发放日期都相同）"


def test_the_large_import_leaves_duplicates_to_its_sql(program, make_batch):
    rows = DisbursementRows(make_batch(), find_duplicates=False)
    assert rows.check(2, good_row())[1] == []
    assert rows.check(3, good_row())[1] == []


# -- corrections ------------------------------------------------------------------------------------


def test_record_number_only_in_a_correction_batch(make_batch, program):
    rows = DisbursementRows(make_batch(), correction_column=True)
    error = only_error(rows, good_row() + ["12"])
    assert str(error) == "第7行“更正记录编号”：只有更正批次才能填写要更正的记录编号"
    assert rows.check(8, good_row() + [""])[1] == []


def test_correction_may_replace_public_records_of_the_corrected_batch_only(
    published_batch, make_batch, add_disbursement, officer, batch_reviewer
):
    published = list(Disbursement.objects.filter(batch=published_batch).order_by("pk"))
    draft = make_batch(title="另一批")
    unpublished = add_disbursement(draft)
    correction = make_batch(title="更正", corrects=published_batch)
    # One record of the published batch was replaced already by an earlier correction.
    Disbursement.objects.filter(pk=published[2].pk).update(superseded_at=datetime.datetime.now(datetime.UTC))
    rows = DisbursementRows(correction, correction_column=True)

    record, errors = rows.check(2, good_row() + [str(published[0].pk)])
    assert errors == [] and record[COLUMNS.index("supersedes_id")] == published[0].pk
    assert only_error(rows, good_row(发放日期="2026-05-15") + ["abc"]).problem == "不是有效的记录编号"
    assert only_error(rows, good_row(发放日期="2026-05-16") + [str(unpublished.pk)]).problem == (
        f"记录{unpublished.pk}不在被更正的批次“{published_batch}”中"
    )
    assert only_error(rows, good_row(发放日期="2026-05-17") + [str(published[2].pk)]).problem == (
        f"记录{published[2].pk}已不在公开页面上：已被更正，或所在批次已撤回"
    )


# -- headers ----------------------------------------------------------------------------------------


def test_headers_match_despite_spaces_and_bracket_width():
    assert (
        match_headers(
            [" 专项资金", "姓 名", "身份证号 ", "乡镇", "村", "家庭人口", "金额(元)", "发放日期", "发放单位", None]
        )
        is False
    )
    assert match_headers([*HEADERS, f" {CORRECTION_HEADER} "]) is True


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (["专项资金", "名字", *HEADERS[2:]], "第2列是“名字”，应为“姓名”。"),
        (list(HEADERS[:7]), "缺少以下列：发放日期、发放单位。"),
        ([*HEADERS, "更正记录编号", "备注"], "多出以下列：备注。"),
        ([], "文件没有标题行。"),
    ],
)
def test_wrong_headers_say_what_differs(header, expected):
    with pytest.raises(HeaderError) as raised:
        match_headers(header)
    assert str(raised.value).startswith(expected)
    assert "第一行应依次为以下列标题：专项资金、姓名、身份证号" in str(raised.value)


def test_check_digit_helper_matches_the_known_numbers():
    for number in ID_NUMBERS:
        assert id_check_digit(number[:17]) == number[17]


def test_copy_literals_keep_plain_amounts_and_usual_names_as_text(program, make_batch):
    rows = DisbursementRows(make_batch(), find_duplicates=False, copy_literals=True)
    record, errors = rows.check(2, good_row(姓名="罗福", **{"金额（元）": "946.5"}))
    assert errors == []
    assert record[COLUMNS.index("amount")] == "946.5"
    assert record[COLUMNS.index("name_bigrams")] == '{"罗福"}'
    record, errors = rows.check(3, good_row(**{"金额（元）": "1,200.50"}))
    assert record[COLUMNS.index("amount")] == Decimal("1200.50")
    # A row refused for another column does not blame its plainly written amount.
    record, errors = rows.check(4, good_row(身份证号="123", **{"金额（元）": "520.00"}))
    assert record is None
    assert [error.column for error in errors] == ["身份证号"]
