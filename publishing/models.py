import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.fields import EncryptedTextField
from accounts.models import Department
from content.models import Article


class Platform(models.TextChoices):
    WECHAT = "wechat", _("WeChat Official Account")
    WEIBO = "weibo", _("Sina Weibo")
    PORTAL = "portal", _("Portal site")


class WeChatAccountType(models.TextChoices):
    SUBSCRIPTION = "subscription", _("Subscription account")
    SERVICE = "service", _("Service account")


class WeChatEncryptionMode(models.TextChoices):
    PLAINTEXT = "plaintext", _("Plaintext mode")
    COMPATIBLE = "compatible", _("Compatible mode")
    SAFE = "safe", _("Safe mode (AES)")


class ChannelAccount(models.Model):
    """One account on one platform. Secrets are encrypted at rest and never shown back."""

    name = models.CharField(_("name"), max_length=100)
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="channel_accounts"
    )
    is_active = models.BooleanField(_("active"), default=True)
    api_base_url = models.URLField(
        _("API base URL"),
        blank=True,
        help_text=_("Leave empty for the platform's official API; the demo points at the local sandbox."),
    )
    # WeChat
    wechat_app_id = EncryptedTextField(_("AppID"), blank=True, default="")
    wechat_app_secret = EncryptedTextField(_("AppSecret"), blank=True, default="")
    wechat_token = EncryptedTextField(_("callback Token"), blank=True, default="")
    wechat_aes_key = EncryptedTextField(_("EncodingAESKey"), blank=True, default="")
    # WeChat advises keeping the previous key while a rotation settles: pushes are decrypted with either.
    wechat_aes_key_previous = EncryptedTextField(_("previous EncodingAESKey"), blank=True, default="")
    wechat_encryption_mode = models.CharField(
        _("message encryption mode"),
        max_length=16,
        choices=WeChatEncryptionMode.choices,
        default=WeChatEncryptionMode.PLAINTEXT,
        help_text=_("As chosen on the WeChat platform; in safe mode unencrypted pushes are refused."),
    )
    wechat_welcome_text = models.TextField(
        _("welcome message"), blank=True, default="", help_text=_("Sent to a follower who has just followed.")
    )
    wechat_default_reply = models.TextField(
        _("default reply"), blank=True, default="", help_text=_("The answer when nothing else answers a message.")
    )
    wechat_acknowledgement = models.TextField(
        _("acknowledgement"),
        blank=True,
        default="您的留言已收到，工作人员将在48小时内回复。",
        help_text=_(
            "The answer to a text message the answer library does not know: it becomes a citizen message for a "
            "person to answer, so say when the office will reply."
        ),
    )
    wechat_account_type = models.CharField(
        _("account type"), max_length=16, choices=WeChatAccountType.choices, blank=True
    )
    wechat_verified = models.BooleanField(_("verified"), default=False)
    # Weibo
    weibo_app_key = EncryptedTextField(_("App Key"), blank=True, default="")
    weibo_app_secret = EncryptedTextField(_("App Secret"), blank=True, default="")
    weibo_access_token = EncryptedTextField(_("access token"), blank=True, default="")
    weibo_uid = models.CharField(_("Weibo UID"), max_length=32, blank=True)
    weibo_safe_domain = models.CharField(
        _("safe domain"),
        max_length=255,
        blank=True,
        help_text=_("The domain bound to the Weibo app, e.g. www.example.gov.cn"),
    )
    # When and how often this account may send (Asia/Shanghai).
    window_start = models.TimeField(_("send window from"), null=True, blank=True)
    window_end = models.TimeField(_("send window until"), null=True, blank=True)
    min_gap_minutes = models.PositiveIntegerField(_("minimum minutes between sends"), null=True, blank=True)

    class Meta:
        verbose_name = _("channel account")
        verbose_name_plural = _("channel accounts")
        ordering = ["platform", "name"]

    def __str__(self):
        return f"{self.get_platform_display()}：{self.name}"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        if self.platform == Platform.WECHAT:
            # The callback server holds the account's callback settings in each process's memory.
            from publishing.channels.wechat_listen import callback_settings_changed

            pk = self.pk
            transaction.on_commit(lambda: callback_settings_changed(pk))

    @property
    def base_url(self) -> str:
        official = {Platform.WECHAT: "https://api.weixin.qq.com/", Platform.WEIBO: "https://api.weibo.com/"}
        url = self.api_base_url or official.get(self.platform, "")
        return url if url.endswith("/") else url + "/"


