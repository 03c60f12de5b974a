"""The WeChat/Weibo sandbox on a free loopback port for the whole session, reset before each test."""

import threading
import time
import uuid
from datetime import datetime

import pytest
import redis
import requests
from django.conf import settings

from publishing.channels import wechat_api
from publishing.models import Platform, WeChatAccountType
from publishing.sandbox import SandboxApp, build_server

WECHAT_APPID = "wx0sandbox0test01"
WECHAT_SECRET = "sandbox-secret"
WEIBO_TOKEN = "2.00sandbox-weibo-token"
SAFE_DOMAIN = "gov.example.cn"
# Tests want immediate token replacement and quick reports; each reset restores these.
TEST_CONFIG = {"token_overlap_seconds": 0, "callback_delay_seconds": 0.05, "callback_retry_seconds": 0.1}


def news_article(thumb_media_id, **fields) -> dict:
    """One draft/add article within every WeChat limit."""
    return {
        "title": "县政府召开常务会议",
        "author": "县政府办",
        "digest": "会议研究部署重点工作",
        "content": "<p>会议研究了乡村振兴重点工作。</p>",
        "content_source_url": "http://gov.example.cn/articles/1/",
        "thumb_media_id": thumb_media_id,
        "need_open_comment": 0,
        "only_fans_can_comment": 0,
        **fields,
    }


class RunningServer:
    """A sandbox server in a daemon thread; `url` ends with "/"."""

    def __init__(self, app):
        self.app = app
        self.server = build_server("127.0.0.1", 0, app)
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Sandbox:
    """The control API, as the tests use it."""

    def __init__(self, url):
        self.url = url
        self.http = requests.Session()

    def _post(self, path, payload):
        answer = self.http.post(self.url + path, json=payload, timeout=5)
        answer.raise_for_status()
        return answer.json()

    def state(self) -> dict:
        return self.http.get(self.url + "_sandbox/state", timeout=5).json()

    def sends(self, appid=None) -> list:
        return self.http.get(self.url + "_sandbox/sends", params={"appid": appid} if appid else {}, timeout=5).json()[
            "sends"
        ]

    def reset(self):
        return self._post("_sandbox/reset", {})

    def register_wechat(self, appid=WECHAT_APPID, secret=WECHAT_SECRET, **fields) -> dict:
        return self._post("_sandbox/accounts", {"appid": appid, "secret": secret, "followers": 1000, **fields})

    def register_weibo(self, access_token=WEIBO_TOKEN, safe_domain=SAFE_DOMAIN, **fields) -> dict:
        return self._post("_sandbox/weibo_apps", {"access_token": access_token, "safe_domain": safe_domain, **fields})

    def faults(self, **settings) -> dict:
        return self._post("_sandbox/faults", settings)

    def config(self, **settings) -> dict:
        return self._post("_sandbox/config", settings)

    def clock(self, offset_seconds=None, *, at: datetime | None = None) -> dict:
        """Move the sandbox clock by an offset from real time, or so that it reads `at` (aware) now."""
        if at is not None:
            offset_seconds = at.timestamp() - time.time()
        return self._post("_sandbox/clock", {"offset_seconds": offset_seconds})


@pytest.fixture(scope="session")
def sandbox_server():
    server = RunningServer(SandboxApp(**TEST_CONFIG))
    yield server
    server.stop()


@pytest.fixture
def sandbox(sandbox_server):
    control = Sandbox(sandbox_server.url)
    control.reset()
    return control


@pytest.fixture
def redis_client():
    return redis.Redis.from_url(settings.REDIS_URL)


@pytest.fixture
def wechat_session(redis_client):
    """wechatpy's RedisStorage under a prefix of this test's own, removed afterwards."""
    prefix = f"{wechat_api.SESSION_PREFIX}:test-{uuid.uuid4().hex}"
    yield wechat_api.redis_session(redis_client, prefix=prefix)
    for key in redis_client.scan_iter(match=f"{prefix}:*"):
        redis_client.delete(key)


@pytest.fixture
def wechat_client(sandbox, wechat_session):
    sandbox.register_wechat()
    return wechat_api.GovWeChatClient(WECHAT_APPID, WECHAT_SECRET, sandbox.url, wechat_session)


@pytest.fixture(autouse=True)
def no_cached_tokens():
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter(match="govcms:wechat*"):
        client.delete(key)


@pytest.fixture
def accounts(make_account, sandbox, settings):
    """Two WeChat accounts, a Weibo account and the portal, the platforms played by the sandbox."""
    settings.PORTAL_BASE_URL = "https://gov.example.cn"
    made = {
        "sub": make_account("示范县发布", api_base_url=sandbox.url),
        "svc": make_account("示范县服务", api_base_url=sandbox.url, wechat_account_type=WeChatAccountType.SERVICE),
        "weibo": make_account(
            "示范县微博", platform=Platform.WEIBO, api_base_url=sandbox.url, weibo_safe_domain="gov.example.cn"
        ),
        "portal": make_account("门户网站", platform=Platform.PORTAL),
    }
    for key in ("sub", "svc"):
        account = made[key]
        sandbox.register_wechat(appid=account.wechat_app_id, secret=account.wechat_app_secret,
                                type=account.wechat_account_type, token=account.wechat_token)  # fmt: skip
    sandbox.register_weibo(access_token=made["weibo"].weibo_access_token, safe_domain="gov.example.cn")
    return made
