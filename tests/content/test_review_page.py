"""The reviewer's page of an article: rendered body, the changes since the last review decision, exactly the
buttons the actions allow, and refusals that change nothing."""

import re

import pytest
from django.urls import reverse

from content.actions import APPROVE
from content.admin_review import inline_parts, paragraphs, text_diff
from content.models import Article, ArticleState
from content.services import article_reject, article_submit, article_update

pytestmark = pytest.mark.django_db

FIRST = "第一段：会议研究了乡村振兴重点工作。"
SECOND = "第二段：这一句将被删除。"
THIRD = "第三段：会议要求各乡镇抓好落实。"
ADDED = "第四段：新增的资金安排说明。"


def review_url(article):
    return reverse("admin:content_article_review", args=[article.pk])


def workflow_url(article, code):
    return reverse("admin:content_article_workflow", args=[article.pk, code])


@pytest.fixture
def returned_and_fixed(make_article, editor, reviewers):
    """Returned by the first-level reviewer, then edited (one paragraph deleted, one added) and resubmitted."""
    body = f'<p>{FIRST}</p><script>alert("x")</script><p>{SECOND}</p><p><strong>{THIRD}</strong></p>'
    article = make_article(column="news", body=body)
    article_submit(actor=editor, article=article)
    article_reject(actor=reviewers[1], article=Article.objects.get(pk=article.pk), reason="请补充资金安排")
    edited = Article.objects.get(pk=article.pk)
    edited.body = f"<p>{FIRST}</p><p><strong>{THIRD}</strong></p><p>{ADDED}</p>"
    article_update(actor=editor, article=edited, expected_version=edited.version)
    article_submit(actor=editor, article=Article.objects.get(pk=article.pk))
    return Article.objects.get(pk=article.pk)


def test_the_page_shows_the_body_rendered_and_sanitised(returned_and_fixed, reviewers, login):
    page = login(reviewers[1]).get(review_url(returned_and_fixed)).content.decode()
    article_part = page.split('id="article-heading"')[1]
    assert f"<p><strong>{THIRD}</strong></p>" in article_part  # rendered, not HTML source
    assert "&lt;p&gt;" not in article_part
    assert "alert(" not in page and "<script>alert" not in page


def test_the_page_shows_what_changed_since_the_last_review(returned_and_fixed, reviewers, login):
    page = login(reviewers[1]).get(review_url(returned_and_fixed)).content.decode()
    changes = page.split('id="changes-heading"')[1].split('id="article-heading"')[0]
    deleted = re.findall(r"<del>(.*?)</del>", changes)
    inserted = re.findall(r"<ins>(.*?)</ins>", changes)
    assert [re.sub(r"<span[^>]*>.*?</span>", "", text) for text in deleted if "gov-sr" in text] == [SECOND]
    assert [re.sub(r"<span[^>]*>.*?</span>", "", text) for text in inserted if "gov-sr" in text] == [ADDED]
    # Compared with the revision the first-level reviewer returned (the article's first).
    assert f"{reviewers[1]}，退回" in changes and "（修订版本1）" in changes


def test_first_review_has_nothing_to_compare(make_article, editor, reviewers, login):
    article = make_article(column="news")
    article_submit(actor=editor, article=article)
    page = login(reviewers[1]).get(review_url(article)).content.decode()
    assert "<ins>" not in page.split('id="changes-heading"')[1].split('id="article-heading"')[0]
    assert "首次审核" in page


@pytest.mark.parametrize(
    ("who", "buttons"), [("rev1", {"approve", "reject"}), ("rev2", set()), ("rev3", set()), ("editor", set())]
)
def test_the_page_shows_exactly_the_buttons_the_actions_allow(returned_and_fixed, reviewers, editor, login, who,
                                                              buttons):  # fmt: skip
    user = {"rev1": reviewers[1], "rev2": reviewers[2], "rev3": reviewers[3], "editor": editor}[who]
    page = login(user).get(review_url(returned_and_fixed)).content.decode()
    shown = {code for code in ("submit", "approve", "reject", "publish", "withdraw")
             if workflow_url(returned_and_fixed, code) in page}  # fmt: skip
    assert shown == buttons


def test_approving_from_the_page_comes_back_to_it(returned_and_fixed, reviewers, login):
    article = returned_and_fixed
    url = review_url(article)
    response = login(reviewers[1]).post(workflow_url(article, "approve"), {"version": article.version, "next": url})
    assert response.status_code == 302 and response["Location"] == url
    article.refresh_from_db()
    assert (article.state, article.review_step) == (ArticleState.IN_REVIEW, 1)
    # Now it waits for the second level: the first-level reviewer's page has no buttons left.
    page = login(reviewers[1]).get(url).content.decode()
    assert workflow_url(article, "approve") not in page


def test_a_refused_decision_changes_nothing(returned_and_fixed, reviewers, login):
    article = returned_and_fixed
    before = (Article.objects.filter(pk=article.pk).values().get(), article.reviews.count())
    refusal = APPROVE.check(reviewers[2], article)
    assert refusal == "此环节需要由初审级别的审核员审核。"
    client = login(reviewers[2])
    response = client.post(workflow_url(article, "approve"), {"version": article.version}, follow=True)
    assert refusal in response.content.decode()
    response = client.post(workflow_url(article, "reject"), {"reason": "不同意"}, follow=True)
    assert refusal in response.content.decode()
    assert (Article.objects.filter(pk=article.pk).values().get(), article.reviews.count()) == before


def test_returning_from_the_page_keeps_the_reason(returned_and_fixed, reviewers, login):
    article = returned_and_fixed
    response = login(reviewers[1]).post(
        workflow_url(article, "reject"), {"reason": "数据来源仍未注明", "next": review_url(article)}
    )
    assert response["Location"] == review_url(article)
    article.refresh_from_db()
    assert (article.state, article.rejection_reason) == (ArticleState.DRAFT, "数据来源仍未注明")


def test_the_change_page_links_to_the_review_page(returned_and_fixed, reviewers, login):
    page = login(reviewers[1]).get(reverse("admin:content_article_change", args=[returned_and_fixed.pk]))
    assert review_url(returned_and_fixed) in page.content.decode()


def test_diff_marks_an_inserted_and_a_deleted_sentence_inside_a_paragraph():
    old = "会议研究了重点工作。会议要求抓好落实。"
    new = "会议研究了重点工作。会议听取了汇报。"
    assert inline_parts(old, new) == [
        ("equal", "会议研究了重点工作。会议"),
        ("delete", "要求抓好落实"),
        ("insert", "听取了汇报"),
        ("equal", "。"),
    ]


def test_diff_by_paragraph_folds_unchanged_runs():
    old = [f"第{n}段。" for n in range(1, 8)]
    new = [*old[:6], "新增的一段。", old[6]]
    blocks = text_diff(old, new)
    assert [(block.kind, block.text or block.count) for block in blocks] == [
        ("skip", 5),
        ("equal", "第6段。"),
        ("insert", "新增的一段。"),
        ("equal", "第7段。"),
    ]
    assert text_diff(old, list(old)) == []
    assert paragraphs("<p>甲</p><p> </p><ul><li>乙</li></ul>") == ["甲", "乙"]
