"""`python -m bench disclosure`: the public fund search and the admin's disbursement list on 1,500,000 rows.

Over HTTP (gunicorn, production settings, wrk with 16 connections), each measured in the same run
against what a plain Django site does with the same data:
- the public search (/disclosure/funds/) by 2-, 3- and 4-character names and by village, against the
  same page filtering with `icontains` and counting exactly;
- the admin changelist (/admin/disclosure/disbursement/) unfiltered page 1 and page 50, a name search
  and a village filter, logged in as a superuser, against a default ModelAdmin on its own AdminSite.
And one request at a time in-process (no queueing), with the lookup by name + last six characters
(a posted form): each page's own time, its queries, and EXPLAIN ANALYZE of the slowest ones.

The rows are generated in SQL (generate_series over arrays of common surnames, given names and
villages) once, when the bench database does not hold them yet; name bigrams are computed the way
`shared.bigrams.bigrams` does, and checked against it on a sample.
"""

import json
import os
import random
import statistics
import time
from urllib.parse import urlencode

from django.db import connection

from bench.load import CONNECTIONS, SECONDS, BenchFailed, Server, ensure_wrk, refuse_failures, run_wrk

ROWS = int(os.environ.get("BENCH_DISCLOSURE_ROWS", 1_500_000))  # fewer only to try the bench out
TITLE_PREFIX = "bench-disclosure"
PORT = 18400
QUERIES_PER_KIND = 200
LOOKUP_EVERY = 5000  # every 5000th row gets a real name + last-six hash, for the lookup

SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟"
    "谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
COMPOUND_SURNAMES = ["欧阳", "司马", "诸葛", "上官", "皇甫", "东方", "令狐", "慕容"]
GIVEN = list(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国文志海春梅云飞鹏辉林燕波宁斌成凤琴兵亮龙新福生德富贵荣珍丹雪佳浩宇欣怡俊豪婷晨阳瑞凯博"
)
TOWNSHIPS = [
    "城关镇", "河口镇", "青山乡", "白石镇", "桃园乡", "南湖镇", "东关镇", "西河乡", "北山乡", "柳林镇",
    "新华镇", "红旗乡", "大桥镇", "龙泉镇", "马坪乡", "高店乡", "黄土镇", "三里乡", "双河镇", "金牛镇",
]  # fmt: skip
VILLAGE_STEMS = [
    "石桥", "河口", "柳树", "杨家", "王庄", "李湾", "张岗", "刘集", "陈店", "赵岭", "周畈", "吴垸", "徐冲", "孙河",
    "马鞍", "朱岗", "胡家", "郭庄", "何湾", "林场", "罗汉", "高桥", "郑集", "梁子", "谢店", "宋埠", "唐岗", "许家",
    "韩庄", "冯河", "邓湾", "曹冲", "彭店", "曾家", "肖岭", "田铺", "董庄", "袁湾", "潘集", "于家", "蒋岗", "蔡店",
    "余畈", "杜岭", "叶湾", "程家", "苏庄", "魏岗", "吕店", "丁湾", "新店", "新庄", "桃花", "杏花", "梨园", "竹林",
    "松林", "枫树", "檀树", "白果", "青龙", "黄龙", "金鸡", "凤凰", "卧龙", "龙王", "观音", "土门", "石门", "铁门",
    "双庙", "三合", "四新", "五一", "六合", "七里", "八一", "九龙", "十里", "百花",
]  # fmt: skip
PROGRAMS = ["城乡居民最低生活保障资金", "特困人员救助供养资金", "耕地地力保护补贴"]
YEARS = [2025, 2026]

# -- data ------------------------------------------------------------------------------------------


def places() -> list[tuple[str, str]]:
    """300 (township, village) pairs; the same village name recurs in several townships, as in life."""
    rng = random.Random(3)
    pairs = []
    for township in TOWNSHIPS:
        for stem in rng.sample(VILLAGE_STEMS, 15):
            pairs.append((township, stem + "村"))
    return pairs


def _bench_batches():
    from disclosure.models import DisclosureBatch

    return DisclosureBatch.objects.filter(title__startswith=TITLE_PREFIX)


def populate() -> int:
    """Load the bench rows unless they are there; returns how many public disbursements there are."""
    from disclosure.models import Disbursement, RecordType
    from disclosure.selectors import public_records

    if Disbursement.objects.filter(batch__in=_bench_batches()).count() < ROWS:
        _load()
    return public_records(Disbursement, RecordType.DISBURSEMENT).count()


