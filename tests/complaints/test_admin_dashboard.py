"""The dashboard lists each person's waiting work on citizens' messages, within the cases they may see."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils.translation import gettext

from complaints import services, workdays
from complaints.models import Case

pytestmark = pytest.mark.django_db


def sections(client) -> dict[str, int]:
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    panels = [panel for panel in response.context["dashboard_panels"] if panel["title"] == gettext("Citizen messages")]
    if not panels:
        return {}
    return {section["key"]: section["count"] for section in panels[0]["sections"]}


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
    assert sections(client) == {"to_review": 1, "extensions": 1, "overdue": 1}
    page = client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:complaints_case_change", args=[late.pk]) in page
    assert reverse("admin:complaints_case_change", args=[police_late.pk]) not in page
    assert "case-panel-alarm" in page


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
    assert sections(login(handler)) == {"due_soon": 1}


def test_nothing_waiting_means_no_panel(handler, editor, login):
    assert sections(login(handler)) == {}
    assert sections(login(editor)) == {}
