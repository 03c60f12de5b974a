"""Each demo role lands on its own 工作台 (govcms/workbench.py): exactly its sections on the 待办 and 已办 tabs, each
count what the actions allow (asked object by object here, counted in SQL by the page), a returned article with the
reviewer's reason, and a number of queries that does not grow with the data."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from tests.workbench import workbench

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_data")]

TODO_SECTIONS = {
    "editor": {
        "articles": ["drafts", "returned", "to_publish"],
        "publishing": ["scheduled", "failed"],
    },
    "reviewer1": {"articles": ["to_review"], "disclosure": ["to_review"]},
    "handler": {"cases": ["assigned", "drafting", "sent_back", "overdue", "due_soon"]},
    "head-edu": {"cases": ["assigned", "drafting", "sent_back", "to_review", "extensions", "overdue", "due_soon"]},
    "registrar": {"cases": ["to_route", "overdue", "due_soon"]},
    "discloser": {"disclosure": ["importing", "import_failed", "returned", "drafts"]},
    "admin": {
        "articles": ["drafts", "returned", "to_publish"],
        "publishing": ["scheduled", "failed"],
        "disclosure": ["to_review", "importing", "import_failed", "returned", "drafts"],
        "cases": ["to_route", "assigned", "drafting", "sent_back", "to_review", "extensions", "overdue", "due_soon"],
    },
}
DONE_SECTIONS = {
    "editor": {"articles": ["submitted", "published"], "publishing": ["sent"]},
    "reviewer1": {"articles": ["reviewed"], "disclosure": ["reviewed"]},
    "handler": {"cases": ["replied"]},
    "head-edu": {"cases": ["replied", "reviewed"]},
    "registrar": {},
    "discloser": {"disclosure": ["submitted", "published"]},
    "admin": {
        "articles": ["submitted", "published"],
        "publishing": ["sent"],
        "disclosure": ["submitted", "published", "reviewed"],
        "cases": ["replied", "reviewed"],
    },
}


def person(username):
    return User.objects.get(username=username)


def allowed(action, user, objects, **only) -> int:
    """How many of `objects` the action's own check allows the user (the rule asked object by object)."""
    return sum(1 for obj in objects if all(getattr(obj, k) == v for k, v in only.items()) and action.allowed(user, obj))


def expected_counts(user) -> dict:
    """The "may act on now" counts as the actions' checks give them, for the sections that are actions."""
    from complaints import actions as case_actions
    from complaints.models import Case, CaseState
    from content import actions as article_actions
    from content.models import Article
    from disclosure import actions as batch_actions
    from disclosure.models import DisclosureBatch

    articles = list(Article.objects.select_related("column"))
    batches = list(DisclosureBatch.objects.all())
    cases = list(Case.objects.prefetch_related("drafts"))

    def sent_back(case):
        draft = case_actions.current_draft(case)
        return draft is not None and draft.reviewed_at is not None

    return {
        "articles": {
            "drafts": allowed(article_actions.SUBMIT, user, articles, rejection_reason=""),
            "returned": sum(1 for a in articles if a.rejection_reason and article_actions.SUBMIT.allowed(user, a)),
            "to_publish": allowed(article_actions.PUBLISH, user, articles),
            "to_review": allowed(article_actions.APPROVE, user, articles),
        },
        "disclosure": {
            "to_review": allowed(batch_actions.PUBLISH, user, batches),
            "returned": allowed(batch_actions.EDIT, user, batches, state="rejected"),
            "drafts": allowed(batch_actions.EDIT, user, batches, state="draft"),
        },
        "cases": {
            "to_route": allowed(case_actions.ROUTE, user, cases),
            "assigned": allowed(case_actions.REPLY, user, cases, state=CaseState.ASSIGNED),
            "drafting": sum(
                1
                for c in cases
                if c.state == CaseState.DRAFTING and not sent_back(c) and case_actions.REPLY.allowed(user, c)
            ),
            "sent_back": sum(
                1
                for c in cases
                if c.state == CaseState.DRAFTING and sent_back(c) and case_actions.REPLY.allowed(user, c)
            ),
            "to_review": allowed(case_actions.APPROVE, user, cases),
            "extensions": allowed(case_actions.EXTENSION_APPROVE, user, cases),
        },
    }


