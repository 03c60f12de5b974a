import pytest
from django.core.management import call_command
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import roles
from accounts.demo import DEMO_DEVICE_NAME, DEMO_PASSWORD, demo_totp_key
from accounts.management.commands.demo_otp import demo_code
from accounts.models import Department, User

# The demo data is seeded once for the module (tests/conftest.py demo_data); each test reads it in a savepoint.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_data")]


def demo_counts() -> dict:
    """How many of each seeded thing there are, and in which states: a second seed must change none of it."""
    from collections import Counter

    from answers.models import AnswerEntry
    from complaints.models import Case
    from content.models import Article
    from disclosure.models import Disbursement, DisclosureBatch

    return {
        "departments": Department.objects.count(),
        "users": User.objects.count(),
        "articles": Counter(Article.objects.values_list("state", flat=True)),
        "batches": Counter(DisclosureBatch.objects.values_list("state", flat=True)),
        "disbursements": Disbursement.objects.count(),
        "cases": Counter(Case.objects.values_list("state", flat=True)),
        "answers": Counter(AnswerEntry.objects.values_list("state", flat=True)),
    }


def test_seed_demo_twice_creates_nothing_twice():
    counts = demo_counts()
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert demo_counts() == counts
    assert counts["users"] >= len(roles.ROLE_PERMISSIONS)


def test_every_role_has_a_demo_user_who_can_log_in(client):
    for role in roles.ROLE_PERMISSIONS:
        user = User.objects.filter(groups__name=role).first()
        assert user is not None, role
        client.logout()
        response = client.post(reverse("admin:login"), {"username": user.username, "password": DEMO_PASSWORD})
        assert response.status_code == 302, (role, response.content.decode()[:500])
        # Demo users come enrolled in the second factor with a fixed key (accounts/demo.py).
        device = TOTPDevice.objects.get(user=user, name=DEMO_DEVICE_NAME, key=demo_totp_key(user.username))
        response = client.post(reverse("admin:otp_verify"), {"code": demo_code(device)})
        assert response.status_code == 302, (role, response.content.decode()[:500])
        assert client.get(reverse("admin:index")).status_code == 200


def test_demo_articles_cover_every_state_and_show_on_the_portal(client):
    from content.models import Article, ArticleState

    states = set(Article.objects.values_list("state", flat=True))
    assert states == set(ArticleState.values)
    live = Article.objects.filter(is_live=True)
    assert live.count() >= 20 and all(article.cover for article in live)
    first = live.order_by("-published_at").first()
    assert first.live_revision.title in client.get("/").content.decode()


def test_demo_disclosure_records_are_searchable_and_the_report_balances(client):
    from accounts.masking import mask_name
    from disclosure.models import AnnualReport, BatchState, Disbursement, DisclosureBatch
    from disclosure.reports import report_check

    assert Disbursement.objects.count() == 3000 + 2 + 200
    states = set(DisclosureBatch.objects.values_list("state", flat=True))
    assert {BatchState.PUBLISHED, BatchState.SUBMITTED} <= states
    someone = Disbursement.objects.filter(superseded_at__isnull=True, batch__state=BatchState.PUBLISHED).first()
    page = client.get("/disclosure/funds/", {"name": someone.recipient_name, "village": someone.village})
    # Recipients' names are public only masked (张*明) unless their programme publishes full names.
    assert mask_name(someone.recipient_name, keep_last=True) in page.content.decode()
    assert report_check(AnnualReport.objects.get(year=2025)) == []


def test_demo_cases_cover_every_state_some_overdue_and_published():
    from complaints.models import Case, CaseState
    from complaints.selectors import overdue_cases

    assert 45 <= Case.objects.count() <= 60
    assert set(Case.objects.values_list("state", flat=True)) == set(CaseState.values)
    assert Case.objects.values("department").distinct().count() >= 3  # two departments and the unrouted
    assert overdue_cases().exists()
    published = Case.objects.filter(published=True)
    assert published.exists() and not published.filter(allow_publish=False).exists()
    assert all(case.name not in case.public_question for case in published)


def test_demo_answer_library_answers_a_followers_question(settings):
    from answers import matching

    settings.ANSWERS_VERSION_CHECK_SECONDS = 0
    matching._library.reset()
    assert matching.match(None, "请问办理居住证需要带什么？").question == "办理居住证需要什么材料"
    assert matching.match(None, "您好！").question == "你好"
    assert matching.match(None, "路灯坏了没人修") is None


def test_demo_wechat_cases_show_their_code_notices_sent_when_the_follower_wrote():
    from complaints.models import Case, CaseChannel
    from publishing.models import WeChatServiceMessage

    # The followers' demo messages that became cases (complaints' own demo has WeChat cases without messages).
    cases = Case.objects.filter(channel=CaseChannel.WECHAT, wechat_messages__isnull=False).distinct()
    notices = WeChatServiceMessage.objects.filter(kind=WeChatServiceMessage.Kind.CODE_NOTICE)
    assert cases.count() >= 3
    assert sorted(notices.values_list("case_id", flat=True)) == sorted(cases.values_list("pk", flat=True))
    for notice in notices.select_related("case"):
        assert (notice.state, notice.sent_at, notice.note) == ("sent", notice.case.received_at, "")
        assert "*" in notice.content  # the code itself is kept nowhere
