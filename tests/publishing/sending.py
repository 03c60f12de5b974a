"""Helpers for tests that send through the sandbox: schedule now, and do inline what beat and the workers do."""

from datetime import timedelta

from django.utils import timezone

from publishing.models import Delivery, Schedule
from publishing.services import delivery_send, dispatch_due, schedule_create


def schedule_now(editor, articles, accounts, **fields):
    schedule = schedule_create(
        actor=editor,
        schedule=Schedule(send_at=timezone.now() + timedelta(minutes=1), **fields),
        articles=articles,
        accounts=accounts,
    )
    schedule.deliveries.update(due_at=timezone.now() - timedelta(seconds=1))
    return schedule


def run_dispatch():
    """What beat and the workers do, inline: dispatch, then send every handed-out delivery."""
    return {delivery_id: delivery_send(delivery_id=delivery_id) for delivery_id in dispatch_due()}


def make_due(delivery):
    Delivery.objects.filter(pk=delivery.pk).update(due_at=timezone.now() - timedelta(seconds=1))
