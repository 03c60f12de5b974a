"""An offline stand-in for the WeChat Official Account API and the Sina Weibo API: the WSGI plumbing,
fault injection and the /_sandbox/ control endpoints. The platforms are `wechat.py` and `weibo.py`.

Plain stdlib and no Django, so it runs on its own (`python -m publishing.sandbox`) for the demo,
in a thread for the tests, and in drills. It keeps the platform rules our channels depend on
(field limits, mass-send quotas, clientmsgid de-duplication, token expiry, Weibo's length and
safe-domain rules, rate limits) and records everything it receives, so tests can assert what
reached "the platform". Control endpoints under /_sandbox/ register accounts, move the clock
and inject faults.
"""

import copy
import hashlib
import json
import os
import random
import socketserver
import sys
import tempfile
import threading
import time
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer, make_server

from publishing.sandbox.common import MalformedBody, Request, route
from publishing.sandbox.wechat import MASS_SEND_QUOTA, WeChatAPI, WeChatError, wechat_error_answer
from publishing.sandbox.weibo import WEIBO_ERROR, WeiboAPI, WeiboError, weibo_error_answer

DEFAULT_CONFIG = {
    "token_overlap_seconds": 300,  # a replaced cgi-bin/token keeps working this long
    "callback_delay_seconds": 1.0,  # time between sendall and the MASSSENDJOBFINISH event
    "callback_attempts": 3,  # WeChat tries a callback 3 times in all
    "callback_retry_seconds": 1.0,
    "callback_timeout_seconds": 5.0,  # WeChat gives a server 5 s to answer
}

FAULT_DEFAULTS = {
    "error_rate": 0.0,
    "errors": [-1],
    "weibo_errors": [],  # codes for Weibo paths (/2/...); empty: use "errors" there too
    "latency_ms": 0,
    "slow_rate": 0.0,
    "slow_ms": 5000,
    "drop_rate": 0.0,
    "drop_after_action": False,
    "seed": None,
    "paths": [],  # empty: every platform path (never the /_sandbox/ ones)
    "limit": None,  # stop injecting errors and drops after this many
}


class ControlError(Exception):
    """A bad request to a /_sandbox/ endpoint."""


class DropConnection(Exception):
    """Raised to close the connection without an answer (see SandboxServerHandler)."""