@pytest.mark.parametrize("username", sorted(TODO_SECTIONS))
def test_each_role_sees_exactly_its_sections_with_the_counts_the_actions_allow(login, username):
    user = person(username)
    client = login(user)
    todo = workbench(client, "todo")
    assert {group: list(sections) for group, sections in todo.items()} == TODO_SECTIONS[username]
    done = workbench(client, "done")
    assert {group: list(sections) for group, sections in done.items()} == DONE_SECTIONS[username]
    expected = expected_counts(user)
    for group, sections in todo.items():
        for key, count in sections.items():
            if key in expected.get(group, {}):
                assert count == expected[group][key], (username, group, key)


def test_the_demo_gives_each_role_work_to_do(login):
    # The counts above are not all zero: the demo holds work for each person.
    counts = {name: workbench(login(person(name)), "todo") for name in ("editor", "reviewer1", "handler", "head-edu")}
    assert counts["editor"]["articles"]["drafts"] > 0 and counts["editor"]["articles"]["to_publish"] > 0
    assert counts["reviewer1"]["articles"]["to_review"] > 0
    assert counts["handler"]["cases"]["assigned"] > 0
    assert counts["head-edu"]["cases"]["to_review"] > 0


def test_the_tabs_show_their_totals_and_link_to_each_other(login):
    client = login(person("reviewer1"))
    response = client.get(reverse("admin:index"))
    todo = workbench(client, "todo")
    done = workbench(client, "done")
    tabs = {tab["key"]: tab["count"] for tab in response.context["workbench_tabs"]}
    assert tabs == {
        "todo": sum(sum(s.values()) for s in todo.values()),
        "done": sum(sum(s.values()) for s in done.values()),
    }
    page = response.content.decode()
    assert 'href="?tab=done"' in page and 'href="?tab=todo" data-tab="todo"' in page and 'aria-current="page"' in page
    assert "待办" in page and "已办" in page


def test_a_returned_article_shows_the_reviewers_reason(login):
    from content.actions import APPROVE, REJECT
    from content.models import Article

    reviewer = person("reviewer1")
    article = next(a for a in Article.objects.filter(state="in_review") if APPROVE.allowed(reviewer, a))
    REJECT.execute(reviewer, article, reason="第二段数据与统计局公报不一致，请核实")
    client = login(person("editor"))
    before = workbench(client)["articles"]
    page = client.get(reverse("admin:index")).content.decode()
    assert before["returned"] == 1
    assert "第二段数据与统计局公报不一致，请核实" in page and str(reviewer) in page
    assert reverse("admin:content_article_change", args=[article.pk]) in page
    # A new draft is not a returned one: the returned article is counted once, under "returned".
    assert before["drafts"] == expected_counts(person("editor"))["articles"]["drafts"]
    assert "第二段数据与统计局公报不一致" not in login(person("reviewer1")).get(reverse("admin:index")).content.decode()


def test_a_sent_back_reply_shows_the_heads_comment_to_the_handler(login):
    from complaints import actions
    from complaints.models import Case

    head = person("head-edu")
    case = next(c for c in Case.objects.filter(state="reply_in_review") if actions.SEND_BACK.allowed(head, c))
    actions.SEND_BACK.execute(head, case, reason="请补充政策依据的文号")
    client = login(person("handler"))
    assert workbench(client)["cases"]["sent_back"] == 1
    page = client.get(reverse("admin:index")).content.decode()
    assert "请补充政策依据的文号" in page and case.number in page


