"""Reads shared by the public pages, exports and the admin."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Max, Q, Sum

from disclosure import page_cache
from disclosure.models import BatchState, Disbursement, DisclosureBatch, FundProgram, ProjectAllocation, RecordType
from disclosure.visibility import MODELS
from shared.bigrams import bigrams


def published_batch_ids(record_type: str) -> list[int]:
    """Ids of the published batches of a record type: a short list (one per import), so public
    queries filter `batch_id = ANY(...)` instead of joining the batch table over a million rows."""
    return list(
        DisclosureBatch.objects.filter(record_type=record_type, state=BatchState.PUBLISHED).values_list("pk", flat=True)
    )


def public_records(model, record_type: str):
    """The records the public may see: in a published batch, and not replaced by a correction."""
    return model.objects.filter(batch_id__in=published_batch_ids(record_type), superseded_at__isnull=True)


def public_records_memoized(model, record_type: str):
    """`public_records` for the public pages: the published batch ids come from the process memo,
    which every publish and withdrawal retires (disclosure.page_cache)."""
    ids = page_cache.memoized(("published", record_type), lambda: published_batch_ids(record_type))
    return model.objects.filter(batch_id__in=ids, superseded_at__isnull=True)


def bigram_match(term: str, *, bigram_field: str = "name_bigrams", text_field: str = "name") -> Q:
    """Rows whose text holds `term`: the GIN index on the bigram array finds the candidates, and for
    terms over two characters the text itself is re-checked (holding every bigram of 张小明 does not
    prove 张小 and 小明 are adjacent). A two-character term is exactly its one bigram."""
    condition = Q(**{f"{bigram_field}__contains": bigrams(term)})
    if len(term) > 2:
        condition &= Q(**{f"{text_field}__icontains": term})
    return condition


def public_disbursements(*, name: str = "", name_tail_hash: str = "", village: str = "", township: str = "",
                         program_id: int | None = None, year: int | None = None):  # fmt: skip
    """Public disbursements matching a citizen's search; the caller makes sure something narrows it."""
    records = public_records_memoized(Disbursement, RecordType.DISBURSEMENT)
    if name_tail_hash:
        # One's own records (name + last six): the name's rows come through the bigram index the name search
        # keeps, and the keyed hash picks the citizen's among them. The hash has no index of its own: it cost
        # every imported row a sixth of the database's time, for a lookup that the name narrows to a few
        # hundred rows at most.
        if not name:
            raise ValueError("the lookup by name_tail_hash needs the name it was made of")
        records = records.filter(
            bigram_match(name, text_field="recipient_name"), recipient_name=name, name_tail_hash=name_tail_hash
        )
    elif name:
        records = records.filter(bigram_match(name, text_field="recipient_name"))
    if village:
        records = records.filter(_place_match("village", village))
    if township:
        records = records.filter(_place_match("township", township))
    return filter_program_year(records, program_id=program_id, year=year)


# Columns whose distinct values `place_names` may list, with the btree index that leads with each.
PLACE_COLUMNS = {"village", "township"}


def place_names(column: str) -> list[str]:
    """The distinct townships or villages of all disbursement rows, sorted: a few hundred names, read by
    a loose index scan (one index probe per name over disb_village / disb_township) instead of a scan
    of the million rows. Kept in the process until the next publication or withdrawal."""
    if column not in PLACE_COLUMNS:
        raise ValueError(f"not a place column: {column}")
    sql = f"""
        WITH RECURSIVE names(name) AS (
            (SELECT {column} FROM disclosure_disbursement ORDER BY {column} LIMIT 1)
            UNION ALL
            SELECT (SELECT {column} FROM disclosure_disbursement WHERE {column} > names.name ORDER BY {column} LIMIT 1)
            FROM names WHERE names.name IS NOT NULL
        )
        SELECT name FROM names WHERE name IS NOT NULL
    """  # noqa: S608 - the column is one of PLACE_COLUMNS

    def compute():
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return [row[0] for row in cursor.fetchall()]

    return page_cache.memoized(("place-names", column), compute)


def _place_match(column: str, typed: str) -> Q:
    """A place as typed: the exact name uses the column's index directly; part of a name ("新口" for
    新口村) matches every known name holding it, still through the index (`IN` over those names)."""
    names = place_names(column)
    if typed in names:
        return Q(**{column: typed})
    return Q(**{f"{column}__in": [name for name in names if typed in name]})


