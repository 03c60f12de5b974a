"""Every admin page a demo user can reach renders, for every role, on the demo data."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import User
from content.models import Article

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_admin_pages_render_for_every_role(demo, client):
    # One article per state is enough to reach every branch of the templates.
    articles = {article.state: article for article in Article.objects.all()}.values()
    for username in ("admin", "sysadmin", "editor", "reviewer1", "reviewer3", "discloser", "registrar", "handler"):
        client.force_login(User.objects.get(username=username))
        assert client.get(reverse("admin:index")).status_code == 200, username
        for model in ("article", "column"):
            assert client.get(reverse(f"admin:content_{model}_changelist")).status_code in (200, 403), (username, model)
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
            assert client.get(url).status_code in (200, 403), (username, url)
        for batch in batches:
            url = reverse("admin:disclosure_disclosurebatch_change", args=[batch.pk])
            assert client.get(url).status_code in (200, 403), (username, url)
    client.force_login(User.objects.get(username="discloser"))
    assert client.get(reverse("admin:disclosure_disbursement_changelist")).status_code == 200
