"""Large disbursement files (到人到户, up to millions of rows), imported by a Celery task.

`batch_import_file` streams the batch's uploaded file (csv in UTF-8 with or without BOM, or
GB18030; xlsx read with python-calamine), checks every row with `disclosure.rows`, and loads the
valid ones with one PostgreSQL COPY straight into disclosure_disbursement. Duplicate rows (the
programme, identity number and payment date of an earlier valid row) are then found exactly in
SQL, grouping the batch's loaded rows by programme, identity hash (HMAC-SHA256) and date, and
removed into the report. All of it happens in one transaction: the batch gets every valid row of
its file or none, and nobody else sees its rows before the end. Rejected rows go to an xlsx report
in the private directory, identity numbers masked.

Two things run at once, on the machine's two cores: a thread reads and checks the file (Python)
while the main thread feeds the checked rows to PostgreSQL, which parses the COPY data and
updates the table's indexes in its own process; the reading never waits for it unless it is
QUEUE_BLOCKS pieces ahead. Progress (rows read, valid, rejected) is written every second from the
reading thread's own database connection, outside the big transaction, so the admin sees it move.
"""

import codecs
import csv
import io
import logging
import posixpath
import queue
import re
import threading
import time
import zipfile
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import connection, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from python_calamine import CalamineWorkbook

from accounts.masking import mask_id_number
from accounts.services import audit_record
from disclosure.models import BatchState, DisclosureBatch
from disclosure.rows import (
    COLUMNS,
    HEADERS,
    ID_NUMBER,
    DisbursementRows,
    HeaderError,
    duplicate_error,
    match_headers,
    name_bigrams,
    text,
)
from govcms.uploads import ZIP_MAX_RATIO, UploadRefused, check_xlsx_directory

logger = logging.getLogger(__name__)

BLOCK_ROWS = 2_000  # rows per piece of COPY data handed from the reading thread
QUEUE_BLOCKS = 32  # pieces the reader may be ahead of the database: bounds the memory, ~10 MB
PROGRESS_SECONDS = 1.0
LOCK_NAMESPACE = 7402  # pg_advisory_lock(namespace, batch id): one run per batch at a time
REPORT_MAX_ROWS = 1_048_000  # an Excel sheet holds 1,048,576 rows
SNIFF_BYTES = 1 << 20

_COPY_SQL = f"COPY disclosure_disbursement (batch_id, {', '.join(COLUMNS)}) FROM STDIN"
_NULL = "\\N"
# Every loaded row of the batch after the first valid one of its (programme, identity, date), with
# what the report shows of it. id_hash is the keyed HMAC-SHA256 of the identity number: equal
# exactly when the numbers are equal (the encrypted column differs on every row). The groups are
# counted in a hash table (a window over the batch sorted a million 64-character keys, twice the
# time), kept in memory by DUPLICATES_WORK_MEM; a file without duplicates ends there.
_DUPLICATES_SQL = """
    DELETE FROM disclosure_disbursement AS d
    USING (
        SELECT program_id, id_hash, paid_on, min(row_number) AS first_row
        FROM disclosure_disbursement WHERE batch_id = %(batch)s
        GROUP BY program_id, id_hash, paid_on HAVING count(*) > 1
    ) AS dup
    WHERE d.batch_id = %(batch)s AND d.program_id = dup.program_id AND d.id_hash = dup.id_hash
        AND d.paid_on = dup.paid_on AND d.row_number <> dup.first_row
    RETURNING d.row_number, dup.first_row, d.program_id, d.recipient_name, d.id_masked, d.township, d.village,
        d.household_size, d.amount, d.paid_on, d.paying_department, d.supersedes_id
"""
# PostgreSQL's memory for that hash table (times hash_mem_multiplier, 2), for this transaction only:
# a million rows' groups take about 240 MB; larger files spill to disk, as correct and slower.
DUPLICATES_WORK_MEM = "128MB"
# The batch's rows are new, so the table's statistics put them at one: the planner then runs the grouping
# once per loaded row in a nested loop (20,000 rows into a table of 1.5 million: 100 s instead of 0.1 s).
# Hash-joined, it runs once whatever the count. Set for that statement only.
_DUPLICATES_SETTINGS = "SELECT set_config('work_mem', %s, true), set_config('enable_nestloop', %s, true)"