def filter_program_year(records, *, program_id: int | None, year: int | None):
    if program_id:
        records = records.filter(program_id=program_id)
    if year:
        # The year's few programme ids as constants: the planner then uses the programme index
        # instead of joining the programme table over a million rows.
        records = records.filter(
            program_id__in=list(FundProgram.objects.filter(year=year).values_list("pk", flat=True))
        )
    return records


def for_public_display(records, visibility, *, related: dict[str, tuple[str, ...]] | None = None):
    """Load only what the public may see (never the encrypted identity number, which would also cost
    a decryption per row), plus the correction date and the related rows shown by name."""
    related = related or {}
    columns = ["id", "corrected_at"]
    for name in visibility.fields:
        columns += visibility.reads(name)
        if name in related:
            columns += [f"{name}__{field}" for field in related[name]]
        else:
            columns.append(name)
    return records.select_related(*(name for name in visibility.fields if name in related)).only(*columns)


def catalogue_batches(*, department_id: int | None = None, record_type: str = "", year: int | None = None):
    """Published batches, newest first, each with the date its latest published correction went out."""
    batches = (
        DisclosureBatch.objects.filter(state=BatchState.PUBLISHED)
        .select_related("department", "corrects")
        .annotate(
            corrected_on=Max("corrections__published_at", filter=Q(corrections__state=BatchState.PUBLISHED))
        )  # fmt: skip
        .order_by("-published_at", "-id")
    )
    if department_id:
        batches = batches.filter(department_id=department_id)
    if record_type:
        batches = batches.filter(record_type=record_type)
    if year:
        batches = batches.filter(year=year)
    return batches


def batch_record_counts(batches) -> dict[int, int]:
    """How many records each published batch holds. Records of a published batch never change (a
    correction is a new batch), so a count is taken once and kept: counting a million-row batch on
    every catalogue view would cost more than the rest of the page."""
    # The publication time is in the key: a database rebuilt from scratch reuses batch ids.
    keys = {batch.pk: f"disclosure:batch-records:{batch.pk}:{batch.published_at.timestamp()}" for batch in batches}
    cached = cache.get_many(list(keys.values()))
    counts = {pk: cached[key] for pk, key in keys.items() if key in cached}
    missing = [batch for batch in batches if batch.pk not in counts]
    by_type: dict[str, list[int]] = {}
    for batch in missing:
        by_type.setdefault(batch.record_type, []).append(batch.pk)
    fresh = {pk: 0 for batch_ids in by_type.values() for pk in batch_ids}
    for record_type, batch_ids in by_type.items():
        rows = MODELS[record_type].objects.filter(batch_id__in=batch_ids).values("batch_id").annotate(n=Count("id"))
        fresh.update({row["batch_id"]: row["n"] for row in rows.order_by()})
    if fresh:
        cache.set_many({keys[pk]: n for pk, n in fresh.items()}, timeout=None)
    return {**counts, **fresh}


@dataclass
class SummaryLine:
    name: str
    rows: int
    total: Decimal


@dataclass
class BatchSummary:
    """What a reviewer reads before publishing a batch of payments: its rows and money by programme and by
    township (townships only for disbursements, which have them)."""

    rows: int
    total: Decimal
    by_program: list[SummaryLine] = field(default_factory=list)
    by_township: list[SummaryLine] = field(default_factory=list)


def batch_summary(batch: DisclosureBatch) -> BatchSummary | None:
    """Rows and amounts of a batch of disbursements or project allocations, or None for the other record types.

    One GROUP BY per grouping, served by the index leading with batch_id (disb_batch_row on a million-row
    batch), plus the names of the batch's few programmes; the rows and the total are the programmes' sums."""
    model = {RecordType.DISBURSEMENT: Disbursement, RecordType.PROJECT: ProjectAllocation}.get(batch.record_type)
    if model is None:
        return None
    rows = model.objects.filter(batch_id=batch.pk).order_by()
    per_program = list(rows.values("program_id").annotate(rows=Count("*"), total=Sum("amount")))
    names = dict(
        FundProgram.objects.filter(pk__in=[line["program_id"] for line in per_program]).values_list("pk", "name")
    )
    by_program = sorted(
        (SummaryLine(names.get(line["program_id"], ""), line["rows"], line["total"]) for line in per_program),
        key=lambda line: line.name,
    )
    by_township = []
    if model is Disbursement:
        per_township = rows.values("township").annotate(rows=Count("*"), total=Sum("amount")).order_by("township")
        by_township = [SummaryLine(line["township"], line["rows"], line["total"]) for line in per_township]
    return BatchSummary(
        rows=sum(line.rows for line in by_program),
        total=sum((line.total for line in by_program), Decimal("0.00")),
        by_program=by_program,
        by_township=by_township,
    )
