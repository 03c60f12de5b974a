"""`make drill`: the sending spine under chaos, judged by what reached the platform.

1,000 deliveries: 500 WeChat subscription accounts x 1 schedule, 100 service accounts x 4 and 20
Weibo accounts x 5, booked through `schedule_create` against the platforms' own quotas (1 a day,
4 a month, 30 an hour), made due at once and sent by a Celery worker through the sandbox. Every
platform call takes 150 ms; 20% fail with transient errors and 10% are carried out but never
answered (the connection closes). The drill plays beat (`dispatch_due` every 1.5 s) and, at
moments chosen by what is in flight, SIGKILLs the worker twice, flushes its Redis database once
and restarts its PostgreSQL once.

The verdict comes from the sandbox's own records: WeChat mass-sends matched to deliveries by
clientmsgid, Weibo posts by access token and headline. The drill passes only when no delivery is
duplicated, lost (recorded sent, not on the platform), over quota, recorded failed although it
went out, or left unfinished, and no platform send matches no delivery.

Its own services: a throwaway PostgreSQL cluster in var/drill-pg/ (removed at the start of the
next run; its logs and the worker and sandbox logs stay there until then), Redis database 13 of
REDIS_URL, the sandbox on 127.0.0.1:18400. DRILL_SECONDS bounds the burst (default 1200: a delivery
that meets WeChat's rate-limit error 45009 on every attempt backs off for about ten minutes),
DRILL_SEED picks the faults (default 7), DRILL_WORKER_LOGLEVEL the workers' log level (WARNING).
"""

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import requests

from bench.__main__ import ROOT, bench_environment

DRILL_DIR = ROOT / "var" / "drill-pg"
PG_PORT, SANDBOX_PORT, REDIS_DB = 54329, 18400, 13
SUBSCRIPTIONS, SERVICES, WEIBOS = 500, 100, 20
SERVICE_SCHEDULES, WEIBO_SCHEDULES = 4, 5
FINAL = ("sent", "failed", "unknown")
TICK = 1.5  # seconds between two dispatches, as beat would run it
STALL_SECONDS = 5  # a tick of beat taking longer is reported, with where the time went
BURST_SECONDS = int(os.environ.get("DRILL_SECONDS", "1200"))
SEED = int(os.environ.get("DRILL_SEED", "7"))
FAULTS = {"error_rate": 0.2, "errors": [-1, 45009], "weibo_errors": [10001, 10009], "drop_rate": 0.1,
          "drop_after_action": True, "latency_ms": 150, "seed": SEED}  # fmt: skip
CHAOS_GAP = 8  # seconds between two chaos events, so each recovery overlaps the next blow
CHAOS_PATIENCE = 90  # after this long waiting for its moment, an event settles for less in flight
SHANGHAI = ZoneInfo("Asia/Shanghai")
HEADLINES = [
    ("县政府召开防汛抗旱工作部署会", "全面部署今年汛期各项防范应对工作"),
    ("全县秋粮收购工作有序推进", "收购网点全部开放，农户售粮排队时间明显缩短"),
    ("县医保局开展城乡居民医保缴费宣传", "集中缴费期内可通过线上线下多种渠道缴纳"),
    ("城关镇人居环境整治取得新成效", "背街小巷改造完成，群众满意度持续提升"),
    ("县教育局发布义务教育招生公告", "招生报名时间、范围和所需材料一次说清"),
]
CALLBACK_TOKEN = "drill-callback"  # noqa: S105 - sandbox accounts
SHARED = ("县政府新闻办举行新闻发布会", "介绍近期重点工作进展情况")


