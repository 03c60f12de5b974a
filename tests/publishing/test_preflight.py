"""Preflight names each platform limit in Chinese, before anything is stored."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from publishing.models import Platform, Schedule
from publishing.services import schedule_create

pytestmark = pytest.mark.django_db


def refused(editor, articles, accounts, send_at=None, **fields) -> str:
    send_at = send_at or timezone.now() + timedelta(days=2)
    with pytest.raises(ValidationError) as error:
        schedule_create(
            actor=editor, schedule=Schedule(send_at=send_at, **fields), articles=articles, accounts=accounts
        )
    assert Schedule.objects.count() == 0
    return " ".join(error.value.messages)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"title": "标" * 33}, "短标题"),
        ({"author": "作" * 17}, "16"),
        ({"digest": "摘" * 129}, "128"),
        ({"source_url": "https://www.gov.cn/" + "政" * 400}, "1 KB"),  # 419 characters, 1,219 bytes
    ],
)
def test_wechat_limits_are_named_with_the_fix(editor, approved, make_account, fields, message):
    article = approved(**fields) if "title" not in fields else approved(fields["title"])
    assert message in refused(editor, [article], [make_account()])


def test_wechat_needs_a_cover(editor, approved, make_account):
    article = approved()
    article.cover = ""
    article.save(update_fields=["cover"])
    assert "封面" in refused(editor, [article], [make_account()])


def test_wechat_body_over_20000_characters_is_refused(editor, approved, make_account):
    from content.models import Article

    article = approved()
    Article.objects.filter(pk=article.pk).update(body="<p>" + "字" * 20000 + "</p>")
    article.refresh_from_db()
    assert "20,000" in refused(editor, [article], [make_account()])


def test_at_most_eight_articles(editor, approved, make_account):
    articles = [approved(f"稿件{n}") for n in range(9)]
    assert "8" in refused(editor, articles, [make_account()])


def test_unapproved_article_and_past_time_are_refused(editor, make_article, make_account):
    draft = make_article()
    message = refused(editor, [draft], [make_account()], send_at=timezone.now() - timedelta(minutes=1))
    assert "审核通过" in message and "已过" in message


def test_weibo_post_over_140_characters_is_refused(editor, approved, make_account, settings):
    settings.PORTAL_BASE_URL = "http://127.0.0.1:8000"
    long_title = approved("这是一个特别特别长的标题" * 8, digest="摘要内容很长" * 12)
    assert "140" in refused(editor, [long_title], [make_account("微博", platform=Platform.WEIBO)])


def test_weibo_link_must_be_on_the_safe_domain(editor, approved, make_account, settings):
    settings.PORTAL_BASE_URL = "https://www.other.gov.cn"
    weibo = make_account("微博", platform=Platform.WEIBO, weibo_safe_domain="www.shifanxian.gov.cn")
    assert "www.shifanxian.gov.cn" in refused(editor, [approved()], [weibo])


def test_tag_audience_needs_a_tag(editor, approved, make_account):
    assert "标签" in refused(editor, [approved()], [make_account()], audience="tag")
