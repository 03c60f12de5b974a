import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from content.models import Article, ArticleState
from content.services import article_submit

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:content_article_add")


def _png(size=(40, 20)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def _form(columns, editor, **overrides):
    data = {
        "title": "县教育局发布义务教育招生政策",
        "short_title": "",
        "author": "县教育局",
        "column": columns["notices"].pk,
        "department": editor.department_id,
        "digest": "",
        "body": "<p>今年秋季学期招生工作安排如下。</p>",
        "tags": "教育，招生",
        "source_url": "",
        "loaded_version": "",
    }
    data.update(overrides)
    return data


def _change_data(article, **overrides):
    data = {
        "title": article.title,
        "short_title": article.short_title,
        "author": article.author,
        "column": article.column_id,
        "department": article.department_id,
        "digest": article.digest,
        "body": article.body,
        "tags": "，".join(article.tags),
        "source_url": article.source_url,
        "loaded_version": article.version,
    }
    data.update(overrides)
    return data


def test_editor_creates_an_article_in_the_admin(columns, editor, login):
    response = login(editor).post(ADD_URL, _form(columns, editor))
    assert response.status_code == 302, response.content.decode()[:3000]
    article = Article.objects.get()
    assert article.state == ArticleState.DRAFT
    assert article.tags == ["教育", "招生"]
    assert article.created_by == editor and article.revisions.count() == 1


def test_script_in_the_body_is_stored_harmless(columns, editor, login):
    login(editor).post(
        ADD_URL,
        _form(columns, editor, body='<p>正文<script>alert(1)</script><a href="javascript:alert(1)">链接</a></p>'),
    )
    body = Article.objects.get().body
    assert "<script" not in body and "javascript:" not in body and "正文" in body


def test_five_megabyte_body_is_refused_with_a_message_and_nothing_saved(columns, editor, login):
    huge = "<p>" + "政" * (5 * 1024 * 1024 // 3) + "</p>"
    response = login(editor).post(ADD_URL, _form(columns, editor, body=huge))
    assert response.status_code == 200
    assert "正文大小" in response.content.decode()
    assert not Article.objects.exists()


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("title", "", "这个字段是必填项"),
        ("title", "标" * 201, "不超过 200"),
        ("short_title", "短" * 33, "不超过 32"),
        ("body", "<p>   </p>", "正文不能为空"),
        ("body", "<script>alert(1)</script>", "正文不能为空"),
        ("source_url", "javascript:alert(1)", "有效的 URL"),
    ],
)
def test_bad_fields_get_a_chinese_error_and_keep_the_input(columns, editor, login, field, value, message):
    response = login(editor).post(ADD_URL, _form(columns, editor, **{field: value}))
    page = response.content.decode()
    assert response.status_code == 200
    assert message in page, page[page.find("errorlist") - 200 : page.find("errorlist") + 400]
    assert "义务教育招生政策" in page or field == "title"
    assert not Article.objects.exists()


def test_cover_must_be_a_real_image(columns, editor, login):
    fake = SimpleUploadedFile("cover.jpg", b"%PDF-1.4 not an image", content_type="image/jpeg")
    response = login(editor).post(ADD_URL, {**_form(columns, editor), "cover": fake})
    assert "不是可以识别的图片" in response.content.decode()
    assert not Article.objects.exists()


def test_svg_cover_is_refused(columns, editor, login):
    svg = SimpleUploadedFile(
        "cover.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', content_type="image/png"
    )
    response = login(editor).post(ADD_URL, {**_form(columns, editor), "cover": svg})
    assert "SVG" in response.content.decode()


def test_images_without_alt_are_flagged(columns, editor, login):
    body = (
        '<p>图片：</p><figure class="image"><img src="/media/a.png"></figure><img src="/media/b.png" alt="县政府大楼">'
    )
    response = login(editor).post(ADD_URL, _form(columns, editor, body=body), follow=True)
    assert "1 张图片没有替代文本" in response.content.decode()
    assert Article.objects.get().images_missing_alt == 1


