import re

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from accounts.identity import is_valid_id_number
from accounts.roles import is_administrator
from accounts.scoping import DepartmentScopedAdminMixin, departments_for
from accounts.services import audit_record
from disclosure import page_cache, selectors, services, views_admin
from disclosure.actions import BATCH_ACTIONS, CORRECT, DISCARD, EDIT
from disclosure.admin_dashboard import disclosure_panel
from disclosure.admin_import import DisbursementImportMixin
from disclosure.admin_report import AnnualReportAdmin
from disclosure.exporting import ExportMixin
from disclosure.models import (
    AnnualReport,
    BatchSource,
    BatchState,
    DepartmentBudget,
    Disbursement,
    DisclosureBatch,
    FundProgram,
    ProjectAllocation,
    PublicFields,
    RecordType,
    StaffingUnit,
    StaffMember,
)
from disclosure.visibility import ALLOWED
from govcms.admin_display import state_label
from govcms.admin_workflow import WorkflowButtonsMixin
from govcms.paginators import EstimatedCountPaginator
from shared.bigrams import bigrams

ID_NUMBER = re.compile(r"^\d{17}[\dXx]$")


@admin.register(FundProgram)
class FundProgramAdmin(DepartmentScopedAdminMixin, ModelAdmin):
    list_display = ("name", "year", "kind", "department", "total_amount")
    list_filter = ("year", "kind")
    search_fields = ("name",)
    list_select_related = ("department",)

    def save_model(self, request, obj, form, change):
        # The admin site audits every add and change already (govcms.admin_site).
        super().save_model(request, obj, form, change)
        page_cache.bump()  # programme names appear on the public pages


# -- batches ---------------------------------------------------------------------------------------


class BatchForm(forms.ModelForm):
    class Meta:
        model = DisclosureBatch
        fields = ("title", "record_type", "department", "year", "corrects", "note")


