"""The article list's "my review work" filter: the sidebar's 待我审核 and 已审核 link to it, and its badge counts
the same rows (govcms/navigation.py), so a badge never promises more than the list shows."""

from django.contrib import admin
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from content.actions import APPROVE
from content.models import ArticleReview

WAITING, REVIEWED = "waiting", "reviewed"


def review_work(queryset, user, key: str):
    """Articles of `queryset` waiting for `user`'s decision now (APPROVE's candidates: the same rule as its check),
    or those `user` has decided on at some step."""
    if key == WAITING:
        return APPROVE.candidates(queryset, user)
    if key == REVIEWED:
        return queryset.filter(Exists(ArticleReview.objects.filter(article=OuterRef("pk"), reviewer=user)))
    return queryset


class ReviewWorkFilter(admin.SimpleListFilter):
    title = _("my reviews")
    parameter_name = "review"

    def lookups(self, request, model_admin):
        if not request.user.has_perm("content.review_article"):
            return ()
        return ((WAITING, _("Waiting for my review")), (REVIEWED, _("Reviewed by me")))

    def queryset(self, request, queryset):
        return review_work(queryset, request.user, self.value()) if self.value() else queryset