class QuotaPeriod(models.TextChoices):
    HOUR = "hour", _("per hour")
    DAY = "day", _("per day")
    MONTH = "month", _("per month")


class QuotaRule(models.Model):
    """At most `limit` sends per calendar hour/day/month (Asia/Shanghai) for one account."""

    account = models.ForeignKey(ChannelAccount, on_delete=models.CASCADE, related_name="quota_rules")
    period = models.CharField(_("period"), max_length=8, choices=QuotaPeriod.choices)
    limit = models.PositiveIntegerField(_("limit"))

    class Meta:
        verbose_name = _("quota rule")
        verbose_name_plural = _("quota rules")
        constraints = [models.UniqueConstraint(fields=["account", "period"], name="quota_rule_once_per_period")]

    def __str__(self):
        return f"{self.limit} {self.get_period_display()}"


class Audience(models.TextChoices):
    ALL = "all", _("All followers")
    TAG = "tag", _("Followers with a WeChat tag")


class Schedule(models.Model):
    """A mass-send (群发计划): 1-8 articles, in order, to several accounts at one time."""

    title = models.CharField(_("title"), max_length=200, editable=False)
    send_at = models.DateTimeField(_("send at"), db_index=True)
    audience = models.CharField(_("audience"), max_length=8, choices=Audience.choices, default=Audience.ALL)
    wechat_tag_id = models.PositiveIntegerField(_("WeChat tag id"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("mass-send schedule")
        verbose_name_plural = _("mass-send schedules")
        ordering = ["-send_at"]

    def __str__(self):
        return self.title

    def ordered_articles(self) -> list[Article]:
        # The heavy text columns stay behind: senders read the approved revision, not the working copy.
        items = self.items.select_related("article").defer(
            "article__body", "article__search_text", "article__search_bigrams"
        )
        return [item.article for item in items.order_by("position")]

    def article_refs(self) -> list[Article]:
        """The articles in order, holding only what a sender needs to find the approved text (id,
        title, state, live revision): one narrow query, for bursts of thousands of deliveries."""
        rows = self.items.order_by("position").values_list(
            "article_id", "article__title", "article__state", "article__live_revision_id"
        )
        return [Article(pk=pk, title=title, state=state, live_revision_id=live) for pk, title, state, live in rows]


class ScheduleArticle(models.Model):
    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="items")
    article = models.ForeignKey(Article, verbose_name=_("article"), on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(_("position"))

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "position"], name="schedule_article_position_unique"),
            models.UniqueConstraint(fields=["schedule", "article"], name="schedule_article_once"),
        ]

    def __str__(self):
        return f"{self.position}. {self.article}"


