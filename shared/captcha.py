"""An offline captcha for the public forms (a citizen's complaint and its tracking, the lookup of one's own
disclosure records): no third-party service, no network. It imports no app: any public form may use it.

A captcha is a random key whose answer (four digits, which an elderly citizen reads on a phone and
types on its number pad) waits in the cache for `COMPLAINT_CAPTCHA_SECONDS` (10 minutes). Every
check spends the key, right or wrong, so one image can never be tried twice; the form widget asks
for a fresh key whenever the one it holds is spent, so a form shown again after a refusal always
carries a new picture while the other fields keep what the citizen typed.

The image URL is `reverse("captcha", args=[key])` (govcms/urls.py), served by `captcha_image_view`.
"""

import hmac
import io
import re
import secrets
import unicodedata
from functools import lru_cache

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageDraw, ImageFont

# Digits only: one keyboard (inputmode="numeric"), no I/l/1 or O/0 confusion across languages;
# 0 and 1 are left out too because in a tilted sans-serif they pass for O and 7.
ALPHABET = "23456789"
LENGTH = 4
CACHE_PREFIX = "captcha:"
FIELD_NAME = "captcha"
REFRESH_NAME = "captcha_refresh"
IMAGE_SIZE = (200, 70)
_KEY_RE = re.compile(r"[A-Za-z0-9_-]{20,64}")
# Chosen so no two are alike in a blurry photo, and each is dark enough on the pale ground.
_INK = ((25, 55, 120), (120, 30, 30), (20, 90, 50), (70, 40, 110), (30, 30, 30))
_random = secrets.SystemRandom()


def _seconds() -> int:
    return settings.COMPLAINT_CAPTCHA_SECONDS


def _cache_key(key: str | None) -> str | None:
    # A key arrives from the URL or a form; anything not shaped like ours never reaches the cache.
    if not isinstance(key, str) or not _KEY_RE.fullmatch(key):
        return None
    return CACHE_PREFIX + key


def captcha_new() -> str:
    """Create a captcha and return its key; the answer stays in the cache, never in the page."""
    key = secrets.token_urlsafe(24)
    answer = "".join(secrets.choice(ALPHABET) for _position in range(LENGTH))
    cache.set(CACHE_PREFIX + key, answer, timeout=_seconds())
    return key


def captcha_is_live(key: str | None) -> bool:
    """Whether `key` still has an answer waiting (not checked yet, not expired)."""
    cache_key = _cache_key(key)
    return cache_key is not None and cache.has_key(cache_key)


def _normalise(answer) -> str:
    # NFKC turns the full-width digits a Chinese input method may type ("１２３４") into ASCII.
    text = unicodedata.normalize("NFKC", str(answer or "")[:32])  # an answer is short; a megabyte is not one
    return "".join(text.split()).upper()


def captcha_check(key: str | None, answer) -> bool:
    """True when `answer` is the captcha's answer. The key is spent by this call whatever the outcome,
    so it cannot be brute-forced; unknown, expired and malformed keys are simply False."""
    cache_key = _cache_key(key)
    if cache_key is None:
        return False
    expected = cache.get(cache_key)
    # Only the caller whose delete removed the key may pass: two requests racing with one key get one success.
    spent_now = cache.delete(cache_key)
    if expected is None or not spent_now:
        return False
    return hmac.compare_digest(_normalise(answer).encode(), expected.encode())


@lru_cache(maxsize=1)
def _font() -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # Pillow >= 10.1 bundles a scalable Latin font (Aileron), so no system font is needed; without
    # FreeType this is the small bitmap font, which _glyph scales up.
    return ImageFont.load_default(size=48)


def _glyph(char: str, colour: tuple[int, int, int], height: int) -> Image.Image:
    """One character, cropped, scaled to `height`, slightly tilted, as an RGBA image."""
    font = _font()
    # A stroke thickens the thin regular face: easier on old eyes and on cheap phone screens.
    stroke = 2 if isinstance(font, ImageFont.FreeTypeFont) else 0
    left, top, right, bottom = font.getbbox(char, stroke_width=stroke)
    mask = Image.new("L", (right - left + 4, bottom - top + 4), 0)
    ImageDraw.Draw(mask).text((2 - left, 2 - top), char, font=font, fill=255, stroke_width=stroke, stroke_fill=255)
    scale = height / mask.height
    mask = mask.resize((max(1, round(mask.width * scale)), height), Image.Resampling.BICUBIC)
    mask = mask.rotate(_random.uniform(-16, 16), resample=Image.Resampling.BICUBIC, expand=True)
    glyph = Image.new("RGBA", mask.size, (*colour, 255))
    glyph.putalpha(mask)
    return glyph


