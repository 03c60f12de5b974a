"""Messages that need a person: a follower's text the answer library did not answer becomes a citizen
message in `complaints` (channel WeChat, the follower's openid as the contact), and the follower's further
messages join that case while it is open instead of opening new ones. The stored InboundMessage rows
pointing at a case (`case.wechat_messages`) are the conversation.

Runs in the storing task, after the follower got the acknowledgement: never on the reply path.
"""

import logging

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _

from complaints.models import OPEN_STATES, Case, CaseChannel, CaseKind
from publishing.models import InboundMessage

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
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))", [f"wechat-follower:{message.account_id}:{message.openid}"]
            )
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
