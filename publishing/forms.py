from datetime import datetime
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.scoping import scope_to_department
from content.models import Article, ArticleState
from publishing import wechat_tags
from publishing.channels.wechat_listen import aes_key_problem
from publishing.models import Audience, ChannelAccount, Platform, QuotaRule, WeChatEncryptionMode
from publishing.quota import SHANGHAI, default_rules

SECRET_FIELDS = ["wechat_app_id", "wechat_app_secret", "wechat_token", "wechat_aes_key", "wechat_aes_key_previous",
                 "weibo_app_key", "weibo_app_secret", "weibo_access_token"]  # fmt: skip

# The platforms' own API hosts (HTTPS only). WeChat documents api.weixin.qq.com and its
# alternates: api2 (disaster recovery) and the regional sh./sz./hk. hosts.
OFFICIAL_API_HOSTS = {
    Platform.WECHAT: {"api.weixin.qq.com", "api2.weixin.qq.com", "sh.api.weixin.qq.com", "sz.api.weixin.qq.com",
                      "hk.api.weixin.qq.com"},
    Platform.WEIBO: {"api.weibo.com"},
}  # fmt: skip
# What the platform is sent with every call: re-typed whenever the address or the app it belongs to changes.
SENT_SECRETS = {Platform.WECHAT: ["wechat_app_secret"], Platform.WEIBO: ["weibo_access_token", "weibo_app_secret"]}
# The app a secret belongs to: a new app id, like a new address, is a new destination.
APP_ID_FIELDS = {Platform.WECHAT: "wechat_app_id", Platform.WEIBO: "weibo_app_key"}


