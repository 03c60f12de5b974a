"""Messages that need a person: a follower's text the answer library did not answer becomes a citizen
message in `complaints` (channel WeChat, the follower's openid as the contact), and the follower's further
messages join that case while it is open instead of opening new ones. The stored InboundMessage rows
pointing at a case (`case.wechat_messages`) are the conversation.

Runs in the storing task, after the follower got the acknowledgement: never on the reply path.
"""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from complaints.models import OPEN_STATES, Case, CaseChannel, CaseKind, CaseState, ReplyDraft
from complaints.wechat_window import last_message_at, waiting_per_account, window_closes_at, window_hours
from publishing.channels import wechat_api
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
    locked while the case is looked up and created).

    A new case's number and query code go to the follower as a customer-service message, once: the code exists
    only in this run (the case keeps its keyed hash), and the attempt is recorded with the case, in the same
    transaction, before the send. A run repeated after a lost worker finds the case and sends nothing."""
    from complaints.services import CONTENT_MAX, case_create

    notice = None
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
                case, code = case_create(
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
            notice = _code_notice_recorded(case, message, code)
        message.case = case
        message.save(update_fields=["case"])
    if notice is not None:
        _send_code_notice(*notice)
    return case


# -- customer-service messages to the follower (message/custom/send) --------------------------------------

WINDOW_CLOSED, COUNT_USED_UP = wechat_api.SERVICE_WINDOW_CLOSED, wechat_api.SERVICE_COUNT_USED_UP
SYSTEM_BUSY = -1
State, Kind = WeChatServiceMessage.State, WeChatServiceMessage.Kind
# Attempts WeChat may have taken (counted in the window from attempted_at; a sent message from sent_at).
UNSETTLED = (State.SENDING, State.POSSIBLY_SENT)
# An attempt still `sending` after this long lost its worker (a call takes at most about a minute).
SENDING_LEASE = timedelta(minutes=5)
CODE_NOTICE_TRIES, CODE_NOTICE_PAUSE_SECONDS = 2, 1.0
RETRY_BACKOFF_SECONDS, RETRY_BACKOFF_MAX_SECONDS = 60, 3600


def window_messages() -> int:
    return settings.WECHAT_SERVICE_WINDOW_MESSAGES


def max_attempts() -> int:
    """Tries a reply gets when WeChat refuses it for a passing reason (busy, rate limit, unreachable)."""
    return settings.WECHAT_SERVICE_MAX_ATTEMPTS


def sent_in_window(account_id: int, openid: str, since) -> int:
    """Messages WeChat counts since the follower's last message: the sent ones, and the ones being sent or
    possibly sent (WeChat may have taken them)."""
    return WeChatServiceMessage.objects.filter(
        Q(state=State.SENT, sent_at__gte=since) | Q(state__in=UNSETTLED, attempted_at__gte=since),
        account_id=account_id,
        openid=openid,
    ).count()


def _window_refusal(account_id: int, openid: str, now) -> int | None:
    """45015 or 45047 when WeChat would refuse a message to the follower now, else None. Call with the follower
    locked, so that two messages cannot both take the last place in the window."""
    last = last_message_at(account_id, openid)
    if last is None or now > window_closes_at(last):
        return WINDOW_CLOSED
    if sent_in_window(account_id, openid, last) >= window_messages():
        return COUNT_USED_UP
    return None


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


def _possibly_sent_note() -> str:
    return _(
        "WeChat gave no clear answer (timeout or broken connection): the message may have reached the follower. "
        "It is not sent again, so that the follower never gets it twice."
    )


def _record(service: WeChatServiceMessage, **fields) -> WeChatServiceMessage:
    """Write the outcome of a claimed attempt. A clear answer also settles an attempt the sweep meanwhile took
    for lost (possibly sent). The row is read back only when it was settled meanwhile."""
    if WeChatServiceMessage.objects.filter(pk=service.pk, state__in=UNSETTLED).update(**fields):
        for name, value in fields.items():
            setattr(service, name, value)
    else:
        service.refresh_from_db()
    return service


# The case number and query code, once, when a follower's message opens a case.


def _code_notice_text(case: Case, code: str) -> str:
    from django.urls import reverse

    with translation.override(settings.LANGUAGE_CODE):
        return _(
            "Your message is registered as case %(number)s, query code %(code)s. Follow it and read the reply at "
            "%(url)s with the case number and the query code."
        ) % {
            "number": case.number,
            "code": code,
            "url": settings.PORTAL_BASE_URL.rstrip("/") + reverse("complaints:track"),
        }


def _code_notice_recorded(case: Case, message: InboundMessage, code: str):
    """In the transaction that created the case (the follower locked): the notice's row, `sending` (the attempt
    recorded before the send), and the text to send; None when WeChat's window does not allow it (recorded)."""
    now = timezone.now()
    row = {
        "account_id": message.account_id,
        "openid": message.openid,
        "case": case,
        "kind": Kind.CODE_NOTICE,
        # What the follower reads, with the code masked: the case keeps only the code's keyed hash.
        "content": _code_notice_text(case, "*" * len(code)),
    }
    refusal = _window_refusal(message.account_id, message.openid, now)
    if refusal is not None:
        WeChatServiceMessage.objects.create(
            **row, state=State.FAILED, note=_code_notice_failed(wechat_api.explain(refusal))
        )
        return None
    service = WeChatServiceMessage.objects.create(**row, state=State.SENDING, attempted_at=now)
    return service, _code_notice_text(case, code)


