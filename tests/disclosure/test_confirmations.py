"""Publishing, withdrawing and deleting a batch go through a confirmation page: its GET changes nothing, its POST
acts."""

import pytest
from django.urls import reverse

from disclosure import services
from disclosure.actions import PUBLISH, WITHDRAW
from disclosure.models import BatchState, Disbursement, DisclosureBatch

pytestmark = pytest.mark.django_db


def workflow(batch, action):
    return reverse("admin:disclosure_disclosurebatch_workflow", args=[batch.pk, action])


def snapshot():
    return list(DisclosureBatch.objects.values().order_by("pk")), Disbursement.objects.count()


def test_publish_asks_first_then_publishes(make_batch, add_disbursement, officer, batch_reviewer, client):
    batch = make_batch()
    add_disbursement(batch)
    services.batch_submit(actor=officer, batch=batch)
    client.force_login(batch_reviewer)
    before = snapshot()
    page = client.get(workflow(batch, "publish")).content.decode()
    assert str(PUBLISH.confirm) in page and batch.title in page
    assert client.post(workflow(batch, "publish")).status_code == 200  # not from the confirmation page: asks
    assert snapshot() == before
    client.post(workflow(batch, "publish"), {"confirmed": "1"})
    assert DisclosureBatch.objects.get(pk=batch.pk).state == BatchState.PUBLISHED


def test_withdraw_names_what_happens_on_its_reason_page(published_batch, officer, client):
    client.force_login(officer)
    before = snapshot()
    page = client.get(workflow(published_batch, "withdraw")).content.decode()
    assert str(WITHDRAW.confirm) in page and 'name="reason"' in page
    assert snapshot() == before
    client.post(workflow(published_batch, "withdraw"), {"reason": "金额有误"})
    assert DisclosureBatch.objects.get(pk=published_batch.pk).state == BatchState.WITHDRAWN


def test_delete_asks_first_then_discards(make_batch, add_disbursement, officer, client):
    batch = make_batch()
    add_disbursement(batch)
    client.force_login(officer)
    url = reverse("admin:disclosure_disclosurebatch_delete", args=[batch.pk])
    before = snapshot()
    page = client.get(url)
    assert page.status_code == 200 and batch.title in page.content.decode()
    assert snapshot() == before
    client.post(url, {"post": "yes"})
    assert not DisclosureBatch.objects.filter(pk=batch.pk).exists()
    assert Disbursement.objects.filter(batch_id=batch.pk).count() == 0
