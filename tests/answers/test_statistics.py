"""The answer library's statistics page (口径库统计): per account and Shanghai day the followers' messages
received, answered automatically and handed to a person; the most frequent unanswered questions, grouped by
their normalised text, each a link to a prefilled library entry; only the accounts of the person's departments;
a bad date is a Chinese error on the page, never a server error."""

from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import roles
from answers import matching
from publishing import answer_stats, services
from publishing.health import shanghai_today
from publishing.models import InboundMessage
from publishing.quota import SHANGHAI
from publishing.sandbox.follower import Follower
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/admin/publishing/channelaccount/answer-statistics/"
FOLLOWER = "oFollower0000000000000000001"


def write(account, text="", *, at, msg_id, entry=None, msg_type="text", openid=FOLLOWER, event=""):
    """A follower's push as the storing task keeps it: an unanswered text becomes (or joins) a citizen message."""
    fields = {"MsgType": msg_type, "FromUserName": openid, "Content": text, "MsgId": str(msg_id)}
    if event:
        fields = {"MsgType": "event", "FromUserName": openid, "Event": event}
    services.inbound_message_store(
        account_id=account.pk,
        fields=fields,
        dedupe_key=f"msg:{msg_id}",
        received_at=at,
        answered_automatically=entry is not None,
        library_entry_id=entry.pk if entry else None,
    )


def shanghai(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """An instant of March 2026 given in Beijing time (UTC+8)."""
    return datetime(2026, 3, day, hour, minute, second, tzinfo=UTC) - timedelta(hours=8)


@pytest.fixture
def accounts(make_account, county):
    return SimpleNamespace(
        news=make_account("示范县发布"),
        service=make_account("示范县政务服务"),
        police=make_account("县公安局微信", department=county["police"]),
    )


@pytest.fixture
def police_editor(county):
    return UserFactory(username="police-editor", department=county["police"], role=roles.EDITOR)


def lines_of(response) -> dict:
    return {
        (line.account, line.day): (line.received, line.automatic, line.handed, line.rate)
        for line in response.context["lines"]
    }


def test_counts_per_account_and_shanghai_day_in_one_query(login, editor, accounts, make_entry):
    entry = make_entry("居住证", contained=["居住证"])
    news, service = accounts.news, accounts.service
    write(news, "居住证怎么办", at=shanghai(1, 23, 59, 59), msg_id=1, entry=entry)
    write(news, "路灯坏了", at=shanghai(1, 23, 59, 59), msg_id=2)  # handed to a person (a new case)
    # Beijing midnight: the next day, although still March 1 in UTC.
    write(news, "还没修好", at=shanghai(2, 0, 0, 0), msg_id=3)  # joins the follower's open case
    write(news, "http://img/1.jpg", at=shanghai(2, 8), msg_id=4, msg_type="image")  # neither
    write(news, at=shanghai(2, 9), msg_id=5, event="subscribe")  # an event: not a message received
    write(service, "居住证", at=shanghai(2, 10), msg_id=6, entry=entry, openid="oFollower0000000000000000002")
    write(news, "前一天的", at=shanghai(1, 0) - timedelta(seconds=1), msg_id=7)  # February 28 in Beijing
    assert InboundMessage.objects.filter(case__isnull=False).count() == 3

    client = login(editor)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, {"first": "2026-03-01", "last": "2026-03-02"})
    assert response.status_code == 200
    assert lines_of(response) == {
        ("示范县发布", date(2026, 3, 1)): (2, 1, 1, 50),
        ("示范县发布", date(2026, 3, 2)): (2, 0, 1, 0),
        ("示范县政务服务", date(2026, 3, 2)): (1, 1, 0, 100),
    }
    assert [(line.day, line.account) for line in response.context["lines"]] == [
        (date(2026, 3, 2), "示范县发布"), (date(2026, 3, 2), "示范县政务服务"), (date(2026, 3, 1), "示范县发布"),
    ]  # fmt: skip
    total = response.context["total"]
    assert (total.received, total.automatic, total.handed, total.rate) == (5, 2, 2, 40)
    # One GROUP BY for the table and one for the questions, whatever the number of lines.
    reads = [query["sql"] for query in queries.captured_queries if '"publishing_inboundmessage"' in query["sql"]]
    assert len(reads) == 2 and all("GROUP BY" in sql for sql in reads)
    page = response.content.decode()
    assert "50.0%" in page and "100.0%" in page and "0.0%" in page


