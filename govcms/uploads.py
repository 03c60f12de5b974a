"""Checks on uploaded files that several apps share: PDFs without active content, images of sane
dimensions, spreadsheets (zip containers and csv text) small enough to parse in a web request.

Each check is bounded: a hostile file is refused within a budget of time and bytes instead of being
worked on for minutes. The checks raise `UploadRefused` with a `code`; the caller words the message
for its users (naming the file as its own pages do). Imports no app.
"""

import io
import re
import time
import zipfile

from django.conf import settings

# --- images ------------------------------------------------------------------------------------------


def image_limits() -> tuple[int, int]:
    """(pixels a side, pixels in all) an uploaded image may have."""
    return (
        settings.UPLOAD_IMAGE_MAX_SIDE,
        settings.UPLOAD_IMAGE_MAX_PIXELS,
    )


def image_dimensions_allowed(width: int, height: int) -> bool:
    max_side, max_pixels = image_limits()
    return 0 < width <= max_side and 0 < height <= max_side and width * height <= max_pixels


# --- PDF ---------------------------------------------------------------------------------------------

# Names that run something, submit data or carry other files, wherever they appear.
PDF_ACTIVE_KEYS = frozenset(
    {"/JS", "/JavaScript", "/Launch", "/EmbeddedFile", "/EmbeddedFiles", "/XFA", "/RichMedia",
     "/RichMediaContent", "/RichMediaExecute"}
)  # fmt: skip
# Action types (/S) refused wherever they appear, links included.
PDF_ACTIVE_ACTIONS = frozenset(
    {"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE", "/RichMediaExecute",
     "/Rendition", "/Movie", "/Sound"}
)  # fmt: skip
# Object types (/Type, /Subtype) that carry files or media players.
PDF_ACTIVE_TYPES = frozenset({"/EmbeddedFile", "/RichMedia", "/FileAttachment"})
# What an automatic trigger (/OpenAction, /AA) may do: go to a place in the document. A link the reader
# clicks may open a web address; a document opening one by itself (or posting a form) may not.
PDF_AUTOMATIC_ALLOWED = frozenset({"/GoTo"})
# Filters whose output is pixels, never objects a viewer parses: left encoded (JBIG2 would even need
# an external program to decode).
_IMAGE_FILTERS = frozenset({"/DCTDecode", "/JPXDecode", "/JBIG2Decode", "/CCITTFaxDecode", "/DCT", "/CCF"})
# The same names in the raw bytes (with #xx escapes decoded), for objects no cross-reference table lists
# (a viewer repairing the file could still find them). A name ends at whitespace or a delimiter.
_RAW_ACTIVE_NAMES = re.compile(
    rb"/(JavaScript|JS|Launch|EmbeddedFiles?|RichMedia|XFA|SubmitForm|ImportData)(?=[\s()<>\[\]{}/%]|$)"
)
_PDF_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_OBJECT_HEADER = re.compile(rb"(?<![0-9])[0-9]{1,10}[ \t\r\n\f\x00]+[0-9]{1,5}[ \t\r\n\f\x00]+obj(?![A-Za-z])")


class UploadRefused(Exception):
    """The file is refused; `code` says why ("damaged", "encrypted", "active_content", "unchecked",
    "unreadable", "dimensions", "too_big", "too_many_rows", "not_zip")."""

    def __init__(self, code: str, **facts):
        super().__init__(code)
        self.code = code
        self.facts = facts


class _Budget:
    def __init__(self, seconds: float, max_bytes: int):
        self.deadline = time.monotonic() + seconds
        self.bytes_left = max_bytes

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise UploadRefused("unchecked")

    def spend(self, size: int) -> None:
        self.bytes_left -= size
        if self.bytes_left < 0:
            raise UploadRefused("unchecked")
        self.tick()


def pdf_budget() -> tuple[float, int]:
    """(seconds, decoded bytes) one PDF may cost to check."""
    return (
        settings.UPLOAD_PDF_CHECK_MILLISECONDS / 1000,
        settings.UPLOAD_PDF_CHECK_MAX_DECODED_BYTES,
    )


