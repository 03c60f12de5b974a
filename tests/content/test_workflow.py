import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied

from accounts import roles
from accounts.models import AuditLog, ReviewLevel
from content.models import Article, ArticleReview, ArticleState
from content.services import (
    WorkflowError,
    article_approve,
    article_create,
    article_publish,
    article_reject,
    article_submit,
    article_update,
    article_withdraw,
)
from govcms.actions import ActionRefused
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_article_passes_the_columns_three_steps_in_order(make_article, editor, reviewers):
    article = make_article(column="news")
    article_submit(actor=editor, article=article)
    with pytest.raises(PermissionDenied, match="初审"):
        article_approve(actor=reviewers[ReviewLevel.SECOND], article=article)  # first step is 初审
    for level in (1, 2, 3):
        article.refresh_from_db()
        assert article.state == ArticleState.IN_REVIEW and article.current_review_level == level
        article_approve(actor=reviewers[level], article=article)
    article.refresh_from_db()
    assert article.state == ArticleState.APPROVED
    assert list(ArticleReview.objects.filter(article=article).values_list("level", flat=True)) == [1, 2, 3]


def test_column_with_two_steps_skips_the_middle_level(make_article, editor, reviewers):
    article = make_article(column="dept_news")
    article_submit(actor=editor, article=article)
    article_approve(actor=reviewers[1], article=article)
    with pytest.raises(PermissionDenied):
        article_approve(actor=reviewers[2], article=article)
    article_approve(actor=reviewers[3], article=article)
    article.refresh_from_db()
    assert article.state == ArticleState.APPROVED


def test_reviewer_cannot_approve_own_article(county, columns, reviewers):
    writer = UserFactory(username="both", department=county["office"], review_level=1)
    writer.groups.add(*Group.objects.filter(name__in=[roles.EDITOR, roles.REVIEWER]))
    article = article_create(
        actor=writer,
        article=Article(
            title="自己写的稿件", body="<p>内容</p>", column=columns["notices"], department=county["office"]
        ),
    )
    article_submit(actor=writer, article=article)
    with pytest.raises(PermissionDenied, match="其他人"):
        article_approve(actor=writer, article=article)


def test_reviewer_cannot_approve_an_article_they_last_edited(make_article, editor, county, reviewers):
    article = make_article()
    article_submit(actor=editor, article=article)
    editing_reviewer = UserFactory(username="er", department=county["county"], review_level=1)
    editing_reviewer.groups.add(Group.objects.get(name=roles.REVIEWER), Group.objects.get(name=roles.EDITOR))
    article.refresh_from_db()
    article.title = "改过的标题"
    article_update(actor=editing_reviewer, article=article, expected_version=article.version)
    with pytest.raises(PermissionDenied):
        article_approve(actor=editing_reviewer, article=article)


def test_rejection_needs_a_reason_and_returns_a_draft(make_article, editor, reviewers):
    article = make_article()
    article_submit(actor=editor, article=article)
    with pytest.raises(WorkflowError):
        article_reject(actor=reviewers[1], article=article, reason="  ")
    article_reject(actor=reviewers[1], article=article, reason="数据需要核实")
    article.refresh_from_db()
    assert article.state == ArticleState.DRAFT
    assert article.rejection_reason == "数据需要核实"


def test_editor_cannot_approve_and_reviewer_cannot_publish(make_article, editor, reviewers):
    article = make_article()
    article_submit(actor=editor, article=article)
    with pytest.raises(PermissionDenied):
        article_approve(actor=editor, article=article)
    article_approve(actor=reviewers[1], article=article)
    with pytest.raises(PermissionDenied):
        article_publish(actor=reviewers[1], article=article)


def test_unapproved_article_cannot_be_published(make_article, editor):
    article = make_article()
    with pytest.raises(ActionRefused, match="审核通过"):
        article_publish(actor=editor, article=article)


def test_editing_an_approved_article_sends_it_back_to_review(make_article, editor, reviewers):
    article = make_article()
    article_submit(actor=editor, article=article)
    article_approve(actor=reviewers[1], article=article)
    article.refresh_from_db()
    article.digest = "新增摘要"
    article_update(actor=editor, article=article, expected_version=article.version)
    article.refresh_from_db()
    assert article.state == ArticleState.IN_REVIEW
    assert article.review_step == 0


def test_editing_a_published_article_keeps_the_live_copy_until_republished(make_article, publish, editor, reviewers):
    article = publish(make_article(title="原标题"))
    article.title = "新标题"
    article_update(actor=editor, article=article, expected_version=article.version)
    article.refresh_from_db()
    assert article.state == ArticleState.IN_REVIEW
    assert article.is_live and article.live_revision.title == "原标题"
    article_approve(actor=reviewers[1], article=article)
    article_publish(actor=editor, article=article)
    article.refresh_from_db()
    assert article.live_revision.title == "新标题"


def test_withdraw_needs_a_reason_and_takes_the_article_off(make_article, publish, reviewers):
    article = publish(make_article())
    with pytest.raises(WorkflowError):
        article_withdraw(actor=reviewers[1], article=article, reason="")
    article_withdraw(actor=reviewers[1], article=article, reason="数据有误")
    article.refresh_from_db()
    assert not article.is_live and article.state == ArticleState.WITHDRAWN
    assert article.search_bigrams == []


def test_editor_of_another_department_cannot_touch_the_article(make_article, county, columns):
    article = make_article()
    outsider = UserFactory(username="outsider", department=county["police"], role=roles.EDITOR)
    with pytest.raises(PermissionDenied):
        article_submit(actor=outsider, article=article)


def test_every_step_is_in_the_audit_log(make_article, publish, reviewers):
    article = publish(make_article(column="dept_news"))
    article_withdraw(actor=reviewers[3], article=article, reason="撤稿测试")
    actions = list(
        AuditLog.objects.filter(target_id=str(article.pk), action__startswith="article.")
        .order_by("id")
        .values_list("action", "actor_username")
    )
    assert actions == [
        ("article.create", "editor1"),
        ("article.submit", "editor1"),
        ("article.approve", "rev1"),
        ("article.approve", "rev3"),
        ("article.publish", "editor1"),
        ("article.withdraw", "rev3"),
    ]


def test_body_is_sanitised_on_every_path(make_article, editor):
    article = make_article(body='<p onclick="steal()">你好<script>alert(1)</script></p>')
    assert "script" not in article.body and "onclick" not in article.body
    Article.objects.filter(pk=article.pk).update(body='<img src="x" onerror="alert(1)">')
    article.refresh_from_db()
    assert "onerror" not in article.body
