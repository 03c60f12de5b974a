"""Staff-only endpoints used by the article editor."""

import uuid

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.services import audit_record
from content.images import validate_image


@require_POST
@staff_member_required
def editor_image_upload(request):
    """CKEditor 5 image upload: checked by content, stored under a random name (the user's file name is not trusted)."""
    if not admin.site.has_permission(request):
        # Signed in with the password but not yet the second factor (accounts/otp.py).
        return JsonResponse({"error": {"message": _("You do not have permission to upload images.")}}, status=403)
    upload = request.FILES.get("upload")
    if upload is None:
        return JsonResponse({"error": {"message": _("No file was received.")}}, status=400)
    if not request.user.has_perm("content.change_article") and not request.user.has_perm("content.add_article"):
        return JsonResponse({"error": {"message": _("You do not have permission to upload images.")}}, status=403)
    try:
        extension = validate_image(upload)
    except ValidationError as error:
        return JsonResponse({"error": {"message": " ".join(error.messages)}}, status=400)
    name = default_storage.save(f"editor/{timezone.localdate():%Y/%m}/{uuid.uuid4().hex}.{extension}", upload)
    audit_record(actor=request.user, action="image.upload", detail={"file": name, "bytes": upload.size})
    return JsonResponse({"url": default_storage.url(name)})