def test_nothing_received_has_no_rate_and_an_empty_period_says_so(login, editor, accounts):
    assert answer_stats.DayFigures(accounts.news.pk, "示范县发布", date(2026, 3, 1), 0, 0, 0).rate is None
    page = login(editor).get(URL, {"first": "2026-03-01", "last": "2026-03-02"}).content.decode()
    assert "该时间段内没有粉丝发来消息。" in page and "该时间段内没有未答问题。" in page


# -- the callback: what "answered automatically" means ----------------------------------------------------------


def test_the_acknowledgement_of_a_message_handed_to_a_person_is_not_an_automatic_answer(
    client, login, editor, accounts, make_entry, stored
):
    entry = make_entry("居住证", contained=["居住证"])
    account = accounts.news

    def transport(url, body):
        response = client.post(url, body, content_type="text/xml")
        return response.status_code, response.content

    url = reverse("wechat_listen", args=[account.pk])
    follower = Follower(url, token="cbtoken", appid=account.wechat_app_id, openid=FOLLOWER, transport=transport)
    assert follower.send_text("居住证怎么办理", msg_id=11).fields["Content"] == entry.answer_text
    acknowledged = follower.send_text("小区路灯坏了", msg_id=12).fields["Content"]
    assert acknowledged == account.wechat_acknowledgement  # the follower got an answer, but not the library's
    follower.send_event("subscribe")
    stored.run()
    library, person = InboundMessage.objects.get(msg_id="11"), InboundMessage.objects.get(msg_id="12")
    assert (library.answered_automatically, library.library_entry_id, library.case_id) == (True, entry.pk, None)
    assert (person.answered_automatically, person.library_entry_id) == (False, None) and person.case_id
    assert InboundMessage.objects.get(msg_type="event").answered_automatically is False  # the welcome answers nothing

    today = shanghai_today().isoformat()
    response = login(editor).get(URL, {"first": today, "last": today, "account": account.pk})
    assert lines_of(response) == {("示范县发布", shanghai_today()): (2, 1, 1, 50)}


# -- the most frequent unanswered questions -----------------------------------------------------------------------


def test_unanswered_questions_are_counted_together_by_their_normalised_text(login, editor, accounts, make_entry):
    entry = make_entry("社保", exact=["怎么办理社保"])
    news, service = accounts.news, accounts.service
    for msg_id, (account, text) in enumerate(
        [(news, "怎么办理社保？"), (service, " 怎么办理社保 "), (news, "怎么办理\n社保。"), (news, "ABC 社保"),
         (news, "abc社保！"), (news, "路灯坏了"), (news, "？！")], start=1,
    ):  # fmt: skip
        write(account, text, at=shanghai(3, 9, msg_id), msg_id=msg_id, openid=f"oFollower{msg_id:019d}")
    write(news, "怎么办理社保", at=shanghai(3, 10), msg_id=20, entry=entry)  # answered: not a question left over
    write(news, "http://img/1.jpg", at=shanghai(3, 10), msg_id=21, msg_type="image")  # not a text

    response = login(editor).get(URL, {"first": "2026-03-03", "last": "2026-03-03"})
    questions = [(question.key, question.text, question.count) for question, _url in response.context["questions"]]
    assert questions == [("怎么办理社保", "怎么办理社保", 3), ("abc社保", "ABC 社保", 2), ("路灯坏了", "路灯坏了", 1)]


def test_the_database_groups_as_the_library_matches():
    texts = [
        "怎么办理社保？",
        " 怎么办理社保 ",
        "ＡＢＣ，社保！",
        "“居住证”《办理》…",
        "a_b-c d",
        "Hello 👍🏻 World",
        "一、二",
    ]
    with connection.cursor() as cursor:
        for text in texts:
            cursor.execute(
                "SELECT regexp_replace(lower(normalize(%s, NFKC)), %s, '', 'g')", [text, matching.NOT_WORD_SQL]
            )
            assert cursor.fetchone()[0] == matching.normalize(text), text


