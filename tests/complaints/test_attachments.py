"""Citizens' attachments: the type comes from the content, every problem is named in Chinese, storage is private."""

import base64
import binascii
import hashlib
import io
import struct
import zlib

import pytest
from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from pypdf import PdfWriter

from complaints.attachments import (
    check_attachment,
    check_attachments,
    clean_name,
    delete_attachment,
    open_attachment,
    store_attachment,
)


def image_bytes(fmt="PNG", size=(64, 48)):
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, fmt)
    return buffer.getvalue()


def pillow_pdf():
    buffer = io.BytesIO()
    Image.new("RGB", (60, 80), "white").save(buffer, "PDF")
    return buffer.getvalue()


def hand_pdf(catalog_extra=b"", body_extra=b"", objects=(), packed=(), trailer_extra=b""):
    """A small PDF written byte by byte, with a real cross-reference table: objects 1-3 are the catalog
    (plus `catalog_extra`), the page tree and a page; `objects` follow as 4, 5, ... With `packed`
    (object numbers inside object stream 4, in order) the cross-reference is a stream, as PDF 1.5
    writes it, so a viewer finds those objects inside the (encoded) object stream."""
    bodies = [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        *objects,
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.5\n")
    offsets = []
    for number, body in enumerate(bodies, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    out.write(body_extra)
    start = out.tell()
    if packed:
        entries = b"\x00" + struct.pack(">IH", 0, 65535)
        entries += b"".join(b"\x01" + struct.pack(">IH", offset, 0) for offset in offsets)
        entries += b"\x01" + struct.pack(">IH", start, 0)  # the cross-reference stream itself
        entries += b"".join(b"\x02" + struct.pack(">IH", 4, index) for index, _number in enumerate(packed))
        size = len(bodies) + 2 + len(packed)
        out.write(b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n"
                  % (len(bodies) + 1, size, len(entries)) + entries + b"\nendstream\nendobj\n")  # fmt: skip
    else:
        out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1))
        out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
        out.write(b"trailer\n<< /Size %d /Root 1 0 R " % (len(bodies) + 1) + trailer_extra + b" >>\n")
    out.write(b"startxref\n%d\n%%%%EOF\n" % start)
    return out.getvalue()


def stream(data, entries=b""):
    return b"<< /Length %d " % len(data) + entries + b" >>\nstream\n" + data + b"\nendstream"


def object_stream(objects, filter_name, encode):
    """Object stream 4 holding `objects` (numbered 7, 8, ... after the xref stream 5... see hand_pdf)."""
    header, body = b"", b""
    for number, obj in objects:
        header += b"%d %d " % (number, len(body))
        body += obj + b"\n"
    data = header + body
    return stream(encode(data), b"/Type /ObjStm /N %d /First %d /Filter %s" % (len(objects), len(header), filter_name))


def upload(name, content, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def refusal(uploaded):
    with pytest.raises(ValidationError) as caught:
        check_attachment(uploaded)
    return caught.value.messages


@pytest.fixture
def private(settings, tmp_path):
    settings.COMPLAINTS_PRIVATE_DIR = tmp_path / "private"
    return settings.COMPLAINTS_PRIVATE_DIR


def test_real_jpeg_png_and_pdf_are_accepted_with_their_facts():
    jpeg = image_bytes("JPEG")
    checked = check_attachment(upload("照片.JPG", jpeg, "image/jpeg"))
    assert (checked.kind, checked.content_type, checked.extension) == ("jpeg", "image/jpeg", "jpg")
    assert checked.size == len(jpeg)
    assert checked.sha256 == hashlib.sha256(jpeg).hexdigest()
    assert checked.original_name == "照片.JPG"
    assert check_attachment(upload("a.png", image_bytes("PNG"))).kind == "png"
    assert check_attachment(upload("scan.pdf", pillow_pdf())).kind == "pdf"
    assert check_attachment(upload("hand.pdf", hand_pdf())).content_type == "application/pdf"


def test_type_comes_from_content_a_png_named_pdf_is_a_png():
    checked = check_attachment(upload("scan.pdf", image_bytes("PNG"), "application/pdf"))
    assert (checked.kind, checked.extension) == ("png", "png")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("photo.jpg", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200),  # a Windows program
        ("letter.pdf", b"<!DOCTYPE html><html><script>alert(1)</script></html>"),
        ("logo.png", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>x()</script></svg>'),
        ("notes.pdf", b"PK\x03\x04" + b"\x00" * 100),  # a zip / docx
        ("photo.gif", b"GIF89a" + b"\x00" * 100),
    ],
)
def test_disguised_files_are_refused_by_content(name, content):
    assert refusal(upload(name, content, "image/jpeg")) == [f"「{name}」不是 JPG、PNG 或 PDF 文件（按文件内容判断）。"]


