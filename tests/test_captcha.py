"""The public forms' offline captcha (shared/captcha.py): one use per picture, expiry, a readable PNG, and a form
that always shows a fresh picture."""

import io
import re
import time

import pytest
from django import forms
from PIL import Image

from shared import redis_client
from shared.captcha import (
    ALPHABET,
    CACHE_PREFIX,
    CaptchaField,
    CaptchaFormMixin,
    captcha_check,
    captcha_image,
    captcha_is_live,
    captcha_new,
)
from tests.captcha import captcha_answer, captcha_post_data

pytestmark = pytest.mark.urls("tests.captcha_urls")


class TrackForm(CaptchaFormMixin, forms.Form):
    number = forms.CharField(label="Case number", max_length=20)


class PlainForm(forms.Form):
    number = forms.CharField(max_length=20)
    captcha = CaptchaField()


def test_new_captcha_answer_is_four_digits_a_phone_keypad_can_type():
    key = captcha_new()
    answer = captcha_answer(key)
    assert len(answer) == 4
    assert set(answer) <= set(ALPHABET)
    assert "0" not in ALPHABET and "1" not in ALPHABET
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", key)


def test_answer_waits_ten_minutes_in_redis(settings):
    from django.core.cache import cache

    key = captcha_new()
    ttl = redis_client.client().ttl(cache.make_key(CACHE_PREFIX + key))
    assert 590 <= ttl <= 600


def test_right_answer_passes_once_then_the_key_is_spent():
    key = captcha_new()
    answer = captcha_answer(key)
    assert captcha_check(key, answer) is True
    assert captcha_check(key, answer) is False
    assert not captcha_is_live(key)


def test_wrong_answer_also_spends_the_key_so_it_cannot_be_guessed_twice():
    key = captcha_new()
    answer = captcha_answer(key)
    wrong = "".join("2" if c != "2" else "3" for c in answer)
    assert captcha_check(key, wrong) is False
    assert captcha_check(key, answer) is False


def test_empty_answer_spends_the_key():
    key = captcha_new()
    assert captcha_check(key, "") is False
    assert captcha_answer(key) is None


def test_answer_ignores_spaces_case_and_full_width_digits():
    for typed in (" {} ", "{0}{1} {2}{3}", "full"):
        key = captcha_new()
        answer = captcha_answer(key)
        if typed == "full":
            typed = "".join(chr(ord(c) - ord("0") + ord("０")) for c in answer)
        else:
            typed = typed.format(*answer) if "{0}" in typed else typed.format(answer)
        assert captcha_check(key, typed) is True, typed


@pytest.mark.parametrize("key", [None, "", "short", "x" * 65, "../../etc/passwd-aaaaaaaaaaaaaaaa", "a b" * 10])
def test_unknown_and_malformed_keys_fail(key):
    assert captcha_check(key, "2345") is False
    assert captcha_image(key) is None
    assert not captcha_is_live(key)


def test_captcha_expires(settings):
    settings.COMPLAINT_CAPTCHA_SECONDS = 1
    key = captcha_new()
    answer = captcha_answer(key)
    time.sleep(1.3)
    assert captcha_image(key) is None
    assert captcha_check(key, answer) is False


def test_image_is_a_png_pillow_can_open_and_is_drawn_anew_each_time():
    key = captcha_new()
    png = captcha_image(key)
    image = Image.open(io.BytesIO(png))
    image.verify()
    assert image.format == "PNG"
    assert image.size == (200, 70)
    # Noise and tilt are random per drawing; the answer is untouched by looking at it.
    assert captcha_image(key) != png
    assert captcha_is_live(key)


def test_image_has_dark_digits_on_a_pale_ground():
    image = Image.open(io.BytesIO(captcha_image(captcha_new()))).convert("L")
    histogram = image.histogram()
    total = image.width * image.height
    assert sum(histogram[221:]) > total * 0.6
    assert sum(histogram[:100]) > total * 0.04


def test_image_view_serves_png_never_cached(client, db):
    key = captcha_new()
    response = client.get(f"/captcha/{key}.png")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "no-store"
    Image.open(io.BytesIO(response.content)).verify()


def test_image_view_is_404_for_unknown_and_spent_keys(client, db):
    key = captcha_new()
    captcha_check(key, "0000")
    assert client.get(f"/captcha/{key}.png").status_code == 404
    assert client.get("/captcha/nonsense.png").status_code == 404


def test_unbound_form_shows_picture_change_button_and_a_numeric_answer_box():
    html = str(TrackForm())
    key = re.search(r'name="captcha_key" value="([^"]+)"', html).group(1)
    assert captcha_is_live(key)
    assert f'src="/captcha/{key}.png"' in html
    assert 'alt="验证码图片"' in html
    assert 'name="captcha_refresh"' in html and "换一张" in html
    assert "验证码" in html
    answer_input = re.search(r'<input type="text" name="captcha_answer"[^>]*>', html).group(0)
    assert 'autocomplete="off"' in answer_input
    assert 'inputmode="numeric"' in answer_input
    assert 'id="id_captcha"' in answer_input
    assert '<label for="id_captcha"' in html


def test_right_answer_makes_the_form_valid_once():
    data = {"number": "TS2025000001", **captcha_post_data(str(TrackForm()))}
    assert TrackForm(data).is_valid()
    replay = TrackForm(data)
    assert not replay.is_valid()
    assert replay.errors["captcha"] == ["验证码错误或已过期，请输入新的验证码。"]


def test_wrong_answer_is_refused_in_chinese_and_the_form_comes_back_with_a_new_picture_and_the_typed_data():
    solved = captcha_post_data(str(TrackForm()))
    form = TrackForm({"number": "TS2025000001", "captcha_key": solved["captcha_key"], "captcha_answer": "9999x"})
    assert not form.is_valid()
    assert form.errors["captcha"] == ["验证码错误或已过期，请输入新的验证码。"]
    html = str(form)
    new_key = re.search(r'name="captcha_key" value="([^"]+)"', html).group(1)
    assert new_key != solved["captcha_key"]
    assert captcha_is_live(new_key)
    assert 'value="TS2025000001"' in html
    assert "9999x" not in html


def test_missing_answer_asks_for_the_code():
    key = captcha_new()
    form = TrackForm({"number": "TS2025000001", "captcha_key": key, "captcha_answer": " "})
    assert not form.is_valid()
    assert form.errors["captcha"] == ["请输入图片中的验证码。"]
    assert not captcha_is_live(key)


def test_change_image_shows_a_new_picture_without_scolding_the_other_fields():
    solved = captcha_post_data(str(TrackForm()))
    # Even with the right answer typed, "change image" must not submit the form.
    form = TrackForm({"number": "", **solved, "captcha_refresh": "1"})
    assert form.captcha_refresh_requested
    assert not form.is_valid()
    assert list(form.errors) == ["captcha"]
    assert form.errors["captcha"] == ["已换一张图片，请输入图中的验证码。"]
    html = str(form)
    assert solved["captcha_key"] not in html


def test_captcha_field_works_without_the_mixin():
    html = str(PlainForm())
    data = {"number": "1", **captcha_post_data(html)}
    assert PlainForm(data).is_valid()
    refreshed = PlainForm({**captcha_post_data(str(PlainForm())), "number": "1", "captcha_refresh": "1"})
    assert not refreshed.is_valid()


def test_a_form_without_the_key_is_refused():
    form = TrackForm({"number": "TS2025000001", "captcha_answer": "2345"})
    assert not form.is_valid()
    assert "captcha" in form.errors
