"""Nothing on an admin page a demo role visits is in English: the dashboard, every item of its menu, and every
list and add page it may open (its "All applications"). Text is read as a person sees it: tags, scripts, styles
and icon ligatures (<span class="material-symbols-outlined">search</span> draws a magnifier) are left out, and
so are cells holding data rather than words (user names, codes, slugs, browser identifiers)."""

import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db

ROLES = ("admin", "sysadmin", "secadmin", "auditor", "editor", "reviewer1", "discloser", "registrar", "handler",
         "head-edu")  # fmt: skip
# Names the product and the platforms use as they are (the WeChat back end says AppID, AppSecret, Token).
ALLOWED = {"GovCMS", "PDF", "CSV", "csv", "xlsx", "Excel", "UTF", "GB", "AppID", "AppSecret", "Token",
           "EncodingAESKey", "App", "Key", "Secret", "IP", "ID", "HTTP", "GET", "POST", "SHA", "TOTP", "URL",
           "Control", "Command", "Mac"}  # fmt: skip
DATA_CELLS = re.compile(r"\bfield-(username|actor_username|target_repr|code|slug|user_agent|path_info|number|ip)\b")
SKIPPED_TAGS = {"script", "style", "template", "kbd"}


class VisibleText(HTMLParser):
    def __init__(self):
        super().__init__()
        self.text, self.skipping = [], []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        classes = attributes.get("class") or ""
        if self.skipping:
            if tag == self.skipping[-1]:
                self.skipping.append(tag)
            return
        if tag in SKIPPED_TAGS or "material-symbols" in classes or DATA_CELLS.search(classes):
            self.skipping.append(tag)
            return
        for name in ("title", "placeholder", "aria-label", "alt"):
            if attributes.get(name):
                self.text.append(attributes[name])
        if tag == "input" and attributes.get("type") in ("submit", "button") and attributes.get("value"):
            self.text.append(attributes["value"])

    def handle_startendtag(self, tag, attrs):
        if not self.skipping:
            self.handle_starttag(tag, attrs)
            if self.skipping and self.skipping[-1] == tag:
                self.skipping.pop()

    def handle_endtag(self, tag):
        if self.skipping and tag == self.skipping[-1]:
            self.skipping.pop()

    def handle_data(self, data):
        if not self.skipping:
            self.text.append(data)


def english_words(html: str) -> set[str]:
    parser = VisibleText()
    parser.feed(html)
    # Addresses are not words, nor axes' "<unknown>" for a request without a browser identifier.
    text = re.sub(r"\S+\.(cn|com|org)\S*|https?://\S+|<unknown>", " ", " ".join(parser.text))
    # Words with a lower-case letter: ALL-CAPS tokens are codes (case numbers, 2026-7K3M9QXD).
    return {word for word in re.findall(r"[A-Za-z]+", text) if word not in ALLOWED and not word.isupper()}


def pages_of(client) -> set[str]:
    index = client.get(reverse("admin:index"))
    pages = {reverse("admin:index")}
    for group in index.context["sidebar_navigation"]:
        pages.update(
            str(item.get("link_callback") or item["link"]) for item in group["items"] if item["has_permission"]
        )
    for app in index.context["available_apps"]:
        for model in app["models"]:
            pages.update(url for url in (model.get("admin_url"), model.get("add_url")) if url)
    return pages


@pytest.fixture
def demo(demo_data):
    """The demo data, seeded once for this module (tests/conftest.py)."""


@pytest.mark.parametrize("username", ROLES)
def test_every_admin_page_of_a_role_is_in_chinese(demo, client, username):
    client.force_login(User.objects.get(username=username))
    users = set(User.objects.values_list("username", flat=True))
    english = {}
    for url in sorted(pages_of(client)):
        response = client.get(url)
        assert response.status_code == 200, url
        words = english_words(response.content.decode()) - {
            part for name in users for part in re.findall(r"[A-Za-z]+", name)
        }
        if words:
            english[url] = sorted(words)
    assert english == {}


def test_the_reader_sees_through_icons_and_scripts_but_not_through_words():
    html = (
        '<span class="material-symbols-outlined">search</span><script>var a = "x";</script><kbd>esc</kbd>'
        '<td class="field-username">editor</td><p title="Filters">稿件 Run</p><input type="submit" value="Go">'
    )
    assert english_words(html) == {"Filters", "Run", "Go"}
