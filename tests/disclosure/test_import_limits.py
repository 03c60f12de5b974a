"""The admin's small import reads the file in the web request: spreadsheets that unpack or expand too
far (a zip bomb of shared strings, two million empty rows) are refused before anything parses them,
with a Chinese message sending them to the large import; empty files get Chinese messages too (issue 12)."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from disclosure.resources import SMALL_IMPORT_MAX_ROWS
from disclosure.rows import HEADERS
from govcms.uploads import UploadRefused, check_csv_size, check_xlsx_size
from tests.disclosure.test_import_small import CSV_FORMAT, XLSX_FORMAT, csv_file, preview, row, xlsx_file

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.disclosure.import_admin")]

CONTENT_TYPES = b"""<?xml version="1.0" encoding="UTF-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>
</Types>"""
ROOT_RELS = b"""<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
WORKBOOK = b"""<?xml version="1.0" encoding="UTF-8"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"
 xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"""
WORKBOOK_RELS = b"""<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>
</Relationships>"""
SHEET_START = b'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
SHEET_END = b"</sheetData></worksheet>"


@pytest.fixture(autouse=True)
def private_dir(settings, tmp_path):
    settings.DISCLOSURE_PRIVATE_DIR = tmp_path / "private"
    return settings.DISCLOSURE_PRIVATE_DIR


@pytest.fixture
def batch(make_batch, program):
    return make_batch()


@pytest.fixture
def officer_client(client, officer):
    client.force_login(officer)
    return client


def header_row() -> bytes:
    cells = b"".join(b'<c t="inlineStr"><is><t>%s</t></is></c>' % h.encode() for h in HEADERS)
    return b'<row r="1">' + cells + b"</row>"


