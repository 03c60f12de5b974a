"""Demo channel accounts, all pointing at the local sandbox, one upcoming mass-send, and followers' messages of
the last days for the answer library's statistics."""

from datetime import datetime, time, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

from accounts.models import User
from answers.models import AnswerEntry
from content.models import Article, ArticleState
from publishing.models import (
    ChannelAccount,
    Platform,
    Schedule,
    WeChatAccountType,
    WeChatEncryptionMode,
    WeChatMenu,
    WeChatMenuItem,
    WeChatServiceMessage,
)
from publishing.quota import SHANGHAI, ensure_default_rules
from publishing.services import inbound_message_store, schedule_create

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


# Followers' messages of the last days: (days ago, hour in Beijing, account, follower, type, text, answering entry's
# question). A text no entry answers becomes a citizen message, as the callback's storing task makes it.
DEMO_MESSAGES = [
    (9, 9, 0, 1, "text", "居住证怎么办理", "办理居住证需要什么材料"),
    (9, 10, 0, 2, "text", "怎么办理社保？", None),
    (8, 21, 1, 3, "event", "subscribe", None),
    (8, 21, 1, 3, "text", "你好", "你好"),
    (7, 15, 0, 4, "text", " 怎么办理社保 ", None),
    (6, 11, 1, 5, "text", "身份证丢了怎么补办？", "身份证丢了怎么补办"),
    (5, 16, 0, 6, "text", "小区路灯坏了好几天了，请尽快修理", None),
    (4, 8, 0, 7, "image", "https://mmbiz.qpic.cn/demo/1.jpg", None),
    (3, 14, 1, 8, "text", "公积金怎么提取", None),
    (3, 20, 0, 9, "text", "今年招生什么时候报名", "中小学招生报名时间"),
    (2, 10, 1, 10, "text", "怎么办理社保。", None),
    (1, 9, 1, 11, "text", "公积金怎么提取？", None),
    (1, 23, 0, 12, "text", "政府办电话多少", "政府办公电话"),
    (0, 8, 0, 13, "text", "户口迁移要带什么", "户口迁移怎么办理"),
]


def seed_messages() -> int:
    """The demo WeChat accounts' followers' messages (after the answer library's demo, whose entries answer some
    of them). Stored once: each keeps its dedupe key, so seeding again adds nothing."""
    names = ("示范县发布", "示范县政务服务")
    accounts = dict(ChannelAccount.objects.filter(platform=Platform.WECHAT, name__in=names).values_list("name", "pk"))
    if len(accounts) < len(names):
        return 0
    entries = dict(AnswerEntry.objects.values_list("question", "pk"))
    today = timezone.localdate(timezone.now(), SHANGHAI)
    for number, (days_ago, hour, account, follower, msg_type, text, question) in enumerate(DEMO_MESSAGES, start=1):
        at = datetime.combine(today - timedelta(days=days_ago), time(hour), tzinfo=SHANGHAI)
        at = min(at, timezone.now() - timedelta(minutes=number))
        fields = {"ToUserName": "gh_demo", "FromUserName": f"oDemoFollower{follower:015d}",
                  "CreateTime": str(int(at.timestamp())), "MsgType": msg_type}  # fmt: skip
        if msg_type == "event":
            fields["Event"] = text
        else:
            fields.update({"MsgId": str(9_000_000 + number), "PicUrl" if msg_type == "image" else "Content": text})
        entry_id = entries.get(question) if question else None
        inbound_message_store(account_id=accounts[names[account]], fields=fields, dedupe_key=f"demo:{number}",
                              received_at=at, answered_automatically=entry_id is not None,
                              library_entry_id=entry_id)  # fmt: skip
    # Those followers got their case number and query code when they wrote; the seeding, days later and with no
    # WeChat to reach, could only record the notices as failed.
    notices = WeChatServiceMessage.objects.filter(
        kind=WeChatServiceMessage.Kind.CODE_NOTICE, account_id__in=accounts.values()
    ).exclude(state=WeChatServiceMessage.State.SENT)
    for notice in notices.select_related("case"):
        notice.state, notice.note = WeChatServiceMessage.State.SENT, ""
        notice.attempted_at = notice.sent_at = notice.case.received_at
        notice.save(update_fields=["state", "note", "attempted_at", "sent_at"])
    return len(DEMO_MESSAGES)
