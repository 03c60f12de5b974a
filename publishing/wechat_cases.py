"""Messages that need a person: a follower's text the answer library did not answer becomes a citizen
message in `complaints` (channel WeChat, the follower's openid as the contact), and the follower's further
messages join that case while it is open instead of opening new ones. The stored InboundMessage rows
pointing at a case (`case.wechat_messages`) are the conversation.

Runs in the storing task, after the follower got the acknowledgement: never on the reply path.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints.models import OPEN_STATES, Case, CaseChannel, CaseKind, CaseState
from publishing.models import InboundMessage, WeChatServiceMessage

logger = logging.getLogger(__name__)

SUBJECT_CHARACTERS = 30


def open_case_of(account_id: int, openid: str) -> Case | None:
    """The follower's open WeChat case with this account (openids are per account), or None."""
    return (
        Case.objects.filter(
            channel=CaseChannel.WECHAT,
            wechat_openid=openid,
            state__in=OPEN_STATES,
            wechat_messages__account_id=account_id,
        )
        .order_by("-received_at", "-id")
        .first()
    )


def case_for_message(message_id: int) -> Case | None:
    """The case the stored text message belongs to: the follower's open case, or a new one. Safe to run
    twice (the message keeps its case) and for two messages of one follower at once (the follower is
    locked while the case is looked up and created)."""
    from complaints.services import CONTENT_MAX, case_create

    with transaction.atomic():
        message = InboundMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None or not message.openid:
            return None
        if message.case_id is not None:
            return message.case
        _lock_follower(message.account_id, message.openid)
        case = open_case_of(message.account_id, message.openid)
        if case is None:
            text = " ".join((message.content or "").split())
            try:
                case, _code = case_create(
                    kind=CaseKind.INQUIRY,
                    subject=text[:SUBJECT_CHARACTERS] or _("WeChat message"),
                    content=(message.content or "").strip()[:CONTENT_MAX] or text,
                    name=_("WeChat follower"),
                    channel=CaseChannel.WECHAT,
                    wechat_openid=message.openid,
                    received_at=message.create_time or message.received_at,
                )
            except ValidationError:
                # An empty text: nothing for a person to answer.
                logger.info("WeChat message %s has no text for a citizen message", message.pk)
                return None
        message.case = case
        message.save(update_fields=["case"])
        return case


# -- the handler's reply back to the follower (message/custom/send) --------------------------------------

WINDOW_CLOSED, COUNT_USED_UP = 45015, 45047


def window_hours() -> int:
    return getattr(settings, "WECHAT_SERVICE_WINDOW_HOURS", 48)


def window_messages() -> int:
    return getattr(settings, "WECHAT_SERVICE_WINDOW_MESSAGES", 5)


def last_message_at(account_id: int, openid: str):
    """When the follower last wrote to the account (what opens WeChat's window), or None."""
    message = InboundMessage.objects.filter(account_id=account_id, openid=openid).order_by("-received_at").first()
    return message.received_at if message else None


def window_closes_at(account_id: int, openid: str):
    last = last_message_at(account_id, openid)
    return last + timedelta(hours=window_hours()) if last else None


def sent_in_window(account_id: int, openid: str, since) -> int:
    return WeChatServiceMessage.objects.filter(
        account_id=account_id, openid=openid, state=WeChatServiceMessage.State.SENT, sent_at__gte=since
    ).count()


def _why_waiting(code: int) -> str:
    if code == COUNT_USED_UP:
        return _(
            "WeChat refused (45047): %(count)d customer-service messages were already sent since the follower's "
            "last message. The reply is sent with the follower's next message."
        ) % {"count": window_messages()}
    return _(
        "WeChat refused (45015): the follower last wrote more than %(hours)d hours ago or has unfollowed. "
        "The reply stays on the tracking page and is sent with the follower's next message."
    ) % {"hours": window_hours()}


def reply_to_follower(case_id: int) -> WeChatServiceMessage | None:
    """Send the approved reply of a WeChat case to its follower, or record on the case why it waits.
    Safe to run again: a reply goes out at most once."""
    case = Case.objects.filter(pk=case_id, channel=CaseChannel.WECHAT).exclude(reply="").first()
    if case is None or case.state not in (CaseState.REPLIED, CaseState.CLOSED):
        return None
    first = case.wechat_messages.order_by("received_at").first()
    if first is None:
        return None
    service, _created = WeChatServiceMessage.objects.get_or_create(
        case=case, defaults={"account_id": first.account_id, "openid": first.openid, "content": case.reply}
    )
    return _try_send(service.pk)


def _try_send(service_id: int) -> WeChatServiceMessage | None:
    from publishing.channels import wechat_api
    from publishing.channels.wechat import WeChatChannel

    with transaction.atomic():
        service = WeChatServiceMessage.objects.select_for_update().select_related("account").get(pk=service_id)
        if service.state == WeChatServiceMessage.State.SENT:
            return service
        _lock_follower(service.account_id, service.openid)
        now = timezone.now()
        last = last_message_at(service.account_id, service.openid)
        if last is None or now - last > timedelta(hours=window_hours()):
            code = WINDOW_CLOSED
        elif sent_in_window(service.account_id, service.openid, last) >= window_messages():
            code = COUNT_USED_UP
        else:
            try:
                WeChatChannel(service.account).client().message.send_text(service.openid, service.content)
                code = 0
            except wechat_api.WeChatClientException as error:
                code = error.errcode
        if code == 0:
            service.state, service.sent_at, service.note = WeChatServiceMessage.State.SENT, now, ""
        elif code in (WINDOW_CLOSED, COUNT_USED_UP):
            service.state, service.note = WeChatServiceMessage.State.WAITING, _why_waiting(code)
        else:
            service.state, service.note = WeChatServiceMessage.State.FAILED, wechat_api.explain(code)
        service.save(update_fields=["state", "sent_at", "note"])
        return service


def send_waiting_replies(account_id: int, openid: str) -> int:
    """After the follower's next message: send the replies that waited for the window. Returns how many went."""
    waiting = WeChatServiceMessage.objects.filter(
        account_id=account_id, openid=openid, state=WeChatServiceMessage.State.WAITING
    ).order_by("created_at", "pk")
    sent = 0
    for service_id in waiting.values_list("pk", flat=True):
        service = _try_send(service_id)
        sent += service is not None and service.state == WeChatServiceMessage.State.SENT
    return sent


def send_approved_replies() -> int:
    """The sweep (Celery beat): approved replies of WeChat cases not yet handed to WeChat."""
    ids = (
        Case.objects.filter(channel=CaseChannel.WECHAT, state__in=(CaseState.REPLIED, CaseState.CLOSED))
        .exclude(reply="")
        .filter(wechat_reply__isnull=True, wechat_messages__isnull=False)
        .values_list("pk", flat=True)
        .distinct()
    )
    return sum(1 for case_id in list(ids[:500]) if reply_to_follower(case_id) is not None)


def _lock_follower(account_id: int, openid: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"wechat-follower:{account_id}:{openid}"])


def waiting_for_person(account_ids) -> dict[int, dict]:
    """Per account: the followers' messages in open citizen messages (no person's answer yet) and the oldest
    one's arrival, {account_id: {"count", "oldest"}}; accounts with none are absent. One query."""
    rows = (
        InboundMessage.objects.filter(account_id__in=list(account_ids), case__state__in=OPEN_STATES)
        .values("account_id")
        .annotate(count=Count("pk"), oldest=Min("received_at"))
    )
    return {row["account_id"]: {"count": row["count"], "oldest": row["oldest"]} for row in rows}