class ImportFileError(Exception):
    """The file cannot be imported at all; the message (Chinese) says why."""


def private_dir() -> Path:
    return Path(settings.DISCLOSURE_PRIVATE_DIR)


def private_path(relative: str) -> Path:
    """The absolute path of a file named relative to the private directory, never outside it."""
    base = private_dir().resolve()
    path = (base / relative).resolve()
    if base not in path.parents:
        raise ValueError(f"{relative!r} is outside the private directory")
    return path


def upload_name(batch_id: int, suffix: str) -> str:
    return f"disclosure/uploads/batch-{batch_id}{suffix}"


def report_name(batch_id: int) -> str:
    return f"disclosure/reports/batch-{batch_id}-rejected.xlsx"


def progress_key(batch_id: int) -> str:
    return f"disclosure:import-progress:{batch_id}"


def batch_import_file(*, batch_id: int) -> str:
    """Import the uploaded file of a batch in state IMPORTING.

    On success the batch holds every valid row and becomes a draft (DRAFT, import_finished_at set),
    with the counts and, if rows were rejected, the report. If the file cannot be read, its header
    row is wrong, no row is valid, or anything else fails, the batch becomes IMPORT_FAILED with a
    Chinese `import_error` and holds no row. Safe to run twice: a run that finds the batch no
    longer importing, or another run at work on it, does nothing. Returns what happened.
    """
    batch = DisclosureBatch.objects.select_related("created_by", "corrects").filter(pk=batch_id).first()
    if batch is None or batch.state != BatchState.IMPORTING:
        return "not importing"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_NAMESPACE, batch_id % 2_147_483_647])
        if not cursor.fetchone()[0]:
            return "already running"
    report = private_path(report_name(batch_id))
    try:
        batch = DisclosureBatch.objects.select_related("created_by", "corrects").get(pk=batch_id)
        if batch.state != BatchState.IMPORTING:
            return "not importing"
        DisclosureBatch.objects.filter(pk=batch_id).update(
            rows_read=0, rows_valid=0, rows_rejected=0, error_report="", import_error="",
            import_started_at=timezone.now(), import_finished_at=None,
        )  # fmt: skip
        try:
            counts = _import(batch, report)
        except ImportFileError as error:
            _fail(batch, str(error), keep_report=False, report=report)
            return "failed"
        except Exception as error:
            logger.exception("Import of disclosure batch %s failed", batch_id)
            message = _("The import stopped on an unexpected error (%(error)s); no row was imported.") % {
                "error": type(error).__name__
            }
            _fail(batch, message, keep_report=False, report=report)
            return "failed"
        if counts is None:
            return "failed"
        return "imported {valid} rows, rejected {rejected}".format(**counts)
    finally:
        cache.delete(progress_key(batch_id))
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, batch_id % 2_147_483_647])