def _ensure_services():
    """scripts/ensure_services.py (its PostgreSQL helpers), without a __pycache__ left in scripts/."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("ensure_services", ROOT / "scripts" / "ensure_services.py")
    module = importlib.util.module_from_spec(spec)
    was, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = was
    return module


services = _ensure_services()


def free_port(preferred: int) -> int:
    """`preferred` when nothing holds it, else any free loopback port."""
    for port in (preferred, 0):
        with socket.socket() as probe:
            # As servers bind: a port in TIME_WAIT after the previous run counts as free, a listener not.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise RuntimeError("no free port")


def clock() -> str:
    return datetime.now(SHANGHAI).strftime("%H:%M:%S")


class Cluster:
    """A throwaway PostgreSQL cluster: initdb + pg_ctl, run as the postgres user when we are root."""

    def __init__(self, directory: Path):
        self.directory, self.data, self.log = directory, directory / "data", directory / "postgres.log"
        self.port = None
        self.pg_ctl = None

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/govcms_drill"

    def _run(self, *args, check=True) -> subprocess.CompletedProcess:
        command = [str(arg) for arg in args]
        if services.running_as_root():
            command = ["runuser", "-u", services.PG_USER, "--", *command]
        # cwd readable by the postgres user; pg_ctl's own -t bounds start, stop and restart.
        result = subprocess.run(command, cwd=self.directory, capture_output=True, text=True, timeout=180)
        if check and result.returncode != 0:
            raise RuntimeError(f"{Path(str(args[0])).name} failed: {result.stderr or result.stdout}")
        return result

    def start(self) -> None:
        self._stop_leftover()
        shutil.rmtree(self.directory, ignore_errors=True)
        self.directory.mkdir(parents=True)
        if services.running_as_root():
            services.ensure_postgres_user()
            shutil.chown(self.directory, services.PG_USER, services.PG_USER)
        initdb, self.pg_ctl = services.find_pg_tool("initdb"), services.find_pg_tool("pg_ctl")
        if not (initdb and self.pg_ctl):
            raise RuntimeError("initdb/pg_ctl not found (apt-get install postgresql)")
        base = [initdb, "-D", self.data, "--auth=trust", "-U", "postgres", "-E", "UTF8"]
        if self._run(*base, "--locale=C.UTF-8", check=False).returncode != 0:
            self._run(*base, "--no-locale")
        self.port = free_port(PG_PORT)
        options = f"-p {self.port} -k {shlex.quote(str(self.directory))} -c listen_addresses=127.0.0.1"
        self._run(self.pg_ctl, "start", "-w", "-t", "60", "-D", self.data, "-l", self.log, "-o", options)
        services.create_database(self.url)

    def restart(self) -> float:
        started = time.monotonic()
        # -l again: without it the server would write to our pipe and run() would never return.
        self._run(self.pg_ctl, "restart", "-m", "fast", "-w", "-t", "60", "-D", self.data, "-l", self.log)
        return time.monotonic() - started

    def stop(self) -> None:
        if self.pg_ctl and (self.data / "postmaster.pid").exists():
            self._run(self.pg_ctl, "stop", "-m", "fast", "-w", "-t", "60", "-D", self.data, check=False)

    def _stop_leftover(self) -> None:
        """A cluster an interrupted earlier run left running (same data directory) is stopped first."""
        if not (self.data / "postmaster.pid").exists():
            return
        version = (self.data / "PG_VERSION").read_text().strip() if (self.data / "PG_VERSION").exists() else None
        pg_ctl = services.find_pg_tool("pg_ctl", version)
        if pg_ctl:
            self._run(pg_ctl, "stop", "-m", "immediate", "-w", "-t", "60", "-D", self.data, check=False)


class Worker:
    """`celery worker` in its own process group, so a kill takes the pool children with it."""

    def __init__(self, env: dict, queue: str):
        self.env, self.queue, self.started, self.process = env, queue, 0, None

    def start(self) -> None:
        self.started += 1
        with open(DRILL_DIR / f"worker-{self.started}.log", "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "govcms", "worker", "--pool", "prefork", "--concurrency", "4",
                 "--loglevel", os.environ.get("DRILL_WORKER_LOGLEVEL", "WARNING"), "-Q", self.queue, "-n", f"drill{self.started}@%h"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    def kill(self) -> None:
        self._signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self._signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.process.wait(timeout=30)
        # Pool children that outlived their parent are still in its process group.
        self._signal(signal.SIGKILL)

    def _signal(self, number) -> None:
        try:
            os.killpg(self.process.pid, number)
        except ProcessLookupError:
            pass


def drill_environment(database_url: str, media_root: str) -> dict:
    redis_url = urlunsplit(
        urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))._replace(path=f"/{REDIS_DB}")
    )
    return {
        **bench_environment(),
        "DATABASE_URL": database_url,
        # Its own Redis database for cache, tokens and broker: the flush takes nothing of anyone else's.
        "REDIS_URL": redis_url,
        "REDIS_DB": str(REDIS_DB),
        "CELERY_BROKER_URL": redis_url,
        "CELERY_RESULT_BACKEND": redis_url,
        "CACHE_KEY_PREFIX": "govcms-drill",
        "MEDIA_ROOT": media_root,
        "PUBLISHING_LEASE_SECONDS": "8",
        "PUBLISHING_RETRY_BASE_SECONDS": "1",
        "PUBLISHING_REQUEUE_AFTER_SECONDS": "10",
        "PUBLISHING_RECONCILE_WINDOW_SECONDS": "120",
    }


def wait_clear_of_midnight() -> None:
    """Subscription quotas are calendar days and service quotas months (Shanghai): a burst straddling
    midnight would book one day and send in the next. Wait until it has passed."""
    now = datetime.now(SHANGHAI)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    if midnight - now < timedelta(minutes=10):
        wait = (midnight - now).total_seconds() + 60
        print(f"{clock()} Shanghai midnight is {wait - 60:.0f} s away: waiting until it has passed", flush=True)
        time.sleep(wait)


# -- data, through the services -----------------------------------------------------------------


def _publish_article(editor, reviewers, column, number: int, title: str, digest: str, body_image: str):
    from django.core.files.base import ContentFile

    from content.demo_data import make_cover
    from content.models import Article
    from content.services import article_approve, article_create, article_publish, article_submit

    article = Article(
        title=title, author="县融媒体中心", digest=digest, column=column, department=editor.department,
        body=f'<p>{digest}。</p><p><img src="{body_image}" alt="现场图片"></p><p>详情请关注后续报道。</p>',
    )  # fmt: skip
    article.cover.save(f"drill-cover-{number}.jpg", ContentFile(make_cover(number)), save=False)
    article = article_create(actor=editor, article=article)
    article_submit(actor=editor, article=article)
    for level in column.review_levels:
        article_approve(actor=reviewers[level], article=article)
    return article_publish(actor=editor, article=article)


def prepare(sandbox_url: str, http: requests.Session) -> list:
    """Accounts, articles and schedules as an administrator and an editor would make them; returns
    the schedules. Each account is registered in the sandbox with its platform's real quota."""
    from django.conf import settings
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.utils import timezone

    from accounts import demo as accounts_demo
    from accounts.models import User
    from content.demo_data import make_cover
    from content.models import Column
    from publishing.models import ChannelAccount, Delivery, Platform, QuotaRule, Schedule, WeChatAccountType
    from publishing.quota import default_rules
    from publishing.services import schedule_create

    departments, _ = accounts_demo.seed()
    editor = User.objects.get(username="editor")
    reviewers = {user.review_level: user for user in User.objects.filter(username__startswith="reviewer")}
    column = Column.objects.create(name="演练", slug="drill", review_levels=[1, 3])
    image = default_storage.save("drill/scene.jpg", ContentFile(make_cover(99, 640, 360)))
    body_image = "/" + settings.MEDIA_URL.strip("/") + "/" + image  # uploaded to WeChat with media/uploadimg
    headlines = [
        _publish_article(editor, reviewers, column, n, title, digest, body_image)
        for n, (title, digest) in enumerate(HEADLINES)
    ]
    shared = _publish_article(editor, reviewers, column, len(HEADLINES), *SHARED, body_image)

    office, safe_domain = departments["county-office"], urlsplit(settings.PORTAL_BASE_URL).hostname
    common = {"department": office, "api_base_url": sandbox_url}
    subscriptions = [
        ChannelAccount(name=f"drill-sub-{n:03d}", platform=Platform.WECHAT,
                       wechat_account_type=WeChatAccountType.SUBSCRIPTION, wechat_app_id=f"wxdrills{n:09d}",
                       wechat_app_secret=f"drill-secret-s{n}", wechat_token=CALLBACK_TOKEN, **common)
        for n in range(SUBSCRIPTIONS)
    ]  # fmt: skip
    service_accounts = [
        ChannelAccount(name=f"drill-svc-{n:03d}", platform=Platform.WECHAT, wechat_account_type=WeChatAccountType.SERVICE,
                       wechat_verified=True, wechat_app_id=f"wxdrillv{n:09d}", wechat_app_secret=f"drill-secret-v{n}",
                       wechat_token=CALLBACK_TOKEN, **common)
        for n in range(SERVICES)
    ]  # fmt: skip
    weibo_accounts = [
        ChannelAccount(name=f"drill-weibo-{n:02d}", platform=Platform.WEIBO, weibo_access_token=f"2.00drill{n:04d}",
                       weibo_uid=str(5_000_000_000 + n), weibo_safe_domain=safe_domain, **common)
        for n in range(WEIBOS)
    ]  # fmt: skip
    # bulk_create sets the primary keys on these very objects (PostgreSQL).
    accounts = ChannelAccount.objects.bulk_create(subscriptions + service_accounts + weibo_accounts)
    QuotaRule.objects.bulk_create(
        [
            QuotaRule(account=a, period=period, limit=limit)
            for a in accounts
            for period, limit in default_rules(a).items()
        ]
    )
    for account in accounts:
        if account.platform == Platform.WECHAT:
            answer = http.post(sandbox_url + "_sandbox/accounts", json={"appid": account.wechat_app_id,
                               "secret": account.wechat_app_secret, "type": account.wechat_account_type,
                               "followers": 1000}, timeout=10)  # fmt: skip
        else:
            answer = http.post(sandbox_url + "_sandbox/weibo_apps", json={"access_token": account.weibo_access_token,
                               "safe_domain": safe_domain, "uid": int(account.weibo_uid),
                               "screen_name": account.name}, timeout=10)  # fmt: skip
        answer.raise_for_status()

    targets = [
        (subscriptions if n == 0 else [])
        + (service_accounts if n < SERVICE_SCHEDULES else [])
        + (weibo_accounts if n < WEIBO_SCHEDULES else [])
        for n in range(len(headlines))
    ]
    send_at = timezone.now() + timedelta(minutes=2)
    schedules = [
        schedule_create(actor=editor, schedule=Schedule(send_at=send_at), articles=[headline, shared], accounts=group)
        for headline, group in zip(headlines, targets, strict=True)
    ]
    # Due now rather than in two minutes (the tests do the same): send_at had to be in the future.
    Delivery.objects.filter(schedule__in=schedules).update(due_at=timezone.now())
    return schedules