def _host_and_port(url: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(url)
        return parts.scheme, (parts.hostname or "").lower(), parts.port
    except ValueError:
        return None


def api_base_url_allowed(platform: str, url: str) -> bool:
    """Whether secrets may be sent to `url`: the platform's official hosts over HTTPS, the configured
    sandbox, or a host named in PUBLISHING_EXTRA_API_HOSTS (host or host:port)."""
    if not url:
        return True
    target = _host_and_port(url)
    if target is None or not target[1]:
        return False
    scheme, host, port = target
    if scheme == "https" and port in (None, 443) and host in OFFICIAL_API_HOSTS.get(platform, set()):
        return True
    sandbox = _host_and_port(settings.SANDBOX_URL)
    if sandbox is not None and sandbox[1] and (scheme, host, port) == sandbox:
        return True
    extra = {entry.lower() for entry in settings.PUBLISHING_EXTRA_API_HOSTS}
    return host in extra or (port is not None and f"{host}:{port}" in extra)


class ChannelAccountForm(forms.ModelForm):
    """Secrets are write-only: the form never sends a stored value back; empty means "keep"."""

    api_base_url = forms.URLField(
        label=_("API base URL"),
        required=False,
        assume_scheme="https",
        help_text=_("Leave empty for the platform's official API; the demo points at the local sandbox."),
    )

    class Meta:
        model = ChannelAccount
        fields = [
            "name", "platform", "department", "is_active", "api_base_url",
            "wechat_account_type", "wechat_verified", *SECRET_FIELDS, "wechat_encryption_mode",
            "wechat_welcome_text", "wechat_default_reply", "wechat_acknowledgement", "weibo_uid", "weibo_safe_domain",
            "window_start", "window_end", "min_gap_minutes",
        ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "wechat_encryption_mode" in self.fields:
            self.fields["wechat_encryption_mode"].required = False
        for name in SECRET_FIELDS:
            if name not in self.fields:
                # A view-only page builds the form without them (the admin shows them read-only instead).
                continue
            stored = bool(getattr(self.instance, name, ""))
            self.fields[name] = forms.CharField(
                label=self.fields[name].label,
                required=False,
                widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
                help_text=_("Stored; not shown. Type a new value to replace it.") if stored else "",
            )
            self.initial[name] = ""

    def clean(self):
        cleaned = super().clean()
        if "wechat_encryption_mode" in self.fields and not cleaned.get("wechat_encryption_mode"):
            # Weibo accounts and forms written before the field existed: keep what is stored.
            cleaned["wechat_encryption_mode"] = self.instance.wechat_encryption_mode or WeChatEncryptionMode.PLAINTEXT
        typed = {name for name in SECRET_FIELDS if cleaned.get(name)}
        for name in SECRET_FIELDS:
            if not cleaned.get(name):
                cleaned[name] = getattr(self.instance, name, "") or ""
        platform = cleaned.get("platform")
        if "api_base_url" in cleaned and not api_base_url_allowed(platform, cleaned["api_base_url"]):
            self.add_error(
                "api_base_url",
                _(
                    "Only the platform's official API address (HTTPS) or the configured sandbox may be used; "
                    "other addresses must be allowed in PUBLISHING_EXTRA_API_HOSTS."
                ),
            )
        if platform == Platform.WECHAT:
            self._check_aes_keys(cleaned, typed)
            if not cleaned.get("wechat_account_type"):
                self.add_error("wechat_account_type", _("Choose whether this is a subscription or a service account."))
            if not (cleaned.get("wechat_app_id") and cleaned.get("wechat_app_secret")):
                self.add_error("wechat_app_secret", _("A WeChat account needs its AppID and AppSecret."))
        if platform == Platform.WEIBO and not cleaned.get("weibo_access_token"):
            self.add_error("weibo_access_token", _("A Weibo account needs an access token."))
        if bool(cleaned.get("window_start")) != bool(cleaned.get("window_end")):
            self.add_error("window_end", _("Give both ends of the send window, or neither."))
        self._require_secrets_for_new_destination(cleaned, platform, typed)
        return cleaned

    def _check_aes_keys(self, cleaned, typed):
        """A malformed EncodingAESKey is refused here, in Chinese, rather than by wechatpy's assert on the
        first encrypted push; safe and compatible mode need a key."""
        for name in ("wechat_aes_key", "wechat_aes_key_previous"):
            problem = aes_key_problem(cleaned.get(name, "")) if name in typed else None
            if problem:
                self.add_error(name, problem)
        mode = cleaned.get("wechat_encryption_mode")
        if mode in (WeChatEncryptionMode.SAFE, WeChatEncryptionMode.COMPATIBLE) and not cleaned.get("wechat_aes_key"):
            self.add_error("wechat_aes_key", _("Compatible and safe mode need the account's EncodingAESKey."))

    def _require_secrets_for_new_destination(self, cleaned, platform, typed):
        """A stored secret is never sent somewhere new: when the address or the app id changes, every
        secret the platform is sent must be typed again."""
        account = self.instance
        if account.pk is None or platform not in SENT_SECRETS:
            return
        before = ChannelAccount(platform=account.platform, api_base_url=account.api_base_url).base_url
        after = ChannelAccount(platform=platform, api_base_url=cleaned.get("api_base_url", account.api_base_url))
        app_field = APP_ID_FIELDS[platform]
        moved = (
            platform != account.platform
            or before != after.base_url
            or (app_field in typed and cleaned[app_field] != getattr(account, app_field))
        )
        if not moved:
            return
        for name in SENT_SECRETS[platform]:
            if name not in typed and getattr(account, name):
                self.add_error(
                    name,
                    _(
                        "The API address or the app ID changed: type this secret again. "
                        "A stored secret is never sent to a new address."
                    ),
                )

    @property
    def changed_data(self):
        # A secret counts as changed only when a new value was typed.
        return [n for n in super().changed_data if n not in SECRET_FIELDS or self.data.get(self.add_prefix(n))]


class QuotaRuleInlineForm(forms.ModelForm):
    class Meta:
        model = QuotaRule
        fields = ["period", "limit"]

    def clean(self):
        cleaned = super().clean()
        account = self.instance.account if self.instance.account_id else None
        if account is not None and cleaned.get("period") and cleaned.get("limit") is not None:
            ceiling = default_rules(account).get(cleaned["period"])
            if ceiling is not None and cleaned["limit"] > ceiling:
                raise ValidationError(
                    _("The platform allows at most %(limit)d here; a rule can only be stricter.") % {"limit": ceiling}
                )
        return cleaned


# The browser's own picker (<input type="datetime-local">) sends "2026-12-04T09:30"; where it shows a plain
# text box the person types what the hint says, with a space or a "T", seconds optional.
SEND_AT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


class SendAtField(forms.DateTimeField):
    """A moment in Beijing time (Asia/Shanghai), whatever zone the server or the browser is in."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local", "step": 60}, format="%Y-%m-%dT%H:%M")
    default_error_messages = {
        "invalid": _("Give the time as year-month-day hour:minute in Beijing time, e.g. 2026-12-04 09:30."),
        "required": _("Choose when to send."),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", SEND_AT_FORMATS)
        kwargs.setdefault("help_text", _("Beijing time. Format: 2026-12-04 09:30 (year-month-day hour:minute)."))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, datetime) and timezone.is_aware(value):
            value = value.astimezone(SHANGHAI).replace(tzinfo=None)
        return super().prepare_value(value)

    def to_python(self, value):
        result = super().to_python(value)
        if result is not None:
            # Parsed in the current zone; the county's clock is Beijing time whatever that is.
            result = timezone.make_aware(timezone.make_naive(result), SHANGHAI)
        return result


class ScheduleForm(forms.Form):
    """1-8 approved articles in order (the first is the headline), a time, accounts and an audience."""

    send_at = SendAtField(label=_("send at"))
    accounts = forms.ModelMultipleChoiceField(
        label=_("accounts"), queryset=ChannelAccount.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    audience = forms.ChoiceField(label=_("audience"), choices=Audience.choices, initial=Audience.ALL)
    wechat_tag_id = forms.IntegerField(label=_("WeChat tag id"), required=False, min_value=1)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Each account's rules are read for the quota shown beside it: once for all of them.
        accounts = ChannelAccount.objects.filter(is_active=True).prefetch_related("quota_rules")
        self.fields["accounts"].queryset = scope_to_department(accounts, user)
        # The follower tags pulled from WeChat (publishing/wechat_tags.py) are offered by name.
        tags = wechat_tags.tag_choices(self.fields["accounts"].queryset.filter(platform=Platform.WECHAT))
        if tags:
            self.fields["wechat_tag_id"].widget = forms.Select(choices=[("", "---------"), *tags])
        articles = scope_to_department(
            Article.objects.filter(state__in=[ArticleState.APPROVED, ArticleState.PUBLISHED]).order_by("-updated_at"),
            user,
        )
        for n in range(1, 9):
            self.fields[f"article_{n}"] = forms.ModelChoiceField(
                label=_("Headline article") if n == 1 else _("Article %(n)d") % {"n": n},
                queryset=articles,
                required=n == 1,
            )

    def articles(self) -> list[Article]:
        chosen = [self.cleaned_data.get(f"article_{n}") for n in range(1, 9)]
        return [article for article in chosen if article]

    def clean(self):
        cleaned = super().clean()
        picked = self.articles()
        if len({article.pk for article in picked}) != len(picked):
            raise ValidationError(_("Each article can appear only once in a mass-send."))
        if cleaned.get("audience") == Audience.TAG and not cleaned.get("wechat_tag_id"):
            self.add_error("wechat_tag_id", _("Give the WeChat tag id to send to."))
        if cleaned.get("audience") == Audience.TAG and cleaned.get("wechat_tag_id"):
            for account in wechat_tags.accounts_without_tag(cleaned.get("accounts") or [], cleaned["wechat_tag_id"]):
                self.add_error(
                    "wechat_tag_id",
                    _("%(account)s has no follower tag %(id)s (pull the tags from WeChat again if it is new).")
                    % {"account": account.name, "id": cleaned["wechat_tag_id"]},
                )
        return cleaned


class RescheduleForm(forms.Form):
    send_at = SendAtField(label=_("new send time"))
