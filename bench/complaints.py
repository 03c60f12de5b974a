"""`python -m bench complaints`: the admin case list at 200,000 cases and the public submission endpoint.

- Admin case list (/admin/complaints/case/): page 1, page 50, the state filter, the "overdue" filter and a
  case-number search, logged in as a superuser (every case) and as a department handler (scoped to one bureau
  of 30), over HTTP (gunicorn, production settings, wrk) with 4 connections (a busy morning in a county office)
  and 16; against a default ModelAdmin of the same model on its own AdminSite. Plus one request at a time
  in-process: each page's own time and its queries.
- The dashboard (/admin/) with its "waiting for me" lists, for the superuser, a registrar (every received
  case of the county), a handler and an office head, one request at a time in-process.
- Public submission (/hudong/write/): citizens' messages with a 150 KB photo and a small PDF attached, each
  after fetching the form and its captcha, from 8 concurrent clients for 20 s: submissions per second and the
  POST's latency; and the same without attachments.

The cases are generated in SQL (generate_series over arrays of subjects, names and departments) once, when the
bench database does not hold them yet; phone numbers reuse a pool of encrypted values.
"""

import io
import os
import random
import re
import statistics
import threading
import time
import urllib.parse

from django.db import connection

from bench.disclosure_search import admin_cookie, verify_second_factor, wait_until_idle
from bench.load import SECONDS, BenchFailed, Server, ensure_wrk, refuse_failures, run_wrk

CASES = int(os.environ.get("BENCH_CASES", 200_000))
PORT = 18500
DEPARTMENTS = 30
SUBMIT_SECONDS = 20
SUBMIT_CLIENTS = 8
SUBJECTS = ["学校食堂收费问题", "夜间施工噪音扰民", "小区停车位不足", "医保报销咨询", "建议增设公交站点",
            "路灯损坏多日未修", "申请公开补助资金分配", "低保评定不公", "农村道路破损", "户口迁移咨询"]  # fmt: skip
NAMES = ["张建国", "李秀英", "王志强", "刘桂兰", "陈伟", "杨丽", "赵军", "黄敏", "周涛", "吴芳", "徐磊", "孙静"]
STATES = ["received"] * 2 + ["assigned"] * 5 + ["drafting"] * 5 + ["reply_in_review"] * 3 + ["replied"] * 10 + (
    ["closed"] * 74) + ["merged"]  # fmt: skip
KINDS = ["complaint"] * 4 + ["inquiry"] * 4 + ["suggestion"] + ["disclosure_request"]


# -- data ------------------------------------------------------------------------------------------


def _departments():
    from accounts.models import Department

    root, _ = Department.objects.get_or_create(code="bench-county", defaults={"name": "基准县人民政府"})
    return [
        Department.objects.get_or_create(
            code=f"bench-dept-{n:02d}", defaults={"name": f"基准县第{n}局", "parent": root}
        )[0]
        for n in range(1, DEPARTMENTS + 1)
    ]


def _handler(department):
    from django.contrib.auth.models import Group

    from accounts import roles
    from accounts.models import User

    user, created = User.objects.get_or_create(
        username="bench-handler", defaults={"department": department, "is_staff": True, "real_name": "基准办理人"}
    )
    if created:
        user.set_password("Bench-Passw0rd-2026")
        user.save(update_fields=["password"])
    user.groups.add(Group.objects.get(name=roles.DEPARTMENT_HANDLER))
    return user


