"""The publishing spine: schedules reserve quota when saved; dispatch hands due deliveries to
workers; each delivery is claimed, sent once, and its outcome recorded (DESIGN.md, "The spine").

Failures raise `PermissionDenied` or `ValidationError` with messages for the editor.
"""

import functools
import logging
import random
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import audit_record, audit_record_many, update_and_audit
from publishing import actions, quota
from publishing.channels import channel_for
from publishing.channels.base import ChannelError, TransientError
from publishing.models import ChannelAccount, Delivery, DeliveryState, Schedule

logger = logging.getLogger(__name__)
State = DeliveryState
WAITING = (State.SCHEDULED, State.RETRYING)


# -- a person's decisions: thin doors to the actions (publishing/actions.py holds the rules) ------


def schedule_create(*, actor, schedule: Schedule, articles: list, accounts: list[ChannelAccount]) -> Schedule:
    """Store a schedule with its deliveries and quota slots (actions.CreateSchedule); ValidationError
    lists every preflight problem, nothing stored; ActionRefused (also PermissionDenied) when refused."""
    return actions.CREATE_SCHEDULE.execute(actor, actions.NewSchedule(schedule, list(articles), list(accounts)))


def schedule_reschedule(*, actor, schedule: Schedule, send_at) -> Schedule:
    """Move a schedule that has not started, its quota slots with it (actions.MoveSchedule)."""
    return actions.SCHEDULE_ACTIONS["reschedule"].execute(actor, schedule, send_at=send_at)


def schedule_cancel(*, actor, schedule: Schedule) -> Schedule:
    """Cancel a schedule none of which has gone out, and free its quota (actions.CancelSchedule)."""
    return actions.SCHEDULE_ACTIONS["cancel"].execute(actor, schedule)


def delivery_retry(*, actor, delivery: Delivery) -> Delivery:
    """Send a failed, waiting or unknown delivery again now (actions.RetryDelivery)."""
    return actions.DELIVERY_ACTIONS["retry"].execute(actor, delivery)


def resend_recognised(delivery: Delivery, now) -> bool:
    """Whether a resend now is settled by the platform itself: WeChat recognises the same clientmsgid
    for 24 hours (we stop an hour earlier); Weibo never does."""
    if not getattr(channel_for(delivery.account), "resend_is_safe", True):
        return False
    return _reconcile_until(delivery) > now


def _reconcile_until(delivery: Delivery):
    return delivery.uncertain_since + timedelta(seconds=settings.PUBLISHING_RECONCILE_WINDOW_SECONDS)


# -- dispatch and sending (Celery tasks call these) --------------------------------------------


def dispatch_due(*, now=None, batch: int = 1000, requeue_lost: bool = True) -> list[int]:
    """Mark due deliveries queued (one transaction, SKIP LOCKED) and return their ids to enqueue.

    Also hands back work that went missing: deliveries whose lease expired while sending (the
    worker died; they are reconciled before any resend) and deliveries queued so long ago that
    their task must have been lost (Redis flushed; the caller says `requeue_lost` only when the
    broker's queue is empty, so a long queue is not mistaken for a lost one). Rerunning it changes
    nothing else.
    """
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(state__in=WAITING, due_at__lte=now)
            .order_by("due_at", "id")
            .values_list("id", flat=True)[:batch]
        )
        expired = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(state=State.SENDING, lease_expires_at__lt=now)
            .values_list("id", flat=True)[:batch]
        )
        lost = (
            []
            if not requeue_lost
            else list(
                Delivery.objects.select_for_update(skip_locked=True)
                .filter(
                    state=State.QUEUED, queued_at__lt=now - timedelta(seconds=settings.PUBLISHING_REQUEUE_AFTER_SECONDS)
                )
                .values_list("id", flat=True)[:batch]
            )
        )
        Delivery.objects.filter(pk__in=due).update(state=State.QUEUED, queued_at=now)
        # The worker died mid-send: the send may have reached the platform.
        Delivery.objects.filter(pk__in=expired).update(
            state=State.QUEUED,
            queued_at=now,
            needs_reconcile=True,
            uncertain_since=Coalesce(F("uncertain_since"), Value(now)),
        )
        Delivery.objects.filter(pk__in=lost).update(queued_at=now)
        audit_record_many(
            [{"actor": None, "action": "delivery.queued", "target": _ref(pk)} for pk in due]
            + [{"actor": None, "action": "delivery.lease_expired", "target": _ref(pk)} for pk in expired]
            + [{"actor": None, "action": "delivery.requeued", "target": _ref(pk)} for pk in lost]
        )
    return due + expired + lost


def _ref(pk: int) -> Delivery:
    """A delivery stand-in good enough for the audit log (its str() needs only the id): no row loaded."""
    return Delivery(pk=pk)


