import pytest

from accounts import roles
from accounts.models import ReviewLevel
from content import portal_cache
from content.models import Article, Column
from content.services import article_approve, article_create, article_publish, article_submit
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def empty_page_cache():
    portal_cache.clear_all()
    yield
    portal_cache.clear_all()


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
