"""Realistic disbursement files (到人到户) for demos, tests and the import benchmark.

Rows are made one at a time and written as they are made, so a file of millions of rows costs
no more memory than one of ten. Identity numbers are valid (county code, birth date, GB 11643
check digit) and all different: person i gets a distinct (county, birth date, sequence) through a
bijection of the row index, so a clean file has no duplicate rows. With `invalid_percent`, that
share of rows carries one deliberate mistake each, cycling through every kind the import rejects.
"""

import csv
import datetime
import math
import random
from pathlib import Path

from accounts.identity import id_check_digit
from disclosure.rows import CORRECTION_HEADER, HEADERS

PROGRAMMES = (
    # name, paying department, smallest and largest amount (yuan)
    ("城乡居民最低生活保障资金", "县民政局", 320, 1200),
    ("特困人员救助供养资金", "县民政局", 600, 1500),
    ("临时救助资金", "县民政局", 500, 3000),
    ("高龄津贴", "县民政局", 320, 600),
    ("残疾人两项补贴", "县残疾人联合会", 320, 900),
    ("耕地地力保护补贴", "县农业农村局", 320, 2400),
    ("农村危房改造补助资金", "县住房和城乡建设局", 1500, 3000),
    ("生态护林员补助资金", "县林业局", 800, 1000),
    ("义务教育家庭经济困难学生生活补助", "县教育局", 500, 1000),
    ("退役军人优抚补助资金", "县退役军人事务局", 900, 3000),
)

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
# Surnames are far from uniform: the first ten cover about 40% of people.
SURNAME_WEIGHTS = [8 if i < 10 else 3 if i < 30 else 1 for i in range(len(SURNAMES))]
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐")
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红玉梅文斌宇浩凯鹏飞辉琴云莲珍燕春海丹萍德福贵喜财"

# Counties of one prefecture: most recipients live in the county itself (420981).
COUNTY_CODES = ("420981",) * 12 + ("420902", "420921", "420922", "420923", "420982", "420984")
TOWNSHIPS = (
    "城关镇", "河口镇", "石桥镇", "杨河镇", "三合镇", "黄滩镇",
    "义和镇", "陈河镇", "汤池镇", "白沙乡", "青山乡", "东马坊乡",
)  # fmt: skip
VILLAGE_FIRST = "东西南北新大小石柳杨李王张刘陈黄白青桃花龙凤高马牛双三五八"
VILLAGE_SECOND = "桥湾岗河庄坪台塘冲店集铺岭山坝垸堰口林沟"

# Distinct persons: birth date (1930-2015) x three-digit sequence, walked with a multiplier
# coprime to the size, so row i and row j never share an identity number. The county code is a
# function of the sequence (mostly the county itself), so it cannot make two numbers equal either.
_BIRTH_START = datetime.date(1930, 1, 1)
_BIRTH_DAYS = (datetime.date(2015, 12, 31) - _BIRTH_START).days + 1
_PERSONS = _BIRTH_DAYS * 1000
_STRIDE = 2_654_435_761  # a prime that does not divide _PERSONS
assert math.gcd(_STRIDE, _PERSONS) == 1  # noqa: S101 - a bijection only when coprime

CENTS = ("00", "00", "00", "50", "20", "80")
HOUSEHOLDS = (1, 1, 2, 2, 3, 3, 3, 4, 4, 5, 6, 7)
INVALID_KINDS = (
    "programme", "name_missing", "name_long", "id_format", "id_birth", "id_check", "township", "village",
    "household", "amount_text", "amount_zero", "amount_places", "amount_large", "date", "duplicate",
)  # fmt: skip


def villages(township: str, rng: random.Random) -> list[str]:
    count = rng.randint(12, 20)
    names = {rng.choice(VILLAGE_FIRST) + rng.choice(VILLAGE_SECOND) + "村" for _ in range(count * 2)}
    return sorted(names)[:count]


_BIRTH_TEXT: list[str] = []


def identity_number(person: int) -> str:
    if not _BIRTH_TEXT:
        _BIRTH_TEXT.extend(f"{_BIRTH_START + datetime.timedelta(days=day):%Y%m%d}" for day in range(_BIRTH_DAYS))
    day, sequence = divmod((person * _STRIDE) % _PERSONS, 1000)
    body = f"{COUNTY_CODES[sequence % len(COUNTY_CODES)]}{_BIRTH_TEXT[day]}{sequence:03d}"
    return body + id_check_digit(body)


