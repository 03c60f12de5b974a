"""Tracking a message with its number and query code: a wrong code and an unknown number look the same, failures
are limited per address and per address and case (past the limit even the right code is refused from that address),
failures on a case ask for the captcha but never lock the citizen out, the status page shows no personal data, and
the citizen rates the reply and reopens a dissatisfying one once."""

import re

import pytest
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext

from complaints.models import Case, CaseState, Rating
from complaints.services import case_merge, reply_approve, reply_save, reply_submit
from shared import ratelimit
from tests.captcha import captcha_post_data

pytestmark = pytest.mark.django_db

TRACK = reverse("complaints:track")
RATE = reverse("complaints:rate")
REOPEN = reverse("complaints:reopen")
WRONG = gettext("The case number or the query code is wrong. Please check both and try again.")
REPLY = "经核查，食堂已退还多收的伙食费。\n如有疑问请致电教育局。"


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    ratelimit.clear_all()
    yield
    ratelimit.clear_all()


@pytest.fixture
def replied_case(routed_case, handler, head):
    """A complaint the education bureau answered (drafted by Alice, approved by Dora); returns (case, code)."""
    case, code = routed_case()
    reply_save(actor=handler, case=case, body=REPLY)
    reply_submit(actor=handler, case=case)
    return reply_approve(actor=head, case=case), code


def look_up(client, number, code, remote_addr="127.0.0.1"):
    return client.post(TRACK, {"number": number, "code": code}, REMOTE_ADDR=remote_addr)


def without_csrf(page: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page)


def status_page(client, case):
    response = client.get(reverse("complaints:status", args=[case.number]))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    return response.content.decode()


def test_wrong_code_and_unknown_number_get_the_same_answer_revealing_nothing(client, routed_case):
    case, code = routed_case()
    wrong_code = look_up(client, case.number, "ABCDEFGH")
    # An unknown number of the same shape, so the echoed form differs in nothing else.
    unknown = case.number[:-1] + ("2" if case.number[-1] != "2" else "3")
    unknown_number = look_up(client, unknown, "ABCDEFGH")
    assert wrong_code.status_code == unknown_number.status_code == 200
    assert escape(WRONG) in wrong_code.content.decode()
    assert without_csrf(wrong_code.content.decode()).replace(case.number, unknown) == without_csrf(
        unknown_number.content.decode()
    )
    page = wrong_code.content.decode()
    assert case.subject not in page and case.department.name not in page
    assert "complaints_tracked" not in client.session


def test_wrong_codes_on_a_case_ask_for_the_captcha_but_never_lock_the_citizen_out(client, routed_case, settings):
    settings.COMPLAINT_TRACK_CAPTCHA_AFTER = 2
    case, code = routed_case()
    # Someone guesses wrong on the citizen's case from many addresses.
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"):
        assert look_up(client, case.number, "WRONGCDE", address).status_code == 200
    # The citizen, from home: the right code alone is not enough now, the captcha is asked for...
    asked = look_up(client, case.number, code, "192.0.2.50")
    page = asked.content.decode()
    assert asked.status_code == 200
    assert 'name="captcha_answer"' in page and f'value="{case.number}"' in page
    assert escape(gettext("Please enter the verification code shown in the picture.")) in page
    assert "complaints_tracked" not in client.session
    # ...and with it, the citizen gets in.
    solved = captcha_post_data(page)
    found = client.post(TRACK, {"number": case.number, "code": code, **solved}, REMOTE_ADDR="192.0.2.50")
    assert found.status_code == 303
    assert found["Location"] == reverse("complaints:status", args=[case.number])


def test_a_wrong_captcha_is_refused_without_looking_at_the_code(client, routed_case, settings):
    settings.COMPLAINT_TRACK_CAPTCHA_AFTER = 1
    case, code = routed_case()
    look_up(client, case.number, "WRONGCDE", "10.0.0.1")
    page = look_up(client, case.number, code, "192.0.2.50").content.decode()
    data = {"number": case.number, "code": code, **captcha_post_data(page), "captcha_answer": "0000"}
    refused = client.post(TRACK, data, REMOTE_ADDR="192.0.2.50")
    assert refused.status_code == 200
    assert escape(gettext("The verification code is wrong or has expired. Please enter the new code.")) in (
        refused.content.decode()
    )
    assert "complaints_tracked" not in client.session


