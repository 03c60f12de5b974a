"""`make bench`: portal page and search speed on 20,000 published articles, the publishing burst,
and the disclosure import and search at a county's real sizes (`python -m bench <part>...` for some).

Runs against its own database (`<name>_bench` on the same server) in production mode
(DEBUG off, gunicorn), and compares in the same run with the setup most Django sites use:
the same views under Django's default middleware and `cache_page`. Load comes from wrk
(16 connections); search is timed in-process against a naive `icontains` search.
"""

import importlib
import json
import os
import random
import sys
import time
from urllib.parse import urlsplit, urlunsplit

from bench.load import (
    CONNECTIONS,
    ROOT,
    SECONDS,
    THREADS,
    WORKERS,
    BenchFailed,
    Server,
    ensure_wrk,
    latency_summary,
    refuse_failures,
    run_wrk,
)

ARTICLES = 20_000
HOT_SET = 100


def bench_environment() -> dict:
    url = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/govcms"))
    bench_db = url.path.strip("/") + "_bench"
    return {
        **os.environ,
        "DATABASE_URL": urlunsplit(url._replace(path="/" + bench_db)),
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-" + "k3y" * 16,
        "FIELD_ENCRYPTION_KEY": "YmVuY2gtb25seS1maWVsZC1rZXktMDAwMDAwMDAwMDA=",
        "FIELD_HASH_KEY": "bench-only-lookup-hash-key-" + "h4sh" * 8,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "CACHE_KEY_PREFIX": "govcms-bench",
        # Its own Redis database: the drill flushes it, and nothing of a running demo may go with it.
        "REDIS_DB": "14",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "govcms.settings",
    }


def ensure_database(env: dict) -> None:
    import psycopg2

    url = urlsplit(env["DATABASE_URL"])
    name = url.path.strip("/")
    conn = psycopg2.connect(urlunsplit(url._replace(path="/postgres")))
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
    conn.close()


def search_timings(queries: list[str]) -> dict:
    from django.core.paginator import Paginator
    from django.db.models import Q

    from content.selectors import live_articles, search_live_articles
    from shared.bigrams import query_terms

    def ours(q):
        page = search_live_articles(query_terms(q), 1, 20)
        return page.paginator.count, page.object_list

    def naive(q):
        results = live_articles().filter(Q(live_revision__title__icontains=q) | Q(live_revision__body__icontains=q))
        page = Paginator(results.order_by("-published_at", "-id"), 20).page(1)
        return page.paginator.count, list(page.object_list)

    timings = {"bigram index": [], "naive icontains": []}
    for name, fn in (("bigram index", ours), ("naive icontains", naive)):
        fn(queries[0])  # warm the connection and caches
        for q in queries:
            start = time.perf_counter()
            fn(q)
            timings[name].append((time.perf_counter() - start) * 1000)
    # Both must agree on what they find (the naive search reads raw HTML, so compare on plain words).
    mismatches = [q for q in queries[:20] if ours(q)[0] != naive(q)[0]]
    return {name: latency_summary(values) for name, values in timings.items()} | {"count_mismatches": mismatches}


def search_queries(rng: random.Random) -> list[str]:
    from content.models import Article

    titles = list(Article.objects.filter(is_live=True).values_list("title", flat=True)[:2000])
    queries = ["乡村振兴", "补贴", "防汛", "招生", "柳树村", "医保缴费", "安全生产", "公示", "量子计算", "城关镇"]
    while len(queries) < 200:
        title = rng.choice(titles).split("（")[0]
        length = rng.choice([2, 2, 3, 4])
        start = rng.randrange(0, max(1, len(title) - length))
        queries.append(title[start : start + length])
    return queries


def main() -> None:
    try:
        run_parts()
    except BenchFailed as refused:
        sys.exit(f"Benchmark refused: {refused}")