def _send_code_notice(service: WeChatServiceMessage, text: str) -> WeChatServiceMessage:
    """Send the recorded notice now: it cannot wait for a later run (the code would be gone). WeChat busy (-1,
    nothing sent) is tried once more after a pause; whatever else happens is recorded, never resent."""
    from publishing.channels.base import AmbiguousError, ChannelError

    tries = 0
    while True:
        tries += 1
        try:
            _channel(service.account_id).send_service_text(service.openid, text)
        except AmbiguousError:
            return _record(service, state=State.POSSIBLY_SENT, note=_possibly_sent_note())
        except ChannelError as error:
            if error.code == str(SYSTEM_BUSY) and tries < CODE_NOTICE_TRIES:
                time.sleep(CODE_NOTICE_PAUSE_SECONDS)
                continue
            return _record(service, state=State.FAILED, note=_code_notice_failed(error.message))
        return _record(service, state=State.SENT, sent_at=timezone.now(), note="")


def _code_notice_failed(reason: str) -> str:
    return _(
        "The case number and query code were not sent to the follower: %(reason)s The code is kept nowhere "
        "else, so it is not tried again; the handler's reply still goes to the follower in WeChat."
    ) % {"reason": reason}


# The handler's approved replies: one message per approved reply (a reopened case gets its second one).


def latest_approved_draft(case: Case) -> ReplyDraft | None:
    return case.drafts.filter(state=ReplyDraft.State.APPROVED).order_by("-reviewed_at", "-id").first()


def reply_to_follower(case_id: int) -> WeChatServiceMessage | None:
    """Send the case's current approved reply to its follower, or record on the case why it waits.
    Safe to run again: each approved reply goes out at most once."""
    case = Case.objects.filter(pk=case_id, channel=CaseChannel.WECHAT).exclude(reply="").first()
    if case is None or case.state not in (CaseState.REPLIED, CaseState.CLOSED):
        return None
    first = case.wechat_messages.order_by("received_at").first()
    if first is None:
        return None
    service, _created = WeChatServiceMessage.objects.get_or_create(
        case=case,
        kind=Kind.REPLY,
        draft=latest_approved_draft(case),
        defaults={"account_id": first.account_id, "openid": first.openid, "content": case.reply},
    )
    return _try_send(service.pk)


def _try_send(service_id: int) -> WeChatServiceMessage | None:
    """Send a waiting or retrying reply if WeChat's window allows it. The attempt is recorded (`sending`) and
    committed before the call, so a worker lost during it leaves a row the sweep marks possibly sent."""
    with transaction.atomic():
        service = WeChatServiceMessage.objects.select_for_update().filter(pk=service_id).first()
        if service is None or service.state not in (State.WAITING, State.RETRYING):
            return service
        _lock_follower(service.account_id, service.openid)
        now = timezone.now()
        refusal = _window_refusal(service.account_id, service.openid, now)
        if refusal is not None:
            service.state, service.note, service.retry_at = State.WAITING, _why_waiting(refusal), None
            service.save(update_fields=["state", "note", "retry_at"])
            return service
        service.state, service.attempted_at = State.SENDING, now
        service.save(update_fields=["state", "attempted_at"])
    return _send_reply(service)


def _send_reply(service: WeChatServiceMessage) -> WeChatServiceMessage:
    from publishing.channels.base import AmbiguousError, ChannelError, TransientError

    try:
        _channel(service.account_id).send_service_text(service.openid, service.content)
    except AmbiguousError:
        return _record(service, state=State.POSSIBLY_SENT, note=_possibly_sent_note())
    except TransientError as error:
        return _record(service, **_after_passing_failure(service, error.message))
    except ChannelError as error:
        if error.code in (str(WINDOW_CLOSED), str(COUNT_USED_UP)):
            return _record(service, state=State.WAITING, note=_why_waiting(int(error.code)))
        note = _("WeChat refused the reply: %(reason)s It is not sent again; it can be read on the tracking page.")
        return _record(service, state=State.FAILED, note=note % {"reason": error.message})
    return _record(service, state=State.SENT, sent_at=timezone.now(), note="", retry_at=None)


