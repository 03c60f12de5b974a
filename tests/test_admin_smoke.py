"""Every admin page a demo user can reach renders, for every role, on the demo data."""

import pytest
from django.urls import reverse

from accounts.models import User
from content.models import Article

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(demo_data):
    """The demo data, seeded once for this module (tests/conftest.py)."""


def test_admin_pages_render_for_every_role(demo, client):
    # One article per state is enough to reach every branch of the templates.
    articles = {article.state: article for article in Article.objects.all()}.values()
    for username in ("admin", "sysadmin", "editor", "reviewer1", "reviewer3", "discloser", "registrar", "handler"):
        client.force_login(User.objects.get(username=username))
        assert client.get(reverse("admin:index")).status_code == 200, username
        for model in ("article", "column"):
            expected = 200 if username in CHANGELIST_OPENS_FOR[f"content.{model}"] else 403
            assert client.get(reverse(f"admin:content_{model}_changelist")).status_code == expected, (username, model)
        if client.get(reverse("admin:content_article_changelist")).status_code == 200:
            for article in articles:
                for url in (
                    reverse("admin:content_article_change", args=[article.pk]),
                    reverse("admin:content_article_revisions", args=[article.pk]),
                ):
                    assert client.get(url).status_code == 200, (username, url)


def test_add_article_page_loads_the_chinese_editor(demo, client):
    client.force_login(User.objects.get(username="editor"))
    page = client.get(reverse("admin:content_article_add")).content.decode()
    assert "django_ckeditor_5/dist/bundle.js" in page
    assert "translations/zh-cn.js" in page
    assert reverse("editor_image_upload") in page


def test_disclosure_admin_pages_render_for_every_role(demo, client):
    from disclosure.models import DisclosureBatch

    batches = list(DisclosureBatch.objects.all())
    models = ("disclosurebatch", "disbursement", "projectallocation", "departmentbudget", "staffingunit",
              "staffmember", "fundprogram", "publicfields", "annualreport")  # fmt: skip
    for username in ("admin", "sysadmin", "editor", "reviewer1", "discloser", "registrar", "handler"):
        client.force_login(User.objects.get(username=username))
        for model in models:
            url = reverse(f"admin:disclosure_{model}_changelist")
            expected = 200 if username in CHANGELIST_OPENS_FOR[f"disclosure.{model}"] else 403
            assert client.get(url).status_code == expected, (username, url)
        for batch in batches:
            url = reverse("admin:disclosure_disclosurebatch_change", args=[batch.pk])
            expected = 200 if username in CHANGELIST_OPENS_FOR["disclosure.disclosurebatch"] else 403
            assert client.get(url).status_code == expected, (username, url)
    client.force_login(User.objects.get(username="discloser"))
    assert client.get(reverse("admin:disclosure_disbursement_changelist")).status_code == 200


ROLES = ("admin", "sysadmin", "secadmin", "auditor", "editor", "reviewer1", "reviewer3", "discloser", "registrar",
         "handler", "head-edu")  # fmt: skip
# Who opens each list (200); every other demo user gets 403. A lost or leaked permission fails here.
CHANGELIST_OPENS_FOR = {
    "accounts.auditlog": {"admin", "auditor"},
    "answers.answerentry": {"admin", "editor", "reviewer1", "reviewer3"},
    "accounts.department": {
        "admin",
        "sysadmin",
        "secadmin",
        "editor",
        "reviewer1",
        "reviewer3",
        "discloser",
        "registrar",
        "handler",
        "head-edu",
    },
    "accounts.user": {"admin", "sysadmin", "secadmin", "registrar", "handler", "head-edu"},
    "auth.group": {"admin", "sysadmin", "secadmin"},
    "axes.accessattempt": {"admin", "sysadmin", "auditor"},
    "axes.accessfailurelog": {"admin", "sysadmin", "auditor"},
    "axes.accesslog": {"admin", "sysadmin", "auditor"},
    "complaints.calendaroverride": {"admin", "sysadmin"},
    "complaints.case": {"admin", "sysadmin", "registrar", "handler", "head-edu"},
    "complaints.category": {"admin", "sysadmin", "registrar"},
    "complaints.deadlinepolicy": {"admin", "sysadmin", "registrar"},
    "complaints.replytemplate": {"admin", "sysadmin", "registrar", "handler", "head-edu"},
    "complaints.routingrule": {"admin", "sysadmin", "registrar"},
    "content.article": {"admin", "sysadmin", "editor", "reviewer1", "reviewer3"},
    "content.column": {"admin", "sysadmin", "editor", "reviewer1", "reviewer3"},
    "disclosure.annualreport": {"admin", "sysadmin", "discloser"},
    "disclosure.departmentbudget": {"admin", "reviewer1", "reviewer3", "discloser"},
    "disclosure.disbursement": {"admin", "reviewer1", "reviewer3", "discloser"},
    "disclosure.disclosurebatch": {"admin", "sysadmin", "reviewer1", "reviewer3", "discloser"},
    "disclosure.fundprogram": {"admin", "sysadmin", "reviewer1", "reviewer3", "discloser"},
    "disclosure.projectallocation": {"admin", "reviewer1", "reviewer3", "discloser"},
    "disclosure.publicfields": {"admin", "sysadmin"},
    "disclosure.staffingunit": {"admin", "reviewer1", "reviewer3", "discloser"},
    "disclosure.staffmember": {"admin", "reviewer1", "reviewer3", "discloser"},
    "publishing.channelaccount": {"admin", "sysadmin", "editor"},
    "publishing.schedule": {"admin", "sysadmin", "editor"},
    "publishing.wechatmenu": {"admin", "sysadmin"},
    "publishing.wechattag": {"admin", "sysadmin"},
    "publishing.accounthealthnotice": {"admin", "sysadmin"},
}


def test_every_admin_list_answers_200_or_403_exactly_as_each_role_should(demo, client):
    from django.contrib import admin

    registered = {f"{m._meta.app_label}.{m._meta.model_name}" for m in admin.site._registry}
    assert registered == set(CHANGELIST_OPENS_FOR)  # a new admin gets its row here
    for username in ROLES:
        client.force_login(User.objects.get(username=username))
        for label, allowed in CHANGELIST_OPENS_FOR.items():
            app_label, model_name = label.split(".")
            status = client.get(reverse(f"admin:{app_label}_{model_name}_changelist")).status_code
            assert status == (200 if username in allowed else 403), (username, label, status)