# -- the burst ---------------------------------------------------------------------------------------


class Burst:
    """Beat (dispatch every TICK) plus the chaos, each blow struck when the deliveries show its moment.

    The database restart comes last, so no later worker kill hides how the workers come through it;
    after each blow the drill notes how long until the next delivery is recorded sent."""

    def __init__(self, schedules, worker: Worker, cluster: Cluster, redis_url: str):
        import redis

        from publishing.models import Delivery

        self.drill = Delivery.objects.filter(schedule__in=schedules)
        self.total = self.drill.count()
        self.worker, self.cluster = worker, cluster
        self.redis = redis.Redis.from_url(redis_url)
        self.events: list[dict] = []  # line, sent before the blow, when, seconds until the next send
        self.started = time.monotonic()
        self.last_blow = self.waiting_since = self.started
        # What, and how much must be in flight (live leases; for the flush: tasks waiting in Redis).
        self.chaos = [("kill", 3), ("flush", 20), ("kill", 3), ("restart", 2)]
        self.enqueued = 0
        self.sent = 0
        self.stalls: list[str] = []

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def run(self) -> None:
        from django.db import InterfaceError, OperationalError, close_old_connections, connection
        from django.db.models import Count
        from django.utils import timezone

        from publishing.services import dispatch_due
        from publishing.tasks import broker_backlog, send_delivery

        deadline, next_report = self.started + BURST_SECONDS, 0.0
        while time.monotonic() < deadline:
            tick = time.monotonic()
            try:
                close_old_connections()
                # What beat does every few seconds (publishing.tasks.dispatch_due), on the drill's queue.
                due = dispatch_due(batch=2000, requeue_lost=broker_backlog(self.worker.queue) == 0)
                dispatched = time.monotonic()
                for delivery_id in due:
                    send_delivery.apply_async(args=[delivery_id], queue=self.worker.queue)
                self.enqueued += len(due)
                enqueued = time.monotonic()
                states = dict(self.drill.order_by().values_list("state").annotate(n=Count("id")))
                in_flight = self.drill.filter(state="sending", lease_expires_at__gt=timezone.now()).count()
                if time.monotonic() - tick > STALL_SECONDS:
                    self.stall(tick, dispatched, enqueued, len(due))
            except (OperationalError, InterfaceError) as error:
                # The database restarting under us: what beat lives through too. Next tick, a new connection.
                self.note(f"dispatch failed ({type(error).__name__}: {str(error).strip().splitlines()[0][:80]})")
                connection.close()
                time.sleep(TICK)
                continue
            self.sent = states.get("sent", 0)
            for event in self.events:
                if event["recovered"] is None and self.sent > event["sent"]:
                    event["recovered"] = time.monotonic() - event["at"]
            self.strike(states, in_flight)
            if self.elapsed() >= next_report:
                next_report = self.elapsed() + 30
                shown = " ".join(f"{state} {n}" for state, n in sorted(states.items()))
                print(f"{clock()} {self.elapsed():5.0f} s  {shown}  (in flight {in_flight})", flush=True)
            if sum(states.get(state, 0) for state in FINAL) == self.total and not self.chaos:
                return
            time.sleep(max(0.0, TICK - (time.monotonic() - tick)))
        self.note(f"time is up ({BURST_SECONDS} s)")

    def note(self, text: str) -> None:
        line = f"{clock()} {self.elapsed():5.0f} s  {text}"
        self.events.append({"line": line, "sent": self.sent, "at": time.monotonic(), "recovered": None})
        print(line, flush=True)

    def stall(self, tick: float, dispatched: float, enqueued: float, count: int) -> None:
        """A tick of beat that took far longer than it should: where the time went."""
        line = (f"{clock()} {self.elapsed():5.0f} s  beat stalled {time.monotonic() - tick:.0f} s: dispatch_due "
                f"{dispatched - tick:.1f} s, enqueueing {count} tasks {enqueued - dispatched:.1f} s, "
                f"state queries {time.monotonic() - enqueued:.1f} s")  # fmt: skip
        self.stalls.append(line)
        print(line, flush=True)

    def strike(self, states: dict, in_flight: int) -> None:
        if not self.chaos or time.monotonic() - self.last_blow < CHAOS_GAP:
            return
        what, needed = self.chaos[0]
        if time.monotonic() - self.waiting_since > CHAOS_PATIENCE:
            needed = 1
        waiting = self.redis.llen(self.worker.queue)
        if (waiting if what == "flush" else in_flight) < needed:
            return
        self.chaos.pop(0)
        if what == "kill":
            self.worker.kill()
            self.note(f"worker {self.worker.started} SIGKILLed with {in_flight} deliveries in flight")
            self.worker.start()
        elif what == "flush":
            self.redis.flushdb()
            queued = states.get("queued", 0)
            self.note(f"Redis db {REDIS_DB} flushed: {waiting} tasks waiting in the queue, {queued} deliveries queued")
        else:
            seconds = self.cluster.restart()
            self.note(f"PostgreSQL restarted (-m fast, {seconds:.1f} s) with {in_flight} deliveries in flight")
        self.last_blow = self.waiting_since = time.monotonic()

    def report(self) -> list[str]:
        lines = []
        for event in self.events:
            after = event["recovered"]
            then = (
                f"next delivery recorded sent {after:.0f} s later" if after is not None else "no delivery sent after it"
            )
            lines.append(f"  {event['line']}  -> {then}")
        lines += [f"  {line}" for line in self.stalls]
        lines.append(f"  {self.enqueued} send_delivery tasks enqueued for {self.total} deliveries")
        return lines