def _after_passing_failure(service: WeChatServiceMessage, reason: str) -> dict:
    """WeChat busy, rate-limited or unreachable (nothing was sent): try again later, a bounded number of times."""
    failures = service.transient_failures + 1
    if failures >= max_attempts():
        note = _(
            "WeChat did not take the reply after %(count)d tries: %(reason)s It is not tried again; it can be read "
            "on the tracking page."
        ) % {"count": failures, "reason": reason}
        return {"state": State.FAILED, "note": note, "transient_failures": failures, "retry_at": None}
    delay = min(RETRY_BACKOFF_SECONDS * 2 ** (failures - 1), RETRY_BACKOFF_MAX_SECONDS)
    retry_at = timezone.now() + timedelta(seconds=delay)
    note = _("WeChat did not take the reply: %(reason)s It is tried again at %(time)s (try %(count)d of %(max)d).") % {
        "reason": reason,
        "time": timezone.localtime(retry_at).strftime("%H:%M"),
        "count": failures + 1,
        "max": max_attempts(),
    }
    return {"state": State.RETRYING, "note": note, "transient_failures": failures, "retry_at": retry_at}


def _channel(account_id: int):
    from publishing.channels.wechat import WeChatChannel
    from publishing.models import ChannelAccount

    return WeChatChannel(ChannelAccount.objects.get(pk=account_id))


def send_waiting_replies(account_id: int, openid: str) -> int:
    """After the follower's next message: send the replies that waited for the window (and the retries that
    are due). Returns how many went."""
    waiting = WeChatServiceMessage.objects.filter(
        Q(state=State.WAITING) | Q(state=State.RETRYING, retry_at__lte=timezone.now()),
        account_id=account_id,
        openid=openid,
    ).order_by("created_at", "pk")
    sent = 0
    for service_id in waiting.values_list("pk", flat=True):
        service = _try_send(service_id)
        sent += service is not None and service.state == State.SENT
    return sent


def unsent_reply_cases():
    """WeChat cases whose current approved reply has no customer-service message yet."""
    current = (
        ReplyDraft.objects.filter(case=OuterRef("pk"), state=ReplyDraft.State.APPROVED)
        .order_by("-reviewed_at", "-id")
        .values("pk")[:1]
    )
    replies = WeChatServiceMessage.objects.filter(case=OuterRef("pk"), kind=Kind.REPLY)
    return (
        Case.objects.filter(channel=CaseChannel.WECHAT, state__in=(CaseState.REPLIED, CaseState.CLOSED))
        .exclude(reply="")
        .filter(Exists(InboundMessage.objects.filter(case=OuterRef("pk"))))
        .annotate(current_draft=Subquery(current))
        .filter(
            Q(~Exists(replies.filter(draft=OuterRef("current_draft"))), current_draft__isnull=False)
            | Q(~Exists(replies.filter(draft__isnull=True)), current_draft__isnull=True)
        )
    )


def send_approved_replies() -> int:
    """The sweep (Celery beat): attempts whose worker was lost become `possibly sent`; due retries are tried
    again; approved replies not yet handed to WeChat are sent. Returns how many messages were tried."""
    now = timezone.now()
    lost = WeChatServiceMessage.objects.filter(state=State.SENDING, attempted_at__lt=now - SENDING_LEASE)
    for service_id in list(lost.values_list("pk", flat=True)[:500]):
        WeChatServiceMessage.objects.filter(pk=service_id, state=State.SENDING).update(
            state=State.POSSIBLY_SENT, note=_possibly_sent_note()
        )
    due = WeChatServiceMessage.objects.filter(state=State.RETRYING, retry_at__lte=now).order_by("retry_at")
    tried = sum(1 for service_id in list(due.values_list("pk", flat=True)[:500]) if _try_send(service_id))
    ids = list(unsent_reply_cases().values_list("pk", flat=True)[:500])
    return tried + sum(1 for case_id in ids if reply_to_follower(case_id) is not None)


def _lock_follower(account_id: int, openid: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"wechat-follower:{account_id}:{openid}"])


def waiting_for_person(account_ids) -> dict[int, dict]:
    """Per account: the followers' messages in open citizen messages (no person's answer yet) and the oldest
    one's arrival, {account_id: {"count", "oldest"}}; accounts with none are absent. One query."""
    rows = waiting_per_account(InboundMessage.objects.filter(account_id__in=list(account_ids)))
    return {row["account_id"]: {"count": row["count"], "oldest": row["oldest"]} for row in rows}
