"""Checks and private storage for the files citizens attach to a complaint.

Only JPEG, PNG and PDF are taken, and the type is decided by the file's content: the name and the
browser's content type are the citizen's to choose, so an .exe called photo.jpg is refused and a PNG
called scan.pdf is taken as the PNG it is (and stored as .png). Images must open in Pillow without
exceeding the dimensions every image input shares (govcms.uploads); PDFs must be whole and carry no
active content (scripts, launch actions, embedded files, XFA forms, automatic actions), as pypdf reads them. Nothing is re-encoded: a file is either stored as sent or refused.

Files are stored outside MEDIA_ROOT (`COMPLAINTS_PRIVATE_DIR`) under random names; staff download
them through a view that checks permissions, never through a public URL.
"""

import hashlib
import math
import os
import re
import unicodedata
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from PIL import Image, UnidentifiedImageError

from govcms.uploads import UploadRefused, check_pdf, image_dimensions_allowed

SHANGHAI = ZoneInfo("Asia/Shanghai")
NAME_MAX_CHARS = 100
# kind -> (leading bytes, content type, extension, Pillow formats that may open it)
KINDS = {
    "jpeg": (b"\xff\xd8\xff", "image/jpeg", "jpg", ("JPEG", "MPO")),
    "png": (b"\x89PNG\r\n\x1a\n", "image/png", "png", ("PNG",)),
    "pdf": (b"%PDF-", "application/pdf", "pdf", ()),
}
_RELATIVE_PATH = re.compile(r"[a-z0-9_-]+/\d{4}/\d{2}/[0-9a-f]{32}\.(?:jpg|png|pdf)")


@dataclass(frozen=True)
class CheckedFile:
    kind: str  # "jpeg", "png" or "pdf"
    content_type: str
    extension: str  # of the real type, without the dot
    size: int
    sha256: str
    original_name: str  # as shown to staff: no path, no control characters, at most 100 characters


def max_files() -> int:
    return getattr(settings, "COMPLAINT_ATTACHMENT_MAX_FILES", 5)


def max_bytes() -> int:
    return getattr(settings, "COMPLAINT_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)


def private_dir() -> Path:
    return Path(getattr(settings, "COMPLAINTS_PRIVATE_DIR", settings.DISCLOSURE_PRIVATE_DIR.parent / "complaints"))


def clean_name(name) -> str:
    """The file name a citizen's browser sent, fit to show: last path part only, no control or
    direction-override characters (which make "gpj.exe" look like "exe.jpg"), at most 100 characters."""
    text = unicodedata.normalize("NFC", str(name or ""))
    text = re.split(r"[/\\]", text)[-1]
    text = "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Zl", "Zp"))
    text = text.strip().lstrip(".")
    if len(text) > NAME_MAX_CHARS:
        stem, dot, suffix = text.rpartition(".")
        if dot and 0 < len(suffix) <= 10:
            text = stem[: NAME_MAX_CHARS - len(suffix) - 1] + "." + suffix
        else:
            text = text[:NAME_MAX_CHARS]
    return text


def _megabytes(size: int, *, up: bool) -> str:
    # A file just over the limit must not read "10 MB; at most 10 MB": sizes round up, limits down.
    tenths = size * 10 / (1024 * 1024)
    return f"{(math.ceil(tenths) if up else math.floor(tenths)) / 10:.1f}".removesuffix(".0")


def _refuse(message: str, code: str, name: str) -> ValidationError:
    return ValidationError(message, code=code, params={"name": name})


def _read_head(uploaded_file, size: int) -> bytes:
    uploaded_file.seek(0)
    head = uploaded_file.read(size)
    uploaded_file.seek(0)
    return head


def _detect(head: bytes) -> str | None:
    for kind, (magic, *_rest) in KINDS.items():
        if head.startswith(magic):
            return kind
    return None