def test_after_a_wrong_attempt_the_form_comes_back_with_the_captcha_once_it_is_needed(client, routed_case, settings):
    settings.COMPLAINT_TRACK_CAPTCHA_AFTER = 2
    case, _code = routed_case()
    first = look_up(client, case.number, "WRONGCDE").content.decode()
    assert 'name="captcha_answer"' not in first
    second = look_up(client, case.number, "WRONGCDE").content.decode()
    assert 'name="captcha_answer"' in second and escape(WRONG) in second
    assert 'value="WRONGCDE"' in second  # what was typed stays


def test_an_unknown_number_asks_for_the_captcha_exactly_like_a_known_one(client, routed_case, settings):
    settings.COMPLAINT_TRACK_CAPTCHA_AFTER = 2
    case, _code = routed_case()
    unknown = case.number[:-1] + ("2" if case.number[-1] != "2" else "3")
    pages = []
    for number, address in ((case.number, "10.0.0.1"), (unknown, "10.0.0.2")):
        look_up(client, number, "WRONGCDE", address)
        response = look_up(client, number, "WRONGCDE", address)
        assert response.status_code == 200
        pages.append(
            re.sub(r"captcha/[^.]+\.png|value=\"[A-Za-z0-9_-]{20,}\"", "", without_csrf(response.content.decode()))
        )
    assert 'name="captcha_answer"' in pages[0]
    assert pages[0].replace(case.number, unknown) == pages[1]


def test_after_the_failure_limit_of_an_address_on_a_case_that_address_is_refused(client, routed_case, settings):
    settings.COMPLAINT_TRACK_FAILURES_PER_IP_CASE = 2
    settings.COMPLAINT_TRACK_CAPTCHA_AFTER = 100
    case, code = routed_case()
    for _ in range(2):
        assert look_up(client, case.number, "WRONGCDE", "10.0.0.1").status_code == 200
    refused = look_up(client, case.number, code, "10.0.0.1")
    page = refused.content.decode()
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert escape(gettext("There have been too many wrong attempts.")) in page
    assert case.subject not in page
    assert f'value="{case.number}"' in page  # the form is kept
    assert "complaints_tracked" not in client.session
    # The same address on another case, and the citizen from another address, are not affected.
    other, other_code = routed_case()
    assert look_up(client, other.number, other_code, "10.0.0.1").status_code == 303
    assert look_up(client, case.number, code, "10.0.0.2").status_code == 303


def test_after_the_failure_limit_of_an_address_it_is_refused_for_every_case(client, routed_case, settings):
    settings.COMPLAINT_TRACK_FAILURES_PER_IP = 3
    settings.COMPLAINT_TRACK_CAPTCHA_AFTER = 100
    case, code = routed_case()
    for guess in range(3):
        assert look_up(client, f"2026-AAAAAAA{guess + 2}", "ABCDEFGH").status_code == 200
    assert look_up(client, case.number, code).status_code == 429
    assert look_up(client, case.number, code, "10.9.9.9").status_code == 303


def test_successful_lookups_do_not_count_toward_the_limit(client, routed_case, settings):
    settings.COMPLAINT_TRACK_FAILURES_PER_IP = 1
    case, code = routed_case()
    for _ in range(3):
        assert look_up(client, case.number, code).status_code == 303


def test_right_code_shows_state_and_reply_but_no_personal_data(client, replied_case):
    case, code = replied_case
    found = look_up(client, case.number.lower(), code.lower())
    assert found.status_code == 303
    assert found["Location"] == reverse("complaints:status", args=[case.number])
    assert code not in found["Location"]
    page = status_page(client, case)
    assert case.subject in page
    assert escape(gettext("Replied")) in page and case.department.name in page
    assert "经核查，食堂已退还多收的伙食费。<br>如有疑问请致电教育局。" in page
    for personal in ("张三丰", "13812345678", "138****5678", case.content):
        assert personal not in page
    assert 'name="rating"' in page and 'name="reason"' not in page


