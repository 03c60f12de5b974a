import difflib

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from accounts.scoping import DepartmentScopedAdminMixin
from content import admin_review, services
from content.actions import APPROVE, ARTICLE_ACTIONS, RESTORE_REVISION
from content.admin_dashboard import articles_panel
from content.admin_work import ReviewWorkFilter
from content.edit_lock import edit_lock_claim, edit_lock_release
from content.forms import ArticleForm, ColumnForm
from content.models import Article, ArticleRevision, Column
from content.sanitize import html_to_text
from govcms.admin_display import state_label
from govcms.admin_workflow import WorkflowButtonsMixin


@admin.register(Column)
class ColumnAdmin(ModelAdmin):
    form = ColumnForm
    list_display = ["indented_name", "slug", "show_on_home", "review_plan_display", "is_active"]
    list_filter = ["show_on_home", "is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    @admin.display(description=_("review steps"))
    def review_plan_display(self, obj):
        return obj.review_plan_display


@admin.register(Article)
class ArticleAdmin(WorkflowButtonsMixin, DepartmentScopedAdminMixin, ModelAdmin):
    workflow_actions = ARTICLE_ACTIONS
    # Article services write their own audit entries; the generic admin entry would repeat them.
    audited_by_services = True
    form = ArticleForm
    change_form_template = "admin/content/article/change_form.html"
    list_display = ["title", "column", "department", "state_badge", "is_live", "updated_by", "updated_at",
                    "alt_warning"]  # fmt: skip
    state_badge = state_label(Article, {"in_review": "warning", "approved": "info", "published": "success",
                                        "withdrawn": "danger"})  # fmt: skip
    list_filter = [
        ReviewWorkFilter,
        "state",
        "is_live",
        "column",
        "department",
        ("created_by", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["title", "short_title", "author"]
    list_select_related = ["column", "department", "updated_by"]
    date_hierarchy = "updated_at"
    fieldsets = [
        (None, {"fields": ["title", "short_title", "author", "column", "department"]}),
        (_("Content"), {"fields": ["digest", "body", "cover"]}),
        (_("More"), {"fields": ["tags", "source_url", "comments_open", "loaded_version"]}),
    ]

    @admin.display(description=_("images without alt text"), ordering="images_missing_alt")
    def alt_warning(self, obj):
        return (
            format_html('<span class="alt-missing">⚠ {}</span>', obj.images_missing_alt)
            if obj.images_missing_alt
            else ""
        )

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        if request.user.department_id:
            initial.setdefault("department", request.user.department_id)
        initial.setdefault("author", str(request.user))
        return initial

    def save_model(self, request, obj, form, change):
        if change:
            services.article_update(
                actor=request.user, article=obj, expected_version=form.cleaned_data["loaded_version"]
            )
            edit_lock_release(article_id=obj.pk, user=request.user)
        else:
            services.article_create(actor=request.user, article=obj)
        if obj.images_missing_alt:
            messages.warning(
                request,
                gettext("%(count)d image(s) have no alternative text. Describe each image (accessibility, GB/T 37668).")
                % {"count": obj.images_missing_alt},
            )

    def has_delete_permission(self, request, obj=None):
        # Articles are withdrawn, never deleted: the record and its revisions stay.
        return False

    def workflow_context(self, request, article):
        # The change page's one look at the article (WorkflowButtonsMixin.change_view) also claims its edit lock.
        if request.method == "GET" and self.has_change_permission(request, article):
            holder = edit_lock_claim(article_id=article.pk, user=request.user)
            if holder:
                since = parse_datetime(holder["since"])
                messages.warning(
                    request,
                    gettext("%(name)s has had this article open for editing since %(time)s.")
                    % {
                        "name": holder["name"],
                        "time": timezone.localtime(since).strftime("%H:%M") if since else "",
                    },
                )
        return {**super().workflow_context(request, article), "reviews": article.reviews.select_related("reviewer")}

    def workflow_params(self, request, article, action):
        if action is APPROVE and request.POST.get("version", "").isdigit():
            # The version the reviewer read: a stale approval is refused.
            return {"expected_version": int(request.POST["version"])}
        return {}

    def get_urls(self):
        custom = [
            path(
                "<int:pk>/revisions/", self.admin_site.admin_view(self.revisions_view), name="content_article_revisions"
            ),
            path("<int:pk>/review/", self.admin_site.admin_view(self.review_view), name="content_article_review"),
            path(
                "<int:pk>/revisions/<int:number>/restore/",
                self.admin_site.admin_view(self.restore_view),
                name="content_article_restore",
            ),
            path(
                "<int:pk>/preview/<str:kind>/",
                self.admin_site.admin_view(self.preview_view),
                name="content_article_preview",
            ),
        ]
        return custom + super().get_urls()

    def _article_or_403(self, request, pk):
        article = self.get_object(request, str(pk))
        if article is None or not self.has_view_permission(request, article):
            raise PermissionDenied
        return article

    def review_view(self, request, pk):
        return admin_review.review_page(self, request, self._article_or_403(request, pk))

    def revisions_view(self, request, pk):
        article = self._article_or_403(request, pk)
        revisions = list(article.revisions.select_related("created_by"))
        numbers = {r.number: r for r in revisions}
        diff = None
        try:
            a, b = int(request.GET.get("a", 0)), int(request.GET.get("b", 0))
        except ValueError:
            a = b = 0
        if a in numbers and b in numbers:
            diff = [
                (gettext("Title"), _diff(numbers[a].title, numbers[b].title)),
                (gettext("Digest"), _diff(numbers[a].digest, numbers[b].digest)),
                (gettext("Body"), _diff(html_to_text(numbers[a].body), html_to_text(numbers[b].body))),
            ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": article,
            "title": gettext("Revisions of “%(title)s”") % {"title": article.title},
            "revisions": revisions,
            "diff": diff,
            "a": a,
            "b": b,
            "can_restore": RESTORE_REVISION.allowed(request.user, article),
        }
        return TemplateResponse(request, "admin/content/article/revisions.html", context)

    def restore_view(self, request, pk, number):
        article = self._article_or_403(request, pk)
        if request.method != "POST":
            return redirect("admin:content_article_revisions", pk=pk)
        revision = get_object_or_404(ArticleRevision, article=article, number=number)
        try:
            RESTORE_REVISION.execute(request.user, article, revision=revision)
        except (PermissionDenied, ValidationError) as error:
            messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        else:
            messages.success(request, gettext("Revision %(number)d was restored as a new draft.") % {"number": number})
        return redirect("admin:content_article_change", object_id=pk)

    def preview_view(self, request, pk, kind):
        from content.views import render_article

        article = self._article_or_403(request, pk)
        revision = article.revisions.order_by("-number").first()
        if kind == "wechat":
            return TemplateResponse(request, "content/preview_wechat.html", {"article": article, "revision": revision})
        return render_article(request, article, revision, preview=True)


def _diff(old: str, new: str) -> str:
    """Side-by-side HTML diff of two texts, line by line."""
    return difflib.HtmlDiff(wrapcolumn=60).make_table(
        old.splitlines() or [""], new.splitlines() or [""], context=True, numlines=2
    )


admin.site.register_dashboard_panel(articles_panel, order=10)
