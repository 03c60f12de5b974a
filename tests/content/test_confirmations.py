"""Publishing and withdrawing an article go through a confirmation page: its GET changes nothing, its POST acts."""

import pytest
from django.urls import reverse

from content.actions import PUBLISH, WITHDRAW
from content.models import Article, ArticleState
from content.services import article_approve, article_submit

pytestmark = pytest.mark.django_db


def workflow_url(article, code):
    return reverse("admin:content_article_workflow", args=[article.pk, code])


@pytest.fixture
def approved_article(make_article, editor, reviewers):
    article = make_article(column="notices")  # one review step
    article_submit(actor=editor, article=article)
    return article_approve(actor=reviewers[1], article=Article.objects.get(pk=article.pk))


def snapshot(article):
    return Article.objects.filter(pk=article.pk).values().get()


def test_publish_asks_first_then_publishes(approved_article, editor, login):
    client = login(editor)
    change = client.get(reverse("admin:content_article_change", args=[approved_article.pk])).content.decode()
    assert f'href="{workflow_url(approved_article, "publish")}"' in change  # a link to the page, not a POST
    before = snapshot(approved_article)
    page = client.get(workflow_url(approved_article, "publish"))
    assert page.status_code == 200 and str(PUBLISH.confirm) in page.content.decode()
    assert str(PUBLISH.confirm) == "确认将此稿件发布到门户网站？发布后公众立即可见。"
    assert 'name="confirmed" value="1"' in page.content.decode()
    # A POST that did not come from the confirmation page only asks again.
    assert client.post(workflow_url(approved_article, "publish")).status_code == 200
    assert snapshot(approved_article) == before
    response = client.post(workflow_url(approved_article, "publish"), {"confirmed": "1"})
    assert response.status_code == 302
    approved_article.refresh_from_db()
    assert (approved_article.state, approved_article.is_live) == (ArticleState.PUBLISHED, True)


def test_withdraw_names_what_happens_on_its_reason_page(make_article, publish, reviewers, login):
    article = publish(make_article())
    client = login(reviewers[1])
    before = snapshot(article)
    page = client.get(workflow_url(article, "withdraw")).content.decode()
    assert str(WITHDRAW.confirm) in page and 'name="reason"' in page
    assert snapshot(article) == before
    client.post(workflow_url(article, "withdraw"), {"reason": "数据有误"})
    article.refresh_from_db()
    assert (article.state, article.is_live, article.withdraw_reason) == (ArticleState.WITHDRAWN, False, "数据有误")


def test_a_refused_publish_shows_no_confirmation_and_changes_nothing(approved_article, reviewers, login):
    client = login(reviewers[2])  # may not publish
    before = snapshot(approved_article)
    response = client.get(workflow_url(approved_article, "publish"), follow=True)
    page = response.content.decode()
    assert 'name="confirmed"' not in page and PUBLISH.check(reviewers[2], approved_article) in page
    client.post(workflow_url(approved_article, "publish"), {"confirmed": "1"})
    assert snapshot(approved_article) == before
