"""The article-body allowlist: what CKEditor and Word produce survives, nothing that can run script does."""

import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from content import sanitize
from content.sanitize import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_CLASSES,
    ALLOWED_TAGS,
    URL_SCHEMES,
    html_to_text,
    images_missing_alt,
    sanitize_html,
)

CORPUS_PATH = Path(__file__).with_name("xss_corpus.txt")
# One payload per line, taken literally; split on "\n" only, since str.splitlines() would also cut at
# form feeds and other separators that payloads may contain.
CORPUS = [line for line in CORPUS_PATH.read_text(encoding="utf-8").split("\n") if line]

PLAYER_HOSTS = ["v.qq.com", "player.bilibili.com", "player.youku.com"]
URL_ATTRIBUTES = {
    "href", "src", "action", "formaction", "background", "poster", "xlink:href",
    "data", "srcset", "dynsrc", "lowsrc", "codebase", "cite", "longdesc",
}  # fmt: skip
DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:", "file:")
SANDBOX = "allow-scripts allow-same-origin allow-presentation"


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)


def elements(markup: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(markup)
    parser.close()
    return parser.found


def url_as_browser_reads_it(value: str) -> str:
    # html.parser has already decoded character references in attribute values, exactly once as a browser
    # does (decoding again would turn the harmless relative path "&#x6A;avascript:" into a false alarm).
    # The URL parser then ignores control characters and whitespace, and schemes are case-insensitive.
    return "".join(ch for ch in value if not (ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F)).lower()


def assert_harmless(output: str, player_hosts=PLAYER_HOSTS) -> None:
    assert "<script" not in output.lower()
    for tag, attrs in elements(output):
        assert tag in ALLOWED_TAGS, f"<{tag}> is not on the allowlist: {output!r}"
        for name, value in attrs.items():
            assert not name.startswith("on"), f"event handler {name} kept: {output!r}"
            assert name != "style", f"style kept: {output!r}"
            if name in URL_ATTRIBUTES:
                url = url_as_browser_reads_it(value or "")
                assert not url.startswith(DANGEROUS_SCHEMES), f"{name}={value!r} kept: {output!r}"
        if tag == "iframe":
            src = urlsplit(attrs.get("src") or "")
            assert src.scheme == "https" and src.netloc in player_hosts, f"iframe kept: {output!r}"
            assert attrs.get("sandbox") == SANDBOX
    assert sanitize_html(output) == output, "sanitising twice changed the result"


@pytest.fixture
def player_hosts(settings):
    settings.CONTENT_IFRAME_HOSTS = PLAYER_HOSTS
    return PLAYER_HOSTS


# --- The XSS corpus --------------------------------------------------------------------------------------


def test_corpus_has_at_least_a_hundred_payloads():
    assert len(CORPUS) >= 100
    assert len(set(CORPUS)) == len(CORPUS), "duplicate payloads"


@pytest.mark.parametrize("payload", CORPUS, ids=[f"line{number}" for number in range(1, len(CORPUS) + 1)])
def test_corpus_payload_comes_out_harmless(payload, player_hosts):
    assert_harmless(sanitize_html(payload))


@pytest.mark.parametrize(
    "payload",
    [
        # Characters a text file cannot hold comfortably, which browsers strip or skip inside URLs and names.
        '<a href="java\nscript:alert(1)">x</a>',
        '<a href="java\rscript:alert(1)">x</a>',
        '<a href="java\x00script:alert(1)">x</a>',
        '<a href="\x01\x02javascript:alert(1)">x</a>',
        '<img src="\x0bjavascript:alert(1)">',
        '<img src="\x7fjavascript:alert(1)">',
        '<a href="\u2028javascript:alert(1)">x</a>',
        "<scr\x00ipt>alert(1)</scr\x00ipt>",
        "<img src=x \x00onerror=alert(1)>",
        "<img\x00src=x onerror=alert(1)>",
        "<img src=x\nonerror=alert(1)>",
        "<svg\x0conload=alert(1)>",
        "<a\thref=javascript:alert(1)>x</a>",
        "\x00<script>alert(1)</script>\x00",
        '<iframe src="https://v.qq.com\n.evil.example/"></iframe>',
        '<iframe src="https://v.qq.com\x00.evil.example/"></iframe>',
    ],
)
def test_payload_with_control_characters_comes_out_harmless(payload, player_hosts):
    assert_harmless(sanitize_html(payload))


# --- What CKEditor writes survives -----------------------------------------------------------------------

CKEDITOR_BODY = (
    "<h2>关于开展2024年度政务公开工作的通知</h2>"
    '<p class="text-align-center">各乡镇人民政府、县直各单位：</p>'
    '<p>根据<a href="https://www.gov.cn/zhengce/" target="_blank">《政府信息公开条例》</a>，现将有关事项通知如下。</p>'
    "<h3>一、工作目标</h3>"
    "<ul><li>完善<strong>主动公开</strong>目录</li><li>规范<em>依申请公开</em>办理</li></ul>"
    "<ol><li>第一步</li><li>第二步</li></ol>"
    '<figure class="image image-style-side image_resized" style="width:50%;">'
    '<img src="/media/uploads/2024/05/meeting.jpg" alt="工作部署会议现场" width="800" height="600">'
    "<figcaption>工作部署会议现场</figcaption></figure>"
    '<figure class="table"><table><thead><tr><th>序号</th><th>事项</th></tr></thead>'
    '<tbody><tr><td>1</td><td colspan="2">目录编制</td></tr></tbody></table></figure>'
    "<blockquote><p>公开为常态，不公开为例外。</p></blockquote>"
    '<h4>联系方式</h4><p>电话：<a href="tel:0371-12345678">0371-12345678</a>，'
    '邮箱：<a href="mailto:gk@example.gov.cn">gk@example.gov.cn</a></p>'
    '<pre><code class="language-python">print("hi")\nx = 1 &lt; 2</code></pre><hr>'
    "<p>H<sub>2</sub>O、x<sup>2</sup>、<u>下划线</u>、<s>删除线</s>、<b>粗</b>、<i>斜</i><br>完</p>"
)


def test_ckeditor_body_keeps_its_structure_and_only_loses_styles():
    expected = (
        CKEDITOR_BODY.replace(' style="width:50%;"', "")
        .replace('target="_blank">', 'target="_blank" rel="noopener noreferrer">')
        .replace('"tel:0371-12345678">', '"tel:0371-12345678" rel="noopener noreferrer">')
        .replace('"mailto:gk@example.gov.cn">', '"mailto:gk@example.gov.cn" rel="noopener noreferrer">')
    )

    assert sanitize_html(CKEDITOR_BODY) == expected


def test_ckeditor_body_keeps_alt_text_allowed_classes_and_table_spans():
    found = elements(sanitize_html(CKEDITOR_BODY))

    figures = [attrs for tag, attrs in found if tag == "figure"]
    assert figures == [{"class": "image image-style-side image_resized"}, {"class": "table"}]
    [image] = [attrs for tag, attrs in found if tag == "img"]
    assert image == {
        "src": "/media/uploads/2024/05/meeting.jpg",
        "alt": "工作部署会议现场",
        "width": "800",
        "height": "600",
    }
    assert {"colspan": "2"} in [attrs for tag, attrs in found if tag == "td"]
    assert ("p", {"class": "text-align-center"}) in found


def test_every_link_gets_rel_noopener_noreferrer_whatever_the_author_wrote():
    output = sanitize_html('<a href="https://example.com/" target="_blank" rel="opener">外链</a>')

    assert output == '<a href="https://example.com/" target="_blank" rel="noopener noreferrer">外链</a>'


@pytest.mark.parametrize("target", ["_top", "_parent", "_self", "portal", "_BLANK "])
def test_link_target_other_than_blank_is_dropped(target):
    output = sanitize_html(f'<a href="/a" target="{target}">x</a>')

    assert output == '<a href="/a" rel="noopener noreferrer">x</a>'


@pytest.mark.parametrize(
    "href",
    ["https://www.gov.cn/", "http://example.com/a?b=1", "mailto:gk@example.gov.cn", "tel:+86-371-1234",
     "/news/1/", "news/1/", "#section-2", "?page=2", "//cdn.example.com/a"],
)  # fmt: skip
def test_allowed_link_urls_are_kept(href):
    assert sanitize_html(f'<a href="{href}">x</a>') == f'<a href="{href}" rel="noopener noreferrer">x</a>'


@pytest.mark.parametrize(
    "href",
    ["javascript:alert(1)", "data:text/html,x", "vbscript:x", "file:///etc/passwd", "ftp://example.com/",
     "ms-settings:", "intent://x#Intent;end"],
)  # fmt: skip
def test_other_link_schemes_are_dropped(href):
    assert sanitize_html(f'<a href="{href}">x</a>') == '<a rel="noopener noreferrer">x</a>'


@pytest.mark.parametrize(
    "src",
    ["https://img.example.com/a.png", "http://img.example.com/a.png", "/media/a.png", "media/a.png",
     "//cdn.example.com/a.png"],
)  # fmt: skip
def test_allowed_image_urls_are_kept(src):
    assert sanitize_html(f'<img src="{src}" alt="图">') == f'<img src="{src}" alt="图">'


@pytest.mark.parametrize(
    "src",
    ["data:image/png;base64,iVBORw0KGgo=", "javascript:alert(1)", "vbscript:x", "file:///c:/a.png",
     "mailto:a@example.com", "tel:110", "JAVASCRIPT:alert(1)", " data:image/png;base64,AAAA"],
)  # fmt: skip
def test_other_image_urls_are_dropped(src):
    assert sanitize_html(f'<img src="{src}" alt="图">') == '<img alt="图">'


def test_style_attributes_are_dropped_from_every_element():
    output = sanitize_html(
        '<p style="color:red">a</p><figure class="image" style="width:50%"><img src="/a.png" alt="a" '
        'style="width:100%"></figure><table style="border:1px"><tr><td style="x">1</td></tr></table>'
    )

    assert "style" not in output
    assert 'class="image"' in output


def test_classes_outside_the_allowlist_are_dropped():
    output = sanitize_html(
        '<p class="MsoNormal text-align-right">a</p><figure class="image evil">'
        '<img src="/a.png" alt="a" class="image_resized ck-widget"></figure><h2 class="x">b</h2>'
    )

    assert output == (
        '<p class="text-align-right">a</p><figure class="image">'
        '<img src="/a.png" alt="a" class="image_resized"></figure><h2>b</h2>'
    )


def test_allowlist_has_no_style_class_or_event_attributes():
    for tag, names in ALLOWED_ATTRIBUTES.items():
        assert tag in ALLOWED_TAGS
        assert not {"style", "class"} & names
        assert not any(name.startswith("on") for name in names)
    assert set(ALLOWED_CLASSES) <= ALLOWED_TAGS
    assert URL_SCHEMES == {"http", "https", "mailto", "tel"}


@pytest.mark.parametrize("tag", ["script", "style", "noscript", "template", "object", "svg", "math"])
def test_code_and_foreign_elements_are_removed_with_their_content(tag):
    assert sanitize_html(f"<p>前</p><{tag}>内部文字</{tag}><p>后</p>") == "<p>前</p><p>后</p>"


def test_embed_is_removed():
    # <embed> is a void element: the text after it is not its content and stays.
    assert sanitize_html('<p>前<embed src="/x.swf" type="application/x-shockwave-flash">后</p>') == "<p>前后</p>"


def test_comments_are_removed():
    assert sanitize_html("<p>a<!-- 内部备注 -->b</p><!--[if IE]><p>c</p><![endif]-->") == "<p>ab</p>"


def test_unknown_elements_are_unwrapped_keeping_their_text():
    assert sanitize_html("<h1>标题</h1><div><span>正文</span></div>") == "标题正文"


# --- Iframes -----------------------------------------------------------------------------------------------


def test_iframe_from_an_allowed_https_host_survives_sandboxed(player_hosts):
    output = sanitize_html(
        '<iframe src="https://player.bilibili.com/player.html?bvid=BV1xx&amp;page=1" width="640" height="360" '
        'allowfullscreen="true" title="视频" frameborder="0" scrolling="no" sandbox="allow-top-navigation" '
        'referrerpolicy="unsafe-url" allow="autoplay"></iframe>'
    )

    assert output == (
        '<iframe src="https://player.bilibili.com/player.html?bvid=BV1xx&amp;page=1" width="640" height="360" '
        f'allowfullscreen="true" title="视频" sandbox="{SANDBOX}" referrerpolicy="no-referrer"></iframe>'
    )


def test_iframe_content_is_dropped(player_hosts):
    output = sanitize_html('<iframe src="https://v.qq.com/x.html"><p>您的浏览器不支持</p><b>x</b></iframe><p>后</p>')

    assert (
        output
        == f'<iframe src="https://v.qq.com/x.html" sandbox="{SANDBOX}" referrerpolicy="no-referrer"></iframe><p>后</p>'
    )


@pytest.mark.parametrize(
    "src",
    [
        "http://v.qq.com/x.html",
        "//v.qq.com/x.html",
        "https://evil.example/x.html",
        "https://v.qq.com.evil.example/",
        "https://evil.v.qq.com/",
        "https://v.qq.com@evil.example/",
        "https://evil.example\\@v.qq.com/",
        "https://v.qq.com:8443/",
        "https://v.qq.com./",
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "/local/page.html",
        "",
    ],
)
def test_iframe_not_from_an_allowed_https_host_is_removed_entirely(src, player_hosts):
    assert sanitize_html(f'<p>前</p><iframe src="{src}">备用</iframe><p>后</p>') == "<p>前</p><p>后</p>"


def test_iframe_without_src_is_removed(player_hosts):
    assert sanitize_html('<iframe srcdoc="<script>alert(1)</script>"></iframe>') == ""


def test_iframe_hosts_come_from_settings(settings):
    settings.CONTENT_IFRAME_HOSTS = ["video.example.gov.cn"]

    assert sanitize_html('<iframe src="https://v.qq.com/x"></iframe>') == ""
    assert sanitize_html('<iframe src="https://VIDEO.example.gov.cn/x"></iframe>').startswith(
        '<iframe src="https://VIDEO.example.gov.cn/x"'
    )


def test_iframe_hosts_default_to_the_chinese_video_players_when_unset(settings):
    if hasattr(settings, "CONTENT_IFRAME_HOSTS"):
        del settings.CONTENT_IFRAME_HOSTS

    for host in ["v.qq.com", "player.bilibili.com", "player.youku.com"]:
        assert sanitize_html(f'<iframe src="https://{host}/embed/1"></iframe>').startswith(
            f'<iframe src="https://{host}/'
        )
    assert sanitize_html('<iframe src="https://www.youtube.com/embed/1"></iframe>') == ""


def test_iframes_are_all_removed_if_filtering_them_fails(monkeypatch, player_hosts):
    def broken(markup, hosts):
        raise AssertionError("unexpected markup")

    monkeypatch.setattr(sanitize._IframeFilter, "filter", broken)

    assert sanitize_html('<p>a</p><iframe src="https://v.qq.com/x">b</iframe><p>c</p>') == "<p>a</p><p>c</p>"


# --- What Word and other web pages paste ------------------------------------------------------------------

WORD_PASTE = """<!--[if gte mso 9]><xml><o:OfficeDocumentSettings><o:AllowPNG/></o:OfficeDocumentSettings></xml><![endif]-->
<p class=MsoNormal style='mso-margin-top-alt:auto;text-indent:2em;line-height:150%'><span lang=EN-US
style='font-size:14.0pt;mso-bidi-font-size:11.0pt;font-family:仿宋_GB2312'>为进一步做好政务公开工作<o:p></o:p></span></p>
<p class=MsoNormal><b><span style='mso-bidi-font-weight:normal'><font face="黑体" color="#ff0000">重要通知</font></span></b><o:p>&nbsp;</o:p></p>
<p class=MsoListParagraph style='margin-left:18.0pt;mso-list:l0 level1 lfo1'><![if !supportLists]><span
style='mso-list:Ignore'>1.<span style='font:7.0pt "Times New Roman"'>&nbsp;&nbsp; </span></span><![endif]><span
style='mso-fareast-font-family:宋体'>第一项工作</span></p>"""


def test_word_paste_becomes_clean_paragraphs_with_the_text_kept():
    output = sanitize_html(WORD_PASTE)

    assert output == (
        "\n<p>为进一步做好政务公开工作</p>\n<p><b>重要通知</b>&nbsp;</p>\n<p>1.&nbsp;&nbsp; 第一项工作</p>"
    )
    assert html_to_text(output) == "为进一步做好政务公开工作\n重要通知\n1. 第一项工作"


def test_chinese_text_and_entities_survive():
    output = sanitize_html(
        "<p>县人民政府&amp;县政协 &lt;通知&gt; &copy; 2024 “引号” &nbsp;全角　空格 &#x4E2D;&#25991;</p>"
    )

    assert output == "<p>县人民政府&amp;县政协 &lt;通知&gt; © 2024 “引号” &nbsp;全角　空格 中文</p>"


# --- Never raises, always idempotent -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "markup",
    [
        "",
        "\x00",
        "<p>\x00</p>",
        "纯文本，没有标签",
        "<p>未闭合<b>粗体<i>斜体",
        "<table><tr><td>未闭合表格",
        "<a href='/a'><table><a href='/b'>错误嵌套",
        "<p>a</p><![foo[<p>b</p>",
        "<<<<>>>>&&&&;;;;",
        "<img src=",
        '<p title="未闭合属性',
        "\ud800孤立代理项\udfff",
        "<p>" * 10_000,
        "</p>" * 10_000,
        "<iframe src=https://v.qq.com/x>" * 500,
        "<b>" * 5_000 + "<p>x</p>" * 5_000,
    ],
    ids=lambda markup: repr(markup[:30]),
)
def test_broken_markup_never_raises_and_cleans_idempotently(markup, player_hosts):
    output = sanitize_html(markup)

    assert isinstance(output, str)
    assert_harmless(output)