def check_pdf(data: bytes) -> None:
    """Raise UploadRefused unless `data` is a whole, unencrypted PDF without active content.

    The document is read by pypdf: every object of its cross-reference tables, those inside object
    streams too, whatever filters (Flate, ASCIIHex, ASCII85, LZW, RunLength, chained) the streams use;
    every stream but image pixels is decoded and its names looked at as well. Refused: scripts
    (/JS, /JavaScript), /Launch, embedded files, XFA forms, rich media, form submission and data import,
    remote go-to, and any automatic action (/OpenAction, /AA) other than going to a page. The whole
    check stays within `pdf_budget()`; a file that does not ("unchecked") or that pypdf cannot read
    ("unreadable") is refused rather than half-checked.
    """
    if b"%%EOF" not in data[-1024:]:
        raise UploadRefused("damaged")
    if re.search(rb"/Encrypt(?=[\s()<>\[\]{}/%])", data):
        raise UploadRefused("encrypted")
    if _has_raw_active_name(data):
        raise UploadRefused("active_content")
    seconds, max_bytes = pdf_budget()
    budget = _Budget(seconds, max_bytes)
    from pypdf import PdfReader  # imported here: only PDF uploads pay for it
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise UploadRefused("encrypted")
        budget.tick()
        _PdfWalk(reader, budget).run()
    except UploadRefused:
        raise
    except (PdfReadError, ValueError, KeyError, IndexError, TypeError, AttributeError, RecursionError,
            OSError, NotImplementedError, AssertionError, UnicodeError, ArithmeticError) as error:  # fmt: skip
        # pypdf's own limits (LimitReachedError is a PdfReadError) and whatever a broken file trips.
        raise UploadRefused("unreadable", error=type(error).__name__) from error


def _has_raw_active_name(data: bytes) -> bool:
    text = _PDF_NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), data) if b"#" in data else data
    return _RAW_ACTIVE_NAMES.search(text) is not None