def populate() -> int:
    from accounts import crypto
    from complaints.models import Case

    departments = _departments()
    have = Case.objects.filter(number__startswith="B").count()
    if have >= CASES:
        return have
    Case.objects.filter(number__startswith="B").delete()
    rng = random.Random(8)  # noqa: S311 - bench data
    phones = [crypto.encrypt(f"139{rng.randint(10_000_000, 99_999_999)}") for _ in range(500)]
    dept_ids = [department.pk for department in departments]
    with connection.cursor() as cursor:
        # One statement: row n gets its values from the arrays by n, its receipt in the last two years, its due
        # date a week later (close enough for a list), a reply for the replied and closed ones.
        cursor.execute(
            """
            INSERT INTO complaints_case (
                number, query_code_hash, kind, channel, subject, content, name, phone, phone_hash, id_number, id_hash,
                applicant_kind, organisation, allow_publish, wechat_openid, state, department_id, received_at,
                assigned_at, deadline_workdays, due_date, due_provisional, clock_stopped_since,
                extension_requested_workdays, extension_workdays, extension_reason, reply, outcome, replied_at,
                replied_workdays, replied_on_time, escalated, escalation_reason, return_reason, rating, rating_comment,
                reopened_count, published, public_subject, public_question, public_answer
            )
            SELECT
                'B' || lpad(n::text, 9, '0'), md5(n::text) || md5(n::text), kinds[1 + n %% array_length(kinds, 1)],
                'web', subjects[1 + n %% array_length(subjects, 1)], '基准测试内容，编号' || n,
                names[1 + n %% array_length(names, 1)], phones[1 + n %% array_length(phones, 1)], md5('p' || n), '', '',
                'natural_person', '', n %% 2 = 0, '', st,
                CASE WHEN st = 'received' THEN NULL ELSE depts[1 + (n * 7) %% array_length(depts, 1)] END,
                received, received + interval '1 hour', 5, (received + interval '7 days')::date, false, NULL,
                0, 0, '', CASE WHEN st IN ('replied', 'closed') THEN '答复内容' ELSE '' END, '',
                CASE WHEN st IN ('replied', 'closed') THEN received + interval '4 days' END,
                CASE WHEN st IN ('replied', 'closed') THEN 3 + n %% 4 END,
                CASE WHEN st IN ('replied', 'closed') THEN n %% 10 <> 0 END,
                false, '', '', CASE WHEN st = 'closed' THEN 'satisfied' ELSE '' END, '', 0, false, '', '', ''
            FROM (
                SELECT n, now() - (n %% 730) * interval '1 day' - (n %% 480) * interval '1 minute' AS received,
                       %(states)s::text[] AS states, %(kinds)s::text[] AS kinds, %(subjects)s::text[] AS subjects,
                       %(names)s::text[] AS names, %(phones)s::text[] AS phones, %(depts)s::int[] AS depts
                FROM generate_series(1, %(count)s) AS n
            ) AS source, LATERAL (SELECT states[1 + (n * 13) %% array_length(states, 1)] AS st) AS state
            """,
            {"count": CASES, "states": STATES, "kinds": KINDS, "subjects": SUBJECTS, "names": NAMES,
             "phones": phones, "depts": dept_ids},
        )  # fmt: skip
    with connection.cursor() as cursor:
        # What autovacuum does to a table that has stood a while: the visibility map lets counts use the indexes.
        cursor.execute("VACUUM ANALYZE complaints_case")
    return Case.objects.filter(number__startswith="B").count()


# -- the admin list --------------------------------------------------------------------------------


def handler_cookie(department) -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from accounts.otp import session_mark_verified

    user = _handler(department)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session_mark_verified(session, user)  # the second factor, as the code page would record it
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def _role_user(username: str, role: str, department):
    from django.contrib.auth.models import Group

    from accounts.models import User

    user, _created = User.objects.get_or_create(
        username=username, defaults={"department": department, "is_staff": True, "real_name": username}
    )
    user.groups.add(Group.objects.get(name=role))
    return user


def dashboard_users(departments) -> dict:
    """Who opens the dashboard: every case (superuser, registrar of the county) and one bureau (handler, head)."""
    from accounts import roles
    from accounts.models import User

    return {
        "superuser": User.objects.get(username="admin"),
        "registrar": _role_user("bench-registrar", roles.COMPLAINT_REGISTRAR, departments[0].parent),
        "handler": _handler(departments[6]),
        "office head": _role_user("bench-head", roles.COMPLAINT_REVIEWER, departments[6]),
    }


def list_kinds() -> dict[str, list[str]]:
    numbers = [f"B{n:09d}" for n in random.Random(9).sample(range(1, CASES + 1), 50)]  # noqa: S311
    return {
        "page 1": [""],
        "page 50": ["?p=50"],
        "state filter": ["?state__exact=drafting", "?state__exact=replied", "?state__exact=assigned"],
        "overdue filter": ["?deadline=overdue"],
        "number search": ["?" + urllib.parse.urlencode({"q": number}) for number in numbers],
    }