class SandboxApp(WeChatAPI, WeiboAPI):
    """The WSGI application. All state is one JSON-able dict behind one lock."""

    def __init__(self, *, state_file=None, **config):
        unknown = set(config) - set(DEFAULT_CONFIG)
        if unknown:
            raise TypeError(f"unknown sandbox settings: {sorted(unknown)}")
        self.initial_config = {**DEFAULT_CONFIG, **config}
        self.state_file = state_file
        self.lock = threading.RLock()
        self.generation = 0  # bumped by reset, so callbacks of an earlier life are not delivered
        self.routes = {}
        for name in dir(self):
            handler = getattr(self, name)
            if callable(handler) and hasattr(handler, "route"):
                method, path, mutates = handler.route
                self.routes[(method, path)] = (handler, mutates)
        self._reset_state()
        if state_file and os.path.exists(state_file):
            with open(state_file, encoding="utf-8") as handle:
                self.state.update(json.load(handle))
            self.rng = random.Random(self.state["faults"].get("seed"))  # noqa: S311 (fault injection, not crypto)
        self._index_sends()

    # -- plumbing ---------------------------------------------------------------------------------
    def _reset_state(self):
        self.state = {
            "config": dict(self.initial_config),
            "clock_offset_seconds": 0,
            "counter": 0,
            "requests": {},  # per path, the requests the handlers answered (injected faults not counted)
            "accounts": {},
            "tokens": {},
            "current_token": {},
            "current_stable_token": {},
            "token_fetches": {},
            "stable_token_calls": {},
            "stable_token_force_refreshes": {},
            "uploaded_images": [],
            "materials": {},
            "drafts": {},
            "mass_sends": [],
            "follower_messages": {},  # appid -> openid -> sandbox time of the follower's last message
            "custom_messages": [],
            "menus": {},  # appid -> {button, at}: the menu menu/create last set
            "callbacks": [],
            "weibo_apps": {},
            "weibo_posts": [],
            "faults": {},
            "faults_injected": [],
        }
        self.rng = random.Random()  # noqa: S311
        self.sends_by_appid = {}

    def now(self):
        return time.time() + self.state["clock_offset_seconds"]

    def next_number(self):
        self.state["counter"] += 1
        return self.state["counter"]

    def save(self):
        """Write the state atomically: a crash mid-write leaves the previous file intact."""
        if not self.state_file:
            return
        directory = os.path.dirname(os.path.abspath(self.state_file))
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=".sandbox-state-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(self.state, out, ensure_ascii=False)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.state_file)
        except BaseException:
            os.unlink(temporary)
            raise

    def __call__(self, environ, start_response):
        request = Request(environ)
        entry = self.routes.get((request.method, request.path))
        if entry is None:
            return respond(start_response, 404, {"error": "not found", "path": request.path})
        handler, mutates = entry
        fault = {} if request.path.startswith("/_sandbox/") else self._draw_fault(request.path)
        if fault.get("delay"):
            time.sleep(fault["delay"])
        if fault.get("action") == "drop":
            raise DropConnection
        if fault.get("action") == "error":
            status, payload = error_answer(request.path, fault["code"])
        else:
            with self.lock:
                self.state["requests"][request.path] = self.state["requests"].get(request.path, 0) + 1
                try:
                    status, payload = 200, handler(request)
                except WeChatError as error:
                    status, payload = 200, {"errcode": error.code, "errmsg": error.message, **error.extra}
                except WeiboError as error:
                    status, payload = weibo_error_answer(request.path, error.code, error.message)
                except ControlError as error:
                    status, payload = 400, {"error": str(error)}
                if mutates:
                    self.save()
            if fault.get("action") == "drop_after":
                raise DropConnection
        return respond(start_response, status, payload)

    def _draw_fault(self, path):
        with self.lock:
            faults = self.state["faults"]
            if not faults or (faults["paths"] and path not in faults["paths"]):
                return {}
            fault = {"delay": faults["latency_ms"] / 1000}
            if self.rng.random() < faults["slow_rate"]:
                fault["delay"] += faults["slow_ms"] / 1000
            if faults["limit"] is not None and len(self.state["faults_injected"]) >= faults["limit"]:
                return fault
            if self.rng.random() < faults["drop_rate"]:
                fault["action"] = "drop_after" if faults["drop_after_action"] else "drop"
            elif self.rng.random() < faults["error_rate"]:
                codes = faults["errors"]
                if path.startswith("/2/") and faults["weibo_errors"]:
                    codes = faults["weibo_errors"]
                fault.update(action="error", code=self.rng.choice(codes))
            if "action" in fault:
                self.state["faults_injected"].append(
                    {"path": path, "action": fault["action"], "code": fault.get("code"), "at": self.now()}
                )
                self.save()
            return fault

    # -- control ---------------------------------------------------------------------------------------
    @route("POST", "/_sandbox/reset")
    def control_reset(self, request):
        self.generation += 1
        self._reset_state()
        return {"ok": True}

    @route("GET", "/_sandbox/state", mutates=False)
    def control_state(self, request):
        return copy.deepcopy(self.state)

    @route("GET", "/_sandbox/sends", mutates=False)
    def control_sends(self, request):
        appid = request.query.get("appid")
        return {"sends": [send for send in self.state["mass_sends"] if appid in (None, send["appid"])]}

    @route("POST", "/_sandbox/accounts")
    def control_accounts(self, request):
        body = control_json(request)
        appid = str(body.get("appid") or "")
        account = (
            self.state["accounts"].get(appid)
            or {
                "appid": appid,
                "secret": "",
                "type": "subscription",
                "token": "",
                "callback_url": "",
                "followers": 0,
                "tags": {},
                "tag_names": {},  # tag id -> name, for tags/get (the others are named 标签<id>)
                "report_status": "send success",
                "original_id": "gh_" + hashlib.sha256(appid.encode()).hexdigest()[:12],
                "quota": None,
            }
        )
        account.update({key: body[key] for key in account if key in body and key != "appid"})
        account["tags"] = {str(tag): int(count) for tag, count in account["tags"].items()}
        account["tag_names"] = {str(tag): str(name) for tag, name in account["tag_names"].items()}
        account["followers"] = int(account["followers"])
        if not appid or not account["secret"]:
            raise ControlError("appid and secret are required")
        if account["type"] not in MASS_SEND_QUOTA:
            raise ControlError(f"type must be one of {sorted(MASS_SEND_QUOTA)}")
        self.state["accounts"][appid] = account
        return account

    @route("POST", "/_sandbox/weibo_apps")
    def control_weibo_apps(self, request):
        body = control_json(request)
        if not body.get("access_token") or not body.get("safe_domain"):
            raise ControlError("access_token and safe_domain are required")
        app = {
            "access_token": body["access_token"],
            "safe_domain": body["safe_domain"],
            "uid": int(body.get("uid") or 1_000_000_001),
            "screen_name": body.get("screen_name") or "政务微博（沙箱）",
            # Sandbox choice: Weibo refuses a repeated text ("Repeat content") for some while.
            "repeat_window_seconds": float(body.get("repeat_window_seconds", 600)),
        }
        self.state["weibo_apps"][app["access_token"]] = app
        return app

    @route("POST", "/_sandbox/faults")
    def control_faults(self, request):
        body = control_json(request, allowed=FAULT_DEFAULTS)
        faults = {**FAULT_DEFAULTS, **body} if body else {}
        if faults and not faults["errors"]:
            raise ControlError("errors must list at least one code")
        self.state["faults"], self.state["faults_injected"] = faults, []
        self.rng = random.Random(faults.get("seed"))  # noqa: S311
        return {"faults": faults}

    @route("POST", "/_sandbox/clock")
    def control_clock(self, request):
        body = control_json(request)
        if "offset_seconds" in body:
            self.state["clock_offset_seconds"] = float(body["offset_seconds"])
        self.state["clock_offset_seconds"] += float(body.get("advance_seconds", 0))
        return {"offset_seconds": self.state["clock_offset_seconds"], "now": self.now()}

    @route("POST", "/_sandbox/config")
    def control_config(self, request):
        body = control_json(request, allowed=DEFAULT_CONFIG)
        self.state["config"].update(body)
        return self.state["config"]