class _PdfWalk:
    def __init__(self, reader, budget: _Budget):
        self.reader = reader
        self.budget = budget

    def run(self) -> None:
        from pypdf.generic import IndirectObject

        reader = self.reader
        ids = {(idnum, generation) for generation, table in reader.xref.items() for idnum in table}
        ids.update((idnum, 0) for idnum in reader.xref_objStm)
        self._walk(reader.trailer)
        for idnum, generation in sorted(ids):
            self.budget.tick()
            obj = IndirectObject(idnum, generation, reader).get_object()
            if obj is not None:
                self._walk(obj)
        self._walk_unlisted()

    def _walk_unlisted(self) -> None:
        """Objects in the file that no cross-reference entry points at: older revisions, or objects a viewer
        repairing the file would find. Read where they stand; what cannot be read there is no object."""
        from pypdf.errors import PdfReadError
        from pypdf.generic import read_object

        listed = {offset for table in self.reader.xref.values() for offset in table.values()}
        data = self.reader.stream.getvalue()
        for match in _OBJECT_HEADER.finditer(data):
            if match.start() in listed:
                continue
            self.budget.tick()
            start = match.end()
            while start < len(data) and data[start] in b" \t\r\n\f\x00":
                start += 1
            self.reader.stream.seek(start)
            try:
                obj = read_object(self.reader.stream, self.reader)
            except (PdfReadError, ValueError, KeyError, IndexError, TypeError, AttributeError, OSError):
                continue
            self._walk(obj)

    def _walk(self, root) -> None:
        """Every dictionary and array directly inside `root` (references are objects of their own)."""
        from pypdf.generic import ArrayObject, DictionaryObject, StreamObject

        pending = [root]
        while pending:
            obj = pending.pop()
            if isinstance(obj, DictionaryObject):
                self._check_dictionary(obj)
                pending.extend(obj.values())
                if isinstance(obj, StreamObject):
                    self._check_stream(obj)
            elif isinstance(obj, ArrayObject):
                pending.extend(obj)

    def _check_dictionary(self, dictionary) -> None:
        keys = set(dictionary.keys())
        if keys & PDF_ACTIVE_KEYS:
            raise UploadRefused("active_content")
        for key in ("/Type", "/Subtype"):
            if dictionary.get(key) in PDF_ACTIVE_TYPES:
                raise UploadRefused("active_content")
        if dictionary.get("/S") in PDF_ACTIVE_ACTIONS:
            raise UploadRefused("active_content")
        if "/OpenAction" in keys:
            self._check_automatic(dictionary["/OpenAction"], set())
        if "/AA" in keys:
            triggers = self._resolve(dictionary["/AA"])
            if hasattr(triggers, "values"):
                for action in triggers.values():
                    self._check_automatic(action, set(), destination_allowed=False)

    def _resolve(self, obj):
        from pypdf.generic import IndirectObject

        for _hop in range(32):
            if not isinstance(obj, IndirectObject):
                return obj
            obj = obj.get_object()
        raise UploadRefused("unchecked")

    def _check_automatic(self, action, seen: set, *, destination_allowed: bool = True) -> None:
        """An action run without the reader asking, and the actions chained after it (/Next)."""
        from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

        if isinstance(action, IndirectObject):
            key = (action.idnum, action.generation)
            if key in seen:
                return
            seen.add(key)
        self.budget.tick()
        action = self._resolve(action)
        if isinstance(action, ArrayObject):
            if destination_allowed:  # /OpenAction [page /Fit]: where the document opens
                return
            for item in action:
                self._check_automatic(item, seen, destination_allowed=False)
            return
        if not isinstance(action, DictionaryObject):
            return
        if action.get("/S") not in PDF_AUTOMATIC_ALLOWED:
            raise UploadRefused("active_content")
        if "/Next" in action:
            self._check_automatic(action["/Next"], seen, destination_allowed=False)

    def _check_stream(self, stream) -> None:
        filters = stream.get("/Filter")
        names = [filters] if not hasattr(filters, "__iter__") or isinstance(filters, str) else list(filters)
        if stream.get("/Type") != "/ObjStm" and (
            stream.get("/Subtype") == "/Image" or any(str(name) in _IMAGE_FILTERS for name in names)
        ):
            self.budget.spend(len(stream._data or b""))
            return
        decoded = stream.get_data()
        self.budget.spend(len(decoded))
        if _has_raw_active_name(decoded):
            raise UploadRefused("active_content")


# --- spreadsheets ------------------------------------------------------------------------------------

_CHUNK = 1 << 20
_XLSX_SHEET = re.compile(r"xl/worksheets/[^/]+\.xml", re.IGNORECASE)
_XML_ROW = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row\b([^>]*)>")
_ROW_NUMBER = re.compile(rb"""\br\s*=\s*["'](\d{1,9})["']""")
# A member that inflates more than this many times and past 1 MB is refused: real sheets pack 5-20×.
ZIP_MAX_RATIO = 100
ZIP_MAX_MEMBERS = 200


def check_xlsx_size(file, *, max_unzipped_bytes: int, max_rows: int) -> int:
    """Raise UploadRefused unless the xlsx (zip) `file` is small enough to parse in a web request;
    return the number of rows its largest sheet holds (empty rows included).

    Nothing is parsed as a workbook. The zip's directory must declare at most ZIP_MAX_MEMBERS members
    and `max_unzipped_bytes` in all, no member may inflate more than ZIP_MAX_RATIO times past 1 MB,
    and every member is then inflated (1 MB at a time, checksums verified) with the actual bytes
    counted against the same limit, as a directory can lie. Rows are counted in the sheets' XML on the
    way, by their <row> elements and the row numbers they declare (a spreadsheet reader fills the gap
    up to row 2,000,000 as empty rows). Codes: "not_zip", "too_big" (facts: size, limit),
    "too_many_rows" (facts: rows).
    """
    try:
        file.seek(0)
        with zipfile.ZipFile(file) as archive:
            infos = archive.infolist()
            _check_zip_directory(infos, max_unzipped_bytes=max_unzipped_bytes)
            budget = max_unzipped_bytes
            most_rows = 0
            for info in infos:
                with archive.open(info) as member:
                    rows, size = _inflate_counting_rows(
                        member, budget, is_sheet=bool(_XLSX_SHEET.fullmatch(info.filename))
                    )
                budget -= size
                if budget < 0:
                    raise UploadRefused("too_big", size=max_unzipped_bytes - budget, limit=max_unzipped_bytes)
                most_rows = max(most_rows, rows)
                if most_rows > max_rows:
                    raise UploadRefused("too_many_rows", rows=most_rows)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, ValueError) as error:
        raise UploadRefused("not_zip", error=type(error).__name__) from error
    finally:
        file.seek(0)
    return most_rows


