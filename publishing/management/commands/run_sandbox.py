import os
import threading
import time

import requests
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.urls import reverse

from publishing.models import ChannelAccount, Platform
from publishing.sandbox import serve

SYNC_SECONDS = 10


def sandbox_accounts(sandbox_url: str) -> tuple[list[dict], list[dict]]:
    """The WeChat and Weibo accounts configured to use this sandbox, as its control API wants them."""
    wechat, weibo = [], []
    for account in ChannelAccount.objects.filter(is_active=True, platform__in=[Platform.WECHAT, Platform.WEIBO]):
        if account.base_url.rstrip("/") != sandbox_url.rstrip("/"):
            continue
        if account.platform == Platform.WECHAT:
            wechat.append(
                {
                    "appid": account.wechat_app_id,
                    "secret": account.wechat_app_secret,
                    "type": account.wechat_account_type,
                    "token": account.wechat_token,
                    "callback_url": settings.PORTAL_BASE_URL.rstrip("/") + reverse("wechat_listen", args=[account.pk]),
                    "followers": 12_000,
                    # Follower tags for the schedule's audience (pulled with tags/get).
                    "tags": {"100": 3_200, "101": 850},
                    "tag_names": {"100": "城关镇居民", "101": "企业服务"},
                }
            )
        else:
            weibo.append({"access_token": account.weibo_access_token, "safe_domain": account.weibo_safe_domain,
                          "uid": account.weibo_uid})  # fmt: skip
    return wechat, weibo


class Command(BaseCommand):
    help = (
        "Run the local WeChat/Weibo API sandbox (the demo's and the tests' stand-in for the platforms). "
        "Accounts whose API base URL is this sandbox are registered with it, and kept in step every few seconds."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=int(os.environ.get("SANDBOX_PORT", "8100")))
        parser.add_argument("--state-file", help="load the state from this file and save it after each change")
        parser.add_argument("--verbose", action="store_true", help="log every request")
        parser.add_argument("--no-sync", action="store_true", help="do not register the database's accounts")

    def handle(self, *args, host, port, state_file, verbose, no_sync, **options):
        url = f"http://{host}:{port}/"
        if not no_sync:
            threading.Thread(target=self._sync_forever, args=(url,), daemon=True).start()
        serve(host, port, state_file=state_file, verbose=verbose,
              announce=lambda where: self.stdout.write(f"WeChat/Weibo sandbox listening on {where}"))  # fmt: skip

    def _sync_forever(self, url: str) -> None:
        while True:
            try:
                close_old_connections()
                wechat, weibo = sandbox_accounts(url)
                for account in wechat:
                    requests.post(url + "_sandbox/accounts", json=account, timeout=5)
                for app in weibo:
                    requests.post(url + "_sandbox/weibo_apps", json=app, timeout=5)
            except Exception as error:  # noqa: BLE001 - the demo keeps running; the next round tries again
                self.stderr.write(f"sandbox account sync: {error}")
            time.sleep(SYNC_SECONDS)