def stalled_imports(*, older_than_seconds: int = 300) -> list[int]:
    """Batches left importing with no run at work on them: their task was lost (Redis flushed, a
    worker host gone before it acknowledged). A run holds the batch's advisory lock for its whole
    length, so a lock we can take means nobody is importing it; we let go at once and hand the id
    back to be queued again (the import is safe to run twice)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    candidates = DisclosureBatch.objects.filter(state=BatchState.IMPORTING, created_at__lt=cutoff)
    stalled = []
    with connection.cursor() as cursor:
        for batch_id in candidates.values_list("pk", flat=True):
            key = [LOCK_NAMESPACE, batch_id % 2_147_483_647]
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", key)
            if cursor.fetchone()[0]:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", key)
                stalled.append(batch_id)
    return stalled


def _fail(batch, message: str, *, keep_report: bool, report: Path, counts: dict | None = None) -> None:
    if not keep_report:
        report.unlink(missing_ok=True)
    values = {"state": BatchState.IMPORT_FAILED, "import_error": message, "import_finished_at": timezone.now()}
    if counts:
        values.update(rows_read=counts["read"], rows_valid=0, rows_rejected=counts["rejected"])
    if keep_report:
        values["error_report"] = report_name(batch.pk)
    with transaction.atomic():
        DisclosureBatch.objects.filter(pk=batch.pk, state=BatchState.IMPORTING).update(**values)
        audit_record(actor=batch.created_by, action="disclosure.batch_import_failed", target=batch,
                     detail={"error": message})  # fmt: skip


def _import(batch, report: Path) -> dict | None:
    source = RowSource(private_path(batch.upload))
    try:
        try:
            correction_column = match_headers(source.header)
        except HeaderError as error:
            raise ImportFileError(str(error)) from error
        checker = DisbursementRows(
            batch, correction_column=correction_column, find_duplicates=False, copy_literals=True
        )
        if correction_column and batch.corrects_id:
            checker.load_replaceable()  # here, where the batch's own transaction is (tests create it there)
        rejected_rows = RejectReport(report, source.header)
        reader = _Reader(batch.pk, source, checker, rejected_rows)
        with transaction.atomic():
            counts = _load(batch, reader)
            _remove_duplicates(batch, checker, rejected_rows, counts)
            rejected_rows.save()
            if counts["read"] == 0:
                raise ImportFileError(_("The file holds no rows below its header row."))
            if counts["valid"] == 0:
                transaction.set_rollback(True)
            else:
                finished = timezone.now()
                updated = DisclosureBatch.objects.filter(pk=batch.pk, state=BatchState.IMPORTING).update(
                    state=BatchState.DRAFT, rows_read=counts["read"], rows_valid=counts["valid"],
                    rows_rejected=counts["rejected"], error_report=report_name(batch.pk) if counts["rejected"] else "",
                    import_error="", import_finished_at=finished,
                )  # fmt: skip
                if updated != 1:
                    raise ImportFileError(_("The batch was changed while its file was imported; import it again."))
                audit_record(actor=batch.created_by, action="disclosure.batch_import", target=batch,
                             detail={k: counts[k] for k in ("read", "valid", "rejected")})  # fmt: skip
    finally:
        source.close()
    if counts["valid"] == 0:
        message = _(
            "None of the %(count)s rows passed the checks; correct the file as the report of rejected rows says and import it again."
        )
        _fail(batch, message % {"count": counts["read"]}, keep_report=True, report=report, counts=counts)
        return None
    return counts


def _load(batch, reader: "_Reader") -> dict:
    """COPY the reader's checked rows into the disbursement table, inside the caller's transaction."""
    with connection.cursor() as cursor:
        reader.start()
        try:
            cursor.copy_expert(_COPY_SQL, _Feed(reader.pieces))
        finally:
            reader.stop()
    if reader.error is not None:
        raise reader.error
    return reader.counts


def _remove_duplicates(batch, checker: DisbursementRows, report: "RejectReport", counts: dict) -> None:
    """Remove the loaded rows that repeat an earlier valid row and list them in the report (after the
    rows rejected while reading, in row order), with the counts updated."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('work_mem'), current_setting('enable_nestloop')")
        before = cursor.fetchone()
        cursor.execute(_DUPLICATES_SETTINGS, [DUPLICATES_WORK_MEM, "off"])
        cursor.execute(_DUPLICATES_SQL, {"batch": batch.pk})
        duplicates = sorted(cursor.fetchall())
        cursor.execute(_DUPLICATES_SETTINGS, before)
    if not duplicates:
        return
    programmes = {pk: name for name, pk in checker.programmes.items() if pk.__class__ is int}
    for row_number, first, program_id, *values, supersedes_id in duplicates:
        cells = [programmes.get(program_id, ""), *values]
        if checker.correction_column:
            cells.append(supersedes_id)
        report.add(row_number, [duplicate_error(row_number, first)], cells)
    counts["valid"] -= len(duplicates)
    counts["rejected"] += len(duplicates)


class _Feed:
    """The file-like object COPY reads: the pieces from the reading thread, until it is done."""

    def __init__(self, pieces: queue.Queue):
        self.pieces = pieces
        self.rows = 0  # rows handed to COPY so far
        self.ended = False

    def read(self, size=-1) -> bytes:
        if self.ended:
            return b""
        piece = self.pieces.get()
        if piece is None:  # the reader is done (or failed: it says so in reader.error)
            self.ended = True
            return b""
        data, count = piece
        self.rows += count
        return data