# -- the verdict --------------------------------------------------------------------------------------


def judge(platform: dict, schedules) -> tuple[bool, list[str]]:
    """Each delivery against the platform's own records; returns (passed, report lines)."""
    from publishing import quota
    from publishing.models import ChannelAccount, Delivery, Platform, QuotaPeriod, WeChatAccountType

    deliveries = list(
        Delivery.objects.filter(schedule__in=schedules).values(
            "id", "uuid", "state", "account_id", "schedule_id", "schedule__send_at", "platform_msg_id",
            "platform_post_id", "error_code", "attempts",
        )
    )  # fmt: skip
    accounts = {a.pk: a for a in ChannelAccount.objects.filter(pk__in={d["account_id"] for d in deliveries})}
    by_uuid = {d["uuid"].hex: d for d in deliveries}
    by_post = {(d["account_id"], d["schedule_id"]): d for d in deliveries}
    by_token = {a.weibo_access_token: a for a in accounts.values() if a.platform == Platform.WEIBO}
    by_title = {s.title: s.pk for s in schedules}
    appids = {a.wechat_app_id: a for a in accounts.values() if a.platform == Platform.WECHAT}

    copies, unmatched = defaultdict(list), []
    for send in platform["mass_sends"]:
        delivery = by_uuid.get(send["clientmsgid"])
        if delivery is None or accounts[delivery["account_id"]].wechat_app_id != send["appid"]:
            unmatched.append(f"WeChat {send['appid']} clientmsgid {send['clientmsgid']} msg_id {send['msg_id']}")
        else:
            copies[delivery["id"]].append(str(send["msg_id"]))
    for post in platform["weibo_posts"]:
        account, title = by_token.get(post["access_token"]), re.match(r"【(.*?)】", post["status"])
        delivery = by_post.get((account.pk if account else None, by_title.get(title.group(1) if title else None)))
        if delivery is None:
            unmatched.append(f"Weibo {post['access_token']} post {post['id']}: {post['status'][:40]}")
        else:
            copies[delivery["id"]].append(str(post["id"]))

    def limit(account) -> tuple[str, int]:
        if account.platform == Platform.WEIBO:
            return QuotaPeriod.HOUR, 30
        if account.wechat_account_type == WeChatAccountType.SERVICE:
            return QuotaPeriod.MONTH, 4
        return QuotaPeriod.DAY, 1

    # Over quota on the platform (per account and its period), and in our own records.
    used = Counter()
    for send in platform["mass_sends"]:
        if send["appid"] in appids:
            used[(appids[send["appid"]].pk, send["quota_period"])] += 1
    for post in platform["weibo_posts"]:
        if post["access_token"] in by_token:
            hour = datetime.fromtimestamp(post["created_at"], SHANGHAI).strftime("%Y-%m-%dT%H")
            used[(by_token[post["access_token"]].pk, hour)] += 1
    recorded = Counter()
    for d in deliveries:
        if d["state"] == "sent":
            period, _ = limit(accounts[d["account_id"]])
            recorded[(d["account_id"], quota.period_key(d["schedule__send_at"], period))] += 1
    over = [
        f"{accounts[account_id].name} {key}: {n} {source}, quota {limit(accounts[account_id])[1]}"
        for source, counts in (("on the platform", used), ("recorded sent", recorded))
        for (account_id, key), n in sorted(counts.items())
        if n > limit(accounts[account_id])[1]
    ]
    over_quota = sum(
        n - limit(accounts[account_id])[1]
        for counts in (used, recorded)
        for (account_id, _key), n in counts.items()
        if n > limit(accounts[account_id])[1]
    )

    def named(d) -> str:
        account = accounts[d["account_id"]]
        return (f"delivery {d['id']} ({account.name}, schedule {d['schedule_id']}, {d['state']}, "
                f"{d['attempts']} attempts, code {d['error_code'] or '-'}, on platform {len(copies[d['id']])})")  # fmt: skip

    states = Counter(d["state"] for d in deliveries)
    duplicated = [d for d in deliveries if len(copies[d["id"]]) > 1]
    lost = [d for d in deliveries if d["state"] == "sent" and not copies[d["id"]]]
    failed_but_sent = [d for d in deliveries if d["state"] == "failed" and copies[d["id"]]]
    not_final = [d for d in deliveries if d["state"] not in FINAL]
    unknown = [d for d in deliveries if d["state"] == "unknown"]
    wrong_id = [
        d for d in deliveries
        if d["state"] == "sent" and copies[d["id"]]
        and (d["platform_msg_id"] or d["platform_post_id"]) not in copies[d["id"]]
    ]  # fmt: skip
    extra_copies = sum(len(copies[d["id"]]) - 1 for d in duplicated)
    unknown_there = sum(1 for d in unknown if copies[d["id"]])

    lines = [
        f"sent {states['sent']} / failed {states['failed']} / unknown {states['unknown']} / duplicated {extra_copies} "
        f"/ lost {len(lost)} / over-quota {over_quota} / recorded-failed-but-sent {len(failed_but_sent)} "
        f"/ not final {len(not_final)}",
        f"unknown: {unknown_there} on the platform, {len(unknown) - unknown_there} not (a person checks each)",
        f"also: recorded id not the platform's {len(wrong_id)} / platform sends matching no delivery {len(unmatched)}",
    ]
    for title, rows in (("unknown", unknown), ("duplicated", duplicated), ("lost", lost),
                        ("recorded failed but sent", failed_but_sent), ("recorded id not the platform's", wrong_id),
                        ("not final", not_final)):  # fmt: skip
        if rows:
            lines.append(f"{title} ({len(rows)}):")
            lines += [f"  {named(d)}" for d in rows[:40]] + ([f"  ... {len(rows) - 40} more"] if len(rows) > 40 else [])
    for title, rows in (("over quota", over), ("platform sends matching no delivery", unmatched)):
        if rows:
            lines.append(f"{title} ({len(rows)}):")
            lines += [f"  {row}" for row in rows[:40]]
    failures = Counter(
        (accounts[d["account_id"]].platform, d["error_code"]) for d in deliveries if d["state"] == "failed"
    )
    if failures:
        lines.append(
            "failed by code: " + ", ".join(f"{p} {code or '-'} x{n}" for (p, code), n in failures.most_common())
        )
    kinds = Counter(
        (accounts[d["account_id"]].platform, accounts[d["account_id"]].wechat_account_type, d["state"])
        for d in deliveries
    )
    for platform_name, kind in sorted({(p, k) for p, k, _ in kinds}):
        row = {state: n for (p, k, state), n in kinds.items() if (p, k) == (platform_name, kind)}
        lines.append(f"  {platform_name} {kind or ''}: " + ", ".join(f"{s} {n}" for s, n in sorted(row.items())))
    passed = not (duplicated or lost or over_quota or failed_but_sent or not_final or unmatched or wrong_id)
    return passed, lines


