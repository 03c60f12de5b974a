"""Demo channel accounts, all pointing at the local sandbox, and one upcoming mass-send."""

from datetime import datetime, time, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

from accounts.models import User
from content.models import Article, ArticleState
from publishing.models import (
    ChannelAccount,
    Platform,
    Schedule,
    WeChatAccountType,
    WeChatEncryptionMode,
    WeChatMenu,
    WeChatMenuItem,
)
from publishing.quota import SHANGHAI, ensure_default_rules
from publishing.services import schedule_create

DEMO_AES_KEY = "demoEncodingAESKey0000000000000000000000000"  # 43 characters: 32 bytes
WECHAT_ANSWERS = {
    "wechat_welcome_text": "欢迎关注！发送您想咨询的问题，我们会尽快答复。",
    "wechat_default_reply": "您的留言已收到，工作人员将在48小时内回复。",
}


def seed(departments) -> int:
    office = departments["county-office"]
    sandbox = settings.SANDBOX_URL
    specs = [
        ("示范县发布", Platform.WECHAT, {"wechat_account_type": WeChatAccountType.SUBSCRIPTION,
                                        "wechat_app_id": "wxdemo0000000001", "wechat_app_secret": "demo-secret-1",
                                        **WECHAT_ANSWERS}),
        ("示范县政务服务", Platform.WECHAT, {"wechat_account_type": WeChatAccountType.SERVICE, "wechat_verified": True,
                                          "wechat_app_id": "wxdemo0000000002", "wechat_app_secret": "demo-secret-2",
                                          # Safe mode: the sandbox's follower sends AES-encrypted messages.
                                          "wechat_encryption_mode": WeChatEncryptionMode.SAFE,
                                          "wechat_aes_key": DEMO_AES_KEY, **WECHAT_ANSWERS}),
        ("示范县微博", Platform.WEIBO, {"weibo_access_token": "2.00demo-weibo-token", "weibo_uid": "1001",
                                       "weibo_safe_domain": urlsplit(settings.PORTAL_BASE_URL).hostname or ""}),
        ("示范县人民政府网站", Platform.PORTAL, {}),
    ]  # fmt: skip
    accounts = []
    for name, platform, fields in specs:
        account, created = ChannelAccount.objects.get_or_create(
            name=name,
            platform=platform,
            defaults={"department": office, "api_base_url": sandbox if platform != Platform.PORTAL else "",
                      "wechat_token": "demo-callback-token" if platform == Platform.WECHAT else "", **fields},
        )  # fmt: skip
        ensure_default_rules(account)
        accounts.append(account)
    _seed_menu(accounts[0])
    if not Schedule.objects.exists():
        approved = list(Article.objects.filter(state=ArticleState.APPROVED).order_by("pk")[:2])
        if approved:
            tomorrow = timezone.localdate() + timedelta(days=1)
            schedule_create(
                actor=User.objects.get(username="editor"),
                schedule=Schedule(send_at=datetime.combine(tomorrow, time(9), tzinfo=SHANGHAI)),
                articles=approved,
                accounts=accounts,
            )
    return len(accounts)


DEMO_MENU = [
    {"group": 1, "position": 0, "name": "政务公开", "kind": "view", "url": "/"},
    {"group": 2, "position": 0, "name": "办事服务"},
    {"group": 2, "position": 1, "name": "办事指南", "kind": "click", "key": "GUIDE"},
    {"group": 2, "position": 2, "name": "我要咨询", "kind": "view", "url": "/complaints/new/"},
    {"group": 3, "position": 0, "name": "联系我们", "kind": "click", "key": "CONTACT"},
]


def _seed_menu(account) -> None:
    """A valid menu for the first WeChat account, ready to push from the menu editor."""
    menu, created = WeChatMenu.objects.get_or_create(account=account)
    if created:
        base = settings.PORTAL_BASE_URL.rstrip("/")
        WeChatMenuItem.objects.bulk_create(
            WeChatMenuItem(menu=menu, **{**item, "url": base + item["url"] if "url" in item else ""})
            for item in DEMO_MENU
        )
