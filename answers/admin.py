"""The answer library in the admin: entries with their review buttons, xlsx import (preview, row errors
in Chinese) and export. Editing an approved entry returns it to draft: a changed answer is reviewed again."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportMixin
from import_export.formats.base_formats import XLSX
from unfold.admin import ModelAdmin
from unfold.contrib.import_export.forms import ExportForm, ImportForm

from accounts.scoping import DepartmentScopedAdminMixin
from answers.actions import ENTRY_ACTIONS
from answers.models import AnswerEntry, EntryState
from answers.resources import AnswerEntryResource
from answers.services import library_changed_on_commit
from govcms.admin_workflow import WorkflowButtonsMixin

KEYWORD_FIELDS = ("exact_keywords", "contained_keywords")


@admin.register(AnswerEntry)
class AnswerEntryAdmin(WorkflowButtonsMixin, ImportExportMixin, DepartmentScopedAdminMixin, ModelAdmin):
    workflow_actions = ENTRY_ACTIONS  # submit, approve, withdraw
    list_display = ("question", "keywords", "kind", "department", "state", "priority", "valid_to", "hit_count")
    list_filter = ("state", "kind", "department")
    search_fields = ("question", "answer_text")
    list_select_related = ("department",)
    autocomplete_fields = ("article",)
    readonly_fields = ("state", "hit_count", "created_by", "updated_by", "approved_by")
    fieldsets = (
        (None, {"fields": ("question", "exact_keywords", "contained_keywords", "department", "priority")}),
        (_("Answer"), {"fields": ("kind", "answer_text", "article", "wechat_url", "image")}),
        (
            _("Validity and review"),
            {"fields": ("valid_from", "valid_to", "state", "created_by", "updated_by", "approved_by", "hit_count")},
        ),
    )
    change_form_template = "admin/answers/answerentry/change_form.html"
    # import-export's list template (its import and export buttons) with the link to the statistics page.
    import_export_change_list_template = "admin/answers/answerentry/change_list.html"
    resource_classes = [AnswerEntryResource]
    formats = [XLSX]
    import_form_class = ImportForm
    export_form_class = ExportForm
    list_per_page = 50
    show_full_result_count = False  # 10,000+ entries: no second COUNT(*) per page

    @admin.display(description=_("keywords"))
    def keywords(self, entry):
        return "、".join([*entry.exact_keywords, *entry.contained_keywords])[:60]

    def get_changeform_initial_data(self, request):
        """The add page prefilled from its link (?question=...&exact_keywords=...), as the statistics page's
        "add to the answer library" link opens it. A keyword list may be given as one comma-separated value
        or as the parameter repeated; the form's field shows it comma-separated."""
        initial = super().get_changeform_initial_data(request)
        for name in KEYWORD_FIELDS:
            if name in request.GET:
                values = (part.strip() for value in request.GET.getlist(name) for part in value.split(","))
                initial[name] = [value for value in values if value]
        return initial

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "wechat_url":
            kwargs["assume_scheme"] = "https"  # WeChat's article links are https
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_resource_kwargs(self, request, **kwargs):
        # import-export's import and export kwargs both default to these.
        return {"user": request.user}

    def has_import_permission(self, request):
        return request.user.has_perm("answers.add_answerentry")

    def has_export_permission(self, request):
        return request.user.has_perm("answers.view_answerentry")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        obj.updated_by = request.user
        if change and obj.state != EntryState.DRAFT and form.has_changed():
            # A changed answer needs a new approval; until then it stops answering.
            obj.state, obj.approved_by = EntryState.DRAFT, None
            library_changed_on_commit()
        super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        if obj.state == EntryState.APPROVED:
            library_changed_on_commit()
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        library_changed_on_commit()
        super().delete_queryset(request, queryset)
