"""Named people of a small county, one per role, plus "a handler of another department" who must see nothing of education's."""

import hashlib

import pytest

from accounts import roles
from accounts.models import ReviewLevel
from content.models import Article, Column
from content.services import article_approve, article_create, article_publish, article_submit
from tests.factories import PASSWORD, DepartmentFactory, UserFactory


@pytest.fixture
def county(db):
    county = DepartmentFactory(code="county", name="示范县人民政府")
    return {
        "county": county,
        "office": DepartmentFactory(code="office", name="县政府办公室", parent=county),
        "education": (education := DepartmentFactory(code="education", name="县教育局", parent=county)),
        "education_school": DepartmentFactory(code="edu-school", name="基础教育股", parent=education),
        "police": DepartmentFactory(code="police", name="县公安局", parent=county),
    }


@pytest.fixture
def administrator(county):
    return UserFactory(username="admin1", real_name="冯管理", department=county["office"], role=roles.ADMINISTRATOR)


@pytest.fixture
def editor(county):
    return UserFactory(username="editor1", real_name="王编辑", department=county["office"], role=roles.EDITOR)


@pytest.fixture
def reviewer(county):
    return UserFactory(
        username="reviewer1",
        real_name="李初审",
        department=county["office"],
        role=roles.REVIEWER,
        review_level=ReviewLevel.FIRST,
    )


@pytest.fixture
def disclosure_officer(county):
    return UserFactory(username="discloser1", department=county["office"], role=roles.DISCLOSURE_OFFICER)


@pytest.fixture
def registrar(county):
    return UserFactory(username="registrar1", department=county["office"], role=roles.COMPLAINT_REGISTRAR)


@pytest.fixture
def handler(county):
    """Alice: handles cases for the education bureau."""
    return UserFactory(
        username="alice", real_name="吴办理", department=county["education"], role=roles.DEPARTMENT_HANDLER
    )


@pytest.fixture
def teacher_clerk(county):
    """Bob: works in a sub-office of education, so Alice sees him."""
    return UserFactory(username="bob", real_name="陈老师", department=county["education_school"], role=roles.EDITOR)


@pytest.fixture
def other_handler(county):
    """Charlie: a handler of another department (police); Alice must see nothing of his."""
    return UserFactory(
        username="charlie", real_name="郑办理", department=county["police"], role=roles.DEPARTMENT_HANDLER
    )


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing():
    """Production hashes passwords with PBKDF2 at Django's full work factor (about a second a password on the
    CI machine), and every test user gets a password: tests use the fast MD5 hasher instead (Django's own
    advice for test suites). Checking a password still works the same way; only the work factor differs."""
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def second_factor_on_force_login(monkeypatch):
    """Staff need a second factor (accounts/otp.py). Tests that sign in with force_login stand in for
    someone who also typed the code, so the session is marked verified as the code page would mark it;
    tests/accounts/test_second_factor.py signs in through the real pages."""
    from django.test import Client

    from accounts.otp import session_mark_verified

    plain_force_login = Client.force_login

    def force_login(self, user, backend=None):
        plain_force_login(self, user, backend)
        session = self.session
        session_mark_verified(session, user)
        session.save()

    monkeypatch.setattr(Client, "force_login", force_login)


@pytest.fixture
def login(client):
    """Sign `user` in with both factors (see second_factor_on_force_login)."""

    def _login(user):
        client.force_login(user)
        return client

    return _login


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture(autouse=True)
def fresh_answer_library():
    """Each process keeps its compiled answer library until the version in Redis changes; a test's rows roll
    back without a change, so every test starts with none compiled (the next match compiles its own)."""
    from answers import matching

    matching._library.reset()
    yield
    matching._library.reset()


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """No network beyond loopback (STYLE.md): a call to a real platform (an account left at the official WeChat
    API, e.g. the citizen-message tests' accounts) is refused at once, as a refused connection would be."""
    import ipaddress
    from urllib.parse import urlsplit

    import requests

    send = requests.adapters.HTTPAdapter.send

    def loopback_send(adapter, request, *args, **kwargs):
        host = urlsplit(request.url).hostname or ""
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise requests.ConnectionError(f"Connection refused: tests reach only loopback, not {host}")
        return send(adapter, request, *args, **kwargs)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", loopback_send)