def run_parts() -> None:
    parts = set(sys.argv[1:]) or {"pages", "search", "publishing", "import", "disclosure", "complaints", "answers"}
    env = bench_environment()
    ensure_database(env)
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    from bench.populate import populate
    from content import portal_cache
    from content.models import Article, Column

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    count = populate(ARTICLES)
    print(f"Bench database: {count} published articles ({time.perf_counter() - started:.0f} s to prepare)")
    portal_cache.clear_all()

    rng = random.Random(1)
    ids = list(Article.objects.filter(is_live=True).values_list("pk", flat=True))
    hot_articles = [f"/articles/{pk}/" for pk in rng.sample(ids, HOT_SET)]
    all_articles = [f"/articles/{pk}/" for pk in rng.sample(ids, 2000)]
    slugs = list(Column.objects.values_list("slug", flat=True))
    hot_columns = [f"/columns/{slug}/?page={n}" for slug in slugs for n in range(1, 6)]
    hot_columns = [p.replace("?page=1", "") for p in hot_columns]

    results = []
    wrk = ensure_wrk() if "pages" in parts else None
    scenarios = [
        ("portal, page cache", {}, hot_articles, hot_columns, True),
        ("plain cache_page, default middleware", {"DJANGO_SETTINGS_MODULE": "bench.baseline_settings", "PORTAL_CACHE_ENABLED": "0"}, hot_articles, hot_columns, True),
        ("portal, no cache", {"PORTAL_CACHE_ENABLED": "0"}, all_articles, hot_columns, False),
    ]  # fmt: skip
    for port, (label, extra, articles, columns, warm) in enumerate(scenarios if wrk else [], start=18100):
        portal_cache.clear_all()
        server = Server(port, {**env, **extra}, label)
        try:
            for kind, paths in (("article", articles), ("column", columns)):
                if warm:
                    for path in paths:
                        server.get(path)
                run_wrk(wrk, port, paths[:50], label=f"{label}, {kind} pages (settling)")
                results.append(
                    {"setup": label, "page": kind, **run_wrk(wrk, port, paths, label=f"{label}, {kind} pages")}
                )
        finally:
            server.stop()
    portal_cache.clear_all()
    if wrk:
        print_pages(results)
    search = None
    if "search" in parts:
        search = search_timings(search_queries(random.Random(2)))
        print_search(search, count)
    publishing = None
    if "publishing" in parts:
        from bench import publishing as publishing_bench

        publishing = publishing_bench.run()
        refuse_unsent_deliveries(publishing)
        publishing_bench.report(publishing)
    extra = {}
    # Disclosure: a 1,000,000-row import (csv and xlsx) against django-import-export, then public
    # fund search and the admin changelist over 1,500,000 rows. Complaints: the admin case list at 200,000
    # cases and the public submission endpoint.
    for part, module in (
        ("import", "bench.disclosure_import"),
        ("disclosure", "bench.disclosure_search"),
        ("complaints", "bench.complaints"),
        ("answers", "bench.answers"),
    ):
        if part in parts:
            bench_module = importlib.import_module(module)
            extra[part] = bench_module.run()
            bench_module.report(extra[part])
    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(
        json.dumps(
            {"pages": results, "search": search, "publishing": publishing, **extra},
            ensure_ascii=False,
            indent=2,
            default=str,
        )
    )


def refuse_unsent_deliveries(result: dict) -> None:
    """The burst's figures hold only if every delivery was sent, exactly once."""
    sent = result["states"].get("sent", 0)
    refuse_failures(
        "publishing burst",
        requests=result["deliveries"],
        failed=result["deliveries"] - sent + result["duplicated"],
        detail=f" (delivery states {result['states']}, {result['duplicated']} sent twice)",
    )


def print_pages(results: list[dict]) -> None:
    print(
        f"\nPages, {CONNECTIONS} connections x {SECONDS} s, gunicorn {WORKERS} workers x {THREADS} threads, 2 cores shared with wrk"
    )
    print(f"{'setup':<40} {'page':<8} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for row in results:
        print(
            f"{row['setup']:<40} {row['page']:<8} {row['rps']:>9.0f} {row['p50'] / 1000:>8.2f} "
            f"{row['p95'] / 1000:>8.2f} {row['p99'] / 1000:>8.2f} {row['errors'] + row['non2xx']:>7}"
        )
    by = {(r["setup"], r["page"]): r for r in results}
    for kind in ("article", "column"):
        ours, base = by[("portal, page cache", kind)], by[("plain cache_page, default middleware", kind)]
        print(
            f"{kind}: page cache is {ours['rps'] / base['rps']:.1f}x the cache_page baseline; p95 {ours['p95'] / 1000:.2f} ms (goal: >= 2x, < 20 ms)"
        )


def print_search(search: dict, count: int) -> None:
    print(f"\nSearch over {count} articles, {search['bigram index']['n']} queries of 2-4 characters")
    for name in ("bigram index", "naive icontains"):
        s = search[name]
        print(f"{name:<18} p50 {s['p50_ms']:7.2f} ms   p95 {s['p95_ms']:7.2f} ms   max {s['max_ms']:7.2f} ms")
    print(f"bigram p95 goal < 50 ms; result counts differing from naive on: {search['count_mismatches'] or 'none'}")


if __name__ == "__main__":
    main()
