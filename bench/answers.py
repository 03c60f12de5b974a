"""`python -m bench answers`: the answer library's matcher at a county's size — 10,000 approved entries
and 10,000 followers' messages of real length (8-120 characters, a third of them containing no keyword) —
per message, against a loop over the entries (the obvious implementation) in the same run.

Both must give the same answer to every message the loop is timed on; otherwise no figure is printed.
The loop is timed on the first 1,000 messages (10,000 would take minutes); the matcher on all of them,
through `answers.matching.match` as the callback server calls it (version check against Redis included).
"""

import random
import statistics
import time

from bench.load import latency_summary, refuse_failures

ENTRIES = 10_000
MESSAGES = 10_000
BASELINE_MESSAGES = 1_000
# Common characters of citizens' questions, so keywords and messages share words like real ones do.
CHARS = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面"
    "而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把"
    "性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质"
    "户口身份证社保医驾驶办理补贴低保学校招生缴费材料窗口地址电话时间预约迁移申请领取公积金养老退休不动产登记"
)  # fmt: skip


def _word(rng, low, high):
    return "".join(rng.choice(CHARS) for _ in range(rng.randint(low, high)))


def library_rows(rng):
    rows = []
    for n in range(ENTRIES):
        contained = [_word(rng, 3, 7) for _ in range(rng.randint(1, 3))]
        exact = [_word(rng, 2, 6)] if n % 5 == 0 else []
        rows.append((f"标准问题{n}", exact, contained, rng.randint(0, 5)))
    return rows


def messages(rng, rows):
    with_exact = [row for row in rows if row[1]]
    found = []
    for n in range(MESSAGES):
        text = _word(rng, 8, 120)
        if n % 3 == 0:
            pass  # no keyword on purpose (most likely)
        elif n % 10 == 1:
            text = rng.choice(with_exact)[1][0]  # a whole message that is an exact keyword
        else:
            keyword = rng.choice(rng.choice(rows)[2])
            at = rng.randint(0, len(text))
            text = text[:at] + "，" + keyword + "？" + text[at:]
        found.append(text)
    return found


def load_library(rows):
    from accounts.models import Department
    from answers.models import AnswerEntry, EntryState

    department, _ = Department.objects.get_or_create(code="bench-answers", defaults={"name": "口径库测试部门"})
    AnswerEntry.objects.all().delete()
    AnswerEntry.objects.bulk_create(
        [
            AnswerEntry(
                question=question, exact_keywords=exact, contained_keywords=contained, answer_text=question + "的答复",
                department=department, state=EntryState.APPROVED, priority=priority,
            )
            for question, exact, contained, priority in rows
        ],
        batch_size=2000,
    )  # fmt: skip


def loop_over_entries(entries, now):
    """The baseline: the same rule, asked of every entry in turn."""
    from answers.matching import normalize

    def match(text):
        message = normalize(text)
        if not message:
            return None
        best, best_key = None, None
        for entry_id, exact, contained, priority, valid_from, valid_to in entries:
            if (valid_from and valid_from > now) or (valid_to and now >= valid_to):
                continue
            if message in exact:
                key = (1, 0, priority, -entry_id)
            else:
                lengths = [len(word) for word in contained if word and word in message]
                if not lengths:
                    continue
                key = (0, max(lengths), priority, -entry_id)
            if best_key is None or key > best_key:
                best, best_key = entry_id, key
        return best

    return match


def run() -> dict:
    from django.db.models import Q
    from django.utils import timezone

    from answers import matching
    from answers.models import AnswerEntry, EntryState

    rng = random.Random(15)
    rows = library_rows(rng)
    texts = messages(rng, rows)
    load_library(rows)
    now = timezone.now()

    matching.library_changed()
    matching._library.reset()
    started = time.perf_counter()
    matching.match(None, "")  # compiles the library
    build_seconds = time.perf_counter() - started

    ours, answers, errors = [], [], 0
    for text in texts:
        started = time.perf_counter()
        try:
            answer = matching.match(None, text)
        except Exception:  # noqa: BLE001 (counted: any failure refuses the figures)
            errors += 1
            answer = None
        ours.append((time.perf_counter() - started) * 1000)
        answers.append(answer.entry_id if answer else None)

    entries = [
        (pk, {matching.normalize(w) for w in exact}, [matching.normalize(w) for w in contained], priority, vf, vt)
        for pk, exact, contained, priority, vf, vt in AnswerEntry.objects.filter(state=EntryState.APPROVED)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=now))
        .values_list("pk", "exact_keywords", "contained_keywords", "priority", "valid_from", "valid_to")
    ]
    baseline_match = loop_over_entries(entries, now)
    baseline, mismatches = [], 0
    for text, ours_answer in zip(texts[:BASELINE_MESSAGES], answers, strict=False):
        started = time.perf_counter()
        expected = baseline_match(text)
        baseline.append((time.perf_counter() - started) * 1000)
        mismatches += expected != ours_answer
    refuse_failures(
        "answer library",
        requests=len(texts),
        failed=errors + mismatches,
        detail=f" ({errors} raised, {mismatches} answered differently from the loop over entries)",
    )
    return {
        "entries": len(entries),
        "messages": len(texts),
        "answered": sum(answer is not None for answer in answers),
        "mean_length": statistics.mean(len(text) for text in texts),
        "build_seconds": build_seconds,
        "automaton": latency_summary(ours),
        "loop over entries": latency_summary(baseline),
    }


def report(result: dict) -> None:
    print(
        f"\nAnswer library: {result['entries']:,} entries, {result['messages']:,} messages "
        f"(mean {result['mean_length']:.0f} characters, {result['answered']:,} answered); "
        f"compiled in {result['build_seconds'] * 1000:.0f} ms"
    )
    for name in ("automaton", "loop over entries"):
        s = result[name]
        print(
            f"{name:<18} n {s['n']:>6}  p50 {s['p50_ms']:8.3f} ms  p99 {s['p99_ms']:8.3f} ms  max {s['max_ms']:8.3f} ms"
        )
    print("goal: automaton p99 < 1 ms per message")
