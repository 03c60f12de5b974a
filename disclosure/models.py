"""Disclosure records (fund disbursements, project allocations, budgets, staffing) and the batches
that carry them from import to publication (DESIGN.md, "Disclosure").

A record belongs to exactly one batch and is public only while its batch is published and no
published correction has superseded it (`superseded_at` is empty). Publishing or withdrawing a
batch of a million rows therefore changes one batch row, never the records; public queries
filter on the short list of published batch ids (`disclosure.selectors`).
"""

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, HashIndex
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.fields import EncryptedTextField
from accounts.models import Department


class RecordType(models.TextChoices):
    DISBURSEMENT = "disbursement", _("Fund disbursement to persons/households")
    PROJECT = "project", _("Fund allocation to projects")
    BUDGET = "budget", _("Department budget")
    STAFFING = "staffing", _("Staffing establishment")
    STAFF_MEMBER = "staff_member", _("Staff by name")


class FundKind(models.TextChoices):
    PERSONS = "persons", _("To persons/households")
    PROJECTS = "projects", _("To projects")


class FundProgram(models.Model):
    """专项资金: a special fund paid out to persons/households or to projects."""

    name = models.CharField(_("name"), max_length=200)
    department = models.ForeignKey(Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("year"), validators=[MinValueValidator(1990), MaxValueValidator(2100)])
    policy_basis = models.TextField(_("policy basis"), blank=True)
    total_amount = models.DecimalField(_("total amount (yuan)"), max_digits=16, decimal_places=2, default=Decimal("0"))
    kind = models.CharField(_("kind"), max_length=16, choices=FundKind.choices, default=FundKind.PERSONS)
    # Recipients are people (低保, 特困...): their full names in a public list expose them to everyone, so the
    # public pages show 张*明 unless the programme's own rules require the full name to be published.
    full_names_public = models.BooleanField(
        _("publish recipients' full names"),
        default=False,
        help_text=_(
            "Only where this programme's rules require full names in public notices. Otherwise the public pages "
            "show names masked, as 张*明."
        ),
    )

    class Meta:
        verbose_name = _("fund programme")
        verbose_name_plural = _("fund programmes")
        ordering = ["-year", "name"]
        constraints = [models.UniqueConstraint(fields=["name", "year"], name="fund_program_name_year")]

    def __str__(self):
        return f"{self.name}（{self.year}）"


class BatchState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IMPORTING = "importing", _("Importing")
    IMPORT_FAILED = "import_failed", _("Import failed")
    SUBMITTED = "submitted", _("Waiting for review")
    PUBLISHED = "published", _("Published")
    REJECTED = "rejected", _("Sent back")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class BatchSource(models.TextChoices):
    MANUAL = "manual", _("Manual entry")
    IMPORT = "import", _("Spreadsheet import")
    LARGE_IMPORT = "large_import", _("Large file import")