@admin.register(DisclosureBatch)
class DisclosureBatchAdmin(WorkflowButtonsMixin, DepartmentScopedAdminMixin, ModelAdmin):
    workflow_actions = BATCH_ACTIONS
    form = BatchForm
    list_display = ("title", "record_type", "department", "year", "state_badge", "source", "published_at",
                    "created_by")  # fmt: skip
    state_badge = state_label(DisclosureBatch, {"importing": "info", "import_failed": "danger", "submitted": "warning",
                                                "published": "success", "rejected": "danger"})  # fmt: skip
    list_filter = ("state", "record_type", "year", "source")
    search_fields = ("title",)
    list_select_related = ("department", "created_by")
    change_form_template = "admin/disclosure/disclosurebatch/change_form.html"
    change_list_template = "admin/disclosure/disclosurebatch/change_list.html"
    readonly_fields = (
        "state", "source", "created_by", "created_at", "submitted_at", "reviewed_by", "review_comment", "published_at",
        "withdrawn_at", "withdraw_reason", "rows_read", "rows_valid", "rows_rejected", "import_error",
    )  # fmt: skip

    audited_by_services = True  # batch_create, EDIT and DISCARD write the audit entries

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not EDIT.allowed(request.user, obj):
            return self.readonly_fields + ("title", "record_type", "department", "year", "corrects", "note")
        if obj is not None:
            return self.readonly_fields + ("record_type", "corrects")
        return self.readonly_fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "corrects":
            # The batches CORRECT may allow; batch_create asks it of the one chosen.
            kwargs["queryset"] = CORRECT.candidates(
                DisclosureBatch.objects.filter(department__in=departments_for(request.user))
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            EDIT.execute(request.user, obj, **{name: getattr(obj, name) for name in form.changed_data})
            return
        created = services.batch_create(
            actor=request.user, record_type=obj.record_type, department=obj.department, year=obj.year,
            title=obj.title, corrects=obj.corrects, note=obj.note, source=BatchSource.MANUAL,
        )  # fmt: skip
        obj.pk = created.pk
        obj.created_by = created.created_by
        obj.state = created.state

    def has_delete_permission(self, request, obj=None):
        # Published batches are withdrawn, never deleted; the others are discarded by DISCARD, which decides.
        if obj is not None:
            return DISCARD.allowed(request.user, obj)
        return super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        DISCARD.execute(request.user, obj)

    def delete_queryset(self, request, queryset):
        for batch in queryset:
            DISCARD.execute(request.user, batch)

    def workflow_context(self, request, batch):
        model = services.record_model(batch)
        return {
            **super().workflow_context(request, batch),
            "record_count": model.objects.filter(batch=batch).count(),
            "records_url": reverse(f"admin:disclosure_{model._meta.model_name}_changelist") + f"?batch__id__exact={batch.pk}",
            "corrections": batch.corrections.filter(state=BatchState.PUBLISHED),
            # What the reviewer reads before publishing; an import still loading has no final sums yet.
            "summary": selectors.batch_summary(batch) if batch.state != BatchState.IMPORTING else None,
        }  # fmt: skip

    def get_urls(self):
        wrap = self.admin_site.admin_view
        site = {"admin_site": self.admin_site}
        custom = [
            # Large imports (disclosure/views_admin.py): upload, progress page and its JSON, rejected rows.
            path("large-import/", wrap(views_admin.large_import_upload), site,
                 name="disclosure_disclosurebatch_large_import"),
            path("<int:pk>/import/", wrap(views_admin.large_import_progress), site,
                 name="disclosure_disclosurebatch_import_progress"),
            path("<int:pk>/import/status/", wrap(views_admin.large_import_status), site,
                 name="disclosure_disclosurebatch_import_status"),
            path("<int:pk>/import/report/", wrap(views_admin.large_import_report), site,
                 name="disclosure_disclosurebatch_import_report"),
        ]  # fmt: skip
        return custom + super().get_urls()


# -- records ---------------------------------------------------------------------------------------


class BatchStateFilter(admin.SimpleListFilter):
    title = _("public")
    parameter_name = "public"

    def lookups(self, request, model_admin):
        return (("yes", _("On the public pages")), ("no", _("Not public")))

    def queryset(self, request, queryset):
        public = {"batch__state": BatchState.PUBLISHED, "superseded_at__isnull": True}
        if self.value() == "yes":
            return queryset.filter(**public)
        if self.value() == "no":
            return queryset.exclude(batch__state=BatchState.PUBLISHED) | queryset.filter(superseded_at__isnull=False)
        return queryset


class RecordAdmin(ExportMixin, DepartmentScopedAdminMixin, ModelAdmin):
    """What every record list shares: scoped by the batch's department, editable only in a draft
    batch, fast at a million rows (no full COUNT, narrow joins)."""

    department_field = "batch__department"
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_per_page = 50
    ordering = ("-id",)
    raw_id_fields = ("batch",)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "batch":
            # The batches EDIT may allow; the form asks it of the one chosen.
            kwargs["queryset"] = EDIT.candidates(
                DisclosureBatch.objects.filter(department__in=departments_for(request.user))
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.user = request.user  # a fresh class per request: RecordForm.clean_batch asks EDIT for this user
        return form

    def has_change_permission(self, request, obj=None):
        if obj is not None and not EDIT.allowed(request.user, obj.batch):
            return False  # published records are corrected by a new batch, never edited
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and not EDIT.allowed(request.user, obj.batch):
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        EDIT.require(request.user, obj.batch)
        if obj.batch.record_type != self.record_type:
            raise PermissionDenied
        super().save_model(request, obj, form, change)

    @admin.display(description=mark_safe('<input type="checkbox" id="action-toggle">'))  # noqa: S308 - a constant
    def action_checkbox(self, obj):
        # Django's own renders a widget template per row: a third of a 50-row page's time.
        label = format_html(gettext("Select this object for an action - {}"), obj)
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            label,
        )

    @admin.display(description=_("public"), boolean=True)
    def is_public(self, obj):
        return obj.batch.state == BatchState.PUBLISHED and obj.superseded_at is None


class RecordForm(forms.ModelForm):
    user = None  # set by RecordAdmin.get_form

    def clean_batch(self):
        batch = self.cleaned_data["batch"]
        refusal = EDIT.check(self.user, batch)
        if refusal:
            raise forms.ValidationError(refusal)
        return batch


class DisbursementForm(RecordForm):
    id_number = forms.CharField(
        label=_("identity number"),
        required=False,
        max_length=18,
        help_text=_("18 characters. Stored encrypted and shown masked; leave empty to keep the stored number."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    class Meta:
        model = Disbursement
        fields = ("batch", "program", "recipient_name", "id_number", "township", "village", "household_size", "amount",
                  "paid_on", "paying_department", "supersedes_id")  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["id_number"] = ""  # never sent back to the browser

    def clean_id_number(self):
        value = self.cleaned_data["id_number"].strip().upper()
        if not value:
            if not self.instance.pk or not self.instance.id_number:
                raise forms.ValidationError(gettext("Enter the recipient's identity number."))
            return self.instance.id_number
        if not is_valid_id_number(value):
            raise forms.ValidationError(gettext("This is not a valid 18-character identity number."))
        return value


@admin.register(Disbursement)
class DisbursementAdmin(DisbursementImportMixin, RecordAdmin):
    record_type = RecordType.DISBURSEMENT
    form = DisbursementForm
    list_display = ("recipient_name", "id_masked", "township", "village", "household_size", "amount", "paid_on",
                    "program", "batch", "is_public")  # fmt: skip
    list_select_related = ("program", "batch")
    list_filter = (BatchStateFilter,)
    search_help_text = _(
        "A name (2 or more characters), a village or township, or a full identity number."
    )  # fmt: skip
    search_fields = ("recipient_name",)  # the search itself is get_search_results below
    readonly_fields = ("id_masked", "corrected_at", "superseded_at")

    def get_search_results(self, request, queryset, search_term):
        """Names through the bigram index, identity numbers through their keyed hash, places exactly:
        never a LIKE scan over a million rows."""
        term = search_term.strip()
        if not term:
            return queryset, False
        if ID_NUMBER.match(term):
            audit_record(actor=request.user, action="disclosure.id_lookup", detail={"masked": term[:4] + "…"})
            return queryset.filter(id_hash=services.identity_hash(term)), False
        grams = bigrams(term)
        if not grams:
            return queryset.filter(recipient_name=term), False
        by_name = queryset.filter(name_bigrams__contains=grams, recipient_name__contains=term)
        by_place = queryset.filter(village=term) | queryset.filter(township=term)
        return by_name | by_place, False

    def save_model(self, request, obj, form, change):
        services.prepare_disbursement(obj)
        super().save_model(request, obj, form, change)


@admin.register(ProjectAllocation)
class ProjectAllocationAdmin(RecordAdmin):
    record_type = RecordType.PROJECT
    form = RecordForm
    list_display = ("project_name", "undertaking_body", "location", "amount", "allocated_on", "program", "batch",
                    "is_public")  # fmt: skip
    list_select_related = ("program", "batch")
    search_fields = ("project_name", "undertaking_body")


@admin.register(DepartmentBudget)
class DepartmentBudgetAdmin(RecordAdmin):
    record_type = RecordType.BUDGET
    form = RecordForm
    list_display = ("department", "year", "basic_expenditure", "project_expenditure", "three_public_display", "batch",
                    "is_public")  # fmt: skip
    list_select_related = ("department", "batch")
    list_filter = ("year",)

    @admin.display(description=_("“three public” expenses"))
    def three_public_display(self, obj):
        return obj.three_public


class StaffingForm(RecordForm):
    def save(self, commit=True):
        self.instance.name_bigrams = bigrams(self.cleaned_data["name"])
        return super().save(commit)


@admin.register(StaffingUnit)
class StaffingUnitAdmin(RecordAdmin):
    record_type = RecordType.STAFFING
    form = StaffingForm
    exclude = ("name_bigrams",)
    list_display = ("name", "unit_type", "parent_name", "approved_total_display", "actual_staff", "batch", "is_public")
    list_select_related = ("batch",)
    search_fields = ("name",)
    list_filter = ("unit_type",)

    @admin.display(description=_("approved posts"))
    def approved_total_display(self, obj):
        return obj.approved_total


@admin.register(StaffMember)
class StaffMemberAdmin(RecordAdmin):
    record_type = RecordType.STAFF_MEMBER
    form = StaffingForm
    exclude = ("name_bigrams",)
    list_display = ("name", "unit", "post", "establishment_type", "batch", "is_public")
    list_select_related = ("unit", "batch")
    raw_id_fields = ("batch", "unit")
    search_fields = ("name", "unit__name")


# -- settings --------------------------------------------------------------------------------------


def field_label(models, name: str):
    for model in models:
        try:
            return model._meta.get_field(name).verbose_name
        except FieldDoesNotExist:
            continue
    return name


class PublicFieldsForm(forms.ModelForm):
    fields = forms.MultipleChoiceField(label=_("public fields"), widget=forms.CheckboxSelectMultiple, required=False)

    class Meta:
        model = PublicFields
        fields = ("record_type", "fields", "mask_names")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        record_type = self.data.get("record_type") or self.initial.get("record_type") or self.instance.record_type
        names = ALLOWED.get(record_type) or sorted({name for names in ALLOWED.values() for name in names})
        model = {
            RecordType.DISBURSEMENT: Disbursement, RecordType.PROJECT: ProjectAllocation,
            RecordType.BUDGET: DepartmentBudget, RecordType.STAFFING: StaffingUnit, RecordType.STAFF_MEMBER: StaffMember,
        }.get(record_type)  # fmt: skip
        # Before a record type is chosen, each field is named after the first record model that has it.
        candidates = (
            [model] if model else [Disbursement, ProjectAllocation, DepartmentBudget, StaffingUnit, StaffMember]
        )
        self.fields["fields"].choices = [(name, field_label(candidates, name)) for name in names]
        if record_type == RecordType.DISBURSEMENT:
            self.fields["fields"].help_text = format_html(
                "{}", gettext("“identity number” here is the masked form (4209**********1234); the full number is never public.")
            )  # fmt: skip


@admin.register(PublicFields)
class PublicFieldsAdmin(ModelAdmin):
    form = PublicFieldsForm
    list_display = ("record_type", "fields", "mask_names")

    def has_module_permission(self, request):
        return is_administrator(request.user) or super().has_module_permission(request)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        page_cache.bump()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        page_cache.bump()


admin.site.register(AnnualReport, AnnualReportAdmin)


admin.site.register_dashboard_panel(disclosure_panel, order=30)
