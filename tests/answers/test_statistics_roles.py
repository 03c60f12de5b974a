"""Who opens the answer library's statistics page (口径库统计) on the demo data: the demo roles that read the
library, and nobody else; its link is on the library's list and in their menu."""

import pytest
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db

URL = "/admin/publishing/channelaccount/answer-statistics/"
ROLES = ("admin", "sysadmin", "secadmin", "auditor", "editor", "reviewer1", "reviewer3", "discloser", "registrar",
         "handler", "head-edu")  # fmt: skip
# The people who read the answer library (tests/test_admin_smoke.py CHANGELIST_OPENS_FOR["answers.answerentry"]).
OPENS_FOR = {"admin", "editor", "reviewer1", "reviewer3"}


@pytest.fixture
def demo(demo_data):
    """The demo data, seeded once for this module (tests/conftest.py)."""


def test_the_page_has_its_url_name():
    assert reverse("admin:publishing_answer_statistics") == URL


@pytest.mark.parametrize("username", ROLES)
def test_each_demo_role_opens_the_page_or_is_refused(demo, client, username):
    client.force_login(User.objects.get(username=username))
    response = client.get(URL)
    assert response.status_code == (200 if username in OPENS_FOR else 403)
    if username in OPENS_FOR:
        library = client.get(reverse("admin:answers_answerentry_changelist")).content.decode()
        assert f'href="{URL}"' in library and "口径库统计" in library


def test_signed_out_goes_to_the_login_page(demo, client):
    response = client.get(URL)
    assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))
