"""The morning digest of cases due within DUE_SOON_WORKDAYS working days and overdue (complaints.digest, the beat task
complaints.send_daily_digests).

Cases are created and routed through the services; their due dates are then set with queryset.update, because the
digest reads only due_date and fixed dates keep these tests independent of the holiday calendar.
"""

import logging
import threading
from datetime import date, timedelta

import pytest
from celery.signals import task_postrun
from django.conf import settings as django_settings
from django.core import mail
from django.core.cache import cache
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connections
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from accounts import roles
from complaints import digest, workdays
from complaints.models import Case, CaseKind, DigestDelivery
from complaints.services import case_close, case_create, case_route, reply_approve, reply_save, reply_submit
from complaints.tasks import send_daily_digests
from tests.factories import UserFactory

# A Tuesday with working days around it in the package's calendar: Wednesday 17 and Thursday 18 June 2026 are
# the two working days ahead (the Dragon Boat Festival 2026 is 19 June).
TODAY = date(2026, 6, 16)
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


class FailingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionRefusedError("mail server down")


@pytest.fixture
def mailbox(settings, county):
    settings.EMAIL_BACKEND = LOCMEM
    settings.SITE_URL = "https://zwfw.example.gov.cn"
    mail.outbox = []
    return mail.outbox


@pytest.fixture
def staff(handler, head, other_handler, county):
    """Alice and Dora of education with email addresses; Charlie of police without one."""
    for person, address in ((handler, "alice@edu.example.gov.cn"), (head, "dora@edu.example.gov.cn")):
        person.email = address
        person.save(update_fields=["email"])
    return {"alice": handler, "dora": head, "charlie": other_handler}


@pytest.fixture
def due_case(registrar, county):
    def _due(due_date, *, department="education", subject="学校食堂收费问题"):
        case, _code = case_create(kind=CaseKind.COMPLAINT, subject=subject, content="孩子学校食堂每月多收伙食费。",
                                  name="张三丰", phone="13812345678")  # fmt: skip
        case = case_route(actor=registrar, case=case, department=county[department])
        Case.objects.filter(pk=case.pk).update(due_date=due_date)
        case.refresh_from_db()
        return case

    return _due


def test_each_handler_and_office_head_gets_the_overdue_and_due_soon_cases(mailbox, staff, due_case):
    late = due_case(TODAY - timedelta(days=3), subject="食堂收费问题逾期")
    today = due_case(TODAY, subject="校车接送时间")
    thursday = due_case(TODAY + timedelta(days=2), subject="课后服务收费")
    due_case(TODAY + timedelta(days=7), subject="下周到期的办件")  # not yet
    assert digest.digest_send_all(today=TODAY) == 2
    assert sorted(message.to[0] for message in mailbox) == ["alice@edu.example.gov.cn", "dora@edu.example.gov.cn"]
    message = mailbox[0]
    assert message.subject == gettext("[Government services] Cases due soon and overdue (%(count)s)") % {"count": 3}
    body = message.body
    assert "县教育局" in body
    for case in (late, today, thursday):
        assert f"{case.number} {case.subject}" in body
        assert f"https://zwfw.example.gov.cn{reverse('admin:complaints_case_change', args=[case.pk])}" in body
    assert "下周到期的办件" not in body
    assert gettext("Due date: %(date)s, overdue by %(days)s days") % {"date": "2026-06-13", "days": 3} in body
    assert gettext("Due date: %(date)s, due today") % {"date": "2026-06-16"} in body
    assert gettext("Due date: %(date)s, %(days)s working days left") % {"date": "2026-06-18", "days": 2} in body
    # Overdue cases come first.
    assert body.index(late.number) < body.index(today.number) < body.index(thursday.number)
    assert "<" not in body  # plain text, nothing escaped into entities either
    assert "&" not in body


def test_a_second_run_the_same_day_sends_nothing_and_the_next_day_sends_again(mailbox, staff, due_case):
    due_case(TODAY - timedelta(days=1))
    assert digest.digest_send_all(today=TODAY) == 2
    assert digest.digest_send_all(today=TODAY) == 0
    assert len(mailbox) == 2
    assert digest.digest_send_all(today=TODAY + timedelta(days=1)) == 2


