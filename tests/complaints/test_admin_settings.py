"""The tables behind routing, deadlines and replies: routing rules and deadline rules for administrators, reply
templates shared or per department."""

import pytest
from django.urls import reverse

from complaints.models import Category, DeadlinePolicy, ReplyTemplate, RoutingRule

pytestmark = pytest.mark.django_db


@pytest.fixture
def templates(county):
    return {
        "shared": ReplyTemplate.objects.create(title="通用答复", body="您好。"),
        "education": ReplyTemplate.objects.create(title="教育答复", department=county["education"], body="教育"),
        "police": ReplyTemplate.objects.create(title="公安答复", department=county["police"], body="公安"),
    }


def test_a_handler_sees_shared_and_own_templates_only(templates, handler, login):
    client = login(handler)
    listing = client.get(reverse("admin:complaints_replytemplate_changelist"))
    assert {t.title for t in listing.context["cl"].result_list} == {"通用答复", "教育答复"}
    police = reverse("admin:complaints_replytemplate_change", args=[templates["police"].pk])
    assert client.get(police).status_code == 403


def test_a_handler_edits_own_templates_but_not_shared_ones(templates, handler, county, login):
    client = login(handler)
    shared = reverse("admin:complaints_replytemplate_change", args=[templates["shared"].pk])
    assert client.post(shared, {"title": "改", "body": "改", "is_active": "on"}).status_code == 403
    own = reverse("admin:complaints_replytemplate_change", args=[templates["education"].pk])
    response = client.post(own, {"title": "教育答复（新）", "kind": "", "department": county["education"].pk,
                                 "body": "教育", "is_active": "on"})  # fmt: skip
    assert response.status_code == 302
    response = client.post(
        reverse("admin:complaints_replytemplate_add"), {"title": "无部门", "kind": "", "body": "x", "is_active": "on"}
    )
    assert response.status_code == 200  # a handler's template belongs to a department
    police = client.post(
        reverse("admin:complaints_replytemplate_add"),
        {"title": "越权", "kind": "", "department": county["police"].pk, "body": "x", "is_active": "on"},
    )
    assert police.status_code == 200 and not ReplyTemplate.objects.filter(title="越权").exists()


def test_the_registrar_sees_all_templates(templates, registrar, login):
    listing = login(registrar).get(reverse("admin:complaints_replytemplate_changelist"))
    assert len(listing.context["cl"].result_list) == 3


def test_administrator_maintains_routing_rules_and_deadlines(administrator, county, login):
    client = login(administrator)
    category = Category.objects.create(name="教育")
    response = client.post(
        reverse("admin:complaints_routingrule_add"),
        {"priority": 10, "category": category.pk, "kind": "", "keywords": "学校 食堂",
         "department": county["education"].pk, "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    page = client.get(reverse("admin:complaints_routingrule_changelist")).content.decode()
    assert "学校 食堂" in page and "县教育局" in page
    response = client.post(reverse("admin:complaints_deadlinepolicy_add"), {"kind": "complaint", "workdays": 7})
    assert response.status_code == 302
    again = client.post(reverse("admin:complaints_deadlinepolicy_add"), {"kind": "complaint", "workdays": 9})
    assert again.status_code == 200 and DeadlinePolicy.objects.count() == 1
    assert RoutingRule.objects.get().department == county["education"]


def test_a_handler_cannot_change_routing_rules(handler, login):
    assert login(handler).get(reverse("admin:complaints_routingrule_add")).status_code == 403