def one_at_a_time(paths: dict[str, list[str]], user) -> dict:
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(user)
    verify_second_factor(client, user)
    found = {}
    with override_settings(ROOT_URLCONF="bench.complaints_urls", ALLOWED_HOSTS=["*"]):
        for label, kind_paths in paths.items():
            answers = [client.get(kind_paths[0]).status_code]
            timings = []
            for index in range(20):
                path = kind_paths[index % len(kind_paths)]
                started = time.perf_counter()
                answers.append(client.get(path).status_code)
                timings.append((time.perf_counter() - started) * 1000)
            with CaptureQueriesContext(connection) as captured:
                answers.append(client.get(kind_paths[0]).status_code)
            failed = [status for status in answers if not 200 <= status < 300]
            refuse_failures(f"case list {label} ({kind_paths[0]}), one at a time", requests=len(answers),
                            failed=len(failed), detail=f" (answers {sorted(set(failed))})")  # fmt: skip
            timings.sort()
            found[label] = {"p50_ms": statistics.median(timings), "p95_ms": timings[18], "queries": len(captured)}
    return found


# -- public submissions ----------------------------------------------------------------------------


def _photo() -> bytes:
    from PIL import Image

    rng = random.Random(4)  # noqa: S311 - bench data
    image = Image.frombytes("RGB", (320, 240), bytes(rng.getrandbits(8) for _ in range(320 * 240 * 3)))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")  # fmt: skip


def submissions(port: int, *, attachments: bool) -> dict:
    """SUBMIT_CLIENTS threads, each: GET the form, its captcha picture, POST a message; for SUBMIT_SECONDS."""
    import requests

    from tests.captcha import captcha_post_data

    photo = _photo()
    base = f"http://127.0.0.1:{port}"
    latencies, failures = [], []
    lock = threading.Lock()
    deadline = time.monotonic() + SUBMIT_SECONDS

    def client(number: int):
        session = requests.Session()
        sent = 0
        while time.monotonic() < deadline:
            try:
                send_one(session, number, sent)
            except Exception as error:  # a failed request is a failure of the run, not a silent thread
                with lock:
                    failures.append(type(error).__name__)
            sent += 1

    def send_one(session, number: int, sent: int):
        form = session.get(f"{base}/hudong/write/", timeout=30).text
        image = re.search(r'src="(/captcha/[^"]+)"', form)
        session.get(f"{base}{image.group(1)}", timeout=30).raise_for_status()  # a browser shows the picture
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
        data = {
            "csrfmiddlewaretoken": csrf, "kind": "complaint", "subject": f"基准投诉{number}-{sent}",
            "content": "小区门口道路破损，雨天积水严重，请尽快维修。", "name": "王基准",
            "phone": f"138{number:04d}{sent % 10000:04d}", "applicant_kind": "natural_person",
        }  # fmt: skip
        data.update(captcha_post_data(form))  # what a citizen reads off the picture
        files = [("attachments", ("photo.jpg", photo, "image/jpeg")), ("attachments", ("letter.pdf", PDF,
                 "application/pdf"))] if attachments else None  # fmt: skip
        # Production cookies are Secure; over the loopback's plain HTTP the client must be handed them.
        cookies = "; ".join(f"{cookie.name}={cookie.value}" for cookie in session.cookies)
        started = time.perf_counter()
        response = session.post(f"{base}/hudong/write/", data=data, files=files, timeout=60,
                                headers={"Referer": f"{base}/hudong/write/", "Cookie": cookies},
                                allow_redirects=False)  # fmt: skip
        elapsed = (time.perf_counter() - started) * 1000
        with lock:
            if response.status_code in (302, 303):
                latencies.append(elapsed)
            else:
                failures.append(response.status_code)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(SUBMIT_CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    label = "public submissions " + ("with attachments" if attachments else "without attachments")
    refuse_failures(label, requests=len(latencies) + len(failures), failed=len(failures),
                    detail=f" ({sorted(set(map(str, failures)))})")  # fmt: skip
    if not latencies:
        raise BenchFailed(f"{label}: nothing was submitted; no figure is reported")
    latencies.sort()
    return {
        "attachments": attachments,
        "submitted": len(latencies),
        "per_second": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) if latencies else None,
        "p95_ms": latencies[int(len(latencies) * 0.95) - 1] if latencies else None,
        "failures": len(failures),
        "failure_codes": sorted(set(failures)),
    }


# -- run -------------------------------------------------------------------------------------------


