"""The morning digest: each department's handlers and office heads get one email listing its open cases due
within `selectors.DUE_SOON_WORKDAYS` working days and those already overdue.

Safe to run any number of times a day (beat may fire twice, an operator may run it by hand, Redis may be
flushed): a department's digest of a Shanghai day is a row of DigestDelivery, claimed with a conditional update
before it goes out and marked sent after, so a second run that day skips it. A failed send gives the claim back,
so a later run retries; a worker killed while sending leaves a claim that a run after CLAIM_LEASE takes over.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts.models import Department
from accounts.scoping import department_members_with
from complaints import selectors, workdays
from complaints.models import Case, DigestDelivery

logger = logging.getLogger(__name__)

# Far longer than sending one department's emails takes: a claim older than this was left by a killed worker.
CLAIM_LEASE = timedelta(minutes=30)
RECIPIENT_PERMISSIONS = ("handle_case", "review_reply")


def digest_claim(*, day: date, department_id: int) -> int | None:
    """Take the department's digest of `day` for this run: the row's id, or None when it was sent already or
    another run is sending it now. One conditional update decides, whatever the number of runs at once."""
    row, _created = DigestDelivery.objects.get_or_create(day=day, department_id=department_id)
    now = timezone.now()
    claimed = (
        DigestDelivery.objects.filter(pk=row.pk, sent_at=None)
        .filter(Q(claimed_at=None) | Q(claimed_at__lt=now - CLAIM_LEASE))
        .update(claimed_at=now)
    )
    return row.pk if claimed == 1 else None


@dataclass(frozen=True)
class DigestLine:
    case: Case
    url: str
    # Calendar days past the due date (0 when not overdue).
    days_overdue: int = 0
    # Working days left until the due date of a case not yet overdue: 0 means due today.
    workdays_left: int = 0

    @property
    def overdue(self) -> bool:
        return self.days_overdue > 0


def site_url() -> str:
    return settings.SITE_URL


def case_admin_url(case: Case) -> str:
    return site_url() + reverse("admin:complaints_case_change", args=[case.pk])


def recipients(department_id: int) -> list:
    """Active members of exactly this department who handle or review its cases, with an email address."""
    return department_members_with(department_id, "complaints", RECIPIENT_PERMISSIONS)


def digest_lines(*, today: date | None = None) -> dict[int, list[DigestLine]]:
    """The cases of each department's digest: overdue first (longest overdue first), then due soon by date.
    Two queries for the cases; the working days left come from one shared calendar."""
    today = today or workdays.shanghai_today()
    calendar = workdays.WorkCalendar()
    lines: dict[int, list[DigestLine]] = defaultdict(list)
    fields = ("pk", "number", "subject", "due_date", "department_id", "state", "kind")
    overdue = selectors.overdue_cases(today=today).exclude(department=None).only(*fields).order_by("due_date", "pk")
    for case in overdue:
        lines[case.department_id].append(
            DigestLine(case, case_admin_url(case), days_overdue=(today - case.due_date).days)
        )
    due_soon = (
        selectors.due_soon_cases(workdays_ahead=selectors.DUE_SOON_WORKDAYS, today=today)
        .exclude(department=None)
        .only(*fields)
        .order_by("due_date", "pk")
    )
    for case in due_soon:
        left = calendar.workdays_between(today, case.due_date)
        lines[case.department_id].append(DigestLine(case, case_admin_url(case), workdays_left=left))
    return lines


def _messages(department: Department, lines: list[DigestLine], today: date, people) -> list[EmailMessage]:
    """One email per person (nobody sees who else got it), all with the same text."""
    context = {
        "department": department,
        "today": today,
        "overdue": [line for line in lines if line.overdue],
        "due_soon": [line for line in lines if not line.overdue],
        "count": len(lines),
        "workdays_ahead": selectors.DUE_SOON_WORKDAYS,
    }
    subject = gettext("[Government services] Cases due soon and overdue (%(count)s)") % {"count": len(lines)}
    body = render_to_string("complaints/email/digest.txt", context)
    return [EmailMessage(subject=subject, body=body, to=[person.email]) for person in people]


def digest_send_all(today: date | None = None) -> int:
    """Send today's digest to every department with cases due within DUE_SOON_WORKDAYS working days or overdue. Returns the
    number of emails sent (one per recipient).

    A department with nobody to receive it (no active handler or office head of exactly that department, or none
    with an email address) is skipped with a warning in the log. A department whose sending fails is logged, not
    marked sent (running the task again retries it) and does not hold up the other departments.
    """
    today = today or workdays.shanghai_today()
    by_department = digest_lines(today=today)
    departments = Department.objects.in_bulk(list(by_department))
    sent = 0
    # The digest is in the product's language whatever the worker's locale.
    with translation.override(settings.LANGUAGE_CODE):
        for department_id, lines in by_department.items():
            department = departments[department_id]
            people = recipients(department_id)
            if not people:
                logger.warning(
                    "complaints digest: %s (id %s) has %s cases due or overdue but nobody with an email address "
                    "to tell",
                    department.name,
                    department_id,
                    len(lines),
                )
                continue
            claim = digest_claim(day=today, department_id=department_id)
            if claim is None:
                continue  # already sent today (or being sent by another run right now)
            try:
                sent += get_connection().send_messages(_messages(department, lines, today, people)) or 0
            except OSError:  # smtplib's errors and connection failures
                DigestDelivery.objects.filter(pk=claim).update(claimed_at=None)
                logger.exception("complaints digest: sending to %s (id %s) failed", department.name, department_id)
            else:
                DigestDelivery.objects.filter(pk=claim).update(sent_at=timezone.now())
    return sent