_CLAIM_PARTS = ((Delivery, "d"), (ChannelAccount, "a"), (Schedule, "s"))


@functools.cache
def _claim_sql() -> str:
    columns = ", ".join(f"{alias}.{f.column}" for model, alias in _CLAIM_PARTS for f in model._meta.concrete_fields)
    return (
        # Names come from model metadata; every value is a parameter.
        f"WITH d AS (UPDATE {Delivery._meta.db_table} SET state = %s, lease_expires_at = %s,"  # noqa: S608
        f" attempts = attempts + 1"
        f" WHERE id = %s AND state = %s RETURNING *)"
        f" SELECT {columns} FROM d JOIN {ChannelAccount._meta.db_table} a ON a.id = d.account_id"
        f" JOIN {Schedule._meta.db_table} s ON s.id = d.schedule_id"
    )


def _claim(delivery_id: int, lease) -> Delivery | None:
    """queued -> sending with a lease, returning the delivery with its account and schedule, in one
    statement (UPDATE ... RETURNING joined to both); None when another run holds it."""
    sql = _claim_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, [State.SENDING, lease, delivery_id, State.QUEUED])
        row = cursor.fetchone()
    if row is None:
        return None
    instances, start = [], 0
    for model, _alias in _CLAIM_PARTS:
        fields = model._meta.concrete_fields
        values = list(row[start : start + len(fields)])
        for index, field in enumerate(fields):
            for converter in field.get_db_converters(connection):
                values[index] = converter(values[index], field, connection)
        instances.append(model.from_db(connection.alias, [f.attname for f in fields], values))
        start += len(fields)
    delivery, delivery.account, delivery.schedule = instances
    return delivery


def delivery_send(*, delivery_id: int) -> str:
    """Claim one queued delivery, send it once, record the outcome. Does nothing if the claim fails.

    A delivery that may already be on the platform (`uncertain_since`) is first looked up there
    (`status`); it is resent only where the platform recognises a repeat (WeChat's clientmsgid, within
    the reconcile window), and otherwise recorded "unknown" for a person: never "failed".
    """
    lease = timezone.now() + timedelta(seconds=settings.PUBLISHING_LEASE_SECONDS)
    delivery = _claim(delivery_id, lease)
    if delivery is None:
        return "not claimed"
    channel = channel_for(delivery.account)
    try:
        if delivery.needs_reconcile:
            found = channel.status(delivery)
            if found is not None:
                return _record_sent(delivery, found, reconciled=True)
        if delivery.uncertain_since is not None and not resend_recognised(delivery, timezone.now()):
            return _record_unknown(delivery, channel)
        result = channel.send(delivery)
    except TransientError as error:
        return _record_transient(delivery, channel, error)
    except ChannelError as error:
        return _record_permanent(delivery, channel, error)
    except Exception as error:  # noqa: BLE001 - an unexpected bug must not leave the delivery stuck in "sending"
        logger.exception("delivery %s: unexpected error", delivery_id)
        # It may have struck after the platform accepted the send: treated as "may have been sent".
        unexpected = TransientError("internal", _("GovCMS hit an unexpected error while sending."),
                                    detail=repr(error)[:500], maybe_delivered=True)  # fmt: skip
        return _record_transient(delivery, channel, unexpected)
    return _record_sent(delivery, result)


def _holding_lease(delivery: Delivery):
    """The delivery's row, only while this run's claim holds: an outcome is written only by the run
    that holds the lease (conditional update). A run whose lease ran out and was claimed again finds
    a different lease and writes nothing."""
    return Delivery.objects.filter(pk=delivery.pk, state=State.SENDING, lease_expires_at=delivery.lease_expires_at)


def _record_sent(delivery: Delivery, result, *, reconciled: bool = False) -> str:
    fields = {
        "state": State.SENT,
        "sent_at": timezone.now(),
        "lease_expires_at": None,
        "needs_reconcile": False,
        "uncertain_since": None,
        "error_code": "",
        "error_message": "",
        "error_detail": "",
    }
    for model_field, value in (("platform_msg_id", result.msg_id), ("platform_msg_data_id", result.msg_data_id),
                               ("platform_post_id", result.post_id), ("platform_media_id", result.media_id)):  # fmt: skip
        if value:
            fields[model_field] = value
    detail = {"reconciled": reconciled, "msg_id": result.msg_id, "post_id": result.post_id, **result.detail}
    # The platform's word that it was sent wins even when this run's lease ran out meanwhile, as long
    # as no other outcome is final: the delivery then waits to be reconciled, and this is the answer.
    settled_late = Delivery.objects.filter(
        pk=delivery.pk, state__in=[State.QUEUED, State.RETRYING, State.UNKNOWN], uncertain_since__isnull=False
    )
    if not update_and_audit(_holding_lease(delivery) | settled_late, fields, action="delivery.sent", target=delivery,
                            detail=detail):  # fmt: skip
        return "lease lost"
    return "sent"


