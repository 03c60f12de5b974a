"""An account's follower tags, pulled from WeChat (tags/get) through the wechat channel's client and kept per
account: the audiences a mass-send may choose (the send path puts the tag id in sendall's filter)."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from publishing.channels import wechat_api
from publishing.models import WeChatTag

MAX_TAGS = 100  # WeChat's limit per account (45056 beyond)
RESERVED_IDS = frozenset({0, 1, 2})  # WeChat's own groups (2: 星标组), not audiences of ours


class TagsUnavailable(Exception):
    """WeChat did not give the tags; the message says why, in Chinese."""


def tags_pull(*, account) -> int:
    """Replace the account's stored tags with WeChat's (reserved ids left out, at most MAX_TAGS); returns how
    many are stored. Raises TagsUnavailable when WeChat cannot be asked; the stored tags stay as they were."""
    from publishing.channels.wechat import WeChatChannel

    try:
        tags = WeChatChannel(account).client().tag.get()
    except wechat_api.WeChatAPIError as error:
        raise TagsUnavailable(
            _("%(account)s: the tags could not be pulled. %(reason)s")
            % {"account": account, "reason": wechat_api.explain(error.code)}
        ) from error
    now = timezone.now()
    rows = [
        WeChatTag(
            account=account,
            tag_id=int(tag["id"]),
            name=str(tag.get("name", ""))[:100],
            follower_count=max(int(tag.get("count", 0)), 0),
            pulled_at=now,
        )  # fmt: skip
        for tag in tags or []
        if int(tag["id"]) not in RESERVED_IDS
    ][:MAX_TAGS]
    with transaction.atomic():
        WeChatTag.objects.filter(account=account).exclude(tag_id__in=[row.tag_id for row in rows]).delete()
        WeChatTag.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["account", "tag_id"],
            update_fields=["name", "follower_count", "pulled_at"],
        )
    return len(rows)


def tag_choices(accounts) -> list[tuple[int, str]]:
    """(tag id, "account: name (followers)") for the stored tags of these accounts, for the schedule's audience."""
    tags = WeChatTag.objects.filter(account__in=accounts).select_related("account").order_by("account__name", "tag_id")
    return [
        (tag.tag_id, _("%(account)s: %(name)s (%(count)s followers, id %(id)s)")
        % {"account": tag.account.name, "name": tag.name, "count": tag.follower_count, "id": tag.tag_id})
        for tag in tags
    ]  # fmt: skip


def accounts_without_tag(accounts, tag_id: int) -> list:
    """The WeChat accounts among `accounts` whose pulled tags do not include `tag_id`. Accounts whose tags were
    never pulled are not judged here (WeChat itself refuses an unknown tag with 45159 at send time)."""
    wechat = [account for account in accounts if account.platform == "wechat"]
    pulled = set(WeChatTag.objects.filter(account__in=wechat).values_list("account_id", flat=True))
    having = set(WeChatTag.objects.filter(account__in=wechat, tag_id=tag_id).values_list("account_id", flat=True))
    return [account for account in wechat if account.pk in pulled and account.pk not in having]