def _load() -> None:
    from django.utils import timezone

    from accounts import demo as accounts_demo
    from accounts.models import User
    from disclosure.models import BatchState, Disbursement, DisclosureBatch, FundKind, FundProgram, RecordType

    departments, _ = accounts_demo.seed()
    civil_affairs = departments["county-office"]
    admin = User.objects.get(username="admin")
    replaced, _ = Disbursement.objects.filter(batch__in=_bench_batches()).delete()
    _bench_batches().filter(corrects__isnull=False).delete()
    _bench_batches().delete()
    now = timezone.now()
    batches = []
    for year in YEARS:
        for name in PROGRAMS:
            program, _ = FundProgram.objects.get_or_create(
                name=name, year=year, defaults={"department": civil_affairs, "kind": FundKind.PERSONS}
            )
            batches.append(
                DisclosureBatch.objects.create(
                    title=f"{TITLE_PREFIX} {year}年{name}发放名册",
                    record_type=RecordType.DISBURSEMENT,
                    department=civil_affairs,
                    year=year,
                    state=BatchState.PUBLISHED,
                    published_at=now,
                    created_by=admin,
                    reviewed_by=admin,
                    note=str(program.pk),
                )  # fmt: skip
            )
    pairs = places()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'disclosure_disbursement' "
            "AND indexname <> 'disclosure_disbursement_pkey'"
        )
        indexes = cursor.fetchall()
        # Building the indexes once at the end is several times faster than keeping them up row by row.
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(
            """
            INSERT INTO disclosure_disbursement (
                batch_id, row_number, program_id, recipient_name, id_number, id_hash, name_tail_hash, id_masked,
                township, village, household_size, amount, paid_on, paying_department, name_bigrams)
            SELECT b.batch_ids[r.bi], g, b.program_ids[r.bi], r.name, '',
                   md5('i' || g) || md5('j' || g), md5('t' || g) || md5('u' || g),
                   '4209**********' || lpad((g %% 10000)::text, 4, '0'),
                   (%(towns)s::text[])[r.place], (%(villages)s::text[])[r.place], 1 + g %% 6,
                   round((100 + random() * 2900)::numeric, 2),
                   make_date(b.years[r.bi], 1, 1) + (g %% 330), '县民政局',
                   ARRAY(SELECT DISTINCT substr(r.name, i, 2) COLLATE "C" FROM generate_series(1, char_length(r.name) - 1) i
                         ORDER BY 1)
            FROM (
                SELECT g,
                       CASE WHEN random() < 0.03 THEN (%(compound)s::text[])[1 + floor(random() * %(ncompound)s)::int]
                            ELSE (%(surnames)s::text[])[1 + floor(power(random(), 2.5) * %(nsurnames)s)::int] END
                       || (%(given)s::text[])[1 + floor(power(random(), 1.6) * %(ngiven)s)::int]
                       || CASE WHEN random() < 0.7
                               THEN (%(given)s::text[])[1 + floor(power(random(), 1.6) * %(ngiven)s)::int]
                               ELSE '' END AS name,
                       1 + floor(random() * %(nplaces)s)::int AS place,
                       1 + (g - 1) * %(nbatches)s / %(rows)s AS bi
                FROM generate_series(1, %(rows)s) g
            ) r,
            (SELECT %(batch_ids)s::bigint[] AS batch_ids, %(program_ids)s::bigint[] AS program_ids,
                    %(years)s::int[] AS years) b
            -- A roster is compiled township by township, village by village: so are the imports.
            ORDER BY r.bi, r.place, g
            """,
            {
                "towns": [t for t, _v in pairs], "villages": [v for _t, v in pairs], "nplaces": len(pairs),
                "compound": COMPOUND_SURNAMES, "ncompound": len(COMPOUND_SURNAMES),
                "surnames": SURNAMES, "nsurnames": len(SURNAMES), "given": GIVEN, "ngiven": len(GIVEN),
                "rows": ROWS, "batch_ids": [b.pk for b in batches], "nbatches": len(batches),
                "program_ids": [int(b.note) for b in batches], "years": [b.year for b in batches],
            },
        )  # fmt: skip
        for _name, definition in indexes:
            cursor.execute(definition)
    _add_lookups(batches)
    _add_correction(batches[0], admin)
    with connection.cursor() as cursor:
        if replaced:
            # A reload leaves the old rows' space behind, which would slow the baseline's full scans.
            cursor.execute("VACUUM FULL disclosure_disbursement")
        # What autovacuum does for a live site: statistics and the visibility map.
        cursor.execute("VACUUM ANALYZE disclosure_disbursement")