def _backoff_seconds(delivery: Delivery, error: ChannelError) -> float:
    # Rate limits clear slowly: back off much further.
    base = settings.PUBLISHING_RETRY_BASE_SECONDS * (20 if error.rate_limited else 1)
    exponent = min(max(delivery.attempts - 1, 0), 16)
    return min(base * 2**exponent, 3600) * random.uniform(0.8, 1.2)  # noqa: S311 - jitter


def _record_transient(delivery: Delivery, channel, error: ChannelError) -> str:
    """Try again later, or stop: after the last attempt a delivery that surely was not sent fails
    (its slot freed); one that may have been sent goes on being reconciled within the window and
    then becomes "unknown" (its slot kept)."""
    now = timezone.now()
    uncertain_since = delivery.uncertain_since or (now if error.maybe_delivered else None)
    if uncertain_since is None and delivery.attempts >= settings.PUBLISHING_MAX_ATTEMPTS:
        return _record_failed(delivery, error, retries_used_up=True)
    due_at = now + timedelta(seconds=_backoff_seconds(delivery, error))
    if uncertain_since is not None:
        # Reconciling goes on past the attempt limit, but only within the window (WeChat forgets the
        # clientmsgid after 24 hours); where a resend is never safe (Weibo) it only looks the post up.
        delivery.uncertain_since = uncertain_since
        until = _reconcile_until(delivery)
        if until <= now:
            return _record_unknown(delivery, channel, error)
        due_at = min(due_at, max(until - timedelta(seconds=5), now))
    local_time = timezone.localtime(due_at).strftime("%H:%M:%S")
    if uncertain_since is None:
        then = _("It will be retried automatically at %(time)s.") % {"time": local_time}
    else:
        then = _(
            "It may already have reached the platform: at %(time)s GovCMS confirms it with the platform before "
            "anything is sent again."
        ) % {"time": local_time}
    fields = {
        "state": State.RETRYING,
        "lease_expires_at": None,
        "due_at": due_at,
        "needs_reconcile": uncertain_since is not None,
        "uncertain_since": uncertain_since,
        "error_code": error.code,
        "error_message": _sentences(error.message, then),
        "error_detail": error.detail,
    }
    if error.media_id:
        fields["platform_media_id"] = error.media_id  # the retry sends this draft instead of making another
    detail = {
        "code": error.code,
        "in_seconds": round((due_at - now).total_seconds()),
        "uncertain": bool(uncertain_since),
    }
    if not update_and_audit(
        _holding_lease(delivery), fields, action="delivery.retrying", target=delivery, detail=detail
    ):
        return "lease lost"
    return "retrying"


def _record_permanent(delivery: Delivery, channel, error: ChannelError) -> str:
    if delivery.uncertain_since is None and not error.maybe_delivered:
        return _record_failed(delivery, error)
    if error.maybe_delivered and not getattr(channel, "resend_is_safe", True):
        # Weibo's "repeat content" or a broken connection: look the post up before deciding.
        return _record_transient(delivery, channel, TransientError(error.code, error.message, detail=error.detail,
                                                                   maybe_delivered=True))  # fmt: skip
    return _record_unknown(delivery, channel, error)


def _record_failed(delivery: Delivery, error: ChannelError, *, retries_used_up: bool = False) -> str:
    """Final: nothing reached the platform. The slot is freed for another send that period, except
    when the platform itself says the quota is used."""
    message = error.message
    if retries_used_up:
        message = _sentences(
            message,
            _(
                "Nothing was sent, and automatic retries stopped after %(attempts)d attempts; use “retry now” "
                "when the platform works again."
            )
            % {"attempts": delivery.attempts},
        )
    fields = {"state": State.FAILED, "lease_expires_at": None, "error_code": error.code, "error_message": message,
              "error_detail": error.detail, "needs_reconcile": False, "uncertain_since": None}  # fmt: skip
    if error.media_id:
        fields["platform_media_id"] = error.media_id  # "retry now" sends this draft
    with transaction.atomic():
        if not _holding_lease(delivery).update(**fields):
            return "lease lost"
        if not error.quota_used:
            quota.release_slots(delivery)
        audit_record(actor=None, action="delivery.failed", target=delivery,
                     detail={"code": error.code, "message": message, "detail": error.detail})  # fmt: skip
    return "failed"


