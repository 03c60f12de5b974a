"""10,000 deliveries (1,000 WeChat accounts x 10 schedules) due at once, sent through the sandbox
by one worker host: end-to-end deliveries/second, p95 from send_at to sent, dispatch cost."""

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests
from django.db import connection
from django.db.models import Count
from django.utils import timezone

ROOT = Path(__file__).resolve().parent.parent
ACCOUNTS, SCHEDULES = 1000, 10
SANDBOX_PORT = 18300
WORKER_POOL = os.environ.get("BENCH_WORKER_POOL", "prefork")
WORKER_CONCURRENCY = int(os.environ.get("BENCH_WORKER_CONCURRENCY", "4"))


def _wait_for(url: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def start_sandbox(env: dict, port: int) -> subprocess.Popen:
    """The sandbox under gunicorn (one process: its state is in memory) for HTTP keep-alive, as the
    real platforms offer; the plain `run_sandbox` server opens a connection per request."""
    return subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "publishing.sandbox:SandboxApp()", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--worker-class", "gthread", "--threads", "16", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip


def start_plain_sandbox(env: dict, port: int, log_path: Path) -> subprocess.Popen:
    """The sandbox on its own threaded stdlib server, where a dropped connection is really dropped:
    gunicorn answers the sandbox's DropConnection with a "500 Internal Server Error" page, so under
    `start_sandbox` the fault "drop" reaches the client as an HTTP error, never as silence. In its
    own session, so a Ctrl-C meant for the caller does not end it before the caller reads its state."""
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "publishing.sandbox", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def prepare(sandbox_url: str, accounts_count: int = ACCOUNTS, schedules_count: int = SCHEDULES):
    from accounts.models import User
    from content.models import Article, ArticleState
    from publishing.models import (
        ChannelAccount,
        Delivery,
        Platform,
        QuotaSlot,
        Schedule,
        ScheduleArticle,
        WeChatMaterial,
    )

    old = ChannelAccount.objects.filter(name__startswith="bench-")
    Delivery.objects.filter(account__in=old).delete()
    Schedule.objects.filter(title__startswith="bench").delete()
    QuotaSlot.objects.filter(account__in=old).delete()
    WeChatMaterial.objects.filter(account__in=old).delete()
    old.delete()
    editor = User.objects.get(username="editor")
    articles = list(Article.objects.filter(state=ArticleState.PUBLISHED, cover__gt="").order_by("pk")[:2])
    accounts = ChannelAccount.objects.bulk_create(
        [
            ChannelAccount(
                name=f"bench-{n:04d}",
                platform=Platform.WECHAT,
                department=editor.department,
                api_base_url=sandbox_url,
                wechat_app_id=f"wxbench{n:010d}",
                wechat_app_secret=f"secret-{n}",
                wechat_token="bench-callback",  # noqa: S106 - a sandbox account
                wechat_account_type="subscription",
            )  # fmt: skip
            for n in range(accounts_count)
        ]
    )
    for account in accounts:
        requests.post(sandbox_url + "_sandbox/accounts", json={"appid": account.wechat_app_id, "secret": account.wechat_app_secret,
                      "followers": 5000, "quota": schedules_count}, timeout=5).raise_for_status()  # fmt: skip
    send_at = timezone.now()
    deliveries = []
    for n in range(schedules_count):
        schedule = Schedule.objects.create(title=f"bench {n}", send_at=send_at, created_by=editor)
        ScheduleArticle.objects.bulk_create(
            [ScheduleArticle(schedule=schedule, article=a, position=i) for i, a in enumerate(articles, 1)]
        )
        deliveries += [Delivery(schedule=schedule, account=account, due_at=send_at) for account in accounts]
    Delivery.objects.bulk_create(deliveries, batch_size=2000)
    return send_at


def run() -> dict:
    from publishing.models import Delivery, DeliveryState
    from publishing.services import dispatch_due
    from publishing.tasks import send_delivery

    env = dict(os.environ)
    sandbox = start_sandbox(env, SANDBOX_PORT)
    sandbox_url = f"http://127.0.0.1:{SANDBOX_PORT}/"
    worker = None
    try:
        _wait_for(sandbox_url + "_sandbox/state")
        queue = f"bench-{os.getpid()}"
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "govcms", "worker", "--pool", WORKER_POOL,
             "--concurrency", str(WORKER_CONCURRENCY), "--loglevel", "WARNING", "-Q", queue],
            cwd=ROOT, env=env,
        )  # fmt: skip
        time.sleep(4)  # worker start-up
        send_at = prepare(sandbox_url)
        started = time.monotonic()
        dispatch_seconds, dispatched = 0.0, 0
        while dispatched < ACCOUNTS * SCHEDULES:
            t0 = time.perf_counter()
            ids = dispatch_due(batch=1000)
            dispatch_seconds += time.perf_counter() - t0
            for delivery_id in ids:
                send_delivery.apply_async(args=[delivery_id], queue=queue)
            dispatched += len(ids)
            if not ids:
                break
        bench = Delivery.objects.filter(account__name__startswith="bench-")
        while bench.filter(state__in=[DeliveryState.QUEUED, DeliveryState.SENDING]).exists():
            if time.monotonic() - started > 600:
                break
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        latencies = sorted(
            (sent_at - send_at).total_seconds()
            for sent_at in bench.filter(state=DeliveryState.SENT).values_list("sent_at", flat=True)
        )
        sends = requests.get(sandbox_url + "_sandbox/state", timeout=30).json()["mass_sends"]
        per_delivery = {}
        for send in sends:
            per_delivery[send["clientmsgid"]] = per_delivery.get(send["clientmsgid"], 0) + 1
        states = dict(bench.values_list("state").annotate(n=Count("id")))
        return {
            "deliveries": ACCOUNTS * SCHEDULES,
            "states": states,
            "sandbox_sends": len(sends),
            "duplicated": sum(n - 1 for n in per_delivery.values() if n > 1),
            "seconds": elapsed,
            "per_second": len(latencies) / elapsed if elapsed else 0,
            "p50_s": statistics.median(latencies) if latencies else None,
            "p95_s": latencies[int(len(latencies) * 0.95) - 1] if latencies else None,
            "dispatch_ms_per_delivery": dispatch_seconds * 1000 / max(dispatched, 1),
            "worker": f"celery {WORKER_POOL} x {WORKER_CONCURRENCY}",
        }
    finally:
        if worker:
            worker.terminate()
            worker.wait(timeout=30)
        sandbox.terminate()
        sandbox.wait(timeout=10)
        connection.close()


def report(result: dict) -> None:
    print(
        f"\nPublishing burst: {result['deliveries']} WeChat deliveries due at once ({ACCOUNTS} accounts x {SCHEDULES} schedules), {result['worker']}, sandbox with no added latency"
    )
    print(
        f"states {result['states']}; sandbox received {result['sandbox_sends']} mass-sends, {result['duplicated']} duplicated"
    )
    print(
        f"{result['per_second']:.0f} deliveries/s end to end ({result['seconds']:.1f} s); send_at -> sent p50 {result['p50_s']:.1f} s, p95 {result['p95_s']:.1f} s (goal: >= 200/s, p95 < 60 s)"
    )
    print(f"dispatch: {result['dispatch_ms_per_delivery']:.3f} ms per delivery (goal < 2 ms)")


if __name__ == "__main__":
    sys.exit("run through `python -m bench publishing`")
