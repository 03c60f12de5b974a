"""The large import reads a sheet in pieces (disclosure.importing.SheetPieces): whatever the piece size,
it must give exactly the rows, numbers and cells that calamine gives reading the sheet whole."""

import datetime
import re
import zipfile

import pytest
from openpyxl import Workbook
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from disclosure import importing

pytestmark = pytest.mark.django_db  # the suite's autouse fixtures look at the database


def rows_of(path, *, whole: bool, monkeypatch) -> tuple[list, list]:
    """(header, rows) of a file, read in tiny pieces or whole; also checks which way it went."""
    used = []
    real_rows = importing.SheetPieces.rows

    def rows(self):
        used.append(self)
        return real_rows(self)

    def refuse(self, binary):
        raise importing._Unusual("read whole for the comparison")

    with monkeypatch.context() as patch:
        patch.setattr(importing, "SHEET_PIECE_BYTES", 300)
        patch.setattr(importing.SheetPieces, "rows", rows)
        if whole:
            patch.setattr(importing.SheetPieces, "__init__", refuse)
        source = importing.RowSource(path)
        try:
            found = source.header, list(source)
        finally:
            source.close()
    assert bool(used) is not whole
    return found


def sample_book(book, sheet):
    sheet.append([])
    sheet.append(["专项资金", "姓名", "身份证号", "金额", "日期"])
    for number in range(60):
        sheet.append(["城乡居民最低生活保障资金", f"张三{number}", "42098119900101123X", 520.5 + number,
                      datetime.datetime(2026, 3, 1 + number % 28)])  # fmt: skip
    sheet.append([])
    sheet.append([None, None, "A & B <c> </row> </sheetData>", 3, None])
    sheet.append(["最后一行", "李四", "", 0, False])
    return book


def with_shared_strings(path, target):
    """The workbook at `path` with its inline strings moved to a shared-strings part, as Excel and WPS
    save them (openpyxl writes them inline)."""
    strings: dict[bytes, int] = {}

    def shared(match):
        index = strings.setdefault(match.group(2), len(strings))
        return match.group(1) + b't="s"><v>%d</v></c>' % index

    with zipfile.ZipFile(path) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'(<c\b[^>]*?)t="inlineStr"><is><t[^>]*>(.*?)</t></is></c>', shared, data)
            elif item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Type="http://schemas.openxmlformats.org/'
                                    b'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml" '
                                    b'Id="rIdShared"/></Relationships>')  # fmt: skip
            elif item.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')  # fmt: skip
            out.writestr(item, data)
        table = b"".join(b"<si><t>" + text + b"</t></si>" for text in strings)
        out.writestr("xl/sharedStrings.xml", b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.'
                     b'openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">%s</sst>'
                     % (len(strings), len(strings), table))  # fmt: skip
    assert strings


@pytest.mark.parametrize("shared", [False, True], ids=["inline strings", "shared strings"])
def test_pieces_give_what_the_whole_sheet_gives(tmp_path, monkeypatch, shared):
    book = Workbook()
    path = tmp_path / "book.xlsx"
    sample_book(book, book.active).save(path)
    if shared:
        with_shared_strings(path, tmp_path / "shared.xlsx")
        path = tmp_path / "shared.xlsx"
    in_pieces = rows_of(path, whole=False, monkeypatch=monkeypatch)
    assert in_pieces == rows_of(path, whole=True, monkeypatch=monkeypatch)
    header, rows = in_pieces
    assert header[:2] == ["专项资金", "姓名"]
    assert rows[0] == (3, ["城乡居民最低生活保障资金", "张三0", "42098119900101123X", 520.5, datetime.date(2026, 3, 1)])
    assert [number for number, _values in rows[-3:]] == [62, 64, 65]
    assert rows[-2] == (64, ["", "", "A & B <c> </row> </sheetData>", 3.0, ""])


def test_pieces_keep_the_1904_date_system(tmp_path, monkeypatch):
    book = Workbook()
    book.epoch = CALENDAR_MAC_1904
    for day in range(1, 40):
        book.active.append(["日期", datetime.datetime(2026, 1, 1) + datetime.timedelta(days=day)])
    book.save(tmp_path / "mac.xlsx")
    header, rows = rows_of(tmp_path / "mac.xlsx", whole=False, monkeypatch=monkeypatch)
    assert header[1] == datetime.date(2026, 1, 2)
    assert rows[-1] == (39, ["日期", datetime.date(2026, 2, 9)])


def test_a_sheet_whose_rows_carry_no_numbers_is_read_whole(tmp_path, monkeypatch):
    book = Workbook()
    for number in range(1, 30):
        book.active.append([f"第{number}行", number])
    book.save(tmp_path / "plain.xlsx")
    unnumbered = tmp_path / "unnumbered.xlsx"
    with zipfile.ZipFile(tmp_path / "plain.xlsx") as source, zipfile.ZipFile(unnumbered, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'(<row\b[^>]*?) r="\d+"', rb"\1", data)
                data = re.sub(rb'(<c\b[^>]*?) r="[A-Z]+\d+"', rb"\1", data)
            target.writestr(item, data)
    header, rows = rows_of(unnumbered, whole=True, monkeypatch=monkeypatch)
    assert header == ["第1行", 1.0]
    assert rows[-1] == (29, ["第29行", 29.0])
    with pytest.raises(importing._Unusual):
        importing.SheetPieces(open(unnumbered, "rb"))  # noqa: SIM115 - closed on the refusal