class _Reader(threading.Thread):
    """Reads and checks the file, hands COPY data to the main thread, writes the report and the progress."""

    def __init__(self, batch_id: int, source: "RowSource", checker: DisbursementRows, report: "RejectReport"):
        super().__init__(name=f"disclosure-import-{batch_id}", daemon=True)
        self.batch_id, self.source, self.checker, self.report = batch_id, source, checker, report
        self.pieces: queue.Queue = queue.Queue(maxsize=QUEUE_BLOCKS)
        self.stopping = threading.Event()
        self.counts = {"read": 0, "valid": 0, "rejected": 0}
        self.error: BaseException | None = None

    def stop(self) -> None:
        self.stopping.set()
        while self.is_alive():
            try:  # make room so a reader blocked on a full queue sees the stop
                self.pieces.get(timeout=0.1)
            except queue.Empty:
                pass
        self.join()

    def run(self) -> None:
        try:
            self._run()
        except BaseException as error:  # noqa: BLE001 - handed to the main thread, which raises it
            self.error = error
        finally:
            self._put(None)
            connections.close_all()  # this thread's own connection (progress updates)

    def _put(self, item) -> bool:
        while not self.stopping.is_set():
            try:
                self.pieces.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        check, add_rejected, block = self.checker.check, self.report.add, []
        read = valid = rejected = 0
        next_progress = time.monotonic() + PROGRESS_SECONDS
        for row_number, values in self.source:
            read += 1
            record, errors = check(row_number, values)
            if record is None:
                rejected += 1
                add_rejected(row_number, errors, values)
            else:
                valid += 1
                block.append(record)
                if len(block) >= BLOCK_ROWS:
                    if not self._put((self._copy_data(block), len(block))):
                        return
                    block = []
            if read & 1023 == 0:
                if self.stopping.is_set():  # the database side failed: stop reading
                    return
                if time.monotonic() >= next_progress:
                    self._progress(read, valid, rejected)
                    next_progress = time.monotonic() + PROGRESS_SECONDS
        if block and not self._put((self._copy_data(block), len(block))):
            return
        self.counts = {"read": read, "valid": valid, "rejected": rejected}
        self._progress(read, valid, rejected)

    def _progress(self, read: int, valid: int, rejected: int) -> None:
        DisclosureBatch.objects.filter(pk=self.batch_id, state=BatchState.IMPORTING).update(
            rows_read=read, rows_valid=valid, rows_rejected=rejected
        )
        cache.set(progress_key(self.batch_id), self.source.fraction(read), 3600)

    def _copy_data(self, records: list[list]) -> bytes:
        """COPY text format of checked rows: the batch, then the columns in `COLUMNS` order (the name's
        bigrams as `bigrams_literal` made them)."""
        self.checker.encrypt_ids(records)
        batch, lines = f"{self.batch_id}\t", []
        for r in records:
            if r[14].__class__ is not str or "\\" in r[3] or "\\" in r[8] or "\\" in r[9] or "\\" in r[13]:
                lines.append(batch + _escaped_line(r))
                continue
            lines.append(
                f"{batch}{r[0]}\t{_NULL if r[1] is None else r[1]}\t{r[2]}\t{r[3]}\t{r[4]}\t{r[5]}\t{r[6]}\t{r[7]}\t"
                f"{r[8]}\t{r[9]}\t{_NULL if r[10] is None else r[10]}\t{r[11]}\t{r[12].isoformat()}\t{r[13]}\t{r[14]}\n"
            )
        return "".join(lines).encode()


def _escaped_line(r: list) -> str:
    """The slow path of `_copy_data`, for rows whose text holds a backslash (or the name a double quote)."""

    def field(value) -> str:
        if value is None:
            return _NULL
        return str(value).replace("\\", "\\\\")

    names = r[14] if r[14].__class__ is not str else name_bigrams(r[3])  # a literal when the name has one
    grams = ",".join('"' + g.replace("\\", "\\\\").replace('"', '\\"') + '"' for g in names)
    values = [*r[:12], r[12].isoformat(), r[13], "{" + grams + "}"]
    return "\t".join(field(value) for value in values) + "\n"


