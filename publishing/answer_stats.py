"""How well the answer library (口径库) answers WeChat followers: per account and Shanghai day, the followers'
messages received, answered automatically (by a library entry) and handed to a person (the message became or
joined a citizen message), and the questions most often left to a person, grouped by their normalised text.

Events (subscribe, menu clicks, reports) are not messages a follower wrote and are not counted. Both figures are
one GROUP BY query each over the stored messages, whatever their number.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import CharField, Count, F, Func, Max, Min, Q, Value
from django.db.models.functions import TruncDate

from answers.matching import normalize_sql
from publishing.models import InboundMessage
from publishing.quota import SHANGHAI

TOP_QUESTIONS = 20
# What a question shown to a person does not need at its end.
TRAILING_PUNCTUATION = " \t\r\n?？。.!！,，、~～…;；:："


@dataclass(frozen=True)
class DayFigures:
    account_id: int
    account: str
    day: date | None  # None on the total line
    received: int
    automatic: int
    handed: int

    @property
    def rate(self) -> Decimal | None:
        """The share answered automatically, in percent with one place; None when nothing was received."""
        if not self.received:
            return None
        return (Decimal(self.automatic) * 100 / Decimal(self.received)).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass(frozen=True)
class Question:
    key: str  # the normalised text the messages were grouped by
    text: str  # one of the messages, as a person reads it
    count: int
    last_received_at: datetime


def period_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """The aware instants of Shanghai's midnight starting `first` and the one ending `last`."""
    return datetime.combine(first, time.min, SHANGHAI), datetime.combine(last + timedelta(days=1), time.min, SHANGHAI)


def followers_messages(accounts, first: date, last: date):
    """The messages followers wrote to these accounts on these Shanghai days (no events)."""
    start, end = period_bounds(first, last)
    return InboundMessage.objects.filter(account__in=accounts, received_at__gte=start, received_at__lt=end).exclude(
        msg_type="event"
    )


def daily_figures(accounts, first: date, last: date) -> list[DayFigures]:
    """One line per account and Shanghai day with messages, the latest day first, then by account name."""
    names = dict(accounts.values_list("pk", "name"))
    rows = (
        followers_messages(accounts, first, last)
        .annotate(day=TruncDate("received_at", tzinfo=SHANGHAI))
        .values("account_id", "day")
        .annotate(
            received=Count("pk"),
            automatic=Count("pk", filter=Q(answered_automatically=True)),
            handed=Count("pk", filter=Q(case__isnull=False)),
        )
        .order_by()
    )
    lines = [
        DayFigures(row["account_id"], names.get(row["account_id"], ""), row["day"], row["received"],
                   row["automatic"], row["handed"])
        for row in rows
    ]  # fmt: skip
    return sorted(lines, key=lambda line: (-line.day.toordinal(), line.account, line.account_id))


def total_of(lines: list[DayFigures]) -> DayFigures:
    return DayFigures(0, "", None, *(sum(getattr(line, name) for line in lines)
                                     for name in ("received", "automatic", "handed")))  # fmt: skip


def unanswered_questions(accounts, first: date, last: date, *, limit: int = TOP_QUESTIONS) -> list[Question]:
    """The texts no library entry answered, grouped by their normalised form, the most frequent first."""
    one_line = Func(F("content"), Value(r"\s+"), Value(" "), Value("g"), function="regexp_replace",
                    output_field=CharField())  # fmt: skip
    rows = (
        followers_messages(accounts, first, last)
        .filter(msg_type="text", answered_automatically=False)
        .annotate(key=normalize_sql(F("content")))
        .exclude(key="")
        .values("key")
        .annotate(count=Count("pk"), text=Min(one_line), last_received_at=Max("received_at"))
        .order_by("-count", "-last_received_at", "key")[:limit]
    )
    return [
        Question(row["key"], row["text"].strip().rstrip(TRAILING_PUNCTUATION) or row["key"], row["count"],
                 row["last_received_at"])
        for row in rows
    ]  # fmt: skip