def control_json(request, allowed=None):
    try:
        body = request.json()
    except MalformedBody as error:
        raise ControlError("the body must be a JSON object") from error
    unknown = set(body) - set(allowed) if allowed is not None else set()
    if unknown:
        raise ControlError(f"unknown settings: {sorted(unknown)}")
    return body


def error_answer(path, code):
    """An injected fault: a 5xx code answers at the HTTP level, others as the platform's own error."""
    if 500 <= code <= 599:
        return code, {"error": "injected HTTP error"}
    if path.startswith("/2/"):
        return weibo_error_answer(path, code, WEIBO_ERROR.get(code, "injected error"))
    return wechat_error_answer(code)


HTTP_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found"}


def respond(start_response, status, payload):
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(body)))]
    start_response(f"{status} {HTTP_REASONS.get(status, 'Error')}", headers)
    return [body]


# -- server ----------------------------------------------------------------------------------------------
class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a stuck client must not keep the process alive on Ctrl-C
    allow_reuse_address = True


class SandboxServerHandler(ServerHandler):
    def handle_error(self):
        if isinstance(sys.exc_info()[1], DropConnection):
            return  # write nothing: the socket is closed when the request ends, as a crashed platform would
        super().handle_error()


class SandboxRequestHandler(WSGIRequestHandler):
    verbose = False

    def log_message(self, format, *args):
        if self.verbose:
            super().log_message(format, *args)

    def handle(self):
        # wsgiref's own handle(), with our ServerHandler so that DropConnection really drops.
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.requestline, self.request_version, self.command = "", "", ""
            self.send_error(414)
            return
        if not self.parse_request():
            return
        handler = SandboxServerHandler(self.rfile, self.wfile, self.get_stderr(), self.get_environ(), multithread=True)
        handler.request_handler = self
        handler.run(self.server.get_app())


def build_server(host, port, app, *, verbose=False):
    """A threaded wsgiref server for the app; port 0 picks a free port (see server.server_port)."""
    handler = type("Handler", (SandboxRequestHandler,), {"verbose": verbose})
    return make_server(host, port, app, server_class=ThreadingWSGIServer, handler_class=handler)