def test_add_to_the_library_opens_the_add_form_prefilled(login, editor, reviewer, accounts):
    write(accounts.news, "怎么办理社保？", at=shanghai_now(), msg_id=1)
    write(accounts.news, "Tom, Jerry 在吗", at=shanghai_now(), msg_id=2, openid="oFollower0000000000000000002")
    client = login(editor)
    response = client.get(URL)
    links = dict((question.text, url) for question, url in response.context["questions"])
    assert 'href="' + links["怎么办理社保"].replace("&", "&amp;") + '">加入口径库</a>' in response.content.decode()
    assert parse_qs(urlsplit(links["怎么办理社保"]).query) == {
        "question": ["怎么办理社保"],
        "exact_keywords": ["怎么办理社保"],
    }

    form = client.get(links["怎么办理社保"]).context["adminform"].form
    assert form.initial["question"] == "怎么办理社保" and form.initial["exact_keywords"] == ["怎么办理社保"]
    page = client.get(links["怎么办理社保"]).content.decode()
    assert 'value="怎么办理社保"' in page  # the standard question
    assert ">怎么办理社保</textarea>" in page  # the exact keywords
    # A comma would split the keyword in two: it becomes a space (the matcher ignores both).
    form = client.get(links["Tom, Jerry 在吗"]).context["adminform"].form
    assert (form.initial["question"], form.initial["exact_keywords"]) == ("Tom, Jerry 在吗", ["Tom  Jerry 在吗"])
    # Keywords given as a list or repeated land in the field as its comma-separated list.
    add = reverse("admin:answers_answerentry_add")
    page = client.get(add, {"question": "社保", "contained_keywords": ["社保,医保", "养老"]}).content.decode()
    assert ">社保,医保,养老</textarea>" in page

    # A reviewer reads the statistics but writes no entries: no link.
    response = login(reviewer).get(URL)
    assert response.status_code == 200 and "加入口径库" not in response.content.decode()


def shanghai_now() -> datetime:
    return datetime.now(UTC) - timedelta(minutes=5)


# -- whose accounts, and bad input ----------------------------------------------------------------------------------


def test_a_person_of_another_department_does_not_see_the_account(login, editor, police_editor, county, accounts):
    write(accounts.news, "县里的问题", at=shanghai_now(), msg_id=1)
    write(accounts.police, "公安的问题", at=shanghai_now(), msg_id=2, openid="oFollower0000000000000000002")

    def seen(user, **query):
        response = login(user).get(URL, query)
        assert response.status_code == 200
        accounts_listed = [account.name for account in response.context["form"].fields["account"].queryset]
        texts = [question.text for question, _url in response.context.get("questions", [])]
        return accounts_listed, {line.account for line in response.context.get("lines", [])}, texts

    assert seen(editor) == (["示范县发布", "示范县政务服务"], {"示范县发布"}, ["县里的问题"])
    assert seen(police_editor) == (["县公安局微信"], {"县公安局微信"}, ["公安的问题"])
    # The county government's editor sees the accounts of every department below it.
    county_editor = UserFactory(username="county-editor", department=county["county"], role=roles.EDITOR)
    assert seen(county_editor)[1] == {"示范县发布", "县公安局微信"}
    # Asking for another department's account by its id is refused like any unknown choice.
    response = login(editor).get(URL, {"account": accounts.police.pk})
    assert response.status_code == 200 and "lines" not in response.context
    assert "选择一个有效的选项" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ({"first": "2026-13-01"}, "开始日期: 输入一个有效的日期。"),
        ({"first": "2026/03/01x", "last": "yesterday"}, "结束日期: 输入一个有效的日期。"),
        ({"first": "2026-03-05", "last": "2026-03-01"}, "结束日期早于开始日期。"),
        ({"first": "2024-01-01", "last": "2026-01-01"}, "请选择不超过一年的时间段。"),
        ({"account": "abc"}, "选择一个有效的选项"),
    ],
)
def test_bad_input_is_a_chinese_error_on_the_page(login, editor, accounts, query, error):
    response = login(editor).get(URL, query)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert "lines" not in response.context


def test_the_default_period_is_the_last_fourteen_days(login, editor, accounts):
    today = shanghai_today()
    noon = datetime.combine(today, time(12), SHANGHAI)
    write(accounts.news, "十三天前", at=noon - timedelta(days=13), msg_id=1)
    write(accounts.news, "十四天前", at=noon - timedelta(days=14), msg_id=2, openid="oFollower0000000000000000002")
    response = login(editor).get(URL)
    assert (response.context["first"], response.context["last"]) == (today - timedelta(days=13), today)
    assert [question.text for question, _url in response.context["questions"]] == ["十三天前"]
    page = response.content.decode()
    assert f'value="{(today - timedelta(days=13)).isoformat()}"' in page and f'value="{today.isoformat()}"' in page
