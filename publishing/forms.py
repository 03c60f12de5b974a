from django import forms
from django.contrib.admin import widgets as admin_widgets
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.scoping import scope_to_department
from content.models import Article, ArticleState
from publishing.models import Audience, ChannelAccount, Platform, QuotaRule
from publishing.quota import default_rules

SECRET_FIELDS = ["wechat_app_id", "wechat_app_secret", "wechat_token", "wechat_aes_key",
                 "weibo_app_key", "weibo_app_secret", "weibo_access_token"]  # fmt: skip


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
            "wechat_account_type", "wechat_verified", *SECRET_FIELDS, "weibo_uid", "weibo_safe_domain",
            "window_start", "window_end", "min_gap_minutes",
        ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in SECRET_FIELDS:
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
        for name in SECRET_FIELDS:
            if not cleaned.get(name):
                cleaned[name] = getattr(self.instance, name, "") or ""
        platform = cleaned.get("platform")
        if platform == Platform.WECHAT:
            if not cleaned.get("wechat_account_type"):
                self.add_error("wechat_account_type", _("Choose whether this is a subscription or a service account."))
            if not (cleaned.get("wechat_app_id") and cleaned.get("wechat_app_secret")):
                self.add_error("wechat_app_secret", _("A WeChat account needs its AppID and AppSecret."))
        if platform == Platform.WEIBO and not cleaned.get("weibo_access_token"):
            self.add_error("weibo_access_token", _("A Weibo account needs an access token."))
        if bool(cleaned.get("window_start")) != bool(cleaned.get("window_end")):
            self.add_error("window_end", _("Give both ends of the send window, or neither."))
        return cleaned

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


class ScheduleForm(forms.Form):
    """1-8 approved articles in order (the first is the headline), a time, accounts and an audience."""

    send_at = forms.SplitDateTimeField(label=_("send at"), widget=admin_widgets.AdminSplitDateTime)
    accounts = forms.ModelMultipleChoiceField(
        label=_("accounts"), queryset=ChannelAccount.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    audience = forms.ChoiceField(label=_("audience"), choices=Audience.choices, initial=Audience.ALL)
    wechat_tag_id = forms.IntegerField(label=_("WeChat tag id"), required=False, min_value=1)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["accounts"].queryset = scope_to_department(ChannelAccount.objects.filter(is_active=True), user)
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
        return cleaned


class RescheduleForm(forms.Form):
    send_at = forms.SplitDateTimeField(label=_("new send time"), widget=admin_widgets.AdminSplitDateTime)
