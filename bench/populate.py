"""20,000 published articles for the benchmarks, loaded in bulk (not through the services: speed)."""

import random
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from accounts import demo as accounts_demo
from accounts.models import User
from content import demo as content_demo
from content.demo_data import ARTICLES
from content.models import Article, ArticleRevision, ArticleState, Column
from content.sanitize import html_to_text
from shared.bigrams import bigrams, normalize

TOWNS = ["城关镇", "河口镇", "青山乡", "柳树村", "东关村", "白石镇", "桃园乡", "新华社区", "红旗村", "南湖街道"]
TOPICS = [
    "乡村振兴", "耕地地力保护补贴", "防汛抗旱", "医保缴费", "义务教育招生", "营商环境", "安全生产",
    "秸秆禁烧", "森林防火", "人居环境整治", "疫苗接种", "停水通知", "交通管制", "公开招聘", "食用菌产业",
]  # fmt: skip
ACTIONS = [
    "工作部署会召开",
    "专题培训举行",
    "推进会召开",
    "情况通报",
    "公示",
    "实施方案印发",
    "检查督导开展",
    "成效明显",
]


def populate(target: int = 20_000, seed: int = 7) -> int:
    """Top the bench database up to `target` live articles; returns how many there are."""
    have = Article.objects.filter(is_live=True).count()
    if have >= target:
        return have
    departments, _ = accounts_demo.seed()
    content_demo.seed(departments)
    rng = random.Random(seed)
    editor = User.objects.get(username="editor")
    columns = list(Column.objects.all())
    paragraphs = [p + "</p>" for spec in ARTICLES for p in spec["body"].split("</p>") if p.strip()]
    now = timezone.now()
    batch = 1000
    with transaction.atomic():
        for start in range(have, target, batch):
            articles, revisions = [], []
            for n in range(start, min(start + batch, target)):
                title = f"{rng.choice(TOWNS)}{rng.choice(TOPICS)}{rng.choice(ACTIONS)}（{n}）"
                body = "".join(rng.sample(paragraphs, rng.randint(3, 6)))
                column = rng.choice(columns)
                published = now - timedelta(minutes=n * 7)
                text = normalize(f"{title}\n{html_to_text(body)}")
                articles.append(
                    Article(
                        title=title,
                        body=body,
                        column=column,
                        live_column=column,
                        department=editor.department,
                        author="县融媒体中心",
                        state=ArticleState.PUBLISHED,
                        is_live=True,
                        created_by=editor,
                        updated_by=editor,
                        published_at=published,
                        first_published_at=published,
                        search_title=normalize(title),
                        search_text=text,
                        search_bigrams=bigrams(text),
                    )  # fmt: skip
                )
            Article.objects.bulk_create(articles)
            for article in articles:
                revisions.append(
                    ArticleRevision(
                        article=article,
                        number=1,
                        title=article.title,
                        body=article.body,
                        column_id=article.column_id,
                        created_by=editor,
                    )  # fmt: skip
                )
            ArticleRevision.objects.bulk_create(revisions)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE content_article a SET live_revision_id = r.id FROM content_articlerevision r "
                "WHERE r.article_id = a.id AND r.number = 1 AND a.live_revision_id IS NULL AND a.is_live"
            )
    with connection.cursor() as cursor:
        # What autovacuum does for a live site: statistics and the visibility map (index-only counts).
        cursor.execute("VACUUM ANALYZE content_article")
        cursor.execute("VACUUM ANALYZE content_articlerevision")
    return Article.objects.filter(is_live=True).count()