def fault_summary(platform: dict) -> str:
    counts = Counter((f["action"], f["path"]) for f in platform.get("faults_injected", []))
    total = Counter(action for action, _ in counts.elements())
    paths = Counter(path for _, path in counts.elements())
    shown = ", ".join(f"{path} {n}" for path, n in paths.most_common())
    return (
        f"faults injected: {sum(total.values())} ({', '.join(f'{a} {n}' for a, n in total.items())}); by path: {shown}"
    )


LOG_RECORD = re.compile(r"^\d{4}-\d\d-\d\d (\d\d:\d\d:\d\d),\d+ (\w+) (\S+) (.*)$")
EXCEPTION_LINE = re.compile(r"^([\w.]+(?:Error|Exception|Exit)\w*)(?::|$)")


def worker_log_summary() -> list[str]:
    """Per worker log: the errors it logged, by the exception each traceback ended with, and when."""
    lines = []
    for log in sorted(DRILL_DIR.glob("worker-*.log"), key=lambda path: int(path.stem.split("-")[1])):
        seen, record = {}, None  # exception -> [count, first, last]; the current error record
        for line in [*log.read_text(errors="replace").splitlines(), "0000-00-00 00:00:00,0 END - -"]:
            match = LOG_RECORD.match(line)
            if match:
                if record and record["exception"]:
                    key = f"{record['where']}: {record['exception']}"
                    entry = seen.setdefault(key, [0, record["time"], record["time"]])
                    entry[0] += 1
                    entry[2] = record["time"]
                record = None
                if match.group(2) in ("ERROR", "CRITICAL"):
                    where = "task raised" if match.group(3) == "celery.app.trace" else match.group(4)[:60]
                    record = {"time": match.group(1), "where": re.sub(r"delivery \d+", "delivery N", where),
                              "exception": ""}  # fmt: skip
            elif record:
                exception = EXCEPTION_LINE.match(line)
                if exception:
                    record["exception"] = exception.group(1)  # the last one of a chained traceback wins
        lines += [f"  {log.name}: {what} x{n} ({first}-{last})" for what, (n, first, last) in seen.items()]
    return [f"worker logs ({DRILL_DIR}/worker-*.log): " + ("errors:" if lines else "no errors")] + lines


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the cleanup below on `kill` too
    wait_clear_of_midnight()
    begun = time.monotonic()
    cluster = Cluster(DRILL_DIR)
    media_root = tempfile.mkdtemp(prefix="govcms-drill-media-")
    sandbox = worker = None
    try:
        cluster.start()
        env = drill_environment(cluster.url, media_root)
        os.environ.update(env)
        import django

        django.setup()
        import redis
        from django.core.management import call_command

        from bench.publishing import _wait_for, start_plain_sandbox

        print(f"{clock()} PostgreSQL {cluster.url} ({DRILL_DIR}), Redis {env['REDIS_URL']}", flush=True)
        redis.Redis.from_url(env["REDIS_URL"]).flushdb()
        call_command("migrate", verbosity=0)
        port = free_port(SANDBOX_PORT)
        sandbox_url = f"http://127.0.0.1:{port}/"
        sandbox = start_plain_sandbox(env, port, DRILL_DIR / "sandbox.log")
        _wait_for(sandbox_url + "_sandbox/state")
        http = requests.Session()
        schedules = prepare(sandbox_url, http)
        http.post(sandbox_url + "_sandbox/faults", json=FAULTS, timeout=5).raise_for_status()
        print(f"{clock()} {len(schedules)} schedules booked through schedule_create, sandbox {sandbox_url}, "
              f"faults {FAULTS}", flush=True)  # fmt: skip
        worker = Worker(env, f"drill-{os.getpid()}")
        worker.start()
        burst = Burst(schedules, worker, cluster, env["REDIS_URL"])
        print(f"{clock()} {burst.total} deliveries due", flush=True)
        burst.run()
        seconds = burst.elapsed()
        worker.stop()  # nothing changes while the records are compared
        platform = http.get(sandbox_url + "_sandbox/state", timeout=120).json()
        passed, lines = judge(platform, schedules)
        missed = [what for what, _ in burst.chaos]
    finally:
        if worker:
            worker.stop()
        if sandbox:
            sandbox.terminate()
            try:
                sandbox.wait(timeout=10)
            except subprocess.TimeoutExpired:
                sandbox.kill()
        try:
            from django.db import connection

            connection.close()
        except Exception:  # noqa: BLE001, S110 - Django may not even be set up; the cluster goes anyway
            pass
        cluster.stop()
        shutil.rmtree(media_root, ignore_errors=True)

    print(f"\nDrill: {burst.total} deliveries (WeChat {SUBSCRIPTIONS} subscription x 1, {SERVICES} service x "
          f"{SERVICE_SCHEDULES}; Weibo {WEIBOS} x {WEIBO_SCHEDULES}), burst {seconds:.0f} s, "
          f"whole run {time.monotonic() - begun:.0f} s, seed {SEED}")  # fmt: skip
    print(fault_summary(platform))
    print("chaos:")
    for line in burst.report():
        print(line)
    if missed:
        print(f"  not done: {', '.join(missed)} (the burst ended first)")
    for line in lines:
        print(line)
    for line in worker_log_summary():
        print(line)
    ok = passed and not missed
    print("DRILL PASSED" if ok else "DRILL FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