def lookup_rows() -> list[tuple[int, str, str]]:
    """(id, name, last six) of the rows whose name + last-six hash is real."""
    from django.db.models.functions import Mod

    from disclosure.models import Disbursement

    rows = Disbursement.objects.filter(batch__in=_bench_batches()).annotate(m=Mod("row_number", LOOKUP_EVERY))
    rows = rows.filter(m=0).order_by("pk")
    return [(pk, name, f"{pk:06d}"[-6:]) for pk, name in rows.values_list("pk", "recipient_name")]


def _add_lookups(batches) -> None:
    from disclosure.models import Disbursement
    from disclosure.services import name_tail_hash

    updates = [Disbursement(pk=pk, name_tail_hash=name_tail_hash(name, tail)) for pk, name, tail in lookup_rows()]
    Disbursement.objects.bulk_update(updates, ["name_tail_hash"], batch_size=1000)


def _add_correction(batch, admin) -> None:
    """A published correction of 1,000 rows of the first batch: the replaced rows leave the public pages."""
    from django.utils import timezone

    from disclosure.models import BatchState, DisclosureBatch, RecordType

    now = timezone.now()
    correction = DisclosureBatch.objects.create(
        title=f"{TITLE_PREFIX} 更正", record_type=RecordType.DISBURSEMENT, department=batch.department,
        year=batch.year, state=BatchState.PUBLISHED, published_at=now, created_by=admin, reviewed_by=admin,
        corrects=batch,
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH replaced AS (
                SELECT * FROM disclosure_disbursement WHERE batch_id = %(old)s ORDER BY id LIMIT 1000
            ), corrected AS (
                INSERT INTO disclosure_disbursement (
                    batch_id, row_number, supersedes_id, corrected_at, program_id, recipient_name, id_number, id_hash,
                    name_tail_hash, id_masked, township, village, household_size, amount, paid_on, paying_department,
                    name_bigrams)
                SELECT %(new)s, row_number, id, %(now)s, program_id, recipient_name, id_number, id_hash,
                       name_tail_hash, id_masked, township, village, household_size, amount + 100, paid_on,
                       paying_department, name_bigrams
                FROM replaced
            )
            UPDATE disclosure_disbursement SET superseded_at = %(now)s WHERE id IN (SELECT id FROM replaced)
            """,
            {"old": batch.pk, "new": correction.pk, "now": now},
        )


def check_bigrams(sample: int = 2000) -> int:
    """How many sampled rows have bigrams other than `shared.bigrams.bigrams` gives (should be 0)."""
    from disclosure.models import Disbursement
    from shared.bigrams import bigrams

    rows = Disbursement.objects.filter(batch__in=_bench_batches()).values_list("recipient_name", "name_bigrams")
    return sum(1 for name, grams in rows[:sample] if sorted(grams) != bigrams(name))


# -- queries ---------------------------------------------------------------------------------------


def query_sets(rng: random.Random) -> dict[str, list[dict]]:
    """Search parameters per kind, drawn from the rows themselves (common names come up more often)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT recipient_name FROM disclosure_disbursement TABLESAMPLE SYSTEM (1) LIMIT 20000")
        names = [row[0] for row in cursor.fetchall()]
    sets = {}
    for length in (2, 3, 4):
        long_enough = [name for name in names if len(name) >= length]
        picks = []
        while len(picks) < QUERIES_PER_KIND:
            name = rng.choice(long_enough)
            start = rng.randrange(0, len(name) - length + 1)
            picks.append({"name": name[start : start + length]})
        sets[f"name {length} chars"] = picks
    sets["village"] = [{"village": village} for _town, village in rng.choices(places(), k=QUERIES_PER_KIND)]
    lookups = lookup_rows()
    # Posted, not in the address (see disclosure.forms): measured one at a time only.
    sets["name + last six"] = [
        {"own-name": name, "own-id_tail": tail} for _pk, name, tail in rng.choices(lookups, k=50)
    ]
    return sets


# -- load ------------------------------------------------------------------------------------------


def wait_until_idle(limit_seconds: float = 300) -> None:
    """Let requests wrk abandoned at the end of a run finish, so they do not slow the next one."""
    deadline = time.monotonic() + limit_seconds
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' "
                "AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] == 0:
                return
        time.sleep(0.5)


def verify_second_factor(client, user) -> None:
    """Staff need the second factor; mark the test client's session as the code page would."""
    from accounts.otp import session_mark_verified

    session = client.session
    session_mark_verified(session, user)
    session.save()


def admin_cookie() -> str:
    """A logged-in superuser session, as the admin login would leave it."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from accounts.models import User
    from accounts.otp import session_mark_verified

    user = User.objects.get(username="admin")
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session_mark_verified(session, user)  # the second factor, as the code page would record it
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def _measure(wrk, server, label, pairs, headers=None, connections: int = CONNECTIONS) -> list[dict]:
    """Each (setup, paths) under load, ours first, with the server drained in between."""
    rows = []
    for setup, paths in pairs:
        for path in paths[:3]:
            server.get(path, headers)  # warm, and make sure it answers 2xx (not the login page)
        measured = run_wrk(wrk, server.port, paths, headers, connections, label=f"{label}, {setup}")
        rows.append({"query": label, "setup": setup, "connections": connections, **measured})
        wait_until_idle()
    return rows


def one_at_a_time(paths: dict[str, list[str]], per_kind: int = 20, top: int = 2) -> dict:
    """In-process and one request at a time: the page's own time (p50/p95 over different queries), how
    many queries it makes, and EXPLAIN ANALYZE of its slowest ones (the plans are kept in the result)."""
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from shared.captcha import FIELD_NAME as CAPTCHA
    from tests.captcha import captcha_post_data

    client = Client()
    client.force_login(User.objects.get(username="admin"))
    verify_second_factor(client, User.objects.get(username="admin"))
    found = {}
    unlimited = {"DISCLOSURE_SEARCH_RATE": 10**9, "DISCLOSURE_LOOKUP_RATE_PER_IP": 10**9}
    with override_settings(ROOT_URLCONF="bench.disclosure_urls", ALLOWED_HOSTS=["*"], **unlimited):
        for label, kind_paths in paths.items():

            def fetch(path):
                # A (path, data) pair is a posted form: fetched first, its captcha solved as a citizen would.
                if not isinstance(path, tuple):
                    return client.get(path)
                url, data = path
                form = client.get(url).content.decode()
                return client.post(url, {**data, **captcha_post_data(form, name=f"own-{CAPTCHA}")})

            answers = [fetch(kind_paths[0]).status_code]  # warm
            timings = []
            for path in kind_paths[:per_kind]:
                started = time.perf_counter()
                answers.append(fetch(path).status_code)
                timings.append((time.perf_counter() - started) * 1000)
            with CaptureQueriesContext(connection) as captured:
                status = fetch(kind_paths[0]).status_code
            failed = [answer for answer in [*answers, status] if not 200 <= answer < 300]
            refuse_failures(f"{label}, one at a time", requests=len(answers) + 1, failed=len(failed),
                            detail=f" (answers {sorted(set(failed))})")  # fmt: skip
            selects = [q["sql"] for q in captured.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
            plans = sorted((_explain(sql) + (sql,) for sql in selects), reverse=True)
            found[label] = {
                "path": kind_paths[0],
                "status": status,
                "queries": len(captured.captured_queries),
                "p50_ms": statistics.median(timings),
                "p95_ms": sorted(timings)[max(0, int(len(timings) * 0.95) - 1)],
                "slowest": [{"ms": ms, "sql": sql, "plan": plan} for ms, plan, sql in plans[:top]],
            }
    return found


def _explain(sql: str) -> tuple[float, list[str]]:
    """Execution time in ms and the plan of one query."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql.replace("%", "%%"))
        plan = [row[0] for row in cursor.fetchall()]
    execution = next(line for line in plan if line.startswith("Execution Time"))
    return float(execution.split(":")[1].split()[0]), plan


def run() -> dict:
    from django.core.management import call_command

    # Production mode serves the admin's CSS through the static manifest, as a deploy would.
    call_command("collectstatic", "--noinput", verbosity=0)
    started = time.perf_counter()
    count = populate()
    prepared = time.perf_counter() - started
    sets = query_sets(random.Random(5))
    villages = [village for _town, village in random.Random(6).choices(places(), k=50)]
    admin_kinds = {
        "page 1": [""],
        "page 50": ["?p=50"],
        "name search": ["?" + urlencode({"q": p["name"]}) for p in sets["name 3 chars"][:50]],
        "village filter": ["?" + urlencode({"village": village}) for village in villages],
    }
    admin_ready = "disclosure.Disbursement" in _registered_models()
    lookups = sets.pop("name + last six")
    samples = {}
    for kind, params in sets.items():
        samples[f"search {kind}"] = ["/disclosure/funds/?" + urlencode(p) for p in params]
        samples[f"search {kind}, icontains"] = ["/bench/funds-icontains/?" + urlencode(p) for p in params]
    samples["lookup name + last six (form, captcha, post)"] = [("/disclosure/funds/own/", data) for data in lookups]
    for kind, suffixes in admin_kinds.items() if admin_ready else ():
        samples[f"admin {kind}"] = ["/admin/disclosure/disbursement/" + s for s in suffixes]
        samples[f"admin {kind}, default"] = ["/bench-admin/disclosure/disbursement/" + s for s in suffixes]
    result = {
        "rows": count,
        "prepare_seconds": prepared,
        "bigram_mismatches": check_bigrams(),
        "search": [],
        "admin": [],
        "one at a time": one_at_a_time(samples),
    }
    wrk = ensure_wrk()
    env = {**os.environ, "DISCLOSURE_SEARCH_RATE": "1000000000", "DJANGO_SETTINGS_MODULE": "bench.disclosure_settings"}
    # Ours twice: with the page cache (the 200 queries of a kind come round again and again, as
    # popular searches do) and without it (every request renders, as for queries never seen before).
    cold = Server(PORT + 1, {**env, "DISCLOSURE_PAGE_CACHE_SECONDS": "0"}, "disclosure bench, no page cache")
    server = Server(PORT, env, "disclosure bench")
    try:
        for kind, params in sets.items():
            ours = ["/disclosure/funds/?" + urlencode(p) for p in params]
            result["search"] += _measure(wrk, server, kind, [("bigram index + page cache", ours)])
            result["search"] += _measure(wrk, cold, kind, [("bigram index, every page new", ours)])
            baseline = [("icontains, exact count", ["/bench/funds-icontains/?" + urlencode(p) for p in params])]
            result["search"] += _measure(wrk, server, kind, baseline)
        cookie = {"Cookie": admin_cookie()}
        for kind, suffixes in admin_kinds.items() if admin_ready else ():
            ours = [("GovCMS admin", ["/admin/disclosure/disbursement/" + s for s in suffixes])]
            pairs = ours + [("default ModelAdmin", ["/bench-admin/disclosure/disbursement/" + s for s in suffixes])]
            # A county's disclosure officers are a handful: four at once is a busy morning.
            result["admin"] += _measure(wrk, server, kind, ours, cookie, connections=4)
            result["admin"] += _measure(wrk, server, kind, pairs, cookie)
    finally:
        server.stop()
        cold.stop()
    return result


def _registered_models() -> set[str]:
    from django.contrib import admin

    return {model._meta.label for model in admin.site._registry}


def report(result: dict) -> None:
    print(
        f"\nDisclosure search on {result['rows']:,} public disbursement rows ({result['prepare_seconds']:.0f} s to "
        f"prepare; bigram mismatches against shared.bigrams.bigrams: {result['bigram_mismatches']})"
    )
    print(f"{SECONDS} s per row; gunicorn as in `make bench`; 2 cores shared with wrk")
    _table(result["search"], goal_ms=50)
    if result["admin"]:
        print("\nAdmin disbursement changelist, logged in as a superuser")
        _table(result["admin"], goal_ms=200)
    else:
        print("\nAdmin changelist: disbursements are not registered in the admin yet; not measured")
    print(
        "\nOne request at a time, in-process (no queueing): page time over 20 queries, queries per page, slowest query"
    )
    for label, found in result["one at a time"].items():
        slowest = found["slowest"][0]["ms"] if found["slowest"] else 0
        print(
            f"  {label:<36} p50 {found['p50_ms']:7.1f} ms  p95 {found['p95_ms']:7.1f} ms  {found['queries']:>3} queries"
            f"  slowest {slowest:7.1f} ms"
        )


def _table(rows: list[dict], goal_ms: int) -> None:
    print(
        f"{'query':<16} {'setup':<30} {'conns':>5} {'req/s':>8} {'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9} {'errors':>7}"
    )
    for row in rows:
        print(
            f"{row['query']:<16} {row['setup']:<30} {row.get('connections', CONNECTIONS):>5} {row['rps']:>8.1f} {row['p50'] / 1000:>9.1f} "
            f"{row['p95'] / 1000:>9.1f} {row['p99'] / 1000:>9.1f} {row['errors'] + row['non2xx']:>7}"
        )
    print(f"goal: p95 < {goal_ms} ms for ours")


if __name__ == "__main__":
    # Set up as `python -m bench` does: its own database, production mode, migrated.
    from bench.__main__ import ROOT, bench_environment, ensure_database

    environment = bench_environment()
    ensure_database(environment)
    os.environ.update(environment)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    try:
        outcome = run()
    except BenchFailed as refused:
        raise SystemExit(f"Benchmark refused: {refused}") from None
    report(outcome)
    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "disclosure.json").write_text(json.dumps(outcome, ensure_ascii=False, indent=2, default=str))