class RowSource:
    """The rows of a csv or xlsx file, one at a time: `header`, then (row number, cells) for each
    non-empty row below it, numbered as a spreadsheet program shows them. `file` is a path or an
    open binary file; `kind` is ".csv" or ".xlsx" (by default the path's suffix)."""

    def __init__(self, file, kind: str | None = None):
        kind = (kind or Path(file).suffix).lower()
        self._close = []
        self._position = None
        self._total_rows = None
        try:
            if isinstance(file, (str, Path)):
                self.size = max(Path(file).stat().st_size, 1)
                file = open(file, "rb")  # noqa: SIM115 - closed by close()
                self._close.append(file)
            else:
                self.size = max(file.seek(0, io.SEEK_END), 1)
                file.seek(0)
            if kind == ".csv":
                rows = self._csv_rows(file)
            elif kind == ".xlsx":
                rows = self._xlsx_rows(file)
            else:
                raise ImportFileError(_("Only .csv and .xlsx files can be imported."))
            self._rows = rows
            self.header = self._first_row()
        except ImportFileError:
            self.close()
            raise
        except Exception as error:
            self.close()
            raise ImportFileError(_("The file cannot be read (%(error)s); is it really a .csv or .xlsx file?") % {
                "error": type(error).__name__
            }) from error  # fmt: skip

    def _first_row(self):
        for _number, values in self:
            return values
        return []

    def _csv_rows(self, binary):
        encoding = sniff_encoding(binary.read(SNIFF_BYTES))
        binary.seek(0)
        wrapper = io.TextIOWrapper(binary, encoding=encoding, newline="")
        self._close.insert(0, wrapper)
        self._position = binary.tell
        csv.field_size_limit(1 << 20)
        return enumerate(csv.reader(wrapper), start=1)

    def _xlsx_rows(self, binary):
        # calamine holds the sheet's cells and every shared string in memory: a small file whose
        # directory declares a huge or hugely inflating part is refused before it is opened.
        try:
            check_xlsx_directory(
                binary,
                max_unzipped_bytes=settings.DISCLOSURE_LARGE_IMPORT_MAX_UNZIPPED_BYTES,
                max_member_bytes={"xl/sharedstrings.xml": settings.DISCLOSURE_LARGE_IMPORT_MAX_SHARED_STRINGS_BYTES},
            )
        except UploadRefused as refused:
            if refused.code == "not_zip":
                raise  # reported as any unreadable file is
            if refused.facts.get("ratio"):
                raise ImportFileError(
                    _("A part of the workbook expands more than %(ratio)d times when unpacked, which no ordinary "
                      "spreadsheet does; save it again with Excel or WPS and import that file.") % {"ratio": ZIP_MAX_RATIO}
                ) from None  # fmt: skip
            raise ImportFileError(
                _("The workbook unpacks to %(size)s MB, more than the %(limit)s MB a large import reads; split it "
                  "into several files.") % {"size": refused.facts["size"] // 2**20, "limit": refused.facts["limit"] // 2**20}
            ) from None  # fmt: skip
        binary.seek(0)
        try:
            pieces = SheetPieces(binary)
        except _Unusual as unusual:
            logger.info("xlsx read whole, not in pieces: %s", unusual)
        else:
            self._close.insert(0, pieces)
            self._position, self.size = (lambda: pieces.consumed), max(pieces.sheet_info.file_size, 1)
            return pieces.rows()
        binary.seek(0)
        active = _active_sheet_index(binary)
        binary.seek(0)
        book = CalamineWorkbook.from_filelike(binary)
        self._close.insert(0, book)
        # The sheet the file opens on, as django-import-export reads it (calamine reads the cells
        # themselves, never a <dimension> tag some programs write wrong).
        sheet = book.get_sheet_by_index(active if active < len(book.sheet_names) else 0)
        return enumerate(self._sheet_rows(sheet), start=1)

    def _sheet_rows(self, sheet):
        """The sheet's rows as a spreadsheet program numbers them. python-calamine (pinned) yields rows
        from the sheet's first row but cells only from its first used column: pad them back to column A
        (tests/disclosure/test_import_large.py holds it to that)."""
        start, end = sheet.start, sheet.end
        if start is None:  # nothing in the sheet
            return iter(())
        self._total_rows = end[0] + 1
        if not start[1]:
            return sheet.iter_rows()
        before = [None] * start[1]
        return (before + values for values in sheet.iter_rows())

    def __iter__(self):
        try:
            for number, values in self._rows:
                # any(values) settles the usual row at C speed; a row of zeros or False still counts.
                if values and (any(values) or any(value not in (None, "") for value in values)):
                    yield number, values
        except UnicodeDecodeError as error:
            raise ImportFileError(_("Part of the file is not valid text in its encoding (UTF-8 or GB18030); save it again as CSV UTF-8 or as .xlsx.")) from error  # fmt: skip
        except csv.Error as error:
            raise ImportFileError(_("The CSV file is malformed: %(error)s") % {"error": error}) from error

    def fraction(self, rows_read: int) -> float:
        """How far through the file the reading is, 0 to 1, for the progress bar."""
        if self._position is not None:
            return min(self._position() / self.size, 1.0)
        if self._total_rows:
            return min(rows_read / self._total_rows, 1.0)
        return 0.0

    def close(self) -> None:
        for item in self._close:
            try:
                item.close()
            except Exception:  # noqa: BLE001, S110 - closing what may already be closed
                pass
        self._close = []


# -- xlsx in pieces -----------------------------------------------------------------------------------

# Sheet XML calamine reads at a time: about 7,500 rows. A million-row sheet read whole took 1 GB;
# in 4 MB pieces the import's peak is under 200 MB, at the same speed (each piece's small zip costs ~1 ms).
SHEET_PIECE_BYTES = 4 << 20
_SHEET_DATA = re.compile(rb"<((?:\w+:)?)sheetData\b[^>]*?(/?)>")
_ROOT = re.compile(rb"<((?:\w+:)?worksheet)\b")
_SHEET_TAG = re.compile(rb"<(?:\w+:)?sheet\b([^>]*)>")
_RELATION_ID = re.compile(rb'\s(?:\w+:)?id="([^"]*)"')
_RELATIONSHIP = re.compile(rb"<(?:\w+:)?Relationship\b([^>]*)>")
_ATTRIBUTE = re.compile(rb'(\w+)="([^"]*)"')
_DATE_1904 = re.compile(rb'\bdate1904="(?:1|true)"')
_PIECE_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    b'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    b'<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    b"</Types>"
)
_PACKAGE_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    b'Target="xl/workbook.xml"/></Relationships>'
)
_RELATIONSHIP_TYPE = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/"