@pytest.fixture(autouse=True)
def chinese():
    """The product speaks one language; code outside a request (validators, services) must too."""
    from django.utils import translation

    with translation.override("zh-hans"):
        yield


@pytest.fixture
def columns(db):
    news = Column.objects.create(name="政务动态", slug="zwdt", show_on_home=True, review_levels=[1, 2, 3])
    return {
        "news": news,
        "dept_news": Column.objects.create(name="部门动态", slug="bmdt", parent=news, review_levels=[1, 3]),
        "notices": Column.objects.create(name="通知公告", slug="tzgg", show_on_home=True, review_levels=[1]),
    }


@pytest.fixture
def reviewers(county):
    return {
        level: UserFactory(
            username=f"rev{level}",
            real_name=f"审核{level}",
            department=county["county"],
            role=roles.REVIEWER,
            review_level=level,
        )
        for level in ReviewLevel.values
    }


@pytest.fixture
def make_article(editor, columns):
    def _make(title="县政府召开常务会议", body="<p>会议研究了乡村振兴重点工作。</p>", column="notices", **fields):
        article = Article(
            title=title, body=body, column=columns[column], department=editor.department, author="县政府办", **fields
        )
        return article_create(actor=editor, article=article)

    return _make


@pytest.fixture
def publish(editor, reviewers):
    """Take an article through its column's whole review plan and publish it."""

    def _publish(article):
        article_submit(actor=editor, article=article)
        article.refresh_from_db()
        for level in article.review_plan:
            article_approve(actor=reviewers[level], article=article)
        article_publish(actor=editor, article=article)
        article.refresh_from_db()
        return article

    return _publish


@pytest.fixture
def cover_png():
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (90, 40), (20, 60, 160)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def approved(make_article, editor, reviewers, cover_png, settings, tmp_path):
    """Approved articles with covers, ready to schedule."""
    from django.core.files.base import ContentFile

    settings.MEDIA_ROOT = tmp_path

    def _approved(title="县政府召开常务会议", **fields):
        values = {
            "body": "<p>会议研究了乡村振兴重点工作。</p>",
            "author": "县政府办",
            "digest": "会议研究部署重点工作",
            **fields,
        }
        article = Article(title=title, column=Column.objects.get(slug="tzgg"), department=editor.department, **values)
        article.cover.save("cover.png", ContentFile(cover_png), save=False)
        article = article_create(actor=editor, article=article)
        article_submit(actor=editor, article=article)
        article.refresh_from_db()
        for level in article.review_plan:
            article_approve(actor=reviewers[level], article=article)
        article.refresh_from_db()
        return article

    return _approved


@pytest.fixture
def make_account(county):
    from publishing.models import ChannelAccount, Platform, WeChatAccountType
    from publishing.quota import ensure_default_rules

    def _make(name="示范县发布", platform=Platform.WECHAT, **fields):
        defaults = {"department": county["office"]}
        if platform == Platform.WECHAT:
            defaults.update(
                wechat_app_id="wx" + hashlib.sha256(name.encode()).hexdigest()[:16], wechat_app_secret="secret-" + name, wechat_token="cbtoken",
                wechat_account_type=WeChatAccountType.SUBSCRIPTION,
            )  # fmt: skip
        if platform == Platform.WEIBO:
            defaults.update(weibo_access_token="weibo-token-" + name, weibo_safe_domain="127.0.0.1", weibo_uid="1001")
        account = ChannelAccount.objects.create(name=name, platform=platform, **{**defaults, **fields})
        ensure_default_rules(account)
        return account

    return _make


@pytest.fixture
def celery_worker():
    """A real Celery worker (in a thread, on the real Redis broker). Tests using it need transaction=True:
    Celery's Django fixup closes the test's database connection when the worker starts."""
    from celery.contrib.testing.worker import start_worker

    from govcms.celery import app

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as worker:
        yield worker


@pytest.fixture(scope="module")
def demo_data(django_db_setup, django_db_blocker):
    """The demo data (`seed_demo`), loaded once for the module that asks for it: seeding takes several seconds,
    and the module's tests only read it. It lives in a transaction rolled back after the module's last test;
    each test runs in its own savepoint inside it (pytest-django's `db`), so whatever a test writes is gone
    before the next one, and no other module ever sees the demo data."""
    from django.core.management import call_command
    from django.db import transaction

    with django_db_blocker.unblock():
        with transaction.atomic():
            call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
            yield
            transaction.set_rollback(True)