def workbook(sheet_rows: bytes, shared_strings: bytes = b"") -> bytes:
    """An xlsx written part by part, so its parts can be as hostile as a test needs."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", SHEET_START + header_row() + sheet_rows + SHEET_END)
        strings = (
            b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' + shared_strings + b"</sst>"
        )
        archive.writestr("xl/sharedStrings.xml", b'<?xml version="1.0" encoding="UTF-8"?>\n' + strings)
    return out.getvalue()


def shared_strings_bomb(megabytes: int) -> bytes:
    """Hundreds of kilobytes that unpack to `megabytes` MB of one repeated shared string."""
    one = b"<si><t>" + b"A" * 1000 + b"</t></si>"
    return workbook(b"", shared_strings=one * (megabytes * 1024 * 1024 // len(one)))


def empty_rows(count: int, first: int = 2) -> bytes:
    return b"".join(b'<row r="%d"/>' % number for number in range(first, first + count))


def upload(content: bytes, name="发放名单.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def form_errors(page) -> list[str]:
    return page.context["form"].errors.get("import_file", [])


def test_a_shared_strings_bomb_is_refused_before_parsing_and_sent_to_the_large_import(
    officer_client, batch, monkeypatch
):
    bomb = shared_strings_bomb(60)
    assert len(bomb) < 512 * 1024  # 60 MB of XML in a few hundred kilobytes

    def never(*args, **kwargs):
        raise AssertionError("a refused file must not reach the workbook reader")

    monkeypatch.setattr("openpyxl.load_workbook", never)
    page = preview(officer_client, batch, upload(bomb), fmt=XLSX_FORMAT)
    assert form_errors(page) == ["文件解压后超过 20.0\xa0MB，不适合在此处导入。请在批次列表中使用“大文件导入”。"]
    assert page.context.get("confirm_form") is None


def test_a_zip_whose_directory_understates_its_sizes_is_stopped_by_the_bytes_it_inflates(settings):
    bomb = bytearray(shared_strings_bomb(3))
    # Rewrite every declared uncompressed size (local headers and central directory) to 1 KB.
    with zipfile.ZipFile(io.BytesIO(bytes(bomb))) as archive:
        infos = archive.infolist()
    for info in infos:
        real = info.file_size.to_bytes(4, "little")
        bomb = bomb.replace(info.CRC.to_bytes(4, "little") + info.compress_size.to_bytes(4, "little") + real,
                            info.CRC.to_bytes(4, "little") + info.compress_size.to_bytes(4, "little")
                            + (1024).to_bytes(4, "little"))  # fmt: skip
    with pytest.raises(UploadRefused) as refused:
        check_xlsx_size(io.BytesIO(bytes(bomb)), max_unzipped_bytes=1024 * 1024, max_rows=10)
    assert refused.value.code in ("too_big", "not_zip")  # past the byte cap, or caught by zipfile's own size check


def test_two_million_empty_rows_are_refused_by_their_count(officer_client, batch):
    rows = empty_rows(2000) + b'<row r="2000000"/>'
    page = preview(officer_client, batch, upload(workbook(rows)), fmt=XLSX_FORMAT)
    assert form_errors(page) == [f"文件超过{SMALL_IMPORT_MAX_ROWS}行，请改用大文件导入。"]


def test_many_empty_rows_are_counted_even_without_row_numbers():
    rows = b"<row/>" * (SMALL_IMPORT_MAX_ROWS + 1)
    with pytest.raises(UploadRefused) as refused:
        check_xlsx_size(
            io.BytesIO(workbook(rows)), max_unzipped_bytes=20 * 1024 * 1024, max_rows=SMALL_IMPORT_MAX_ROWS + 1
        )
    assert (refused.value.code, refused.value.facts) == ("too_many_rows", {"rows": SMALL_IMPORT_MAX_ROWS + 2})


def test_rows_are_counted_across_read_boundaries(monkeypatch):
    monkeypatch.setattr("govcms.uploads._CHUNK", 7)  # every tag is cut somewhere
    rows = b"".join(b'<row r="%d" spans="1:9"><c r="A%d"><v>1</v></c></row>' % (n, n) for n in range(2, 40))
    assert check_xlsx_size(io.BytesIO(workbook(rows)), max_unzipped_bytes=1 << 20, max_rows=100) == 39


def test_a_file_at_the_row_limit_still_previews(officer_client, batch, settings):
    page = preview(officer_client, batch, xlsx_file([row()]), fmt=XLSX_FORMAT)
    assert form_errors(page) == []
    assert page.context["confirm_form"] is not None


def test_not_a_zip_is_refused_in_chinese(officer_client, batch):
    page = preview(officer_client, batch, upload(b"PK\x03\x04 not really a workbook"), fmt=XLSX_FORMAT)
    assert form_errors(page) == ["无法读取文件（BadZipFile），请确认它确实是.csv或.xlsx文件。"]


def test_a_file_over_the_small_import_size_is_sent_to_the_large_import(officer_client, batch, settings):
    settings.DISCLOSURE_SMALL_IMPORT_MAX_BYTES = 1024
    page = preview(officer_client, batch, csv_file([row()] * 20))
    assert form_errors(page) == [
        "文件大小为 2.4\xa0KB，此处导入的文件不能超过 1.0\xa0KB。请在批次列表中使用“大文件导入”。"
    ]


def test_a_csv_of_many_empty_lines_is_refused_by_its_line_count(officer_client, batch):
    data = ",".join(HEADERS).encode("utf-8") + b"\r\n" + b"\r\n" * (SMALL_IMPORT_MAX_ROWS + 1)
    page = preview(officer_client, batch, upload(data, name="发放名单.csv"), fmt=CSV_FORMAT)
    assert form_errors(page) == [f"文件超过{SMALL_IMPORT_MAX_ROWS}行，请改用大文件导入。"]


def test_csv_line_count_counts_every_kind_of_line_end():
    assert check_csv_size(b"h\r\n1\r\n2", max_bytes=100, max_rows=2) == 2
    assert check_csv_size(b"h\r1\r2\r", max_bytes=100, max_rows=2) == 2
    with pytest.raises(UploadRefused):
        check_csv_size(b"h\n1\n2\n3\n", max_bytes=100, max_rows=2)


@pytest.mark.parametrize(
    ("content", "fmt"),
    [
        (",".join(HEADERS).encode("utf-8-sig") + b"\r\n", CSV_FORMAT),
        (",".join(HEADERS).encode("utf-8-sig") + b"\r\n,,,,,,,,\r\n\r\n", CSV_FORMAT),
        (None, XLSX_FORMAT),
    ],
)
def test_a_header_only_file_gets_a_chinese_message(officer_client, batch, content, fmt):
    file = xlsx_file([]) if content is None else upload(content, name="发放名单.csv")
    page = preview(officer_client, batch, file, fmt=fmt)
    assert form_errors(page) == ["文件标题行下面没有数据。"]


def test_an_empty_file_gets_a_chinese_message(officer_client, batch):
    page = preview(officer_client, batch, upload(b"", name="发放名单.csv"), fmt=CSV_FORMAT)
    assert form_errors(page) == ["所提交的是空文件。"]