def _record_unknown(delivery: Delivery, channel, error: ChannelError | None = None) -> str:
    """Final: the send may have reached the platform and cannot be confirmed. Its quota slot stays
    taken; the message says what a person checks, and where."""
    message = _("The platform did not confirm this send, so it may or may not have gone out.")
    if error is not None:
        message = _sentences(error.message, message)
    fields = {
        "state": State.UNKNOWN,
        "lease_expires_at": None,
        "needs_reconcile": True,
        "uncertain_since": delivery.uncertain_since or timezone.now(),
        # Without a new error (the window ran out), the last answer the platform gave stays on record.
        "error_code": error.code if error is not None else (delivery.error_code or "unknown"),
        "error_message": _sentences(message, channel.where_to_check(delivery)),
        "error_detail": error.detail if error is not None else delivery.error_detail,
    }
    if error is not None and error.media_id:
        fields["platform_media_id"] = error.media_id
    detail = {"code": fields["error_code"], "detail": fields["error_detail"]}
    if not update_and_audit(
        _holding_lease(delivery), fields, action="delivery.unknown", target=delivery, detail=detail
    ):
        return "lease lost"
    return "unknown"


def _sentences(*parts: str) -> str:
    """Join sentences as the language wants: no space after Chinese full stops, one after others."""
    text = ""
    for part in filter(None, parts):
        text += part if not text or text[-1] in "。！？；）”" else " " + part
    return text


def delivery_record_report(*, account_id: int, msg_id: str, status: str, counts: dict, extra: dict) -> int:
    """Store WeChat's MASSSENDJOBFINISH report on the delivery it belongs to; returns rows updated."""
    updated = Delivery.objects.filter(account_id=account_id, platform_msg_id=str(msg_id)).update(
        report_status=status[:64],
        total_count=counts.get("total"),
        filter_count=counts.get("filter"),
        sent_count=counts.get("sent"),
        error_count=counts.get("error"),
        report=extra,
    )
    if updated:
        delivery = Delivery.objects.get(account_id=account_id, platform_msg_id=str(msg_id))
        audit_record(actor=None, action="delivery.report", target=delivery, detail={"status": status, **counts})
    return updated


def delivery_record_report_from_push(*, account_id: int, fields: dict) -> int:
    """Hand a MASSSENDJOBFINISH push (its XML fields) to `delivery_record_report`. Takes the account's id: the
    callback holds the account's settings in memory, not its row."""

    def number(name):
        try:
            return int(fields.get(name))
        except (TypeError, ValueError):
            return None

    return delivery_record_report(
        account_id=account_id,
        msg_id=str(fields.get("MsgID") or fields.get("MsgId") or ""),
        status=str(fields.get("Status") or ""),
        counts={name: number(f"{name.capitalize()}Count") for name in ("total", "filter", "sent", "error")},
        extra={"copyright": fields.get("CopyrightCheckResult"), "article_urls": fields.get("ArticleUrlResult")},
    )


def inbound_message_store(
    *,
    account_id: int,
    fields: dict,
    dedupe_key: str,
    received_at: datetime,
    answered_automatically: bool,
    library_entry_id: int | None = None,
) -> bool:
    """Store a push from WeChat after it was answered; True when stored now, False when it was stored
    before (a retried push or a task run twice: the unique (account, dedupe_key) keeps one row) or the
    account is gone. Events keep all their fields (PUBLISHJOBFINISH's publish_id, article_id, ...).
    A text message the answer library did not answer (`library_entry_id` None) becomes a citizen message
    or joins the follower's open one (publishing.wechat_cases), also when stored before without it."""
    from publishing import wechat_cases
    from publishing.channels.wechat_listen import create_time
    from publishing.models import InboundMessage

    if not ChannelAccount.objects.filter(pk=account_id).exists():
        return False
    msg_type = str(fields.get("MsgType") or "")[:32]
    content = fields.get("Content") or fields.get("Recognition") or fields.get("PicUrl") or fields.get("Url") or ""
    message, created = InboundMessage.objects.get_or_create(
        account_id=account_id,
        dedupe_key=dedupe_key[:255],
        defaults={
            "openid": str(fields.get("FromUserName") or "")[:64],
            "msg_type": msg_type,
            "event": str(fields.get("Event") or "")[:64],
            "event_key": str(fields.get("EventKey") or "")[:1024],
            "content": str(content),
            "msg_id": str(fields.get("MsgId") or fields.get("MsgID") or "")[:64],
            "create_time": create_time(fields),
            "received_at": received_at,
            "answered_automatically": answered_automatically,
            "library_entry_id": library_entry_id,
            "payload": fields,
        },
    )
    if msg_type == "text" and library_entry_id is None:
        wechat_cases.case_for_message(message.pk)
    if msg_type != "event" or message.event.lower() in ("subscribe", "click", "scan"):
        # The follower wrote: WeChat's window is open again for the replies that waited for it.
        wechat_cases.send_waiting_replies(account_id, message.openid)
    return created
