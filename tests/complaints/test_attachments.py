"""Citizens' attachments: the type comes from the content, every problem is named in Chinese, storage is private."""

import hashlib
import io
import struct
import zlib

import pytest
from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

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


def hand_pdf(catalog_extra=b"", body_extra=b""):
    return (
        b"%PDF-1.4\n"
        b"1 0 obj << /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
        b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >> endobj\n"
        + body_extra
        + b"trailer << /Root 1 0 R >>\n%%EOF\n"
    )


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
    settings.COMPLAINT_ATTACHMENT_MAX_PIXELS = 99
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
    pdf = hand_pdf(body_extra=b"4 0 obj << /Filter /Standard /V 2 >> endobj\n").replace(
        b"trailer << /Root 1 0 R", b"trailer << /Root 1 0 R /Encrypt 4 0 R"
    )
    assert "加密" in refusal(upload("locked.pdf", pdf))[0]


def test_pdf_inflating_beyond_the_budget_is_refused(monkeypatch):
    monkeypatch.setattr("complaints.attachments.PDF_MAX_INFLATED_BYTES", 1000)
    packed = zlib.compress(b"0" * 100_000)
    stream = b"4 0 obj << /Filter /FlateDecode /Length %d >>\nstream\n" % len(packed)
    pdf = hand_pdf(body_extra=stream + packed + b"\nendstream\nendobj\n")
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