def test_second_editor_saving_over_a_newer_version_is_refused(columns, editor, make_article, login, client):
    from accounts import roles
    from tests.factories import UserFactory

    article = make_article()
    other = UserFactory(username="editor2", real_name="李编辑", department=editor.department, role=roles.EDITOR)
    stale = _change_data(article)
    url = reverse("admin:content_article_change", args=[article.pk])
    assert login(other).post(url, _change_data(article, title="李编辑改的标题")).status_code == 302
    response = login(editor).post(url, {**stale, "title": "王编辑改的标题"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "您的修改没有保存" in page and "李编辑" in page
    assert "王编辑改的标题" in page  # nothing typed is lost
    article.refresh_from_db()
    assert article.title == "李编辑改的标题"


def test_opening_an_article_someone_is_editing_says_who(columns, editor, make_article, login):
    from accounts import roles
    from tests.factories import UserFactory

    article = make_article()
    other = UserFactory(username="editor2", real_name="李编辑", department=editor.department, role=roles.EDITOR)
    url = reverse("admin:content_article_change", args=[article.pk])
    login(editor).get(url)
    page = login(other).get(url).content.decode()
    assert "王编辑" in page and "正在编辑" in page


def test_revisions_can_be_compared_and_restored(columns, editor, make_article, login):
    article = make_article(title="第一版标题", body="<p>第一版正文</p>")
    client = login(editor)
    url = reverse("admin:content_article_change", args=[article.pk])
    client.post(url, _change_data(article, title="第二版标题", body="<p>第二版正文</p>"))
    assert article.revisions.count() == 2
    diff = client.get(reverse("admin:content_article_revisions", args=[article.pk]), {"a": 1, "b": 2}).content.decode()
    assert '第<span class="diff_chg">一</span>版正文' in diff
    assert '第<span class="diff_chg">二</span>版正文' in diff
    client.post(reverse("admin:content_article_restore", args=[article.pk, 1]))
    article.refresh_from_db()
    assert article.title == "第一版标题" and article.state == ArticleState.DRAFT
    assert article.revisions.count() == 3


def test_workflow_buttons_drive_the_services(columns, editor, make_article, reviewers, login):
    article = make_article()
    client = login(editor)
    client.post(reverse("admin:content_article_workflow", args=[article.pk, "submit"]))
    article.refresh_from_db()
    assert article.state == ArticleState.IN_REVIEW
    client = login(reviewers[1])
    page = client.get(reverse("admin:content_article_change", args=[article.pk])).content.decode()
    assert "通过" in page and "退回" in page
    # The approve form carries the version the reviewer read (a stale approval is refused).
    approve = reverse("admin:content_article_workflow", args=[article.pk, "approve"])
    assert f'action="{approve}"' in page and f'name="version" value="{article.version}"' in page
    response = client.post(reverse("admin:content_article_workflow", args=[article.pk, "reject"]), {"reason": ""})
    assert response.status_code == 200  # the reason form again, with the error
    client.post(reverse("admin:content_article_workflow", args=[article.pk, "reject"]), {"reason": "请补充数据来源"})
    article.refresh_from_db()
    assert article.state == ArticleState.DRAFT and article.rejection_reason == "请补充数据来源"


def test_dashboard_lists_what_waits_for_my_review(columns, editor, make_article, reviewers, login):
    waiting = make_article(title="等待初审的稿件")
    article_submit(actor=editor, article=waiting)
    make_article(title="仍是草稿的稿件")
    page = login(reviewers[1]).get(reverse("admin:index")).content.decode()
    assert "等待我审核" in page and "等待初审的稿件" in page and "仍是草稿的稿件" not in page
    assert "等待初审的稿件" not in login(reviewers[2]).get(reverse("admin:index")).content.decode()


def test_article_list_filters_by_state_column_department_and_author(columns, editor, make_article, login):
    make_article()
    client = login(editor)
    for query in (
        "state__exact=draft",
        f"column__id__exact={columns['notices'].pk}",
        f"department__id__exact={editor.department_id}",
        f"created_by__id__exact={editor.pk}",
    ):
        response = client.get(reverse("admin:content_article_changelist") + "?" + query)
        assert response.status_code == 200 and "县政府召开常务会议" in response.content.decode(), query


def test_editor_image_upload_accepts_png_and_refuses_svg_big_and_fake(editor, login, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = login(editor)
    url = reverse("editor_image_upload")
    ok = client.post(url, {"upload": SimpleUploadedFile("a.png", _png(), content_type="image/png")})
    assert ok.status_code == 200 and ok.json()["url"].endswith(".png")
    svg = client.post(url, {"upload": SimpleUploadedFile("a.png", b"<svg onload=alert(1)>", content_type="image/png")})
    assert svg.status_code == 400 and "SVG" in svg.json()["error"]["message"]
    fake = client.post(
        url, {"upload": SimpleUploadedFile("a.jpg", b"MZ\x90\x00 executable", content_type="image/jpeg")}
    )
    assert fake.status_code == 400
    settings.CONTENT_MAX_IMAGE_BYTES = 100
    big = client.post(url, {"upload": SimpleUploadedFile("b.png", _png((400, 400)), content_type="image/png")})
    assert big.status_code == 400 and "MB" in big.json()["error"]["message"]


def test_anonymous_cannot_upload_images(client):
    response = client.post(reverse("editor_image_upload"), {"upload": SimpleUploadedFile("a.png", _png())})
    assert response.status_code == 302