def _check_zip_directory(infos, *, max_unzipped_bytes: int, max_member_bytes: dict | None = None) -> None:
    declared = sum(info.file_size for info in infos)
    if len(infos) > ZIP_MAX_MEMBERS or declared > max_unzipped_bytes:
        raise UploadRefused("too_big", size=declared, limit=max_unzipped_bytes)
    for info in infos:
        limit = (max_member_bytes or {}).get(info.filename.lower())
        if limit is not None and info.file_size > limit:
            raise UploadRefused("too_big", size=info.file_size, limit=limit)
        if info.file_size > _CHUNK and info.file_size > ZIP_MAX_RATIO * max(info.compress_size, 1):
            raise UploadRefused("too_big", size=declared, limit=max_unzipped_bytes, ratio=True)


def check_xlsx_directory(file, *, max_unzipped_bytes: int, max_member_bytes: dict | None = None) -> None:
    """Raise UploadRefused ("not_zip", or "too_big" with size and limit) unless the zip directory of
    the xlsx `file` declares at most ZIP_MAX_MEMBERS members, `max_unzipped_bytes` in all, no member
    inflating more than ZIP_MAX_RATIO times past 1 MB, and each member named in `max_member_bytes`
    (lower-case path: limit) within its limit. Reads only the directory, so it suits files too large
    to inflate twice (the Celery import). A directory that understates a member cannot get past it:
    zipfile reads a member only up to its declared size and then fails its checksum."""
    try:
        file.seek(0)
        with zipfile.ZipFile(file) as archive:
            _check_zip_directory(
                archive.infolist(), max_unzipped_bytes=max_unzipped_bytes, max_member_bytes=max_member_bytes
            )
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, ValueError) as error:
        raise UploadRefused("not_zip", error=type(error).__name__) from error
    finally:
        file.seek(0)


def _inflate_counting_rows(member, budget: int, *, is_sheet: bool) -> tuple[int, int]:
    """(rows, inflated bytes) of one zip member; stops reading once past `budget` bytes."""
    size = count = highest = 0
    tail = b""
    while True:
        chunk = member.read(_CHUNK)
        size += len(chunk)
        if size > budget:
            return max(count, highest), size
        if not is_sheet:
            if not chunk:
                return 0, size
            continue
        text = tail + chunk
        # A tag may be cut by the chunk boundary: keep everything from the last "<" for the next round.
        cut = text.rfind(b"<") if chunk else len(text)
        cut = len(text) if cut < 0 else cut
        for match in _XML_ROW.finditer(text, 0, cut):
            count += 1
            number = _ROW_NUMBER.search(match.group(1))
            if number:
                highest = max(highest, int(number.group(1)))
        tail = text[cut:]
        if not chunk:
            return max(count, highest), size


def check_csv_size(data: bytes, *, max_bytes: int, max_rows: int) -> int:
    """Raise UploadRefused ("too_big" with size and limit, or "too_many_rows" with rows) unless csv
    `data` is at most `max_bytes` and `max_rows` lines below its header, empty lines included; return
    that number of lines. Counting line ends is an upper bound (a quoted cell may hold one) and costs
    a pass in C over bytes already in memory."""
    if len(data) > max_bytes:
        raise UploadRefused("too_big", size=len(data), limit=max_bytes)
    lines = max(data.count(b"\n"), data.count(b"\r"))
    if data and not data.endswith((b"\n", b"\r")):
        lines += 1
    rows = max(lines - 1, 0)
    if rows > max_rows:
        raise UploadRefused("too_many_rows", rows=rows)
    return rows
