"""Matching a follower's message against the answer library, in memory, without the database.

The library's approved entries that are not expired are compiled into one Aho-Corasick automaton
(pyahocorasick) of their contained keywords plus a dict of their exact keywords: one pass over the
message finds every contained keyword at once, whatever the library's size. The order of answers:
an exact keyword (the whole normalised message) first, then the longest contained keyword, then the
higher priority, then the older entry.

Every change to the library bumps a version number in Redis (`library_changed`); each process reads
it at most every ANSWERS_VERSION_CHECK_SECONDS and rebuilds its compiled library when the number
differs from the one it built (a flushed Redis reads as 0 and makes everyone rebuild once). If Redis
cannot be read, the process keeps answering from what it has.
"""

import logging
import re
import threading
import time
import unicodedata
from dataclasses import dataclass
from datetime import datetime

import ahocorasick
import redis
from django.conf import settings
from django.db import DatabaseError
from django.db.models import CharField, Func, Q, Value
from django.db.models.functions import Lower
from django.utils import timezone

from shared import redis_client

log = logging.getLogger(__name__)

VERSION_KEY = "answers:library-version"
_NOT_WORD = re.compile(r"[\W_]+")  # spaces, punctuation and symbols, in every script
# The same characters for PostgreSQL's regexp_replace, after NFKC has turned full-width forms into ASCII
# (ranges, not \W: under a plain "C" collation PostgreSQL's classes know only ASCII, and \W would take
# every Chinese character out).
NOT_WORD_SQL = (
    r"[[:space:][:punct:]\u00a0-\u00bf\u2000-\u206f\u2e00-\u2e7f\u3000-\u303f\ufe10-\ufe1f\ufe30-\ufe6f"
    r"\uff00-\uff65\u2600-\u27bf\U0001f000-\U0001faff]+"
)


def normalize(text: str) -> str:
    """The form keywords and messages are compared in: NFKC (full-width -> half-width), lower case,
    without spaces, punctuation or symbols."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text or "").lower())


def normalize_sql(expression) -> Func:
    """`normalize` as a database expression, so that what is grouped or compared in SQL (the statistics'
    unanswered questions) is exactly what one exact keyword of the library would answer."""
    nfkc = Func(expression, template="normalize(%(expressions)s, NFKC)", output_field=CharField())
    return Func(Lower(nfkc), Value(NOT_WORD_SQL), Value(""), Value("g"), function="regexp_replace",
                output_field=CharField())  # fmt: skip


@dataclass(frozen=True)
class Answer:
    """What the reply path needs to answer, read once when the library is compiled."""

    entry_id: int
    question: str
    kind: str
    text: str
    article_id: int | None
    url: str
    image: str  # the stored file's name ("" when none)
    priority: int
    valid_from: datetime | None
    valid_to: datetime | None

    def valid_at(self, now: datetime) -> bool:
        return (self.valid_from is None or self.valid_from <= now) and (self.valid_to is None or now < self.valid_to)


class CompiledLibrary:
    """The automaton and the exact-keyword dict of one version of the library."""

    def __init__(self, answers_and_keywords):
        self.exact: dict[str, list[Answer]] = {}
        contained: dict[str, list[Answer]] = {}
        for answer, exact_keywords, contained_keywords in answers_and_keywords:
            for keyword in filter(None, map(normalize, exact_keywords)):
                self.exact.setdefault(keyword, []).append(answer)
            for keyword in filter(None, map(normalize, contained_keywords)):
                contained.setdefault(keyword, []).append(answer)
        order = lambda answer: (-answer.priority, answer.entry_id)  # noqa: E731
        for answers in self.exact.values():
            answers.sort(key=order)
        self.automaton = ahocorasick.Automaton()
        for keyword, answers in contained.items():
            answers.sort(key=order)
            self.automaton.add_word(keyword, (len(keyword), tuple(answers)))
        if contained:
            self.automaton.make_automaton()

    def match(self, text: str, now: datetime) -> Answer | None:
        message = normalize(text)
        if not message:
            return None
        for answer in self.exact.get(message, ()):
            if answer.valid_at(now):
                return answer
        if self.automaton.kind != ahocorasick.AHOCORASICK:
            return None
        best, best_key = None, None
        for _end, (length, answers) in self.automaton.iter(message):
            for answer in answers:  # sorted by priority: the first valid one is this keyword's best
                if answer.valid_at(now):
                    key = (length, answer.priority, -answer.entry_id)
                    if best_key is None or key > best_key:
                        best, best_key = answer, key
                    break
        return best


def compile_library(now: datetime | None = None) -> CompiledLibrary:
    """The approved entries not yet expired (those valid only later are kept: validity is asked per match)."""
    from answers.models import AnswerEntry, EntryState

    now = now or timezone.now()
    rows = (
        AnswerEntry.objects.filter(state=EntryState.APPROVED)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=now))
        .values_list(
            "pk", "question", "kind", "answer_text", "article_id", "wechat_url", "image", "priority",
            "valid_from", "valid_to", "exact_keywords", "contained_keywords",
        )
        .iterator(chunk_size=2000)
    )  # fmt: skip
    return CompiledLibrary(
        (
            Answer(pk, question, kind, text, article_id, url, image or "", priority, valid_from, valid_to),
            exact,
            contained,
        )
        for pk, question, kind, text, article_id, url, image, priority, valid_from, valid_to, exact, contained in rows
    )


class _ProcessLibrary:
    """This process's compiled library and the version it was built from."""

    def __init__(self):
        self.lock = threading.Lock()
        self.compiled: CompiledLibrary | None = None
        self.version: int | None = None
        self.checked_at = float("-inf")

    def current(self) -> CompiledLibrary:
        if self.compiled is not None and time.monotonic() - self.checked_at < settings.ANSWERS_VERSION_CHECK_SECONDS:
            return self.compiled
        with self.lock:
            try:
                version = int(redis_client.client().get(VERSION_KEY) or 0)
            except redis.RedisError:
                log.warning("answer library: Redis unreadable, answering from version %s", self.version)
                if self.compiled is not None:
                    return self.compiled
                version = None
            self.checked_at = time.monotonic()
            if self.compiled is None or version != self.version:
                try:
                    self.compiled = compile_library()
                except DatabaseError:
                    # The reply path must answer anyway: the old library (or none) until the next check.
                    log.exception("answer library: could not compile version %s", version)
                    return self.compiled or CompiledLibrary(())
                self.version = version
            return self.compiled

    def reset(self) -> None:
        with self.lock:
            self.compiled, self.version, self.checked_at = None, None, float("-inf")


_library = _ProcessLibrary()


def match(account, text: str) -> Answer | None:
    """The library's answer to a message received by `account` (a ChannelAccount; the library is the
    office's one library for all its accounts), or None. Reads memory only, except a Redis GET of the
    version at most every ANSWERS_VERSION_CHECK_SECONDS and a rebuild after a change."""
    return _library.current().match(text, timezone.now())


def library_changed() -> int | None:
    """Bump the version every process compares with its own: call after commit of any change. With Redis
    unreachable the change is committed anyway (None); processes keep their library until the next bump."""
    try:
        return int(redis_client.client().incr(VERSION_KEY))
    except redis.RedisError:
        log.exception("answer library: could not bump the version in Redis")
        return None


def loaded_version() -> int | None:
    """The version this process compiled (None before the first match)."""
    return _library.version