class _Unusual(Exception):
    """The workbook is not laid out as Excel, WPS and the usual libraries write it: read it whole."""


class SheetPieces:
    """The rows of a workbook's sheet, read by calamine a piece at a time so that a million-row sheet never
    sits in memory whole (calamine itself reads a sheet only whole). The sheet's XML is inflated as a
    stream and cut after a row's end tag; each piece goes to calamine as a small workbook of its own with
    the original styles (date formats), shared strings and date system, so it reads cells exactly as it
    reads the whole file. Rows are numbered by their `r` attribute, which Excel, WPS, openpyxl and
    others write on every row; a workbook laid out otherwise raises _Unusual before any row is read."""

    def __init__(self, binary):
        self.archive = zipfile.ZipFile(binary)  # noqa: SIM115 - closed by close()
        try:
            names = {name.lower(): name for name in self.archive.namelist()}
            workbook = self._part(names, "xl/workbook.xml")
            relations = self._relations(names, "xl/_rels/workbook.xml.rels")
            sheets = [_RELATION_ID.search(found.group(1)) for found in _SHEET_TAG.finditer(workbook)]
            if not sheets or not all(sheets):
                raise _Unusual("sheets")
            # The sheet the file opens on (workbook.xml's activeTab), as django-import-export reads it.
            active = _ACTIVE_TAB.search(workbook)
            sheet_index = int(active.group(1)) if active else 0
            relation = sheets[sheet_index if sheet_index < len(sheets) else 0].group(1)
            sheet_part = relations.get(relation, (None, None))[1]
            if sheet_part is None or sheet_part.lower() not in names:
                raise _Unusual("sheet part")
            self.sheet_info = self.archive.getinfo(names[sheet_part.lower()])
            by_type = {kind: target for kind, target in relations.values()}
            self.extra = {}
            for kind, name in (("styles", "xl/styles.xml"), ("sharedStrings", "xl/sharedStrings.xml")):
                target = by_type.get(kind)
                if target is not None and target.lower() in names:
                    self.extra[name] = self.archive.read(names[target.lower()])
            self.workbook = (
                b'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
                + (b'<workbookPr date1904="1"/>' if _DATE_1904.search(workbook) else b"")
                + b'<sheets><sheet name="1" sheetId="1" r:id="rId1"/></sheets></workbook>'
            )
            links = [
                b'<Relationship Id="rId1" Type="' + _RELATIONSHIP_TYPE + b'worksheet" Target="worksheets/sheet1.xml"/>'
            ]
            for number, name in enumerate(self.extra, start=2):
                kind = name[3:-4].encode()
                links.append(
                    b'<Relationship Id="rId%d" Type="%s%s" Target="%s"/>'
                    % (number, _RELATIONSHIP_TYPE, kind, name[3:].encode())
                )
            self.workbook_rels = (
                b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                + b"".join(links)
                + b"</Relationships>"
            )
            self.stream = self.archive.open(self.sheet_info)
            self.consumed = 0
            self._start()
        except Exception:
            self.close()
            raise

    def _part(self, names: dict, name: str) -> bytes:
        if name not in names:
            raise _Unusual(name)
        return self.archive.read(names[name])

    def _relations(self, names: dict, name: str) -> dict[bytes, tuple[str, str]]:
        """Relationship id: (type's last word, the zip path of its target)."""
        found = {}
        for match in _RELATIONSHIP.finditer(self._part(names, name)):
            attributes = dict(_ATTRIBUTE.findall(match.group(1)))
            target = attributes.get(b"Target", b"").decode("utf-8", "replace")
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath("xl/" + target)
            kind = attributes.get(b"Type", b"").rsplit(b"/", 1)[-1].decode("ascii", "replace")
            found[attributes.get(b"Id", b"")] = (kind, path)
        return found

    def _read(self) -> bytes:
        data = self.stream.read(SHEET_PIECE_BYTES)
        self.consumed += len(data)
        return data

    def _start(self) -> None:
        """Read up to the start of the rows: the sheet's own opening (kept for every piece)."""
        head = b""
        while (found := _SHEET_DATA.search(head)) is None:
            data = self._read()
            if not data or len(head) > SHEET_PIECE_BYTES:
                raise _Unusual("sheetData")
            head += data
        root = _ROOT.search(head)
        if root is None:
            raise _Unusual("worksheet")
        prefix = found.group(1)
        self.head = head[: found.end()] if not found.group(2) else head[: found.start()] + b"<" + prefix + b"sheetData>"
        self.tail = b"</" + prefix + b"sheetData></" + root.group(1) + b">"
        self.row_end = b"</" + prefix + b"row>"
        self.data_end = b"</" + prefix + b"sheetData>"
        self.row_start = re.compile(rb"<" + re.escape(prefix) + rb"row\b([^>]*)>")
        self.rest = b"" if found.group(2) else head[found.end() :]
        self.done = bool(found.group(2))
        first = self.row_start.search(self.rest[:65536])
        if first is not None and b' r="' not in first.group(1):
            raise _Unusual("rows without numbers")

    def pieces(self):
        """The sheet's rows as pieces of XML, each ending after a row."""
        buffer = self.rest
        self.rest = b""
        while not self.done:
            end = buffer.find(self.data_end)
            if end >= 0:
                self.done = True
                yield buffer[:end]
                return
            cut = buffer.rfind(self.row_end)
            if cut >= 0 and len(buffer) >= SHEET_PIECE_BYTES:
                cut += len(self.row_end)
                yield buffer[:cut]
                buffer = buffer[cut:]
            data = self._read()
            if not data:
                raise ImportFileError(
                    _("The workbook's sheet ends before its last row; save it again with Excel or WPS.")
                )
            buffer += data

    def rows(self):
        """(row number as a spreadsheet shows it, cells from column A) of every row, piece by piece."""
        for piece in self.pieces():
            first = self.row_start.search(piece[:65536])
            if first is None:
                continue
            if b' r="' not in first.group(1):
                raise ImportFileError(_("Some rows of the sheet carry no row number; save it again with Excel or WPS."))
            book = CalamineWorkbook.from_filelike(io.BytesIO(self._workbook(piece)))
            try:
                sheet = book.get_sheet_by_index(0)
                start = sheet.start
                if start is None:
                    continue
                values = sheet.to_python(skip_empty_area=True)
            finally:
                book.close()
            number, before = start[0] + 1, [None] * start[1]
            for offset, cells in enumerate(values):
                yield number + offset, (before + cells if before else cells)

    def _workbook(self, piece: bytes) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as book:
            book.writestr("[Content_Types].xml", _PIECE_CONTENT_TYPES)
            book.writestr("_rels/.rels", _PACKAGE_RELS)
            book.writestr("xl/workbook.xml", self.workbook)
            book.writestr("xl/_rels/workbook.xml.rels", self.workbook_rels)
            for name, data in self.extra.items():
                book.writestr(name, data)
            book.writestr("xl/worksheets/sheet1.xml", self.head + piece + self.tail)
        return out.getvalue()

    def fraction(self) -> float:
        return min(self.consumed / max(self.sheet_info.file_size, 1), 1.0)

    def close(self) -> None:
        stream = getattr(self, "stream", None)
        if stream is not None:
            stream.close()
        self.archive.close()


