"""`make drill`: 1,000 deliveries while the worker is SIGKILLed twice, Redis is flushed once and the
sandbox fails 20% of calls with transient errors. Prints sent / failed / duplicated / lost from the
sandbox's own records (goal: 1000 / 0 / 0 / 0)."""

import os
import signal
import subprocess
import sys
import time

import redis
import requests

from bench.__main__ import ROOT, bench_environment, ensure_database

ACCOUNTS, SCHEDULES = 100, 10
SANDBOX_PORT = 18400


def start_worker(env, queue):
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "govcms", "worker", "--pool", "prefork", "--concurrency", "4",
         "--loglevel", "ERROR", "-Q", queue],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip


def main() -> int:
    env = {
        **bench_environment(),
        "PUBLISHING_LEASE_SECONDS": "8",
        "PUBLISHING_RETRY_BASE_SECONDS": "1",
        "PUBLISHING_REQUEUE_AFTER_SECONDS": "10",
    }
    ensure_database(env)
    os.environ.update(env)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from bench import publishing
    from bench.populate import populate
    from publishing.models import Delivery, DeliveryState
    from publishing.services import dispatch_due
    from publishing.tasks import send_delivery

    call_command("migrate", verbosity=0)
    populate(100)
    sandbox = publishing.start_sandbox(env, SANDBOX_PORT)
    url = f"http://127.0.0.1:{SANDBOX_PORT}/"
    queue = f"drill-{os.getpid()}"
    worker = None
    events = []
    try:
        publishing._wait_for(url + "_sandbox/state")
        publishing.prepare(url, ACCOUNTS, SCHEDULES)
        requests.post(url + "_sandbox/faults", json={"error_rate": 0.2, "errors": [-1, 45009], "seed": 7,
                      "paths": ["/cgi-bin/draft/add", "/cgi-bin/message/mass/sendall"]}, timeout=5)  # fmt: skip
        worker = start_worker(env, queue)
        drill = Delivery.objects.filter(account__name__startswith="bench-")
        started = time.monotonic()
        plan = {6: "kill", 14: "flush", 22: "kill"}
        while time.monotonic() - started < 600:
            elapsed = int(time.monotonic() - started)
            for at, what in list(plan.items()):
                if elapsed >= at:
                    del plan[at]
                    if what == "kill":
                        os.killpg(worker.pid, signal.SIGKILL)
                        worker.wait()
                        events.append(
                            f"{elapsed:>3} s  worker SIGKILLed ({drill.filter(state=DeliveryState.SENDING).count()} deliveries mid-send)"
                        )
                        worker = start_worker(env, queue)
                    else:
                        redis.Redis.from_url(settings.REDIS_URL).flushdb()
                        events.append(
                            f"{elapsed:>3} s  Redis flushed ({drill.filter(state=DeliveryState.QUEUED).count()} queued tasks lost)"
                        )
            for delivery_id in dispatch_due(batch=2000):  # what beat does every few seconds
                send_delivery.apply_async(args=[delivery_id], queue=queue)
            if not plan and not drill.exclude(state__in=[DeliveryState.SENT, DeliveryState.FAILED]).exists():
                break
            time.sleep(2)
        seconds = time.monotonic() - started
        sends = requests.get(url + "_sandbox/state", timeout=30).json()["mass_sends"]
        copies = {}
        for send in sends:
            copies[send["clientmsgid"]] = copies.get(send["clientmsgid"], 0) + 1
        uuids = {d.hex for d in drill.values_list("uuid", flat=True)}
        sent_here = {d.hex for d in drill.filter(state=DeliveryState.SENT).values_list("uuid", flat=True)}
        received = set(copies) & uuids
        failed = drill.filter(state=DeliveryState.FAILED).count()
        duplicated = sum(n - 1 for key, n in copies.items() if key in uuids and n > 1)
        lost = len(uuids - received) - failed
        faults = len(requests.get(url + "_sandbox/state", timeout=30).json().get("faults_injected", []))
    finally:
        if worker and worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=30)
        sandbox.terminate()
        sandbox.wait(timeout=10)
    print(
        f"\nDrill: {len(uuids)} WeChat deliveries, 20% injected transient errors ({faults} injected), in {seconds:.0f} s"
    )
    for line in events:
        print(line)
    print(
        f"sent {len(received)} / failed {failed} / duplicated {duplicated} / lost {lost}   (sent in our records: {len(sent_here)})"
    )
    ok = len(received) == len(uuids) and failed == 0 and duplicated == 0 and lost == 0
    print("DRILL PASSED" if ok else "DRILL FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