class RowMaker:
    """Makes rows in the file's column order; `next_row()` is one data row. Picks are
    `seq[int(random() * len(seq))]`: random.choice and randint cost several times more, and a
    million rows make ten million picks."""

    def __init__(self, *, year: int, seed: int, invalid_percent: float = 0, xlsx: bool = False, programmes=None):
        self.rng = random.Random(seed)  # noqa: S311 - sample data, reproducible from the seed
        self.random = self.rng.random
        self.year = year
        self.xlsx = xlsx
        self.invalid_share = max(0.0, min(100.0, float(invalid_percent))) / 100
        self.programmes = programmes or PROGRAMMES
        self.places = [(township, villages(township, self.rng)) for township in TOWNSHIPS]
        self.surnames = [
            surname for surname, weight in zip(SURNAMES, SURNAME_WEIGHTS, strict=True) for _ in range(weight)
        ]
        days = [datetime.date(year, month, day) for month in range(1, 13) for day in (5, 10, 15, 20, 25)]
        self.dates = [
            (datetime.datetime(d.year, d.month, d.day), d.isoformat(), f"{d.year}/{d.month}/{d.day}",
             f"{d.year}年{d.month}月{d.day}日")
            for d in days
        ]  # fmt: skip
        self.person = 0
        self.last_valid = None
        self.invalid_count = 0

    def pick(self, seq):
        return seq[int(self.random() * len(seq))]

    def name(self) -> str:
        pick, random_ = self.pick, self.random
        surname = pick(COMPOUND_SURNAMES) if random_() < 0.01 else pick(self.surnames)
        given = pick(GIVEN)
        if random_() < 0.7:
            given += pick(GIVEN)
        return surname + given

    def paid_on(self):
        as_date, iso, slashes, chinese = self.pick(self.dates)
        form = self.random()
        if self.xlsx and form < 0.9:
            return as_date
        if form < 0.8 or self.xlsx:
            return iso
        return slashes if form < 0.9 else chinese

    def valid_row(self) -> list:
        pick, random_ = self.pick, self.random
        programme, payer, low, high = pick(self.programmes)
        township, village_names = pick(self.places)
        self.person += 1
        amount = f"{low + int(random_() * (high - low + 1))}.{pick(CENTS)}"
        household = pick(HOUSEHOLDS)
        return [
            programme, self.name(), identity_number(self.person), township, pick(village_names),
            household if self.xlsx else str(household), amount, self.paid_on(), payer,
        ]  # fmt: skip

    def next_row(self) -> list:
        row = self.valid_row()
        if self.invalid_share and self.random() < self.invalid_share:
            kind = INVALID_KINDS[self.invalid_count % len(INVALID_KINDS)]
            if kind != "duplicate" or self.last_valid is not None:
                self.invalid_count += 1
                return self.spoil(row, kind)
        self.last_valid = row
        return row

    def spoil(self, row: list, kind: str) -> list:
        """One deliberate mistake of the given kind."""
        pick = self.pick
        if kind == "programme":
            row[0] = "不存在的专项资金"
        elif kind == "name_missing":
            row[1] = ""
        elif kind == "name_long":
            row[1] = "张" * 51
        elif kind == "id_format":
            row[2] = row[2][:17]
        elif kind == "id_birth":
            body = row[2][:10] + "13" + row[2][12:17]  # month 13
            row[2] = body + id_check_digit(body)
        elif kind == "id_check":
            right = row[2][17]
            row[2] = row[2][:17] + ("0" if right != "0" else "1")
        elif kind == "township":
            row[3] = ""
        elif kind == "village":
            row[4] = " "
        elif kind == "household":
            row[5] = pick(("0", "120", "三口"))
        elif kind == "amount_text":
            row[6] = "五百元"
        elif kind == "amount_zero":
            row[6] = pick(("0", "-20.00"))
        elif kind == "amount_places":
            row[6] = "520.125"
        elif kind == "amount_large":
            row[6] = "12345678901.00"
        elif kind == "date":
            row[7] = pick((f"{self.year}-02-30", "下月", f"{self.year}.13.01"))
        elif kind == "duplicate":
            row = list(self.last_valid)
            row[6] = "999.00"
        return row


def write_file(path, *, rows: int, fmt: str = "csv", year: int = 2026, invalid_percent: float = 0, seed: int = 1,
               encoding: str = "utf-8-sig", correction_column: bool = False) -> int:  # fmt: skip
    """Write a file of `rows` data rows after the header line; returns how many rows were spoilt."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    maker = RowMaker(year=year, seed=seed, invalid_percent=invalid_percent, xlsx=(fmt == "xlsx"))
    header = list(HEADERS) + ([CORRECTION_HEADER] if correction_column else [])
    extra = [""] if correction_column else []
    if fmt == "csv":
        with path.open("w", encoding=encoding, newline="") as out:
            writer = csv.writer(out)
            writer.writerow(header)
            writer.writerows(maker.next_row() + extra for _ in range(rows))
    elif fmt == "xlsx":
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell

        book = Workbook(write_only=True)
        sheet = book.create_sheet("发放明细")
        sheet.append(header)
        date_cell = WriteOnlyCell(sheet)
        date_cell.number_format = "yyyy-mm-dd"
        for _ in range(rows):
            row = maker.next_row() + extra
            if isinstance(row[7], datetime.datetime):
                cell = WriteOnlyCell(sheet, value=row[7])
                cell.number_format = "yyyy-mm-dd"
                row[7] = cell
            sheet.append(row)
        book.save(path)
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return maker.invalid_count
