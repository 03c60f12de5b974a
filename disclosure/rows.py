"""The one check of disbursement rows (到人到户) read from a file, shared by the admin's spreadsheet
import (django-import-export, small files) and the streaming import of large files
(`disclosure.importing`), so both accept the same rows and say the same things about the others.

A file has the columns `HEADERS`, in that order, and for a correction batch optionally a last
column `CORRECTION_HEADER` naming the published record each row replaces. `DisbursementRows.check`
takes one data row and returns either the values of the Disbursement columns (`COLUMNS`, derived
ones included, computed as `disclosure.services.prepare_disbursement` does) or the row's problems,
each a Chinese message naming the row, the column and what is wrong.

It is the hot loop of a million-row import: everything that does not depend on the row is looked
up once (programmes, hash keys, the records a correction may replace), dates and birth dates are
parsed and names split into bigrams once per distinct value, and identity numbers are encrypted a
block at a time (`encrypt_ids`, through `accounts.crypto.encrypt_many`).

Duplicate rows (the same programme, identity number and payment date as an earlier valid row) are
found exactly: here by a dict of those values for the admin's small files, and by the large import
in SQL over the rows it has loaded (`disclosure.importing`), which checks them with
`find_duplicates=False`.
"""

import array
import bisect
import datetime
import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import crypto
from accounts.identity import id_check_digit
from disclosure import services
from disclosure.models import Disbursement, FundKind, FundProgram, RecordType
from disclosure.selectors import public_records
from shared.bigrams import bigrams

HEADERS = ("专项资金", "姓名", "身份证号", "乡镇", "村", "家庭人口", "金额（元）", "发放日期", "发放单位")
CORRECTION_HEADER = "更正记录编号"
(PROGRAMME, NAME, ID_NUMBER, TOWNSHIP, VILLAGE, HOUSEHOLD, AMOUNT, PAID_ON, PAYER, REPLACES) = range(10)

# What a valid row becomes, in this order (the large import's COPY data has the same, after the batch).
COLUMNS = (
    "row_number", "supersedes_id", "program_id", "recipient_name", "id_number", "id_hash", "name_tail_hash",
    "id_masked", "township", "village", "household_size", "amount", "paid_on", "paying_department", "name_bigrams",
)  # fmt: skip
C_ID_NUMBER = COLUMNS.index("id_number")