def _render(answer: str) -> bytes:
    width, height = IMAGE_SIZE
    image = Image.new("RGB", IMAGE_SIZE, (250, 249, 242))
    draw = ImageDraw.Draw(image)
    # Light noise: enough that the picture is not plain text for a script, never enough to hide a digit.
    for _line in range(5):
        shade = tuple(_random.randint(170, 215) for _channel in range(3))
        points = [(_random.randint(0, width), _random.randint(0, height)) for _end in range(2)]
        draw.line(points, fill=shade, width=2)
    slot = (width - 16) / len(answer)
    for index, char in enumerate(answer):
        glyph = _glyph(char, _random.choice(_INK), height=_random.randint(40, 46))
        x = 8 + index * slot + (slot - glyph.width) / 2 + _random.randint(-4, 4)
        y = (height - glyph.height) / 2 + _random.randint(-4, 4)
        image.paste(glyph, (round(x), round(y)), glyph)
    for _dot in range(160):
        shade = tuple(_random.randint(120, 200) for _channel in range(3))
        draw.point((_random.randrange(width), _random.randrange(height)), fill=shade)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def captcha_image(key: str | None) -> bytes | None:
    """The captcha's picture as PNG bytes (drawn anew on every call), or None for an unknown or expired key."""
    cache_key = _cache_key(key)
    answer = cache.get(cache_key) if cache_key else None
    return None if answer is None else _render(answer)


def captcha_image_view(request, key: str) -> HttpResponse:
    """The picture of a live captcha; 404 once it is spent or expired. Never cached anywhere."""
    png = captcha_image(key)
    if png is None:
        raise Http404("no such captcha")
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


class CaptchaWidget(forms.Widget):
    """Hidden key, the picture, a "change image" button and the answer box.

    "Change image" is a submit button rather than a link: a link would leave the page and lose what
    the citizen typed; the button sends the form back, and `CaptchaFormMixin` answers with the same
    form and a new picture instead of processing it. No JavaScript is needed.
    """

    template_name = "shared/captcha.html"
    use_fieldset = False

    def __init__(self, attrs=None):
        base = {
            "autocomplete": "off",
            "inputmode": "numeric",
            "autocapitalize": "off",
            "spellcheck": "false",
            "maxlength": "12",
            "size": "8",
        }
        super().__init__({**base, **(attrs or {})})

    def get_context(self, name, value, attrs):
        key = value[0] if isinstance(value, (list, tuple)) and value else None
        # A spent key (checked on a previous submission) or none at all: this rendering needs a new picture.
        if not captcha_is_live(key):
            key = captcha_new()
        context = super().get_context(name, "", attrs)
        context["widget"].update(
            key=key,
            key_name=f"{name}_key",
            answer_name=f"{name}_answer",
            refresh_name=REFRESH_NAME,
            image_url=reverse("captcha", args=[key]),
            image_width=IMAGE_SIZE[0],
            image_height=IMAGE_SIZE[1],
        )
        return context

    def value_from_datadict(self, data, files, name):
        return (data.get(f"{name}_key"), data.get(f"{name}_answer"), REFRESH_NAME in data)

    def value_omitted_from_data(self, data, files, name):
        return f"{name}_key" not in data and f"{name}_answer" not in data

    def id_for_label(self, id_):
        return id_


class CaptchaField(forms.Field):
    """The verification code of a plain `forms.Form`. Cleaning spends the captcha, right or wrong."""

    widget = CaptchaWidget
    default_error_messages = {
        "required": _("Please enter the verification code shown in the picture."),
        "invalid": _("The verification code is wrong or has expired. Please enter the new code."),
        "refresh": _("Here is a new picture. Please enter the code shown in it."),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Verification code"))
        kwargs.setdefault("help_text", _("Enter the 4 digits shown in the picture."))
        super().__init__(**kwargs)

    def clean(self, value):
        key, answer, refresh = value if isinstance(value, (list, tuple)) and len(value) == 3 else (None, None, False)
        # Spend the key first, whatever follows, so no path leaves a picture usable twice.
        passed = captcha_check(key, answer)
        if refresh:
            raise ValidationError(self.error_messages["refresh"], code="refresh")
        if not _normalise(answer):
            raise ValidationError(self.error_messages["required"], code="required")
        if not passed:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return True


class CaptchaFormMixin:
    """Adds the `captcha` field (last) to a form. When the citizen pressed "change image", the form is
    not valid and shows only the captcha's message: the other fields are neither processed nor scolded.

        class ComplaintForm(CaptchaFormMixin, forms.Form): ...

        form = ComplaintForm(request.POST, request.FILES)
        if form.is_valid(): ...          # captcha solved; otherwise render the same form again
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[FIELD_NAME] = CaptchaField()

    @property
    def captcha_refresh_requested(self) -> bool:
        return self.is_bound and REFRESH_NAME in self.data

    def full_clean(self):
        super().full_clean()
        if self.captcha_refresh_requested and self._errors is not None:
            for name in [name for name in self._errors if name != FIELD_NAME]:
                del self._errors[name]