class DeliveryState(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    RETRYING = "retrying", _("Waiting to retry")
    FAILED = "failed", _("Failed")
    # Final, like "failed", but the send may have reached the platform: its quota slot stays taken
    # and a person checks the account before anything is sent again.
    UNKNOWN = "unknown", _("May have been sent: check the account")
    CANCELLED = "cancelled", _("Cancelled")


class Delivery(models.Model):
    """One schedule to one account. The database is the schedule: `due_at` says when dispatch takes it."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="deliveries")
    account = models.ForeignKey(
        ChannelAccount, verbose_name=_("account"), on_delete=models.PROTECT, related_name="deliveries"
    )
    state = models.CharField(_("state"), max_length=16, choices=DeliveryState.choices, default=DeliveryState.SCHEDULED)
    due_at = models.DateTimeField(_("due at"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    queued_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # Set when a send may have reached the platform without us hearing back: ask before resending.
    needs_reconcile = models.BooleanField(default=False)
    # When an attempt first ended without a clear answer (or its lease ran out mid-send). From then
    # on the delivery is never recorded as "not sent": it ends as sent or unknown, its slot kept.
    uncertain_since = models.DateTimeField(null=True, blank=True)
    # Platform ids.
    platform_media_id = models.CharField(_("draft media id"), max_length=128, blank=True)
    platform_msg_id = models.CharField(_("message id"), max_length=64, blank=True, db_index=True)
    platform_msg_data_id = models.CharField(max_length=64, blank=True)
    platform_post_id = models.CharField(_("post id"), max_length=64, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    error_code = models.CharField(_("error code"), max_length=32, blank=True)
    error_message = models.TextField(_("error"), blank=True)  # Chinese, for the person who scheduled it
    error_detail = models.TextField(_("platform's answer"), blank=True)  # code and raw text, as the platform gave it
    # The platform's later report (WeChat MASSSENDJOBFINISH).
    report_status = models.CharField(_("report"), max_length=64, blank=True)
    total_count = models.PositiveIntegerField(_("followers targeted"), null=True, blank=True)
    filter_count = models.PositiveIntegerField(_("after filtering"), null=True, blank=True)
    sent_count = models.PositiveIntegerField(_("delivered"), null=True, blank=True)
    error_count = models.PositiveIntegerField(_("not delivered"), null=True, blank=True)
    report = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["due_at", "id"]
        constraints = [models.UniqueConstraint(fields=["schedule", "account"], name="delivery_once_per_account")]
        indexes = [
            models.Index(
                fields=["due_at"],
                name="delivery_due",
                condition=models.Q(state__in=["scheduled", "retrying"]),
            ),
            models.Index(fields=["lease_expires_at"], name="delivery_leased", condition=models.Q(state="sending")),
            models.Index(fields=["queued_at"], name="delivery_queued", condition=models.Q(state="queued")),
        ]

    def __str__(self):
        return gettext("delivery %(id)s") % {"id": self.pk}


class QuotaSlot(models.Model):
    """A reserved send: slot n of an account's quota in one calendar period.

    The unique constraint is the guarantee: whatever the concurrency, two deliveries never
    hold the same slot, so an account is never booked over its quota.
    """

    account = models.ForeignKey(ChannelAccount, on_delete=models.CASCADE, related_name="+")
    period = models.CharField(max_length=8, choices=QuotaPeriod.choices)
    period_key = models.CharField(max_length=16)  # "2026-11-26", "2026-11", "2026-11-26T09"
    slot = models.PositiveSmallIntegerField()
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="quota_slots")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "period", "period_key", "slot"], name="quota_slot_unique")
        ]

    def __str__(self):
        return f"{self.account_id} {self.period_key} #{self.slot}"


class WeChatMaterial(models.Model):
    """An image already uploaded to an account, so retries and later sends reuse it."""

    account = models.ForeignKey(ChannelAccount, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16)  # "thumb" (permanent material) or "body" (uploadimg URL)
    content_hash = models.CharField(max_length=64)
    media_id = models.CharField(max_length=128, blank=True)
    url = models.URLField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "kind", "content_hash"], name="wechat_material_once")]

    def __str__(self):
        return f"{self.account_id} {self.kind} {self.media_id or self.url}"


class MenuButtonType(models.TextChoices):
    # An empty type: a first-level item that only opens its second-level items.
    PARENT = "", _("Opens its sub-items")
    CLICK = "click", _("Click (sends a key to the server)")
    VIEW = "view", _("Open a web page")
    MINIPROGRAM = "miniprogram", _("Open a mini program")
    ARTICLE_ID = "article_id", _("Open a published article")


class WeChatMenu(models.Model):
    """The custom menu of one WeChat account as edited here, and the last copy pulled from WeChat."""

    account = models.OneToOneField(
        ChannelAccount,
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="wechat_menu",
        limit_choices_to={"platform": Platform.WECHAT},
    )
    pushed_at = models.DateTimeField(_("pushed to WeChat at"), null=True, blank=True, editable=False)
    remote_buttons = models.JSONField(_("menu on WeChat"), default=list, blank=True, editable=False)
    pulled_at = models.DateTimeField(_("pulled from WeChat at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("WeChat menu")
        verbose_name_plural = _("WeChat menus")

    def __str__(self):
        return str(self.account)


class WeChatMenuItem(models.Model):
    """One menu item: `group` is its first-level item (1-3), `position` 0 the first-level item itself and
    1-5 its second-level items, left to right and top to bottom as WeChat shows them."""

    menu = models.ForeignKey(WeChatMenu, on_delete=models.CASCADE, related_name="items")
    group = models.PositiveSmallIntegerField(_("first-level item"))
    position = models.PositiveSmallIntegerField(
        _("sub-item"), default=0, help_text=_("0: the first-level item itself; 1-5: its second-level items")
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("type"), max_length=16, choices=MenuButtonType.choices, blank=True)
    key = models.CharField(_("key"), max_length=500, blank=True)
    url = models.CharField(_("URL"), max_length=2000, blank=True)
    appid = models.CharField(_("mini program AppID"), max_length=64, blank=True)
    pagepath = models.CharField(_("mini program page"), max_length=500, blank=True)
    article_id = models.CharField(_("article id"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("menu item")
        verbose_name_plural = _("menu items")
        ordering = ["group", "position"]
        constraints = [models.UniqueConstraint(fields=["menu", "group", "position"], name="wechat_menu_item_place")]

    def __str__(self):
        return self.name


class WeChatTag(models.Model):
    """A follower tag of one account, as pulled from WeChat (tags/get): the audiences a mass-send may take."""

    account = models.ForeignKey(
        ChannelAccount, verbose_name=_("account"), on_delete=models.CASCADE, related_name="wechat_tags"
    )
    tag_id = models.PositiveIntegerField(_("WeChat tag id"))
    name = models.CharField(_("name"), max_length=100)
    follower_count = models.PositiveIntegerField(_("followers"), default=0)
    pulled_at = models.DateTimeField(_("pulled from WeChat at"))

    class Meta:
        verbose_name = _("WeChat tag")
        verbose_name_plural = _("WeChat tags")
        ordering = ["account", "tag_id"]
        constraints = [models.UniqueConstraint(fields=["account", "tag_id"], name="wechat_tag_once")]

    def __str__(self):
        return f"{self.name}（{self.follower_count}）"


class HealthLevel(models.TextChoices):
    OK = "ok", _("Healthy")
    WARNING = "warning", _("Warning")
    ALARM = "alarm", _("Alarm")


class AccountHealthNotice(models.Model):
    """An account's health notice of one Shanghai day: claimed by one run, then marked sent (in the database,
    so a Redis flush or a second beat never mails the department twice)."""

    account = models.ForeignKey(ChannelAccount, verbose_name=_("account"), on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("day"))
    level = models.CharField(_("level"), max_length=16, choices=HealthLevel.choices)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("account health notice")
        verbose_name_plural = _("account health notices")
        constraints = [models.UniqueConstraint(fields=["account", "day"], name="account_health_notice_once_a_day")]

    def __str__(self):
        return f"{self.day} {self.account_id}"


class InboundMessage(models.Model):
    """A message or event a follower (or WeChat) pushed to the account's callback URL, stored after the
    reply went out. `dedupe_key` makes a retried push land on the same row."""

    account = models.ForeignKey(ChannelAccount, on_delete=models.CASCADE, related_name="inbound_messages")
    openid = models.CharField(_("follower openid"), max_length=64)
    msg_type = models.CharField(_("message type"), max_length=32)
    event = models.CharField(_("event"), max_length=64, blank=True)
    event_key = models.CharField(_("event key"), max_length=1024, blank=True)
    content = models.TextField(_("content"), blank=True)
    msg_id = models.CharField(_("message id"), max_length=64, blank=True)
    create_time = models.DateTimeField(_("sent at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"))
    answered_automatically = models.BooleanField(_("answered automatically"), default=False)
    # The answer library entry that answered the message (no foreign key: an entry may be deleted later).
    library_entry_id = models.PositiveIntegerField(_("answer library entry"), null=True, blank=True)
    # The citizen message an unanswered text became or joined: the follower's conversation with a person.
    case = models.ForeignKey(
        "complaints.Case",
        verbose_name=_("citizen message"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="wechat_messages",
    )
    payload = models.JSONField(_("fields"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    dedupe_key = models.CharField(max_length=255)

    class Meta:
        verbose_name = _("received WeChat message")
        verbose_name_plural = _("received WeChat messages")
        ordering = ["-received_at"]
        constraints = [models.UniqueConstraint(fields=["account", "dedupe_key"], name="inbound_message_once_per_push")]
        indexes = [models.Index(fields=["account", "received_at"], name="inbound_account_received")]

    def __str__(self):
        return f"{self.openid} {self.msg_type} {self.event}".strip()


class WeChatDailyStats(models.Model):
    """One account's followers on one day (datacube getusersummary and getusercumulate). The row exists once
    WeChat has produced the day: the daily sweep fetches only the days still missing."""

    account = models.ForeignKey(
        ChannelAccount, verbose_name=_("account"), on_delete=models.CASCADE, related_name="wechat_daily_stats"
    )
    day = models.DateField(_("day"))
    new_followers = models.PositiveIntegerField(_("new followers"), default=0)
    lost_followers = models.PositiveIntegerField(_("unfollowed"), default=0)
    followers = models.PositiveIntegerField(_("followers"), default=0)
    fetched_at = models.DateTimeField(_("fetched at"))

    class Meta:
        verbose_name = _("WeChat daily statistics")
        verbose_name_plural = _("WeChat daily statistics")
        ordering = ["account", "day"]
        constraints = [models.UniqueConstraint(fields=["account", "day"], name="wechat_daily_stats_once")]

    def __str__(self):
        return f"{self.account_id} {self.day}"


class WeChatArticleStats(models.Model):
    """The reads and shares of one mass-sent article (datacube getarticletotal: totals up to the latest day
    fetched), and the days already asked for, per account, in `WeChatArticleStatsDay`."""

    account = models.ForeignKey(
        ChannelAccount, verbose_name=_("account"), on_delete=models.CASCADE, related_name="wechat_article_stats"
    )
    msgid = models.CharField(_("message id"), max_length=64)
    title = models.CharField(_("title"), max_length=200)
    sent_on = models.DateField(_("sent on"))
    readers = models.PositiveIntegerField(_("readers"), default=0)
    reads = models.PositiveIntegerField(_("reads"), default=0)
    sharers = models.PositiveIntegerField(_("sharers"), default=0)
    shares = models.PositiveIntegerField(_("shares"), default=0)
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("WeChat article statistics")
        verbose_name_plural = _("WeChat article statistics")
        ordering = ["account", "-sent_on", "msgid"]
        constraints = [models.UniqueConstraint(fields=["account", "msgid"], name="wechat_article_stats_once")]

    def __str__(self):
        return self.title


class WeChatArticleStatsDay(models.Model):
    """A day whose getarticletotal answer is stored for an account: the sweep does not ask for it again."""

    account = models.ForeignKey(ChannelAccount, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()

    class Meta:
        verbose_name = _("day of WeChat article statistics")
        verbose_name_plural = _("days of WeChat article statistics")
        constraints = [models.UniqueConstraint(fields=["account", "day"], name="wechat_article_stats_day_once")]

    def __str__(self):
        return f"{self.account_id} {self.day}"


class WeChatServiceMessage(models.Model):
    """A text to a WeChat citizen message's follower with the customer-service message API (message/custom/send),
    while WeChat's window is open (publishing/wechat_cases.py): each approved reply of the case (a reopened case
    gets a second one), and once per case the case number and query code. `waiting` until the window opens, with
    the reason for the case page.

    WeChat has no idempotency key for these messages, so a text goes out at most once: the attempt is recorded
    (`sending`) before the call, and an attempt without a clear answer becomes `possibly sent`, never a resend."""

    class Kind(models.TextChoices):
        REPLY = "reply", _("approved reply")
        CODE_NOTICE = "code_notice", _("case number and query code")

    class State(models.TextChoices):
        WAITING = "waiting", _("waiting for the follower's next message")
        SENDING = "sending", _("being sent")
        RETRYING = "retrying", _("to be tried again")
        SENT = "sent", _("Sent")
        POSSIBLY_SENT = "possibly_sent", _("possibly sent")
        FAILED = "failed", _("Failed")

    account = models.ForeignKey(ChannelAccount, on_delete=models.CASCADE, related_name="service_messages")
    openid = models.CharField(_("follower openid"), max_length=64)
    case = models.ForeignKey(
        "complaints.Case",
        verbose_name=_("citizen message"),
        on_delete=models.CASCADE,
        related_name="wechat_service_messages",
    )
    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices, default=Kind.REPLY)
    # The approved reply this message carries (None for the code notice, and for replies approved before drafts).
    draft = models.ForeignKey(
        "complaints.ReplyDraft",
        verbose_name=_("reply draft"),
        null=True,
        blank=True,
        on_delete=models.RESTRICT,
        related_name="+",
    )
    # The code notice's query code is replaced by asterisks: the case keeps only the code's keyed hash.
    content = models.TextField(_("content"))
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.WAITING)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    attempted_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    # Tries WeChat refused for a passing reason (busy, rate limit, unreachable): bounded by a setting.
    transient_failures = models.PositiveSmallIntegerField(_("passing failures"), default=0)
    retry_at = models.DateTimeField(_("next try"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("WeChat customer-service message")
        verbose_name_plural = _("WeChat customer-service messages")
        indexes = [
            models.Index(fields=["account", "openid", "sent_at"], name="service_message_window"),
            models.Index(
                fields=["state", "retry_at"],
                condition=models.Q(state__in=["sending", "retrying"]),
                name="service_message_unsettled",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "draft"], condition=models.Q(draft__isnull=False), name="service_message_per_reply"
            ),
            # One code notice per case; one reply per case among replies approved without a draft.
            models.UniqueConstraint(
                fields=["case", "kind"], condition=models.Q(draft__isnull=True), name="service_message_per_case_kind"
            ),
        ]

    def __str__(self):
        return f"{self.openid} {self.state}"