def test_deep_nesting_is_cleaned_quickly():
    started = time.monotonic()

    output = sanitize_html("<div>" * 200_000 + "深层" + "</div>" * 200_000)

    # html5ever alone needs minutes for this (every tag walks the whole stack of open elements).
    assert time.monotonic() - started < 10
    assert output == "深层"


def test_deep_nesting_of_kept_elements_is_capped():
    output = sanitize_html("<blockquote>" * 1_000 + "引文" + "</blockquote>" * 1_000)

    assert output.count("<blockquote>") == output.count("</blockquote>") <= 200
    assert "引文" in output
    assert sanitize_html(output) == output


def test_reopened_formatting_cannot_blow_up_the_body():
    # The parser re-opens every unclosed <b> in each following paragraph: quadratic output if unbounded.
    markup = "<p>" + "".join(f'<b id="{n}">' for n in range(2_000)) + "</p>" + "<p>段</p>" * 2_000

    output = sanitize_html(markup)

    assert len(output) < 2 * len(markup)
    assert output.count("段") == 2_000
    assert sanitize_html(output) == output


def test_a_crash_inside_nh3_fails_closed_to_escaped_text(monkeypatch):
    class PanicException(BaseException):  # what pyo3 raises when Rust code panics
        pass

    def panicking(*args, **kwargs):
        raise PanicException("boom")

    monkeypatch.setattr(sanitize.nh3, "clean", panicking)

    assert sanitize_html('<p onclick="x">a & b</p>') == '&lt;p onclick="x"&gt;a &amp; b&lt;/p&gt;'