def test_status_page_needs_the_code_checked_in_this_session(client, routed_case):
    case, _code = routed_case()
    response = client.get(reverse("complaints:status", args=[case.number]))
    assert response.status_code == 303 and response["Location"] == TRACK
    assert client.post(RATE, {"number": case.number, "rating": Rating.SATISFIED})["Location"] == TRACK
    assert client.post(REOPEN, {"number": case.number, "reason": "还没解决"})["Location"] == TRACK


def test_open_case_shows_department_and_due_date(client, routed_case):
    case, code = routed_case()
    look_up(client, case.number, code)
    page = status_page(client, case)
    assert case.department.name in page
    assert case.due_date.strftime("%Y-%m-%d") in page
    assert 'name="rating"' not in page


def test_satisfied_rating_closes_the_case(client, replied_case):
    case, code = replied_case
    look_up(client, case.number, code)
    response = client.post(RATE, {"number": case.number, "rating": Rating.SATISFIED, "comment": "处理及时"})
    assert response.status_code == 303
    case.refresh_from_db()
    assert (case.state, case.rating, case.rating_comment) == (CaseState.CLOSED, Rating.SATISFIED, "处理及时")
    page = status_page(client, case)
    assert 'name="rating"' not in page and 'name="reason"' not in page


def test_dissatisfied_citizen_reopens_once(client, replied_case):
    case, code = replied_case
    look_up(client, case.number, code)
    assert client.post(RATE, {"number": case.number, "rating": Rating.DISSATISFIED}).status_code == 303
    page = status_page(client, case)
    assert 'name="reason"' in page and 'name="rating"' not in page

    empty = client.post(REOPEN, {"number": case.number, "reason": "  "})
    assert empty.status_code == 200
    assert 'id="id_reason_error"' in empty.content.decode()

    assert client.post(REOPEN, {"number": case.number, "reason": "钱还没退"}).status_code == 303
    case.refresh_from_db()
    assert (case.state, case.reopened_count) == (CaseState.DRAFTING, 1)
    page = status_page(client, case)
    assert 'name="reason"' not in page and 'name="rating"' not in page

    again = client.post(REOPEN, {"number": case.number, "reason": "再次申请"})
    assert again.status_code == 200
    assert escape(gettext("This case cannot be reopened: it is %(state)s.") % {"state": gettext("Drafting reply")}) in (
        again.content.decode()
    )


def test_rating_needs_a_choice_and_plain_text(client, replied_case):
    case, code = replied_case
    look_up(client, case.number, code)
    missing = client.post(RATE, {"number": case.number})
    assert escape(gettext("Please choose how satisfied you are.")) in missing.content.decode()
    script = client.post(RATE, {"number": case.number, "rating": Rating.SATISFIED, "comment": "<script>x</script>"})
    page = script.content.decode()
    assert 'id="id_comment_error"' in page and "<script>x" not in page
    case.refresh_from_db()
    assert case.rating == "" and case.state == CaseState.REPLIED


def test_merged_case_names_the_case_it_was_merged_into(client, routed_case, handler):
    case, code = routed_case()
    into, _code = routed_case()
    case_merge(actor=handler, case=case, into=into, reason="重复来信")
    look_up(client, case.number, code)
    page = status_page(client, Case.objects.get(pk=case.pk))
    assert into.number in page
    assert escape(gettext("Merged into another case")) in page


def test_tracking_form_is_accessible_and_never_cached(client):
    response = client.get(TRACK)
    page = response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert 'for="id_number"' in page and 'for="id_code"' in page
    empty = client.post(TRACK, {"number": "", "code": ""})
    assert 'href="#id_number"' in empty.content.decode()
    assert escape(gettext("Please enter the query code.")) in empty.content.decode()