_ACTIVE_TAB = re.compile(rb"<(?:\w+:)?workbookView\b[^>]*\bactiveTab=\"(\d+)\"")


def _active_sheet_index(binary) -> int:
    """The index of the sheet a workbook opens on (workbook.xml's activeTab, 0 when none), which
    calamine does not say. The zip directory was checked already, so workbook.xml is of sane size."""
    with zipfile.ZipFile(binary) as archive:
        names = {name.lower(): name for name in archive.namelist()}
        name = names.get("xl/workbook.xml")
        if name is None:
            return 0
        found = _ACTIVE_TAB.search(archive.read(name))
    return int(found.group(1)) if found else 0


def sniff_encoding(sample: bytes) -> str:
    """UTF-8 with BOM, plain UTF-8, or else GB18030 (what Excel on a Chinese Windows saves as "CSV")."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)  # a cut last character is fine
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


class RejectReport:
    """The xlsx list of rejected rows: row number, column(s), reason(s), then the row's cells with the
    identity number masked. Written row by row (openpyxl write-only), created at the first rejection."""

    def __init__(self, path: Path, header):
        self.path = path
        self.file_header = [text(cell) for cell in header]
        self.book = self.sheet = None
        self.count = 0

    def add(self, row_number: int, errors, values) -> None:
        self.count += 1
        if self.count > REPORT_MAX_ROWS:
            return
        if self.book is None:
            self._open()
        cells = [text(value) for value in values]
        if len(cells) > ID_NUMBER:
            cells[ID_NUMBER] = mask_id_number(cells[ID_NUMBER])
        columns = "、".join(dict.fromkeys(error.column for error in errors))
        problems = "；".join(f"{error.column}：{error.problem}" for error in errors)
        self.sheet.append([row_number, columns, problems, *(self._cell(value) for value in cells)])

    def _open(self) -> None:
        from openpyxl import Workbook

        self.book = Workbook(write_only=True)
        self.sheet = self.book.create_sheet(_("Rejected rows"))
        self.sheet.append([_("Row"), _("Column"), _("Problem"), *(self.file_header or HEADERS)])

    def _cell(self, value: str):
        if value.startswith("="):
            # openpyxl would store it as a formula; a report must show what the file said.
            from openpyxl.cell import WriteOnlyCell

            cell = WriteOnlyCell(self.sheet, value=value)
            cell.data_type = "s"
            return cell
        return value

    def save(self) -> None:
        if self.book is None:
            return
        if self.count > REPORT_MAX_ROWS:
            self.sheet.append(
                [None, None, _("… and %(count)s more rejected rows.") % {"count": self.count - REPORT_MAX_ROWS}]
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.book.save(self.path)
