"""Checks for every uploaded image (article covers and images in bodies)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}


def validate_image(upload) -> str:
    """Raise ValidationError unless `upload` is a real JPEG/PNG/GIF/WebP within the size limit; return its extension.

    The content decides, not the file name: an SVG (which can carry scripts) or a renamed
    document is refused whatever it is called.
    """
    limit = settings.CONTENT_MAX_IMAGE_BYTES
    if upload.size > limit:
        raise ValidationError(
            _("The image is %(size).1f MB; images may be at most %(limit)d MB. Compress it or reduce its size."),
            params={"size": upload.size / 1024 / 1024, "limit": limit // 1024 // 1024},
            code="image_too_large",
        )
    head = upload.read(512)
    upload.seek(0)
    if b"<svg" in head.lower() or b"<?xml" in head.lower():
        raise ValidationError(_("SVG images are not accepted; upload a JPG or PNG."), code="svg")
    try:
        with Image.open(upload) as image:
            image_format = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationError(
            _("This file is not an image we can read. Upload a JPG or PNG."), code="not_image"
        ) from None
    finally:
        upload.seek(0)
    if image_format not in ALLOWED_FORMATS:
        raise ValidationError(
            _("%(format)s images are not accepted; upload a JPG, PNG, GIF or WebP."),
            params={"format": image_format},
            code="format",
        )
    return ALLOWED_FORMATS[image_format]
