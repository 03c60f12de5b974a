"""Load for the benchmarks over HTTP: a gunicorn server under test and wrk, and the one rule every
benchmark keeps: a run in which any request failed or answered other than 2xx gives no figure.

A broken setup (a baseline whose pages all answer 500, a login page instead of the admin) is fast,
so without this rule it would print as the best number of the run.

Timings taken in-process (not through wrk) are summed up the same way everywhere: `latency_summary`.
"""

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONNECTIONS = 16
SECONDS = 10
WORKERS, THREADS = 2, 4  # two cores: two processes, threads for keep-alive connections
START_SECONDS = 60
# The first page a fresh server renders may be slow (no cache, cold database): waiting for it is the
# start check, not a measurement, so it gets far more than wrk's per-request budget.
FIRST_PAGE_SECONDS = 120

WRK_SCRIPT = """
local paths = {%(paths)s}
local headers = %(headers)s
math.randomseed(42)
request = function()
  return wrk.format("GET", paths[math.random(#paths)], headers)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('RESULT {"requests": %%d, "duration_us": %%d, "p50": %%d, "p95": %%d, "p99": %%d, "errors": %%d, "non2xx": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


class BenchFailed(RuntimeError):
    """A measurement that must not be reported: some of its requests failed or answered non-2xx."""


def refuse_failures(label: str, *, requests: int, failed: int, detail: str = "") -> None:
    if failed:
        raise BenchFailed(
            f"{label}: {failed} of {requests} requests failed or answered non-2xx{detail}; no figure is reported"
        )


def latency_summary(values: list[float]) -> dict:
    """The median, 95th and 99th percentile and maximum of in-process timings (milliseconds), and their number."""
    values = sorted(values)

    def rank(share):
        return values[max(0, int(len(values) * share) - 1)]

    return {
        "n": len(values),
        "p50_ms": statistics.median(values),
        "p95_ms": rank(0.95),
        "p99_ms": rank(0.99),
        "max_ms": values[-1],
    }


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        if subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "wrk"], env=env).returncode != 0:
            subprocess.run(["apt-get", "update"], env=env, check=True)
            subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "wrk"], env=env, check=True)
        return shutil.which("wrk")
    sys.exit("The benchmark needs wrk: sudo apt-get install -y wrk")


class Server:
    """gunicorn in production mode on a loopback port; started once it serves its home page with a 2xx."""

    def __init__(self, port: int, env: dict, label: str, start_path: str = "/"):
        self.port, self.label = port, label
        self.process = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "govcms.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", str(WORKERS), "--worker-class", "gthread", "--threads", str(THREADS),
             "--log-level", "warning"],
            cwd=ROOT, env=env,
        )  # fmt: skip
        try:
            self._wait_for_port()
            self.get(start_path, timeout=FIRST_PAGE_SECONDS)
        except BaseException:
            self.stop()
            raise

    def _wait_for_port(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.label} did not start: gunicorn exited with {self.process.returncode}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"{self.label} did not start: nothing listens on port {self.port} after {START_SECONDS} s")

    def get(self, path: str, headers: dict | None = None, timeout: float = 120) -> bytes:
        """The page's body; BenchFailed unless it answers 2xx (and, for the admin, not the login page)."""
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback
                if "/login/" in response.url:
                    raise BenchFailed(f"{self.label}: {path} sent to the login page {response.url}")
                return response.read()
        except urllib.error.HTTPError as error:
            raise BenchFailed(f"{self.label}: {path} answered {error.code}") from error

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=20)


def run_wrk(
    wrk: str, port: int, paths: list[str], headers: dict | None = None, connections: int = CONNECTIONS, label: str = ""
) -> dict:
    """wrk's counts over SECONDS; BenchFailed if any request errored, timed out or answered non-2xx."""
    headers = {"Accept-Encoding": "gzip", **(headers or {})}
    lua_headers = "{" + ", ".join(f"[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()) + "}"
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % {"paths": ", ".join(json.dumps(p) for p in paths), "headers": lua_headers})
    command = [wrk, "-t2", f"-c{connections}", f"-d{SECONDS}s", "--timeout", "60s", "-s", script.name,
               f"http://127.0.0.1:{port}"]  # fmt: skip
    try:
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    result = json.loads(output.split("RESULT ", 1)[1].splitlines()[0])
    if not result["requests"]:
        raise BenchFailed(f"{label or f'wrk on port {port}'}: no request completed; no figure is reported")
    refuse_failures(
        label or f"wrk on port {port}",
        requests=result["requests"],
        failed=result["errors"] + result["non2xx"],
        detail=f" ({result['non2xx']} non-2xx, {result['errors']} connection errors or timeouts; e.g. {paths[0]})",
    )
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result
