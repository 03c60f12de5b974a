"""Checks for every uploaded image (article covers and images in bodies)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from govcms.uploads import image_dimensions_allowed, image_limits

ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}


def validate_image(upload) -> str:
    """Raise ValidationError unless `upload` is a real JPEG/PNG/GIF/WebP within the size and dimension limits
    (govcms.uploads.image_limits); return its extension.

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
    too_big = ValidationError(
        _(
            "The image has too many pixels: at most %(side)s pixels a side and %(megapixels)s megapixels "
            "are accepted. Reduce its dimensions and upload it again."
        ),
        params={"side": image_limits()[0], "megapixels": image_limits()[1] // 1_000_000},
        code="image_dimensions",
    )
    try:
        with Image.open(upload) as image:
            image_format = image.format
            # From the header alone, before anything is decoded: a few kilobytes can declare 40000×40000.
            if not image_dimensions_allowed(image.width, image.height):
                raise too_big
            image.verify()
    except Image.DecompressionBombError:  # past twice Pillow's own limit, Image.open refuses to go on
        raise too_big from None
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
