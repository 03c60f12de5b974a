"""The dashboard lists each person's waiting work on citizens' messages, within the cases they may see."""

from datetime import timedelta

import pytest
from django.urls import reverse

from complaints import services, workdays
from complaints.models import Case
from tests.workbench import waiting

pytestmark = pytest.mark.django_db


def sections(client) -> dict[str, int]:
    return waiting(client, "cases")


def overdue(case, days=2):
    Case.objects.filter(pk=case.pk).update(due_date=workdays.shanghai_today() - timedelta(days=days))


def test_the_office_head_sees_replies_to_review_extensions_and_overdue_cases(routed_case, handler, head, login):
    in_review, _code = routed_case()
    services.reply_save(actor=handler, case=in_review, body="答复")
    services.reply_submit(actor=handler, case=in_review)
    extended, _code = routed_case()
    services.extension_request(actor=handler, case=extended, workdays_requested=3, reason="需要实地核查")
    late, _code = routed_case()
    overdue(late)
    police_late, _code = routed_case(department="police")
    overdue(police_late)

    client = login(head)
    # The head handles cases too: the two assigned ones (one with the extension asked, one overdue) wait for a reply.
    assert sections(client) == {"assigned": 2, "to_review": 1, "extensions": 1, "overdue": 1}
    page = client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:complaints_case_change", args=[late.pk]) in page
    assert reverse("admin:complaints_case_change", args=[police_late.pk]) not in page
    assert 'data-section="overdue"' in page


def test_the_head_does_not_review_her_own_reply(routed_case, head, login):
    case, _code = routed_case()
    services.reply_save(actor=head, case=case, body="答复")
    services.reply_submit(actor=head, case=case)
    assert "to_review" not in sections(login(head))


def test_the_registrar_sees_messages_to_route(make_case, routed_case, registrar, login):
    make_case()
    make_case()
    routed_case()
    assert sections(login(registrar))["to_route"] == 2


def test_a_handler_sees_cases_due_soon(routed_case, handler, login):
    case, _code = routed_case()
    Case.objects.filter(pk=case.pk).update(due_date=workdays.shanghai_today())
    assert sections(login(handler)) == {"assigned": 1, "due_soon": 1}


def test_nothing_waiting_means_no_panel(handler, editor, login):
    assert sections(login(handler)) == {}
    assert sections(login(editor)) == {}


def test_the_lists_count_in_the_database_exactly_what_check_allows(
    make_case, routed_case, registrar, handler, other_handler, head, other_head, login
):
    # The dashboard counts `candidates` in SQL and reads only the first cases; so for every action it lists
    # and every person, `candidates` must hold exactly the cases `check` allows.
    from complaints import actions
    from complaints.selectors import cases_for

    make_case()
    routed, _code = routed_case()
    mine, _code = routed_case()  # the head writes this reply herself
    services.reply_save(actor=head, case=mine, body="答复")
    services.reply_submit(actor=head, case=mine)
    theirs, _code = routed_case()
    services.reply_save(actor=handler, case=theirs, body="答复")
    services.reply_submit(actor=handler, case=theirs)
    police, _code = routed_case(department="police")
    services.reply_save(actor=other_handler, case=police, body="答复")
    services.reply_submit(actor=other_handler, case=police)
    asked, _code = routed_case()
    services.extension_request(actor=handler, case=asked, workdays_requested=3, reason="需要实地核查")
    asked_by_head, _code = routed_case()
    services.extension_request(actor=head, case=asked_by_head, workdays_requested=3, reason="需要实地核查")
    drafting, _code = routed_case()
    services.reply_save(actor=handler, case=drafting, body="草稿")

    everyone = Case.objects.all()
    allowed_counts = {}
    for person in (registrar, handler, other_handler, head, other_head):
        for action in (actions.ROUTE, actions.APPROVE, actions.SEND_BACK, actions.EXTENSION_APPROVE,
                       actions.EXTENSION_REFUSE):  # fmt: skip
            allowed = {case.pk for case in everyone if action.allowed(person, case)}
            assert set(action.candidates(everyone, person).values_list("pk", flat=True)) == allowed, (person, action)
            count, shown = actions.waiting_for(person, action, cases_for(person).order_by("pk"), first=2)
            assert (count, [case.pk for case in shown]) == (len(allowed), sorted(allowed)[:2])
            allowed_counts[person.username, action.code] = len(allowed)
    # The cases above really exercise the rule: each person is allowed something different.
    assert allowed_counts[registrar.username, "route"] == 1
    assert allowed_counts[head.username, "approve"] == 1  # theirs, not her own
    assert allowed_counts[other_head.username, "approve"] == 1  # the police reply
    assert allowed_counts[head.username, "extension_approve"] == 1  # the handler's request, not her own
    assert allowed_counts[handler.username, "approve"] == 0