def test_empty_file_is_refused():
    assert refusal(upload("blank.jpg", b"")) == ["「blank.jpg」是空文件。"]


class HugeUpload:
    """A 10 GB upload whose bytes must never be touched."""

    name = "big.png"
    size = 10 * 1024**3

    def _fail(self, *args, **kwargs):
        raise AssertionError("an oversized file must not be read")

    read = chunks = seek = _fail


def test_too_big_is_refused_without_reading_a_byte():
    assert refusal(HugeUpload()) == ["「big.png」大小为 10240 MB，每个文件不能超过 10 MB。"]


def test_limit_comes_from_settings(settings):
    settings.COMPLAINT_ATTACHMENT_MAX_BYTES = 1024 * 1024
    big = upload("big.png", image_bytes("PNG") + b"\x00" * (2 * 1024 * 1024))
    assert refusal(big) == ["「big.png」大小为 2.1 MB，每个文件不能超过 1 MB。"]


def test_a_file_just_over_the_limit_says_so(settings):
    settings.COMPLAINT_ATTACHMENT_MAX_BYTES = 1024 * 1024
    big = upload("big.png", image_bytes("PNG") + b"\x00" * (1024 * 1024))
    assert refusal(big) == ["「big.png」大小为 1.1 MB，每个文件不能超过 1 MB。"]


