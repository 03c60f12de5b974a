"""The 我要写信 form shows the disclosure-request fields only for a disclosure request (a script hides them;
without it they stay in view under their heading, and the server ignores them for other kinds while still
checking them for a request); the status page thanks the citizen after a rating."""

import re

import pytest
from django.urls import reverse

from complaints.models import Case, CaseKind, Rating
from tests.complaints.test_public_submit import NEW, message, send
from tests.complaints.test_public_track import look_up, replied_case  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db

RATE = reverse("complaints:rate")
THANKS = "感谢您对答复作出评价。"


def test_disclosure_fields_are_grouped_for_the_script_to_hide(client):
    page = client.get(NEW).content.decode()
    group = page[
        page.index('<fieldset class="disclosure-fields" id="disclosure-fields">') : page.index(
            "</fieldset>", page.index('id="disclosure-fields"')
        )
    ]
    assert "<legend>仅限政府信息公开申请填写</legend>" in group
    assert re.findall(r'<label for="id_(\w+)"', group) == ["applicant_kind", "organisation", "id_number"]
    script = page[page.index("</fieldset>", page.index('id="disclosure-fields"')) :]
    assert 'box.hidden=!(picked&&picked.value==="disclosure_request")' in script[: script.index("</script>")]
    assert (
        "hidden"
        not in page[
            page.index('<fieldset class="disclosure-fields"') : page.index(
                ">", page.index('<fieldset class="disclosure-fields"')
            )
        ]
    )


def test_disclosure_request_fields_are_still_checked(client):
    refused = send(client, message(client, kind=CaseKind.DISCLOSURE_REQUEST, id_number="123"))
    assert refused.status_code == 200
    assert list(refused.context["form"].errors) == ["id_number"]
    assert not Case.objects.exists()


def test_other_kinds_ignore_what_was_typed_in_the_hidden_disclosure_fields(client):
    data = message(client, kind=CaseKind.COMPLAINT, id_number="123", organisation="某公司", applicant_kind="business")
    assert send(client, data).status_code == 303
    case = Case.objects.get()
    assert (case.kind, case.id_number, case.organisation, case.applicant_kind) == (
        "complaint", "", "", "natural_person",
    )  # fmt: skip


def test_citizen_is_thanked_after_rating(client, replied_case):  # noqa: F811 - the fixture
    case, code = replied_case
    look_up(client, case.number, code)
    assert THANKS not in client.get(reverse("complaints:status", args=[case.number])).content.decode()
    response = client.post(RATE, {"number": case.number, "rating": Rating.SATISFIED})
    assert response.status_code == 303
    assert response["Location"] == reverse("complaints:status", args=[case.number]) + "?rated=1"
    page = client.get(response["Location"]).content.decode()
    assert f'<div class="thanks" role="status"><p><strong>{THANKS}</strong></p>' in page
