"""The admin's left menu (govcms/navigation.py): each demo role sees exactly its own tasks, and a badge counts
exactly the rows its list shows, which are the rows the actions' own `check` allows."""

import re

import pytest
from django.urls import reverse

from accounts.models import User
from complaints import actions as case_actions
from complaints.models import Case
from content.actions import APPROVE as APPROVE_ARTICLE
from content.models import Article

pytestmark = pytest.mark.django_db

MENU = {
    "editor": ["工作台", "写稿", "我的稿件", "群发计划", "发布日历", "账号健康", "口径库", "口径库统计"],
    "reviewer1": ["工作台", "口径库", "口径库统计", "待我审核", "已审核"],
    "reviewer3": ["工作台", "口径库", "口径库统计", "待我审核", "已审核"],
    "discloser": ["工作台", "公开批次", "导入", "年度报告"],
    "registrar": ["工作台", "待办件", "即将到期", "已办结"],
    "handler": ["工作台", "待办件", "即将到期", "已办结"],
    "head-edu": ["工作台", "待我审批"],
    "admin": ["工作台", "账号与安全", "审计", "微信自定义菜单", "微信粉丝标签"],
    "sysadmin": ["工作台", "账号与安全", "微信自定义菜单", "微信粉丝标签"],
    "secadmin": ["工作台", "账号与安全"],
    "auditor": ["工作台", "审计"],
}


@pytest.fixture
def demo(demo_data):
    """The demo data, seeded once for this module (tests/conftest.py)."""


def menu(response) -> list[tuple[str, str, str]]:
    """(title, link, badge) of every item the menu shows."""
    return [
        (str(item["title"]), str(item.get("link_callback") or item["link"]), str(item.get("badge_callback") or ""))
        for group in response.context["sidebar_navigation"]
        for item in group["items"]
        if item["has_permission"]
    ]


def login(client, username):
    user = User.objects.get(username=username)
    client.force_login(user)
    return user


@pytest.mark.parametrize("username", sorted(MENU))
def test_each_role_sees_exactly_its_tasks_and_every_link_opens(demo, client, username):
    login(client, username)
    items = menu(client.get(reverse("admin:index")))
    assert [title for title, _link, _badge in items] == MENU[username]
    for title, link, _badge in items:
        assert client.get(link).status_code == 200, (username, title, link)


def list_count(client, link) -> int:
    return client.get(link).context["cl"].result_count


def badge(client, title) -> tuple[str, str]:
    page = client.get(reverse("admin:index"))
    found = {item_title: (link, count) for item_title, link, count in menu(page)}
    link, count = found[title]
    if count:
        assert re.search(rf"nav-badge[^>]*>{count}</span>", page.content.decode())
    return link, count


def test_a_reviewer_badge_counts_the_articles_waiting_for_that_reviewer(demo, client):
    reviewer = login(client, "reviewer1")
    allowed = sum(APPROVE_ARTICLE.allowed(reviewer, article) for article in Article.objects.all())
    link, count = badge(client, "待我审核")
    assert allowed > 0
    assert (count, list_count(client, link)) == (str(allowed), allowed)


@pytest.mark.parametrize(
    ("username", "title", "actions"),
    [
        ("handler", "待办件", (case_actions.ROUTE, case_actions.REPLY)),
        ("registrar", "待办件", (case_actions.ROUTE, case_actions.REPLY)),
        ("head-edu", "待我审批", (case_actions.APPROVE, case_actions.EXTENSION_APPROVE)),
    ],
)
def test_case_badges_count_the_cases_the_actions_allow(demo, client, username, title, actions):
    user = login(client, username)
    allowed = sum(any(action.allowed(user, case) for action in actions) for case in Case.objects.all())
    link, count = badge(client, title)
    assert allowed > 0
    assert (count, list_count(client, link)) == (str(allowed), allowed)


def test_the_due_soon_badge_counts_the_due_soon_list(demo, client):
    login(client, "handler")
    link, count = badge(client, "即将到期")
    assert count == (str(list_count(client, link)) if list_count(client, link) else "")


def test_no_badge_when_nothing_waits(demo, client):
    login(client, "reviewer3")
    # The demo's articles in review wait at the first step, none at the final one.
    assert badge(client, "待我审核")[1] == ""


@pytest.mark.parametrize("username", ["reviewer1", "handler", "head-edu"])
def test_the_workbench_and_the_badges_count_the_same_rows_once(demo, client, username):
    # 待我审核 and 即将到期 hold the rows of a workbench section: the index counts them for the section, the menu
    # takes that count instead of running the same COUNT again.
    from collections import Counter

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    login(client, username)
    client.get(reverse("admin:index"))  # warm caches (permissions)
    with CaptureQueriesContext(connection) as captured:
        client.get(reverse("admin:index"))
    counts = Counter(query["sql"] for query in captured if "COUNT(" in query["sql"])
    assert [sql for sql, times in counts.items() if times > 1] == []
