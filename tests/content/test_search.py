import pytest

from content.services import article_withdraw
from shared.bigrams import bigrams

pytestmark = pytest.mark.django_db


def _search(client, q):
    return client.get("/search/", {"q": q}).content.decode()


def test_bigrams_do_not_cross_spaces_and_are_lowercased():
    assert bigrams("乡村 振兴AB") == ["ab", "乡村", "兴a", "振兴"]


def test_any_two_consecutive_characters_find_the_article(client, make_article, publish):
    publish(make_article(title="耕地地力保护补贴发放公示", body="<p>城关镇柳树村共有农户356户。</p>"))
    for query in ("耕地", "补贴发放", "柳树", "树村", "356", "城关镇柳树村"):
        assert "耕地地力保护补贴发放公示" in _search(client, query), query


def test_characters_present_but_not_consecutive_do_not_match(client, make_article, publish):
    publish(make_article(title="村振兴", body="<p>乡村建设</p>"))  # has 乡村 and 村振 but never 乡村振
    assert "找到 0 篇" in _search(client, "乡村振") or "没有找到" in _search(client, "乡村振")


def test_single_character_asks_for_two(client):
    assert "至少输入两个字" in _search(client, "村")


def test_title_matches_come_before_body_matches_then_recency(client, make_article, publish):
    old_title = publish(make_article(title="防汛抗旱工作部署", body="<p>内容</p>"))
    publish(make_article(title="其他新闻", body="<p>提到防汛的正文</p>"))
    new_title = publish(make_article(title="防汛物资到位", body="<p>内容</p>"))
    page = _search(client, "防汛")
    positions = [page.index(t) for t in ("防汛物资到位", "防汛抗旱工作部署", "其他新闻")]
    assert positions == sorted(positions)
    assert old_title.pk != new_title.pk


def test_withdrawn_and_unpublished_articles_are_not_found(client, make_article, publish, reviewers):
    article = publish(make_article(title="秸秆禁烧通告"))
    make_article(title="秸秆禁烧草稿")
    article_withdraw(actor=reviewers[1], article=article, reason="重复发布")
    page = _search(client, "秸秆")
    assert "秸秆禁烧通告" not in page and "秸秆禁烧草稿" not in page


def test_search_result_pages_keep_the_query(client, make_article, publish):
    for n in range(21):
        publish(make_article(title=f"防汛通知第{n}号"))
    page = _search(client, "防汛")
    assert "?q=%E9%98%B2%E6%B1%9B&amp;page=2" in page
    assert "防汛通知第0号" in client.get("/search/", {"q": "防汛", "page": 2}).content.decode()