class DisclosureBatch(models.Model):
    """A set of records reviewed and published as a whole, or not at all."""

    title = models.CharField(_("title"), max_length=200)
    record_type = models.CharField(_("record type"), max_length=16, choices=RecordType.choices)
    department = models.ForeignKey(Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("year"), validators=[MinValueValidator(1990), MaxValueValidator(2100)])
    source = models.CharField(_("source"), max_length=16, choices=BatchSource.choices, default=BatchSource.MANUAL)
    state = models.CharField(_("state"), max_length=16, choices=BatchState.choices, default=BatchState.DRAFT)
    corrects = models.ForeignKey(
        "self",
        verbose_name=_("corrects batch"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="corrections",
        help_text=_("A correction batch replaces the rows it names when it is published."),
    )
    note = models.TextField(_("note"), blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    review_comment = models.TextField(_("review comment"), blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, db_index=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdraw_reason = models.TextField(_("reason for withdrawal"), blank=True)

    # Large imports: the uploaded file, progress while the task runs, and the report of rejected rows.
    upload = models.CharField(_("uploaded file"), max_length=255, blank=True)
    rows_read = models.PositiveIntegerField(_("rows read"), default=0)
    rows_valid = models.PositiveIntegerField(_("valid rows"), default=0)
    rows_rejected = models.PositiveIntegerField(_("rejected rows"), default=0)
    error_report = models.CharField(_("report of rejected rows"), max_length=255, blank=True)
    import_error = models.TextField(_("import error"), blank=True)
    import_started_at = models.DateTimeField(_("import started at"), null=True, blank=True)
    import_finished_at = models.DateTimeField(_("import finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("disclosure batch")
        verbose_name_plural = _("disclosure batches")
        ordering = ["-created_at"]
        permissions = [
            ("review_disclosurebatch", _("Can review and publish disclosure batches")),
            ("withdraw_disclosurebatch", _("Can withdraw published disclosure batches")),
        ]

    def __str__(self):
        return self.title


class DisclosureRecord(models.Model):
    """What every record type shares: its batch, its place in the source file, its public state."""

    batch = models.ForeignKey(DisclosureBatch, verbose_name=_("batch"), on_delete=models.CASCADE, related_name="+")
    row_number = models.PositiveIntegerField(_("row in file"), null=True, blank=True)
    # A correction row names the published row it replaces; the replaced row leaves the public pages.
    supersedes_id = models.BigIntegerField(_("replaces record"), null=True, blank=True, db_index=True)
    superseded_at = models.DateTimeField(_("replaced at"), null=True, blank=True, editable=False)
    corrected_at = models.DateTimeField(_("corrected at"), null=True, blank=True, editable=False)

    class Meta:
        abstract = True


class Disbursement(DisclosureRecord):
    """到人到户: one payment of a special fund to a person or household."""

    # Both foreign keys are served by the composite indexes below; their own single-column indexes
    # would only tempt the planner into bitmap-ANDing 1.5 million entries. Nor do they carry database
    # constraints: checking them cost a million-row import a sixth of its time, and every writer
    # checks them already (the import resolves programmes by name and writes its own batch, forms
    # choose from existing rows); CASCADE and PROTECT are enforced by Django either way.
    batch = models.ForeignKey(
        DisclosureBatch, verbose_name=_("batch"), on_delete=models.CASCADE, related_name="+", db_index=False,
        db_constraint=False,
    )  # fmt: skip
    program = models.ForeignKey(
        FundProgram, verbose_name=_("fund programme"), on_delete=models.PROTECT, related_name="+", db_index=False,
        db_constraint=False,
    )  # fmt: skip
    # NULL but on a correction's rows: the partial index below holds only those, so the millions of
    # rows of an ordinary import cost it nothing.
    supersedes_id = models.BigIntegerField(_("replaces record"), null=True, blank=True)
    recipient_name = models.CharField(_("recipient"), max_length=50)
    id_number = EncryptedTextField(_("identity number"), blank=True)
    id_hash = models.CharField(_("identity number hash"), max_length=64, blank=True, editable=False)
    # Citizens look themselves up by name + last six digits: a keyed hash of both, nothing readable.
    name_tail_hash = models.CharField(max_length=64, blank=True, editable=False)
    id_masked = models.CharField(_("identity number"), max_length=18, blank=True, editable=False)
    township = models.CharField(_("township"), max_length=50)
    village = models.CharField(_("village"), max_length=50)
    household_size = models.PositiveSmallIntegerField(_("household size"), null=True, blank=True)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=12, decimal_places=2)
    paid_on = models.DateField(_("paid on"))
    paying_department = models.CharField(_("paying department"), max_length=100, blank=True)
    name_bigrams = ArrayField(models.CharField(max_length=2), default=list, blank=True, editable=False)

    class Meta:
        verbose_name = _("disbursement")
        verbose_name_plural = _("disbursements")
        ordering = ["-id"]
        indexes = [
            GinIndex(fields=["name_bigrams"], name="disb_name_bigrams"),
            # Newest first within a place or programme: a page of results is an index range, no sort.
            models.Index(fields=["village", "-id"], name="disb_village"),
            models.Index(fields=["township", "-id"], name="disb_township"),
            models.Index(fields=["program", "-id"], name="disb_program"),
            models.Index(fields=["batch", "row_number"], name="disb_batch_row"),
            models.Index(fields=["supersedes_id"], name="disb_supersedes", condition=Q(supersedes_id__isnull=False)),
            # Looked up by equality only: a hash index keeps 4 bytes per row instead of the 64-character
            # key, which halves what it costs an import. name_tail_hash has none: its lookup goes through
            # the name (disclosure.selectors.public_disbursements).
            HashIndex(fields=["id_hash"], name="disb_id_hash"),
        ]

    def __str__(self):
        return f"{self.recipient_name} {self.amount}"


class ProjectAllocation(DisclosureRecord):
    """到项目: a special fund's allocation to a project."""

    program = models.ForeignKey(
        FundProgram, verbose_name=_("fund programme"), on_delete=models.PROTECT, related_name="+"
    )
    project_name = models.CharField(_("project"), max_length=200)
    undertaking_body = models.CharField(_("undertaking body"), max_length=200)
    location = models.CharField(_("location"), max_length=200, blank=True)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=14, decimal_places=2)
    allocated_on = models.DateField(_("date"))

    class Meta:
        verbose_name = _("project allocation")
        verbose_name_plural = _("project allocations")
        ordering = ["-id"]

    def __str__(self):
        return self.project_name


class DepartmentBudget(DisclosureRecord):
    """部门预算: a department's budget for a year, with the "三公" expenses shown apart."""

    department = models.ForeignKey(Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("year"), validators=[MinValueValidator(1990), MaxValueValidator(2100)])
    basic_expenditure = models.DecimalField(_("basic expenditure"), max_digits=16, decimal_places=2)
    project_expenditure = models.DecimalField(_("project expenditure"), max_digits=16, decimal_places=2)
    travel_abroad = models.DecimalField(_("official travel abroad"), max_digits=14, decimal_places=2, default=0)
    vehicle_purchase = models.DecimalField(_("official vehicle purchase"), max_digits=14, decimal_places=2, default=0)
    vehicle_running = models.DecimalField(_("official vehicle running"), max_digits=14, decimal_places=2, default=0)
    reception = models.DecimalField(_("official reception"), max_digits=14, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("department budget")
        verbose_name_plural = _("department budgets")
        ordering = ["-year", "department__path"]

    def __str__(self):
        return f"{self.department} {self.year}"

    @property
    def total(self) -> Decimal:
        return self.basic_expenditure + self.project_expenditure

    @property
    def three_public(self) -> Decimal:
        """ "三公" expenses: travel abroad, vehicles (purchase and running), reception."""
        return self.travel_abroad + self.vehicle_purchase + self.vehicle_running + self.reception


class UnitType(models.TextChoices):
    ADMINISTRATIVE = "administrative", _("Administrative organ")
    CIVIL_SERVICE_MANAGED = "civil_service_managed", _("Institution managed as civil service")
    PUBLIC_INSTITUTION = "public_institution", _("Public institution")


class EstablishmentType(models.TextChoices):
    ADMINISTRATIVE = "administrative", _("Administrative establishment")
    INSTITUTION = "institution", _("Institutional establishment")
    WORKER = "worker", _("Worker establishment")


class StaffingUnit(DisclosureRecord):
    """机构编制: a body with its approved and actual headcount."""

    name = models.CharField(_("name"), max_length=200)
    unit_type = models.CharField(_("type"), max_length=32, choices=UnitType.choices)
    parent_name = models.CharField(_("parent body"), max_length=200, blank=True)
    approved_administrative = models.PositiveIntegerField(_("approved administrative posts"), default=0)
    approved_institution = models.PositiveIntegerField(_("approved institutional posts"), default=0)
    approved_worker = models.PositiveIntegerField(_("approved worker posts"), default=0)
    leadership_posts = models.PositiveIntegerField(_("leadership posts"), default=0)
    actual_staff = models.PositiveIntegerField(_("actual staff"), default=0)
    name_bigrams = ArrayField(models.CharField(max_length=2), default=list, blank=True, editable=False)

    class Meta:
        verbose_name = _("staffing unit")
        verbose_name_plural = _("staffing units")
        ordering = ["name"]
        indexes = [GinIndex(fields=["name_bigrams"], name="staffing_unit_bigrams")]

    def __str__(self):
        return self.name

    @property
    def approved_total(self) -> int:
        return self.approved_administrative + self.approved_institution + self.approved_worker


class StaffMember(DisclosureRecord):
    """实名制: a member of staff of a unit, with the establishment they occupy."""

    unit = models.ForeignKey(StaffingUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="members")
    name = models.CharField(_("name"), max_length=50)
    post = models.CharField(_("post"), max_length=100, blank=True)
    establishment_type = models.CharField(_("establishment type"), max_length=16, choices=EstablishmentType.choices)
    name_bigrams = ArrayField(models.CharField(max_length=2), default=list, blank=True, editable=False)

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff members")
        ordering = ["unit__name", "name"]
        indexes = [GinIndex(fields=["name_bigrams"], name="staff_member_bigrams")]

    def __str__(self):
        return self.name


class PublicFields(models.Model):
    """Which fields of a record type the public pages and public exports show, and how names are shown.

    Identity numbers and phone numbers are never among them: `disclosure.visibility` refuses them
    whatever is stored here.
    """

    record_type = models.CharField(_("record type"), max_length=16, choices=RecordType.choices, unique=True)
    fields = ArrayField(models.CharField(max_length=64), verbose_name=_("public fields"), default=list, blank=True)
    mask_names = models.BooleanField(
        _("mask personal names"), default=False, help_text=_("Show 张* instead of 张三 on public pages.")
    )

    class Meta:
        verbose_name = _("public fields setting")
        verbose_name_plural = _("public fields settings")

    def __str__(self):
        return self.get_record_type_display()


class AnnualReport(models.Model):
    """政府信息公开工作年度报告 figures for one year, in the 2021 State Council template's structure
    (国办公开办函〔2021〕30号). Hand-entered figures live here; `disclosure.reports` adds what the
    system counts itself (section 三 from the disclosure requests, when those are handled here)."""

    year = models.PositiveSmallIntegerField(
        _("year"), unique=True, validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    section2 = models.JSONField(_("section 2: proactive disclosure"), default=dict, blank=True)
    section3 = models.JSONField(_("section 3: requests (entered figures)"), default=dict, blank=True)
    section4 = models.JSONField(_("section 4: administrative review and litigation"), default=dict, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("annual disclosure report")
        verbose_name_plural = _("annual disclosure reports")
        ordering = ["-year"]

    def __str__(self):
        return str(self.year)