def test_file_at_the_limit_is_accepted(settings):
    png = image_bytes("PNG")
    settings.COMPLAINT_ATTACHMENT_MAX_BYTES = len(png)
    assert check_attachment(upload("a.png", png)).size == len(png)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_images_are_refused(fmt):
    whole = image_bytes(fmt, size=(300, 200))
    messages = refusal(upload("cut.img", whole[: len(whole) * 2 // 3]))
    assert messages == ["「cut.img」已损坏或不完整，图片无法打开，请重新上传。"]


def test_png_with_a_corrupted_chunk_is_refused():
    data = bytearray(image_bytes("PNG"))
    data[50] ^= 0xFF  # inside the IDAT chunk: its checksum no longer matches
    assert "已损坏" in refusal(upload("bad.png", bytes(data)))[0]


def png_claiming(width, height):
    data = bytearray(image_bytes("PNG", size=(10, 10)))
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return bytes(data)


def test_decompression_bomb_is_refused():
    assert refusal(upload("bomb.png", png_claiming(30000, 30000))) == ["「bomb.png」图片尺寸异常，已拒收。"]


def test_image_over_the_pixel_limit_is_refused(settings):
    settings.UPLOAD_IMAGE_MAX_PIXELS = 99
    assert refusal(upload("wide.png", image_bytes("PNG", size=(10, 10)))) == ["「wide.png」图片尺寸异常，已拒收。"]


def test_pdf_without_end_marker_is_refused():
    whole = pillow_pdf()
    assert refusal(upload("cut.pdf", whole[:-300])) == ["「cut.pdf」不是完整的 PDF 文件，请重新上传。"]


ACTIVE = "「{}」含有脚本、动作或嵌入文件等活动内容，已拒收。"


@pytest.mark.parametrize(
    "extra",
    [
        b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>",
        b"/OpenAction << /S /Launch /F (cmd.exe) >>",
        b"/Names << /EmbeddedFiles 4 0 R >>",
        b"/OpenAction << /S /J#61vaScript /J#53 (app.alert(1)) >>",  # name escapes
        b"/AA<</O<</S/JavaScript/JS(x)>>>>",  # no spaces at all
    ],
)
def test_pdf_with_active_content_is_refused(extra):
    assert refusal(upload("form.pdf", hand_pdf(catalog_extra=extra))) == [ACTIVE.format("form.pdf")]


def test_pdf_script_hidden_in_a_compressed_object_stream_is_refused():
    hidden = zlib.compress(b"5 0 obj << /S /JavaScript /JS (app.alert(1)) >> endobj")
    stream = b"4 0 obj << /Type /ObjStm /Filter /FlateDecode /Length %d >>\nstream\n" % len(hidden)
    pdf = hand_pdf(body_extra=stream + hidden + b"\nendstream\nendobj\n")
    assert refusal(upload("hidden.pdf", pdf)) == [ACTIVE.format("hidden.pdf")]


def test_pdf_with_harmless_names_is_accepted():
    # /JBIG2Decode and /JSomething begin like /JS but are other names.
    pdf = hand_pdf(catalog_extra=b"/JBIG2Decode true /JSomething 1 /OpenAction [3 0 R /Fit]")
    assert check_attachment(upload("ok.pdf", pdf)).kind == "pdf"


def test_encrypted_pdf_is_refused():
    pdf = hand_pdf(objects=[b"<< /Filter /Standard /V 2 >>"], trailer_extra=b"/Encrypt 4 0 R")
    assert "加密" in refusal(upload("locked.pdf", pdf))[0]


def test_pdf_inflating_beyond_the_budget_is_refused(settings):
    settings.UPLOAD_PDF_CHECK_MAX_DECODED_BYTES = 1000
    packed = zlib.compress(b"0" * 100_000)
    pdf = hand_pdf(objects=[stream(packed, b"/Filter /FlateDecode")])
    assert refusal(upload("zip.pdf", pdf)) == [
        "「zip.pdf」PDF 文件结构过于复杂，无法检查，已拒收。请上传简化后的文件。"
    ]


def test_pdf_script_after_a_megabyte_of_inflated_stream_is_found():
    # The inflated stream is read in 1 MB pieces: a name across the boundary must still be seen.
    filler = b" " * (1024 * 1024 - 9)
    hidden = zlib.compress(filler + b"<< /S /JavaScript >>")  # "<< /S /Ja" | "vaScript >>"
    stream = b"4 0 obj << /Type /ObjStm /Filter /FlateDecode /Length %d >>\nstream\r\n" % len(hidden)
    pdf = hand_pdf(body_extra=stream + hidden + b"\nendstream\nendobj\n")
    assert refusal(upload("long.pdf", pdf)) == [ACTIVE.format("long.pdf")]


def test_names_lose_paths_control_characters_and_length():
    assert clean_name("C:\\Users\\张三\\Desktop\\投诉.pdf") == "投诉.pdf"
    assert clean_name("../../etc/passwd") == "passwd"
    assert clean_name("photo\u202egpj.exe") == "photogpj.exe"
    assert clean_name("a\x00b\nc.png") == "abc.png"
    assert clean_name("..hidden.png") == "hidden.png"
    long = clean_name("长" * 150 + ".jpeg")
    assert len(long) == 100 and long.endswith("长.jpeg")
    assert check_attachment(upload("\u202e", image_bytes("PNG"))).original_name == "attachment.png"


def test_message_names_the_cleaned_file():
    assert refusal(upload("../x/<b>evil\u202e.exe", b"MZ" + b"\x00" * 50))[0].startswith("「<b>evil.exe」")


def test_check_attachments_returns_every_file():
    files = [upload("a.jpg", image_bytes("JPEG")), upload("b.pdf", pillow_pdf())]
    assert [c.kind for c in check_attachments(files)] == ["jpeg", "pdf"]
    assert check_attachments([]) == []


def test_six_files_are_too_many_and_every_other_problem_is_listed_too():
    files = [upload(f"{n}.png", image_bytes("PNG")) for n in range(4)]
    files += [upload("virus.jpg", b"MZ" + b"\x00" * 50), upload("empty.pdf", b"")]
    with pytest.raises(ValidationError) as caught:
        check_attachments(files)
    assert caught.value.messages == [
        "最多可以上传 5 个附件，您选择了 6 个。",
        "「virus.jpg」不是 JPG、PNG 或 PDF 文件（按文件内容判断）。",
        "「empty.pdf」是空文件。",
    ]


def test_store_open_and_delete_a_checked_file(private):
    jpeg = image_bytes("JPEG")
    uploaded = upload("photo.png", jpeg)  # a JPEG with the wrong name is stored as .jpg
    checked = check_attachment(uploaded)
    relative = store_attachment(checked, uploaded, directory="cases")
    parts = relative.split("/")
    assert parts[0] == "cases" and len(parts[1]) == 4 and len(parts[2]) == 2
    assert parts[3].endswith(".jpg") and len(parts[3]) == 36
    assert (private / relative).stat().st_mode & 0o777 == 0o640
    with open_attachment(relative) as stored:
        assert stored.read() == jpeg
    assert delete_attachment(relative) is True
    assert delete_attachment(relative) is False
    with pytest.raises(FileNotFoundError):
        open_attachment(relative)


def test_two_stores_of_one_file_get_different_names(private):
    uploaded = upload("a.png", image_bytes("PNG"))
    checked = check_attachment(uploaded)
    assert store_attachment(checked, uploaded) != store_attachment(checked, uploaded)


def test_a_file_changed_after_its_check_is_not_stored(private):
    uploaded = upload("a.png", image_bytes("PNG"))
    checked = check_attachment(uploaded)
    swapped = upload("a.png", b"MZ" + b"\x00" * 50)
    with pytest.raises(ValueError, match="changed"):
        store_attachment(checked, swapped)
    assert [p for p in private.rglob("*") if p.is_file()] == []


@pytest.mark.parametrize(
    "path",
    [
        "../../etc/passwd",
        "/etc/passwd",
        "attachments/2025/01/../../../../etc/passwd",
        "attachments/2025/01/" + "a" * 32 + ".jpg/../../x",
        "attachments\\2025\\01\\" + "a" * 32 + ".jpg",
        "attachments/2025/01/" + "a" * 32 + ".exe",
        "",
        None,
    ],
)
def test_open_and_delete_refuse_paths_outside_the_private_directory(private, path):
    with pytest.raises(SuspiciousFileOperation):
        open_attachment(path)
    with pytest.raises(SuspiciousFileOperation):
        delete_attachment(path)


def test_open_refuses_a_link_leading_out_of_the_private_directory(private, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    folder = private / "attachments" / "2025" / "01"
    folder.mkdir(parents=True)
    (folder / ("b" * 32 + ".pdf")).symlink_to(secret)
    with pytest.raises(SuspiciousFileOperation):
        open_attachment("attachments/2025/01/" + "b" * 32 + ".pdf")


def test_bad_directory_name_is_refused(private):
    uploaded = upload("a.png", image_bytes("PNG"))
    with pytest.raises(ValueError, match="directory"):
        store_attachment(check_attachment(uploaded), uploaded, directory="../outside")


# The hostile PDFs of the penetration test (issue 12): each is refused, by the structure pypdf reads.
SCRIPT_ACTION = b"<< /S /JavaScript /JS (app.alert(1)) >>"
ENCODINGS = {
    "ASCIIHex": (b"/ASCIIHexDecode", lambda data: binascii.hexlify(data) + b">"),
    "ASCII85": (b"/ASCII85Decode", lambda data: base64.a85encode(data, adobe=True)[2:]),
    "ASCII85 then Flate": (b"[/FlateDecode /ASCII85Decode]", lambda data: zlib.compress(base64.a85encode(data, adobe=True)[2:])),
}  # fmt: skip


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_pdf_script_in_an_encoded_object_stream_is_refused(encoding):
    filter_name, encode = ENCODINGS[encoding]
    # Object 6 lives only inside object stream 4; the catalog runs it when the document opens.
    pdf = hand_pdf(
        catalog_extra=b"/OpenAction 6 0 R",
        objects=[object_stream([(6, SCRIPT_ACTION)], filter_name, encode)],
        packed=[6],
    )
    assert b"JavaScript" not in pdf
    assert refusal(upload("hex.pdf", pdf)) == [ACTIVE.format("hex.pdf")]


def test_pdf_names_in_an_object_stream_are_read_by_the_parser_not_only_by_a_byte_scan(monkeypatch):
    monkeypatch.setattr("govcms.uploads._has_raw_active_name", lambda data: False)
    filter_name, encode = ENCODINGS["ASCII85"]
    pdf = hand_pdf(
        catalog_extra=b"/OpenAction 6 0 R",
        objects=[object_stream([(6, SCRIPT_ACTION)], filter_name, encode)],
        packed=[6],
    )
    assert refusal(upload("a85.pdf", pdf)) == [ACTIVE.format("a85.pdf")]


def test_pdf_xfa_form_with_a_script_is_refused():
    xfa = b'<xdp:xdp xmlns:xdp="http://ns.adobe.com/xdp/"><template><script>app.alert(1)</script></template></xdp:xdp>'
    filter_name, encode = ENCODINGS["ASCIIHex"]
    pdf = hand_pdf(
        catalog_extra=b"/AcroForm 6 0 R",
        objects=[object_stream([(6, b"<< /Fields [] /X#46A 7 0 R >>"), (7, b"(" + xfa + b")")], filter_name, encode)],
        packed=[6, 7],
    )
    assert refusal(upload("xfa.pdf", pdf)) == [ACTIVE.format("xfa.pdf")]


@pytest.mark.parametrize(
    "action",
    [
        b"<< /S /URI /URI (https://phish.example/) >>",
        b"<< /S /SubmitForm /F << /FS /URL /F (https://collect.example/) >> >>",
        b"<< /S /ImportData /F (data.fdf) >>",
        b"<< /S /GoToR /F (other.pdf) /D [0 /Fit] >>",
        b"<< /S /GoTo /D [3 0 R /Fit] /Next << /S /URI /URI (https://phish.example/) >> >>",
    ],
)
def test_pdf_opening_or_page_action_other_than_go_to_is_refused(action):
    for pdf in (
        hand_pdf(catalog_extra=b"/OpenAction 4 0 R", objects=[action]),
        hand_pdf(catalog_extra=b"/OpenAction 6 0 R", objects=[object_stream([(6, action)], *ENCODINGS["ASCIIHex"])],
                 packed=[6]),
        hand_pdf(objects=[b"<< /Type /Annot /Subtype /Widget /Rect [0 0 9 9] /AA << /E 5 0 R >> >>", action]),
    ):  # fmt: skip
        assert refusal(upload("open.pdf", pdf)) == [ACTIVE.format("open.pdf")]


def test_pdf_with_an_embedded_file_made_by_pypdf_is_refused():
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.add_attachment("payload.exe", b"MZ" + b"\x00" * 100)
    out = io.BytesIO()
    writer.write(out)
    assert refusal(upload("attach.pdf", out.getvalue())) == [ACTIVE.format("attach.pdf")]


def test_ordinary_pdfs_are_accepted_links_and_go_to_included():
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_blank_page(595, 842)
    writer.add_uri(0, "https://www.gov.cn/", [10, 10, 100, 30])  # a link the reader clicks
    out = io.BytesIO()
    writer.write(out)
    assert check_attachment(upload("letter.pdf", out.getvalue())).kind == "pdf"
    opens_on_page = hand_pdf(catalog_extra=b"/OpenAction << /S /GoTo /D [3 0 R /Fit] >>")
    assert check_attachment(upload("goto.pdf", opens_on_page)).kind == "pdf"
    packed = hand_pdf(
        catalog_extra=b"/Metadata 6 0 R",
        objects=[object_stream([(6, b"<< /Title (letter) >>")], *ENCODINGS["ASCII85"])],
        packed=[6],
    )
    assert check_attachment(upload("packed.pdf", packed)).kind == "pdf"


def stream_flood(megabytes):
    empty = stream(b"")
    count = megabytes * 1024 * 1024 // (len(empty) + 20)
    return hand_pdf(objects=[empty] * count)


def test_pdf_flood_of_empty_streams_is_refused_when_the_check_runs_out_of_time(settings):
    # 2 MB of empty streams took 6.6 s with the old check; now the check stops at its time budget
    # (UPLOAD_PDF_CHECK_MILLISECONDS, 2 s by default), here set so small that any flood exceeds it.
    settings.UPLOAD_PDF_CHECK_MILLISECONDS = 1
    flood = stream_flood(2)
    assert len(flood) >= 2 * 1024 * 1024
    assert refusal(upload("flood.pdf", flood)) == [
        "「flood.pdf」PDF 文件结构过于复杂，无法检查，已拒收。请上传简化后的文件。"
    ]


def test_pdf_the_parser_cannot_read_is_refused():
    pdf = b"%PDF-1.7\n" + b"\x00garbage" * 50 + b"\n%%EOF\n"
    assert refusal(upload("junk.pdf", pdf)) == [
        "「junk.pdf」无法按 PDF 格式读取，已拒收。请重新另存或导出为 PDF 后再上传。"
    ]


def test_image_of_40000_pixels_a_side_is_refused_and_13000_too():
    assert refusal(upload("huge.png", png_claiming(40000, 40000))) == ["「huge.png」图片尺寸异常，已拒收。"]
    assert refusal(upload("big.png", png_claiming(13000, 13000))) == ["「big.png」图片尺寸异常，已拒收。"]
    assert refusal(upload("long.png", png_claiming(8001, 10))) == ["「long.png」图片尺寸异常，已拒收。"]