def test_keyboard_interrupt_is_not_swallowed(monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(sanitize.nh3, "clean", interrupted)

    with pytest.raises(KeyboardInterrupt):
        sanitize_html("<p>a</p>")


# --- images_missing_alt ------------------------------------------------------------------------------------


def test_images_missing_alt_counts_missing_empty_and_blank_alt():
    markup = (
        '<img src="/1.png">'  # missing
        '<img src="/2.png" alt="">'  # empty
        '<img src="/3.png" alt="  \t">'  # whitespace
        '<img src="/4.png" alt="　">'  # a full-width space is no description either
        '<figure class="image"><img src="/5.png" alt="县政府大楼"></figure>'  # present
        '<img src="/6.png" alt="0">'  # present, even if short
    )

    assert images_missing_alt(markup) == 4


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ("", 0),
        ("<p>没有图片</p>", 0),
        ('<img alt="图">', 0),
        ("<IMG SRC=x>", 1),
        ("<img/>", 1),
        ("<p>&lt;img&gt;</p>", 0),
    ],
)
def test_images_missing_alt_reads_markup_not_text(markup, expected):
    assert images_missing_alt(markup) == expected


def test_images_missing_alt_on_the_sanitised_ckeditor_body():
    assert images_missing_alt(sanitize_html(CKEDITOR_BODY)) == 0
    assert images_missing_alt(sanitize_html('<img src="/a.png" alt="" onerror="x"><img src="/b.png">')) == 2