def run() -> dict:
    from django.core.management import call_command

    from accounts.models import User

    call_command("collectstatic", "--noinput", verbosity=0)
    started = time.perf_counter()
    count = populate()
    prepared = time.perf_counter() - started
    departments = _departments()
    handler = _handler(departments[6])
    kinds = list_kinds()
    result = {"cases": count, "prepare_seconds": prepared, "admin": [], "submissions": []}
    superuser = User.objects.get(username="admin")
    result["one at a time"] = {
        "superuser": one_at_a_time(
            {k: ["/admin/complaints/case/" + s for s in v] for k, v in kinds.items()}, superuser
        ),
        "handler": one_at_a_time({k: ["/admin/complaints/case/" + s for s in v] for k, v in kinds.items()}, handler),
        "superuser, default ModelAdmin": one_at_a_time(
            {k: ["/bench-admin/complaints/case/" + s for s in v] for k, v in kinds.items() if k != "overdue filter"},
            superuser,
        ),
    }
    for who, user in dashboard_users(departments).items():
        result["one at a time"][f"{who}, dashboard"] = one_at_a_time({"dashboard": ["/admin/"]}, user)
    wrk = ensure_wrk()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.complaints_settings",
           "COMPLAINT_SUBMIT_RATE_PER_IP": "1000000000", "COMPLAINT_SUBMIT_RATE_PER_PHONE": "1000000000"}  # fmt: skip
    server = Server(PORT, env, "complaints bench")
    try:
        cookies = {"superuser": admin_cookie(), "handler": handler_cookie(departments[6])}
        for who, cookie in cookies.items():
            for kind, suffixes in kinds.items():
                paths = ["/admin/complaints/case/" + s for s in suffixes]
                for connections in (4, 16):
                    for path in paths[:2]:
                        server.get(path, {"Cookie": cookie})
                    measured = run_wrk(wrk, PORT, paths, {"Cookie": cookie}, connections)
                    result["admin"].append({"who": who, "query": kind, "setup": "GovCMS admin",
                                            "connections": connections, **measured})  # fmt: skip
                    wait_until_idle()
        for kind, suffixes in kinds.items():
            if kind == "overdue filter":
                continue  # the default ModelAdmin has no such filter
            paths = ["/bench-admin/complaints/case/" + s for s in suffixes]
            measured = run_wrk(wrk, PORT, paths, {"Cookie": cookies["superuser"]}, 4)
            result["admin"].append({"who": "superuser", "query": kind, "setup": "default ModelAdmin",
                                    "connections": 4, **measured})  # fmt: skip
            wait_until_idle()
        for attachments in (True, False):
            result["submissions"].append(submissions(PORT, attachments=attachments))
            wait_until_idle()
    finally:
        server.stop()
    return result


def report(result: dict) -> None:
    print(f"\nAdmin case list on {result['cases']:,} cases ({result['prepare_seconds']:.0f} s to prepare), "
          f"{SECONDS} s per row, gunicorn on the same 2 cores as wrk and PostgreSQL")  # fmt: skip
    print(
        f"{'who':<10} {'query':<16} {'setup':<20} {'conns':>5} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'errors':>6}"
    )
    for row in result["admin"]:
        print(
            f"{row['who']:<10} {row['query']:<16} {row['setup']:<20} {row['connections']:>5} {row['rps']:>8.1f} "
            f"{row['p50'] / 1000:>8.1f} {row['p95'] / 1000:>8.1f} {row['errors'] + row['non2xx']:>6}"
        )
    print("goal: p95 < 200 ms")
    print("\nOne request at a time, in-process: p50 / p95 over 20 requests, queries per page (goal: p95 < 200 ms)")
    for who, rows in result["one at a time"].items():
        for label, found in rows.items():
            print(f"  {who:<30} {label:<16} p50 {found['p50_ms']:7.1f} ms  p95 {found['p95_ms']:7.1f} ms  "
                  f"{found['queries']:>3} queries")  # fmt: skip
    print(
        f"\nPublic submissions: {SUBMIT_CLIENTS} clients x {SUBMIT_SECONDS} s, each GET form + captcha picture + POST"
    )
    for row in result["submissions"]:
        label = "with a 150 KB JPEG + a PDF" if row["attachments"] else "without attachments"
        print(f"  {label:<28} {row['per_second']:6.1f} submissions/s  POST p50 {row['p50_ms'] or 0:6.0f} ms  "
              f"p95 {row['p95_ms'] or 0:6.0f} ms  failures {row['failures']} {row['failure_codes']}")  # fmt: skip