def test_each_list_shows_at_most_ten_rows_and_links_to_the_full_list(login):
    client = login(person("admin"))
    response = client.get(reverse("admin:index"))
    for group in response.context["workbench_groups"]:
        for section in group["sections"]:
            assert len(section.rows) <= 10
            assert len(section.rows) == min(section.count, 10), section
    page = response.content.decode()
    assert f"{reverse('admin:complaints_case_changelist')}?deadline=overdue" in page


def test_the_filtered_lists_behind_the_sections_open(login):
    # A link to a filter the changelist refuses would land on "?e=1".
    client = login(person("admin"))
    for tab in ("todo", "done"):
        response = client.get(reverse("admin:index"), {"tab": tab})
        for group in response.context["workbench_groups"]:
            for section in group["sections"]:
                if section.url:
                    opened = client.get(section.url)
                    assert opened.status_code == 200, section.url


def test_the_data_cards(login):
    response = login(person("admin")).get(reverse("admin:index"))
    cards = {card.key: card for card in response.context["workbench_cards"]}
    assert set(cards) == {"sends_this_week", "quota", "account_health", "overdue", "on_time"}
    assert cards["overdue"].value == workbench(login(person("admin")))["cases"]["overdue"]
    assert set(c.key for c in login(person("editor")).get(reverse("admin:index")).context["workbench_cards"]) == {
        "sends_this_week",
        "quota",
        "account_health",
    }


def test_the_number_of_queries_does_not_grow_with_the_lists(login):
    # Counting is one COUNT per section and each list reads (and checks) at most ten rows: once a list is full,
    # fifteen more drafts cost no query.
    from content.models import Article

    client = login(person("editor"))
    template = Article.objects.filter(state="draft", rejection_reason="").first()

    def add_drafts(how_many):
        for n in range(how_many):
            template.pk, template.id = None, None
            template.title = f"新草稿{n}"
            template.save()

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            client.get(reverse("admin:index"))
        return len(captured)

    add_drafts(10)
    client.get(reverse("admin:index"))  # warm caches (permissions)
    before, drafts = queries(), workbench(client)["articles"]["drafts"]
    add_drafts(15)
    assert workbench(client)["articles"]["drafts"] == drafts + 15
    assert queries() == before


def test_a_reviewer_opens_each_waiting_article_on_its_review_page_and_sees_how_long_it_waited(login):
    from content.actions import APPROVE
    from content.models import Article

    reviewer = person("reviewer1")
    response = login(reviewer).get(reverse("admin:index"))
    (articles,) = [g for g in response.context["workbench_groups"] if g["key"] == "articles"]
    (waiting_rows,) = [s.rows for s in articles["sections"] if s.key == "to_review"]
    allowed_ids = {a.pk for a in Article.objects.all() if APPROVE.allowed(reviewer, a)}
    assert {row.url for row in waiting_rows} == {
        reverse("admin:content_article_review", args=[pk]) for pk in allowed_ids
    }
    assert all(row.since is not None for row in waiting_rows)
    assert "已等待" in response.content.decode()
    assert f"{reverse('admin:content_article_changelist')}?review=waiting" in response.content.decode()


@pytest.mark.parametrize(
    ("username", "group", "keys"),
    [
        ("editor", "articles", ["drafts", "returned", "to_publish"]),
        ("reviewer1", "articles", ["to_review"]),
        ("handler", "cases", ["assigned", "overdue", "due_soon"]),
        ("registrar", "cases", ["to_route", "overdue"]),
    ],
)
def test_view_all_opens_the_list_of_exactly_the_counted_rows(login, username, group, keys):
    client = login(person(username))
    response = client.get(reverse("admin:index"))
    (shown,) = [g for g in response.context["workbench_groups"] if g["key"] == group]
    sections = {s.key: s for s in shown["sections"]}
    for key in keys:
        listed = client.get(sections[key].url)
        assert listed.status_code == 200, sections[key].url
        assert listed.context["cl"].result_count == sections[key].count, (username, key)