def _check_image(uploaded_file, kind: str, label: str) -> None:
    formats = KINDS[kind][3]
    unreadable = _refuse(
        _("“%(name)s” is damaged or incomplete: the picture cannot be opened. Please attach it again."),
        "damaged",
        label,
    )
    bomb = _refuse(_("“%(name)s” is an image of absurd dimensions and was refused."), "dimensions", label)
    try:
        uploaded_file.seek(0)
        with Image.open(uploaded_file, formats=formats) as image:
            # Pillow itself only warns below twice its own limit; here the shared limit (a side and an area)
            # is a refusal, checked before any decoding, from the header alone.
            if not image_dimensions_allowed(image.width, image.height):
                raise bomb
            image.verify()  # PNG: every chunk's checksum, through to IEND
        if kind == "jpeg":
            uploaded_file.seek(0)
            with Image.open(uploaded_file, formats=formats) as image:
                # verify() does little for JPEG: decode the whole stream, at 1/8 scale to spare memory.
                image.draft("RGB", (max(1, image.width // 8), max(1, image.height // 8)))
                image.load()
    except Image.DecompressionBombError:
        raise bomb from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, zlib.error):
        raise unreadable from None
    finally:
        uploaded_file.seek(0)


_PDF_REFUSALS = {
    "damaged": _lazy("“%(name)s” is an incomplete PDF file. Please attach it again."),
    "encrypted": _lazy(
        "“%(name)s” is an encrypted or password-protected PDF. Please attach a copy without protection."
    ),
    "unchecked": _lazy("“%(name)s” is a PDF too complex to check and was refused. Please attach a simpler copy."),
    "unreadable": _lazy(
        "“%(name)s” cannot be read as a PDF file and was refused. Save or export it as PDF again and attach the new copy."
    ),
    "active_content": _lazy("“%(name)s” contains active content (scripts, actions or embedded files) and was refused."),
}


def _check_pdf(uploaded_file, label: str) -> None:
    # The size was checked first, so this is at most COMPLAINT_ATTACHMENT_MAX_BYTES in memory.
    uploaded_file.seek(0)
    data = b"".join(uploaded_file.chunks())
    uploaded_file.seek(0)
    try:
        check_pdf(data)
    except UploadRefused as refused:
        raise _refuse(str(_PDF_REFUSALS[refused.code]), refused.code, label) from None


def check_attachment(uploaded_file) -> CheckedFile:
    """Check one uploaded file by its content; raise ValidationError (in Chinese, naming the file)
    when it is empty, too big, not really a JPEG/PNG/PDF, damaged, a decompression bomb, or a PDF
    with active content. Reads at most the size limit, and nothing at all from a file over it."""
    name = clean_name(uploaded_file.name)
    label = name or _("unnamed file")
    size = uploaded_file.size
    if not size:
        raise _refuse(_("“%(name)s” is empty."), "empty", label)
    if size > max_bytes():
        raise ValidationError(
            _("“%(name)s” is %(size)s MB; each file may be at most %(limit)s MB."),
            code="too_big",
            params={"name": label, "size": _megabytes(size, up=True), "limit": _megabytes(max_bytes(), up=False)},
        )
    kind = _detect(_read_head(uploaded_file, 16))
    if kind is None:
        raise _refuse(_("“%(name)s” is not a JPG, PNG or PDF file (judged by its content)."), "type", label)
    if kind == "pdf":
        _check_pdf(uploaded_file, label)
    else:
        _check_image(uploaded_file, kind, label)
    digest = hashlib.sha256()
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    uploaded_file.seek(0)
    _magic, content_type, extension, _formats = KINDS[kind]
    return CheckedFile(
        kind=kind,
        content_type=content_type,
        extension=extension,
        size=size,
        sha256=digest.hexdigest(),
        original_name=name or f"attachment.{extension}",
    )


def check_attachments(files) -> list[CheckedFile]:
    """Check every file and the count; one ValidationError lists all problems at once, so the citizen
    fixes them in one go."""
    files = list(files)
    problems: list[ValidationError] = []
    if len(files) > max_files():
        problems.append(
            ValidationError(
                _("You may attach at most %(limit)s files; you chose %(count)s."),
                code="too_many",
                params={"limit": max_files(), "count": len(files)},
            )
        )
    checked = []
    for uploaded_file in files:
        try:
            checked.append(check_attachment(uploaded_file))
        except ValidationError as error:
            problems.extend(error.error_list)
    if problems:
        raise ValidationError(problems)
    return checked


def store_attachment(checked: CheckedFile, uploaded_file, *, directory: str = "attachments") -> str:
    """Write a checked file under the private directory as `<directory>/<yyyy>/<mm>/<uuid>.<ext>`,
    streaming, and return that relative path. The bytes are hashed again on the way: a file that
    changed since it was checked is removed and refused (ValueError)."""
    if not re.fullmatch(r"[a-z0-9_-]+", directory):
        raise ValueError(f"bad attachment directory {directory!r}")
    today = timezone.localdate(timezone=SHANGHAI)
    relative = f"{directory}/{today:%Y}/{today:%m}/{uuid.uuid4().hex}.{checked.extension}"
    target = private_dir() / relative
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
    digest = hashlib.sha256()
    # O_EXCL: a name is never reused, even if two uuids collided.
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    try:
        with os.fdopen(descriptor, "wb") as out:
            for chunk in uploaded_file.chunks():
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != checked.sha256:
            raise ValueError("the file changed after it was checked")
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    finally:
        uploaded_file.seek(0)
    return relative


def _resolve(relative_path: str) -> Path:
    # Only paths store_attachment makes are accepted: no "..", no absolute paths, no links out of the root.
    if not isinstance(relative_path, str) or not _RELATIVE_PATH.fullmatch(relative_path):
        raise SuspiciousFileOperation(f"not an attachment path: {relative_path!r}")
    root = private_dir().resolve()
    path = (root / PurePosixPath(relative_path)).resolve()
    if not path.is_relative_to(root):
        raise SuspiciousFileOperation(f"attachment path leaves the private directory: {relative_path!r}")
    return path


def open_attachment(relative_path: str):
    """The stored file, opened for binary reading; SuspiciousFileOperation for a path that is not one
    of ours, FileNotFoundError when it is gone."""
    return _resolve(relative_path).open("rb")


def delete_attachment(relative_path: str) -> bool:
    """Remove a stored file; True when there was one to remove."""
    path = _resolve(relative_path)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True
