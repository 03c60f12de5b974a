"""What every public page carries besides its content: the government site's footer (from settings),
the favicon; and the cover images of the articles listed on the home and column pages."""

import pytest

# No real commits needed: the page cache is emptied around every test (tests/content/conftest.py) and each
# test renders its pages after its last write, so no cached page has to be retired on commit.
pytestmark = pytest.mark.django_db

FOOTER_SETTINGS = {
    "PORTAL_ORGANIZER": "测试县人民政府办公室",
    "PORTAL_CONTACT": "0123-7654321",
    "PORTAL_SITE_CODE": "1234567890",
    "PORTAL_ICP_NUMBER": "测ICP备12345678号",
    "PORTAL_PSB_NUMBER": "测公网安备11111111111111号",
}


def footer(page: str) -> str:
    return page[page.index("<footer>") : page.index("</footer>")]


@pytest.mark.parametrize(
    "url", ["/", "/search/?q=会议", "/disclosure/", "/disclosure/funds/", "/hudong/", "/hudong/write/"]
)
def test_every_public_page_has_the_footer_from_settings_and_the_favicon(client, settings, url):
    for name, value in FOOTER_SETTINGS.items():
        setattr(settings, name, value)
    page = client.get(url).content.decode()
    assert "主办单位：测试县人民政府办公室" in footer(page)
    assert "联系方式：0123-7654321" in footer(page)
    assert "网站标识码：1234567890" in footer(page)
    assert '<a href="https://beian.miit.gov.cn/" rel="noopener" target="_blank">测ICP备12345678号</a>' in footer(page)
    assert "测公网安备11111111111111号" in footer(page)
    assert '<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">' in page


def test_an_empty_setting_leaves_its_line_out(client, settings):
    settings.PORTAL_ICP_NUMBER = ""
    settings.PORTAL_SITE_CODE = ""
    page = footer(client.get("/hudong/").content.decode())
    assert "beian.miit.gov.cn" not in page
    assert "网站标识码" not in page


def test_home_and_column_pages_show_the_covers_of_articles_that_have_one(client, make_article, publish):
    with_cover = publish(make_article(title="有封面的稿件", column="dept_news", cover="covers/2026/12/meeting.jpg"))
    publish(make_article(title="没有封面的稿件", column="dept_news"))
    cover = '<img class="cover" src="/media/covers/2026/12/meeting.jpg" alt="" width="120" height="68" loading="lazy">'
    for url in ("/", "/columns/bmdt/"):
        page = client.get(url).content.decode()
        assert page.count('<img class="cover"') == 1, url
        item = page[page.index(cover) : page.index("</li>", page.index(cover))]
        assert f'href="/articles/{with_cover.pk}/"' in item, url
