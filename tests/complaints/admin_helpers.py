"""Helpers of the case admin tests: URLs, messages shown after a redirect, a case with a stored attachment."""

import io

from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from complaints.attachments import check_attachment


def action(case, name):
    return reverse("admin:complaints_case_action", args=[case.pk, name])


def change(case):
    return reverse("admin:complaints_case_change", args=[case.pk])


def shown_messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def png_upload(name="现场照片.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 40)).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def with_attachment(upload=None):
    """case_create's `attachments` argument for one checked PNG."""
    upload = upload or png_upload()
    return [(check_attachment(upload), upload)]