def test_images_missing_alt_survives_markup_html_parser_rejects():
    assert images_missing_alt("<img><![foo[<img>") == 1


# --- html_to_text ------------------------------------------------------------------------------------------


def test_html_to_text_gives_one_line_per_block_of_a_chinese_body():
    markup = (
        "<h2>关于做好防汛工作的通知</h2>"
        "<p>各乡镇：<br>现将有关事项\n通知如下。</p>"
        "<ul><li>一、加强<strong>值班</strong>值守</li><li>二、及时&nbsp;&nbsp;报告  险情</li></ul>"
        "<p>价格 &lt; 100 &amp; 数量 &gt; 5</p>"
        "<script>alert('不应出现')</script><style>p { color: red }</style>"
        "<p>　　县防汛抗旱指挥部</p>"
    )

    assert html_to_text(markup).split("\n") == [
        "关于做好防汛工作的通知",
        "各乡镇：",
        "现将有关事项 通知如下。",
        "一、加强值班值守",
        "二、及时 报告 险情",
        "价格 < 100 & 数量 > 5",
        "县防汛抗旱指挥部",
    ]


def test_html_to_text_keeps_preformatted_lines_and_table_rows():
    markup = (
        "<pre>第一行\n第二行</pre><table><tr><td>姓名</td><td>金额</td></tr><tr><td>张三</td><td>100</td></tr></table>"
    )

    assert html_to_text(markup) == "第一行\n第二行\n姓名 金额\n张三 100"


@pytest.mark.parametrize("markup", ["", "<p></p>", "<br><br>", "<script>x</script>", "<p>a</p><![foo[<p>b</p>"])
def test_html_to_text_never_raises(markup):
    assert isinstance(html_to_text(markup), str)


@pytest.fixture(autouse=True)
def fresh_sanitizer_memo():
    """Tests that break nh3 on purpose must not be answered from an earlier, healthy result."""
    sanitize._sanitize.cache_clear()
    yield
    sanitize._sanitize.cache_clear()