NAME_MAX, PLACE_MAX, PAYER_MAX = 50, 50, 100
AMOUNT_LIMIT = Decimal("10000000000")  # numeric(12, 2): ten digits before the point
_CENT = Decimal("0.01")
_ID = re.compile(r"[0-9]{17}[0-9X]")
_PLAIN_AMOUNT = re.compile(r"[1-9][0-9]{0,9}(?:\.[0-9]{1,2})?|0\.(?:[1-9][0-9]?|0[1-9])")
_GROUPED_AMOUNT = re.compile(r"[+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_DATE = re.compile(
    r"(\d{4})(?:-(\d{1,2})-(\d{1,2})|/(\d{1,2})/(\d{1,2})|年(\d{1,2})月(\d{1,2})日)(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?"
)
_HOUSEHOLD = re.compile(r"[0-9]{1,2}(?:\.0+)?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SPACES = re.compile(r"\s+")
_CACHE_LIMIT = 100_000


def normalize_header(value) -> str:
    """Headers match whatever spaces surround or split them and whichever brackets they use."""
    text = _SPACES.sub("", "" if value is None else str(value))
    return text.replace("(", "（").replace(")", "）")


class HeaderError(ValueError):
    """The file's first row is not the expected header row; the message says what differs."""


def match_headers(cells) -> bool:
    """Check the header row; returns whether it has the optional correction column.
    Raises HeaderError with a Chinese message otherwise."""
    found = [normalize_header(cell) for cell in cells]
    while found and not found[-1]:
        found.pop()
    expected = [normalize_header(h) for h in HEADERS]
    if found == expected:
        return False
    if found == expected + [CORRECTION_HEADER]:
        return True
    layout = _("The first row must hold these column headers, in this order: %(headers)s; a correction may add “%(optional)s” as the last column.") % {
        "headers": "、".join(HEADERS), "optional": CORRECTION_HEADER,
    }  # fmt: skip
    if not found:
        raise HeaderError(_("The file has no header row.") + " " + layout)
    for number, (have, want) in enumerate(zip(found, expected + [CORRECTION_HEADER], strict=False), start=1):
        if have != want:
            problem = _("Column %(number)s is “%(found)s” where “%(expected)s” is expected.") % {
                "number": number, "found": have, "expected": want,
            }  # fmt: skip
            raise HeaderError(problem + " " + layout)
    if len(found) < len(expected):
        missing = "、".join(HEADERS[len(found) :])
        raise HeaderError(_("Columns are missing: %(columns)s.") % {"columns": missing} + " " + layout)
    extra = "、".join(found[len(expected) + 1 :])
    raise HeaderError(_("Unexpected columns: %(columns)s.") % {"columns": extra} + " " + layout)


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    column: str
    problem: str

    def __str__(self) -> str:
        return _("Row %(row)s, column “%(column)s”: %(problem)s") % {
            "row": self.row, "column": self.column, "problem": self.problem,
        }  # fmt: skip


def text(value) -> str:
    """A cell as trimmed text, whatever the file made of it (numbers and dates in xlsx). Control
    characters (tabs, line breaks inside a cell, NUL) become spaces: they are never meaningful in
    these columns and would break the bulk load's text format."""
    if value.__class__ is str:
        value = value.strip()
    elif value is None:
        return ""
    elif value.__class__ is float:  # a spreadsheet's numbers: 3.0 is the household size 3
        return str(int(value)) if value.is_integer() else repr(value)
    elif value.__class__ is datetime.date:  # a date cell, as calamine reads it
        return value.isoformat()
    elif isinstance(value, float) and value.is_integer():
        return str(int(value))
    elif isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat(sep=" ")
    else:
        value = str(value).strip()
    if _CONTROL.search(value):
        value = _SPACES.sub(" ", _CONTROL.sub(" ", value)).strip()
    return value


def name_bigrams(name: str) -> list[str]:
    """shared.bigrams.bigrams, with a shortcut for names of letters only (no spaces to normalise)."""
    if not name.isalpha():
        return bigrams(name)
    name = name.lower()
    if len(name) == 2:
        return [name]
    return sorted({name[i : i + 2] for i in range(len(name) - 1)})


def bigrams_literal(name: str) -> str | None:
    """`name_bigrams(name)` as the PostgreSQL array literal the large import's COPY data carries; None for a
    name holding a double quote or a backslash, which the COPY data's slow path escapes. The usual names
    (two or three letters) take a short way."""
    if name.isalpha():
        size = len(name)
        if size == 2:
            return '{"' + name.lower() + '"}'
        if size == 3:
            name = name.lower()
            first, second = name[:2], name[1:]
            if first == second:
                return '{"' + first + '"}'
            return '{"' + first + '","' + second + '"}' if first < second else '{"' + second + '","' + first + '"}'
    elif '"' in name or "\\" in name:
        return None
    grams = name_bigrams(name)
    return '{"' + '","'.join(grams) + '"}' if grams else "{}"


class DisbursementRows:
    """Checks the rows of one file for one batch. Keeps what it has seen (for duplicate rows), so
    use one instance per file and feed it the rows in file order. With `find_duplicates=False` it
    leaves duplicate rows to the caller (the large import finds them in SQL after loading); with
    `copy_literals=True` the name's bigrams come as `bigrams_literal` text where it has one, and a plainly
    written amount as its text (what COPY reads)."""

    def __init__(self, batch, *, correction_column: bool = False, find_duplicates: bool = True,
                 copy_literals: bool = False):  # fmt: skip
        self.batch = batch
        self.correction_column = correction_column
        self.width = len(HEADERS) + correction_column
        self.padding = [""] * self.width
        self.programmes: dict[str, int | str] = {}
        for pk, name, kind in FundProgram.objects.filter(year=batch.year).values_list("pk", "name", "kind"):
            self.programmes[name] = pk if kind == FundKind.PERSONS else kind
        self.id_hash = crypto.keyed_hasher(services.ID_HASH_PURPOSE)
        self.tail_hash = crypto.keyed_hasher(services.NAME_TAIL_PURPOSE)
        self.today = timezone.localdate()
        self.dates: dict = {}
        self.births: dict[str, bool] = {}
        self.grams: dict[str, list[str]] = {}  # names repeat: their bigrams are shared (nobody changes them)
        self.seen: dict[tuple, int] | None = {} if find_duplicates else None
        self.copy_literals = copy_literals
        self.corrects_label = str(batch.corrects) if batch.corrects_id else ""
        self._replaceable: array.array | None = None
        self._in_corrected: array.array | None = None

    # -- one row ---------------------------------------------------------------------------------

    def cells(self, values) -> list[str]:
        """The row's cells as trimmed text, as many as the file has columns."""
        width = self.width
        if len(values) != width:
            values = (list(values) + self.padding)[:width]
        try:
            joined = "".join(values)
        except TypeError:  # numbers, dates or empty cells of a spreadsheet: only those need `text`
            values = [value if value.__class__ is str else text(value) for value in values]
            joined = "".join(values)
        if _CONTROL.search(joined):
            return [text(value) for value in values]
        return list(map(str.strip, values))

    def check(self, row_number: int, values) -> tuple[list | None, list[RowError]]:
        """(column values, []) for a valid row, (None, problems) otherwise. The identity number in
        the values is still plain: `encrypt_ids` encrypts a block of rows at once."""
        cells = self.cells(values)
        programme_name, name, id_number, township, village, household, amount, paid_on, payer = cells[:9]
        program = self.programmes.get(programme_name)
        id_number = id_number.upper()
        if not id_number.isascii():
            id_number = unicodedata.normalize("NFKC", id_number)  # full-width digits typed with a Chinese IME
        id_problem = self._id_problem(id_number)
        if household:
            household = int(household) if household.isascii() and household.isdigit() else _household(household)
        else:
            household = None
        if _PLAIN_AMOUNT.fullmatch(amount):  # the usual case: "520.00", as COPY takes it
            amount_ok = True
            if not self.copy_literals:
                amount = Decimal(amount)
        else:
            amount = _amount(amount)
            amount_ok = amount.__class__ is Decimal
        paid_on = self.dates.get(paid_on, False) or self._date(paid_on)
        replaces = replaces_problem = None
        if self.correction_column and cells[REPLACES]:
            replaces, replaces_problem = self._replaces(cells[REPLACES])

        if (
            program.__class__ is not int or not 0 < len(name) <= NAME_MAX or id_problem
            or not 0 < len(township) <= PLACE_MAX or not 0 < len(village) <= PLACE_MAX
            or (household is not None and not 1 <= household <= 99) or not amount_ok
            or paid_on is None or len(payer) > PAYER_MAX or replaces_problem
        ):  # fmt: skip
            if amount_ok:
                amount = Decimal(amount)
            return None, self._problems(
                row_number, cells, program, id_problem, household, amount, paid_on, replaces_problem
            )

        if self.seen is not None:
            first = self.seen.setdefault((program, id_number, paid_on), row_number)
            if first != row_number:
                return None, [duplicate_error(row_number, first)]

        return [
            row_number, replaces, program, name, id_number, self.id_hash(id_number),
            self.tail_hash(f"{name}|{id_number[-6:]}"),
            # accounts.masking.mask_id_number of an 18-character number, without the general case.
            id_number[:4] + "**********" + id_number[14:],
            township, village, household, amount, paid_on, payer,
            (self.copy_literals and bigrams_literal(name)) or self.grams.get(name) or self._grams(name),
        ], []  # fmt: skip

    def _problems(self, row_number, cells, program, id_problem, household, amount, paid_on, replaces_problem):
        """Every problem of a row that failed the quick test in `check`, in column order."""
        found = []

        def add(column, problem):
            found.append(RowError(row_number, column, problem))

        if program.__class__ is not int:
            add(HEADERS[PROGRAMME], self._programme_problem(cells[PROGRAMME], program))
        for index, limit in ((NAME, NAME_MAX), (ID_NUMBER, None), (TOWNSHIP, PLACE_MAX), (VILLAGE, PLACE_MAX)):
            if index == ID_NUMBER:
                if id_problem:
                    add(HEADERS[ID_NUMBER], id_problem)
            elif not cells[index]:
                add(HEADERS[index], _("must not be empty"))
            elif len(cells[index]) > limit:
                add(HEADERS[index], _too_long(limit))
        if household is not None and not 1 <= household <= 99:
            add(HEADERS[HOUSEHOLD], _("must be a whole number from 1 to 99"))
        if amount.__class__ is not Decimal:
            add(HEADERS[AMOUNT], amount)
        if paid_on is None:
            add(HEADERS[PAID_ON], _("is not a date: write it as 2026-03-15, 2026/3/15 or 2026年3月15日"))
        if len(cells[PAYER]) > PAYER_MAX:
            add(HEADERS[PAYER], _too_long(PAYER_MAX))
        if replaces_problem:
            add(CORRECTION_HEADER, replaces_problem)
        return found

    @staticmethod
    def encrypt_ids(records: list[list]) -> None:
        """Replace the plain identity numbers of checked rows by their encrypted form, in place."""
        tokens = crypto.encrypt_many([record[C_ID_NUMBER] for record in records])
        for record, token in zip(records, tokens, strict=True):
            record[C_ID_NUMBER] = token

    # -- columns ---------------------------------------------------------------------------------

    def _grams(self, name: str) -> list[str]:
        if len(self.grams) > _CACHE_LIMIT:
            self.grams.clear()
        found = self.grams[name] = name_bigrams(name)
        return found

    def _programme_problem(self, name: str, found) -> str:
        if not name:
            return _("must not be empty")
        if found is not None:
            return _("“%(name)s” is a fund programme paid to projects, not to persons or households") % {"name": name}
        return _("there is no fund programme “%(name)s” of %(year)s") % {"name": name, "year": self.batch.year}

    def _id_problem(self, value: str) -> str | None:
        if len(value) != 18 or not _ID.fullmatch(value):
            return _("must not be empty") if not value else _("must be 18 characters: 17 digits and a last digit or X")
        birth = value[6:14]
        valid = self.births.get(birth)
        if valid is None:
            try:
                born = datetime.date(int(birth[:4]), int(birth[4:6]), int(birth[6:]))
            except ValueError:
                valid = False
            else:
                valid = 1800 <= born.year and born <= self.today
            self.births[birth] = valid
        if not valid:
            return _("the birth date %(date)s in it is not a valid date") % {"date": birth}
        if id_check_digit(value[:17]) != value[17]:
            return _("wrong check digit: the last character does not match the first 17")
        return None

    def _date(self, value: str) -> datetime.date | None:
        """The payment date written as 2026-03-15, 2026/3/15 or 2026年3月15日 (a spreadsheet's date
        cells arrive here as 2026-03-15); remembered per distinct text."""
        match = _DATE.fullmatch(value)
        found = None
        if match:
            year, *parts = match.groups()
            month, day = (int(part) for part in parts if part is not None)
            try:
                found = datetime.date(int(year), month, day)
            except ValueError:
                found = None
            if found is not None and not 1990 <= found.year <= 2100:
                found = None
        if len(self.dates) > _CACHE_LIMIT:
            self.dates.clear()
        self.dates[value] = found
        return found

    def load_replaceable(self) -> None:
        """Look up the records a correction batch may replace (public ones of the corrected batch),
        and all records of that batch for the messages. Done at the first correction otherwise."""
        self._replaceable = _ids(public_records(Disbursement, RecordType.DISBURSEMENT), self.batch.corrects_id)
        self._in_corrected = _ids(Disbursement.objects.all(), self.batch.corrects_id)

    def _replaces(self, raw: str) -> tuple[int | None, str | None]:
        """(record id, None) when the row may replace that record, (None, problem) otherwise."""
        if not self.batch.corrects_id:
            return None, _("only a correction batch may name records to replace")
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
            return None, _("is not a record number")
        record_id = int(raw)
        if self._replaceable is None:
            self.load_replaceable()
        if _contains(self._replaceable, record_id):
            return record_id, None
        if _contains(self._in_corrected, record_id):
            problem = _("record %(id)s is no longer public: it was replaced already, or its batch was withdrawn")
            return None, problem % {"id": record_id}
        return None, _("record %(id)s is not in the corrected batch “%(batch)s”") % {
            "id": record_id, "batch": self.corrects_label,
        }  # fmt: skip


def _ids(queryset, batch_id: int) -> array.array:
    """The record ids of a batch as a sorted array: 8 bytes each, even for a million-row batch."""
    ids = array.array("q")
    rows = queryset.filter(batch_id=batch_id).order_by("pk").values_list("pk", flat=True)
    ids.extend(rows.iterator(chunk_size=20_000))
    return ids


def _contains(ids: array.array, value: int) -> bool:
    at = bisect.bisect_left(ids, value)
    return at < len(ids) and ids[at] == value


def duplicate_error(row_number: int, first: int) -> RowError:
    """The problem of a row repeating the programme, identity number and payment date of row `first`."""
    problem = _("the same fund programme, identity number and payment date as row %(row)s") % {"row": first}
    return RowError(row_number, HEADERS[ID_NUMBER], problem)


def _too_long(limit: int) -> str:
    return _("is longer than %(limit)s characters") % {"limit": limit}


def _household(value: str) -> int:
    """The household size from a cell such as "3" or "3.0"; 0 (out of range) when it is not a number."""
    if _HOUSEHOLD.fullmatch(value):
        return int(value.split(".")[0])
    return 0


def _amount(value: str) -> Decimal | str:
    """The amount, or what is wrong with it (`check` has tried the usual "520.00" already)."""
    if not value:
        return _("must not be empty")
    if _GROUPED_AMOUNT.fullmatch(value):
        value = value.replace(",", "")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return _("is not a number")
    if not amount.is_finite():
        return _("is not a number")
    if amount <= 0:
        return _("must be more than 0")
    if amount >= AMOUNT_LIMIT:
        return _("is too large: at most 9999999999.99")
    if amount != amount.quantize(_CENT, rounding=ROUND_DOWN):
        return _("has more than 2 decimal places")
    return amount
