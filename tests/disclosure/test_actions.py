"""Disclosure batches: for every action, person and state, the admin shows the button exactly when
`execute` succeeds, and the table below says who that is (disclosure/actions.py holds the rules)."""

import pytest
from django.urls import reverse

from accounts import roles
from disclosure import services
from disclosure.actions import BATCH_ACTIONS, CORRECT, DISCARD
from disclosure.models import BatchState, Disbursement, DisclosureBatch
from tests.action_table import each_person, executes, shown
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# The change page answers 200 to whoever may read the department's batches, 403 to the others.
STATUS = {"officer": 200, "reviewer": 200, "reviewer_author": 200, "sysadmin": 200,
          "editor": 403, "police_officer": 403, "police_reviewer": 403}  # fmt: skip
NOBODY_ELSE = dict.fromkeys(STATUS, set())
EXPECTED = {
    "empty_draft": {**NOBODY_ELSE, "officer": {"discard"}},  # nothing to submit yet
    "draft": {**NOBODY_ELSE, "officer": {"submit", "discard"}},
    "submitted": {**NOBODY_ELSE, "reviewer": {"publish", "reject"}},  # not reviewer_author: they created it
    "rejected": {**NOBODY_ELSE, "officer": {"submit", "discard"}},
    "published": {**NOBODY_ELSE, "officer": {"withdraw", "correct"}, "sysadmin": {"withdraw"}},
    "withdrawn": NOBODY_ELSE,
    "import_failed": {**NOBODY_ELSE, "officer": {"discard"}},
}


@pytest.fixture
def people(officer, batch_reviewer, other_officer, administrator, editor, county):
    return {
        "officer": officer,
        "reviewer": batch_reviewer,
        "reviewer_author": UserFactory(username="reviewer-author", department=county["office"], role=roles.REVIEWER),
        "sysadmin": administrator,
        "editor": editor,
        "police_officer": other_officer,
        "police_reviewer": UserFactory(username="police-reviewer", department=county["police"], role=roles.REVIEWER),
    }


@pytest.fixture
def batch_in(make_batch, add_disbursement, officer, batch_reviewer, people):
    """A batch of the county office in `state`, created (as far as the rules know) by `reviewer_author`."""

    def make(state):
        batch = make_batch()
        if state != "empty_draft":
            add_disbursement(batch)
        if state in ("submitted", "rejected", "published", "withdrawn"):
            services.batch_submit(actor=officer, batch=batch)
        if state == "rejected":
            services.batch_reject(actor=batch_reviewer, batch=batch, comment="村名有误")
        if state in ("published", "withdrawn"):
            services.batch_publish(actor=batch_reviewer, batch=batch)
        if state == "withdrawn":
            services.batch_withdraw(actor=officer, batch=batch, reason="金额有误")
        if state == "import_failed":
            DisclosureBatch.objects.filter(pk=batch.pk).update(state=BatchState.IMPORT_FAILED)
        DisclosureBatch.objects.filter(pk=batch.pk).update(created_by=people["reviewer_author"])
        return DisclosureBatch.objects.get(pk=batch.pk)

    return make


@pytest.mark.parametrize("state", EXPECTED)
def test_each_button_is_shown_exactly_when_its_action_succeeds(state, batch_in, people, client):
    batch = batch_in(state)
    urls = {action.code: reverse("admin:disclosure_disclosurebatch_workflow", args=[batch.pk, action.code])
            for action in BATCH_ACTIONS}  # fmt: skip
    urls[DISCARD.code] = reverse("admin:disclosure_disclosurebatch_delete", args=[batch.pk])  # Django's delete link
    params = {"reject": {"reason": "请核对"}, "withdraw": {"reason": "金额有误"}}

    def snapshot():
        return (
            list(DisclosureBatch.objects.values().order_by("pk")),
            list(Disbursement.objects.filter(batch=batch).values().order_by("pk")),
        )

    for name, user in each_person(people):
        client.force_login(user)
        page = client.get(reverse("admin:disclosure_disclosurebatch_change", args=[batch.pk]))
        assert page.status_code == STATUS[name], name
        buttons = shown(page.content.decode(), urls)
        succeeded = {
            action.code
            for action in (*BATCH_ACTIONS, DISCARD)
            if executes(action, user, batch, snapshot, **params.get(action.code, {}))
        }
        assert buttons == succeeded, f"{name} in {state}: shown {buttons}, succeeded {succeeded}"
        assert succeeded == EXPECTED[state][name], f"{name} in {state}: {succeeded}"


def test_the_correct_button_opens_a_draft_correction_of_the_same_records(batch_in, people, client):
    published = batch_in("published")
    client.force_login(people["officer"])
    response = client.post(reverse("admin:disclosure_disclosurebatch_workflow", args=[published.pk, CORRECT.code]))
    correction = DisclosureBatch.objects.get(corrects=published)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:disclosure_disclosurebatch_change", args=[correction.pk])
    assert (correction.state, correction.record_type, correction.department_id, correction.created_by) == (
        BatchState.DRAFT, published.record_type, published.department_id, people["officer"],
    )  # fmt: skip
    assert correction.title == f"更正：{published.title}"


def test_a_discard_refused_in_the_admin_answers_403_and_keeps_the_batch(batch_in, people, client):
    published = batch_in("published")
    client.force_login(people["officer"])
    assert (
        client.post(
            reverse("admin:disclosure_disclosurebatch_delete", args=[published.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert DisclosureBatch.objects.filter(pk=published.pk, state=BatchState.PUBLISHED).exists()


def test_waiting_for_review_on_the_dashboard_is_what_i_may_approve(batch_in, make_batch, add_disbursement, people,
                                                                   client):  # fmt: skip
    from disclosure.actions import PUBLISH

    mine = batch_in("submitted")  # created by reviewer_author
    other = make_batch(title="第二批")
    add_disbursement(other)
    other = services.batch_submit(actor=people["officer"], batch=other)
    expected = {"reviewer": ["2026年第一批低保资金发放", "第二批"], "reviewer_author": ["第二批"],
                "police_reviewer": [], "officer": []}  # fmt: skip
    for name, titles in expected.items():
        client.force_login(people[name])
        page = client.get(reverse("admin:index")).content.decode()
        listed = [title for title in ("2026年第一批低保资金发放", "第二批") if f">{title}</a>" in page]
        assert listed == titles, name
        allowed = [batch.title for batch in (mine, other) if PUBLISH.allowed(people[name], batch)]
        assert listed == allowed, name
