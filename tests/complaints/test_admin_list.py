"""The case list: overdue and due-soon cases stand out, filters and search work without scanning personal data,
and the number of queries does not grow with the rows shown."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.translation import gettext

from complaints import selectors, workdays
from complaints.models import Case, CaseState
from govcms.paginators import EstimatedCountPaginator

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:complaints_case_changelist")


def set_due(case, due):
    Case.objects.filter(pk=case.pk).update(due_date=due)


def listed(client, **params):
    return [case.number for case in client.get(LIST_URL, params).context["cl"].result_list]


def test_an_overdue_case_is_red_with_the_days_overdue(routed_case, handler, login):
    case, _code = routed_case()
    today = workdays.shanghai_today()
    set_due(case, today - timedelta(days=3))
    page = login(handler).get(LIST_URL).content.decode()
    expected = gettext("overdue by %(days)s days") % {"days": 3}
    assert f'<span class="case-due case-overdue">{(today - timedelta(days=3)).isoformat()} · {expected}</span>' in page


def test_a_case_due_within_two_working_days_is_amber(routed_case, handler, login):
    case, _code = routed_case()
    set_due(case, selectors.due_within(1))
    page = login(handler).get(LIST_URL).content.decode()
    assert 'class="case-due case-due-soon"' in page and 'class="case-due case-overdue"' not in page


def test_a_stopped_clock_or_a_replied_case_is_never_overdue(routed_case, handler, login):
    stopped, _code = routed_case()
    replied, _code = routed_case()
    past, today = workdays.shanghai_today() - timedelta(days=3), workdays.shanghai_today()
    Case.objects.filter(pk=stopped.pk).update(due_date=past, clock_stopped_since=today)
    Case.objects.filter(pk=replied.pk).update(due_date=past, state=CaseState.REPLIED)
    page = login(handler).get(LIST_URL).content.decode()
    assert 'class="case-due case-overdue"' not in page


def test_deadline_filter(routed_case, handler, login):
    overdue, _code = routed_case(subject="逾期件")
    soon, _code = routed_case(subject="临期件")
    calm, _code = routed_case(subject="正常件")
    today = workdays.shanghai_today()
    set_due(overdue, today - timedelta(days=1))
    set_due(soon, today)
    set_due(calm, today + timedelta(days=30))
    client = login(handler)
    assert listed(client, deadline="overdue") == [overdue.number]
    assert listed(client, deadline="due_soon") == [soon.number]
    assert listed(client, deadline="on_track") == [calm.number]


def test_search_by_number_full_mobile_and_subject(routed_case, handler, login):
    case, _code = routed_case(subject="学校食堂收费问题", phone="13912345678")
    other, _code = routed_case(subject="校车接送时间")
    client = login(handler)
    assert listed(client, q=case.number.lower()) == [case.number]
    assert listed(client, q="139 1234 5678") == [case.number]
    assert listed(client, q="1391234") == []  # part of a phone number is no search
    assert listed(client, q="校车") == [other.number]


def test_a_subject_search_looks_at_open_and_recent_cases_only(routed_case, handler, login):
    old_open, _code = routed_case(subject="旧的食堂问题")
    old_closed, _code = routed_case(subject="旧的食堂问题")
    long_ago = old_open.received_at - timedelta(days=100)
    Case.objects.filter(pk=old_open.pk).update(received_at=long_ago)
    Case.objects.filter(pk=old_closed.pk).update(received_at=long_ago, state=CaseState.CLOSED)
    client = login(handler)
    assert listed(client, q="旧的食堂") == [old_open.number]
    assert listed(client, q=old_closed.number) == [old_closed.number]


def test_the_department_filter_is_for_registrars(routed_case, registrar, handler, county, login):
    education_case, _code = routed_case()
    police_case, _code = routed_case(department="police")
    assert listed(login(registrar), department__id__exact=county["police"].pk) == [police_case.number]
    specs = login(handler).get(LIST_URL).context["cl"].filter_specs
    assert "department" not in [getattr(spec, "field_path", None) for spec in specs]


def test_the_list_is_paged_without_a_full_count_and_its_queries_do_not_grow_with_rows(routed_case, registrar, login):
    client = login(registrar)
    routed_case()
    response = client.get(LIST_URL)
    assert isinstance(response.context["cl"].paginator, EstimatedCountPaginator)
    assert response.context["cl"].show_full_result_count is False
    with CaptureQueriesContext(connection) as few:
        client.get(LIST_URL)
    for _ in range(12):
        routed_case()
    with CaptureQueriesContext(connection) as many:
        client.get(LIST_URL)
    assert len(many) == len(few)
    assert not any('"complaints_replydraft"' in query["sql"] for query in many.captured_queries)


def test_links_to_statistics_and_export_on_the_list(registrar, handler, login):
    page = login(registrar).get(LIST_URL).content.decode()
    assert reverse("admin:complaints_case_statistics") in page
    assert reverse("admin:complaints_case_export", args=["xlsx"]) in page
    assert reverse("admin:complaints_case_add") in page
    page = login(handler).get(LIST_URL).content.decode()
    assert reverse("admin:complaints_case_statistics") not in page  # handlers have no view_statistics
    assert reverse("admin:complaints_case_add") not in page
