"""Images of absurd dimensions (a PNG of a few hundred bytes declaring 40000×40000 pixels) are refused
with a Chinese message on every image input of the article editor, never a 500 (issue 12)."""

import io
import struct
import zlib

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from content.models import Article
from tests.content.test_article_admin import _form

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:content_article_add")
TOO_MANY_PIXELS = "图片像素过多：每边不能超过 8000 像素，总计不能超过 40 百万像素。请缩小图片尺寸后重新上传。"


def png_claiming(width, height) -> bytes:
    """A real 10×10 PNG whose header (with a valid checksum) declares other dimensions."""
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10), "white").save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return bytes(data)


def png(size) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", size, 255).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.mark.parametrize(("width", "height"), [(40000, 40000), (13000, 13000), (8001, 100), (100, 8001), (7000, 7000)])
def test_editor_upload_refuses_oversize_dimensions_with_json_the_editor_shows(editor, login, media, width, height):
    response = login(editor).post(
        reverse("editor_image_upload"),
        {"upload": SimpleUploadedFile("bomb.png", png_claiming(width, height), content_type="image/png")},
    )
    assert response.status_code == 400
    assert response.json() == {"error": {"message": TOO_MANY_PIXELS}}
    assert not any(path.is_file() for path in media.rglob("*"))


def test_editor_upload_accepts_an_image_at_the_side_limit(editor, login, media, settings):
    settings.UPLOAD_IMAGE_MAX_SIDE = 600
    response = login(editor).post(
        reverse("editor_image_upload"),
        {"upload": SimpleUploadedFile("wide.png", png((600, 20)), content_type="image/png")},
    )
    assert response.status_code == 200
    assert default_storage.exists(response.json()["url"].removeprefix(settings.MEDIA_URL))


def test_editor_upload_limits_come_from_settings(editor, login, media, settings):
    settings.UPLOAD_IMAGE_MAX_PIXELS = 1_000_000
    response = login(editor).post(
        reverse("editor_image_upload"),
        {"upload": SimpleUploadedFile("a.png", png((1001, 1000)), content_type="image/png")},
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(
        "图片像素过多：每边不能超过 8000 像素，总计不能超过 1 百万像素。"
    )


@pytest.mark.parametrize(("width", "height"), [(40000, 40000), (13000, 13000)])
def test_cover_of_oversize_dimensions_is_refused_on_the_form(columns, editor, login, media, width, height):
    cover = SimpleUploadedFile("cover.png", png_claiming(width, height), content_type="image/png")
    response = login(editor).post(ADD_URL, {**_form(columns, editor), "cover": cover})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["cover"] == [TOO_MANY_PIXELS]
    assert not Article.objects.exists()


def test_cover_of_ordinary_dimensions_is_accepted(columns, editor, login, media):
    cover = SimpleUploadedFile("cover.png", png((900, 500)), content_type="image/png")
    response = login(editor).post(ADD_URL, {**_form(columns, editor), "cover": cover})
    assert response.status_code == 302
    assert Article.objects.get().cover.name.endswith(".png")