def test_a_redis_flush_does_not_send_the_digest_twice(mailbox, staff, due_case):
    due_case(TODAY - timedelta(days=1))
    assert digest.digest_send_all(today=TODAY) == 2
    cache.clear()  # the whole Redis database of the cache (this run's own REDIS_DB)
    assert digest.digest_send_all(today=TODAY) == 0
    assert len(mailbox) == 2
    assert DigestDelivery.objects.get(day=TODAY, department__code="education").sent_at is not None


def test_a_claim_left_by_a_killed_worker_is_taken_over_after_the_lease(mailbox, staff, due_case, county):
    due_case(TODAY - timedelta(days=1))
    claim = digest.digest_claim(day=TODAY, department_id=county["education"].pk)
    assert claim is not None
    assert digest.digest_send_all(today=TODAY) == 0  # being sent by the other run
    DigestDelivery.objects.filter(pk=claim).update(claimed_at=timezone.now() - digest.CLAIM_LEASE - timedelta(1))
    assert digest.digest_send_all(today=TODAY) == 2
    assert digest.digest_send_all(today=TODAY) == 0


def test_only_active_people_of_exactly_that_department_who_handle_or_review_cases(mailbox, staff, county, due_case):
    school = county["education_school"]
    UserFactory(username="school-handler", email="s@edu.example.gov.cn", department=school,
                role=roles.DEPARTMENT_HANDLER)  # fmt: skip
    UserFactory(username="gone", email="gone@edu.example.gov.cn", department=county["education"],
                role=roles.DEPARTMENT_HANDLER, is_active=False)  # fmt: skip
    UserFactory(username="editor-edu", email="editor@edu.example.gov.cn", department=county["education"],
                role=roles.EDITOR)  # fmt: skip
    due_case(TODAY)
    digest.digest_send_all(today=TODAY)
    assert sorted(message.to[0] for message in mailbox) == ["alice@edu.example.gov.cn", "dora@edu.example.gov.cn"]


def test_a_department_without_anyone_to_tell_is_skipped_with_a_warning(mailbox, staff, due_case, caplog):
    due_case(TODAY - timedelta(days=2), department="police")  # Charlie has no email address
    due_case(TODAY - timedelta(days=2), department="office")  # nobody handles cases there
    with caplog.at_level(logging.WARNING, logger="complaints.digest"):
        assert digest.digest_send_all(today=TODAY) == 0
    assert mailbox == []
    warnings = [record.getMessage() for record in caplog.records]
    assert any("县公安局" in line for line in warnings)
    assert any("县政府办公室" in line for line in warnings)


def test_nothing_due_nothing_sent(mailbox, staff, due_case, handler, head):
    due_case(TODAY + timedelta(days=10))
    replied = due_case(TODAY - timedelta(days=5))
    reply_save(actor=handler, case=replied, body="已处理。")
    reply_submit(actor=handler, case=replied)
    case_close(actor=handler, case=reply_approve(actor=head, case=replied))
    assert digest.digest_send_all(today=TODAY) == 0


def test_a_failed_send_is_retried_by_the_next_run(mailbox, staff, due_case, settings):
    due_case(TODAY)
    settings.EMAIL_BACKEND = "tests.complaints.test_digest.FailingBackend"
    assert digest.digest_send_all(today=TODAY) == 0
    settings.EMAIL_BACKEND = LOCMEM
    assert digest.digest_send_all(today=TODAY) == 2


def test_beat_runs_the_task_every_morning_with_an_expiry():
    entry = django_settings.CELERY_BEAT_SCHEDULE["complaints-daily-digest"]
    assert entry["task"] == send_daily_digests.name == "complaints.send_daily_digests"
    assert entry["options"]["expires"] < 24 * 3600


@pytest.mark.django_db(transaction=True)
def test_the_task_sends_the_digest_through_a_real_worker(celery_worker, mailbox, staff, due_case):
    # The worker thread keeps its database connection (CELERY_DB_REUSE_MAX); closed after the task, it cannot keep
    # the test database from being dropped at the end of the run.
    task_done = threading.Event()

    def close_connections(**kwargs):
        connections.close_all()
        task_done.set()

    task_postrun.connect(close_connections, weak=False)
    try:
        due_case(workdays.shanghai_today() - timedelta(days=1))
        send_daily_digests.delay()  # the task does not keep a result: the mailbox and the signal say it ran
        assert task_done.wait(timeout=20)
    finally:
        task_postrun.disconnect(close_connections)
    assert sorted(message.to[0] for message in mailbox) == ["alice@edu.example.gov.cn", "dora@edu.example.gov.cn"]
