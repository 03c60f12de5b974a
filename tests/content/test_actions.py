"""Articles: for every action, person and state, the admin shows the button exactly when `execute`
succeeds, and the table below says who that is (content/actions.py holds the rules)."""

import pytest
from django.urls import reverse

from accounts import roles
from accounts.models import ReviewLevel
from content.actions import APPROVE, ARTICLE_ACTIONS, RESTORE_REVISION
from content.models import Article
from content.selectors import articles_awaiting_review
from content.services import article_approve, article_create, article_publish, article_submit, article_withdraw
from tests.action_table import each_person, executes, shown
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

REVIEWERS = {"rev1", "rev2", "rev3", "rev1_editing"}
# The change page answers 200 to whoever may read articles of the department, 403 to the others.
STATUS = {"editor": 200, **dict.fromkeys(REVIEWERS, 200), "sysadmin": 200,
          "discloser": 403, "police_editor": 403, "police_rev1": 403}  # fmt: skip
NOBODY_ELSE = dict.fromkeys(STATUS, set())
EXPECTED = {
    "draft": {**NOBODY_ELSE, "editor": {"submit", "restore"}},
    "step1": {**NOBODY_ELSE, "editor": {"restore"}, "rev1": {"approve", "reject"}},  # not rev1_editing: last editor
    "step2": {**NOBODY_ELSE, "editor": {"restore"}, "rev2": {"approve", "reject"}},
    "approved": {**NOBODY_ELSE, "editor": {"publish", "restore"}},
    "published": {
        **NOBODY_ELSE,
        "editor": {"restore"},
        **dict.fromkeys(REVIEWERS, {"withdraw"}),
        "sysadmin": {"withdraw"},
    },  # fmt: skip
    "withdrawn": {**NOBODY_ELSE, "editor": {"restore"}},
}


@pytest.fixture
def people(editor, reviewers, disclosure_officer, administrator, county):
    def reviewer(username, department, level=ReviewLevel.FIRST):
        return UserFactory(username=username, department=department, role=roles.REVIEWER, review_level=level)

    return {
        "editor": editor,
        "rev1": reviewers[ReviewLevel.FIRST],
        "rev2": reviewers[ReviewLevel.SECOND],
        "rev3": reviewers[ReviewLevel.FINAL],
        "rev1_editing": reviewer("rev1-editing", county["county"]),
        "discloser": disclosure_officer,
        "sysadmin": administrator,
        "police_editor": UserFactory(username="police-editor", department=county["police"], role=roles.EDITOR),
        "police_rev1": reviewer("police-rev1", county["police"]),
    }


@pytest.fixture
def article_in(make_article, editor, reviewers, people):
    """An article of the three-step column in `state`, last edited by the first-level reviewer `rev1_editing`."""

    def make(state):
        article = make_article(column="news")
        if state != "draft":
            article = article_submit(actor=editor, article=article)
        steps = {"step1": 0, "step2": 1}.get(state, 3)
        for level in article.review_plan[:steps]:
            article_approve(actor=reviewers[level], article=article)
        if state in ("published", "withdrawn"):
            article_publish(actor=editor, article=article)
        if state == "withdrawn":
            article_withdraw(actor=people["rev1"], article=article, reason="撤稿")
        Article.objects.filter(pk=article.pk).update(updated_by=people["rev1_editing"])
        return Article.objects.get(pk=article.pk)

    return make


@pytest.mark.parametrize("state", EXPECTED)
def test_each_button_is_shown_exactly_when_its_action_succeeds(state, article_in, people, client):
    article = article_in(state)
    revision = article.revisions.order_by("number").first()
    urls = {action.code: reverse("admin:content_article_workflow", args=[article.pk, action.code])
            for action in ARTICLE_ACTIONS}  # fmt: skip
    params = {"reject": {"reason": "请补充来源"}, "withdraw": {"reason": "数据有误"}, "restore": {"revision": revision}}

    def snapshot():
        return (
            Article.objects.filter(pk=article.pk).values().get(),
            article.revisions.count(),
            article.reviews.count(),
        )

    for name, user in each_person(people):
        client.force_login(user)
        page = client.get(reverse("admin:content_article_change", args=[article.pk]))
        assert page.status_code == STATUS[name], name
        buttons = shown(page.content.decode(), urls)
        revisions = client.get(reverse("admin:content_article_revisions", args=[article.pk]))
        assert revisions.status_code == STATUS[name], name
        if f'form="restore-{revision.number}"' in revisions.content.decode():
            buttons.add("restore")
        succeeded = {
            action.code
            for action in (*ARTICLE_ACTIONS, RESTORE_REVISION)
            if executes(action, user, article, snapshot, **params.get(action.code, {}))
        }
        assert buttons == succeeded, f"{name} in {state}: shown {buttons}, succeeded {succeeded}"
        assert succeeded == EXPECTED[state][name], f"{name} in {state}: {succeeded}"


def test_waiting_for_my_review_lists_exactly_what_i_may_approve(article_in, people, county, columns):
    first = article_in("step1")  # last edited by rev1_editing
    second = article_in("step2")
    police = article_create(
        actor=people["police_editor"],
        article=Article(title="公安稿件", body="<p>正文</p>", column=columns["news"], department=county["police"]),
    )
    article_submit(actor=people["police_editor"], article=police)
    candidates = [first, second, Article.objects.get(pk=police.pk)]
    # The county's reviewers review every department's articles; the police's only the police's.
    expected = {"rev1": [first, police], "rev2": [second], "rev3": [], "rev1_editing": [police],
                "police_rev1": [police]}  # fmt: skip
    for name, listed in expected.items():
        user = people[name]
        assert articles_awaiting_review(user) == listed, name
        assert listed == [article for article in candidates if APPROVE.allowed(user, article)], name
